package model

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// batchNormKernel is ONNX BatchNormalization in inference mode: inputs x,
// scale, bias, mean, var; y = (x−mean)·scale/√(var+ε) + bias per channel.
// It writes a fresh output (onnx-go's own version overwrote its input, which
// corrupts residual blocks that read x again).
type batchNormKernel struct {
	shape tensor.Shape // NC… input
	eps   float64
}

func (k batchNormKernel) String() string         { return fmt.Sprintf("BatchNorm%v(eps=%g)", k.shape, k.eps) }
func (k batchNormKernel) outShape() tensor.Shape { return k.shape }
func (k batchNormKernel) planes() (n, c, plane int) {
	n, c = k.shape[0], k.shape[1]
	return n, c, k.shape.TotalSize() / (n * c)
}
func (k batchNormKernel) do32(y []float32, in [][]float32) { bnForward(k, y, in) }
func (k batchNormKernel) do64(y []float64, in [][]float64) { bnForward(k, y, in) }

func (k batchNormKernel) vjp(i int) kernel {
	if i <= 2 { // x, scale, bias; the running statistics are constants
		return bnGrad{k, i}
	}
	return nil
}

// bnAffine folds the statistics into a per-channel multiplier and offset.
func bnAffine[T float](eps float64, c int, in [][]T) (mul, add []T) {
	scale, bias, mean, variance := in[1], in[2], in[3], in[4]
	mul, add = make([]T, c), make([]T, c)
	for ch := 0; ch < c; ch++ {
		mul[ch] = scale[ch] / T(math.Sqrt(float64(variance[ch])+eps))
		add[ch] = bias[ch] - mean[ch]*mul[ch]
	}
	return mul, add
}

func bnForward[T float](k batchNormKernel, y []T, in [][]T) {
	n, c, plane := k.planes()
	mul, add := bnAffine(k.eps, c, in)
	x := in[0]
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			o := (b*c + ch) * plane
			m, a := mul[ch], add[ch]
			for i, v := range x[o : o+plane] {
				y[o+i] = v*m + a
			}
		}
	}
}

// bnGrad maps (x, scale, bias, mean, var, y, dy) to the gradient of x,
// scale or bias.
type bnGrad struct {
	k   batchNormKernel
	wrt int
}

func (g bnGrad) String() string                   { return fmt.Sprintf("d%d%s", g.wrt, g.k) }
func (g bnGrad) outShape() tensor.Shape           { return bnGradShape(g.k.shape, g.wrt) }
func (g bnGrad) vjp(int) kernel                   { return nil }
func (g bnGrad) do32(d []float32, in [][]float32) { bnBackward(g, d, in) }
func (g bnGrad) do64(d []float64, in [][]float64) { bnBackward(g, d, in) }

// bnGradShape is the shape of a batch norm gradient with respect to input
// wrt of an input x: x's own, or a value per channel (scale, bias).
func bnGradShape(x tensor.Shape, wrt int) tensor.Shape {
	if wrt == 0 {
		return x
	}
	return tensor.Shape{x[1]}
}

func bnBackward[T float](g bnGrad, d []T, in [][]T) {
	n, c, plane := g.k.planes()
	x, mean, variance, dy := in[0], in[3], in[4], in[6]
	mul, _ := bnAffine(g.k.eps, c, in[:5])
	if g.wrt != 0 {
		clear(d)
	}
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			o := (b*c + ch) * plane
			inv := T(1 / math.Sqrt(float64(variance[ch])+g.k.eps))
			for i := o; i < o+plane; i++ {
				switch g.wrt {
				case 0:
					d[i] = dy[i] * mul[ch]
				case 1:
					d[ch] += dy[i] * (x[i] - mean[ch]) * inv
				default:
					d[ch] += dy[i]
				}
			}
		}
	}
}

// softmaxKernel is ONNX Softmax (opset < 13): the input is viewed as a
// matrix split at axis, and each row is normalised.
type softmaxKernel struct {
	shape      tensor.Shape
	rows, cols int
}

func newSoftmaxKernel(shape tensor.Shape, axis int) (softmaxKernel, error) {
	if axis < 0 {
		axis += shape.Dims()
	}
	if axis < 0 || axis > shape.Dims() {
		return softmaxKernel{}, fmt.Errorf("softmax axis %d out of range for shape %v", axis, shape)
	}
	rows := 1
	for _, d := range shape[:axis] {
		rows *= d
	}
	return softmaxKernel{shape: shape, rows: rows, cols: shape.TotalSize() / max(rows, 1)}, nil
}

func (k softmaxKernel) String() string {
	return fmt.Sprintf("Softmax%v(%dx%d)", k.shape, k.rows, k.cols)
}
func (k softmaxKernel) outShape() tensor.Shape           { return k.shape }
func (k softmaxKernel) do32(y []float32, in [][]float32) { softmaxForward(k, y, in[0]) }
func (k softmaxKernel) do64(y []float64, in [][]float64) { softmaxForward(k, y, in[0]) }
func (k softmaxKernel) vjp(i int) kernel {
	if i == 0 {
		return softmaxGrad{k}
	}
	return nil
}

func softmaxForward[T float](k softmaxKernel, y, x []T) {
	for r := 0; r < k.rows; r++ {
		xr, yr := x[r*k.cols:(r+1)*k.cols], y[r*k.cols:(r+1)*k.cols]
		m := xr[0]
		for _, v := range xr {
			m = max(m, v)
		}
		var s T
		for i, v := range xr {
			yr[i] = T(math.Exp(float64(v - m)))
			s += yr[i]
		}
		for i := range yr {
			yr[i] /= s
		}
	}
}

// softmaxGrad maps (x, y, dy) to dx = y·(dy − Σ dy·y) per row.
type softmaxGrad struct{ k softmaxKernel }

func (g softmaxGrad) String() string                   { return "d" + g.k.String() }
func (g softmaxGrad) outShape() tensor.Shape           { return g.k.shape }
func (g softmaxGrad) vjp(int) kernel                   { return nil }
func (g softmaxGrad) do32(d []float32, in [][]float32) { softmaxBackward(g.k, d, in[1], in[2]) }
func (g softmaxGrad) do64(d []float64, in [][]float64) { softmaxBackward(g.k, d, in[1], in[2]) }

func softmaxBackward[T float](k softmaxKernel, d, y, dy []T) {
	for r := 0; r < k.rows; r++ {
		o := r * k.cols
		var dot T
		for i := o; i < o+k.cols; i++ {
			dot += dy[i] * y[i]
		}
		for i := o; i < o+k.cols; i++ {
			d[i] = y[i] * (dy[i] - dot)
		}
	}
}

// matmulKernel computes alpha·op(A)·op(B) for 2-D A and B (the product part
// of ONNX Gemm; the bias is a broadcast Add).
type matmulKernel struct {
	ta, tb  bool
	m, n, k int
	alpha   float64
}

func newMatmulKernel(a, b tensor.Shape, ta, tb bool, alpha float64) (matmulKernel, error) {
	if a.Dims() != 2 || b.Dims() != 2 {
		return matmulKernel{}, fmt.Errorf("gemm needs 2-D inputs, got %v and %v", a, b)
	}
	mk := matmulKernel{ta: ta, tb: tb, alpha: alpha}
	mk.m, mk.k = a[0], a[1]
	if ta {
		mk.m, mk.k = a[1], a[0]
	}
	kb, n := b[0], b[1]
	if tb {
		kb, n = b[1], b[0]
	}
	if kb != mk.k {
		return matmulKernel{}, fmt.Errorf("gemm: inner dimensions differ: %v (trans %v) and %v (trans %v)", a, ta, b, tb)
	}
	mk.n = n
	return mk, nil
}

func (k matmulKernel) String() string {
	return fmt.Sprintf("MatMul(%dx%dx%d ta=%v tb=%v alpha=%g)", k.m, k.k, k.n, k.ta, k.tb, k.alpha)
}
func (k matmulKernel) outShape() tensor.Shape { return tensor.Shape{k.m, k.n} }
func (k matmulKernel) lda() int {
	if k.ta {
		return k.m
	}
	return k.k
}
func (k matmulKernel) ldb() int {
	if k.tb {
		return k.k
	}
	return k.n
}
func (k matmulKernel) do32(y []float32, in [][]float32) {
	gemm(k.ta, k.tb, k.m, k.n, k.k, float32(k.alpha), in[0], k.lda(), in[1], k.ldb(), 0, y, k.n)
}
func (k matmulKernel) do64(y []float64, in [][]float64) {
	gemm(k.ta, k.tb, k.m, k.n, k.k, k.alpha, in[0], k.lda(), in[1], k.ldb(), 0, y, k.n)
}
func (k matmulKernel) vjp(i int) kernel {
	if i <= 1 {
		return matmulGrad{k, i}
	}
	return nil
}

// matmulGrad maps (A, B, Y, dY) to dA or dB.
type matmulGrad struct {
	k   matmulKernel
	wrt int
}

func (g matmulGrad) String() string { return fmt.Sprintf("d%d%s", g.wrt, g.k) }
func (g matmulGrad) outShape() tensor.Shape {
	k := g.k
	switch {
	case g.wrt == 0 && k.ta:
		return tensor.Shape{k.k, k.m}
	case g.wrt == 0:
		return tensor.Shape{k.m, k.k}
	case k.tb:
		return tensor.Shape{k.n, k.k}
	default:
		return tensor.Shape{k.k, k.n}
	}
}
func (g matmulGrad) vjp(int) kernel                   { return nil }
func (g matmulGrad) do32(d []float32, in [][]float32) { matmulBackward(g, float32(g.k.alpha), d, in) }
func (g matmulGrad) do64(d []float64, in [][]float64) { matmulBackward(g, g.k.alpha, d, in) }

// With Y = α·op(A)·op(B): d op(A) = α·dY·op(B)ᵀ and d op(B) = α·op(A)ᵀ·dY;
// a transposed operand receives the transposed product.
func matmulBackward[T float](g matmulGrad, alpha T, d []T, in [][]T) {
	k := g.k
	a, b, dy := in[0], in[1], in[3]
	switch {
	case g.wrt == 0 && !k.ta: // dA (m×k) = dY·op(B)ᵀ
		gemm(false, !k.tb, k.m, k.k, k.n, alpha, dy, k.n, b, k.ldb(), 0, d, k.k)
	case g.wrt == 0: // dA (k×m) = op(B)·dYᵀ
		gemm(k.tb, true, k.k, k.m, k.n, alpha, b, k.ldb(), dy, k.n, 0, d, k.m)
	case !k.tb: // dB (k×n) = op(A)ᵀ·dY
		gemm(!k.ta, false, k.k, k.n, k.m, alpha, a, k.lda(), dy, k.n, 0, d, k.n)
	default: // dB (n×k) = dYᵀ·op(A)
		gemm(true, k.ta, k.n, k.k, k.m, alpha, dy, k.n, a, k.lda(), 0, d, k.k)
	}
}
