package engine

import (
	"context"
	"errors"
	"image"
	"slices"
	"testing"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/model"
)

// runnerFunc is a face.Runner made of a function.
type runnerFunc func(ctx context.Context, in model.Tensor) ([]model.Tensor, error)

func (f runnerFunc) Run(ctx context.Context, in model.Tensor) ([]model.Tensor, error) {
	return f(ctx, in)
}

func TestEmbeddingLenRunners(t *testing.T) {
	boom := errors.New("boom")
	out := func(shape []int, n int) runnerFunc {
		return func(_ context.Context, in model.Tensor) ([]model.Tensor, error) {
			if len(in.Shape) != 4 || in.Shape[0] != 1 || in.Shape[1] != 3 || in.Shape[2] != face.AlignedSize || in.Shape[3] != face.AlignedSize {
				t.Errorf("input shape %v, want 1×3×112×112", in.Shape)
			}
			return []model.Tensor{{Shape: shape, Data: make([]float32, n)}}, nil
		}
	}
	tests := []struct {
		name string
		rec  face.Runner
		want int
		err  error
	}{
		{"128-d", out([]int{1, 128}, 128), 128, nil},
		{"flat", out([]int{7}, 7), 7, nil},
		{"empty output", out([]int{1, 0}, 0), 0, face.ErrOutput},
		{"no outputs", runnerFunc(func(context.Context, model.Tensor) ([]model.Tensor, error) { return nil, nil }), 0, face.ErrOutput},
		{"run fails", runnerFunc(func(context.Context, model.Tensor) ([]model.Tensor, error) { return nil, boom }), 0, boom},
	}
	for _, tc := range tests {
		got, err := EmbeddingLen(context.Background(), tc.rec)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: %d, %v; want %d, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestEmbeddingLenEmbedded: the embedded recogniser's length is that of
// the embeddings the engine really makes.
func TestEmbeddingLenEmbedded(t *testing.T) {
	eng, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := eng.EmbeddingLen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	crop := image.NewNRGBA(image.Rect(0, 0, face.AlignedSize, face.AlignedSize))
	for i := range crop.Pix {
		crop.Pix[i] = uint8(i * 7)
	}
	vecs, err := eng.Embed(ctx, []*image.NRGBA{crop, crop})
	if err != nil {
		t.Fatal(err)
	}
	if n != 512 || len(vecs[0]) != n || len(vecs[1]) != n {
		t.Errorf("EmbeddingLen %d, embeddings of %d and %d values, want 512", n, len(vecs[0]), len(vecs[1]))
	}
}

// TestEmbedBatchInvariant: with the embedded recogniser, a crop's
// embedding is the same bits alone, first or last in a batch, and in
// batches of any size: shards, resumed runs and eval's batches group
// crops differently, and their stores must still be byte-identical.
func TestEmbedBatchInvariant(t *testing.T) {
	eng, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	crops := make([]*image.NRGBA, 5)
	for i := range crops {
		crops[i] = image.NewNRGBA(image.Rect(0, 0, face.AlignedSize, face.AlignedSize))
		for j := range crops[i].Pix {
			crops[i].Pix[j] = uint8(j*(i+3) + i*j/7)
		}
	}
	eng.Embedder.Batch = len(crops)
	want, err := eng.Embed(ctx, crops)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 2, 3, 4} {
		eng.Embedder.Batch = batch
		got, err := eng.Embed(ctx, crops)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("batch %d: crop %d's embedding differs from the batch of %d's", batch, i, len(crops))
			}
		}
	}
	eng.Embedder.Batch = 8
	for i, c := range crops {
		got, err := eng.Embed(ctx, []*image.NRGBA{c})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[0], want[i]) {
			t.Errorf("crop %d alone: embedding differs from the batch's", i)
		}
	}
}
