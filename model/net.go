package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	onnx "github.com/owulveryck/onnx-go"
)

// ErrUnsupported marks a model that uses an operator, attribute or data type
// the engine does not implement.
var ErrUnsupported = errors.New("unsupported")

// ErrShape marks an input whose shape the model cannot take.
var ErrShape = errors.New("wrong input shape")

// Net is a decoded ONNX model, ready to run on batches of any size. A plan
// is built the first time each batch size it runs is seen (shapes are
// static in gorgonia, whose graph the plan is made from) and kept for
// reuse; a separable model runs every batch through its batch-of-one plan.
// Net is safe for concurrent use.
type Net struct {
	name    string // file name, used in every error
	hash    string // sha256 of the model bytes
	raw     []byte // the model bytes, for Export of trained weights
	g       *irGraph
	order   []*irNode // topological order of everything the outputs need
	input   *irNode
	outputs []*irNode
	ops     opTable
	// fused maps a Conv node to the ReLU/PRelu that alone consumes it;
	// inference graphs compute both in one kernel.
	fused map[int64]*irNode

	mu       sync.Mutex
	programs map[int]*hostPlan
	// separable: a batch can run image by image (see findSeparable).
	separable bool
	split     splitChoice // batches of one: on every core or on one
	pool      bufferPool  // slot buffers shared by the runs of every batch size
}

// Load reads and decodes an ONNX model file.
func Load(path string) (*Net, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return Decode(filepath.Base(path), data)
}

// Decode decodes ONNX bytes; name identifies the model in errors. Every
// operator is checked and a graph for the model's declared batch size is
// built, so an unsupported operator or an inconsistent shape is reported
// here rather than at the first Run.
func Decode(name string, data []byte) (net *Net, err error) {
	sum := sha256.Sum256(data)
	net = &Net{name: name, hash: hex.EncodeToString(sum[:]), raw: data, g: newIRGraph(), ops: defaultOps(), programs: map[int]*hostPlan{}}
	pinned, inputDims, err := pinDims(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: decode ONNX: %w", name, err)
	}
	m := onnx.NewModel(net.g)
	if err := decodeSafely(m, pinned); err != nil {
		return nil, fmt.Errorf("model %s: decode ONNX: %w", name, err)
	}
	if len(m.Input) != 1 {
		return nil, fmt.Errorf("model %s: %d graph inputs, want exactly one: %w", name, len(m.Input), ErrUnsupported)
	}
	net.input = net.g.Node(m.Input[0]).(*irNode)
	if err := checkInputDims(inputDims[net.input.name]); err != nil {
		return nil, fmt.Errorf("model %s: input %q: %w", name, net.input.name, err)
	}
	for _, id := range m.Output {
		net.outputs = append(net.outputs, net.g.Node(id).(*irNode))
	}
	if err := net.sort(); err != nil {
		return nil, err
	}
	if !net.reaches(net.input) {
		return nil, fmt.Errorf("model %s: no output depends on the input %q: %w", name, net.input.name, ErrUnsupported)
	}
	for _, n := range net.order {
		if n.op == nil {
			flushDenormals(n.value)
			continue
		}
		if _, ok := net.ops[n.op.Name]; !ok {
			return nil, net.nodeError(n, fmt.Errorf("operator %s: %w", n.op.Name, ErrUnsupported))
		}
	}
	net.planFusion()
	if _, err := net.program(net.declaredBatch()); err != nil {
		return nil, err
	}
	if err := net.findSeparable(); err != nil {
		return nil, err
	}
	return net, nil
}

// decodeSafely turns a panic inside onnx-go's decoder (it indexes corrupt
// protobuf contents unchecked) into an error: a bad file is data, not a bug.
func decodeSafely(m *onnx.Model, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt model: %v", r)
		}
	}()
	return m.UnmarshalBinary(data)
}

// Name is the model's file name; Hash the sha256 of its bytes, for caches.
func (n *Net) Name() string { return n.name }
func (n *Net) Hash() string { return n.hash }

// InputShape is the input shape the model declares (its batch dimension is
// usually 1, and a symbolic one such as "N" reads as 1; Run accepts any
// batch size).
func (n *Net) InputShape() []int {
	if n.input.value == nil {
		return nil
	}
	return append([]int(nil), n.input.value.Shape()...)
}

func (n *Net) declaredBatch() int {
	if s := n.InputShape(); len(s) > 0 && s[0] > 0 {
		return s[0]
	}
	return 1
}

func (n *Net) nodeError(node *irNode, err error) error {
	op := "input"
	if node.op != nil {
		op = node.op.Name
	}
	return fmt.Errorf("model %s: node %q (%s): %w", n.name, node.name, op, err)
}

// sort orders the nodes the outputs depend on, inputs first, and rejects
// cycles and dangling references.
func (n *Net) sort() error {
	const (
		unseen = iota
		active
		done
	)
	state := map[int64]int{}
	var visit func(*irNode) error
	visit = func(node *irNode) error {
		switch state[node.id] {
		case active:
			return n.nodeError(node, errors.New("graph has a cycle"))
		case done:
			return nil
		}
		state[node.id] = active
		if node.op != nil {
			for _, in := range n.g.inputs(node) {
				if in == nil {
					return n.nodeError(node, errors.New("missing input"))
				}
				if err := visit(in); err != nil {
					return err
				}
			}
		} else if node.value == nil {
			return n.nodeError(node, errors.New("value is neither computed, nor an initializer, nor the graph input"))
		}
		state[node.id] = done
		n.order = append(n.order, node)
		return nil
	}
	for _, out := range n.outputs {
		if err := visit(out); err != nil {
			return err
		}
	}
	return nil
}

func (n *Net) reaches(node *irNode) bool {
	for _, m := range n.order {
		if m == node {
			return true
		}
	}
	return false
}

// flushDenormals zeroes subnormal weights. The default recogniser carries
// many (~1e-32, left from batch-norm folding); they change no result but make
// every multiply that touches them several times slower.
func flushDenormals(t interface{ Data() interface{} }) {
	if t == nil {
		return
	}
	if d, ok := t.Data().([]float32); ok {
		for i, v := range d {
			if v != 0 && math.Abs(float64(v)) < 0x1p-126 {
				d[i] = 0
			}
		}
	}
}

// Run evaluates the model on one batch (NCHW) and returns its outputs in the
// model's order. Different batch sizes may be mixed freely. An image's
// outputs are the same bits whatever the core count and, for a model that
// computes each image on its own (all three embedded ones), whatever batch
// it is in. Run stops between layers once ctx is done.
func (n *Net) Run(ctx context.Context, in Tensor) ([]Tensor, error) {
	if err := n.checkInput(ctx, in); err != nil {
		return nil, err
	}
	var outs []Tensor
	var err error
	if in.Shape[0] > 1 && n.separable {
		outs, err = n.runStreams(ctx, in)
	} else {
		outs, err = n.runTeam(ctx, in, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", n.name, err)
	}
	return outs, nil
}

// checkInput rejects a cancelled context and an input the model cannot
// take, before any work.
func (n *Net) checkInput(ctx context.Context, in Tensor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return fmt.Errorf("model %s: %w", n.name, err)
	}
	want := n.InputShape()
	if len(in.Shape) != len(want) || len(want) == 0 || in.Shape[0] < 1 {
		return fmt.Errorf("model %s: input shape %v, want N×%v: %w", n.name, in.Shape, want[1:], ErrShape)
	}
	for i := 1; i < len(want); i++ {
		if want[i] > 0 && in.Shape[i] != want[i] {
			return fmt.Errorf("model %s: input shape %v, want N×%v: %w", n.name, in.Shape, want[1:], ErrShape)
		}
	}
	return nil
}

func (n *Net) program(batch int) (*hostPlan, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p, ok := n.programs[batch]; ok {
		return p, nil
	}
	p, err := n.build(batch)
	if err != nil {
		return nil, err
	}
	n.programs[batch] = p
	return p, nil
}

// FLOPs is the floating-point operation count (2 per multiply-add) of one
// input image through the model's convolutions and matrix products, the
// figure that GFLOP/s benchmarks divide by.
func (n *Net) FLOPs() float64 {
	p, err := n.program(1)
	if err != nil {
		return 0
	}
	var total float64
	for _, op := range p.kernels {
		switch k := op.(type) {
		case convKernel:
			g := k.g
			total += 2 * float64(g.m*g.oh*g.ow) * float64(g.cg()*g.kh*g.kw)
		case matmulKernel:
			total += 2 * float64(k.m*k.n*k.k)
		}
	}
	return total
}

// planFusion finds each Conv whose only consumer is a ReLU, or a PRelu with
// one constant slope per output channel.
func (n *Net) planFusion() {
	n.fused = map[int64]*irNode{}
	consumers := map[int64]int{}
	for _, o := range n.outputs {
		consumers[o.id]++
	}
	for _, node := range n.order {
		for _, in := range n.g.inputs(node) {
			consumers[in.id]++
		}
	}
	for _, node := range n.order {
		if node.op == nil || (node.op.Name != "Relu" && node.op.Name != "PRelu") {
			continue
		}
		ins := n.g.inputs(node)
		conv := ins[0]
		if conv.op == nil || conv.op.Name != "Conv" || consumers[conv.id] != 1 {
			continue
		}
		if node.op.Name == "PRelu" {
			slope, weight := ins[1], n.g.inputs(conv)[1]
			if slope.op != nil || slope.value == nil || weight.value == nil ||
				slope.value.Shape().TotalSize() != weight.value.Shape()[0] {
				continue
			}
		}
		n.fused[conv.id] = node
	}
}
