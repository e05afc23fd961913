package model

import (
	_ "embed"
	"errors"
	"fmt"
	"math"

	"github.com/maskinv/workbench/internal/clblast"
	"github.com/maskinv/workbench/internal/opencl"
)

//go:embed opencl_kernels.cl
var openCLSource string

// openCLKernelNames are the __kernel functions of opencl_kernels.cl.
func openCLKernelNames() []string {
	return []string{"gemm", "conv_fwd", "conv_fwd_pw", "conv_depthwise", "conv_grad_x", "conv_grad_w", "channel_sum",
		"binary_same", "binary_bc", "binary_grad", "binary_grad_group", "unary", "unary_grad",
		"bn_infer", "bn_grad_x", "bn_grad_scale", "bn_train", "bn_train_grad", "softmax", "softmax_grad", "nd_copy",
		"bias_act", "sgd", "sum_squares", "bn_running", "conv_grad_w_gemm", "sum_parts", "conv_grad_x_pw"}
}

// Work-group geometry shared with opencl_kernels.cl.
const (
	clTile      = 64  // TS: output tile side of the GEMM kernels
	clTileItems = 16  // RTS: work-items per tile side
	clTileK     = 16  // TK: the slice of the sum a GEMM tile takes at a time
	clReduceWG  = 256 // RWG: work-group size of the reduction kernels
	clLinearWG  = 256 // work-group size of one-item-per-value kernels
)

// oclBackend runs kernels on one OpenCL device. The program is built once
// per context. It is not safe for concurrent use: Device serialises runs.
type oclBackend struct {
	ctx     *opencl.Context
	prog    *opencl.Program
	kernels map[string]*opencl.Kernel
	dummy   *opencl.Buffer // bound to absent optional inputs
	blas    *clblast.Lib   // CLBlast for matrix products, nil: our tiled kernels
	// serial waits for each kernel before the next is enqueued, on CPU
	// devices (PoCL): its worker threads otherwise wait on the queue on the
	// cores the running kernel needs (measured ~10% faster on PoCL here).
	serial  bool
	scratch *opencl.Buffer // batch statistics of training batch norms
	// parts holds the partial weight gradients of a split convolution
	// gradient (convGradW); units is the device's compute units.
	parts *opencl.Buffer
	units int
}

func newOpenCLBackend(dev *opencl.Device, gemm string) (_ *oclBackend, err error) {
	var blas *clblast.Lib
	switch gemm {
	case "", GEMMTiled:
	case GEMMCLBlast:
		if blas, err = clblast.Load(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("matrix products %q: want %q or %q", gemm, GEMMTiled, GEMMCLBlast)
	}
	ctx, err := dev.NewContext()
	if err != nil {
		return nil, err
	}
	o := &oclBackend{ctx: ctx, kernels: map[string]*opencl.Kernel{}, blas: blas, serial: dev.Type&opencl.TypeCPU != 0,
		units: max(1, dev.ComputeUnits)}
	defer func() {
		if err != nil {
			_ = o.close()
		}
	}()
	if o.prog, err = ctx.Build(openCLSource, ""); err != nil {
		return nil, fmt.Errorf("building the engine's kernels for %s: %w", dev.Name, err)
	}
	for _, name := range openCLKernelNames() {
		k, err := o.prog.Kernel(name)
		if err != nil {
			return nil, err
		}
		o.kernels[name] = k
	}
	if o.dummy, err = ctx.NewBuffer(4); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *oclBackend) close() error {
	var errs []error
	for _, k := range o.kernels {
		errs = append(errs, k.Release())
	}
	errs = append(errs, o.prog.Release(), o.dummy.Release(), o.scratch.Release(), o.parts.Release(), o.ctx.Release())
	return errors.Join(errs...)
}

// oclErr marks OpenCL's out-of-memory codes with ErrDeviceMemory.
func oclErr(err error) error {
	if errors.Is(err, opencl.ErrOutOfMemory) {
		return fmt.Errorf("%w: %w", ErrDeviceMemory, err)
	}
	return err
}

type oclBuffer struct{ b *opencl.Buffer }

func (b oclBuffer) write(src []float32) error { return oclErr(b.b.Write(0, src)) }
func (b oclBuffer) read(dst []float32) error  { return oclErr(b.b.Read(0, dst)) }
func (b oclBuffer) len() int                  { return int(b.b.Size / 4) }
func (b oclBuffer) release() error            { return b.b.Release() }

func (o *oclBackend) alloc(n int) (buffer, error) {
	b, err := o.ctx.NewBuffer(4 * int64(max(n, 1)))
	if err != nil {
		return nil, oclErr(err)
	}
	return oclBuffer{b}, nil
}

func (o *oclBackend) wait() error { return oclErr(o.ctx.Finish()) }

func clBuf(t devTensor) *opencl.Buffer { return t.buf.(oclBuffer).b }

// run maps each engine kernel to its OpenCL kernel.
func (o *oclBackend) run(k kernel, out devTensor, in []devTensor) error {
	var err error
	switch k := k.(type) {
	case convKernel:
		err = o.conv(k, out, in)
	case convGradX:
		err = o.convGrad("conv_grad_x", k.g, out, in[1], in[len(in)-1])
	case convGradW:
		err = o.convGrad("conv_grad_w", k.g, out, in[0], in[len(in)-1])
	case convGradB:
		err = o.groups("channel_sum", k.g.m, clBuf(in[len(in)-1]), clBuf(out), int32(k.g.n), int32(k.g.m), int32(k.g.cols()))
	case binaryKernel:
		err = o.binary(k, out, in)
	case binaryGrad:
		err = o.binaryGrad(k, out, in)
	case unaryKernel:
		err = o.linear("unary", out.n, int32(k.fn), clBuf(in[0]), clBuf(out), int32(out.n))
	case unaryGrad:
		err = o.linear("unary_grad", out.n, int32(k.k.fn), clBuf(in[0]), clBuf(in[1]), clBuf(in[2]), clBuf(out), int32(out.n))
	case batchNormKernel:
		_, c, plane := k.planes()
		err = o.linear("bn_infer", out.n, clBuf(in[0]), clBuf(in[1]), clBuf(in[2]), clBuf(in[3]), clBuf(in[4]), clBuf(out),
			int32(c), int32(plane), float32(k.eps), int32(out.n))
	case bnGrad:
		err = o.bnGrad(k, out, in)
	case *bnTrainKernel:
		err = o.bnTrain(k, out, in)
	case bnTrainGrad:
		n, c, plane := k.k.planes()
		err = o.groups("bn_train_grad", c, clBuf(in[0]), clBuf(in[1]), clBuf(in[len(in)-1]), clBuf(out),
			int32(n), int32(c), int32(plane), float32(k.k.eps), int32(k.wrt))
	case softmaxKernel:
		err = o.linear("softmax", k.rows, clBuf(in[0]), clBuf(out), int32(k.rows), int32(k.cols))
	case softmaxGrad:
		err = o.linear("softmax_grad", k.k.rows, clBuf(in[1]), clBuf(in[2]), clBuf(out), int32(k.k.rows), int32(k.k.cols))
	case matmulKernel, matmulGrad:
		err = o.gemm(matmulCall(k), out, in)
	case mover:
		err = o.move(k, out, in)
	case sgdKernel: // w is both in[0] and out
		err = o.linear("sgd", out.n, clBuf(out), clBuf(in[1]), clBuf(in[2]), float32(k.s.LR), float32(k.s.Momentum),
			float32(k.s.WeightDecay), float32(k.s.Clip), int32(out.n))
	case sumSquaresKernel:
		err = o.groups("sum_squares", 1, clBuf(in[0]), clBuf(out), int32(k.n), int32(k.at))
	case bnRunningKernel: // the running mean is both in[1] and out
		n, c, plane := k.k.planes()
		err = o.groups("bn_running", c, clBuf(in[0]), clBuf(out), clBuf(in[2]), int32(n), int32(c), int32(plane),
			float32(k.k.momentum), float32(k.k.unbias()))
	default:
		return fmt.Errorf("%s: no OpenCL kernel: %w", k, ErrUnsupported)
	}
	if err == nil && o.serial {
		err = o.ctx.Finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", k, oclErr(err))
	}
	return nil
}

// checkSize rejects sizes the kernels' 32-bit indices cannot address.
func checkSize(ns ...int) error {
	for _, n := range ns {
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("size %d exceeds the OpenCL kernels' 32-bit indexing: %w", n, ErrUnsupported)
		}
	}
	return nil
}

// linear launches one work-item per value (n of them).
func (o *oclBackend) linear(name string, n int, args ...any) error {
	if n == 0 {
		return nil
	}
	if err := checkSize(n); err != nil {
		return err
	}
	k := o.kernels[name]
	if err := k.SetArgs(args...); err != nil {
		return err
	}
	wg := clLinearWG
	for wg > k.MaxWorkGroup && wg > 1 {
		wg /= 2
	}
	return k.Launch([]int{(n + wg - 1) / wg * wg}, []int{wg})
}

// groups launches one reduction work-group per output value.
func (o *oclBackend) groups(name string, groups int, args ...any) error {
	if groups == 0 {
		return nil
	}
	if err := checkSize(groups * clReduceWG); err != nil {
		return err
	}
	k := o.kernels[name]
	if k.MaxWorkGroup < clReduceWG {
		return fmt.Errorf("kernel %s needs work-groups of %d, the device allows %d: %w", name, clReduceWG, k.MaxWorkGroup, ErrUnsupported)
	}
	if err := k.SetArgs(args...); err != nil {
		return err
	}
	return k.Launch([]int{groups * clReduceWG}, []int{clReduceWG})
}

// tiles launches a tiled GEMM kernel over a rows×cols output, z times.
func (o *oclBackend) tiles(name string, cols, rows, z int, args ...any) error {
	if rows == 0 || cols == 0 || z == 0 {
		return nil
	}
	if err := checkSize(rows, cols, rows*cols); err != nil {
		return err
	}
	k := o.kernels[name]
	if k.MaxWorkGroup < clTileItems*clTileItems {
		return fmt.Errorf("kernel %s needs work-groups of %d, the device allows %d: %w", name, clTileItems*clTileItems, k.MaxWorkGroup, ErrUnsupported)
	}
	if err := k.SetArgs(args...); err != nil {
		return err
	}
	gx := (cols + clTile - 1) / clTile * clTileItems
	gy := (rows + clTile - 1) / clTile * clTileItems
	return k.Launch([]int{gx, gy, z}, []int{clTileItems, clTileItems, 1})
}

func int8Of(v ...int) (opencl.Int8, error) {
	var r opencl.Int8
	if len(v) > len(r) {
		return r, fmt.Errorf("rank %d above %d: %w", len(v), len(r), ErrUnsupported)
	}
	for i, x := range v {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return r, fmt.Errorf("value %d exceeds 32 bits: %w", x, ErrUnsupported)
		}
		r[i] = int32(x)
	}
	return r, nil
}

func convArgs(g *convGeom) (ga, gb opencl.Int8, err error) {
	if ga, err = int8Of(g.c, g.h, g.w, g.m, g.kh, g.kw, g.oh, g.ow); err != nil {
		return
	}
	gb, err = int8Of(g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.group, g.n)
	return
}

func (o *oclBackend) conv(k convKernel, out devTensor, in []devTensor) error {
	g := k.g
	ga, gb, err := convArgs(g)
	if err != nil {
		return err
	}
	bias, slope := o.dummy, o.dummy
	flags := int32(k.act) << 1
	if g.bias {
		bias = clBuf(in[2])
		flags |= 1
	}
	if k.act == actPRelu {
		slope = clBuf(in[len(in)-1])
	}
	args := []any{clBuf(in[0]), clBuf(in[1]), bias, slope, clBuf(out), ga, gb, flags}
	switch {
	case g.depthwise():
		return o.linear("conv_depthwise", out.n, args...)
	case g.pointwise() && o.blas != nil:
		return o.blasPointwise(g, flags, args)
	case g.pointwise():
		return o.tiles("conv_fwd_pw", g.n*g.cols(), g.mg(), g.group, args...)
	default:
		return o.tiles("conv_fwd", g.n*g.cols(), g.mg(), g.group, args...)
	}
}

// convGrad runs conv_grad_x (a = weights) or conv_grad_w (a = input).
func (o *oclBackend) convGrad(name string, g *convGeom, out, a, dy devTensor) error {
	ga, gb, err := convArgs(g)
	if err != nil {
		return err
	}
	switch {
	case name == "conv_grad_w" && !g.depthwise():
		return o.convGradWGemm(g, out, a, dy, ga, gb)
	case name == "conv_grad_w":
		return o.groups(name, out.n, clBuf(a), clBuf(dy), clBuf(out), ga, gb)
	case g.pointwise():
		return o.tiles("conv_grad_x_pw", g.n*g.cols(), g.cg(), g.group, clBuf(a), clBuf(dy), clBuf(out), ga, gb)
	}
	return o.linear(name, out.n, clBuf(a), clBuf(dy), clBuf(out), ga, gb)
}

// convGradWGemm runs the weight gradient as tiled products. A weight has
// few tiles (a 128×64 one has two) and a long sum (over every image and
// position), so the sum is split until there are a few work-groups per
// compute unit, each split writing its own copy of dW into o.parts, then
// added up.
func (o *oclBackend) convGradWGemm(g *convGeom, out, x, dy devTensor, ga, gb opencl.Int8) error {
	k, np := g.rows(), g.n*g.cols()
	tiles := (k + clTile - 1) / clTile * ((g.mg() + clTile - 1) / clTile) * g.group
	splits := 1
	if want := 4 * o.units; tiles < want {
		// at least 8 slices of the sum per split; parts at most 64 MiB
		splits = max(1, min((want+tiles-1)/tiles, np/(8*clTileK), (16<<20)/max(out.n, 1)))
	}
	chunk := ((np+splits-1)/splits + clTileK - 1) / clTileK * clTileK
	splits = (np + chunk - 1) / chunk
	pw := int32(b2int(g.pointwise()))
	if splits <= 1 {
		return o.tiles("conv_grad_w_gemm", k, g.mg(), g.group, clBuf(x), clBuf(dy), clBuf(out), ga, gb, pw, int32(chunk))
	}
	if err := checkSize(splits * out.n); err != nil {
		return err
	}
	if need := 4 * int64(splits*out.n); o.parts == nil || o.parts.Size < need {
		_ = o.parts.Release()
		var err error
		if o.parts, err = o.ctx.NewBuffer(need); err != nil {
			o.parts = nil
			return err
		}
	}
	if err := o.tiles("conv_grad_w_gemm", k, g.mg(), g.group*splits, clBuf(x), clBuf(dy), o.parts, ga, gb, pw, int32(chunk)); err != nil {
		return err
	}
	return o.linear("sum_parts", out.n, o.parts, clBuf(out), int32(out.n), int32(splits))
}

func (o *oclBackend) binary(k binaryKernel, out devTensor, in []devTensor) error {
	if k.bc.shapes[0].Eq(k.bc.shapes[1]) && k.fn != fnPRelu {
		return o.linear("binary_same", out.n, int32(k.fn), clBuf(in[0]), clBuf(in[1]), clBuf(out), int32(out.n))
	}
	dims, err := int8Of(k.bc.out...)
	if err != nil {
		return err
	}
	sa, _ := int8Of(k.bc.sa...)
	sb, _ := int8Of(k.bc.sb...)
	return o.linear("binary_bc", out.n, int32(k.fn), clBuf(in[0]), clBuf(in[1]), clBuf(out), int32(len(k.bc.out)), dims, sa, sb, int32(out.n))
}

// binaryGrad sums dy·∂f over the dimensions the input was repeated along:
// a work-group per gradient value when there are many to sum.
func (o *oclBackend) binaryGrad(g binaryGrad, out devTensor, in []devTensor) error {
	bc := g.k.bc
	dims, err := int8Of(bc.out...)
	if err != nil {
		return err
	}
	sa, _ := int8Of(bc.sa...)
	sb, _ := int8Of(bc.sb...)
	strides := bc.sa
	if g.wrt == 1 {
		strides = bc.sb
	}
	red, rn := 0, 1
	for d, s := range strides {
		if s == 0 && bc.out[d] > 1 {
			red |= 1 << d
			rn *= bc.out[d]
		}
	}
	args := []any{int32(g.k.fn), int32(g.wrt), clBuf(in[0]), clBuf(in[1]), clBuf(in[3]), clBuf(out),
		int32(len(bc.out)), dims, sa, sb, int32(red), int32(rn)}
	if rn >= 64 {
		return o.groups("binary_grad_group", out.n, args...)
	}
	return o.linear("binary_grad", out.n, append(args, int32(out.n))...)
}

func (o *oclBackend) bnGrad(g bnGrad, out devTensor, in []devTensor) error {
	n, c, plane := g.k.planes()
	x, scale, mean, variance, dy := clBuf(in[0]), clBuf(in[1]), clBuf(in[3]), clBuf(in[4]), clBuf(in[len(in)-1])
	switch g.wrt {
	case 0:
		return o.linear("bn_grad_x", out.n, scale, variance, dy, clBuf(out), int32(c), int32(plane), float32(g.k.eps), int32(out.n))
	case 1:
		return o.groups("bn_grad_scale", c, x, mean, variance, dy, clBuf(out), int32(n), int32(c), int32(plane), float32(g.k.eps))
	default:
		return o.groups("channel_sum", c, dy, clBuf(out), int32(n), int32(c), int32(plane))
	}
}

func (o *oclBackend) bnTrain(k *bnTrainKernel, out devTensor, in []devTensor) error {
	n, c, plane := k.planes()
	if o.scratch == nil || o.scratch.Size < int64(8*c) {
		_ = o.scratch.Release()
		var err error
		if o.scratch, err = o.ctx.NewBuffer(int64(8 * c)); err != nil {
			return err
		}
	}
	return o.groups("bn_train", c, clBuf(in[0]), clBuf(in[1]), clBuf(in[2]), clBuf(out), o.scratch,
		int32(n), int32(c), int32(plane), float32(k.eps))
}

// blasPointwise runs a 1×1 convolution as CLBlast products, per group a
// batch over the images sharing the weights, then bias and activation.
func (o *oclBackend) blasPointwise(g *convGeom, flags int32, args []any) error {
	x, w, y := args[0].(*opencl.Buffer), args[1].(*opencl.Buffer), args[4].(*opencl.Buffer)
	p, cg, mg := g.cols(), g.cg(), g.mg()
	for gr := 0; gr < g.group; gr++ {
		err := o.blas.SgemmBatched(o.ctx, mg, p, cg, 1,
			clblast.Matrix{Buf: w, Offset: gr * mg * cg, Ld: cg},
			clblast.Matrix{Buf: x, Offset: gr * cg * p, Ld: p, BatchStride: g.c * p}, 0,
			clblast.Matrix{Buf: y, Offset: gr * mg * p, Ld: p, BatchStride: g.m * p}, g.n)
		if err != nil {
			return err
		}
	}
	if flags == 0 {
		return nil
	}
	n := g.n * g.m * p
	return o.linear("bias_act", n, y, args[2], args[3], flags, int32(g.m), int32(p), int32(n))
}

func (o *oclBackend) gemm(c gemmCall, out devTensor, in []devTensor) error {
	if o.blas != nil {
		// A batch of one; CLBlast rejects a zero stride for C.
		return o.blas.SgemmBatched(o.ctx, c.m, c.n, c.k, float32(c.alpha),
			clblast.Matrix{Buf: clBuf(in[c.a]), Ld: c.lda, Trans: c.ta, BatchStride: in[c.a].n},
			clblast.Matrix{Buf: clBuf(in[c.b]), Ld: c.ldb, Trans: c.tb, BatchStride: in[c.b].n}, 0,
			clblast.Matrix{Buf: clBuf(out), Ld: c.ldc, BatchStride: out.n}, 1)
	}
	d, err := int8Of(c.m, c.n, c.k, c.lda, c.ldb, c.ldc, b2int(c.ta), b2int(c.tb))
	if err != nil {
		return err
	}
	return o.tiles("gemm", c.n, c.m, 1, clBuf(in[c.a]), clBuf(in[c.b]), clBuf(out), d, float32(c.alpha), float32(0))
}

func b2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (o *oclBackend) move(m mover, out devTensor, in []devTensor) error {
	cps, zero := m.copies()
	if zero {
		if err := clBuf(out).Fill(0, out.n, 0); err != nil {
			return err
		}
	}
	for _, c := range cps {
		dims, err := int8Of(c.dims...)
		if err != nil {
			return err
		}
		ss, _ := int8Of(c.srcStride...)
		ds, _ := int8Of(c.dstStride...)
		n := volume(c.dims)
		if err := checkSize(n, c.srcOff, c.dstOff); err != nil {
			return err
		}
		if err := o.linear("nd_copy", n, clBuf(in[c.src]), clBuf(out), int32(len(c.dims)), dims, ss, ds,
			int32(c.srcOff), int32(c.dstOff), int32(n)); err != nil {
			return err
		}
	}
	return nil
}
