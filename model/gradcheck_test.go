package model

import (
	"math"
	"math/rand"
	"testing"
)

// randSlice returns n values in [-1,1) from a fixed-seed source.
func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*r.Float64() - 1
	}
	return s
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

// checkGradients compares every vjp kernel of k with central finite
// differences of the scalar loss L = Σ y·r for a fixed random r.
func checkGradients(t *testing.T, k kernel, in [][]float64) {
	t.Helper()
	r := rand.New(rand.NewSource(7))
	y := run64(k, in)
	weights := randSlice(r, len(y))
	loss := func() float64 {
		out := run64(k, in)
		var s float64
		for i := range out {
			s += out[i] * weights[i]
		}
		return s
	}
	for i := range in {
		g := k.vjp(i)
		if g == nil {
			continue
		}
		args := append(append([][]float64{}, in...), y, weights)
		analytic := run64(g, args)
		if len(analytic) != len(in[i]) {
			t.Fatalf("%s: gradient of input %d has %d values, input has %d", k, i, len(analytic), len(in[i]))
		}
		const h = 1e-6
		var worst float64
		for j := range in[i] {
			orig := in[i][j]
			in[i][j] = orig + h
			up := loss()
			in[i][j] = orig - h
			down := loss()
			in[i][j] = orig
			numeric := (up - down) / (2 * h)
			err := math.Abs(numeric-analytic[j]) / math.Max(1, math.Abs(numeric))
			worst = math.Max(worst, err)
		}
		if worst > 1e-6 {
			t.Errorf("%s: gradient of input %d off by %.3g (relative)", k, i, worst)
		}
	}
}

// checkFast32 compares a kernel's float32 path with its float64 reference.
func checkFast32(t *testing.T, k kernel, in [][]float64, tol float64) {
	t.Helper()
	want := run64(k, in)
	in32 := make([][]float32, len(in))
	for i := range in {
		in32[i] = to32(in[i])
	}
	got := make([]float32, len(want))
	k.do32(got, in32)
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: float32 output %d = %v, reference %v", k, i, got[i], want[i])
		}
	}
}
