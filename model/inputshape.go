package model

import (
	"bytes"
	"fmt"
	"strconv"
)

// ONNX field numbers of the shapes a graph declares for its values.
const (
	graphInput      = 11 // GraphProto.input
	graphOutput     = 12 // GraphProto.output
	graphValueInfo  = 13 // GraphProto.value_info
	valueInfoName   = 1  // ValueInfoProto.name
	valueInfoType   = 2  // ValueInfoProto.type
	typeTensor      = 1  // TypeProto.tensor_type
	tensorTypeShape = 2  // TypeProto.Tensor.shape
	shapeDim        = 1  // TensorShapeProto.dim
	dimValue        = 1  // TensorShapeProto.Dimension.dim_value
	dimParam        = 2  // TensorShapeProto.Dimension.dim_param
)

// dimPath leads from a ValueInfoProto to each of its shape's dimensions.
var dimPath = [...]int{valueInfoType, typeTensor, tensorTypeShape, shapeDim}

// dim is one declared dimension of a value: a size (dim_value), a name
// bound only at run time (dim_param: "N", "None", "batch"), or neither.
type dim struct {
	value    int64
	hasValue bool
	param    string
}

// sized reports a fixed size. Exporters write a free batch as a name, as an
// unset dimension, or as dim_value 0 or -1.
func (d dim) sized() bool { return d.hasValue && d.value > 0 }

func (d dim) String() string {
	switch {
	case d.param != "":
		return strconv.Quote(d.param)
	case d.hasValue:
		return strconv.FormatInt(d.value, 10)
	}
	return "unnamed"
}

func parseDim(msg []byte) (dim, error) {
	fields, err := pbFields(msg)
	if err != nil {
		return dim{}, fmt.Errorf("shape dimension: %w", err)
	}
	var d dim
	for _, f := range fields {
		// dim_value and dim_param are a oneof: the last one on the wire wins.
		switch {
		case f.num == dimValue && f.wire == 0:
			d = dim{value: int64(f.value), hasValue: true}
		case f.num == dimParam && f.wire == 2:
			d = dim{param: string(f.payload)}
		}
	}
	return d, nil
}

// maxInputElems bounds the elements of a declared input (at batch 1):
// onnx-go allocates the declared shape, and a corrupt one would take the
// process down for lack of memory rather than give an error. A 4096×4096
// RGB image is 48 Mi elements.
const maxInputElems = 1 << 26

// floatTensorType is a TypeProto of a float tensor of unknown shape.
var floatTensorType = pb(nil).bytes(typeTensor, pb(nil).varint(1, 1))

// pinDims prepares the model for onnx-go's decoder, which keeps only the
// dim_value dimensions of a declared shape and allocates a tensor of that
// shape: a named batch dimension vanished from the input (a recogniser's
// N×3×112×112 read as 3×112×112), a dim_value of -1 made it panic, and a
// huge one exhausted memory. It returns the model with the unsized
// dimensions of each graph input declared as 1 (Run builds a graph per
// batch size anyway, and checkInputDims refuses a free dimension other than
// the batch), and those inputs' declared dimensions by name. Outputs,
// value_info and inputs that are initializers get the type "float tensor"
// instead, as nothing reads their declared shapes. Everything else is
// copied byte for byte, and data is returned itself when nothing changes.
func pinDims(data []byte) ([]byte, map[string][]dim, error) {
	inputs := map[string][]dim{}
	out, _, err := editPath(data, []int{modelGraph}, func(graph []byte) ([]byte, bool, error) {
		weights, err := initializerNames(graph)
		if err != nil {
			return nil, false, err
		}
		return editFields(graph, func(num int, vi []byte) ([]byte, bool, error) {
			if num != graphInput && num != graphOutput && num != graphValueInfo {
				return vi, false, nil
			}
			name, err := stringField(vi, valueInfoName)
			if err != nil {
				return nil, false, err
			}
			if num != graphInput || weights[name] {
				return untyped(vi)
			}
			pinned, changed, dims, err := pinInput(vi)
			if err != nil {
				return nil, false, fmt.Errorf("input %q: %w", name, err)
			}
			inputs[name] = dims
			return pinned, changed, nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, inputs, nil
}

// initializerNames are the names of a graph's initializers (weights).
func initializerNames(graph []byte) (map[string]bool, error) {
	fields, err := pbFields(graph)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, f := range fields {
		if f.num == graphInitializer && f.wire == 2 {
			name, err := stringField(f.payload, tensorName)
			if err != nil {
				return nil, fmt.Errorf("initializer: %w", err)
			}
			names[name] = true
		}
	}
	return names, nil
}

// untyped gives a ValueInfoProto the type "float tensor of unknown shape".
func untyped(vi []byte) ([]byte, bool, error) {
	return editFields(vi, func(num int, t []byte) ([]byte, bool, error) {
		if num != valueInfoType || bytes.Equal(t, floatTensorType) {
			return t, false, nil
		}
		return floatTensorType, true, nil
	})
}

// pinInput declares the unsized dimensions of a graph input (a
// ValueInfoProto) as 1 and returns its declared dimensions.
func pinInput(vi []byte) ([]byte, bool, []dim, error) {
	var dims []dim
	elems := int64(1)
	pinned, changed, err := editPath(vi, dimPath[:], func(d []byte) ([]byte, bool, error) {
		parsed, err := parseDim(d)
		if err != nil {
			return nil, false, err
		}
		dims = append(dims, parsed)
		if !parsed.sized() {
			return pb(nil).varint(dimValue, 1), true, nil
		}
		if parsed.value > maxInputElems/elems {
			return nil, false, fmt.Errorf("dimension %d (%d) makes the declared shape larger than %d elements: %w", len(dims)-1, parsed.value, maxInputElems, ErrUnsupported)
		}
		elems *= parsed.value
		return d, false, nil
	})
	return pinned, changed, dims, err
}

// checkInputDims accepts one free dimension, the batch: every other input
// dimension must have a size, because the graph is built for those sizes.
func checkInputDims(dims []dim) error {
	for i, d := range dims {
		if i > 0 && !d.sized() {
			return fmt.Errorf("dimension %d is %v, not a size; only the batch dimension (0) may be symbolic: %w", i, d, ErrUnsupported)
		}
	}
	return nil
}

// editFields returns msg with the payload of each length-delimited field
// replaced by what edit makes of it, where edit reports a change; every
// other field is copied byte for byte, and msg itself is returned when
// nothing changed (a model's bytes are not copied for nothing).
func editFields(msg []byte, edit func(num int, payload []byte) ([]byte, bool, error)) ([]byte, bool, error) {
	fields, err := pbFields(msg)
	if err != nil {
		return nil, false, err
	}
	var out pb
	pos := 0 // where the current field starts in msg
	for _, f := range fields {
		start := pos
		pos += len(f.raw)
		if f.wire == 2 {
			p, changed, err := edit(f.num, f.payload)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = append(make(pb, 0, len(msg)+16), msg[:start]...)
				}
				out = out.bytes(f.num, p)
				continue
			}
		}
		if out != nil {
			out = append(out, f.raw...)
		}
	}
	if out == nil {
		return msg, false, nil
	}
	return out, true, nil
}

// editPath applies edit to the payload of every field reached by following
// the length-delimited field numbers of path down from msg.
func editPath(msg []byte, path []int, edit func([]byte) ([]byte, bool, error)) ([]byte, bool, error) {
	if len(path) == 0 {
		return edit(msg)
	}
	return editFields(msg, func(num int, p []byte) ([]byte, bool, error) {
		if num != path[0] {
			return p, false, nil
		}
		return editPath(p, path[1:], edit)
	})
}
