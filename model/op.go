package model

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is the arithmetic of one operator, kept apart from gorgonia's
// bookkeeping: a forward function and, per differentiable input, the kernel
// of its vector-Jacobian product. Shapes are fixed when the kernel is made
// (graphs are built per batch size), so kernels carry their geometry.
//
// Both float widths are supported: float32 for inference and training,
// float64 so that gradients can be checked by finite differences.
type kernel interface {
	// String names the kernel with every parameter; it is hashed, so two
	// kernels with equal strings must compute the same thing.
	String() string
	outShape() tensor.Shape
	do32(out []float32, in [][]float32)
	do64(out []float64, in [][]float64)
	// vjp returns the kernel that maps (inputs..., output, outputGrad) to
	// the gradient of input i, or nil where input i takes no gradient.
	vjp(i int) kernel
}

// kernelOp adapts a kernel to gorgonia's Op and SDOp interfaces.
type kernelOp struct {
	k        kernel
	inShapes []tensor.Shape
	dt       tensor.Dtype
}

// applyKernel adds k to the graph with the given inputs.
func applyKernel(k kernel, inputs ...*G.Node) (*G.Node, error) {
	op := &kernelOp{k: k, dt: inputs[0].Dtype()}
	for _, in := range inputs {
		if in.Dtype() != op.dt {
			return nil, fmt.Errorf("%s: mixed element types %v and %v", k, op.dt, in.Dtype())
		}
		op.inShapes = append(op.inShapes, in.Shape().Clone())
	}
	return G.ApplyOp(op, inputs...)
}

func (op *kernelOp) Arity() int { return len(op.inShapes) }

func (op *kernelOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.inShapes)+1)
	for _, s := range op.inShapes {
		ts = append(ts, G.TensorType{Dims: s.Dims(), Of: op.dt})
	}
	ts = append(ts, G.TensorType{Dims: op.k.outShape().Dims(), Of: op.dt})
	return hm.NewFnType(ts...)
}

func (op *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.k.outShape().Clone(), nil
}

func (op *kernelOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != len(op.inShapes) {
		return nil, fmt.Errorf("%s: got %d inputs, want %d", op.k, len(vals), len(op.inShapes))
	}
	out := tensor.New(tensor.Of(op.dt), tensor.WithShape(op.k.outShape()...))
	if err := op.doInto(out, vals); err != nil {
		return nil, err
	}
	return out, nil
}

func (op *kernelOp) doInto(out *tensor.Dense, vals []G.Value) error {
	switch op.dt {
	case tensor.Float32:
		in, err := kernelInputs[float32](op, vals)
		if err != nil {
			return err
		}
		op.k.do32(out.Data().([]float32), in)
	case tensor.Float64:
		in, err := kernelInputs[float64](op, vals)
		if err != nil {
			return err
		}
		op.k.do64(out.Data().([]float64), in)
	default:
		return fmt.Errorf("%s: unsupported element type %v", op.k, op.dt)
	}
	return nil
}

// kernelInputs is the backing data of every input (see input), of the
// op's element type T.
func kernelInputs[T float](op *kernelOp, vals []G.Value) ([][]T, error) {
	in := make([][]T, len(vals))
	for i, v := range vals {
		d, err := op.input(v, i)
		if err != nil {
			return nil, err
		}
		in[i] = d.([]T)
	}
	return in, nil
}

// input returns the contiguous backing data of input i after checking its
// shape: kernels index raw slices, so a mismatch must be caught here.
func (op *kernelOp) input(v G.Value, i int) (interface{}, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("%s: input %d is %T, want a tensor", op.k, i, v)
	}
	if !t.Shape().Eq(op.inShapes[i]) && t.Shape().TotalSize() != op.inShapes[i].TotalSize() {
		return nil, fmt.Errorf("%s: input %d has shape %v, want %v", op.k, i, t.Shape(), op.inShapes[i])
	}
	if d, ok := t.(*tensor.Dense); ok && (d.IsMaterializable() || !d.DataOrder().IsContiguous()) {
		t = d.Materialize().(*tensor.Dense)
	}
	return t.Data(), nil
}

func (op *kernelOp) ReturnsPtr() bool     { return false }
func (op *kernelOp) CallsExtern() bool    { return false }
func (op *kernelOp) OverwritesInput() int { return -1 }
func (op *kernelOp) String() string       { return op.k.String() }

func (op *kernelOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s %v %v", op.k, op.inShapes, op.dt)
}

func (op *kernelOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *kernelOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = op.k.vjp(i) != nil
	}
	return d
}

func (op *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	grads := make(G.Nodes, len(inputs))
	for i := range inputs {
		k := op.k.vjp(i)
		if k == nil {
			continue
		}
		args := append(append(G.Nodes{}, inputs...), output, grad)
		g, err := applyKernel(k, args...)
		if err != nil {
			return nil, fmt.Errorf("gradient of %s input %d: %w", op.k, i, err)
		}
		grads[i] = g
	}
	return grads, nil
}
