package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/eval"
)

// mapSource is a PlainSource of fixed entries.
type mapSource map[string]CacheEntry

func (m mapSource) Plain(key string) (CacheEntry, bool, error) {
	e, ok := m[key]
	return e, ok, nil
}

func TestTakePlain(t *testing.T) {
	set := &dataset.EvalSet{Path: "/data/x"}
	for i := range 9 {
		set.Images = append(set.Images, dataset.EvalImage{Key: fmt.Sprintf("p/%d.jpg", i)})
	}
	plain, masked := uint8(1<<eval.Plain), uint8(1<<eval.Masked)
	src := mapSource{
		"p/0.jpg": {Vec: []float32{1, 0}},
		"p/1.jpg": {Failure: "p/1.jpg: no face"},
		"p/2.jpg": {Vec: []float32{0, 1}},
	}
	need := []uint8{plain, plain | masked, masked, 0, 0, 0, 0, 0, 0}
	taken, err := takePlain(set, need, src)
	if err != nil {
		t.Fatal(err)
	}
	if need[0] != 0 || need[1] != masked || need[2] != masked {
		t.Errorf("needs after taking the plain variants: %v", need[:3])
	}
	if taken[0] == nil || taken[0].Vec[0] != 1 || taken[1] == nil || taken[1].Failure == "" || taken[2] != nil {
		t.Errorf("taken %v", taken[:3])
	}

	// Six images the source lacks: five named, one counted.
	need = []uint8{plain, plain, plain, plain, plain, plain, plain, plain, plain}
	_, err = takePlain(set, need, src)
	if !errors.Is(err, ErrNotInStore) || !strings.Contains(err.Error(), "6 of the images") ||
		!strings.Contains(err.Error(), "p/3.jpg, p/4.jpg, p/5.jpg, p/6.jpg, p/7.jpg and 1 more") || !strings.Contains(err.Error(), "/data/x") {
		t.Errorf("missing images: %v", err)
	}
}
