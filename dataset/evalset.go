package dataset

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/maskinv/workbench/eval"
)

// EvalImage is one image of an evaluation set.
type EvalImage struct {
	Key  string // dataset-relative, slash-separated; keys the image's mask
	Path string // file to read; empty when Data holds the image
	Data []byte // the encoded image (.bin sets)
}

// EvalPair is one verification pair of an evaluation set.
type EvalPair struct {
	A, B  int    // indices into EvalSet.Images
	Same  bool   // genuine pair
	Fold  int    // 0-based fold label
	Split string // MFR2: the pair's MaskSplit name; "" for other sets
}

// EvalSet is a dataset ready to evaluate: its images, each listed once,
// and its pairs.
type EvalSet struct {
	Kind string // the registered kind's name
	// RealMasks says the pairs show real masks (Kind.RealMasks): each
	// pair's Split says which of its images wear one.
	RealMasks bool
	Path      string
	Aligned   bool // images are 112×112 crops aligned to the ArcFace template
	Images    []EvalImage
	Pairs     []EvalPair
}

// EvalOptions are what a kind's Eval may need besides the path.
type EvalOptions struct {
	// Seed draws the impostor pairs of a folder set.
	Seed uint64
	// Aligned says the images of an lfw, mfr2 or folder set are already
	// aligned crops (.bin sets always are).
	Aligned bool
}

// The builtin kinds' folds: LFW keeps its ten View-2 folds; a .bin set is
// cut into ten contiguous blocks of pairs, as InsightFace's evaluation does
// (KFold without shuffling); a folder set gets Folder.Pairs'
// identity-disjoint folds, ten or, with fewer than 20 people, one per two
// people (at least two); MFR2, which has none, gets eval.AssignFolds(same,
// 10).

func lfwEval(path string, opt EvalOptions) (*EvalSet, error) {
	pairs, err := ReadLFWPairs(filepath.Join(path, "pairs.txt"))
	if err != nil {
		return nil, err
	}
	return fileSet(path, opt, pairs, nil), nil
}

func mfr2Eval(path string, opt EvalOptions) (*EvalSet, error) {
	mp, err := ReadMFR2(path)
	if err != nil {
		return nil, err
	}
	pairs := make([]Pair, len(mp))
	splits := make([]string, len(mp))
	for i, p := range mp {
		pairs[i], splits[i] = p.Pair, p.Split().String()
	}
	set := fileSet(path, opt, pairs, splits)
	dealFolds(set.Pairs)
	return set, nil
}

func folderEval(path string, opt EvalOptions) (*EvalSet, error) {
	f, err := ScanFolder(path)
	if err != nil {
		return nil, err
	}
	// Impostors are drawn within a fold, so each fold needs two people.
	folds := min(10, max(2, len(f.Identities)/2))
	pairs, err := f.Pairs(PairOptions{Seed: opt.Seed, Folds: folds})
	if err != nil {
		return nil, err
	}
	return fileSet(path, opt, pairs, nil), nil
}

func binEval(path string, _ EvalOptions) (*EvalSet, error) {
	bs, err := ReadBin(path)
	if err != nil {
		return nil, err
	}
	set := &EvalSet{Path: path, Aligned: true}
	for i, data := range bs.Images {
		set.Images = append(set.Images, EvalImage{Key: fmt.Sprintf("%06d", i), Data: data})
	}
	for k, same := range bs.Same {
		set.Pairs = append(set.Pairs, EvalPair{A: 2 * k, B: 2*k + 1, Same: same, Fold: 10 * k / len(bs.Same)})
	}
	return set, nil
}

// fileSet is the set of pairs whose images are files under path, each
// image listed once; splits, when not nil, are the pairs' Split.
func fileSet(path string, opt EvalOptions, pairs []Pair, splits []string) *EvalSet {
	set := &EvalSet{Path: path, Aligned: opt.Aligned}
	index := map[string]int{}
	ref := func(r ImageRef) int {
		if i, ok := index[r.Path]; ok {
			return i
		}
		index[r.Path] = len(set.Images)
		set.Images = append(set.Images, EvalImage{Key: r.Path, Path: filepath.Join(path, filepath.FromSlash(r.Path))})
		return len(set.Images) - 1
	}
	for i, p := range pairs {
		ep := EvalPair{A: ref(p.A), B: ref(p.B), Same: p.Same, Fold: p.Fold}
		if splits != nil {
			ep.Split = splits[i]
		}
		set.Pairs = append(set.Pairs, ep)
	}
	return set
}

// SelectFolds keeps the pairs whose 0-based fold is in folds. When fewer
// than two folds remain, k-fold accuracy has nothing to train on, so the
// kept pairs are dealt into ten new folds by eval.AssignFolds (balanced
// classes, not identity-disjoint).
func (set *EvalSet) SelectFolds(folds []int) error {
	var kept []EvalPair
	labels := map[int]bool{}
	for _, p := range set.Pairs {
		if slices.Contains(folds, p.Fold) {
			kept = append(kept, p)
			labels[p.Fold] = true
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("no pairs in folds %s", eval.FormatFolds(folds))
	}
	if len(labels) < 2 {
		dealFolds(kept)
	}
	set.Pairs = kept
	return nil
}

// dealFolds gives pairs ten balanced folds with eval.AssignFolds.
func dealFolds(pairs []EvalPair) {
	same := make([]bool, len(pairs))
	for i, p := range pairs {
		same[i] = p.Same
	}
	for i, f := range eval.AssignFolds(same, 10) {
		pairs[i].Fold = f
	}
}
