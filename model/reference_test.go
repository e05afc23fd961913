package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// TestReferenceOutputs runs the detector and the landmark model on the
// synthetic input of testdata/gen_reference.py and compares with OpenCV's
// outputs stored there. The detector exercises the folded shape arithmetic
// (Shape/Gather/Unsqueeze/Concat), Slice, Transpose, Softmax, Exp and
// broadcasting; the landmark model BatchNormalization, Flatten and Gemm.
func TestReferenceOutputs(t *testing.T) {
	data, err := os.ReadFile("testdata/reference_outputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Models map[string]struct {
			Outputs map[string]struct {
				Shape  []int     `json:"shape"`
				Every7 []float64 `json:"every7"`
				Sum    float64   `json:"sum"`
			} `json:"outputs"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	order := map[string][]string{"fr_detect.onnx": {"scores", "boxes"}, "fr_landmark.onnx": {"output"}}
	for name, names := range order {
		t.Run(name, func(t *testing.T) {
			net, err := Load(sharedtest.Path(t, "models", "faceplugin", name))
			if err != nil {
				t.Fatal(err)
			}
			in := NewTensor(net.InputShape()...)
			for i := range in.Data {
				in.Data[i] = float32(math.Sin(0.37*float64(i)) * math.Cos(0.011*float64(i)))
			}
			outs, err := net.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != len(names) {
				t.Fatalf("%d outputs, want %d", len(outs), len(names))
			}
			for i, oname := range names {
				want := ref.Models[name].Outputs[oname]
				got := outs[i]
				if len(got.Shape) != len(want.Shape) || got.Len() != volume(want.Shape) {
					t.Fatalf("%s: shape %v, want %v", oname, got.Shape, want.Shape)
				}
				var worst, sum float64
				for j, w := range want.Every7 {
					worst = math.Max(worst, math.Abs(float64(got.Data[j*7])-w))
				}
				for _, v := range got.Data {
					sum += float64(v)
				}
				if worst > 2e-4 {
					t.Errorf("%s: max difference %.3g from OpenCV", oname, worst)
				}
				if math.Abs(sum-want.Sum) > 1e-3*math.Max(1, math.Abs(want.Sum)) {
					t.Errorf("%s: sum %v, OpenCV %v", oname, sum, want.Sum)
				}
				t.Logf("%s: max difference %.2g over %d sampled values", oname, worst, len(want.Every7))
			}
		})
	}
}
