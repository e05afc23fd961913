package train

import (
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/internal/sharedtest"
)

// TestOpenLFWHoldsOutFold: training on folds 1–9 keeps nobody who appears
// in a fold-10 pair, and everybody else, single-photo people included.
func TestOpenLFWHoldsOutFold(t *testing.T) {
	root := sharedtest.Path(t, "data", "lfw")
	d, err := Open(dataset.Builtin(), "lfw", root, []int{0, 1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := dataset.ReadLFWPairs(filepath.Join(root, "pairs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, p := range pairs {
		if p.Fold == 9 {
			held[p.A.Identity], held[p.B.Identity] = true, true
		}
	}
	names := map[string]bool{}
	for _, n := range d.Names {
		if held[n] {
			t.Fatalf("%s appears in fold 10 and in the training set", n)
		}
		names[n] = true
	}
	all, err := dataset.ScanFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	single := 0
	for _, id := range all.Identities {
		if !held[id.Name] && !names[id.Name] {
			t.Fatalf("%s is in no held-out pair but was left out", id.Name)
		}
		if !held[id.Name] && len(id.Images) == 1 {
			single++
		}
	}
	if single == 0 || len(d.Names) != len(all.Identities)-len(held) {
		t.Errorf("%d classes of %d people (%d held out), %d single-photo people", len(d.Names), len(all.Identities), len(held), single)
	}
	t.Logf("%d photos of %d people; %d held out; %d with one photo", len(d.Items), len(d.Names), len(held), single)
}
