package model

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

func TestBinaryBroadcast(t *testing.T) {
	tests := []struct {
		fn   binaryFn
		a, b tensor.Shape
		av   []float64
		bv   []float64
		want []float64
	}{
		{fnAdd, tensor.Shape{2, 2}, tensor.Shape{2}, []float64{1, 2, 3, 4}, []float64{10, 20}, []float64{11, 22, 13, 24}},
		{fnSub, tensor.Shape{2, 1}, tensor.Shape{1, 3}, []float64{1, 2}, []float64{1, 2, 3}, []float64{0, -1, -2, 1, 0, -1}},
		{fnMul, tensor.Shape{3}, tensor.Shape{}, []float64{1, 2, 3}, []float64{2}, []float64{2, 4, 6}},
		{fnDiv, tensor.Shape{1}, tensor.Shape{2}, []float64{6}, []float64{2, 3}, []float64{3, 2}},
		{fnPRelu, tensor.Shape{1, 2, 2}, tensor.Shape{2, 1}, []float64{-1, 2, -3, 4}, []float64{0.5, 0.25}, []float64{-0.5, 2, -0.75, 4}},
	}
	for _, tc := range tests {
		k, err := newBinaryKernel(tc.fn, tc.a, tc.b)
		if err != nil {
			t.Fatalf("%s: %v", tc.fn, err)
		}
		got := run64(k, [][]float64{tc.av, tc.bv})
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", k, got, tc.want)
				break
			}
		}
	}
	if _, err := newBinaryKernel(fnAdd, tensor.Shape{2, 3}, tensor.Shape{2}); err == nil {
		t.Error("shapes 2x3 and 2 broadcast without error")
	}
}

func TestElementwiseGradients(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	shapes := []struct{ a, b tensor.Shape }{
		{tensor.Shape{2, 3, 4}, tensor.Shape{2, 3, 4}},
		{tensor.Shape{2, 3, 2, 2}, tensor.Shape{3, 1, 1}},
		{tensor.Shape{4, 1}, tensor.Shape{1, 5}},
		{tensor.Shape{3}, tensor.Shape{}},
	}
	for _, fn := range []binaryFn{fnAdd, fnSub, fnMul, fnDiv, fnPRelu} {
		for _, s := range shapes {
			k, err := newBinaryKernel(fn, s.a, s.b)
			if err != nil {
				t.Fatal(err)
			}
			a, b := randSlice(r, s.a.TotalSize()), randSlice(r, s.b.TotalSize())
			if fn == fnDiv {
				for i := range b {
					b[i] = 1 + math.Abs(b[i]) // keep away from the pole
				}
			}
			checkGradients(t, k, [][]float64{a, b})
			checkFast32(t, k, [][]float64{a, b}, 1e-6)
		}
	}
	for _, fn := range []unaryFn{fnRelu, fnExp} {
		k := unaryKernel{fn, tensor.Shape{3, 4}}
		checkGradients(t, k, [][]float64{randSlice(r, 12)})
	}
}

func TestBatchNorm(t *testing.T) {
	k := batchNormKernel{tensor.Shape{1, 2, 2}, 0}
	x := []float64{1, 3, 10, 20}
	in := [][]float64{x, {2, 1}, {0.5, 0}, {1, 10}, {4, 100}}
	want := []float64{0.5, 2.5, 0, 1} // (x−mean)·scale/√var + bias
	got := run64(k, in)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if x[0] != 1 || x[1] != 3 {
		t.Fatal("batch norm modified its input")
	}
	r := rand.New(rand.NewSource(4))
	k = batchNormKernel{tensor.Shape{2, 3, 2, 2}, 1e-5}
	variance := randSlice(r, 3)
	for i := range variance {
		variance[i] = 0.5 + math.Abs(variance[i])
	}
	checkGradients(t, k, [][]float64{randSlice(r, 24), randSlice(r, 3), randSlice(r, 3), randSlice(r, 3), variance})
}

func TestSoftmax(t *testing.T) {
	k, err := newSoftmaxKernel(tensor.Shape{1, 2, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	got := run64(k, [][]float64{{0, 0, 1000, 1000 + math.Log(3)}})
	want := []float64{0.5, 0.5, 0.25, 0.75}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	r := rand.New(rand.NewSource(5))
	k, _ = newSoftmaxKernel(tensor.Shape{2, 3, 4}, 1)
	checkGradients(t, k, [][]float64{randSlice(r, 24)})
}

func TestMatmul(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		a, b := tensor.Shape{3, 4}, tensor.Shape{4, 5}
		if tr[0] {
			a = tensor.Shape{4, 3}
		}
		if tr[1] {
			b = tensor.Shape{5, 4}
		}
		k, err := newMatmulKernel(a, b, tr[0], tr[1], 0.5)
		if err != nil {
			t.Fatal(err)
		}
		av, bv := randSlice(r, 12), randSlice(r, 20)
		got := run64(k, [][]float64{av, bv})
		at := func(s []float64, trans bool, rows, cols, i, j int) float64 {
			if trans {
				return s[j*rows+i]
			}
			return s[i*cols+j]
		}
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				var s float64
				for p := 0; p < 4; p++ {
					s += at(av, tr[0], 3, 4, i, p) * at(bv, tr[1], 4, 5, p, j)
				}
				if math.Abs(got[i*5+j]-0.5*s) > 1e-12 {
					t.Fatalf("%s: [%d,%d] = %v, want %v", k, i, j, got[i*5+j], 0.5*s)
				}
			}
		}
		checkGradients(t, k, [][]float64{av, bv})
	}
}
