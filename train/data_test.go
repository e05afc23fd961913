package train

import (
	"errors"
	"path/filepath"
	"strings"
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

func TestParseData(t *testing.T) {
	for _, tc := range []struct {
		in, kind, path string
		ok             bool
	}{
		{"/data/faces", "folder", "/data/faces", true},
		{"folder=/x", "folder", "/x", true},
		{"lfw=/x", "lfw", "/x", true},
		{"rec=/ms1m", "rec", "/ms1m", true},
		{"mfr2=/x", "", "", false}, // pairs only
		{"bin=/x.bin", "", "", false},
		{"vgg=/x", "", "", false},
	} {
		kind, path, err := ParseData(tc.in)
		if tc.ok && (err != nil || kind != tc.kind || path != tc.path) {
			t.Errorf("ParseData(%q) = %q, %q, %v; want %q, %q", tc.in, kind, path, err, tc.kind, tc.path)
		}
		if !tc.ok && (!errors.Is(err, dataset.ErrUnknownKind) || !strings.Contains(err.Error(), "lfw, folder or rec")) {
			t.Errorf("ParseData(%q): %v, want an unknown-kind error naming lfw, folder and rec", tc.in, err)
		}
	}
}
