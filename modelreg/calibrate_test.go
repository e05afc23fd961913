package modelreg

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/maskinv/workbench/eval"
)

// TestCalibrateSeparable: with folds whose genuine and impostor scores do
// not overlap, each fold's best threshold (eval's rule: midpoint of the
// best split, the lowest among equals) lies between the highest impostor
// and the lowest genuine score of the other folds, so the result is known
// in closed form.
func TestCalibrateSeparable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var scores []float64
	var same []bool
	var folds []int
	for f := 1; f <= 10; f++ {
		for i := 0; i < 60; i++ {
			g := i%2 == 0
			s := 0.05 + 0.2*rng.Float64() // impostors in [0.05, 0.25)
			if g {
				s = 0.35 + 0.5*rng.Float64() // genuine in [0.35, 0.85)
			}
			scores, same, folds = append(scores, s), append(same, g), append(folds, f)
		}
	}
	threshold, cal, err := Calibrate("synthetic", scores, same, folds)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for f := 1; f <= 10; f++ {
		maxImp, minGen := math.Inf(-1), math.Inf(1)
		for i, s := range scores {
			if folds[i] == f {
				continue
			}
			if same[i] {
				minGen = min(minGen, s)
			} else {
				maxImp = max(maxImp, s)
			}
		}
		ft := (maxImp + minGen) / 2
		if math.Abs(cal.FoldThresholds[f-1]-ft) > 1e-12 {
			t.Errorf("fold %d threshold %v, want %v", f, cal.FoldThresholds[f-1], ft)
		}
		want += ft / 10
	}
	if math.Abs(threshold-want) > 1e-12 {
		t.Errorf("threshold %v, want %v", threshold, want)
	}
	if cal.Accuracy != 1 || cal.AccuracyStd != 0 || cal.Pairs != 600 || len(cal.FoldThresholds) != 10 || cal.Dataset != "synthetic" {
		t.Errorf("calibration record %+v", cal)
	}
}

func TestCalibrateErrors(t *testing.T) {
	if _, _, err := Calibrate("x", []float64{0.1, 0.2}, []bool{true, false}, []int{1, 1}); !errors.Is(err, eval.ErrFolds) {
		t.Errorf("one fold: %v, want eval.ErrFolds", err)
	}
	if _, _, err := Calibrate("x", []float64{math.NaN(), 0.2}, []bool{true, false}, []int{1, 2}); !errors.Is(err, eval.ErrNotFinite) {
		t.Errorf("NaN score: %v, want eval.ErrNotFinite", err)
	}
	if _, _, err := Calibrate("x", []float64{0.1}, []bool{true, false}, []int{1}); err == nil {
		t.Error("mismatched lengths accepted")
	}
}
