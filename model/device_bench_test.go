package model

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkEmbedDevices measures the recogniser on the CPU engine and on
// every OpenCL device, in the same run, at batch 1, 32 and 256: emb/s and
// GFLOP/s (Net.FLOPs per image). Sub-benchmarks are named device/batchN,
// the device as "cpu" or "opencl-P.D-GEMM", GEMM the matrix-product code:
// "tiled" unless MASKINV_BENCH_GEMM lists others ("tiled,clblast");
// MASKINV_BENCH_BATCHES replaces the batch sizes (scripts/gpu-check).
func BenchmarkEmbedDevices(b *testing.B) {
	net := loadShared(b, "fr_feature.onnx")
	models := []Model{net}
	infos, err := Devices()
	if err != nil {
		b.Logf("OpenCL devices: none (%v)", err)
	}
	gemms := []string{GEMMTiled}
	if g := os.Getenv("MASKINV_BENCH_GEMM"); g != "" {
		gemms = strings.Split(g, ",")
	}
	names := []string{"cpu"}
	for _, info := range infos {
		spec, err := ParseDeviceSpec(info.Spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, gemm := range gemms {
			dev, err := OpenDevice(spec, DeviceOptions{GEMM: gemm})
			if err != nil && gemm != GEMMTiled {
				b.Logf("%s with %s matrix products: skipped: %v", info.Spec, gemm, err)
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			defer dev.Close()
			m, err := dev.Bind(net)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s", info)
			models = append(models, m)
			names = append(names, strings.ReplaceAll(info.Spec, ":", "-")+"-"+gemm)
		}
	}
	batches := []int{1, 32, 256}
	if s := os.Getenv("MASKINV_BENCH_BATCHES"); s != "" {
		batches = batches[:0]
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("MASKINV_BENCH_BATCHES=%q: want batch sizes like 1,32,256", s)
			}
			batches = append(batches, n)
		}
	}
	for i, m := range models {
		name := names[i]
		for _, batch := range batches {
			b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) { benchmarkModel(b, m, batch) })
		}
	}
}

func benchmarkModel(b *testing.B, m Model, batch int) {
	in := NewTensor(append([]int{batch}, m.InputShape()[1:]...)...)
	for i := range in.Data {
		in.Data[i] = float32(i%255-127) / 128
	}
	ctx := context.Background()
	if _, err := m.Run(ctx, in); err != nil { // plans and kernels outside the timer
		b.Fatal(err)
	}
	flops := m.FLOPs() * float64(batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "emb/s")
	b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
}
