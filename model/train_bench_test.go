package model

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchmarkTrain times one training step of the recogniser on the learner:
// forward, loss hook, backward and, with update, the gradient norm and the
// SGD update as a trainer runs them. FLOPs counts the forward pass ×3
// (forward, and the input and weight gradients), the usual estimate.
func benchmarkTrain(b *testing.B, net *Net, l Learner, update bool) {
	batch := l.Batch()
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
	step := func() {
		if _, _, err := l.Step(ctx, in, loss); err != nil {
			b.Fatal(err)
		}
		if !update {
			return
		}
		sq, err := l.GradSquares()
		if err != nil {
			b.Fatal(err)
		}
		s := SGDStep{LR: 1e-5, Momentum: 0.9, WeightDecay: 5e-4, Clip: min(1, 5/math.Sqrt(sq))}
		if err := l.SGD(s); err != nil {
			b.Fatal(err)
		}
	}
	step() // plans and kernels outside the timer
	flops := 3 * net.FLOPs() * float64(batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/s, "img/s")
	b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
}

func benchmarkTrainCPU(b *testing.B, batch int) {
	net := loadShared(b, "fr_feature.onnx")
	tr, err := net.Trainable(batch)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkTrain(b, net, tr, false)
}

// BenchmarkTrainBatch16 and 32 time Trainable.Step alone (forward, loss
// hook, backward) on the CPU engine, as docs/training.md compares it with
// PyTorch.
func BenchmarkTrainBatch16(b *testing.B) { benchmarkTrainCPU(b, 16) }
func BenchmarkTrainBatch32(b *testing.B) { benchmarkTrainCPU(b, 32) }

// BenchmarkTrainDevices measures a whole training step of the recogniser
// (Step, GradSquares, SGD) on the CPU engine and on every OpenCL device in
// the same run: img/s and GFLOP/s. Sub-benchmarks are device/batchN, the device as "cpu" or
// "opencl-P.D"; MASKINV_BENCH_TRAIN_BATCHES lists the batch sizes
// (default 32, the trainer's).
func BenchmarkTrainDevices(b *testing.B) {
	net := loadShared(b, "fr_feature.onnx")
	devs := []*Device{CPU()}
	infos, err := Devices()
	if err != nil {
		b.Logf("OpenCL devices: none (%v)", err)
	}
	for _, info := range infos {
		spec, err := ParseDeviceSpec(info.Spec)
		if err != nil {
			b.Fatal(err)
		}
		dev, err := OpenDevice(spec, DeviceOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer dev.Close()
		b.Logf("%s", info)
		devs = append(devs, dev)
	}
	batches := []int{32}
	if s := os.Getenv("MASKINV_BENCH_TRAIN_BATCHES"); s != "" {
		batches = batches[:0]
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 2 {
				b.Fatalf("MASKINV_BENCH_TRAIN_BATCHES=%q: want batch sizes of at least 2, like 16,32", s)
			}
			batches = append(batches, n)
		}
	}
	for _, dev := range devs {
		name := "cpu"
		if !dev.IsCPU() {
			name = strings.ReplaceAll(dev.Info().Spec, ":", "-")
		}
		for _, batch := range batches {
			b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) {
				l, err := dev.Trainable(net, batch)
				if err != nil {
					b.Fatal(err)
				}
				if c, ok := l.(interface{ Close() error }); ok {
					defer c.Close()
				}
				benchmarkTrain(b, net, l, true)
			})
		}
	}
}
