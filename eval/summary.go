package eval

import (
	"errors"
	"fmt"
	"math"
)

// FailedScore is the score given to a pair whose face was not found: the
// lowest cosine, so the pair counts as "different" (see the package doc).
const FailedScore = -1.0

// Pair is one scored verification pair.
type Pair struct {
	Score  float64 // cosine similarity; ignored when Failed
	Same   bool    // genuine pair (same person)
	Fold   int     // fold label for KFold
	Failed bool    // no face found in one of the images
}

// Summary gathers the headline metrics of one protocol. Every float is
// finite, so the struct always encodes as JSON: FDR is capped at
// math.MaxFloat64 when both classes have zero spread, and 0/0 (equal
// constant classes) is reported as 0, i.e. no separation.
type Summary struct {
	Accuracy       float64   `json:"accuracy"`        // KFold mean
	AccuracyStd    float64   `json:"accuracy_std"`    // KFold population std
	Threshold      float64   `json:"threshold"`       // BestThreshold over all pairs
	FoldThresholds []float64 `json:"fold_thresholds"` // KFold thresholds, by fold label
	EER            float64   `json:"eer"`
	EERThreshold   float64   `json:"eer_threshold"`
	FMR100         float64   `json:"fmr100"`  // lowest FNMR at FMR <= 1%
	FMR1000        float64   `json:"fmr1000"` // lowest FNMR at FMR <= 0.1%
	AUC            float64   `json:"auc"`
	GenuineMean    float64   `json:"genuine_mean"` // moments and FDR: pairs that did not fail
	GenuineStd     float64   `json:"genuine_std"`
	ImpostorMean   float64   `json:"impostor_mean"`
	ImpostorStd    float64   `json:"impostor_std"`
	FDR            float64   `json:"fdr"`
	TARAtFAR1e3    float64   `json:"tar_at_far_1e-3"`
	NPairs         int       `json:"n_pairs"` // all pairs, failed included
	NGenuine       int       `json:"n_genuine"`
	NImpostor      int       `json:"n_impostor"`
	NFailed        int       `json:"n_failed"`
}

// Columns splits pairs into the parallel slices the metric functions take,
// with failed pairs scored FailedScore.
func Columns(pairs []Pair) (scores []float64, same []bool, folds []int) {
	scores = make([]float64, len(pairs))
	same = make([]bool, len(pairs))
	folds = make([]int, len(pairs))
	for i, p := range pairs {
		scores[i] = p.Score
		if p.Failed {
			scores[i] = FailedScore
		}
		same[i] = p.Same
		folds[i] = p.Fold
	}
	return scores, same, folds
}

// ErrNoScores: every pair of a class failed, so nothing was measured of
// it and its score moments are undefined.
var ErrNoScores = errors.New("eval: no scored pairs")

// Summarize computes the Summary of pairs. It needs both classes, each with
// at least one pair that did not fail (ErrNoScores), and at least two fold
// labels (see AssignFolds). Failed pairs enter the decision metrics
// (accuracy, thresholds, EER, FNMR, TAR, AUC) scored FailedScore, i.e.
// rejected; the score moments and FDR describe the scored pairs only, since
// FailedScore is no score the recogniser gave.
func Summarize(pairs []Pair) (Summary, error) {
	scores, same, folds := Columns(pairs)
	c, err := ROC(scores, same)
	if err != nil {
		return Summary{}, err
	}
	g, im := scoredMoments(pairs)
	switch {
	case g.N == 0 && im.N == 0:
		return Summary{}, fmt.Errorf("%w: all %d pairs failed", ErrNoScores, len(pairs))
	case g.N == 0:
		return Summary{}, fmt.Errorf("%w: all %d genuine pairs failed", ErrNoScores, c.Genuine)
	case im.N == 0:
		return Summary{}, fmt.Errorf("%w: all %d impostor pairs failed", ErrNoScores, c.Impostor)
	}
	kf, err := KFold(scores, same, folds)
	if err != nil {
		return Summary{}, err
	}
	t, _, err := BestThreshold(scores, same)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{
		Accuracy:     kf.Mean,
		AccuracyStd:  kf.Std,
		Threshold:    t,
		FMR100:       c.FNMRAtFMR(1e-2),
		FMR1000:      c.FNMRAtFMR(1e-3),
		AUC:          c.AUC(),
		GenuineMean:  g.Mean,
		GenuineStd:   g.Std,
		ImpostorMean: im.Mean,
		ImpostorStd:  im.Std,
		FDR:          finiteFDR(FDR(g, im)),
		TARAtFAR1e3:  c.TARAtFAR(1e-3),
		NPairs:       len(pairs),
		NGenuine:     c.Genuine,
		NImpostor:    c.Impostor,
	}
	s.EER, s.EERThreshold = c.EER()
	for _, f := range kf.Folds {
		s.FoldThresholds = append(s.FoldThresholds, f.Threshold)
	}
	for _, p := range pairs {
		if p.Failed {
			s.NFailed++
		}
	}
	return s, nil
}

// scoredMoments is ScoreMoments of the pairs that did not fail.
func scoredMoments(pairs []Pair) (genuine, impostor Moments) {
	var scores []float64
	var same []bool
	for _, p := range pairs {
		if !p.Failed {
			scores = append(scores, p.Score)
			same = append(same, p.Same)
		}
	}
	return ScoreMoments(scores, same)
}

func finiteFDR(f float64) float64 {
	switch {
	case math.IsNaN(f):
		return 0
	case math.IsInf(f, 1):
		return math.MaxFloat64
	}
	return f
}

// String is a one-line report for logs.
func (s Summary) String() string {
	return fmt.Sprintf("acc %.4f±%.4f  EER %.4f  FMR100 %.4f  FMR1000 %.4f  AUC %.4f  FDR %.3f  TAR@1e-3 %.4f  (%d pairs, %d failed)",
		s.Accuracy, s.AccuracyStd, s.EER, s.FMR100, s.FMR1000, s.AUC, s.FDR, s.TARAtFAR1e3, s.NPairs, s.NFailed)
}
