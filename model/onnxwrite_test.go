package model

// ONNX model builders for tests (on the wire writer of export.go): enough to make small models
// with chosen operators, shapes and broken parts, without a Python toolchain.

// valueInfo is a float tensor ValueInfoProto.
func valueInfo(name string, shape ...int) []byte {
	dims := make([][]byte, len(shape))
	for i, d := range shape {
		dims[i] = dimSize(d)
	}
	return valueInfoDims(name, dims...)
}

// valueInfoDims is a float tensor ValueInfoProto with the given
// TensorShapeProto.Dimension messages (dimSize, dimName).
func valueInfoDims(name string, dims ...[]byte) []byte {
	var shape pb
	for _, d := range dims {
		shape = shape.bytes(1, d)
	}
	tensorType := pb(nil).varint(1, 1).bytes(2, shape)
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tensorType))
}

// dimSize is a dimension with dim_value d (negative ones as int64 on the
// wire, as protobuf encodes them); dimName one with dim_param s.
func dimSize(d int) []byte    { return pb(nil).varint(1, uint64(int64(d))) }
func dimName(s string) []byte { return pb(nil).str(2, s) }

// initializer is a float TensorProto with raw data.
func initializer(name string, shape []int, data []float32) []byte {
	return tensorProto(name, shape, data)
}

type attr struct {
	name string
	ints []int
	i    *int
	f    *float32
}

func nodeProto(op, name string, inputs, outputs []string, attrs ...attr) []byte {
	var p pb
	for _, in := range inputs {
		p = p.str(1, in)
	}
	for _, out := range outputs {
		p = p.str(2, out)
	}
	p = p.str(3, name).str(4, op)
	for _, a := range attrs {
		ap := pb(nil).str(1, a.name)
		switch {
		case a.i != nil:
			ap = ap.varint(3, uint64(*a.i)).varint(20, 2) // INT
		case a.f != nil:
			ap = ap.float32(2, *a.f).varint(20, 1) // FLOAT
		default:
			for _, v := range a.ints {
				ap = ap.varint(8, uint64(v))
			}
			ap = ap.varint(20, 7) // INTS
		}
		p = p.bytes(5, ap)
	}
	return p
}

type graphSpec struct {
	nodes        [][]byte
	initializers [][]byte
	inputs       [][]byte
	outputs      [][]byte
	valueInfos   [][]byte
}

func modelBytes(g graphSpec) []byte {
	var gp pb
	for _, n := range g.nodes {
		gp = gp.bytes(1, n)
	}
	gp = gp.str(2, "test")
	for _, in := range g.initializers {
		gp = gp.bytes(5, in)
	}
	for _, in := range g.inputs {
		gp = gp.bytes(11, in)
	}
	for _, out := range g.outputs {
		gp = gp.bytes(12, out)
	}
	for _, v := range g.valueInfos {
		gp = gp.bytes(13, v)
	}
	return pb(nil).varint(1, 3).bytes(7, gp).bytes(8, pb(nil).varint(2, 9))
}
