package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/maskinv/workbench/internal/clblast"
	"github.com/maskinv/workbench/internal/opencltest"
	"gorgonia.org/tensor"
)

// testOpenCL is the OpenCL device of this test binary, opened once: PoCL
// compiles the engine's program in seconds, so every test shares it.
var testOpenCL struct {
	once sync.Once
	dev  *Device
	err  error
}

// openCLDevice returns the shared test device: MASKINV_TEST_OPENCL (a
// device spec) or the first GPU, else the first OpenCL device. Without one
// the test skips, or fails under MASKINV_REQUIRE_OPENCL=1.
func openCLDevice(t testing.TB) *Device {
	t.Helper()
	testOpenCL.once.Do(func() {
		spec := DeviceSpec{Kind: DeviceOpenCL, Platform: -1, Device: -1}
		if s := os.Getenv("MASKINV_TEST_OPENCL"); s != "" {
			if spec, testOpenCL.err = ParseDeviceSpec(s); testOpenCL.err != nil {
				return
			}
		}
		testOpenCL.dev, testOpenCL.err = OpenDevice(spec, DeviceOptions{})
	})
	if testOpenCL.err != nil {
		opencltest.Unavailable(t, testOpenCL.err)
	}
	return testOpenCL.dev
}

// runKernelOn runs one kernel on the device's backend and returns its
// output. The output buffer starts as NaN so that a value the kernel does
// not write shows.
func runKernelOn(t *testing.T, d *Device, k kernel, in [][]float32) []float32 {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	var bufs []buffer
	defer func() {
		for _, b := range bufs {
			_ = b.release()
		}
	}()
	upload := func(data []float32) devTensor {
		b, err := d.be.alloc(len(data))
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
		if err := b.write(data); err != nil {
			t.Fatal(err)
		}
		return devTensor{b, len(data)}
	}
	args := make([]devTensor, len(in))
	for i, x := range in {
		args[i] = upload(x)
	}
	n := max(1, k.outShape().TotalSize())
	poison := make([]float32, n)
	for i := range poison {
		poison[i] = nan32()
	}
	out := upload(poison)
	if err := d.be.run(k, out, args); err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	got := make([]float32, n)
	if err := out.buf.read(got); err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	return got
}

// deviceTol is the agreement asked of a device kernel with the CPU one:
// 1e-4 relative, measured against the value or, for values that are sums
// with cancellation, the mean magnitude of the output.
const deviceTol = 1e-4

func compareDevice(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var mean float64
	for _, w := range want {
		mean += math.Abs(float64(w))
	}
	mean /= float64(max(1, len(want)))
	worst, at := 0.0, 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		e := math.Abs(g-w) / (math.Abs(w) + mean + 1e-30)
		if math.IsNaN(g) != math.IsNaN(w) {
			e = math.Inf(1)
		}
		if e > worst {
			worst, at = e, i
		}
	}
	if worst > deviceTol {
		t.Errorf("%s: value %d is %v on the device, %v on the CPU (relative error %.2g > %g)", what, at, got[at], want[at], worst, deviceTol)
	}
}

// kernelCase is a forward kernel with inputs; checkOnDevice runs it and
// each of its gradients on the device and on the CPU.
type kernelCase struct {
	k  kernel
	in [][]float32
}

func randData(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

func cpuRun(k kernel, in [][]float32) []float32 {
	out := make([]float32, max(1, k.outShape().TotalSize()))
	k.do32(out, in)
	return out
}

func checkOnDevice(t *testing.T, d *Device, c kernelCase, grads bool) {
	t.Helper()
	want := cpuRun(c.k, c.in)
	compareDevice(t, c.k.String(), runKernelOn(t, d, c.k, c.in), want)
	if !grads {
		return
	}
	r := rand.New(rand.NewPCG(11, uint64(len(want))))
	args := append(append([][]float32{}, c.in...), want, randData(r, len(want)))
	for i := range c.in {
		g := c.k.vjp(i)
		if g == nil {
			continue
		}
		compareDevice(t, g.String(), runKernelOn(t, d, g, args), cpuRun(g, args))
	}
}

func mustConv(t *testing.T, x, w tensor.Shape, group int, strides, pads, dil []int, bias bool) *convGeom {
	t.Helper()
	g, err := newConvGeom(x, w, group, strides, pads, dil, bias)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestOpenCLConv(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		x, w          tensor.Shape
		group         int
		strides, pads []int
		dilations     []int
		bias          bool
	}{
		{tensor.Shape{2, 6, 9, 11}, tensor.Shape{10, 6, 3, 3}, 1, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
		{tensor.Shape{1, 8, 5, 5}, tensor.Shape{70, 8, 1, 1}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, true},
		{tensor.Shape{2, 4, 10, 9}, tensor.Shape{6, 2, 3, 2}, 2, []int{2, 1}, []int{1, 0, 2, 1}, []int{1, 2}, false},
		{tensor.Shape{2, 5, 12, 12}, tensor.Shape{5, 1, 3, 3}, 5, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, true},
		{tensor.Shape{1, 3, 11, 13}, tensor.Shape{3, 1, 5, 5}, 3, []int{1, 1}, []int{4, 4, 4, 4}, []int{2, 2}, true},
		{tensor.Shape{2, 6, 7, 7}, tensor.Shape{4, 6, 1, 1}, 1, []int{2, 2}, []int{0, 0, 0, 0}, []int{1, 1}, false},
		{tensor.Shape{3, 3, 20, 17}, tensor.Shape{16, 3, 3, 3}, 1, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	}
	for _, tc := range tests {
		g := mustConv(t, tc.x, tc.w, tc.group, tc.strides, tc.pads, tc.dilations, tc.bias)
		in := [][]float32{randData(r, tc.x.TotalSize()), randData(r, tc.w.TotalSize())}
		if tc.bias {
			in = append(in, randData(r, g.m))
		}
		checkOnDevice(t, d, kernelCase{convKernel{g: g}, in}, true)
		checkOnDevice(t, d, kernelCase{convKernel{g: g, act: actRelu}, in}, false)
		slope := append(append([][]float32{}, in...), randData(r, g.m))
		checkOnDevice(t, d, kernelCase{convKernel{g: g, act: actPRelu}, slope}, false)
	}
}

func TestOpenCLElementwise(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(3, 4))
	shapes := []struct{ a, b tensor.Shape }{
		{tensor.Shape{2, 3, 4}, tensor.Shape{2, 3, 4}},
		{tensor.Shape{2, 3, 5, 5}, tensor.Shape{3, 1, 1}},
		{tensor.Shape{4, 1}, tensor.Shape{1, 5}},
		{tensor.Shape{3, 70}, tensor.Shape{}},
		{tensor.Shape{1, 4420, 2}, tensor.Shape{1, 4420, 2}},
		{tensor.Shape{4, 300}, tensor.Shape{300}},
	}
	for _, fn := range []binaryFn{fnAdd, fnSub, fnMul, fnDiv, fnPRelu} {
		for _, s := range shapes {
			k, err := newBinaryKernel(fn, s.a, s.b)
			if err != nil {
				t.Fatal(err)
			}
			a, b := randData(r, s.a.TotalSize()), randData(r, max(1, s.b.TotalSize()))
			if fn == fnDiv {
				for i := range b {
					b[i] = 1 + float32(math.Abs(float64(b[i])))
				}
			}
			checkOnDevice(t, d, kernelCase{k, [][]float32{a, b}}, true)
		}
	}
	for _, fn := range []unaryFn{fnRelu, fnExp} {
		k := unaryKernel{fn, tensor.Shape{3, 4, 70}}
		checkOnDevice(t, d, kernelCase{k, [][]float32{randData(r, 840)}}, true)
	}
}

func TestOpenCLNormalisation(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, shape := range []tensor.Shape{{2, 3, 4, 5}, {3, 70}, {1, 16, 9, 9}} {
		c := shape[1]
		variance := randData(r, c)
		for i := range variance {
			variance[i] = 0.5 + float32(math.Abs(float64(variance[i])))
		}
		in := [][]float32{randData(r, shape.TotalSize()), randData(r, c), randData(r, c), randData(r, c), variance}
		checkOnDevice(t, d, kernelCase{batchNormKernel{shape, 1e-5}, in}, true)
		checkOnDevice(t, d, kernelCase{&bnTrainKernel{shape: shape, eps: 1e-5, momentum: 0.9}, in}, true)
	}
	for _, tc := range []struct {
		shape tensor.Shape
		axis  int
	}{{tensor.Shape{2, 3, 4}, 1}, {tensor.Shape{1, 4420, 2}, 2}, {tensor.Shape{5, 300}, 1}} {
		k, err := newSoftmaxKernel(tc.shape, tc.axis)
		if err != nil {
			t.Fatal(err)
		}
		checkOnDevice(t, d, kernelCase{k, [][]float32{randData(r, tc.shape.TotalSize())}}, true)
	}
}

func TestOpenCLMatmul(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(7, 8))
	const m, kk, n = 70, 33, 65
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		a, b := tensor.Shape{m, kk}, tensor.Shape{kk, n}
		if tr[0] {
			a = tensor.Shape{kk, m}
		}
		if tr[1] {
			b = tensor.Shape{n, kk}
		}
		k, err := newMatmulKernel(a, b, tr[0], tr[1], 0.5)
		if err != nil {
			t.Fatal(err)
		}
		checkOnDevice(t, d, kernelCase{k, [][]float32{randData(r, a.TotalSize()), randData(r, b.TotalSize())}}, true)
	}
}

func TestOpenCLMoves(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(9, 10))
	tr, err := newTransposeKernel(tensor.Shape{2, 3, 4, 5}, []int{0, 2, 3, 1})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := newConcatKernel(1, []tensor.Shape{{2, 3, 4}, {2, 1, 4}, {2, 5, 4}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []kernelCase{
		{tr, [][]float32{randData(r, 120)}},
		{sliceKernel{tensor.Shape{2, 6, 5}, []int{0, 1, 2}, []int{2, 4, 5}, tensor.Shape{2, 3, 3}}, [][]float32{randData(r, 60)}},
		{cat, [][]float32{randData(r, 24), randData(r, 8), randData(r, 40)}},
		{reshapeKernel{tensor.Shape{2, 6}, tensor.Shape{3, 4}}, [][]float32{randData(r, 12)}},
	}
	for _, c := range cases {
		checkOnDevice(t, d, c, true)
	}
}

// TestMoveGradients checks the movement kernels' gradients by finite
// differences, as every kernel's (the CPU graphs use gorgonia's movements,
// so these are the device's and a device trainer's).
func TestMoveGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	r64 := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = 2*r.Float64() - 1
		}
		return s
	}
	tr, _ := newTransposeKernel(tensor.Shape{2, 3, 4}, []int{2, 0, 1})
	cat, _ := newConcatKernel(0, []tensor.Shape{{2, 3}, {1, 3}})
	for _, c := range []struct {
		k  kernel
		in [][]float64
	}{
		{tr, [][]float64{r64(24)}},
		{sliceKernel{tensor.Shape{4, 5}, []int{1, 0}, []int{3, 4}, tensor.Shape{2, 4}}, [][]float64{r64(20)}},
		{cat, [][]float64{r64(6), r64(3)}},
		{reshapeKernel{tensor.Shape{2, 3}, tensor.Shape{6}}, [][]float64{r64(6)}},
	} {
		checkGradients(t, c.k, c.in)
	}
}

func ExampleParseDeviceSpec() {
	for _, s := range []string{"cpu", "auto", "", "opencl", "OpenCL:1.0"} {
		spec, err := ParseDeviceSpec(s)
		fmt.Println(spec, err)
	}
	// Output:
	// cpu <nil>
	// auto <nil>
	// auto <nil>
	// opencl <nil>
	// opencl:1.0 <nil>
}

// TestOpenCLCLBlast runs the kernels that CLBlast takes over (1×1
// convolutions, matrix products and their gradients) with GEMMCLBlast.
func TestOpenCLCLBlast(t *testing.T) {
	shared := openCLDevice(t)
	lib, err := clblast.Load()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	be := *shared.be.(*oclBackend)
	be.blas = lib
	d := &Device{spec: shared.spec, info: shared.info, be: &be, limit: shared.limit, maxBatch: shared.maxBatch}
	r := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct {
		x, w  tensor.Shape
		group int
		bias  bool
	}{{tensor.Shape{3, 8, 5, 6}, tensor.Shape{12, 8, 1, 1}, 1, true}, {tensor.Shape{2, 6, 4, 4}, tensor.Shape{4, 3, 1, 1}, 2, false}} {
		g := mustConv(t, tc.x, tc.w, tc.group, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, tc.bias)
		in := [][]float32{randData(r, tc.x.TotalSize()), randData(r, tc.w.TotalSize())}
		if tc.bias {
			in = append(in, randData(r, g.m))
		}
		checkOnDevice(t, d, kernelCase{convKernel{g: g}, in}, false)
		checkOnDevice(t, d, kernelCase{convKernel{g: g, act: actPRelu}, append(append([][]float32{}, in...), randData(r, g.m))}, false)
	}
	for _, tr := range [][2]bool{{false, false}, {true, true}} {
		a, b := tensor.Shape{9, 7}, tensor.Shape{7, 5}
		if tr[0] {
			a = tensor.Shape{7, 9}
		}
		if tr[1] {
			b = tensor.Shape{5, 7}
		}
		k, err := newMatmulKernel(a, b, tr[0], tr[1], 0.5)
		if err != nil {
			t.Fatal(err)
		}
		checkOnDevice(t, d, kernelCase{k, [][]float32{randData(r, a.TotalSize()), randData(r, b.TotalSize())}}, true)
	}
}
