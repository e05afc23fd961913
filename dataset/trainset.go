package dataset

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
)

// TrainSet is a dataset's photos with identity labels, ready to train on.
// Names[Label] names each item's identity. An item's Key is its path
// relative to Root (slash-separated) for photo folders or, when Records is
// not nil, its record number there (decimal). Close releases Records.
type TrainSet struct {
	Root    string
	Names   []string
	Items   []TrainItem
	Records *IndexedRecords // RecordIO sets: where the images are
}

// TrainItem is one photo of a TrainSet.
type TrainItem struct {
	Key   string
	Label int // index into TrainSet.Names
}

// Close closes the set's records, if it has any.
func (s *TrainSet) Close() error {
	if s.Records == nil {
		return nil
	}
	return s.Records.Close()
}

// addIdentities labels the images of each identity not in skip, in order.
func (s *TrainSet) addIdentities(ids []Identity, skip map[string]bool) {
	for _, id := range ids {
		if skip[id.Name] || len(id.Images) == 0 {
			continue
		}
		label := len(s.Names)
		s.Names = append(s.Names, id.Name)
		for _, img := range id.Images {
			s.Items = append(s.Items, TrainItem{Key: img, Label: label})
		}
	}
}

// TrainOptions are what a kind's Train may need besides the path.
type TrainOptions struct {
	// Folds are the 0-based folds whose people may be trained on (LFW);
	// the people of every other fold are held out for evaluation.
	Folds []int
}

// folderTrain reads an identity-folder dataset (one subfolder per person).
func folderTrain(root string, _ TrainOptions) (*TrainSet, error) {
	f, err := ScanFolder(root)
	if err != nil {
		return nil, err
	}
	s := &TrainSet{Root: root}
	s.addIdentities(f.Identities, nil)
	return s, nil
}

// lfwTrain reads LFW (root holds one folder per person and pairs.txt) and
// keeps everyone who appears in none of the held-out folds: the folds not
// in opt.Folds. LFW's folds are identity-disjoint, so this trains on every
// person the held-out pairs never show, including the many with a single
// photo (distillation needs no second image of a person).
func lfwTrain(root string, opt TrainOptions) (*TrainSet, error) {
	pairs, err := ReadLFWPairs(filepath.Join(root, "pairs.txt"))
	if err != nil {
		return nil, err
	}
	keep := map[int]bool{}
	for _, f := range opt.Folds {
		keep[f] = true
	}
	held := map[string]bool{}
	for _, p := range pairs {
		if !keep[p.Fold] {
			held[p.A.Identity] = true
			held[p.B.Identity] = true
		}
	}
	f, err := ScanFolder(root)
	if err != nil {
		return nil, err
	}
	s := &TrainSet{Root: root}
	s.addIdentities(f.Identities, held)
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("no LFW identity outside the held-out folds in %s", root)
	}
	return s, nil
}

// recTrain reads an InsightFace-style MXNet RecordIO dataset: dir holds
// train.rec and train.idx, images are aligned 112×112 crops. With the
// InsightFace layout (record 0 lists the identity records) each identity
// range is a class named by its key; without it every record is an image
// labelled by its header, classes numbered in order of first appearance.
func recTrain(dir string, _ TrainOptions) (*TrainSet, error) {
	x, err := OpenIndexedRecords(filepath.Join(dir, "train.rec"), filepath.Join(dir, "train.idx"))
	if err != nil {
		return nil, err
	}
	s := &TrainSet{Root: dir, Records: x}
	if err := s.addRecords(); err != nil {
		x.Close()
		return nil, err
	}
	if len(s.Items) == 0 {
		x.Close()
		return nil, fmt.Errorf("no images in %s", dir)
	}
	return s, nil
}

func (s *TrainSet) addRecords() error {
	x := s.Records
	layout, err := ReadRecLayout(x)
	switch {
	case err == nil:
		for _, id := range layout.Identities {
			label := len(s.Names)
			s.Names = append(s.Names, strconv.Itoa(id.Key))
			for k := id.Start; k < id.End; k++ {
				s.Items = append(s.Items, TrainItem{Key: strconv.Itoa(k), Label: label})
			}
		}
		return nil
	case !errors.Is(err, ErrNotFound):
		return err
	}
	classes := map[int]int{}
	for _, e := range x.Entries() {
		h, _, err := x.ReadImage(e.Key)
		if err != nil {
			return err
		}
		c := int(h.ClassLabel())
		label, ok := classes[c]
		if !ok {
			label = len(s.Names)
			classes[c] = label
			s.Names = append(s.Names, strconv.Itoa(c))
		}
		s.Items = append(s.Items, TrainItem{Key: strconv.Itoa(e.Key), Label: label})
	}
	return nil
}
