package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Accuracy is the fraction of pairs classified correctly when pairs with
// score >= threshold are called "same". It is NaN for no pairs.
func Accuracy(scores []float64, same []bool, threshold float64) float64 {
	if len(scores) != len(same) {
		panic(fmt.Sprintf("eval: %d scores but %d labels", len(scores), len(same)))
	}
	correct := 0
	for i, s := range scores {
		if (s >= threshold) == same[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(scores))
}

// BestThreshold returns the threshold that maximises Accuracy, and that
// accuracy.
//
// Candidates are the midpoints between consecutive distinct scores, plus
// min−1 ("accept all") and max+1 ("reject all"): every distinct split of
// the sorted scores is tried exactly once, and a midpoint leaves margin on
// both sides for unseen scores, unlike a threshold equal to a training
// score. Among equally accurate candidates the lowest threshold wins, as
// np.argmax over an ascending grid does in the facenet and insightface
// evaluation code.
func BestThreshold(scores []float64, same []bool) (threshold, accuracy float64, err error) {
	ps, err := pack(scores, same)
	if err != nil {
		return 0, 0, err
	}
	if len(ps) == 0 {
		return 0, 0, ErrNoPairs
	}
	sortAscending(ps)
	t, correct := bestSplit(ps)
	return t, float64(correct) / float64(len(ps)), nil
}

// Fold is the outcome of one fold of k-fold accuracy.
type Fold struct {
	Fold          int     // fold label as given
	Threshold     float64 // chosen on the other folds
	TrainAccuracy float64 // accuracy of Threshold on the other folds
	Accuracy      float64 // accuracy of Threshold on this fold
	Pairs         int     // pairs in this fold
}

// KFoldResult is the LFW-protocol accuracy: the mean and population std of
// the per-fold test accuracies (folds weighted equally, as LFW reports).
type KFoldResult struct {
	Mean  float64
	Std   float64
	Folds []Fold // ordered by fold label
}

// KFold runs the LFW View-2 protocol: for each fold, BestThreshold on the
// pairs of all other folds, then Accuracy on the fold itself. folds[i] is
// the fold label of pair i; any int works and the distinct labels define
// the folds, so LFW's identity-disjoint folds are used as given. Use
// AssignFolds for data that come without folds.
func KFold(scores []float64, same []bool, folds []int) (KFoldResult, error) {
	if len(folds) != len(scores) {
		panic(fmt.Sprintf("eval: %d scores but %d fold labels", len(scores), len(folds)))
	}
	ps, err := pack(scores, same)
	if err != nil {
		return KFoldResult{}, err
	}
	labels := slices.Clone(folds)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	if len(labels) < 2 {
		return KFoldResult{}, fmt.Errorf("%d distinct fold labels: %w", len(labels), ErrFolds)
	}
	// Sort once; each training set is then a filtered view, already sorted.
	type foldScored struct {
		scored
		fold int
	}
	all := make([]foldScored, len(ps))
	for i, p := range ps {
		all[i] = foldScored{p, folds[i]}
	}
	slices.SortStableFunc(all, func(a, b foldScored) int { return cmp.Compare(a.s, b.s) })

	res := KFoldResult{Folds: make([]Fold, 0, len(labels))}
	train := make([]scored, 0, len(all))
	for _, k := range labels {
		train = train[:0]
		for _, p := range all {
			if p.fold != k {
				train = append(train, p.scored)
			}
		}
		t, correct := bestSplit(train)
		f := Fold{Fold: k, Threshold: t, TrainAccuracy: float64(correct) / float64(len(train))}
		right := 0
		for _, p := range all {
			if p.fold == k {
				f.Pairs++
				if (p.s >= t) == p.same {
					right++
				}
			}
		}
		f.Accuracy = float64(right) / float64(f.Pairs)
		res.Folds = append(res.Folds, f)
	}
	accs := make([]float64, len(res.Folds))
	for i, f := range res.Folds {
		accs[i] = f.Accuracy
	}
	res.Mean, res.Std = meanStd(accs)
	return res, nil
}

// AssignFolds gives each pair a fold in [0, k) for data without folds of
// their own: genuine pairs are dealt round-robin in input order, and
// impostor pairs likewise, so every fold gets the same class balance (±1).
// The folds are deterministic but not identity-disjoint; prefer a
// dataset's own folds where it has them. It panics if k < 1.
func AssignFolds(same []bool, k int) []int {
	if k < 1 {
		panic(fmt.Sprintf("eval: %d folds", k))
	}
	folds := make([]int, len(same))
	next := [2]int{} // next fold for impostor [0] and genuine [1] pairs
	for i, s := range same {
		c := 0
		if s {
			c = 1
		}
		folds[i] = next[c]
		next[c] = (next[c] + 1) % k
	}
	return folds
}

// bestSplit finds the best threshold over ps sorted by ascending score and
// returns it with the number of correctly classified pairs. ps must not be
// empty.
func bestSplit(ps []scored) (threshold float64, correct int) {
	// At "accept all" every genuine pair is right and every impostor wrong.
	g, _ := count(ps)
	cur := g
	best, bestT := cur, ps[0].s-1
	for i := 0; i < len(ps); {
		j := i
		for ; j < len(ps) && ps[j].s == ps[i].s; j++ {
			// Raising the threshold past this score rejects the pair.
			if ps[j].same {
				cur--
			} else {
				cur++
			}
		}
		t := ps[i].s + 1
		if j < len(ps) {
			t = midpoint(ps[i].s, ps[j].s)
		}
		if cur > best { // strict: keep the lowest of tied thresholds
			best, bestT = cur, t
		}
		i = j
	}
	return bestT, best
}

// midpoint returns a threshold t with a < t <= b, so that score >= t splits
// a from b even when a and b are adjacent floats and (a+b)/2 rounds to a.
func midpoint(a, b float64) float64 {
	t := a + (b-a)/2
	if t <= a || math.IsInf(t, 0) {
		return b
	}
	return t
}

func sortAscending(ps []scored) {
	slices.SortStableFunc(ps, func(a, b scored) int { return cmp.Compare(a.s, b.s) })
}

// meanStd returns the mean and population standard deviation, two-pass for
// accuracy. Both are NaN for no values.
func meanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		d := v - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(x)))
}
