package model

import (
	"context"
	"fmt"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is one weight of a Learner: an ONNX initializer lifted into the
// graph. On the CPU engine Value is the live weight (writing it changes the
// next Step) and Grad holds its gradient after each Step; on a device both
// are host copies (see Learner.Pull and Push). Grad is nil for BatchNorm
// running statistics, which Step updates itself.
type Param struct {
	Name  string // the ONNX initializer's name, kept by Export
	Op    string // the ONNX operator that reads it ("Conv", "PRelu", …)
	Input int    // and at which input position (Conv: 1 weight, 2 bias)
	Shape []int
	Value []float32
	Grad  []float32
	// Velocity is the momentum of SGD (see SGDStep), nil where Grad is.
	Velocity []float64
}

// LossFunc maps the network's output (batch × features, row-major) to a
// scalar loss and writes d loss / d output into grad (same length).
type LossFunc func(out, grad []float32) float64

// Trainable is a differentiable copy of a Net for one batch size: a float32
// graph without inference fusions, whose weights are copies of the Net's
// initializers (so the Net itself, e.g. a frozen teacher, is never changed),
// followed by the caller's loss. It is not safe for concurrent use.
type Trainable struct {
	net    *Net
	batch  int
	g      *G.ExprGraph
	vm     G.VM
	in     *G.Node
	out    *G.Node
	hook   *lossHook
	params []Param
	nodes  []*G.Node
	grads  []*G.Node
	learn  []int // index in params of each node in nodes and grads
	bns    []*bnTrainKernel
}

// Trainable builds a training graph for batches of the given size. Every
// float initializer the output depends on becomes a Param, in the model's
// topological order.
func (n *Net) Trainable(batch int) (_ *Trainable, err error) {
	defer n.recoverTrainBuild(batch, &err)
	tg, err := n.trainGraph(batch)
	if err != nil {
		return nil, err
	}
	b := tg.b
	t := &Trainable{net: n, batch: batch, g: b.g, in: b.values[n.input.id].node, out: tg.out, params: tg.params}
	flat := t.out
	if s := t.out.Shape(); s.Dims() != 2 {
		if flat, err = G.Reshape(t.out, tensor.Shape{batch, s.TotalSize() / batch}); err != nil {
			return nil, err
		}
	}
	t.hook = &lossHook{id: hookIDs.Add(1), shape: flat.Shape().Clone()}
	loss, err := applyKernel(t.hook, flat)
	if err != nil {
		return nil, err
	}
	cost, err := G.Sum(loss)
	if err != nil {
		return nil, err
	}
	for i, p := range t.params {
		if p.Grad != nil {
			t.nodes = append(t.nodes, tg.nodes[i])
			t.learn = append(t.learn, i)
		}
	}
	if t.grads, err = G.Grad(cost, t.nodes...); err != nil {
		return nil, fmt.Errorf("model %s: gradient: %w", n.name, err)
	}
	for _, k := range b.kernels {
		if bn, ok := k.(*bnTrainKernel); ok {
			t.bns = append(t.bns, bn)
		}
	}
	t.vm = G.NewTapeMachine(b.g)
	return t, nil
}

// trainGraph is the forward half of a training graph, shared by the CPU
// Trainable and the device one: the built graph with its recorded steps,
// the output node, and the Params with the graph node of each (learnable
// ones have Grad and Velocity; BatchNorm running statistics do not).
type trainGraph struct {
	b      *builder
	out    *G.Node
	params []Param
	nodes  []*G.Node
}

// recoverTrainBuild, deferred by the builders of a training graph and what
// runs on it, turns a panic (gorgonia panics on some graph errors rather
// than returning them) into *err. The builders leave their result unnamed,
// so that it stays nil then.
func (n *Net) recoverTrainBuild(batch int, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("model %s: building training graph for batch %d: %v", n.name, batch, r)
	}
}

func (n *Net) trainGraph(batch int) (*trainGraph, error) {
	if batch < 1 {
		return nil, fmt.Errorf("model %s: batch %d: %w", n.name, batch, ErrShape)
	}
	if len(n.outputs) != 1 {
		return nil, fmt.Errorf("model %s: %d outputs, training needs exactly one: %w", n.name, len(n.outputs), ErrUnsupported)
	}
	b := &builder{net: n, g: G.NewGraph(), batch: batch, values: map[int64]value{}, nodes: map[*tensor.Dense]*G.Node{},
		fusedFrom: map[int64]*irNode{}, train: true}
	for _, node := range n.order {
		v, err := b.buildNode(node)
		if err != nil {
			return nil, n.nodeError(node, err)
		}
		b.values[node.id] = v
	}
	out, err := b.lift(b.values[n.outputs[0].id])
	if err != nil {
		return nil, n.nodeError(n.outputs[0], err)
	}
	tg := &trainGraph{b: b, out: out}
	learnable := 0
	for _, node := range n.order {
		if node.op != nil || node == n.input {
			continue
		}
		d, ok := node.value.(*tensor.Dense)
		if !ok || d.Dtype() != tensor.Float32 {
			continue
		}
		gn, ok := b.nodes[d]
		if !ok {
			continue
		}
		data := gn.Value().Data().([]float32)
		p := Param{Name: node.name, Shape: append([]int(nil), gn.Shape()...), Value: data}
		p.Op, p.Input = n.consumer(node)
		if !b.stats[gn] {
			p.Grad = make([]float32, len(data))
			p.Velocity = make([]float64, len(data))
			learnable++
		}
		tg.params = append(tg.params, p)
		tg.nodes = append(tg.nodes, gn)
	}
	if learnable == 0 {
		return nil, fmt.Errorf("model %s: no trainable weights", n.name)
	}
	return tg, nil
}

var hookIDs atomic.Int64

// Batch is the batch size the graph was built for.
func (t *Trainable) Batch() int { return t.batch }

// Features is the size of one sample's output (the embedding dimension).
func (t *Trainable) Features() int { return t.hook.shape.TotalSize() / t.batch }

// Params lists the weights in the model's order; the slices are live.
func (t *Trainable) Params() []Param { return t.params }

// Step runs the network forward on x (batch × input shape), calls loss on
// its output, and back-propagates: afterwards every Param's Grad holds
// d loss / d weight. It returns the loss and a copy of the output.
func (t *Trainable) Step(ctx context.Context, x Tensor, loss LossFunc) (l float64, out Tensor, err error) {
	if err := ctx.Err(); err != nil {
		return 0, Tensor{}, err
	}
	if err := x.check(); err != nil {
		return 0, Tensor{}, err
	}
	if !tensor.Shape(x.Shape).Eq(t.in.Shape()) {
		return 0, Tensor{}, fmt.Errorf("model %s: training input %v, want %v: %w", t.net.name, x.Shape, t.in.Shape(), ErrShape)
	}
	defer t.vm.Reset()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("model %s: training step: %v", t.net.name, r)
		}
	}()
	t.hook.fn = loss
	if err := G.Let(t.in, tensor.New(tensor.WithShape(x.Shape...), tensor.WithBacking(x.Data))); err != nil {
		return 0, Tensor{}, err
	}
	if err := t.vm.RunAll(); err != nil {
		return 0, Tensor{}, fmt.Errorf("model %s: training step: %w", t.net.name, err)
	}
	for i, g := range t.grads {
		v, ok := g.Value().(*tensor.Dense)
		if !ok {
			return 0, Tensor{}, fmt.Errorf("gradient of %s is %T", t.params[t.learn[i]].Name, g.Value())
		}
		if v.IsMaterializable() || !v.DataOrder().IsContiguous() {
			v = v.Materialize().(*tensor.Dense)
		}
		copy(t.params[t.learn[i]].Grad, v.Data().([]float32))
	}
	for _, bn := range t.bns {
		bn.updateRunning()
	}
	return t.hook.loss, Tensor{Shape: append([]int(nil), t.hook.shape...), Data: append([]float32(nil), t.hook.out...)}, nil
}

// lossHook hands the network's output to a Go loss function during the
// forward pass and feeds the gradient it returned into back-propagation: the
// loss can be anything computable outside the graph (margin heads, KD).
type lossHook struct {
	id    int64
	shape tensor.Shape
	fn    LossFunc
	out   []float32
	grad  []float32
	loss  float64
}

func (k *lossHook) String() string         { return fmt.Sprintf("LossHook#%d%v", k.id, k.shape) }
func (k *lossHook) outShape() tensor.Shape { return tensor.Shape{1} }
func (k *lossHook) vjp(i int) kernel {
	if i == 0 {
		return lossHookGrad{k}
	}
	return nil
}

func (k *lossHook) do32(y []float32, in [][]float32) {
	k.out = append(k.out[:0], in[0]...)
	if len(k.grad) != len(k.out) {
		k.grad = make([]float32, len(k.out))
	}
	clear(k.grad)
	k.loss = k.fn(k.out, k.grad)
	y[0] = float32(k.loss)
}

func (k *lossHook) do64(y []float64, in [][]float64) {
	y32 := make([]float32, 1)
	in32 := make([]float32, len(in[0]))
	for i, v := range in[0] {
		in32[i] = float32(v)
	}
	k.do32(y32, [][]float32{in32})
	y[0] = k.loss
}

// lossHookGrad maps (out, loss, dloss) to the gradient the loss returned.
type lossHookGrad struct{ k *lossHook }

func (g lossHookGrad) String() string         { return "d" + g.k.String() }
func (g lossHookGrad) outShape() tensor.Shape { return g.k.shape }
func (g lossHookGrad) vjp(int) kernel         { return nil }
func (g lossHookGrad) do32(d []float32, in [][]float32) {
	s := in[len(in)-1][0]
	for i, v := range g.k.grad {
		d[i] = v * s
	}
}
func (g lossHookGrad) do64(d []float64, in [][]float64) {
	s := in[len(in)-1][0]
	for i, v := range g.k.grad {
		d[i] = float64(v) * s
	}
}

// consumer names the first operator reading an initializer, and where.
func (n *Net) consumer(init *irNode) (string, int) {
	for _, node := range n.order {
		if node.op == nil {
			continue
		}
		for i, in := range n.g.inputs(node) {
			if in == init {
				return node.op.Name, i
			}
		}
	}
	return "", -1
}
