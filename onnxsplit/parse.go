package onnxsplit

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrFormat marks bytes that are not an ONNX model this package can read.
var ErrFormat = errors.New("onnxsplit: bad ONNX model")

// ONNX field numbers (onnx.proto3).
const (
	modelGraph = 7

	graphNode        = 1
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput     = 1
	nodeOutput    = 2
	nodeOpType    = 4
	nodeAttribute = 5

	attrName  = 1
	attrI     = 3
	attrS     = 4
	attrInts  = 8
	tensorDim = 1
	tensorNam = 8

	valueInfoName = 1
	valueInfoType = 2
	typeTensor    = 1
	tensorElem    = 1
	tensorShape   = 2
	shapeDim      = 1
	dimValue      = 1
)

// field is one protobuf field: its number, wire type, the whole encoded
// field (tag included, for copying) and its payload.
type field struct {
	num     protowire.Number
	typ     protowire.Type
	raw     []byte
	payload []byte // bytes fields
	varint  uint64 // varint fields
}

func fields(msg []byte) ([]field, error) {
	var out []field
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, fmt.Errorf("%w: %v", ErrFormat, protowire.ParseError(n))
		}
		f := field{num: num, typ: typ}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return nil, fmt.Errorf("%w: field %d: %v", ErrFormat, num, protowire.ParseError(m))
		}
		switch typ {
		case protowire.BytesType:
			f.payload, _ = protowire.ConsumeBytes(msg[n:])
		case protowire.VarintType:
			f.varint, _ = protowire.ConsumeVarint(msg[n:])
		}
		f.raw = msg[:n+m]
		out = append(out, f)
		msg = msg[n+m:]
	}
	return out, nil
}

// node is one graph node.
type node struct {
	Op      string
	Inputs  []string
	Outputs []string
	attrs   map[string]attr
	raw     []byte // the NodeProto's payload
}

type attr struct {
	i    int64
	ints []int64
	s    string
}

// Model is a parsed ONNX model.
type Model struct {
	header     [][]byte // the model's fields other than the graph, encoded
	graph      [][]byte // the graph's fields other than nodes, initializers, inputs, outputs and value infos
	graphNodes []node   // in topological order
	inits      map[string][]byte
	order      []string         // initializer names in file order
	dims       map[string][]int // initializer shapes
	Input      string           // the one graph input that is not an initializer
	InDims     []int            // its declared dimensions (0 where not a fixed size)
	Output     []string
	outVI      map[string][]byte // output value infos, encoded
}

// Parse reads an ONNX model.
func Parse(data []byte) (*Model, error) {
	top, err := fields(data)
	if err != nil {
		return nil, err
	}
	m := &Model{inits: map[string][]byte{}, dims: map[string][]int{}, outVI: map[string][]byte{}}
	var graph []byte
	for _, f := range top {
		if f.num == modelGraph && f.typ == protowire.BytesType {
			graph = f.payload
			continue
		}
		m.header = append(m.header, f.raw)
	}
	if graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrFormat)
	}
	gf, err := fields(graph)
	if err != nil {
		return nil, err
	}
	var inputs [][]byte
	for _, f := range gf {
		switch f.num {
		case graphNode:
			n, err := parseNode(f.payload)
			if err != nil {
				return nil, err
			}
			m.graphNodes = append(m.graphNodes, n)
		case graphInitializer:
			name, dims, err := parseTensorHeader(f.payload)
			if err != nil {
				return nil, err
			}
			m.inits[name], m.dims[name] = f.raw, dims
			m.order = append(m.order, name)
		case graphInput:
			inputs = append(inputs, f.payload)
		case graphOutput:
			name, _, err := parseValueInfo(f.payload)
			if err != nil {
				return nil, err
			}
			m.Output = append(m.Output, name)
			m.outVI[name] = f.raw
		case graphValueInfo:
			// Shapes of intermediate values: not needed, and a segment's
			// would be wrong for its tile size.
		default:
			m.graph = append(m.graph, f.raw)
		}
	}
	for _, vi := range inputs {
		name, dims, err := parseValueInfo(vi)
		if err != nil {
			return nil, err
		}
		if _, isInit := m.inits[name]; isInit {
			continue
		}
		if m.Input != "" {
			return nil, fmt.Errorf("%w: graph inputs %q and %q: want one", ErrFormat, m.Input, name)
		}
		m.Input, m.InDims = name, dims
	}
	if m.Input == "" || len(m.Output) == 0 {
		return nil, fmt.Errorf("%w: %d outputs, input %q", ErrFormat, len(m.Output), m.Input)
	}
	if err := m.sortNodes(); err != nil {
		return nil, err
	}
	return m, nil
}

func parseNode(msg []byte) (node, error) {
	fs, err := fields(msg)
	if err != nil {
		return node{}, err
	}
	n := node{attrs: map[string]attr{}, raw: msg}
	for _, f := range fs {
		switch f.num {
		case nodeInput:
			n.Inputs = append(n.Inputs, string(f.payload))
		case nodeOutput:
			n.Outputs = append(n.Outputs, string(f.payload))
		case nodeOpType:
			n.Op = string(f.payload)
		case nodeAttribute:
			name, a, err := parseAttr(f.payload)
			if err != nil {
				return node{}, err
			}
			n.attrs[name] = a
		}
	}
	return n, nil
}

func parseAttr(msg []byte) (string, attr, error) {
	fs, err := fields(msg)
	if err != nil {
		return "", attr{}, err
	}
	var name string
	var a attr
	for _, f := range fs {
		switch {
		case f.num == attrName:
			name = string(f.payload)
		case f.num == attrI && f.typ == protowire.VarintType:
			a.i = int64(f.varint)
		case f.num == attrS:
			a.s = string(f.payload)
		case f.num == attrInts:
			if a.ints, err = appendInts(a.ints, f); err != nil {
				return "", attr{}, fmt.Errorf("%w: attribute %q: %v", ErrFormat, name, err)
			}
		}
	}
	return name, a, nil
}

// parseTensorHeader reads a TensorProto's name and dimensions.
func parseTensorHeader(msg []byte) (string, []int, error) {
	fs, err := fields(msg)
	if err != nil {
		return "", nil, err
	}
	var name string
	var dims []int
	for _, f := range fs {
		switch {
		case f.num == tensorNam:
			name = string(f.payload)
		case f.num == tensorDim:
			if dims, err = appendInts(dims, f); err != nil {
				return "", nil, fmt.Errorf("%w: tensor %q dims: %v", ErrFormat, name, err)
			}
		}
	}
	return name, dims, nil
}

// appendInts appends the values of one field of a repeated integer (int64
// in the file), written either as one varint or packed into bytes. Fields
// of other wire types are skipped.
func appendInts[T int | int64](dst []T, f field) ([]T, error) {
	switch f.typ {
	case protowire.VarintType:
		dst = append(dst, T(int64(f.varint)))
	case protowire.BytesType:
		for p := f.payload; len(p) > 0; {
			v, n := protowire.ConsumeVarint(p)
			if n < 0 {
				return dst, protowire.ParseError(n)
			}
			dst = append(dst, T(int64(v)))
			p = p[n:]
		}
	}
	return dst, nil
}

// parseValueInfo reads a ValueInfoProto's name and tensor dimensions (0
// for a dimension without a fixed size).
func parseValueInfo(msg []byte) (string, []int, error) {
	fs, err := fields(msg)
	if err != nil {
		return "", nil, err
	}
	var name string
	var dims []int
	for _, f := range fs {
		switch f.num {
		case valueInfoName:
			name = string(f.payload)
		case valueInfoType:
			if dims, err = tensorDims(f.payload); err != nil {
				return "", nil, fmt.Errorf("value %q: %w", name, err)
			}
		}
	}
	return name, dims, nil
}

func tensorDims(typ []byte) ([]int, error) {
	var dims []int
	err := walk(typ, []protowire.Number{typeTensor, tensorShape}, func(shape []byte) error {
		fs, err := fields(shape)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.num != shapeDim {
				continue
			}
			d := 0
			df, err := fields(f.payload)
			if err != nil {
				return err
			}
			for _, g := range df {
				if g.num == dimValue && g.typ == protowire.VarintType && int64(g.varint) > 0 {
					d = int(int64(g.varint))
				}
			}
			dims = append(dims, d)
		}
		return nil
	})
	return dims, err
}

// walk calls fn with the payload of each message at path below msg.
func walk(msg []byte, path []protowire.Number, fn func([]byte) error) error {
	if len(path) == 0 {
		return fn(msg)
	}
	fs, err := fields(msg)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.num == path[0] && f.typ == protowire.BytesType {
			if err := walk(f.payload, path[1:], fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortNodes orders the nodes so that each comes after the producers of its
// inputs (ONNX requires it; a file may still break the rule), keeping the
// file's order among independent nodes.
func (m *Model) sortNodes() error {
	known := map[string]bool{m.Input: true, "": true}
	for name := range m.inits {
		known[name] = true
	}
	done := make([]bool, len(m.graphNodes))
	sorted := make([]node, 0, len(m.graphNodes))
	for len(sorted) < len(m.graphNodes) {
		progress := false
		for i, n := range m.graphNodes {
			if done[i] {
				continue
			}
			ready := true
			for _, in := range n.Inputs {
				ready = ready && known[in]
			}
			if !ready {
				continue
			}
			done[i], progress = true, true
			sorted = append(sorted, n)
			for _, out := range n.Outputs {
				known[out] = true
			}
		}
		if !progress {
			return fmt.Errorf("%w: a node needs a value no node computes (or the graph has a cycle)", ErrFormat)
		}
	}
	m.graphNodes = sorted
	return nil
}
