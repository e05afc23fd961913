package modelreg

import (
	"fmt"

	"github.com/maskinv/workbench/eval"
)

// Calibration records how a threshold was chosen on a labelled pair set.
type Calibration struct {
	Dataset        string    `json:"dataset"` // e.g. "LFW View 2"
	Pairs          int       `json:"pairs"`
	FoldThresholds []float64 `json:"fold_thresholds"` // by fold, ascending label
	Accuracy       float64   `json:"accuracy"`        // k-fold mean test accuracy
	AccuracyStd    float64   `json:"accuracy_std"`
}

// Calibrate chooses a threshold as the embedded teacher's was chosen (see
// docs/evaluation.md): eval.KFold picks, for each fold, the threshold that
// maximises accuracy on the other folds; the result is the mean of those
// per-fold thresholds. scores are the cosine scores of the pairs, same
// their labels, folds their fold labels (LFW View 2: ten folds of 600).
func Calibrate(dataset string, scores []float64, same []bool, folds []int) (threshold float64, c Calibration, err error) {
	if len(same) != len(scores) || len(folds) != len(scores) {
		return 0, Calibration{}, fmt.Errorf("calibrate: %d scores, %d labels, %d fold labels", len(scores), len(same), len(folds))
	}
	res, err := eval.KFold(scores, same, folds)
	if err != nil {
		return 0, Calibration{}, fmt.Errorf("calibrate on %s: %w", dataset, err)
	}
	c = Calibration{Dataset: dataset, Pairs: len(scores), Accuracy: res.Mean, AccuracyStd: res.Std}
	for _, f := range res.Folds {
		c.FoldThresholds = append(c.FoldThresholds, f.Threshold)
		threshold += f.Threshold
	}
	threshold /= float64(len(res.Folds))
	return threshold, c, nil
}
