package model

import (
	"fmt"
	"sync"

	"gorgonia.org/tensor"

	"github.com/maskinv/workbench/internal/parallel"
)

// convGeom is the fixed geometry of a 2-D convolution (ONNX Conv, NCHW).
type convGeom struct {
	n, c, h, w     int // input
	m, kh, kw      int // output channels and kernel size
	group          int
	sh, sw         int // strides
	pt, pl, pb, pr int // pads: top, left, bottom, right
	dh, dw         int // dilations
	oh, ow         int // output size
	bias           bool
	// scratch holds im2col buffers of the fast forward pass between its
	// work items (thousands per run at large batches).
	scratch sync.Pool
}

func (g *convGeom) String() string {
	return fmt.Sprintf("Conv(n%d c%d %dx%d -> m%d k%dx%d g%d s%d,%d p%d,%d,%d,%d d%d,%d bias=%v)",
		g.n, g.c, g.h, g.w, g.m, g.kh, g.kw, g.group, g.sh, g.sw, g.pt, g.pl, g.pb, g.pr, g.dh, g.dw, g.bias)
}

// newConvGeom validates a convolution and computes its output size.
func newConvGeom(x, w tensor.Shape, group int, strides, pads, dilations []int, bias bool) (*convGeom, error) {
	if x.Dims() != 4 || w.Dims() != 4 {
		return nil, fmt.Errorf("conv needs 4-D input and weight, got %v and %v", x, w)
	}
	g := &convGeom{n: x[0], c: x[1], h: x[2], w: x[3], m: w[0], kh: w[2], kw: w[3], group: group,
		sh: strides[0], sw: strides[1], pt: pads[0], pl: pads[1], pb: pads[2], pr: pads[3],
		dh: dilations[0], dw: dilations[1], bias: bias}
	switch {
	case group < 1 || g.c%group != 0 || g.m%group != 0:
		return nil, fmt.Errorf("conv: %d input and %d output channels do not split into %d groups", g.c, g.m, group)
	case w[1] != g.c/group:
		return nil, fmt.Errorf("conv: weight %v expects %d input channels per group, input %v has %d", w, w[1], x, g.c/group)
	case g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1:
		return nil, fmt.Errorf("conv: strides %v and dilations %v must be positive", strides, dilations)
	case g.pt < 0 || g.pl < 0 || g.pb < 0 || g.pr < 0:
		return nil, fmt.Errorf("conv: negative pads %v", pads)
	}
	g.oh = (g.h+g.pt+g.pb-g.dh*(g.kh-1)-1)/g.sh + 1
	g.ow = (g.w+g.pl+g.pr-g.dw*(g.kw-1)-1)/g.sw + 1
	if g.oh < 1 || g.ow < 1 {
		return nil, fmt.Errorf("conv: kernel %dx%d does not fit input %dx%d", g.kh, g.kw, g.h, g.w)
	}
	return g, nil
}

func (g *convGeom) outShape() tensor.Shape { return tensor.Shape{g.n, g.m, g.oh, g.ow} }
func (g *convGeom) depthwise() bool        { return g.group == g.c && g.group == g.m }
func (g *convGeom) pointwise() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt+g.pl+g.pb+g.pr == 0
}

// Per-group sizes: input channels, output channels, im2col rows, columns.
func (g *convGeom) cg() int   { return g.c / g.group }
func (g *convGeom) mg() int   { return g.m / g.group }
func (g *convGeom) rows() int { return g.cg() * g.kh * g.kw }
func (g *convGeom) cols() int { return g.oh * g.ow }

// planes gives the per-group strides of the input, output and weight
// arrays: one group of one image's channels, one group's weights.
func (g *convGeom) planes() (in, out, w int) {
	return g.cg() * g.h * g.w, g.mg() * g.cols(), g.mg() * g.rows()
}

// im2col is the portable reference of im2colFast for one image and group.
func im2col[T float](g *convGeom, x []T, col []T) {
	ncol := g.cols()
	for c := 0; c < g.cg(); c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((c*g.kh+i)*g.kw+j)*ncol:]
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + i*g.dh
					for ox := 0; ox < g.ow; ox++ {
						ix := ox*g.sw - g.pl + j*g.dw
						var v T
						if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
							v = x[(c*g.h+iy)*g.w+ix]
						}
						row[oy*g.ow+ox] = v
					}
				}
			}
		}
	}
}

// col2im adds the columns back onto the image: the adjoint of im2col.
func col2im[T float](g *convGeom, col []T, x []T) {
	ncol := g.cols()
	for c := 0; c < g.cg(); c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((c*g.kh+i)*g.kw+j)*ncol:]
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + i*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					for ox := 0; ox < g.ow; ox++ {
						ix := ox*g.sw - g.pl + j*g.dw
						if ix >= 0 && ix < g.w {
							x[(c*g.h+iy)*g.w+ix] += row[oy*g.ow+ox]
						}
					}
				}
			}
		}
	}
}

// convForward is the portable forward pass: im2col then one GEMM per image
// and group. Inputs: x, w and optionally bias.
func convForward[T float](g *convGeom, y []T, in [][]T) {
	x, w := in[0], in[1]
	inPlane, outPlane, wPlane := g.planes()
	parallel.For(g.n, func(lo, hi int) {
		col := make([]T, g.rows()*g.cols())
		for n := lo; n < hi; n++ {
			for gr := 0; gr < g.group; gr++ {
				xi := x[(n*g.group+gr)*inPlane:]
				yi := y[(n*g.group+gr)*outPlane:]
				im2col(g, xi, col)
				gemm(false, false, g.mg(), g.cols(), g.rows(), 1, w[gr*wPlane:], g.rows(), col, g.cols(), 0, yi, g.cols())
			}
		}
	})
	if g.bias {
		addChannelBias(g, y, in[2])
	}
}

func addChannelBias[T float](g *convGeom, y, b []T) {
	plane := g.cols()
	for n := 0; n < g.n; n++ {
		for m := 0; m < g.m; m++ {
			yp := y[(n*g.m+m)*plane : (n*g.m+m+1)*plane]
			for i := range yp {
				yp[i] += b[m]
			}
		}
	}
}

// activation is an elementwise function fused into a convolution's output
// at inference time, saving a full pass over the activations.
type activation int

const (
	actNone activation = iota
	actRelu
	actPRelu // per-channel slope, the convolution's last input
)

// convForward32 is the fast float32 path: the C depthwise kernel, or
// im2col and GEMM over blocks of the output (see convBlocks). Bias, a fused
// activation and a residual to add (res, laid out as y; nil for none) are
// applied to each block while it is in cache.
func convForward32(c cores, g *convGeom, act activation, y []float32, in [][]float32, res []float32) {
	x, w := in[0], in[1]
	var b, slope []float32
	if g.bias {
		b = in[2]
	}
	if act == actPRelu {
		slope = in[len(in)-1]
	}
	if g.depthwise() {
		c.Chunks(g.n*g.c, depthwiseChunk(g), func(lo, hi int) { depthwiseFast(g, act, x, w, b, slope, y, lo, hi) })
		return
	}
	rb, cb := g.convBlocks()
	rowBlocks, colBlocks := (g.mg()+rb-1)/rb, (g.cols()+cb-1)/cb
	perImage := rowBlocks * colBlocks
	inPlane, outPlane, wPlane := g.planes()
	c.Chunks(g.n*perImage, 1, func(item, _ int) {
		n, blk := item/perImage, item%perImage
		p0, m0 := blk/rowBlocks*cb, blk%rowBlocks*rb
		p1, m1 := min(p0+cb, g.cols()), min(m0+rb, g.mg())
		var col []float32
		if !g.pointwise() {
			buf, _ := g.scratch.Get().(*[]float32)
			if buf == nil || len(*buf) < g.rows()*cb {
				b := make([]float32, g.rows()*cb)
				buf = &b
			}
			defer g.scratch.Put(buf)
			col = (*buf)[:g.rows()*(p1-p0)]
		}
		for gr := 0; gr < g.group; gr++ {
			xi := x[(n*g.group+gr)*inPlane:]
			yi := y[(n*g.group+gr)*outPlane+m0*g.cols()+p0:]
			wi := w[gr*wPlane+m0*g.rows():]
			if g.pointwise() {
				gemm(false, false, m1-m0, p1-p0, g.rows(), 1, wi, g.rows(), xi[p0:], g.cols(), 0, yi, g.cols())
			} else {
				im2colFast(g, xi, p0, p1, col)
				gemm(false, false, m1-m0, p1-p0, g.rows(), 1, wi, g.rows(), col, p1-p0, 0, yi, g.cols())
			}
			var ri []float32
			if res != nil {
				ri = res[(n*g.group+gr)*outPlane+m0*g.cols()+p0:]
			}
			epilogueFast(yi, g.cols(), gr*g.mg()+m0, m1-m0, p1-p0, b, slope, act, ri)
		}
	})
}

// blockMACs is the size, in multiply-adds, that convBlocks aims at: small
// enough that OpenBLAS takes its small-matrix kernels (up to 10⁶, measured
// 15-30 % faster than its blocked path on this network's layers), and
// enough blocks for every core even at batch 1.
const blockMACs = 1 << 19

// convBlocks is the block of one image's product (per group) that is one
// unit of parallel work: rb output channels by cb output columns. It
// depends on the geometry alone, never on the batch size or the core
// count, so an image's output is the same bits in any batch on any
// machine: OpenBLAS rounds differently in its small and blocked kernels,
// which it picks by the product's size.
func (g *convGeom) convBlocks() (rb, cb int) {
	k, cols := g.rows(), g.cols()
	rb = min(g.mg(), 64)
	cb = max(16, blockMACs/(rb*k)/16*16)
	if cb >= cols {
		// A narrow plane: whole rows, and as many channels as fit.
		cb = cols
		rb = 16
		for rb < 128 && 2*rb*cols*k <= blockMACs {
			rb *= 2
		}
		rb = min(rb, g.mg())
	}
	return rb, cb
}

// depthwiseChunk is how many planes one claim of a depthwise convolution
// covers: about 64 K multiply-adds.
func depthwiseChunk(g *convGeom) int {
	return max(1, (1<<16)/(g.oh*g.ow*g.kh*g.kw))
}

// convKernel is ONNX Conv: inputs x, w and optional bias. With a fused
// activation (inference graphs only) a PReLU slope follows, and the kernel
// has no gradient: training graphs are built unfused.
type convKernel struct {
	g   *convGeom
	act activation
}

func (k convKernel) String() string {
	return fmt.Sprintf("%s act=%d", k.g, k.act)
}
func (k convKernel) outShape() tensor.Shape           { return k.g.outShape() }
func (k convKernel) do32(y []float32, in [][]float32) { k.run32(allCores{}, y, in) }
func (k convKernel) run32(c cores, y []float32, in [][]float32) {
	convForward32(c, k.g, k.act, y, in, nil)
}
func (k convKernel) do64(y []float64, in [][]float64) {
	convForward(k.g, y, in)
	if k.act != actNone {
		activateRef(k.g, k.act, y, in[len(in)-1])
	}
}

// convAddKernel is a convolution (not depthwise) followed by an Add of its
// output and a residual of the same shape, the last input: a residual
// block's end. The CPU engine fuses the two (see fuseResidualAdds), adding
// the residual in the convolution's epilogue, which rounds exactly as the
// separate Add; device plans keep them apart, so no backend sees this
// kernel.
type convAddKernel struct{ convKernel }

func (k convAddKernel) String() string { return "Add(" + k.convKernel.String() + ", residual)" }
func (k convAddKernel) vjp(int) kernel { return nil }
func (k convAddKernel) do32(y []float32, in [][]float32) {
	k.run32(allCores{}, y, in)
}
func (k convAddKernel) run32(c cores, y []float32, in [][]float32) {
	convForward32(c, k.g, k.act, y, in[:len(in)-1], in[len(in)-1])
}
func (k convAddKernel) do64(y []float64, in [][]float64) {
	k.convKernel.do64(y, in[:len(in)-1])
	for i, r := range in[len(in)-1] {
		y[i] += r
	}
}

// activateRef is the portable reference of the fused activations.
func activateRef[T float](g *convGeom, act activation, y, slope []T) {
	plane := g.cols()
	for i := range y {
		if y[i] > 0 {
			continue
		}
		if act == actRelu {
			y[i] = 0
		} else {
			y[i] *= slope[(i/plane)%g.m]
		}
	}
}

func (k convKernel) vjp(i int) kernel {
	if k.act != actNone {
		return nil
	}
	switch i {
	case 0:
		return convGradX{k.g}
	case 1:
		return convGradW{k.g}
	case 2:
		return convGradB{k.g}
	}
	return nil
}

// The gradient kernels take (x, w, [b], y, dy); dy is the last input.

type convGradX struct{ g *convGeom }

func (k convGradX) String() string                    { return "dX" + k.g.String() }
func (k convGradX) outShape() tensor.Shape            { return tensor.Shape{k.g.n, k.g.c, k.g.h, k.g.w} }
func (k convGradX) vjp(int) kernel                    { return nil }
func (k convGradX) do32(dx []float32, in [][]float32) { convBackX32(k.g, dx, in) }
func (k convGradX) do64(dx []float64, in [][]float64) { convBackX(k.g, dx, in) }

func convBackX[T float](g *convGeom, dx []T, in [][]T) {
	w, dy := in[1], in[len(in)-1]
	clear(dx)
	inPlane, outPlane, wPlane := g.planes()
	parallel.For(g.n, func(lo, hi int) {
		col := make([]T, g.rows()*g.cols())
		for n := lo; n < hi; n++ {
			for gr := 0; gr < g.group; gr++ {
				// dcol = Wᵀ·dy, then scatter the columns back onto the image.
				gemm(true, false, g.rows(), g.cols(), g.mg(), 1, w[gr*wPlane:], g.rows(), dy[(n*g.group+gr)*outPlane:], g.cols(), 0, col, g.cols())
				col2im(g, col, dx[(n*g.group+gr)*inPlane:])
			}
		}
	})
}

type convGradW struct{ g *convGeom }

func (k convGradW) String() string { return "dW" + k.g.String() }
func (k convGradW) outShape() tensor.Shape {
	return tensor.Shape{k.g.m, k.g.cg(), k.g.kh, k.g.kw}
}
func (k convGradW) vjp(int) kernel                    { return nil }
func (k convGradW) do32(dw []float32, in [][]float32) { convBackW32(k.g, dw, in) }
func (k convGradW) do64(dw []float64, in [][]float64) { convBackW(k.g, dw, in) }

func convBackW[T float](g *convGeom, dw []T, in [][]T) {
	x, dy := in[0], in[len(in)-1]
	clear(dw)
	inPlane, outPlane, wPlane := g.planes()
	col := make([]T, g.rows()*g.cols())
	for n := 0; n < g.n; n++ {
		for gr := 0; gr < g.group; gr++ {
			im2col(g, x[(n*g.group+gr)*inPlane:], col)
			// dW += dy·colᵀ
			gemm(false, true, g.mg(), g.rows(), g.cols(), 1, dy[(n*g.group+gr)*outPlane:], g.cols(), col, g.cols(), 1, dw[gr*wPlane:], g.rows())
		}
	}
}

type convGradB struct{ g *convGeom }

func (k convGradB) String() string         { return "dB" + k.g.String() }
func (k convGradB) outShape() tensor.Shape { return tensor.Shape{k.g.m} }
func (k convGradB) vjp(int) kernel         { return nil }
func (k convGradB) do32(db []float32, in [][]float32) {
	sumPlanes(k.g.n, k.g.m, k.g.cols(), db, in[len(in)-1])
}
func (k convGradB) do64(db []float64, in [][]float64) {
	sumPlanes(k.g.n, k.g.m, k.g.cols(), db, in[len(in)-1])
}

// sumPlanes reduces an n×c×plane array over n and plane into c sums.
func sumPlanes[T float](n, c, plane int, dst, src []T) {
	for i := range dst {
		dst[i] = 0
	}
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			var s T
			for _, v := range src[(b*c+ch)*plane : (b*c+ch+1)*plane] {
				s += v
			}
			dst[ch] += s
		}
	}
}
