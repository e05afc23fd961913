package model

import (
	"fmt"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// irNode is one value of the decoded ONNX graph: a model input, an
// initializer (weight) or the output of an operation.
type irNode struct {
	id    int64
	name  string
	value tensor.Tensor   // set for initializers and model inputs (shape only)
	op    *onnx.Operation // set for operation outputs
	ins   []*irNode       // operation inputs in ONNX order
}

func (n *irNode) ID() int64                       { return n.id }
func (n *irNode) SetName(s string)                { n.name = s }
func (n *irNode) GetName() string                 { return n.name }
func (n *irNode) SetTensor(t tensor.Tensor) error { n.value = t; return nil }
func (n *irNode) GetTensor() tensor.Tensor        { return n.value }

// irGraph is our onnx-go backend. It only records what the decoder tells it
// (nodes, ordered input edges, operations); the gorgonia graph is built from
// it later, once per batch size, by compile. Keeping the decoded form lets us
// fold shape arithmetic and check every operator before building anything.
type irGraph struct {
	*simple.WeightedDirectedGraph
}

func newIRGraph() *irGraph {
	return &irGraph{simple.NewWeightedDirectedGraph(-1, -1)}
}

func (g *irGraph) NewNode() graph.Node {
	return &irNode{id: g.WeightedDirectedGraph.NewNode().ID()}
}

// ApplyOperation records op on its output nodes. The models we target have
// single-output operators only; a multi-output one is reported by name.
func (g *irGraph) ApplyOperation(op onnx.Operation, outputs ...graph.Node) error {
	if len(outputs) != 1 {
		return fmt.Errorf("operator %s: %d outputs, only single-output operators are supported", op.Name, len(outputs))
	}
	n, ok := outputs[0].(*irNode)
	if !ok {
		return fmt.Errorf("operator %s: foreign node type %T", op.Name, outputs[0])
	}
	o := op
	n.op = &o
	return nil
}

// SetWeightedEdge records an operation input. The decoder encodes the input
// position as the edge weight; we keep our own ordered list because a graph
// holds one edge per node pair, and an operator may take the same value
// twice (Mul(x, x)).
func (g *irGraph) SetWeightedEdge(e graph.WeightedEdge) {
	from, okFrom := e.From().(*irNode)
	to, okTo := e.To().(*irNode)
	if !okFrom || !okTo || from == to {
		return // a self-reference; sort reports the node's missing input
	}
	i := int(e.Weight())
	if i < 0 || i > 1<<16 {
		return
	}
	for len(from.ins) <= i {
		from.ins = append(from.ins, nil)
	}
	from.ins[i] = to
	g.WeightedDirectedGraph.SetWeightedEdge(e)
}

// inputs returns the ordered inputs of an operation node.
func (g *irGraph) inputs(n *irNode) []*irNode {
	if n.op != nil && n.op.Name == "Constant" {
		return nil // onnx-go gives input-less operators a placeholder input
	}
	return n.ins
}
