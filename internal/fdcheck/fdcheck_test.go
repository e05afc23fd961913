package fdcheck

import (
	"math"
	"testing"
)

// TestWorst: the right gradient of a smooth function passes, a wrong one
// is reported by its error, and x comes back unchanged.
func TestWorst(t *testing.T) {
	x := []float64{0.3, -1.2, 2}
	f := func() float64 { return math.Sin(x[0])*x[1] + x[2]*x[2]*x[2] }
	right := []float64{math.Cos(x[0]) * x[1], math.Sin(x[0]), 3 * x[2] * x[2]}
	if w := Worst(x, right, f); w > 1e-8 {
		t.Errorf("right gradient off by %.3g", w)
	}
	wrong := append([]float64(nil), right...)
	wrong[2] += 0.5 // |∂f/∂x2| = 12: relative error 0.5/12
	if w := Worst(x, wrong, f); math.Abs(w-0.5/12) > 1e-6 {
		t.Errorf("wrong gradient reported off by %.6g, want %.6g", w, 0.5/12)
	}
	if x[0] != 0.3 || x[1] != -1.2 || x[2] != 2 {
		t.Errorf("x changed to %v", x)
	}
}
