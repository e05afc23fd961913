package model

import "testing"

// TestGemmPinsOpenBLAS: every product runs with the engine's thread count,
// whatever OpenBLAS was set to before.
func TestGemmPinsOpenBLAS(t *testing.T) {
	a, b, c := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}, make([]float32, 4)
	gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	if got := openBLASThreads(); got != blasThreads {
		t.Errorf("OpenBLAS runs %d threads after a product, want %d", got, blasThreads)
	}
	if c[0] != 19 || c[3] != 50 {
		t.Errorf("product %v, want [19 22 43 50]", c)
	}
}
