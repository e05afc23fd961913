package model

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Data movement as kernels. The CPU graphs run reshape, transpose, slice and
// concat with gorgonia's own ops; the builder records each of them as one
// of these kernels too (see builder.steps), so that a device backend sees a
// program made only of kernels. Every movement is a list of strided copies
// (moveCopies), the one primitive a backend needs for all of them; the
// do32/do64 methods are the portable reference, and each has a gradient
// for training on a device.

// stridedCopy copies an array of shape dims from src (element strides
// srcStride, from srcOff) to dst (dstStride, from dstOff). Dimensions are
// at most maxCopyRank.
type stridedCopy struct {
	dims, srcStride, dstStride []int
	srcOff, dstOff             int
	src                        int // which kernel input is the source
}

// maxCopyRank bounds the rank of a strided copy (OpenCL passes shapes as
// int8 vectors).
const maxCopyRank = 8

// mover is a data-movement kernel: its output is the given copies, over a
// zeroed output when zero is set.
type mover interface {
	kernel
	copies() (cps []stridedCopy, zero bool)
}

func rowMajorStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// runCopies is the portable execution of a mover.
func runCopies[T float](m mover, y []T, in [][]T) {
	cps, zero := m.copies()
	if zero {
		clear(y)
	}
	for _, c := range cps {
		src := in[c.src]
		n := volume(c.dims)
		idx := make([]int, len(c.dims))
		for i := 0; i < n; i++ {
			so, do := c.srcOff, c.dstOff
			for d := range idx {
				so += idx[d] * c.srcStride[d]
				do += idx[d] * c.dstStride[d]
			}
			y[do] = src[so]
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < c.dims[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
}

// reshapeKernel views its input with another shape: a copy on the host,
// an alias on a device.
type reshapeKernel struct{ from, to tensor.Shape }

func (k reshapeKernel) String() string         { return fmt.Sprintf("Reshape(%v->%v)", k.from, k.to) }
func (k reshapeKernel) outShape() tensor.Shape { return k.to }
func (k reshapeKernel) copies() ([]stridedCopy, bool) {
	n := k.to.TotalSize()
	return []stridedCopy{{dims: []int{n}, srcStride: []int{1}, dstStride: []int{1}}}, false
}
func (k reshapeKernel) do32(y []float32, in [][]float32) { copy(y, in[0]) }
func (k reshapeKernel) do64(y []float64, in [][]float64) { copy(y, in[0]) }
func (k reshapeKernel) vjp(i int) kernel {
	if i != 0 {
		return nil
	}
	return gradOf{reshapeKernel{k.to, k.from}, 2}
}

// gradOf applies a movement to the output gradient alone: the vjp of a
// linear movement is another movement of dy, the input at position dy.
type gradOf struct {
	m  mover
	dy int
}

func (g gradOf) String() string         { return fmt.Sprintf("d[%s]@%d", g.m, g.dy) }
func (g gradOf) outShape() tensor.Shape { return g.m.outShape() }
func (g gradOf) vjp(int) kernel         { return nil }
func (g gradOf) copies() ([]stridedCopy, bool) {
	cps, zero := g.m.copies()
	out := make([]stridedCopy, len(cps))
	for i, c := range cps {
		c.src += g.dy
		out[i] = c
	}
	return out, zero
}
func (g gradOf) do32(y []float32, in [][]float32) { runCopies(g, y, in) }
func (g gradOf) do64(y []float64, in [][]float64) { runCopies(g, y, in) }

// transposeKernel permutes the axes of its input (ONNX Transpose).
type transposeKernel struct {
	shape tensor.Shape // input
	perm  []int
}

func newTransposeKernel(shape tensor.Shape, perm []int) (transposeKernel, error) {
	if len(perm) != shape.Dims() || len(perm) > maxCopyRank {
		return transposeKernel{}, fmt.Errorf("perm %v for shape %v", perm, shape)
	}
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			return transposeKernel{}, fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
	}
	return transposeKernel{shape.Clone(), append([]int(nil), perm...)}, nil
}

func (k transposeKernel) String() string { return fmt.Sprintf("Transpose(%v,%v)", k.shape, k.perm) }
func (k transposeKernel) outShape() tensor.Shape {
	out := make(tensor.Shape, len(k.perm))
	for i, p := range k.perm {
		out[i] = k.shape[p]
	}
	return out
}

// copies walks the output in order and gathers from the input.
func (k transposeKernel) copies() ([]stridedCopy, bool) {
	in := rowMajorStrides(k.shape)
	out := k.outShape()
	src := make([]int, len(k.perm))
	for i, p := range k.perm {
		src[i] = in[p]
	}
	return []stridedCopy{{dims: out, srcStride: src, dstStride: rowMajorStrides(out)}}, false
}
func (k transposeKernel) do32(y []float32, in [][]float32) { runCopies(k, y, in) }
func (k transposeKernel) do64(y []float64, in [][]float64) { runCopies(k, y, in) }
func (k transposeKernel) vjp(i int) kernel {
	if i != 0 {
		return nil
	}
	inv := make([]int, len(k.perm))
	for i, p := range k.perm {
		inv[p] = i
	}
	return gradOf{transposeKernel{k.outShape(), inv}, 2}
}

// sliceKernel takes [starts[d], ends[d]) of every axis d (step 1).
type sliceKernel struct {
	shape        tensor.Shape // input
	starts, ends []int        // one per axis
	out          tensor.Shape // as the graph shapes it (unit axes may be dropped)
}

func (k sliceKernel) String() string {
	return fmt.Sprintf("Slice(%v,%v:%v->%v)", k.shape, k.starts, k.ends, k.out)
}
func (k sliceKernel) outShape() tensor.Shape { return k.out }
func (k sliceKernel) block() []int {
	dims := make([]int, len(k.starts))
	for d := range dims {
		dims[d] = k.ends[d] - k.starts[d]
	}
	return dims
}
func (k sliceKernel) copies() ([]stridedCopy, bool) {
	in := rowMajorStrides(k.shape)
	off := 0
	for d, s := range k.starts {
		off += s * in[d]
	}
	dims := k.block()
	return []stridedCopy{{dims: dims, srcStride: in, dstStride: rowMajorStrides(dims), srcOff: off}}, false
}
func (k sliceKernel) do32(y []float32, in [][]float32) { runCopies(k, y, in) }
func (k sliceKernel) do64(y []float64, in [][]float64) { runCopies(k, y, in) }
func (k sliceKernel) vjp(i int) kernel {
	if i != 0 {
		return nil
	}
	return sliceGrad{k}
}

// sliceGrad scatters dy into a zeroed array of the input's shape.
type sliceGrad struct{ k sliceKernel }

func (g sliceGrad) String() string         { return "d" + g.k.String() }
func (g sliceGrad) outShape() tensor.Shape { return g.k.shape }
func (g sliceGrad) vjp(int) kernel         { return nil }
func (g sliceGrad) copies() ([]stridedCopy, bool) {
	c, _ := g.k.copies()
	s := c[0]
	s.srcStride, s.dstStride = s.dstStride, s.srcStride
	s.srcOff, s.dstOff = 0, s.srcOff
	s.src = 2 // (x, y, dy)
	return []stridedCopy{s}, true
}
func (g sliceGrad) do32(y []float32, in [][]float32) { runCopies(g, y, in) }
func (g sliceGrad) do64(y []float64, in [][]float64) { runCopies(g, y, in) }

// concatKernel joins its inputs along axis.
type concatKernel struct {
	axis   int
	shapes []tensor.Shape
	out    tensor.Shape
}

func newConcatKernel(axis int, shapes []tensor.Shape) (concatKernel, error) {
	if len(shapes) == 0 || axis < 0 || axis >= shapes[0].Dims() || shapes[0].Dims() > maxCopyRank {
		return concatKernel{}, fmt.Errorf("concat of %v along axis %d", shapes, axis)
	}
	out := shapes[0].Clone()
	out[axis] = 0
	for _, s := range shapes {
		if s.Dims() != out.Dims() {
			return concatKernel{}, fmt.Errorf("concat of %v: ranks differ", shapes)
		}
		for d := range s {
			if d != axis && s[d] != out[d] {
				return concatKernel{}, fmt.Errorf("concat of %v along axis %d: shapes differ", shapes, axis)
			}
		}
		out[axis] += s[axis]
	}
	cs := make([]tensor.Shape, len(shapes))
	for i, s := range shapes {
		cs[i] = s.Clone()
	}
	return concatKernel{axis, cs, out}, nil
}

func (k concatKernel) String() string         { return fmt.Sprintf("Concat(%d,%v)", k.axis, k.shapes) }
func (k concatKernel) outShape() tensor.Shape { return k.out }
func (k concatKernel) copies() ([]stridedCopy, bool) {
	dst := rowMajorStrides(k.out)
	cps := make([]stridedCopy, len(k.shapes))
	at := 0
	for i, s := range k.shapes {
		cps[i] = stridedCopy{dims: s, srcStride: rowMajorStrides(s), dstStride: dst, dstOff: at * dst[k.axis], src: i}
		at += s[k.axis]
	}
	return cps, false
}
func (k concatKernel) do32(y []float32, in [][]float32) { runCopies(k, y, in) }
func (k concatKernel) do64(y []float64, in [][]float64) { runCopies(k, y, in) }
func (k concatKernel) vjp(i int) kernel {
	if i >= len(k.shapes) {
		return nil
	}
	start := 0
	for _, s := range k.shapes[:i] {
		start += s[k.axis]
	}
	starts, ends := make([]int, k.out.Dims()), k.out.Clone()
	starts[k.axis], ends[k.axis] = start, start+k.shapes[i][k.axis]
	return gradOf{sliceKernel{k.out, starts, ends, k.shapes[i]}, len(k.shapes) + 1}
}

// unsupportedKernel stands for a movement no device can run (e.g. of a rank
// above maxCopyRank); a device plan that meets one fails with its error.
type unsupportedKernel struct{ err error }

func (k unsupportedKernel) String() string              { return "Unsupported(" + k.err.Error() + ")" }
func (k unsupportedKernel) outShape() tensor.Shape      { return nil }
func (k unsupportedKernel) do32([]float32, [][]float32) {}
func (k unsupportedKernel) do64([]float64, [][]float64) {}
func (k unsupportedKernel) vjp(int) kernel              { return nil }
