package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// plan is an inference program as a device runs it: a list of kernel steps
// over numbered values (the input, constants, computed tensors). Computed
// values live in slots, buffers shared by values whose lives do not
// overlap, so a run needs one buffer per slot and no allocation per step.
// A plan is backend-neutral: every device runs the same plan.
type plan struct {
	batch   int
	values  []planValue
	steps   []planStep
	input   int
	outputs []int
	slots   []int // elements of each slot
}

type planValue struct {
	shape tensor.Shape
	konst []float32 // weights and other constants; nil for computed values
	slot  int       // the slot holding a computed value, -1 for constants
	// fixed marks a weight in training: it has its own buffer for the
	// plan's whole life (steps may update it in place), never a slot.
	fixed bool
}

func (v planValue) len() int { return max(1, v.shape.TotalSize()) }

type planStep struct {
	k   kernel
	in  []int
	out int
}

// bytes is the device memory the plan's slots take.
func (p *plan) bytes() int64 {
	var s int64
	for _, n := range p.slots {
		s += 4 * int64(n)
	}
	return s
}

// largestSlot is the biggest single buffer the plan needs, in bytes.
func (p *plan) largestSlot() int64 {
	var m int64
	for _, n := range p.slots {
		m = max(m, 4*int64(n))
	}
	return m
}

// devicePlan builds the plan for one batch size from the Net's graph.
func (n *Net) devicePlan(batch int) (*plan, error) {
	_, prog, err := n.buildGraph(batch)
	if err != nil {
		return nil, err
	}
	pl, err := newPlan(prog, batch)
	if err != nil {
		return nil, fmt.Errorf("model %s: device plan for batch %d: %w", n.name, batch, err)
	}
	return pl, nil
}

func newPlan(prog *program, batch int) (*plan, error) {
	pl := &plan{batch: batch}
	ids := map[*G.Node]int{}
	alias := map[int]int{} // a reshaped value → the value whose storage it views
	add := func(v planValue) int {
		pl.values = append(pl.values, v)
		return len(pl.values) - 1
	}
	pl.input = add(planValue{shape: prog.in.Shape().Clone()})
	ids[prog.in] = pl.input
	lookup := func(nd *G.Node) (int, error) {
		if id, ok := ids[nd]; ok {
			return id, nil
		}
		c, err := constantData(nd)
		if err != nil {
			return 0, err
		}
		id := add(planValue{shape: nd.Shape().Clone(), konst: c, slot: -1})
		ids[nd] = id
		return id, nil
	}
	for _, s := range prog.steps {
		if _, done := ids[s.node]; done {
			continue // gorgonia merged an identical application
		}
		if u, ok := s.k.(unsupportedKernel); ok {
			return nil, fmt.Errorf("%v: %w", u.err, ErrUnsupported)
		}
		if got, want := s.k.outShape().TotalSize(), s.node.Shape().TotalSize(); got != want {
			return nil, fmt.Errorf("%s: output of %d values, graph node %v", s.k, got, s.node.Shape())
		}
		st := planStep{k: s.k, out: -1}
		for _, in := range s.in {
			id, err := lookup(in)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.k, err)
			}
			st.in = append(st.in, id)
		}
		v := planValue{shape: s.node.Shape().Clone()}
		if _, ok := s.k.(reshapeKernel); ok {
			src := pl.values[st.in[0]]
			v.konst = src.konst // a reshaped constant is that constant
			if src.konst == nil {
				st.out = add(v)
				alias[st.out] = root(alias, st.in[0])
				ids[s.node] = st.out
				continue // no work: a view
			}
		}
		st.out = add(v)
		ids[s.node] = st.out
		if v.konst == nil {
			pl.steps = append(pl.steps, st)
		}
	}
	for _, o := range prog.outputs {
		id, err := lookup(o)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		pl.outputs = append(pl.outputs, id)
	}
	pl.assignSlots(alias)
	return pl, nil
}

func root(alias map[int]int, v int) int {
	for {
		r, ok := alias[v]
		if !ok {
			return v
		}
		v = r
	}
}

// constantData reads a graph constant (a weight lifted into the graph).
func constantData(nd *G.Node) ([]float32, error) {
	t, ok := nd.Value().(tensor.Tensor)
	if !ok || t == nil {
		return nil, fmt.Errorf("node %s is neither computed by a recorded step nor a constant", nd.Name())
	}
	if d, ok := t.(*tensor.Dense); ok && (d.IsMaterializable() || !d.DataOrder().IsContiguous()) {
		t = d.Materialize()
	}
	data, ok := t.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("constant %s has element type %v, want float32", nd.Name(), t.Dtype())
	}
	return data, nil
}

// assignSlots gives each computed value a slot. Values are visited in step
// order; a slot is free again once the last step reading its value (or a
// view of it) has been passed, and graph outputs keep theirs to the end.
// A new value takes the smallest free slot that holds it, else grows the
// largest free one, else opens a new slot.
func (p *plan) assignSlots(alias map[int]int) {
	last := make([]int, len(p.values)) // by root value: index of its last reading step
	for i, s := range p.steps {
		for _, in := range s.in {
			last[root(alias, in)] = i
		}
	}
	for _, o := range p.outputs {
		last[root(alias, o)] = len(p.steps)
	}
	for i := range p.values {
		p.values[i].slot = -1
	}
	var free []int
	freed := make([]bool, len(p.values))
	take := func(v int) {
		need := p.values[v].len()
		best, largest := -1, -1
		for i, s := range free {
			if p.slots[s] >= need && (best < 0 || p.slots[s] < p.slots[free[best]]) {
				best = i
			}
			if largest < 0 || p.slots[s] > p.slots[free[largest]] {
				largest = i
			}
		}
		switch {
		case best >= 0:
		case largest >= 0:
			best = largest
			p.slots[free[best]] = need
		default:
			p.slots = append(p.slots, need)
			p.values[v].slot = len(p.slots) - 1
			return
		}
		p.values[v].slot = free[best]
		free = append(free[:best], free[best+1:]...)
	}
	take(p.input)
	live := []int{p.input}
	for i, s := range p.steps {
		kept := live[:0]
		for _, v := range live {
			if last[v] < i && !freed[v] {
				freed[v] = true
				free = append(free, p.values[v].slot)
			} else {
				kept = append(kept, v)
			}
		}
		live = kept
		if !p.values[s.out].fixed { // else updated in place
			take(s.out)
			live = append(live, s.out)
		}
	}
	for v := range p.values {
		if p.values[v].konst == nil && p.values[v].slot < 0 && !p.values[v].fixed {
			p.values[v].slot = p.values[root(alias, v)].slot // a view
		}
	}
}
