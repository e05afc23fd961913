package onnxsplit

import (
	"errors"
	"fmt"
)

// Axis is a segment's receptive-field geometry along one spatial axis:
// output position o depends on input positions S·o − Lo … S·o + Hi.
type Axis struct{ S, Lo, Hi int }

// Segment is the computation from one cut tensor to the next.
type Segment struct {
	Input, Output string
	// Local: every node is a convolution or an element-wise operation with
	// per-channel constants, so Geom, the channel counts and the sizes are
	// known. The fields below are zero for a segment that is not local.
	Local     bool
	InC, OutC int
	In, Out   [2]int  // spatial size (height, width) at the model's declared input size
	Geom      [2]Axis // along the height and along the width
	nodes     []int   // indexes into Model.graphNodes
}

// ErrShape marks a model whose input is not N×C×H×W with fixed C, H, W.
var ErrShape = errors.New("onnxsplit: input must be N×C×H×W with fixed C, H and W")

// Segments cuts the model at every cut tensor (see the package comment),
// from its input to its outputs. The last segment ends at the model's
// outputs.
func (m *Model) Segments() ([]Segment, error) {
	if len(m.InDims) != 4 || m.InDims[1] <= 0 || m.InDims[2] <= 0 || m.InDims[3] <= 0 {
		return nil, fmt.Errorf("%w: input %q has dimensions %v", ErrShape, m.Input, m.InDims)
	}
	constant := m.constants()
	remaining := map[string]int{}
	for _, n := range m.graphNodes {
		for _, in := range n.Inputs {
			if !constant[in] {
				remaining[in]++
			}
		}
	}
	for _, out := range m.Output {
		remaining[out]++
	}
	live := map[string]bool{m.Input: true}
	var segs []Segment
	cur := Segment{Input: m.Input}
	for i, n := range m.graphNodes {
		if n.Op == "Constant" {
			continue // included wherever a consumer goes
		}
		cur.nodes = append(cur.nodes, i)
		for _, in := range n.Inputs {
			if constant[in] || in == "" {
				continue
			}
			if remaining[in]--; remaining[in] == 0 {
				delete(live, in)
			}
		}
		for _, out := range n.Outputs {
			if remaining[out] > 0 {
				live[out] = true
			}
		}
		if len(live) == 1 && i < len(m.graphNodes)-1 {
			for out := range live {
				if contains(n.Outputs, out) {
					cur.Output = out
					segs = append(segs, cur)
					cur = Segment{Input: out}
				}
			}
		}
	}
	if len(cur.nodes) > 0 {
		segs = append(segs, cur) // up to the outputs
	}
	c, h, w := m.InDims[1], m.InDims[2], m.InDims[3]
	for k := range segs {
		s := &segs[k]
		if !m.geometry(s, c, h, w, constant) {
			break // the local prefix ends here
		}
		c, h, w = s.OutC, s.Out[0], s.Out[1]
	}
	return m.mergePointwise(segs, constant), nil
}

// mergePointwise joins each local segment whose outputs depend on their
// own position only (an activation, a 1×1 convolution) to the local
// segment before it: a tile needs no more input for it, and the engine
// fuses a convolution with its activation only when both are in one model.
func (m *Model) mergePointwise(segs []Segment, constant map[string]bool) []Segment {
	var out []Segment
	for _, s := range segs {
		if n := len(out); n > 0 && out[n-1].Local && s.Local && s.Geom == [2]Axis{{S: 1}, {S: 1}} {
			prev := &out[n-1]
			prev.nodes = append(prev.nodes, s.nodes...)
			prev.Output = s.Output
			if !m.geometry(prev, prev.InC, prev.In[0], prev.In[1], constant) {
				panic("onnxsplit: joining a pointwise segment broke the geometry") // cannot happen
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// constants are the initializers and the outputs of Constant nodes.
func (m *Model) constants() map[string]bool {
	c := map[string]bool{}
	for name := range m.inits {
		c[name] = true
	}
	for _, n := range m.graphNodes {
		if n.Op == "Constant" {
			for _, out := range n.Outputs {
				c[out] = true
			}
		}
	}
	return c
}

// shape is what geometry tracks for each value of a segment.
type shape struct {
	c    int
	size [2]int
	geom [2]Axis
}

// geometry fills in s's geometry, channels and sizes for an input of c
// channels and h×w, and reports whether the segment is local.
func (m *Model) geometry(s *Segment, c, h, w int, constant map[string]bool) bool {
	vals := map[string]shape{s.Input: {c: c, size: [2]int{h, w}, geom: [2]Axis{{S: 1}, {S: 1}}}}
	for _, i := range s.nodes {
		n := m.graphNodes[i]
		out, ok := m.nodeShape(n, vals, constant)
		if !ok || len(n.Outputs) == 0 {
			return false
		}
		vals[n.Outputs[0]] = out
	}
	out, ok := vals[s.Output]
	if !ok {
		return false
	}
	s.Local, s.InC, s.OutC = true, c, out.c
	s.In, s.Out, s.Geom = [2]int{h, w}, out.size, out.geom
	return true
}

// nodeShape is the shape of n's first output, if n is a local operation.
func (m *Model) nodeShape(n node, vals map[string]shape, constant map[string]bool) (shape, bool) {
	if len(n.Inputs) == 0 {
		return shape{}, false
	}
	x, ok := vals[n.Inputs[0]]
	if !ok {
		return shape{}, false
	}
	switch n.Op {
	case "Relu", "Identity", "Dropout":
		return x, true
	case "Conv":
		return m.convShape(n, x, constant)
	case "BatchNormalization":
		for _, in := range n.Inputs[1:] {
			if !constant[in] {
				return shape{}, false
			}
		}
		return x, true
	case "PRelu", "Add", "Sub", "Mul", "Div":
		if len(n.Inputs) != 2 {
			return shape{}, false
		}
		other := n.Inputs[1]
		if y, ok := vals[other]; ok {
			return merge(x, y)
		}
		if m.perChannel(other) {
			return x, true
		}
	}
	return shape{}, false
}

// perChannel: a constant that broadcasts over height and width, so that
// an element-wise operation with it does not depend on the position.
func (m *Model) perChannel(name string) bool {
	dims, ok := m.dims[name]
	if !ok {
		return false // a Constant node's value: unknown shape
	}
	if len(dims) > 4 {
		return false
	}
	for len(dims) < 4 {
		dims = append([]int{1}, dims...)
	}
	return dims[2] == 1 && dims[3] == 1
}

// merge is the shape of an element-wise operation of two values of the
// segment: their receptive fields joined.
func merge(x, y shape) (shape, bool) {
	if x.size != y.size || x.c != y.c {
		return shape{}, false
	}
	for a := range 2 {
		if x.geom[a].S != y.geom[a].S {
			return shape{}, false
		}
		x.geom[a].Lo = max(x.geom[a].Lo, y.geom[a].Lo)
		x.geom[a].Hi = max(x.geom[a].Hi, y.geom[a].Hi)
	}
	return x, true
}

func (m *Model) convShape(n node, x shape, constant map[string]bool) (shape, bool) {
	if len(n.Inputs) < 2 {
		return shape{}, false
	}
	wd, ok := m.dims[n.Inputs[1]]
	if !ok || len(wd) != 4 {
		return shape{}, false
	}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" && !constant[n.Inputs[2]] {
		return shape{}, false // the bias is one value per output channel
	}
	group := int(n.attrs["group"].i)
	if group == 0 {
		group = 1
	}
	if wd[1]*group != x.c {
		return shape{}, false
	}
	k := [2]int{wd[2], wd[3]}
	stride, pads := [2]int{1, 1}, [4]int{}
	if a, ok := n.attrs["strides"]; ok {
		if len(a.ints) != 2 {
			return shape{}, false
		}
		stride = [2]int{int(a.ints[0]), int(a.ints[1])}
	}
	if a, ok := n.attrs["pads"]; ok {
		if len(a.ints) != 4 {
			return shape{}, false
		}
		pads = [4]int{int(a.ints[0]), int(a.ints[1]), int(a.ints[2]), int(a.ints[3])}
	}
	if a, ok := n.attrs["dilations"]; ok {
		for _, d := range a.ints {
			if d != 1 {
				return shape{}, false
			}
		}
	}
	switch n.attrs["auto_pad"].s {
	case "", "NOTSET":
	case "VALID":
		pads = [4]int{}
	default:
		return shape{}, false
	}
	out := shape{c: wd[0]}
	for a := range 2 {
		s, pb, pe := stride[a], pads[a], pads[a+2]
		if s < 1 || pb < 0 || pe < 0 || k[a] < 1 {
			return shape{}, false
		}
		out.size[a] = (x.size[a]+pb+pe-k[a])/s + 1
		if out.size[a] < 1 {
			return shape{}, false
		}
		g := x.geom[a]
		out.geom[a] = Axis{S: g.S * s, Lo: g.Lo + g.S*pb, Hi: g.Hi + g.S*(k[a]-1-pb)}
	}
	return out, true
}

// OutSize is the spatial size (height, width) segments [from, to) make of
// an input of h×w, as the engine computes it (each convolution's
// ⌊(n + pads − k)/s⌋ + 1); ok is false when the input is too small.
func (m *Model) OutSize(segs []Segment, from, to, h, w int) (oh, ow int, ok bool) {
	constant := m.constants()
	size := [2]int{h, w}
	for k := from; k < to; k++ {
		s := segs[k]
		if !s.Local {
			return 0, 0, false
		}
		t := s // a copy, measured at this size
		if !m.geometry(&t, s.InC, size[0], size[1], constant) {
			return 0, 0, false
		}
		size = t.Out
	}
	return size[0], size[1], true
}
