package model

import (
	"testing"

	"gorgonia.org/tensor"
)

func benchmarkConv(b *testing.B, x, w tensor.Shape, group, stride, pad int) {
	g, err := newConvGeom(x, w, group, []int{stride, stride}, []int{pad, pad, pad, pad}, []int{1, 1}, true)
	if err != nil {
		b.Fatal(err)
	}
	in := [][]float32{make([]float32, x.TotalSize()), make([]float32, w.TotalSize()), make([]float32, g.m)}
	for i := range in[0] {
		in[0][i] = float32(i%13) / 13
	}
	y := make([]float32, g.outShape().TotalSize())
	k := convKernel{g: g}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.do32(y, in)
	}
	flops := 2 * float64(g.n*g.m*g.oh*g.ow) * float64(g.cg()*g.kh*g.kw)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConvDepthwise56(b *testing.B) {
	benchmarkConv(b, tensor.Shape{32, 64, 56, 56}, tensor.Shape{64, 1, 3, 3}, 64, 1, 1)
}
func BenchmarkConvDepthwise56Stride2(b *testing.B) {
	benchmarkConv(b, tensor.Shape{32, 128, 56, 56}, tensor.Shape{128, 1, 3, 3}, 128, 2, 1)
}
func BenchmarkConvPointwise28(b *testing.B) {
	benchmarkConv(b, tensor.Shape{32, 128, 28, 28}, tensor.Shape{64, 128, 1, 1}, 1, 1, 0)
}
func BenchmarkConvPointwise7(b *testing.B) {
	benchmarkConv(b, tensor.Shape{32, 128, 7, 7}, tensor.Shape{512, 128, 1, 1}, 1, 1, 0)
}
func BenchmarkConv3x3First(b *testing.B) {
	benchmarkConv(b, tensor.Shape{32, 3, 112, 112}, tensor.Shape{64, 3, 3, 3}, 1, 2, 1)
}
