package modelreg

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Small ONNX models for tests, written with protowire: input x (1×c×h×w
// as given) → Conv with d k×k filters at stride k → Flatten → output.

type pbuf []byte

func (p pbuf) varint(num protowire.Number, v uint64) pbuf {
	p = protowire.AppendTag(p, num, protowire.VarintType)
	return protowire.AppendVarint(p, v)
}

func (p pbuf) bytes(num protowire.Number, b []byte) pbuf {
	p = protowire.AppendTag(p, num, protowire.BytesType)
	return protowire.AppendBytes(p, b)
}

func (p pbuf) str(num protowire.Number, s string) pbuf { return p.bytes(num, []byte(s)) }

func valueInfo(name string, dims ...int) []byte {
	var shape pbuf
	for _, d := range dims {
		shape = shape.bytes(1, pbuf(nil).varint(1, uint64(d)))
	}
	tensorType := pbuf(nil).varint(1, 1).bytes(2, shape) // FLOAT
	return pbuf(nil).str(1, name).bytes(2, pbuf(nil).bytes(1, tensorType))
}

func floatTensor(name string, shape []int, seed float32) []byte {
	var p pbuf
	n := 1
	for _, d := range shape {
		p = p.varint(1, uint64(d))
		n *= d
	}
	raw := make([]byte, 0, 4*n)
	for i := 0; i < n; i++ {
		v := float32(math.Sin(float64(seed) + float64(i)*0.37))
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return p.varint(2, 1).str(8, name).bytes(9, raw)
}

func intsAttr(name string, v ...int) []byte {
	p := pbuf(nil).str(1, name)
	for _, x := range v {
		p = p.varint(8, uint64(x))
	}
	return p.varint(20, 7) // INTS
}

func node(op string, in, out []string, attrs ...[]byte) []byte {
	var p pbuf
	for _, s := range in {
		p = p.str(1, s)
	}
	for _, s := range out {
		p = p.str(2, s)
	}
	p = p.str(3, op+"_0").str(4, op)
	for _, a := range attrs {
		p = p.bytes(5, a)
	}
	return p
}

// convModel is a recogniser-shaped model: 1×c×h×w → d·(h/k)·(w/k)
// features. seed varies the weights (and so the file's hash).
func convModel(c, h, w, d, k int, seed float32) []byte {
	g := pbuf(nil).
		bytes(1, node("Conv", []string{"x", "W"}, []string{"y"}, intsAttr("kernel_shape", k, k), intsAttr("strides", k, k))).
		bytes(1, node("Flatten", []string{"y"}, []string{"out"})).
		str(2, "test").
		bytes(5, floatTensor("W", []int{d, c, k, k}, seed)).
		bytes(11, valueInfo("x", 1, c, h, w)).
		bytes(12, valueInfo("out", 1, d*(h/k)*(w/k)))
	return pbuf(nil).varint(1, 3).bytes(7, g).bytes(8, pbuf(nil).varint(2, 9))
}
