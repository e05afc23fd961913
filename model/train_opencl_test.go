package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// runAliased runs k on the device with its output in the buffer of input
// out (or in a buffer of its own when out < 0), as the training kernels
// that update state in place run, and returns every buffer afterwards:
// the inputs, then the output when it has its own.
func runAliased(t *testing.T, d *Device, k kernel, in [][]float32, out int) [][]float32 {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	var args []devTensor
	defer func() {
		for _, a := range args {
			_ = a.buf.release()
		}
	}()
	data := append([][]float32{}, in...)
	if out < 0 {
		poison := make([]float32, k.outShape().TotalSize())
		for i := range poison {
			poison[i] = nan32()
		}
		data = append(data, poison)
	}
	for _, x := range data {
		b, err := d.be.alloc(len(x))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, devTensor{b, len(x)})
		if err := b.write(x); err != nil {
			t.Fatal(err)
		}
	}
	o := args[len(args)-1]
	if out >= 0 {
		o = args[out]
	}
	if err := d.be.run(k, o, args[:len(in)]); err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	got := make([][]float32, len(args))
	for i, a := range args {
		got[i] = make([]float32, a.n)
		if err := a.buf.read(got[i]); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// cpuAliased is runAliased's reference: the kernel's CPU code on host
// copies, aliased the same way.
func cpuAliased(k kernel, in [][]float32, out int) [][]float32 {
	data := make([][]float32, len(in))
	for i, x := range in {
		data[i] = append([]float32(nil), x...)
	}
	var y []float32
	if out >= 0 {
		y = data[out]
	} else {
		y = make([]float32, k.outShape().TotalSize())
	}
	k.do32(y, data)
	if out < 0 {
		data = append(data, y)
	}
	return data
}

// TestOpenCLTrainKernels checks the kernels only device training runs (the
// SGD update, the per-weight Σ g², the running statistics of batch norm),
// with what they update in place, against their CPU code.
func TestOpenCLTrainKernels(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(5, 6))
	vel := func(n int) []float32 {
		v := randData(r, n)
		for i := range v {
			v[i] *= 0.1
		}
		return v
	}
	running := func(c int, base float32) []float32 {
		v := randData(r, c)
		for i := range v {
			v[i] = base + 0.3*v[i]
		}
		return v
	}
	bn := func(shape ...int) *bnTrainKernel { return &bnTrainKernel{shape: shape, eps: 1e-5, momentum: 0.9} }
	tests := []struct {
		k   kernel
		in  [][]float32
		out int
	}{
		{sgdKernel{SGDStep{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Clip: 0.7}, 1000}, [][]float32{randData(r, 1000), randData(r, 1000), vel(1000)}, 0},
		{sgdKernel{SGDStep{LR: 0.3, Momentum: 0, WeightDecay: 0, Clip: 1}, 3}, [][]float32{randData(r, 3), randData(r, 3), vel(3)}, 0},
		{sumSquaresKernel{5000, 2, 4}, [][]float32{randData(r, 5000)}, -1},
		{sumSquaresKernel{7, 0, 1}, [][]float32{randData(r, 7)}, -1},
		{bnRunningKernel{bn(3, 5, 4, 6)}, [][]float32{randData(r, 360), running(5, 0), running(5, 1)}, 1},
		{bnRunningKernel{bn(2, 3, 1, 1)}, [][]float32{randData(r, 6), running(3, 0), running(3, 1)}, 1},
	}
	for _, tc := range tests {
		got := runAliased(t, d, tc.k, tc.in, tc.out)
		want := cpuAliased(tc.k, tc.in, tc.out)
		for i := range want {
			if sk, ok := tc.k.(sumSquaresKernel); ok && i == len(want)-1 {
				// Only the kernel's own element is defined.
				got[i], want[i] = got[i][sk.at:sk.at+1], want[i][sk.at:sk.at+1]
			}
			compareDevice(t, fmt.Sprintf("%s buffer %d", tc.k, i), got[i], want[i])
		}
	}
}

// TestOpenCLTrainMatchesCPU trains the small test network (every operator
// of the student, batch norm in training mode included) for 12 steps on the
// OpenCL device and on the CPU from the same weights and data: equal
// losses and gradient norms to 1e-3 relative, equal weight changes and
// velocities to 1e-3 in relative L2 norm per weight.
func TestOpenCLTrainMatchesCPU(t *testing.T) {
	d := openCLDevice(t)
	for _, bn := range []bool{false, true} {
		t.Run(fmt.Sprintf("bn=%v", bn), func(t *testing.T) {
			got, want, init := trainCase(t, d, bn, 3, 12)
			compareRuns(t, got, want, init, 1e-3, 1e-3)
		})
	}
}

// TestOpenCLTrainRecogniser trains the real recogniser on the OpenCL
// device and on the CPU engine from the same weights and data: after the
// first step every weight's gradient agrees (1e-3 relative L2), and over
// 5 more steps with SGD the losses and gradient norms (1e-3 relative), the
// weights' changes and velocities (1e-3 relative L2). Batch 2 and a small learning rate: PoCL trains a few images a
// second, and at batch 2 a PReLU input crossing zero between two float32
// implementations changes a gradient by a finite amount, which a large
// rate amplifies (train's TestTrainOnDeviceMatchesCPU has the numbers).
func TestOpenCLTrainRecogniser(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser on the device")
	}
	d := openCLDevice(t)
	net := loadShared(t, "fr_feature.onnx")
	const batch, steps = 2, 6
	xs := make([]Tensor, steps)
	for i := range xs {
		xs[i] = netInput(net, batch, uint64(100+i))
	}
	target := randData(rand.New(rand.NewPCG(7, 8)), batch*512)
	cpu, err := net.Trainable(batch)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := d.NewDeviceTrainable(net, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	first := func(l Learner) trainRun {
		return trainSteps(t, l, xs[:1], target, SGDStep{}, 0)
	}
	a, b := first(dl), first(cpu)
	for i, p := range b.params {
		if p.Grad == nil {
			continue
		}
		if e := relNorm(a.params[i].Grad, p.Grad); e > 1e-3 {
			t.Errorf("gradient of %s %v: relative difference %.2g > 1e-3", p.Name, p.Shape, e)
		}
	}
	s := SGDStep{LR: 1e-4, Momentum: 0.9, WeightDecay: 5e-4}
	init := snapshot(b.params)
	start := time.Now()
	got := trainSteps(t, dl, xs[1:], target, s, 5)
	t.Logf("device: %d steps of batch %d in %v", steps-1, batch, time.Since(start))
	want := trainSteps(t, cpu, xs[1:], target, s, 5)
	compareRuns(t, got, want, init, 1e-3, 1e-3)
}

// TestOpenCLConvGradProducts checks the convolution gradients that run as
// tiled products (conv_grad_w_gemm, split or not, and conv_grad_x_pw)
// against the CPU: long sums that split, grouped 1×1 convolutions, weights
// wider than a tile, strided, padded and dilated ones.
func TestOpenCLConvGradProducts(t *testing.T) {
	d := openCLDevice(t)
	r := rand.New(rand.NewPCG(9, 10))
	one, none := []int{1, 1}, []int{0, 0, 0, 0}
	tests := []struct {
		x, w          tensor.Shape
		group         int
		strides, pads []int
		dilations     []int
	}{
		{tensor.Shape{4, 16, 20, 20}, tensor.Shape{24, 16, 1, 1}, 1, one, none, one},
		{tensor.Shape{2, 8, 6, 6}, tensor.Shape{12, 4, 1, 1}, 2, one, none, one},
		{tensor.Shape{2, 40, 9, 9}, tensor.Shape{70, 40, 1, 1}, 1, one, none, one},
		{tensor.Shape{3, 8, 17, 15}, tensor.Shape{7, 8, 3, 3}, 1, []int{2, 2}, []int{1, 1, 1, 1}, one},
		{tensor.Shape{2, 6, 9, 9}, tensor.Shape{6, 3, 3, 3}, 2, one, []int{2, 2, 2, 2}, []int{2, 2}},
	}
	for _, tc := range tests {
		g := mustConv(t, tc.x, tc.w, tc.group, tc.strides, tc.pads, tc.dilations, true)
		in := [][]float32{randData(r, tc.x.TotalSize()), randData(r, tc.w.TotalSize()), randData(r, g.m)}
		checkOnDevice(t, d, kernelCase{convKernel{g: g}, in}, true)
	}
}
