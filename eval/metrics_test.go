package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

const tol = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// Example A, used by several tests:
//
//	genuine  0.9 0.8 0.6 0.3
//	impostor 0.7 0.4 0.2 0.1
//
// Sorted descending: .9g .8g .7i .6g .4i .3g .2i .1i, so lowering the
// threshold through each score gives the operating points (FAR, TAR)
// (0,0) (0,.25) (0,.5) (.25,.5) (.25,.75) (.5,.75) (.5,1) (.75,1) (1,1).
var (
	exAScores = []float64{0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1}
	exASame   = []bool{true, true, true, true, false, false, false, false}
)

func TestROCPoints(t *testing.T) {
	c, err := ROC(exAScores, exASame)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{
		{math.Inf(1), 0, 0},
		{0.9, 0, 0.25}, {0.8, 0, 0.5}, {0.7, 0.25, 0.5}, {0.6, 0.25, 0.75},
		{0.4, 0.5, 0.75}, {0.3, 0.5, 1}, {0.2, 0.75, 1}, {0.1, 1, 1},
	}
	if !slices.Equal(c.Points, want) {
		t.Errorf("points\n got %v\nwant %v", c.Points, want)
	}
	if c.Genuine != 4 || c.Impostor != 4 {
		t.Errorf("counts %d/%d, want 4/4", c.Genuine, c.Impostor)
	}
	det := c.DET()
	if det[3] != (DETPoint{Threshold: 0.7, FMR: 0.25, FNMR: 0.5}) {
		t.Errorf("DET[3] = %v", det[3])
	}
}

func TestCurveMetrics(t *testing.T) {
	tests := []struct {
		name        string
		scores      []float64
		same        []bool
		auc         float64
		eer, eerThr float64
		tarAt       float64 // TARAtFAR(far)
		far         float64
	}{
		{
			// Genuine-beats-impostor count: .9 and .8 beat all 4, .6 beats
			// .4 .2 .1, .3 beats .2 .1: 4+4+3+2 = 13 of 16 pairs.
			// FAR − FRR along the curve: −1 −.75 −.5 −.25 then 0 at
			// threshold .6 (FAR .25, FRR .25): an exact crossing, EER .25.
			// At FAR <= .25 the best TAR is .75 (threshold .6).
			name: "example A", scores: exAScores, same: exASame,
			auc: 13.0 / 16, eer: 0.25, eerThr: 0.6, tarAt: 0.75, far: 0.25,
		},
		{
			// Ties: genuine .5 .5, impostor .5 .2. Mann-Whitney: the two
			// (.5,.5) pairs count ½ each, the two (.5,.2) pairs 1 each:
			// 3/4. ROC (0,0) → (.5,1) at .5 → (1,1): trapezoid .25 + .5.
			// FAR − FRR goes −1 → .5, crossing at α = 1/1.5 = 2/3 of the
			// way: EER = 2/3 · .5 = 1/3; the start is +Inf so the
			// threshold is the finite end, .5.
			// No threshold accepts a genuine pair without an impostor:
			// TAR at FAR 0 is 0.
			name:   "ties",
			scores: []float64{0.5, 0.5, 0.5, 0.2}, same: []bool{true, true, false, false},
			auc: 0.75, eer: 1.0 / 3, eerThr: 0.5, tarAt: 0, far: 0,
		},
		{
			// Perfect separation: AUC 1; FAR − FRR = −1 −.5 0, crossing
			// exactly at threshold .8 with EER 0; TAR 1 at FAR 0.
			name:   "separated",
			scores: []float64{0.9, 0.8, 0.1, 0.2}, same: []bool{true, true, false, false},
			auc: 1, eer: 0, eerThr: 0.8, tarAt: 1, far: 0,
		},
		{
			// Reversed: every impostor above every genuine. AUC 0.
			// Curve (0,0) (.5,0) (1,0) (1,.5) (1,1); FAR − FRR = −1, −.5,
			// 0 at threshold .8 → EER 1. Nothing genuine at FAR <= .5.
			name:   "reversed",
			scores: []float64{0.1, 0.2, 0.9, 0.8}, same: []bool{true, true, false, false},
			auc: 0, eer: 1, eerThr: 0.8, tarAt: 0, far: 0.5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ROC(tt.scores, tt.same)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AUC(); !near(got, tt.auc) {
				t.Errorf("AUC = %v, want %v", got, tt.auc)
			}
			eer, thr := c.EER()
			if !near(eer, tt.eer) || !near(thr, tt.eerThr) {
				t.Errorf("EER = %v at %v, want %v at %v", eer, thr, tt.eer, tt.eerThr)
			}
			if got := c.TARAtFAR(tt.far); !near(got, tt.tarAt) {
				t.Errorf("TARAtFAR(%v) = %v, want %v", tt.far, got, tt.tarAt)
			}
			if got := c.FNMRAtFMR(tt.far); !near(got, 1-tt.tarAt) {
				t.Errorf("FNMRAtFMR(%v) = %v, want %v", tt.far, got, 1-tt.tarAt)
			}
		})
	}
}

func TestEERInterpolated(t *testing.T) {
	// genuine .9 .3, impostor .6 .1. Curve: (0,0) (0,.5)@.9 (.5,.5)@.6
	// (.5,1)@.3 (1,1)@.1. FAR − FRR: −1, −.5, 0 at .6 → exact, EER .5.
	// Shift one impostor to make the crossing fall inside a segment:
	// genuine .9 .8 .3, impostor .6 .1 (G=3, I=2). Curve: (0,0) (0,1/3)@.9
	// (0,2/3)@.8 (.5,2/3)@.6 (.5,1)@.3 (1,1)@.1. FAR − FRR: at .8 it is
	// 0 − 1/3 = −1/3; at .6 it is .5 − 1/3 = 1/6. α = (1/3)/(1/3+1/6) =
	// 2/3, EER = 0 + 2/3 · .5 = 1/3 (and FRR stays 1/3 on that segment),
	// threshold .8 + 2/3 · (.6 − .8) = .8 − 2/15.
	c, err := ROC([]float64{0.9, 0.8, 0.3, 0.6, 0.1}, []bool{true, true, true, false, false})
	if err != nil {
		t.Fatal(err)
	}
	eer, thr := c.EER()
	if !near(eer, 1.0/3) || !near(thr, 0.8-2.0/15) {
		t.Errorf("EER = %v at %v, want 1/3 at %v", eer, thr, 0.8-2.0/15)
	}
}

func TestFMRAtLimit(t *testing.T) {
	// 3 impostors of 3000 accepted is exactly FAR 1e-3 and must count as
	// "<= 1e-3" despite rounding. Genuine: 10 pairs at .9. Impostors: 3
	// at .95, the rest at 0. Thresholds: .95 → FAR 1e-3, TAR 0; .9 →
	// FAR 1e-3, TAR 1. So TAR@1e-3 = 1, and FMR100 = FMR1000 = 0.
	var scores []float64
	var same []bool
	for range 10 {
		scores, same = append(scores, 0.9), append(same, true)
	}
	for i := range 3000 {
		s := 0.0
		if i < 3 {
			s = 0.95
		}
		scores, same = append(scores, s), append(same, false)
	}
	c, err := ROC(scores, same)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TARAtFAR(1e-3); got != 1 {
		t.Errorf("TAR@1e-3 = %v, want 1", got)
	}
	// At FAR <= 1e-4 only the +Inf point qualifies.
	if got := c.FNMRAtFMR(1e-4); got != 1 {
		t.Errorf("FNMR@1e-4 = %v, want 1", got)
	}
}

func TestROCErrors(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		same   []bool
		want   error
	}{
		{"empty", nil, nil, ErrNoGenuine},
		{"no impostor", []float64{1, 2}, []bool{true, true}, ErrNoImpostor},
		{"no genuine", []float64{1, 2}, []bool{false, false}, ErrNoGenuine},
		{"NaN", []float64{1, math.NaN()}, []bool{true, false}, ErrNotFinite},
		{"Inf", []float64{math.Inf(-1), 0}, []bool{true, false}, ErrNotFinite},
	}
	for _, tt := range tests {
		if _, err := ROC(tt.scores, tt.same); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ROC with mismatched lengths did not panic")
		}
	}()
	ROC([]float64{1}, nil)
}

// randomPairs draws scores quantised to 0.05 so that ties are common.
func randomPairs(rng *rand.Rand, n int) ([]float64, []bool) {
	scores, same := make([]float64, n), make([]bool, n)
	for i := range scores {
		same[i] = rng.IntN(2) == 0
		mu := 0.1
		if same[i] {
			mu = 0.5
		}
		s := mu + 0.25*rng.NormFloat64()
		scores[i] = math.Round(s*20) / 20
	}
	same[0], same[1] = true, false // both classes present
	return scores, same
}

// naiveAUC is the Mann-Whitney probability over all genuine×impostor pairs.
func naiveAUC(scores []float64, same []bool) float64 {
	var wins float64
	var n int
	for i, g := range scores {
		if !same[i] {
			continue
		}
		for j, im := range scores {
			if same[j] {
				continue
			}
			n++
			switch {
			case g > im:
				wins++
			case g == im:
				wins += 0.5
			}
		}
	}
	return wins / float64(n)
}

// naiveRates returns FAR and TAR of one threshold by direct counting.
func naiveRates(scores []float64, same []bool, t float64) (far, tar float64) {
	var fa, ta, ni, ng float64
	for i, s := range scores {
		if same[i] {
			ng++
			if s >= t {
				ta++
			}
		} else {
			ni++
			if s >= t {
				fa++
			}
		}
	}
	return fa / ni, ta / ng
}

func TestAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 2 + rng.IntN(200)
		scores, same := randomPairs(rng, n)
		orig := slices.Clone(scores)
		origSame := slices.Clone(same)
		c, err := ROC(scores, same)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(scores, orig) || !slices.Equal(same, origSame) {
			t.Fatal("ROC modified its input")
		}
		if got, want := c.AUC(), naiveAUC(scores, same); math.Abs(got-want) > 1e-9 {
			t.Errorf("trial %d: AUC %v, naive %v", trial, got, want)
		}
		for _, p := range c.Points[1:] {
			far, tar := naiveRates(scores, same, p.Threshold)
			if !near(p.FAR, far) || !near(p.TAR, tar) {
				t.Errorf("trial %d: point %v, naive FAR %v TAR %v", trial, p, far, tar)
			}
		}
		// TAR at FAR: best over every distinct score used as threshold.
		for _, target := range []float64{0, 0.01, 0.1, 0.5} {
			best := 0.0
			for _, th := range scores {
				far, tar := naiveRates(scores, same, th)
				if far <= target {
					best = math.Max(best, tar)
				}
			}
			if got := c.TARAtFAR(target); !near(got, best) {
				t.Errorf("trial %d: TAR@%v = %v, naive %v", trial, target, got, best)
			}
		}
		// EER lies between the FAR and FRR of each end of its segment,
		// and FAR = FRR there by construction.
		eer, _ := c.EER()
		if eer < 0 || eer > 1 {
			t.Errorf("trial %d: EER %v", trial, eer)
		}
		// BestThreshold: no threshold does better, and its accuracy is
		// what Accuracy reports.
		th, acc, err := BestThreshold(scores, same)
		if err != nil {
			t.Fatal(err)
		}
		if got := Accuracy(scores, same, th); !near(got, acc) {
			t.Errorf("trial %d: Accuracy(best) %v, BestThreshold says %v", trial, got, acc)
		}
		for _, s := range scores {
			for _, cand := range []float64{s, s + 0.025, s - 1} {
				if a := Accuracy(scores, same, cand); a > acc+tol {
					t.Errorf("trial %d: threshold %v gives %v > best %v", trial, cand, a, acc)
				}
			}
		}
	}
}

func TestBestThreshold(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		same   []bool
		thr    float64
		acc    float64
	}{
		{
			// Ascending: .1i .2i .3g .4i .6g .7i .8g .9g. "Accept all"
			// (threshold .1−1) gets the 4 genuine right. Passing each
			// score: +1 −1 for impostor/genuine: 5 (t .15), 6 (t .25),
			// 5 (.35), 6 (.5), 5 (.65), 6 (.75), 5 (.85), 4 (1.9).
			// Three candidates tie at 6/8; the lowest, .25, wins.
			name: "example A", scores: exAScores, same: exASame, thr: 0.25, acc: 0.75,
		},
		{
			// All genuine: "accept all" (min−1) is right for all.
			name: "one class", scores: []float64{0.3, 0.5}, same: []bool{true, true}, thr: -0.7, acc: 1,
		},
		{
			// All impostor: best is "reject all", max+1.
			name: "impostors", scores: []float64{0.3, 0.5}, same: []bool{false, false}, thr: 1.5, acc: 1,
		},
		{
			// Adjacent floats: the midpoint rounds to the lower score, so
			// the upper score itself is the threshold.
			name:   "adjacent",
			scores: []float64{0.5, math.Nextafter(0.5, 1)}, same: []bool{false, true},
			thr: math.Nextafter(0.5, 1), acc: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thr, acc, err := BestThreshold(tt.scores, tt.same)
			if err != nil {
				t.Fatal(err)
			}
			if !near(thr, tt.thr) || !near(acc, tt.acc) {
				t.Errorf("got %v (acc %v), want %v (acc %v)", thr, acc, tt.thr, tt.acc)
			}
		})
	}
	if _, _, err := BestThreshold(nil, nil); !errors.Is(err, ErrNoPairs) {
		t.Errorf("empty: err = %v", err)
	}
}

func TestKFold(t *testing.T) {
	// Three folds of one genuine and one impostor each, labelled 7, 3, 5
	// (labels are arbitrary; results come back sorted by label):
	//
	//	fold 7: g .9  i .3
	//	fold 3: g .6  i .5
	//	fold 5: g .4  i .7
	//
	// Fold 3: train on 7+5, ascending .3i .4g .7i .9g: accept-all 2,
	// then 3 (t .35), 2 (.55), 3 (.8), 2 → t .35, train 3/4. Test: .6g
	// accepted (right), .5i accepted (wrong): 1/2.
	// Fold 5: train on 7+3, ascending .3i .5i .6g .9g: 2, 3 (t .4), 4
	// (t .55), 3, 2 → t .55, train 1. Test: .4g rejected, .7i accepted:
	// 0/2.
	// Fold 7: train on 3+5, ascending .4g .5i .6g .7i: 2 (t .4−1), 1, 2,
	// 1, 2: first best is accept-all, t −.6, train 1/2. Test: .9g right,
	// .3i wrong: 1/2.
	// Mean (.5 + 0 + .5)/3 = 1/3; population variance
	// ((1/6)² + (1/3)² + (1/6)²)/3 = (6/36)/3 = 1/18.
	scores := []float64{0.9, 0.3, 0.6, 0.5, 0.4, 0.7}
	same := []bool{true, false, true, false, true, false}
	folds := []int{7, 7, 3, 3, 5, 5}
	r, err := KFold(scores, same, folds)
	if err != nil {
		t.Fatal(err)
	}
	want := []Fold{
		{Fold: 3, Threshold: 0.35, TrainAccuracy: 0.75, Accuracy: 0.5, Pairs: 2},
		{Fold: 5, Threshold: 0.55, TrainAccuracy: 1, Accuracy: 0, Pairs: 2},
		{Fold: 7, Threshold: -0.6, TrainAccuracy: 0.5, Accuracy: 0.5, Pairs: 2},
	}
	if len(r.Folds) != len(want) {
		t.Fatalf("folds %v", r.Folds)
	}
	for i, f := range r.Folds {
		w := want[i]
		if f.Fold != w.Fold || !near(f.Threshold, w.Threshold) || !near(f.TrainAccuracy, w.TrainAccuracy) ||
			!near(f.Accuracy, w.Accuracy) || f.Pairs != w.Pairs {
			t.Errorf("fold %d: got %+v, want %+v", i, f, w)
		}
	}
	if !near(r.Mean, 1.0/3) || !near(r.Std, math.Sqrt(1.0/18)) {
		t.Errorf("mean ± std = %v ± %v, want 1/3 ± sqrt(1/18)", r.Mean, r.Std)
	}

	if _, err := KFold(scores, same, make([]int, len(scores))); !errors.Is(err, ErrFolds) {
		t.Errorf("one fold: err = %v, want ErrFolds", err)
	}
}

func TestAssignFolds(t *testing.T) {
	// Genuine pairs (0,1,3,6) get folds 0,1,0,1; impostors (2,4,5) get
	// 0,1,0.
	same := []bool{true, true, false, true, false, false, true}
	got := AssignFolds(same, 2)
	want := []int{0, 1, 0, 0, 1, 0, 1}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestScoreMomentsFDR(t *testing.T) {
	// Example A: genuine mean 2.6/4 = .65, deviations .25 .15 −.05 −.35,
	// squares sum .21, variance .0525. Impostor mean 1.4/4 = .35,
	// deviations .35 .05 −.15 −.25, variance .0525 as well.
	// FDR = .3² / (.0525 + .0525) = .09/.105 = 6/7.
	g, im := ScoreMoments(exAScores, exASame)
	if !near(g.Mean, 0.65) || !near(g.Std, math.Sqrt(0.0525)) || g.N != 4 {
		t.Errorf("genuine %+v", g)
	}
	if !near(im.Mean, 0.35) || !near(im.Std, math.Sqrt(0.0525)) || im.N != 4 {
		t.Errorf("impostor %+v", im)
	}
	if f := FDR(g, im); !near(f, 6.0/7) {
		t.Errorf("FDR = %v, want 6/7", f)
	}
	if f := FDR(Moments{Mean: 1}, Moments{Mean: 0}); !math.IsInf(f, 1) {
		t.Errorf("FDR of zero spreads = %v, want +Inf", f)
	}
}
