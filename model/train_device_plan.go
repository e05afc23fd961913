package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// trainPlan is one training step as a device runs it, a plan (see
// device_plan.go) of three parts: the forward steps the training graph
// recorded, each training batch norm followed by the update of its running
// statistics; the loss, computed on the host (hostLoss); then, in reverse
// order, the vjp kernels of every step whose inputs lead back to a
// learnable weight, with gradient contributions to the same value summed
// by an Add. Weights are fixed values (own buffers, updated in place);
// slots are shared only by values whose lives do not overlap, so an
// activation lives until the backward step that last reads it, and the
// weights' gradients (the plan's outputs) until the optimiser has run.
type trainPlan struct {
	plan
	alias  map[int]int // a view → the value whose storage it shares
	output int         // the network's output
	dOut   int         // d loss / d output, written by the host
	loss   int         // the index in steps of the hostLoss step
	param  []int       // the value of each Param
	grad   []int       // the gradient value of each Param; -1 for statistics
}

// forwardOp is a forward computation as the backward pass walks it: a
// step, or a reshape that became a view (no step, but a gradient to pass).
type forwardOp struct {
	k    kernel
	in   []int
	out  int
	view bool
}

// trainPlanBuilder holds the state of newTrainPlan.
type trainPlanBuilder struct {
	tp    *trainPlan
	ids   map[*G.Node]int
	needs []bool // the value depends on a learnable weight
	fwd   []forwardOp
	grad  map[int]int
}

func (pb *trainPlanBuilder) add(v planValue, needs bool) int {
	pb.tp.values = append(pb.tp.values, v)
	pb.needs = append(pb.needs, needs)
	return len(pb.tp.values) - 1
}

// newTrainPlan plans a training step of the graph tg for one batch size.
func newTrainPlan(tg *trainGraph, batch int) (*trainPlan, error) {
	pb := &trainPlanBuilder{tp: &trainPlan{plan: plan{batch: batch}, alias: map[int]int{}}, ids: map[*G.Node]int{}, grad: map[int]int{}}
	tp := pb.tp
	in := tg.b.values[tg.b.net.input.id].node
	tp.input = pb.add(planValue{shape: in.Shape().Clone()}, false)
	pb.ids[in] = tp.input
	for i, nd := range tg.nodes {
		id := pb.add(planValue{shape: nd.Shape().Clone(), slot: -1, fixed: true}, tg.params[i].Grad != nil)
		pb.ids[nd] = id
		tp.param = append(tp.param, id)
	}
	for _, s := range tg.b.steps {
		if err := pb.forward(s); err != nil {
			return nil, err
		}
	}
	out, ok := pb.ids[tg.out]
	if !ok || tp.values[out].konst != nil || tp.values[root(tp.alias, out)].fixed || out == tp.input {
		return nil, fmt.Errorf("the output is not computed from the input: nothing to train")
	}
	shape := tp.values[out].shape.Clone()
	tp.output = out
	tp.dOut = pb.add(planValue{shape: shape}, false)
	tp.loss = len(tp.steps)
	tp.steps = append(tp.steps, planStep{k: hostLoss{shape}, in: []int{out}, out: tp.dOut})
	if err := pb.backward(); err != nil {
		return nil, err
	}
	tp.grad = make([]int, len(tp.param))
	for i, v := range tp.param {
		tp.grad[i] = -1
		if tg.params[i].Grad == nil {
			continue
		}
		g, ok := pb.grad[v]
		if !ok {
			return nil, fmt.Errorf("weight %s: the output does not depend on it, it would never learn", tg.params[i].Name)
		}
		tp.grad[i] = g
		tp.outputs = append(tp.outputs, g)
	}
	tp.assignSlots(tp.alias)
	return tp, nil
}

// lookup numbers a step's input: a value seen before, or a constant.
func (pb *trainPlanBuilder) lookup(nd *G.Node) (int, error) {
	if id, ok := pb.ids[nd]; ok {
		return id, nil
	}
	c, err := constantData(nd)
	if err != nil {
		return 0, err
	}
	id := pb.add(planValue{shape: nd.Shape().Clone(), konst: c, slot: -1}, false)
	pb.ids[nd] = id
	return id, nil
}

// forward adds one recorded step of the training graph.
func (pb *trainPlanBuilder) forward(s step) error {
	tp := pb.tp
	if _, done := pb.ids[s.node]; done {
		return nil // gorgonia merged an identical application
	}
	if u, ok := s.k.(unsupportedKernel); ok {
		return fmt.Errorf("%v: %w", u.err, ErrUnsupported)
	}
	if got, want := s.k.outShape().TotalSize(), s.node.Shape().TotalSize(); got != want {
		return fmt.Errorf("%s: output of %d values, graph node %v", s.k, got, s.node.Shape())
	}
	op := forwardOp{k: s.k}
	needs := false
	for _, nd := range s.in {
		id, err := pb.lookup(nd)
		if err != nil {
			return fmt.Errorf("%s: %w", s.k, err)
		}
		op.in = append(op.in, id)
		needs = needs || pb.needs[id]
	}
	v := planValue{shape: s.node.Shape().Clone()}
	if _, ok := s.k.(reshapeKernel); ok {
		src := tp.values[op.in[0]]
		if src.konst != nil {
			v.konst, v.slot = src.konst, -1 // a reshaped constant is that constant
			pb.ids[s.node] = pb.add(v, false)
			return nil
		}
		op.out = pb.add(v, needs)
		op.view = true
		tp.alias[op.out] = root(tp.alias, op.in[0])
		pb.ids[s.node] = op.out
		pb.fwd = append(pb.fwd, op)
		return nil
	}
	op.out = pb.add(v, needs)
	pb.ids[s.node] = op.out
	tp.steps = append(tp.steps, planStep{k: s.k, in: op.in, out: op.out})
	pb.fwd = append(pb.fwd, op)
	if bn, ok := s.k.(*bnTrainKernel); ok && bn.running[0] != nil {
		rm, okm := pb.ids[bn.running[0]]
		rv, okv := pb.ids[bn.running[1]]
		if !okm || !okv {
			return fmt.Errorf("%s: running statistics are not weights of the model", bn)
		}
		tp.steps = append(tp.steps, planStep{k: bnRunningKernel{bn}, in: []int{op.in[0], rm, rv}, out: rm})
	}
	return nil
}

// backward adds the gradient steps, from the loss back to the weights.
func (pb *trainPlanBuilder) backward() error {
	tp := pb.tp
	pb.grad[tp.output] = tp.dOut
	for i := len(pb.fwd) - 1; i >= 0; i-- {
		op := pb.fwd[i]
		g, ok := pb.grad[op.out]
		if !ok {
			continue // nothing downstream reaches the loss
		}
		if op.view {
			if src := op.in[0]; pb.needs[src] {
				vw := pb.add(planValue{shape: tp.values[src].shape.Clone()}, false)
				tp.alias[vw] = root(tp.alias, g)
				if err := pb.addGrad(src, vw); err != nil {
					return err
				}
			}
			continue
		}
		for j, in := range op.in {
			if !pb.needs[in] {
				continue
			}
			vk := op.k.vjp(j)
			if vk == nil {
				continue
			}
			if got, want := vk.outShape().TotalSize(), tp.values[in].len(); got != want {
				return fmt.Errorf("%s: gradient of %d values for an input of %d", vk, got, want)
			}
			args := append(append([]int{}, op.in...), op.out, g)
			gv := pb.add(planValue{shape: vk.outShape().Clone()}, false)
			tp.steps = append(tp.steps, planStep{k: vk, in: args, out: gv})
			if err := pb.addGrad(in, gv); err != nil {
				return err
			}
		}
	}
	return nil
}

// addGrad records g as (a contribution to) the gradient of value v.
func (pb *trainPlanBuilder) addGrad(v, g int) error {
	tp := pb.tp
	prev, ok := pb.grad[v]
	if !ok {
		pb.grad[v] = g
		return nil
	}
	shape := tp.values[v].shape
	k, err := newBinaryKernel(fnAdd, shape, shape)
	if err != nil {
		return err
	}
	sum := pb.add(planValue{shape: shape.Clone()}, false)
	tp.steps = append(tp.steps, planStep{k: k, in: []int{prev, g}, out: sum})
	pb.grad[v] = sum
	return nil
}
