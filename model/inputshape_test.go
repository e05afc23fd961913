package model

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/maskinv/workbench/assets"
)

// withInputDim returns data with dimension i of the graph input named input
// replaced by the Dimension message d.
func withInputDim(t *testing.T, data []byte, input string, i int, d []byte) []byte {
	t.Helper()
	out, changed, err := editPath(data, []int{modelGraph}, func(graph []byte) ([]byte, bool, error) {
		return editFields(graph, func(num int, vi []byte) ([]byte, bool, error) {
			if name, _ := stringField(vi, valueInfoName); num != graphInput || name != input {
				return vi, false, nil
			}
			k := -1
			return editPath(vi, dimPath[:], func(old []byte) ([]byte, bool, error) {
				k++
				if k != i {
					return old, false, nil
				}
				return d, true, nil
			})
		})
	})
	if err != nil || !changed {
		t.Fatalf("rewriting dimension %d of input %q: changed %v, error %v", i, input, changed, err)
	}
	return out
}

// testBatch is n different inputs of the given per-image shape.
func testBatch(n int, shape ...int) Tensor {
	in := NewTensor(append([]int{n}, shape...)...)
	for i := range in.Data {
		in.Data[i] = float32((i*37)%251)/125 - 1
	}
	return in
}

// runOutputs runs net on in and returns its first output.
func runOutputs(t *testing.T, net *Net, in Tensor) []float32 {
	t.Helper()
	outs, err := net.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return outs[0].Data
}

// TestSymbolicBatch: a model whose batch dimension has no fixed size, in
// any of the ways exporters write it, loads, declares batch 1, and gives the
// fixed-batch model's outputs at every batch size. onnx-go dropped named
// dimensions, so "N"×1×4×4 read as 1×4×4 and the convolution refused it.
func TestSymbolicBatch(t *testing.T) {
	fixed, err := Decode("fixed.onnx", tinyConvModel("PRelu"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		batch []byte
	}{
		{"dim_param None", dimName("None")},
		{"dim_param N", dimName("N")},
		{"dim_param batch", dimName("batch")},
		{"dim_value 0", dimSize(0)},
		{"dim_value -1", dimSize(-1)},
		{"unset", []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tinyConvModelShaped("PRelu",
				valueInfoDims("x", tc.batch, dimSize(1), dimSize(4), dimSize(4)),
				valueInfoDims("y", tc.batch, dimSize(2), dimSize(4), dimSize(4)))
			net, err := Decode("symbolic.onnx", data)
			if err != nil {
				t.Fatal(err)
			}
			if got := net.InputShape(); !reflect.DeepEqual(got, []int{1, 1, 4, 4}) {
				t.Errorf("InputShape %v, want [1 1 4 4]", got)
			}
			for _, n := range []int{1, 3} {
				in := testBatch(n, 1, 4, 4)
				got, want := runOutputs(t, net, in), runOutputs(t, fixed, in)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("batch %d: outputs differ from the fixed-batch model's", n)
				}
			}
		})
	}
}

// TestSymbolicDimRefused: an input dimension other than the batch without a
// size is refused, naming the file, the input and the dimension.
func TestSymbolicDimRefused(t *testing.T) {
	tests := []struct {
		name string
		x    []byte
		want []string
	}{
		{"named height", valueInfoDims("x", dimName("N"), dimSize(1), dimName("H"), dimSize(4)),
			[]string{"sym.onnx", `input "x"`, `dimension 2 is "H"`}},
		{"width -1", valueInfoDims("x", dimSize(1), dimSize(1), dimSize(4), dimSize(-1)),
			[]string{"sym.onnx", `input "x"`, "dimension 3 is -1"}},
		{"unset channels", valueInfoDims("x", dimSize(1), []byte{}, dimSize(4), dimSize(4)),
			[]string{"sym.onnx", `input "x"`, "dimension 1 is unnamed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("sym.onnx", tinyConvModelShaped("PRelu", tc.x, valueInfo("y", 1, 2, 4, 4)))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v, want ErrUnsupported", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %s", err, w)
				}
			}
		})
	}
}

// TestPinDims: pinDims reports the input's declared dimensions and
// rewrites only what needs it: its own output is returned unchanged, not
// copied.
func TestPinDims(t *testing.T) {
	data := tinyConvModelShaped("PRelu",
		valueInfoDims("x", dimName("N"), dimSize(1), dimSize(4), dimSize(4)), valueInfo("y", 1, 2, 4, 4))
	pinned, inputs, err := pinDims(data)
	if err != nil {
		t.Fatal(err)
	}
	sized := func(v int64) dim { return dim{value: v, hasValue: true} }
	want := []dim{{param: "N"}, sized(1), sized(4), sized(4)}
	if !reflect.DeepEqual(inputs["x"], want) {
		t.Errorf("input x dims %v, want %v", inputs["x"], want)
	}
	again, inputs, err := pinDims(pinned)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(pinned) || &again[0] != &pinned[0] {
		t.Error("pinning a pinned model rewrote it")
	}
	if want[0] = sized(1); !reflect.DeepEqual(inputs["x"], want) {
		t.Errorf("pinned input x dims %v, want %v", inputs["x"], want)
	}
}

// TestDecodeHugeShape: onnx-go allocates every declared shape, so a corrupt
// declaration ran the process out of memory. An input that large is an
// error naming it; the declared shapes of outputs, intermediate values and
// weights listed as inputs (as older exporters do), which nothing reads, no
// longer matter.
func TestDecodeHugeShape(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(g *graphSpec)
		want  string // error substring; "" for none
	}{
		{"input", func(g *graphSpec) { g.inputs[0] = valueInfo("x", 1, 1, 1<<20, 1<<20) }, `input "x": dimension 3 (1048576)`},
		{"output", func(g *graphSpec) { g.outputs[0] = valueInfo("y", 1, 1, 1<<20, 1<<20) }, ""},
		{"value_info", func(g *graphSpec) { g.valueInfos = [][]byte{valueInfo("c", 1, 1, 1<<20, 1<<20)} }, ""},
		{"weight listed as input", func(g *graphSpec) { g.inputs[1] = valueInfo("w", 1<<20, 1<<20) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tinyConvGraph("PRelu", valueInfo("x", 1, 1, 4, 4), valueInfo("y", 1, 2, 4, 4))
			tc.tweak(&g)
			net, err := Decode("huge.onnx", modelBytes(g))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := runOutputs(t, net, testBatch(2, 1, 4, 4)); len(got) != 2*2*4*4 {
					t.Errorf("%d outputs, want %d", len(got), 2*2*4*4)
				}
				return
			}
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "huge.onnx") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrUnsupported naming huge.onnx and %s", err, tc.want)
			}
		})
	}
}

// TestSymbolicBatchRecogniser: the embedded recogniser with its batch
// dimension renamed "None", as insightface exports it, gives the same
// embeddings as the original at batch 1 and 3.
func TestSymbolicBatchRecogniser(t *testing.T) {
	orig := assets.Recognizer()
	fixed, err := Decode("fr_feature.onnx", orig)
	if err != nil {
		t.Fatal(err)
	}
	data := withInputDim(t, orig, fixed.input.name, 0, dimName("None"))
	if bytes.Equal(data, orig) || !bytes.Contains(data, []byte("None")) {
		t.Fatal("the rewritten model does not name its batch dimension")
	}
	net, err := Decode("fr_feature_symbolic.onnx", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := net.InputShape(); !reflect.DeepEqual(got, []int{1, 3, 112, 112}) {
		t.Errorf("InputShape %v, want [1 3 112 112]", got)
	}
	for _, n := range []int{1, 3} {
		in := testBatch(n, 3, 112, 112)
		got, want := runOutputs(t, net, in), runOutputs(t, fixed, in)
		if len(got) != n*512 || !reflect.DeepEqual(got, want) {
			t.Errorf("batch %d: %d outputs, differing from the original model's", n, len(got))
		}
	}
}
