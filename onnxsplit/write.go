package onnxsplit

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// SubModel writes segments [from, to) as an ONNX model of their own: its
// input is segs[from].Input, declared 1×C×h×w (any batch size runs), and
// its output segs[to−1].Output, or the model's own outputs when to is
// len(segs). graphNodes and weights are copied byte for byte, with the Constant
// nodes they use.
func (m *Model) SubModel(segs []Segment, from, to, h, w int) ([]byte, error) {
	if from < 0 || to > len(segs) || from >= to {
		return nil, fmt.Errorf("onnxsplit: segments [%d, %d) of %d", from, to, len(segs))
	}
	in := segs[from].Input
	c := m.InDims[1]
	if from > 0 {
		if !segs[from-1].Local {
			return nil, fmt.Errorf("onnxsplit: the channels of %q are unknown (segment %d is not local)", in, from-1)
		}
		c = segs[from-1].OutC
	}
	included := map[int]bool{}
	for k := from; k < to; k++ {
		for _, i := range segs[k].nodes {
			included[i] = true
		}
	}
	m.addConstantNodes(included)

	var g []byte
	weights := map[string]bool{}
	for i, n := range m.graphNodes { // file order is topological order
		if !included[i] {
			continue
		}
		g = protowire.AppendTag(g, graphNode, protowire.BytesType)
		g = protowire.AppendBytes(g, n.raw)
		for _, name := range n.Inputs {
			if _, ok := m.inits[name]; ok {
				weights[name] = true
			}
		}
	}
	for _, f := range m.graph {
		g = append(g, f...)
	}
	for _, name := range m.order {
		if weights[name] {
			g = append(g, m.inits[name]...)
		}
	}
	g = appendMessage(g, graphInput, valueInfo(in, 1, c, h, w))
	if to == len(segs) {
		for _, out := range m.Output {
			g = append(g, m.outVI[out]...)
		}
	} else {
		g = appendMessage(g, graphOutput, valueInfo(segs[to-1].Output))
	}
	var out []byte
	for _, f := range m.header {
		out = append(out, f...)
	}
	return appendMessage(out, modelGraph, g), nil
}

// addConstantNodes adds to included the Constant nodes whose values the
// included nodes read.
func (m *Model) addConstantNodes(included map[int]bool) {
	producer := map[string]int{}
	for i, n := range m.graphNodes {
		if n.Op == "Constant" {
			for _, out := range n.Outputs {
				producer[out] = i
			}
		}
	}
	for i := range m.graphNodes {
		if !included[i] {
			continue
		}
		for _, in := range m.graphNodes[i].Inputs {
			if p, ok := producer[in]; ok {
				included[p] = true
			}
		}
	}
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// valueInfo is a float tensor's ValueInfoProto with the given dimensions
// (none: shape not declared).
func valueInfo(name string, dims ...int) []byte {
	var shape []byte
	for _, d := range dims {
		shape = appendMessage(shape, shapeDim, protowire.AppendVarint(protowire.AppendTag(nil, dimValue, protowire.VarintType), uint64(d)))
	}
	tensor := protowire.AppendVarint(protowire.AppendTag(nil, tensorElem, protowire.VarintType), 1) // FLOAT
	if dims != nil {
		tensor = appendMessage(tensor, tensorShape, shape)
	}
	vi := appendMessage(nil, valueInfoName, []byte(name))
	return appendMessage(vi, valueInfoType, appendMessage(nil, typeTensor, tensor))
}
