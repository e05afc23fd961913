package model

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// binaryFn names a two-input elementwise function with numpy broadcasting.
type binaryFn int

const (
	fnAdd binaryFn = iota
	fnSub
	fnMul
	fnDiv
	fnPRelu // y = a if a > 0 else b·a (b is the slope)
)

var binaryNames = [...]string{"Add", "Sub", "Mul", "Div", "PRelu"}

func (f binaryFn) String() string { return binaryNames[f] }

func apply2[T float](f binaryFn, a, b T) T {
	switch f {
	case fnAdd:
		return a + b
	case fnSub:
		return a - b
	case fnMul:
		return a * b
	case fnDiv:
		return a / b
	default:
		if a > 0 {
			return a
		}
		return b * a
	}
}

// partial returns ∂f/∂a (wrt=0) or ∂f/∂b (wrt=1) at (a, b).
func partial[T float](f binaryFn, wrt int, a, b T) T {
	switch f {
	case fnAdd:
		return 1
	case fnSub:
		if wrt == 0 {
			return 1
		}
		return -1
	case fnMul:
		if wrt == 0 {
			return b
		}
		return a
	case fnDiv:
		if wrt == 0 {
			return 1 / b
		}
		return -a / (b * b)
	default:
		if wrt == 0 {
			if a > 0 {
				return 1
			}
			return b
		}
		if a > 0 {
			return 0
		}
		return a
	}
}

// broadcast describes how two shapes combine under numpy rules: both are
// right-aligned to the output rank, and each input's stride is 0 along the
// dimensions it repeats.
type broadcast struct {
	out    tensor.Shape
	sa, sb []int // element strides of a and b per output dimension
	shapes [2]tensor.Shape
}

func newBroadcast(a, b tensor.Shape) (*broadcast, error) {
	rank := max(a.Dims(), b.Dims())
	bc := &broadcast{out: make(tensor.Shape, rank), sa: make([]int, rank), sb: make([]int, rank), shapes: [2]tensor.Shape{a, b}}
	dim := func(s tensor.Shape, i int) int {
		if j := i - (rank - s.Dims()); j >= 0 {
			return s[j]
		}
		return 1
	}
	for i := 0; i < rank; i++ {
		da, db := dim(a, i), dim(b, i)
		switch {
		case da == db, db == 1:
			bc.out[i] = da
		case da == 1:
			bc.out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	strideA, strideB := 1, 1
	for i := rank - 1; i >= 0; i-- {
		if da := dim(a, i); da != 1 {
			bc.sa[i] = strideA
			strideA *= da
		}
		if db := dim(b, i); db != 1 {
			bc.sb[i] = strideB
			strideB *= db
		}
	}
	return bc, nil
}

// each calls f(offset of a, offset of b, output offset, run length, stride
// of a, stride of b) for every run of the last output dimension, so the
// per-element work is a tight loop.
func (bc *broadcast) each(f func(ia, ib, io, n, da, db int)) {
	rank := len(bc.out)
	if rank == 0 {
		f(0, 0, 0, 1, 0, 0)
		return
	}
	last := bc.out[rank-1]
	idx := make([]int, rank)
	total := bc.out.TotalSize()
	ia, ib := 0, 0
	for io := 0; io < total; io += last {
		f(ia, ib, io, last, bc.sa[rank-1], bc.sb[rank-1])
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			ia += bc.sa[d]
			ib += bc.sb[d]
			if idx[d] < bc.out[d] {
				break
			}
			ia -= bc.sa[d] * idx[d]
			ib -= bc.sb[d] * idx[d]
			idx[d] = 0
		}
	}
}

type binaryKernel struct {
	fn binaryFn
	bc *broadcast
}

func newBinaryKernel(fn binaryFn, a, b tensor.Shape) (binaryKernel, error) {
	bc, err := newBroadcast(a, b)
	if err != nil {
		return binaryKernel{}, fmt.Errorf("%s: %w", fn, err)
	}
	return binaryKernel{fn, bc}, nil
}

func (k binaryKernel) String() string {
	return fmt.Sprintf("%s(%v,%v)", k.fn, k.bc.shapes[0], k.bc.shapes[1])
}
func (k binaryKernel) outShape() tensor.Shape           { return k.bc.out }
func (k binaryKernel) do32(y []float32, in [][]float32) { k.run32(allCores{}, y, in) }
func (k binaryKernel) run32(c cores, y []float32, in [][]float32) {
	a, b := in[0], in[1]
	switch {
	case k.bc.shapes[0].Eq(k.bc.shapes[1]) && k.fn != fnPRelu:
		c.Chunks(len(y), 1<<14, func(lo, hi int) { binarySameFast(k.fn, a, b, y, lo, hi) })
	case k.fn == fnPRelu && k.perChannel():
		n, ch := k.bc.out[0], k.bc.out[1]
		plane := len(y) / (n * ch)
		c.Chunks(n*ch, max(1, (1<<14)/max(plane, 1)), func(lo, hi int) { preluPlanesFast(a, b, y, ch, plane, lo, hi) })
	default:
		binaryForward(k, y, a, b)
	}
}

// perChannel reports whether b holds one value per channel (axis 1) of an
// input of rank ≥ 2 with a as the full output, the layout of PReLU slopes.
func (k binaryKernel) perChannel() bool {
	a, b := k.bc.shapes[0], k.bc.shapes[1]
	if !a.Eq(k.bc.out) || a.Dims() < 2 || b.TotalSize() != a[1] {
		return false
	}
	return k.bc.sb[1] == 1 || a[1] == 1
}
func (k binaryKernel) do64(y []float64, in [][]float64) { binaryForward(k, y, in[0], in[1]) }
func (k binaryKernel) vjp(i int) kernel {
	if i > 1 {
		return nil
	}
	return binaryGrad{k, i}
}

func binaryForward[T float](k binaryKernel, y, a, b []T) {
	fn := k.fn
	k.bc.each(func(ia, ib, io, n, da, db int) {
		out := y[io : io+n]
		av, bv := a[ia:], b[ib:]
		// One loop per function, the function chosen once per run: a
		// scalar operand (db or da 0) is the common broadcast.
		switch fn {
		case fnAdd:
			for i := range out {
				out[i] = av[i*da] + bv[i*db]
			}
		case fnSub:
			for i := range out {
				out[i] = av[i*da] - bv[i*db]
			}
		case fnMul:
			for i := range out {
				out[i] = av[i*da] * bv[i*db]
			}
		case fnDiv:
			for i := range out {
				out[i] = av[i*da] / bv[i*db]
			}
		default:
			for i := range out {
				out[i] = apply2(fn, av[i*da], bv[i*db])
			}
		}
	})
}

// binaryGrad maps (a, b, y, dy) to the gradient of input wrt, summing over
// the dimensions where that input was broadcast.
type binaryGrad struct {
	k   binaryKernel
	wrt int
}

func (g binaryGrad) String() string                   { return fmt.Sprintf("d%d%s", g.wrt, g.k) }
func (g binaryGrad) outShape() tensor.Shape           { return g.k.bc.shapes[g.wrt] }
func (g binaryGrad) vjp(int) kernel                   { return nil }
func (g binaryGrad) do32(d []float32, in [][]float32) { binaryBackward32(g, d, in) }
func (g binaryGrad) do64(d []float64, in [][]float64) { binaryBackward(g, d, in) }

func binaryBackward[T float](g binaryGrad, d []T, in [][]T) {
	a, b, dy := in[0], in[1], in[3]
	clear(d)
	g.k.bc.each(func(ia, ib, io, n, da, db int) {
		for i := 0; i < n; i++ {
			av, bv := a[ia+i*da], b[ib+i*db]
			v := dy[io+i] * partial(g.k.fn, g.wrt, av, bv)
			if g.wrt == 0 {
				d[ia+i*da] += v
			} else {
				d[ib+i*db] += v
			}
		}
	})
}

// unaryFn names a one-input elementwise function.
type unaryFn int

const (
	fnRelu unaryFn = iota
	fnExp
)

type unaryKernel struct {
	fn    unaryFn
	shape tensor.Shape
}

func (k unaryKernel) String() string {
	return fmt.Sprintf("%s%v", [...]string{"Relu", "Exp"}[k.fn], k.shape)
}
func (k unaryKernel) outShape() tensor.Shape           { return k.shape }
func (k unaryKernel) do32(y []float32, in [][]float32) { unaryForward(k.fn, y, in[0]) }
func (k unaryKernel) do64(y []float64, in [][]float64) { unaryForward(k.fn, y, in[0]) }
func (k unaryKernel) vjp(i int) kernel {
	if i != 0 {
		return nil
	}
	return unaryGrad{k}
}

func unaryForward[T float](fn unaryFn, y, x []T) {
	switch fn {
	case fnRelu:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case fnExp:
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	}
}

// unaryGrad maps (x, y, dy) to dx.
type unaryGrad struct{ k unaryKernel }

func (g unaryGrad) String() string                   { return "d" + g.k.String() }
func (g unaryGrad) outShape() tensor.Shape           { return g.k.shape }
func (g unaryGrad) vjp(int) kernel                   { return nil }
func (g unaryGrad) do32(d []float32, in [][]float32) { unaryBackward(g.k.fn, d, in) }
func (g unaryGrad) do64(d []float64, in [][]float64) { unaryBackward(g.k.fn, d, in) }

func unaryBackward[T float](fn unaryFn, d []T, in [][]T) {
	x, y, dy := in[0], in[1], in[2]
	for i := range d {
		switch fn {
		case fnRelu:
			if x[i] > 0 {
				d[i] = dy[i]
			} else {
				d[i] = 0
			}
		case fnExp:
			d[i] = dy[i] * y[i]
		}
	}
}
