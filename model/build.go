package model

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// value is what an ONNX value became while building: a node of the
// gorgonia graph, or a constant known at build time (weights, and the shape
// arithmetic of exported detectors, which is folded rather than run).
type value struct {
	node *G.Node
	c    *tensor.Dense
}

func (v value) shape() tensor.Shape {
	if v.node != nil {
		return v.node.Shape()
	}
	return v.c.Shape()
}

// opBuilder adds one ONNX operator to the graph.
type opBuilder func(b *builder, n *irNode, in []value) (value, error)

// opTable maps ONNX operator names to builders; each Net holds its own.
type opTable map[string]opBuilder

// builder turns the decoded ONNX graph into a gorgonia graph for one batch.
type builder struct {
	net     *Net
	g       *G.ExprGraph
	batch   int
	values  map[int64]value
	nodes   map[*tensor.Dense]*G.Node // constants already lifted into the graph
	kernels []kernel
	// fuse enables inference-only fusions (see Net.planFusion); fusedFrom
	// maps each fused activation back to its convolution.
	fuse      bool
	fusedFrom map[int64]*irNode
	// train builds a trainable graph (see Net.Trainable): weights are copied
	// so that updating them leaves the Net untouched.
	train bool
	stats map[*G.Node]bool // BatchNorm running statistics (not differentiated)
	// steps records every computed node in the order it was added, with the
	// kernel that computes it: the program as a device backend runs it.
	steps []step
}

// step is one computation of a built graph: node = k(in...). Data movement
// that the CPU graph leaves to gorgonia's ops is recorded as a mover kernel
// (moves.go), so a program's steps are kernels only.
type step struct {
	node *G.Node
	k    kernel
	in   []*G.Node
}

// record adds a step; gorgonia returns an existing node for an identical
// application, which then keeps its first step.
func (b *builder) record(node *G.Node, k kernel, in ...*G.Node) {
	b.steps = append(b.steps, step{node: node, k: k, in: in})
}

// recordMove records a movement whose kernel could not be made (err): the
// CPU graph runs it with gorgonia's op, and a device plan reports it.
func (b *builder) recordMove(node *G.Node, k kernel, err error, in ...*G.Node) {
	if err != nil {
		k = unsupportedKernel{err}
	}
	b.record(node, k, in...)
}

func (n *Net) build(batch int) (*program, error) {
	b, p, err := n.buildGraph(batch)
	if err != nil {
		return nil, err
	}
	p.mem = planMemory(b.g, p.outputs, &n.pool)
	p.vm = G.NewTapeMachine(b.g)
	return p, nil
}

// buildGraph builds the inference graph for one batch size, without the
// machine that runs it on the CPU (device plans need only its steps).
func (n *Net) buildGraph(batch int) (b *builder, p *program, err error) {
	// gorgonia panics on some inconsistent graphs; a bad model file must
	// come back as an error that names it.
	defer func() {
		if r := recover(); r != nil {
			b, p, err = nil, nil, fmt.Errorf("model %s: building graph for batch %d: %v", n.name, batch, r)
		}
	}()
	b = &builder{net: n, g: G.NewGraph(), batch: batch, values: map[int64]value{}, nodes: map[*tensor.Dense]*G.Node{},
		fuse: true, fusedFrom: map[int64]*irNode{}}
	for conv, act := range n.fused {
		b.fusedFrom[act.id] = n.g.Node(conv).(*irNode)
	}
	for _, node := range n.order {
		v, err := b.buildNode(node)
		if err != nil {
			return nil, nil, n.nodeError(node, err)
		}
		b.values[node.id] = v
	}
	p = &program{g: b.g, in: b.values[n.input.id].node}
	for _, o := range n.outputs {
		v, err := b.lift(b.values[o.id])
		if err != nil {
			return nil, nil, n.nodeError(o, err)
		}
		p.outputs = append(p.outputs, v)
	}
	p.kernels = b.kernels
	p.steps = b.steps
	return b, p, nil
}

func (b *builder) buildNode(node *irNode) (value, error) {
	if node == b.net.input {
		shape := append(tensor.Shape{b.batch}, b.net.InputShape()[1:]...)
		if node.value.Dtype() != tensor.Float32 {
			return value{}, fmt.Errorf("input element type %v: %w", node.value.Dtype(), ErrUnsupported)
		}
		return value{node: G.NewTensor(b.g, tensor.Float32, shape.Dims(), G.WithShape(shape...), G.WithName(node.name))}, nil
	}
	if node.op == nil {
		d, ok := node.value.(*tensor.Dense)
		if !ok {
			return value{}, fmt.Errorf("initializer of type %T: %w", node.value, ErrUnsupported)
		}
		return value{c: d}, nil
	}
	if b.fuse {
		if conv := b.fusedFrom[node.id]; conv != nil {
			return b.values[conv.id], nil // computed by the fused convolution
		}
	}
	ins := b.net.g.inputs(node)
	in := make([]value, len(ins))
	for i, x := range ins {
		in[i] = b.values[x.id]
	}
	return b.net.ops[node.op.Name](b, node, in)
}

// lift returns v as a graph node, adding a constant node the first time.
// Weights become nodes with values (not gorgonia constants) so that training
// can take gradients with respect to them.
func (b *builder) lift(v value) (*G.Node, error) {
	if v.node != nil {
		return v.node, nil
	}
	if n, ok := b.nodes[v.c]; ok {
		return n, nil
	}
	c := v.c
	switch c.Dtype() {
	case tensor.Float32:
		if b.train {
			c = c.Clone().(*tensor.Dense)
		}
	case tensor.Float64, tensor.Int64, tensor.Int32:
		c = toFloat32(c)
	default:
		return nil, fmt.Errorf("constant of type %v: %w", c.Dtype(), ErrUnsupported)
	}
	shape := c.Shape().Clone()
	if shape.Dims() == 0 {
		// gorgonia keeps scalars apart from tensors; a 1-element vector
		// broadcasts identically and keeps every kernel tensor-only.
		shape = tensor.Shape{1}
		c = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(scalarAt(c, 0))}))
	}
	n := G.NewTensor(b.g, tensor.Float32, shape.Dims(), G.WithShape(shape...), G.WithValue(c), G.WithName(fmt.Sprintf("const%d", len(b.nodes))))
	b.nodes[v.c] = n
	return n, nil
}

func toFloat32(t *tensor.Dense) *tensor.Dense {
	out := make([]float32, t.Shape().TotalSize())
	for i := range out {
		out[i] = float32(scalarAt(t, i))
	}
	shape := t.Shape().Clone()
	if t.Shape().Dims() == 0 {
		return tensor.New(tensor.FromScalar(out[0]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out))
}

// scalarAt reads element i of a constant of any numeric type as float64.
func scalarAt(t *tensor.Dense, i int) float64 {
	if t.Shape().Dims() == 0 {
		switch v := t.ScalarValue().(type) {
		case float32:
			return float64(v)
		case float64:
			return v
		case int64:
			return float64(v)
		case int32:
			return float64(v)
		}
	}
	switch d := t.Data().(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []int64:
		return float64(d[i])
	case []int32:
		return float64(d[i])
	}
	return 0
}

// ints reads an integer constant (shapes, axes, indices) as []int.
func ints(v value) ([]int, error) {
	if v.c == nil {
		return nil, errors.New("needs a constant, got a computed value")
	}
	n := v.c.Shape().TotalSize()
	if v.c.Shape().Dims() == 0 {
		n = 1
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(scalarAt(v.c, i))
	}
	return out, nil
}

// Attribute accessors: ONNX attributes arrive as int64, float32, []int64 …

func attrInt(n *irNode, name string, def int) int {
	if v, ok := n.op.Attributes[name].(int64); ok {
		return int(v)
	}
	return def
}

func attrFloat(n *irNode, name string, def float64) float64 {
	if v, ok := n.op.Attributes[name].(float32); ok {
		return float64(v)
	}
	return def
}

func attrInts(n *irNode, name string, def []int) []int {
	v, ok := n.op.Attributes[name].([]int64)
	if !ok {
		return def
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func attrString(n *irNode, name, def string) string {
	if v, ok := n.op.Attributes[name].(string); ok {
		return v
	}
	return def
}

func arity(in []value, lo, hi int) error {
	if len(in) < lo || len(in) > hi {
		if lo == hi {
			return fmt.Errorf("%d inputs, want %d", len(in), lo)
		}
		return fmt.Errorf("%d inputs, want %d to %d", len(in), lo, hi)
	}
	return nil
}

// kernelNode lifts the inputs and applies k.
func (b *builder) kernelNode(k kernel, in ...value) (value, error) {
	nodes := make([]*G.Node, len(in))
	for i, v := range in {
		n, err := b.lift(v)
		if err != nil {
			return value{}, err
		}
		nodes[i] = n
	}
	n, err := applyKernel(k, nodes...)
	if err != nil {
		return value{}, err
	}
	b.kernels = append(b.kernels, k)
	b.record(n, k, nodes...)
	return value{node: n}, nil
}
