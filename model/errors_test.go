package model

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// tinyConvModel is Conv(1→2 channels, 3×3, pad 1) + PRelu on a 1×1×4×4 input.
func tinyConvModel(op string) []byte {
	return tinyConvModelShaped(op, valueInfo("x", 1, 1, 4, 4), valueInfo("y", 1, 2, 4, 4))
}

// tinyConvModelShaped is tinyConvModel with the given declarations of its
// input x and output y.
func tinyConvModelShaped(op string, x, y []byte) []byte {
	return modelBytes(tinyConvGraph(op, x, y))
}

func tinyConvGraph(op string, x, y []byte) graphSpec {
	w := make([]float32, 18)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	return graphSpec{
		nodes: [][]byte{
			nodeProto("Conv", "conv0", []string{"x", "w", "b"}, []string{"c"}, attr{name: "pads", ints: []int{1, 1, 1, 1}}, attr{name: "kernel_shape", ints: []int{3, 3}}),
			nodeProto(op, "act0", []string{"c", "slope"}, []string{"y"}),
		},
		initializers: [][]byte{
			initializer("w", []int{2, 1, 3, 3}, w),
			initializer("b", []int{2}, []float32{0.5, -0.5}),
			initializer("slope", []int{2, 1, 1}, []float32{0.25, 0.1}),
		},
		inputs:  [][]byte{x, valueInfo("w", 2, 1, 3, 3), valueInfo("b", 2), valueInfo("slope", 2, 1, 1)},
		outputs: [][]byte{y},
	}
}

func TestTinyModelRuns(t *testing.T) {
	net, err := Decode("tiny.onnx", tinyConvModel("PRelu"))
	if err != nil {
		t.Fatal(err)
	}
	in := NewTensor(3, 1, 4, 4) // batch 3 although the model declares 1
	for i := range in.Data {
		in.Data[i] = float32(i%7) - 3
	}
	outs, err := net.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: the unfused float64 path of the same convolution + PReLU.
	g, _ := newConvGeom([]int{3, 1, 4, 4}, []int{2, 1, 3, 3}, 1, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true)
	w := make([]float64, 18)
	for i := range w {
		w[i] = float64(i%5) - 2
	}
	x := make([]float64, len(in.Data))
	for i, v := range in.Data {
		x[i] = float64(v)
	}
	want := run64(convKernel{g: g, act: actPRelu}, [][]float64{x, w, {0.5, -0.5}, {0.25, 0.1}})
	for i := range want {
		if d := float64(outs[0].Data[i]) - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("output %d = %v, want %v", i, outs[0].Data[i], want[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := tinyConvModel("PRelu")
	tests := []struct {
		name string
		data []byte
		want []string // substrings of the error
		is   error
	}{
		{"unsupported op", tinyConvModel("Erf"), []string{"bad.onnx", "Erf", `"y"`}, ErrUnsupported},
		{"empty file", nil, []string{"bad.onnx"}, nil},
		{"truncated", good[:len(good)/2], []string{"bad.onnx"}, nil},
		{"garbage", []byte("this is not a model at all, just text"), []string{"bad.onnx"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("bad.onnx", tc.data)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestRunWrongShape(t *testing.T) {
	net, err := Decode("tiny.onnx", tinyConvModel("PRelu"))
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range [][]int{{1, 3, 4, 4}, {1, 1, 5, 4}, {1, 16}, {0, 1, 4, 4}} {
		_, err := net.Run(context.Background(), NewTensor(shape...))
		if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "tiny.onnx") {
			t.Errorf("shape %v: error %v, want ErrShape naming the model", shape, err)
		}
	}
	bad := Tensor{Shape: []int{1, 1, 4, 4}, Data: make([]float32, 3)}
	if _, err := net.Run(context.Background(), bad); err == nil {
		t.Error("data shorter than its shape accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := net.Run(ctx, NewTensor(1, 1, 4, 4)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to the ONNX decoder: every input must
// give a model or an error, never a panic.
func FuzzDecode(f *testing.F) {
	good := tinyConvModel("PRelu")
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(tinyConvModel("Relu"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := Decode("fuzz.onnx", data)
		if err != nil {
			return
		}
		in := NewTensor(net.InputShape()...)
		if in.Len() > 1<<16 || len(in.Shape) == 0 {
			return
		}
		_, _ = net.Run(context.Background(), in)
	})
}

// TestSameInputTwice: an operator may read one value twice (here x·x); the
// decoded graph must keep both inputs.
func TestSameInputTwice(t *testing.T) {
	data := modelBytes(graphSpec{
		nodes:   [][]byte{nodeProto("Mul", "square", []string{"x", "x"}, []string{"y"})},
		inputs:  [][]byte{valueInfo("x", 1, 1, 2, 2)},
		outputs: [][]byte{valueInfo("y", 1, 1, 2, 2)},
	})
	net, err := Decode("square.onnx", data)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := net.Run(context.Background(), Tensor{Shape: []int{1, 1, 2, 2}, Data: []float32{1, -2, 3, 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 4, 9, 0.25}
	for i, w := range want {
		if outs[0].Data[i] != w {
			t.Fatalf("got %v, want %v", outs[0].Data, want)
		}
	}
}
