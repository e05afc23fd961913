package model

import (
	"context"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// recogniserFLOPs is the multiply-add count ×2 of fr_feature.onnx for one
// 112×112 face, summed over its Conv layers (see TestRecogniserFLOPs).
func benchmarkEmbed(b *testing.B, batch int) {
	net, err := Load(sharedtest.Path(b, "models", "faceplugin", "fr_feature.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	in := NewTensor(batch, 3, 112, 112)
	for i := range in.Data {
		in.Data[i] = float32(i%255-127) / 128
	}
	ctx := context.Background()
	if _, err := net.Run(ctx, in); err != nil { // build outside the timer
		b.Fatal(err)
	}
	flops := net.FLOPs() * float64(batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := net.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "emb/s")
	b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
}

func BenchmarkEmbedBatch1(b *testing.B)  { benchmarkEmbed(b, 1) }
func BenchmarkEmbedBatch32(b *testing.B) { benchmarkEmbed(b, 32) }
