package face

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"

	"github.com/maskinv/workbench/model"
)

func TestEmbedderInput(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 112, 112))
	b := image.NewNRGBA(image.Rect(0, 0, 112, 112))
	a.SetNRGBA(5, 7, color.NRGBA{255, 127, 0, 255})
	b.SetNRGBA(111, 111, color.NRGBA{1, 2, 3, 255})
	in := RecogniserInput([]*image.NRGBA{a, b})
	if !slices.Equal(in.Shape, []int{2, 3, 112, 112}) || len(in.Data) != 2*3*112*112 {
		t.Fatalf("shape %v", in.Shape)
	}
	const plane = 112 * 112
	at := func(n, c, y, x int) float32 { return in.Data[(n*3+c)*plane+y*112+x] }
	// Planes R, G, B; (p−127)/128.
	if at(0, 0, 7, 5) != 1 || at(0, 1, 7, 5) != 0 || at(0, 2, 7, 5) != -127.0/128 {
		t.Errorf("crop 0 (5,7): %v %v %v", at(0, 0, 7, 5), at(0, 1, 7, 5), at(0, 2, 7, 5))
	}
	if at(1, 0, 111, 111) != -126.0/128 || at(1, 2, 111, 111) != -124.0/128 {
		t.Errorf("crop 1 (111,111): %v %v", at(1, 0, 111, 111), at(1, 2, 111, 111))
	}
	if at(0, 0, 0, 0) != -127.0/128 {
		t.Errorf("black pixel: %v", at(0, 0, 0, 0))
	}
}

// crops returns n 112×112 crops whose top-left red value encodes the index.
func crops(n int) []*image.NRGBA {
	out := make([]*image.NRGBA, n)
	for i := range out {
		out[i] = image.NewNRGBA(image.Rect(0, 0, 112, 112))
		out[i].Pix[0] = uint8(10 * (i + 1))
	}
	return out
}

// echoFeature is a fake recogniser whose 4-d output for each crop is
// (red at (0,0) as fed, 1, 0, 0) — unnormalised — either as N×4 or, like the
// real model's fixed Reshape, as 1×(4N).
func echoFeature(flat bool) *fakeNet {
	return &fakeNet{fn: func(in model.Tensor) ([]model.Tensor, error) {
		n := in.Shape[0]
		out := model.Tensor{Shape: []int{n, 4}, Data: make([]float32, 4*n)}
		if flat {
			out.Shape = []int{1, 4 * n}
		}
		for i := 0; i < n; i++ {
			out.Data[4*i] = in.Data[i*3*112*112]*128 + 127
			out.Data[4*i+1] = 1
		}
		return []model.Tensor{out}, nil
	}}
}

func TestEmbedBatches(t *testing.T) {
	for _, flat := range []bool{false, true} {
		net := echoFeature(flat)
		e := Embedder{Net: net, Batch: 2}
		vecs, err := e.Embed(context.Background(), crops(5))
		if err != nil {
			t.Fatal(err)
		}
		if len(net.calls) != 3 || net.calls[0].Shape[0] != 2 || net.calls[2].Shape[0] != 1 {
			t.Errorf("flat=%v: %d calls", flat, len(net.calls))
		}
		for i, v := range vecs {
			r := float64(10 * (i + 1))
			norm := math.Hypot(r, 1)
			if len(v) != 4 || math.Abs(float64(v[0])-r/norm) > 1e-6 || math.Abs(float64(v[1])-1/norm) > 1e-6 {
				t.Errorf("flat=%v: vector %d = %v", flat, i, v)
			}
		}
	}
}

func TestEmbedErrors(t *testing.T) {
	ctx := context.Background()
	e := Embedder{Net: echoFeature(false)}
	wrong := []*image.NRGBA{image.NewNRGBA(image.Rect(0, 0, 100, 112))}
	if _, err := e.Embed(ctx, wrong); !errors.Is(err, ErrSize) {
		t.Errorf("100×112 crop: %v", err)
	}
	zero := Embedder{Net: &fakeNet{fn: func(in model.Tensor) ([]model.Tensor, error) {
		return []model.Tensor{{Shape: []int{1, 4}, Data: make([]float32, 4)}}, nil
	}}}
	if _, err := zero.Embed(ctx, crops(1)); !errors.Is(err, ErrOutput) {
		t.Errorf("zero vector: %v", err)
	}
	odd := Embedder{Net: &fakeNet{fn: func(in model.Tensor) ([]model.Tensor, error) {
		return []model.Tensor{{Shape: []int{1, 5}, Data: make([]float32, 5)}}, nil
	}}, Batch: 2}
	if _, err := odd.Embed(ctx, crops(2)); !errors.Is(err, ErrOutput) {
		t.Errorf("5 values for 2 crops: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Embed(cancelled, crops(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCosineNormalize(t *testing.T) {
	tests := []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{0, 1}, 0},
		{[]float32{1, 1}, []float32{2, 2}, 1},
		{[]float32{1, 0}, []float32{-3, 0}, -1},
		{[]float32{3, 4}, []float32{4, 3}, 24.0 / 25},
		{[]float32{0, 0}, []float32{1, 0}, 0},
	}
	for _, tc := range tests {
		if got := Cosine(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	v, err := Normalize([]float32{3, 4})
	if err != nil || v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("Normalize = %v, %v", v, err)
	}
	if _, err := Normalize([]float32{float32(math.NaN()), 1}); err == nil {
		t.Error("NaN vector normalised")
	}
	defer func() {
		if recover() == nil {
			t.Error("Cosine of different lengths did not panic")
		}
	}()
	Cosine([]float32{1}, []float32{1, 2})
}

func BenchmarkEmbedderInput8(b *testing.B) {
	cs := crops(8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		RecogniserInput(cs)
	}
}
