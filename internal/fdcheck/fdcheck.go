// Package fdcheck checks gradients against finite differences, the test
// every analytic gradient in the project gets (losses in train, ops and
// graphs in model).
package fdcheck

import "math"

// Step is the central-difference step: small enough for the truncation
// error (∝ Step²) and large enough for float64 rounding (∝ ε/Step).
const Step = 1e-6

// Worst perturbs each x[i] by ±Step, evaluates f, restores x[i], and
// returns the largest difference between the central difference and
// analytic[i], relative to max(1, |central difference|).
func Worst(x, analytic []float64, f func() float64) float64 {
	var worst float64
	for i := range x {
		orig := x[i]
		x[i] = orig + Step
		up := f()
		x[i] = orig - Step
		down := f()
		x[i] = orig
		num := (up - down) / (2 * Step)
		worst = math.Max(worst, math.Abs(num-analytic[i])/math.Max(1, math.Abs(num)))
	}
	return worst
}
