package model

import (
	"context"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// benchmarkTrain times one training step (forward, loss hook, backward) of
// the recogniser; FLOPs counts the forward pass ×3 (forward, and the input
// and weight gradients), the usual estimate.
func benchmarkTrain(b *testing.B, batch int) {
	net, err := Load(sharedtest.Path(b, "models", "faceplugin", "fr_feature.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := net.Trainable(batch)
	if err != nil {
		b.Fatal(err)
	}
	in := NewTensor(batch, 3, 112, 112)
	for i := range in.Data {
		in.Data[i] = float32(i%255-127) / 128
	}
	loss := func(out, grad []float32) float64 {
		for i, v := range out {
			grad[i] = 1e-3 * v
		}
		return 0
	}
	ctx := context.Background()
	if _, _, err := tr.Step(ctx, in, loss); err != nil {
		b.Fatal(err)
	}
	flops := 3 * net.FLOPs() * float64(batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.Step(ctx, in, loss); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "img/s")
	b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
}

func BenchmarkTrainBatch16(b *testing.B) { benchmarkTrain(b, 16) }
func BenchmarkTrainBatch32(b *testing.B) { benchmarkTrain(b, 32) }
