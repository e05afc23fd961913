package blaskernel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/maskinv/workbench/gallery"
)

// TestMatchesGoKernel: sgemm's scores are GoKernel's within float32
// rounding, and a search finds the same rows.
func TestMatchesGoKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const m, n, k = 5, 301, 512
	a, b := make([]float32, m*k), make([]float32, n*k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	want, got := make([]float32, m*n), make([]float32, m*n)
	gallery.GoKernel(m, n, k, a, b, want)
	if err := New().MulT(m, n, k, a, b, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-3 {
			t.Fatalf("c[%d] = %v, GoKernel %v", i, got[i], want[i])
		}
	}
	g, err := gallery.New(b, k)
	if err != nil {
		t.Fatal(err)
	}
	queries := [][]float32{a[:k], a[k : 2*k]}
	hg, _ := g.Search(context.Background(), queries, gallery.Options{K: 5})
	hb, err := g.Search(context.Background(), queries, gallery.Options{K: 5, Kernel: New()})
	if err != nil {
		t.Fatal(err)
	}
	for q := range hg {
		for i := range hg[q] {
			if hg[q][i].Row != hb[q][i].Row || math.Abs(float64(hg[q][i].Score-hb[q][i].Score)) > 1e-5 {
				t.Fatalf("query %d hit %d: BLAS %+v, Go %+v", q, i, hb[q][i], hg[q][i])
			}
		}
	}
}
