package engine

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/sharedtest"
	"github.com/maskinv/workbench/maskgen"
)

// benchmarkPipeline times one pipeline stage on an LFW photo (decoding
// excluded), after a warm-up run that builds the graphs.
func benchmarkPipeline(b *testing.B, stage func(*Engine, context.Context, image.Image) (face.Result, error)) {
	img, err := imageio.Decode(filepath.Join(sharedtest.Path(b, "data", "lfw"), "Aaron_Peirsol", "Aaron_Peirsol_0001.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := Load(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := stage(eng, ctx, img); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := stage(eng, ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
}

// BenchmarkPipelinePhoto is the full pipeline: detection, landmarks,
// alignment and embedding.
func BenchmarkPipelinePhoto(b *testing.B) {
	benchmarkPipeline(b, func(e *Engine, ctx context.Context, img image.Image) (face.Result, error) {
		return e.Process(ctx, img)
	})
}

// BenchmarkPipelineLocate is the same without the embedding.
func BenchmarkPipelineLocate(b *testing.B) {
	benchmarkPipeline(b, func(e *Engine, ctx context.Context, img image.Image) (face.Result, error) {
		return e.Locate(ctx, img)
	})
}

// BenchmarkMaskPhoto draws a paper mask on the located photo and locates
// the masked photo again: the extra work of one photo mask (train
// --photo-masks, eval --mask-on photo), against BenchmarkPipelineLocate.
func BenchmarkMaskPhoto(b *testing.B) {
	var located *face.Result
	style, err := maskgen.ParseStyle("paper")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	benchmarkPipeline(b, func(e *Engine, ctx context.Context, img image.Image) (face.Result, error) {
		if located == nil {
			r, err := e.Locate(ctx, img)
			if err != nil {
				return r, err
			}
			located = &r
		}
		i++
		return MaskPhoto(ctx, e, img, *located, maskgen.Config{Style: style, Seed: 1}, fmt.Sprint(i))
	})
}
