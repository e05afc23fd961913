package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// makeTree creates empty files (and their folders) under a temp dir.
func makeTree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestScanFolder(t *testing.T) {
	root := makeTree(t,
		"Ann/a1.jpg", "Ann/a2.JPG", "Ann/a3.png", "Ann/.hidden.jpg", "Ann/notes.txt", "Ann/sub/deep.jpg",
		"Bob/b1.jpeg", "Bob/b2.PNG",
		"Cid/c.Jpg",
		"Dee/readme.txt", // no images: left out
		".git/x.jpg",     // hidden folder
		"loose.jpg",      // not in an identity folder
	)
	f, err := ScanFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Identity{
		{Name: "Ann", Images: []string{"Ann/a1.jpg", "Ann/a2.JPG", "Ann/a3.png"}},
		{Name: "Bob", Images: []string{"Bob/b1.jpeg", "Bob/b2.PNG"}},
		{Name: "Cid", Images: []string{"Cid/c.Jpg"}},
	}
	if !reflect.DeepEqual(f.Identities, want) {
		t.Errorf("identities\n%+v\nwant\n%+v", f.Identities, want)
	}
	if _, err := ScanFolder(filepath.Join(root, "missing")); err == nil {
		t.Error("missing root: no error")
	}
}

func TestFolderPairsSmall(t *testing.T) {
	f := Folder{Root: "r", Identities: []Identity{
		{Name: "Ann", Images: []string{"Ann/1.jpg", "Ann/2.jpg", "Ann/3.jpg"}},
		{Name: "Bob", Images: []string{"Bob/1.jpg", "Bob/2.jpg"}},
		{Name: "Cid", Images: []string{"Cid/1.jpg"}},
	}}
	// Two folds. Genuine pairs: Ann 3, Bob 1, Cid 0. Dealt largest first
	// to the fold with fewest: Ann → 0, Bob → 1, Cid → 1 (1 < 3). Fold 0
	// (Ann alone) can hold no impostor pair; fold 1 holds Bob×Cid = 2.
	// The default (4 impostors, as many as genuine) does not fit.
	if _, err := f.Pairs(PairOptions{Folds: 2}); !errors.Is(err, ErrTooFew) {
		t.Fatalf("4 impostors: err = %v, want ErrTooFew", err)
	}
	// 2 impostors: shares by genuine pairs 3:1 give 1.5:0.5, rounded to
	// 2:0 (equal remainders, lower fold first); fold 0 has no room, so
	// both go to fold 1, which then takes every Bob×Cid pair.
	pairs, err := f.Pairs(PairOptions{Folds: 2, Impostors: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		a, b string
		same bool
		fold int
	}
	var got []row
	for _, p := range pairs {
		got = append(got, row{p.A.Path, p.B.Path, p.Same, p.Fold})
	}
	want := map[row]bool{
		{"Ann/1.jpg", "Ann/2.jpg", true, 0}:  true,
		{"Ann/1.jpg", "Ann/3.jpg", true, 0}:  true,
		{"Ann/2.jpg", "Ann/3.jpg", true, 0}:  true,
		{"Bob/1.jpg", "Bob/2.jpg", true, 1}:  true,
		{"Bob/1.jpg", "Cid/1.jpg", false, 1}: true,
		{"Bob/2.jpg", "Cid/1.jpg", false, 1}: true,
	}
	if len(got) != len(want) {
		t.Fatalf("pairs %v", got)
	}
	for _, r := range got {
		if !want[r] {
			t.Errorf("unexpected pair %v", r)
		}
	}
	// Numbers follow listing order.
	if pairs[0].A.Number != 1 || pairs[0].B.Number != 2 || pairs[0].A.Identity != "Ann" {
		t.Errorf("pair 0 refs %+v %+v", pairs[0].A, pairs[0].B)
	}
}

// bigFolder has identities of 1 to 6 images.
func bigFolder() Folder {
	var f Folder
	for i := range 30 {
		id := Identity{Name: fmt.Sprintf("id%02d", i)}
		for j := range 1 + i%6 {
			id.Images = append(id.Images, fmt.Sprintf("%s/%d.jpg", id.Name, j))
		}
		f.Identities = append(f.Identities, id)
	}
	return f
}

func TestFolderPairsProperties(t *testing.T) {
	f := bigFolder()
	wantGenuine := 0
	for _, id := range f.Identities {
		wantGenuine += pairCount(len(id.Images))
	}
	for _, opt := range []PairOptions{
		{Seed: 1},
		{Seed: 2, Folds: 3},
		{Seed: 3, Folds: 4, Impostors: 500},
	} {
		t.Run(fmt.Sprintf("%+v", opt), func(t *testing.T) {
			pairs, err := f.Pairs(opt)
			if err != nil {
				t.Fatal(err)
			}
			folds := opt.Folds
			if folds == 0 {
				folds = 10
			}
			wantImpostors := opt.Impostors
			if wantImpostors == 0 {
				wantImpostors = wantGenuine
			}
			seen := map[[2]string]bool{}
			foldOf := map[string]int{}
			genuine, impostor := 0, 0
			for _, p := range pairs {
				if p.Fold < 0 || p.Fold >= folds {
					t.Fatalf("fold %d", p.Fold)
				}
				key := [2]string{min(p.A.Path, p.B.Path), max(p.A.Path, p.B.Path)}
				if seen[key] || p.A.Path == p.B.Path {
					t.Fatalf("pair %v twice or with itself", key)
				}
				seen[key] = true
				if p.Same != (p.A.Identity == p.B.Identity) {
					t.Fatalf("pair %+v labelled same=%v", p, p.Same)
				}
				if p.Same {
					genuine++
				} else {
					impostor++
				}
				for _, id := range []string{p.A.Identity, p.B.Identity} {
					if f, ok := foldOf[id]; ok && f != p.Fold {
						t.Fatalf("%s in folds %d and %d", id, f, p.Fold)
					}
					foldOf[id] = p.Fold
				}
			}
			if genuine != wantGenuine || impostor != wantImpostors {
				t.Errorf("%d genuine, %d impostor; want %d, %d", genuine, impostor, wantGenuine, wantImpostors)
			}
			again, err := f.Pairs(opt)
			if err != nil || !reflect.DeepEqual(again, pairs) {
				t.Error("same options gave different pairs")
			}
			opt.Seed += 100
			other, err := f.Pairs(opt)
			if err != nil || reflect.DeepEqual(other, pairs) {
				t.Error("another seed gave the same pairs")
			}
		})
	}
	if _, err := f.Pairs(PairOptions{Impostors: 1 << 20}); !errors.Is(err, ErrTooFew) {
		t.Errorf("too many impostors: %v", err)
	}
	if _, err := f.Pairs(PairOptions{Folds: -1}); err == nil {
		t.Error("negative folds: no error")
	}
}

func TestFolderPairsEmpty(t *testing.T) {
	pairs, err := Folder{}.Pairs(PairOptions{})
	if err != nil || len(pairs) != 0 {
		t.Errorf("empty folder: %v %v", pairs, err)
	}
}
