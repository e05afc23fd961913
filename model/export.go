package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt marks bytes that are not a well-formed protobuf message.
var ErrCorrupt = errors.New("corrupt protobuf")

// pb is a protobuf wire-format writer: enough of the encoding to write ONNX
// messages (varints, length-delimited fields, fixed32 floats).
type pb []byte

func (p pb) varint(field int, v uint64) pb {
	p = binary.AppendUvarint(p, uint64(field<<3))
	return binary.AppendUvarint(p, v)
}

func (p pb) bytes(field int, b []byte) pb {
	p = binary.AppendUvarint(p, uint64(field<<3|2))
	p = binary.AppendUvarint(p, uint64(len(b)))
	return append(p, b...)
}

func (p pb) str(field int, s string) pb { return p.bytes(field, []byte(s)) }

func (p pb) float32(field int, v float32) pb {
	p = binary.AppendUvarint(p, uint64(field<<3|5))
	return binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
}

// pbField is one field of a protobuf message as it lies on the wire.
type pbField struct {
	num, wire int
	raw       []byte // the whole field, tag included
	payload   []byte // the contents of a length-delimited field
	value     uint64 // the value of a varint field
}

// pbFields splits a message into its fields, in order.
func pbFields(msg []byte) ([]pbField, error) {
	var out []pbField
	for pos := 0; pos < len(msg); {
		start := pos
		tag, n := binary.Uvarint(msg[pos:])
		if n <= 0 {
			return nil, fmt.Errorf("bad tag at byte %d: %w", pos, ErrCorrupt)
		}
		pos += n
		f := pbField{num: int(tag >> 3), wire: int(tag & 7)}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(msg[pos:])
			f.value = v
			if n <= 0 {
				return nil, fmt.Errorf("bad varint at byte %d: %w", pos, ErrCorrupt)
			}
			pos += n
		case 1:
			pos += 8
		case 5:
			pos += 4
		case 2:
			l, n := binary.Uvarint(msg[pos:])
			if n <= 0 || l > uint64(len(msg)-pos-n) {
				return nil, fmt.Errorf("bad length at byte %d: %w", pos, ErrCorrupt)
			}
			pos += n
			f.payload = msg[pos : pos+int(l)]
			pos += int(l)
		default:
			return nil, fmt.Errorf("wire type %d at byte %d: %w", f.wire, start, ErrCorrupt)
		}
		if pos > len(msg) {
			return nil, fmt.Errorf("truncated field %d: %w", f.num, ErrCorrupt)
		}
		f.raw = msg[start:pos]
		out = append(out, f)
	}
	return out, nil
}

// stringField reads string field num of a message ("" if absent; the last
// one if repeated, as protobuf reads it).
func stringField(msg []byte, num int) (string, error) {
	fields, err := pbFields(msg)
	if err != nil {
		return "", err
	}
	s := ""
	for _, f := range fields {
		if f.num == num && f.wire == 2 {
			s = string(f.payload)
		}
	}
	return s, nil
}

// tensorProto encodes a float TensorProto with raw little-endian data.
func tensorProto(name string, shape []int, data []float32) []byte {
	var p pb
	for _, d := range shape {
		p = p.varint(1, uint64(d))
	}
	p = p.varint(2, 1) // FLOAT
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return p.str(8, name).bytes(9, raw)
}

// ONNX field numbers used by export.
const (
	modelGraph       = 7 // ModelProto.graph
	graphInitializer = 5 // GraphProto.initializer
	tensorName       = 8 // TensorProto.name
)

// rewriteInitializers returns the ONNX model with every initializer named
// in weights replaced by a float tensor of that value; everything else
// (operators, attributes, metadata, other initializers) is copied byte for
// byte. Every name in weights must be found.
func rewriteInitializers(model []byte, weights map[string]Tensor) ([]byte, error) {
	fields, err := pbFields(model)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	seen := map[string]bool{}
	out := make([]byte, 0, len(model))
	for _, f := range fields {
		if f.num != modelGraph || f.wire != 2 {
			out = append(out, f.raw...)
			continue
		}
		gfields, err := pbFields(f.payload)
		if err != nil {
			return nil, fmt.Errorf("graph: %w", err)
		}
		var g pb
		for _, gf := range gfields {
			if gf.num != graphInitializer || gf.wire != 2 {
				g = append(g, gf.raw...)
				continue
			}
			name, err := stringField(gf.payload, tensorName)
			if err != nil {
				return nil, fmt.Errorf("initializer: %w", err)
			}
			w, ok := weights[name]
			if !ok {
				g = append(g, gf.raw...)
				continue
			}
			if err := w.check(); err != nil {
				return nil, fmt.Errorf("weight %s: %w", name, err)
			}
			seen[name] = true
			g = g.bytes(graphInitializer, tensorProto(name, w.Shape, w.Data))
		}
		out = pb(out).bytes(modelGraph, g)
	}
	for name := range weights {
		if !seen[name] {
			return nil, fmt.Errorf("weight %s: no such initializer in the model", name)
		}
	}
	return out, nil
}

// Export returns the model as ONNX bytes with the trainable's current
// weights (and BatchNorm running statistics) in place of the original
// initializers: the same graph, loadable by Decode and any ONNX runtime.
func (t *Trainable) Export() ([]byte, error) {
	return t.net.exportParams(t.params)
}

// exportParams is the Net's ONNX with params in place of its initializers.
func (n *Net) exportParams(params []Param) ([]byte, error) {
	if n.raw == nil {
		return nil, fmt.Errorf("model %s: original bytes not kept", n.name)
	}
	weights := make(map[string]Tensor, len(params))
	for _, p := range params {
		weights[p.Name] = Tensor{Shape: n.initShape(p.Name, p.Shape), Data: p.Value}
	}
	out, err := rewriteInitializers(n.raw, weights)
	if err != nil {
		return nil, fmt.Errorf("model %s: export: %w", n.name, err)
	}
	return out, nil
}

// initShape is the declared shape of an initializer (a scalar lifted into
// the graph became a 1-vector), or fallback.
func (n *Net) initShape(name string, fallback []int) []int {
	for _, node := range n.order {
		if node.op == nil && node.name == name && node.value != nil {
			return append([]int{}, node.value.Shape()...)
		}
	}
	return fallback
}
