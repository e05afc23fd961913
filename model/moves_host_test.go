package model

import (
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

// TestRunMoverMatchesReference: the CPU's strided copies give what the
// portable reference gives, for every kind of movement, over outputs
// holding stale values (a mover must write every element it owns).
func TestRunMoverMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	var movers []mover
	for _, tc := range []struct {
		shape tensor.Shape
		perm  []int
	}{
		{tensor.Shape{1, 12, 30, 40}, []int{0, 2, 3, 1}},
		{tensor.Shape{2, 3, 4, 5}, []int{3, 1, 0, 2}},
		{tensor.Shape{7, 1, 5}, []int{2, 1, 0}},
		{tensor.Shape{6}, []int{0}},
	} {
		k, err := newTransposeKernel(tc.shape, tc.perm)
		if err != nil {
			t.Fatal(err)
		}
		movers = append(movers, k, gradOf{k, 2})
	}
	for _, tc := range []struct {
		axis   int
		shapes []tensor.Shape
	}{
		{1, []tensor.Shape{{1, 16, 30, 40}, {1, 16, 30, 40}, {1, 16, 30, 40}}},
		{1, []tensor.Shape{{1, 3600, 4}, {1, 600, 4}, {1, 160, 4}, {1, 60, 4}}},
		{2, []tensor.Shape{{2, 4420, 2}, {2, 4420, 2}}},
		{0, []tensor.Shape{{2, 3}, {1, 3}}},
	} {
		k, err := newConcatKernel(tc.axis, tc.shapes)
		if err != nil {
			t.Fatal(err)
		}
		movers = append(movers, k)
	}
	slice := sliceKernel{shape: tensor.Shape{2, 4420, 4}, starts: []int{0, 0, 2}, ends: []int{2, 4420, 4}, out: tensor.Shape{2, 4420, 2}}
	movers = append(movers, slice, sliceGrad{slice}, reshapeKernel{tensor.Shape{2, 6}, tensor.Shape{3, 4}})
	for _, m := range movers {
		in := make([][]float32, 0, 4)
		var need []int
		for _, c := range mustCopies(m) {
			for len(need) <= c.src {
				need = append(need, 0)
			}
			end := c.srcOff + 1
			for d, n := range c.dims {
				end += (n - 1) * c.srcStride[d]
			}
			need[c.src] = max(need[c.src], end)
		}
		for _, n := range need {
			s := make([]float32, n)
			for i := range s {
				s[i] = r.Float32()
			}
			in = append(in, s)
		}
		n := m.outShape().TotalSize()
		want, got := make([]float32, n), make([]float32, n)
		for i := range got {
			want[i], got[i] = -1, -2 // stale, and different
		}
		runCopies(m, want, in)
		runMover(m, got, in)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: output %d = %v, reference %v", m, i, got[i], want[i])
			}
		}
	}
}

func mustCopies(m mover) []stridedCopy {
	cps, _ := m.copies()
	return cps
}
