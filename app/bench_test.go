package app

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/sharedtest"
)

// BenchmarkPipelinePhoto is the full pipeline on one LFW photo: detection,
// landmarks, alignment and embedding (decoding excluded).
func BenchmarkPipelinePhoto(b *testing.B) {
	img, err := imageio.Decode(filepath.Join(sharedtest.Path(b, "data", "lfw"), "Aaron_Peirsol", "Aaron_Peirsol_0001.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := LoadEngine(EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := eng.Process(ctx, img); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := eng.Process(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
}

// BenchmarkPipelineLocate is detection, landmarks and alignment without the
// embedding.
func BenchmarkPipelineLocate(b *testing.B) {
	img, err := imageio.Decode(filepath.Join(sharedtest.Path(b, "data", "lfw"), "Aaron_Peirsol", "Aaron_Peirsol_0001.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := LoadEngine(EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := eng.Locate(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
}
