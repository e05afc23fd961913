package onnxsplit

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Small ONNX models for tests.

type graphBuilder struct {
	nodes, inits [][]byte
	seed         float64
}

func tag(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// weight adds an initializer of the given shape with pseudo-random values.
func (g *graphBuilder) weight(name string, dims ...int) string {
	var t []byte
	n := 1
	for _, d := range dims {
		t = tag(t, tensorDim, uint64(d))
		n *= d
	}
	raw := make([]byte, 0, 4*n)
	for i := 0; i < n; i++ {
		g.seed++
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(math.Sin(g.seed*1.7))))
	}
	t = tag(t, 2, 1)
	t = appendMessage(t, tensorNam, []byte(name))
	t = appendMessage(t, 9, raw)
	g.inits = append(g.inits, t)
	return name
}

// attrSpec is an INTS attribute, or an INT one when one is set.
type attrSpec struct {
	name string
	ints []int
	one  *int
}

func (g *graphBuilder) node(op string, in []string, out string, attrs ...attrSpec) string {
	var n []byte
	for _, s := range in {
		n = appendMessage(n, nodeInput, []byte(s))
	}
	n = appendMessage(n, nodeOutput, []byte(out))
	n = appendMessage(n, 3, []byte(out+"_node"))
	n = appendMessage(n, nodeOpType, []byte(op))
	for _, a := range attrs {
		m := appendMessage(nil, attrName, []byte(a.name))
		if a.one != nil {
			m = tag(tag(m, attrI, uint64(int64(*a.one))), 20, 2)
			n = appendMessage(n, nodeAttribute, m)
			continue
		}
		for _, v := range a.ints {
			m = tag(m, attrInts, uint64(int64(v)))
		}
		m = tag(m, 20, 7)
		n = appendMessage(n, nodeAttribute, m)
	}
	g.nodes = append(g.nodes, n)
	return out
}

// conv adds a k×k convolution with bias, stride s, padding p, group grp.
func (g *graphBuilder) conv(x, out string, cin, cout, k, s, p, grp int) string {
	w := g.weight(out+"_w", cout, cin/grp, k, k)
	b := g.weight(out+"_b", cout)
	return g.node("Conv", []string{x, w, b}, out,
		attrSpec{name: "kernel_shape", ints: []int{k, k}}, attrSpec{name: "strides", ints: []int{s, s}},
		attrSpec{name: "pads", ints: []int{p, p, p, p}}, attrSpec{name: "group", one: &grp})
}

func (g *graphBuilder) model(input string, dims []int, outputs ...string) []byte {
	var gr []byte
	for _, n := range g.nodes {
		gr = appendMessage(gr, graphNode, n)
	}
	gr = appendMessage(gr, 2, []byte("test"))
	for _, t := range g.inits {
		gr = appendMessage(gr, graphInitializer, t)
	}
	gr = appendMessage(gr, graphInput, valueInfo(input, dims...))
	for _, o := range outputs {
		gr = appendMessage(gr, graphOutput, valueInfo(o))
	}
	m := tag(nil, 1, 3)
	m = appendMessage(m, modelGraph, gr)
	return appendMessage(m, 8, tag(nil, 2, 9))
}
