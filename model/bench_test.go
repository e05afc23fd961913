package model

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// benchmarkEmbed runs the recogniser on a batch of a synthetic input and
// reports embeddings per second, GFLOP/s (Net.FLOPs) and CPU time per
// embedding.
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
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := net.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "emb/s")
	b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
	// The process's CPU time per embedding: on a shared machine the wall
	// clock also counts the time other work held the cores.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1e3/float64(b.N*batch), "cpu-ms/emb")
}

func BenchmarkEmbedBatch1(b *testing.B)   { benchmarkEmbed(b, 1) }
func BenchmarkEmbedBatch32(b *testing.B)  { benchmarkEmbed(b, 32) }
func BenchmarkEmbedBatch256(b *testing.B) { benchmarkEmbed(b, 256) }

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
