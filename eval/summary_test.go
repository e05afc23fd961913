package eval

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// exAPairs is example A (see metrics_test.go) split into two folds:
// fold 0 holds g .9 .6 and i .4 .1, fold 1 g .8 .3 and i .7 .2. (No test
// score equals a training midpoint, so rounding cannot flip a decision.)
func exAPairs() []Pair {
	folds := []int{0, 1, 0, 1, 1, 0, 1, 0}
	ps := make([]Pair, len(exAScores))
	for i := range ps {
		ps[i] = Pair{Score: exAScores[i], Same: exASame[i], Fold: folds[i]}
	}
	return ps
}

func TestSummarize(t *testing.T) {
	s, err := Summarize(exAPairs())
	if err != nil {
		t.Fatal(err)
	}
	// Fold 0: train on fold 1, ascending .2i .3g .7i .8g: accept-all 2,
	// then 3 (t .25), 2 (.5), 3 (.75), 2 → t .25. Test fold 0: .9g .6g
	// accepted (right), .4i accepted (wrong), .1i rejected (right): 3/4.
	// Fold 1: train on fold 0, ascending .1i .4i .6g .9g: 2, 3 (t .25),
	// 4 (t .5), 3, 2 → t .5. Test fold 1: .8g right, .3g wrong, .7i
	// wrong, .2i right: 2/4.
	// Accuracy (.75 + .5)/2 = .625, population std .125.
	// The other metrics are example A's, see TestCurveMetrics and
	// TestScoreMomentsFDR: EER .25, AUC 13/16, FDR 6/7. FMR100 and
	// FMR1000: at FAR 0 the best TAR is .5, so FNMR .5 for both, and
	// TAR@1e-3 = .5. Threshold on all pairs: .25 (TestBestThreshold).
	want := Summary{
		Accuracy: 0.625, AccuracyStd: 0.125, Threshold: 0.25, FoldThresholds: []float64{0.25, 0.5},
		EER: 0.25, EERThreshold: 0.6, FMR100: 0.5, FMR1000: 0.5, AUC: 13.0 / 16,
		GenuineMean: 0.65, GenuineStd: math.Sqrt(0.0525), ImpostorMean: 0.35, ImpostorStd: math.Sqrt(0.0525),
		FDR: 6.0 / 7, TARAtFAR1e3: 0.5, NPairs: 8, NGenuine: 4, NImpostor: 4,
	}
	checkSummary(t, s, want)
}

func checkSummary(t *testing.T, got, want Summary) {
	t.Helper()
	floats := []struct {
		name      string
		got, want float64
	}{
		{"accuracy", got.Accuracy, want.Accuracy}, {"accuracy_std", got.AccuracyStd, want.AccuracyStd},
		{"threshold", got.Threshold, want.Threshold}, {"eer", got.EER, want.EER},
		{"eer_threshold", got.EERThreshold, want.EERThreshold}, {"fmr100", got.FMR100, want.FMR100},
		{"fmr1000", got.FMR1000, want.FMR1000}, {"auc", got.AUC, want.AUC},
		{"genuine_mean", got.GenuineMean, want.GenuineMean}, {"genuine_std", got.GenuineStd, want.GenuineStd},
		{"impostor_mean", got.ImpostorMean, want.ImpostorMean}, {"impostor_std", got.ImpostorStd, want.ImpostorStd},
		{"fdr", got.FDR, want.FDR}, {"tar", got.TARAtFAR1e3, want.TARAtFAR1e3},
	}
	for _, f := range floats {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if len(got.FoldThresholds) != len(want.FoldThresholds) {
		t.Errorf("fold thresholds %v, want %v", got.FoldThresholds, want.FoldThresholds)
	} else {
		for i := range got.FoldThresholds {
			if !near(got.FoldThresholds[i], want.FoldThresholds[i]) {
				t.Errorf("fold thresholds %v, want %v", got.FoldThresholds, want.FoldThresholds)
			}
		}
	}
	if got.NPairs != want.NPairs || got.NGenuine != want.NGenuine || got.NImpostor != want.NImpostor || got.NFailed != want.NFailed {
		t.Errorf("counts %d/%d/%d/%d, want %d/%d/%d/%d", got.NPairs, got.NGenuine, got.NImpostor, got.NFailed,
			want.NPairs, want.NGenuine, want.NImpostor, want.NFailed)
	}
}

func TestSummarizeFailed(t *testing.T) {
	// In the decision metrics a failed pair counts as score −1 whatever
	// score it carries: flagging the genuine .9 and the impostor .7 as
	// failed must give the summary of the same data with those scores set
	// to −1, plus NFailed = 2. The score moments and FDR are those of the
	// six pairs that did not fail: −1 is not a score the recogniser gave.
	failed := exAPairs()
	failed[0].Failed, failed[4].Failed = true, true
	manual := exAPairs()
	manual[0].Score, manual[4].Score = -1, -1
	got, err := Summarize(failed)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Summarize(manual)
	if err != nil {
		t.Fatal(err)
	}
	want.NFailed = 2
	var scores []float64
	var same []bool
	for _, p := range failed {
		if !p.Failed {
			scores, same = append(scores, p.Score), append(same, p.Same)
		}
	}
	g, im := ScoreMoments(scores, same) // genuine .8 .6 .3, impostor .4 .2 .1
	want.GenuineMean, want.GenuineStd, want.ImpostorMean, want.ImpostorStd = g.Mean, g.Std, im.Mean, im.Std
	want.FDR = FDR(g, im)
	if !near(got.GenuineMean, 1.7/3) || !near(got.ImpostorMean, 0.7/3) {
		t.Errorf("means %v, %v over the scored pairs, want 1.7/3 and 0.7/3", got.GenuineMean, got.ImpostorMean)
	}
	checkSummary(t, got, want)
	// The failed genuine costs: genuine −1 .8 .6 .3 against impostor
	// −1 .4 .2 .1. .8 and .6 beat all 4, .3 beats 3, and −1 ties −1 for
	// ½: 11.5 of 16, down from 13.
	if !near(got.AUC, 11.5/16) {
		t.Errorf("AUC with failures = %v, want 11.5/16", got.AUC)
	}
}

func TestSummarizeErrors(t *testing.T) {
	ps := exAPairs()
	for i := range ps {
		ps[i].Fold = 0
	}
	if _, err := Summarize(ps); !errors.Is(err, ErrFolds) {
		t.Errorf("one fold: err = %v, want ErrFolds", err)
	}
	if _, err := Summarize(nil); !errors.Is(err, ErrNoGenuine) {
		t.Errorf("no pairs: err = %v, want ErrNoGenuine", err)
	}
	// Nothing measured: all pairs, or all of one class, failed. Before,
	// every pair at −1 gave a full row (50 %, threshold −2).
	for _, tt := range []struct {
		name string
		fail func(Pair) bool
		msg  string
	}{
		{"all", func(Pair) bool { return true }, "all 8 pairs failed"},
		{"genuine", func(p Pair) bool { return p.Same }, "all 4 genuine pairs failed"},
		{"impostor", func(p Pair) bool { return !p.Same }, "all 4 impostor pairs failed"},
	} {
		ps := exAPairs()
		for i := range ps {
			ps[i].Failed = tt.fail(ps[i])
		}
		_, err := Summarize(ps)
		if !errors.Is(err, ErrNoScores) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s failed: err = %v, want ErrNoScores saying %q", tt.name, err, tt.msg)
		}
	}
}

func TestSummaryJSON(t *testing.T) {
	// Perfectly separated constant classes: FDR is 1²/0 = +Inf and must be
	// capped, or encoding fails.
	ps := []Pair{
		{Score: 1, Same: true, Fold: 0}, {Score: 0, Same: false, Fold: 0},
		{Score: 1, Same: true, Fold: 1}, {Score: 0, Same: false, Fold: 1},
	}
	s, err := Summarize(ps)
	if err != nil {
		t.Fatal(err)
	}
	if s.FDR != math.MaxFloat64 {
		t.Errorf("FDR = %v, want MaxFloat64", s.FDR)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accuracy", "accuracy_std", "eer", "fmr100", "fmr1000", "auc", "genuine_mean",
		"impostor_mean", "fdr", "tar_at_far_1e-3", "n_pairs", "n_failed"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	checkSummary(t, back, s)
}

// benchPairs makes n pairs in 10 folds, half genuine, with overlapping
// score distributions, from a fixed seed.
func benchPairs(n int) []Pair {
	rng := rand.New(rand.NewPCG(7, 11))
	ps := make([]Pair, n)
	for i := range ps {
		same := i%2 == 0
		mu := 0.1
		if same {
			mu = 0.6
		}
		ps[i] = Pair{Score: mu + 0.2*rng.NormFloat64(), Same: same, Fold: i * 10 / n, Failed: rng.IntN(100) == 0}
	}
	return ps
}

func benchmarkSummarize(b *testing.B, n int) {
	ps := benchPairs(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(ps); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkROC(b *testing.B, n int) {
	scores, same, _ := Columns(benchPairs(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ROC(scores, same); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkKFold(b *testing.B, n int) {
	scores, same, folds := Columns(benchPairs(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KFold(scores, same, folds); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSummarize6000(b *testing.B) { benchmarkSummarize(b, 6000) }
func BenchmarkROC6000(b *testing.B)       { benchmarkROC(b, 6000) }
func BenchmarkKFold6000(b *testing.B)     { benchmarkKFold(b, 6000) }
