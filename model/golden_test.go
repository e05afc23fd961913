package model

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

type goldenFace struct {
	Aligned   string    `json:"aligned"`
	Embedding []float64 `json:"embedding"`
}

func loadGolden(t *testing.T) (string, []goldenFace) {
	t.Helper()
	dir := sharedtest.Path(t, "golden")
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Faces []goldenFace `json:"items"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("reference.json: %v", err)
	}
	if len(ref.Faces) == 0 {
		t.Fatal("reference.json holds no faces")
	}
	return dir, ref.Faces
}

// crop112 converts an aligned RGB crop into the recogniser's input planes,
// (p−127)/128.
func crop112(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]float32, 3*112*112)
	for y := 0; y < 112; y++ {
		for x := 0; x < 112; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			for c, v := range []uint32{r, g, b} {
				out[(c*112+y)*112+x] = (float32(v>>8) - 127) / 128
			}
		}
	}
	return out
}

func cosine(a []float32, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * b[i]
		na += float64(a[i]) * float64(a[i])
		nb += b[i] * b[i]
	}
	return dot / math.Sqrt(na*nb)
}

// TestGoldenEmbeddings runs the recogniser on the reference crops, one at a
// time and as one batch, and compares with the reference runtime's output.
func TestGoldenEmbeddings(t *testing.T) {
	dir, faces := loadGolden(t)
	net, err := Load(sharedtest.Path(t, "models", "faceplugin", "fr_feature.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	batch := NewTensor(len(faces), 3, 112, 112)
	for i, f := range faces {
		copy(batch.Data[i*3*112*112:], crop112(t, filepath.Join(dir, f.Aligned)))
	}
	outs, err := net.Run(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	emb := outs[0]
	if len(emb.Shape) != 2 || emb.Shape[0] != len(faces) || emb.Shape[1] != 512 {
		t.Fatalf("output shape %v, want [%d 512]", emb.Shape, len(faces))
	}
	worst := 1.0
	for i, f := range faces {
		c := cosine(emb.Data[i*512:(i+1)*512], f.Embedding)
		worst = math.Min(worst, c)
		if c < 0.9999 {
			t.Errorf("%s: cosine %.6f with reference, want ≥ 0.9999", f.Aligned, c)
		}
	}
	t.Logf("batch of %d: worst cosine %.7f", len(faces), worst)

	single := Tensor{Shape: []int{1, 3, 112, 112}, Data: batch.Data[:3*112*112]}
	one, err := net.Run(context.Background(), single)
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(one[0].Data, toF64(emb.Data[:512])); c < 0.999999 {
		t.Errorf("batch of 1 and batch of %d disagree: cosine %v", len(faces), c)
	}
}

func toF64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// TestNoDenormals watches every value of the recogniser's graph on a real
// face: weights after loading and activations after a run must hold no
// subnormal floats (they would cost several times the arithmetic time).
func TestNoDenormals(t *testing.T) {
	dir, faces := loadGolden(t)
	net, err := Load(sharedtest.Path(t, "models", "faceplugin", "fr_feature.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	in := Tensor{Shape: []int{1, 3, 112, 112}, Data: crop112(t, filepath.Join(dir, faces[0].Aligned))}
	p, err := net.program(1)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(name string, data []float32) {
		sub := 0
		for _, x := range data {
			if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
				sub++
			}
		}
		if sub > 0 {
			t.Errorf("%s: %d subnormal values of %d", name, sub, len(data))
		}
		checked++
	}
	for i, v := range p.values {
		if v.konst != nil {
			check(fmt.Sprintf("constant %d %v", i, v.shape), v.konst)
		}
	}
	_, err = net.runTeam(context.Background(), in, func(k kernel, out []float32) { check(k.String(), out) })
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d values checked", checked)
	}
	t.Logf("%d weights and activations checked", checked)
}
