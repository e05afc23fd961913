package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinKinds(t *testing.T) {
	b := Builtin()
	for _, tc := range []struct {
		use  Use
		want []string
	}{
		{0, []string{"lfw", "mfr2", "bin", "folder", "rec"}},
		{ForEval, []string{"lfw", "mfr2", "bin", "folder"}},
		{ForTrain, []string{"lfw", "folder", "rec"}},
		{ForEval | ForTrain, []string{"lfw", "folder"}},
	} {
		if got := b.Names(tc.use); !slices.Equal(got, tc.want) {
			t.Errorf("Names(%v) = %v, want %v", tc.use, got, tc.want)
		}
	}
	// Every entry is one Register would accept, and the registries are
	// values: adding to one leaves the next Builtin alone.
	var again Kinds
	for _, name := range b.Names(0) {
		k, err := b.Lookup(name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Register(k); err != nil {
			t.Errorf("builtin %s: %v", name, err)
		}
		if k.RealMasks != (name == "mfr2") {
			t.Errorf("%s: RealMasks %v", name, k.RealMasks)
		}
	}
	if err := b.Register(Kind{Name: "extra", Train: folderTrain}); err != nil {
		t.Fatal(err)
	}
	if _, err := Builtin().Lookup("extra", 0); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("a kind registered in one registry is found in a new one: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	b := Builtin()
	for _, tc := range []struct {
		name string
		use  Use
		want string
	}{
		{"lfw2", 0, `unknown dataset kind "lfw2" (want lfw, mfr2, bin, folder or rec)`},
		{"LFW", ForEval, `unknown dataset kind "LFW" for evaluation (want lfw, mfr2, bin or folder)`},
		{"rec", ForEval, `unknown dataset kind "rec" for evaluation (want lfw, mfr2, bin or folder)`},
		{"bin", ForTrain, `unknown dataset kind "bin" for training (want lfw, folder or rec)`},
		{"mfr2", ForEval | ForTrain, `unknown dataset kind "mfr2" for evaluation and training (want lfw or folder)`},
	} {
		_, err := b.Lookup(tc.name, tc.use)
		if !errors.Is(err, ErrUnknownKind) || err.Error() != tc.want {
			t.Errorf("Lookup(%q, %v) = %v, want %s", tc.name, tc.use, err, tc.want)
		}
	}
	if _, err := new(Kinds).Lookup("lfw", 0); err == nil || !strings.Contains(err.Error(), "none registered") {
		t.Errorf("empty registry: %v", err)
	}
	if _, err := b.OpenTrain("mfr2", "x", TrainOptions{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("OpenTrain(mfr2): %v", err)
	}
	if _, err := b.OpenEval("rec", "x", EvalOptions{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("OpenEval(rec): %v", err)
	}
}

func TestRegister(t *testing.T) {
	var r Kinds
	pairs := func(path string, _ EvalOptions) (*EvalSet, error) {
		return &EvalSet{Path: path, Images: []EvalImage{{Key: "a"}, {Key: "b"}}, Pairs: []EvalPair{{A: 0, B: 1, Same: true}}}, nil
	}
	if err := r.Register(Kind{Name: "two", Eval: pairs}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Kind{
		{Name: "two", Eval: pairs},
		{Name: "", Eval: pairs},
		{Name: "a=b", Eval: pairs},
		{Name: "a b", Eval: pairs},
		{Name: "none"},
	} {
		if err := r.Register(bad); err == nil {
			t.Errorf("Register(%q, eval %v, train %v) accepted", bad.Name, bad.Eval != nil, bad.Train != nil)
		}
	}
	set, err := r.OpenEval("two", "somewhere", EvalOptions{})
	if err != nil || set.Kind != "two" || set.Path != "somewhere" || len(set.Pairs) != 1 {
		t.Errorf("OpenEval = %+v, %v", set, err)
	}
	empty := func(string, EvalOptions) (*EvalSet, error) { return &EvalSet{}, nil }
	if err := r.Register(Kind{Name: "empty", Eval: empty}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.OpenEval("empty", "p", EvalOptions{}); err == nil || err.Error() != "dataset empty=p has no pairs" {
		t.Errorf("empty set: %v", err)
	}
	if got := r.Names(0); !slices.Equal(got, []string{"two", "empty"}) {
		t.Errorf("Names = %v", got)
	}
}

// lfwTree is smallLFW's people, with Solo, who is in no pair, and their
// photos (empty files).
func lfwTree(t *testing.T) string {
	t.Helper()
	var files []string
	for _, id := range []struct {
		name string
		n    int
	}{{"Abdel_Madi_Shabneh", 1}, {"Abel_Pacheco", 4}, {"Akhmed_Zakayev", 3}, {"Dean_Barker", 2}, {"Solo", 1}, {"Zach_Pillar", 1}, {"Zico", 3}} {
		for i := 1; i <= id.n; i++ {
			files = append(files, fmt.Sprintf("%s/%s_%04d.jpg", id.name, id.name, i))
		}
	}
	root := makeTree(t, files...)
	writeFile(t, filepath.Join(root, "pairs.txt"), smallLFW)
	return root
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLFWKind(t *testing.T) {
	root := lfwTree(t)
	kinds := Builtin()
	set, err := kinds.OpenEval("lfw", root, EvalOptions{Aligned: true})
	if err != nil {
		t.Fatal(err)
	}
	if set.Kind != "lfw" || set.Path != root || !set.Aligned || len(set.Pairs) != 8 {
		t.Fatalf("set %s %s aligned %v, %d pairs", set.Kind, set.Path, set.Aligned, len(set.Pairs))
	}
	// Pair 6 is "Zico 1 Dean_Barker 2", in the second fold; Zico 1 is
	// listed once for pairs 4 and 6.
	p := set.Pairs[6]
	a, b := set.Images[p.A], set.Images[p.B]
	if p.Same || p.Fold != 1 || a.Key != "Zico/Zico_0001.jpg" || b.Path != filepath.Join(root, "Dean_Barker", "Dean_Barker_0002.jpg") {
		t.Errorf("pair 6: %+v: %+v, %+v", p, a, b)
	}
	if set.Pairs[4].A != p.A || len(set.Images) != 13 {
		t.Errorf("images not listed once: %d images", len(set.Images))
	}
	for _, tc := range []struct {
		folds []int
		want  []string
	}{
		{[]int{0, 1}, []string{"Abdel_Madi_Shabneh", "Abel_Pacheco", "Akhmed_Zakayev", "Dean_Barker", "Solo", "Zach_Pillar", "Zico"}},
		{[]int{1}, []string{"Solo", "Zach_Pillar", "Zico"}}, // fold 0's people held out
		{nil, []string{"Solo"}},
	} {
		s, err := kinds.OpenTrain("lfw", root, TrainOptions{Folds: tc.folds})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Names, tc.want) || s.Root != root || s.Records != nil {
			t.Errorf("train folds %v: names %v, want %v", tc.folds, s.Names, tc.want)
		}
		checkItems(t, s)
	}
	if err := os.RemoveAll(filepath.Join(root, "Solo")); err != nil {
		t.Fatal(err)
	}
	if _, err := kinds.OpenTrain("lfw", root, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "no LFW identity outside the held-out folds") {
		t.Errorf("everybody held out: %v", err)
	}
}

// checkItems: the items are the identities' photos, labelled in order.
func checkItems(t *testing.T, s *TrainSet) {
	t.Helper()
	for i, it := range s.Items {
		if it.Label < 0 || it.Label >= len(s.Names) || i > 0 && it.Label < s.Items[i-1].Label {
			t.Fatalf("item %d %+v of %d names", i, it, len(s.Names))
		}
		if s.Records == nil && !strings.HasPrefix(it.Key, s.Names[it.Label]+"/") {
			t.Errorf("item %q labelled %s", it.Key, s.Names[it.Label])
		}
	}
}

func TestMFR2Kind(t *testing.T) {
	root := t.TempDir()
	var pairs []Pair
	var labels []MaskLabel
	masks := []string{NoMask, "N95", "surgical_blue"}
	for i, name := range []string{"Ann", "Bob", "Cid", "Dee"} {
		for n := 1; n <= 3; n++ {
			labels = append(labels, MaskLabel{Identity: name, Number: n, Mask: masks[(i*n)%3]})
		}
		pairs = append(pairs, Pair{A: imageRef(name, 1, "png"), B: imageRef(name, 2, "png"), Same: true},
			Pair{A: imageRef(name, 3, "png"), B: imageRef([]string{"Bob", "Cid", "Dee", "Ann"}[i], 1, "png")})
	}
	var pb, lb strings.Builder
	if err := WriteMFR2Pairs(&pb, pairs); err != nil {
		t.Fatal(err)
	}
	if err := WriteMFR2Labels(&lb, labels); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "pairs.txt"), pb.String())
	writeFile(t, filepath.Join(root, "mfr2_labels.txt"), lb.String())
	set, err := Builtin().OpenEval("mfr2", root, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Pairs) != 8 || set.Aligned {
		t.Fatalf("%d pairs, aligned %v", len(set.Pairs), set.Aligned)
	}
	mask := map[string]string{}
	for _, l := range labels {
		mask[imagePath(l.Identity, l.Number, "png")] = l.Mask
	}
	folds, splits := map[int]int{}, map[string]bool{}
	for i, p := range set.Pairs {
		n := 0
		for _, im := range []int{p.A, p.B} {
			if mask[set.Images[im].Key] != NoMask {
				n++
			}
		}
		if p.Split != MaskSplit(n).String() || p.Same != pairs[i].Same {
			t.Errorf("pair %d: %+v, want split %v", i, p, MaskSplit(n))
		}
		folds[p.Fold]++
		splits[p.Split] = true
	}
	if len(splits) != 3 {
		t.Errorf("splits %v, want all three", splits)
	}
	// No folds of its own: AssignFolds deals 4 genuine and 4 impostor
	// pairs over folds 0–3.
	if !reflect.DeepEqual(folds, map[int]int{0: 2, 1: 2, 2: 2, 3: 2}) {
		t.Errorf("folds %v", folds)
	}
}

func TestFolderKind(t *testing.T) {
	var files []string
	for _, name := range []string{"Ann", "Bob", "Cid", "Dee", "Eve"} {
		for i := range 3 {
			files = append(files, fmt.Sprintf("%s/%d.png", name, i))
		}
	}
	root := makeTree(t, files...)
	kinds := Builtin()
	set, err := kinds.OpenEval("folder", root, EvalOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Five people: two folds (one per two people), identity-disjoint.
	foldOf := map[string]int{}
	genuine := 0
	for _, p := range set.Pairs {
		for _, im := range []int{p.A, p.B} {
			who, _, _ := strings.Cut(set.Images[im].Key, "/")
			if f, ok := foldOf[who]; ok && f != p.Fold {
				t.Fatalf("%s in folds %d and %d", who, f, p.Fold)
			}
			foldOf[who] = p.Fold
		}
		if p.Fold < 0 || p.Fold > 1 {
			t.Fatalf("fold %d", p.Fold)
		}
		if p.Same {
			genuine++
		}
	}
	if genuine != 15 || len(set.Pairs) != 30 {
		t.Errorf("%d pairs, %d genuine; want 30 and 15", len(set.Pairs), genuine)
	}
	again, err := kinds.OpenEval("folder", root, EvalOptions{Seed: 5})
	if err != nil || !reflect.DeepEqual(again, set) {
		t.Errorf("the same seed drew other pairs (%v)", err)
	}
	s, err := kinds.OpenTrain("folder", root, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Names, []string{"Ann", "Bob", "Cid", "Dee", "Eve"}) || len(s.Items) != 15 {
		t.Errorf("train: names %v, %d items", s.Names, len(s.Items))
	}
	checkItems(t, s)
	if _, err := kinds.OpenEval("folder", filepath.Join(root, "missing"), EvalOptions{}); err == nil {
		t.Error("missing folder: no error")
	}
}

func TestBinKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := testSet(25, false)
	if err := WriteBin(f, want); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	set, err := Builtin().OpenEval("bin", path, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !set.Aligned || len(set.Images) != 50 || len(set.Pairs) != 25 {
		t.Fatalf("aligned %v, %d images, %d pairs", set.Aligned, len(set.Images), len(set.Pairs))
	}
	for k, p := range set.Pairs {
		// Ten contiguous blocks of pairs, as InsightFace's KFold.
		if p.A != 2*k || p.B != 2*k+1 || p.Same != want.Same[k] || p.Fold != 10*k/25 {
			t.Errorf("pair %d: %+v", k, p)
		}
	}
	if im := set.Images[7]; im.Key != "000007" || im.Path != "" || string(im.Data) != string(want.Images[7]) {
		t.Errorf("image 7: %q %q %d bytes", im.Key, im.Path, len(im.Data))
	}
}

func TestRecKind(t *testing.T) {
	dir := t.TempDir()
	writeInsightFaceRec(t, dir, [][]string{{"a0", "a1", "a2"}, {"b0"}, {"c0", "c1"}})
	s, err := Builtin().OpenTrain("rec", dir, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Identities named by their records' keys (7, 8, 9); images 1–6.
	want := []TrainItem{{"1", 0}, {"2", 0}, {"3", 0}, {"4", 1}, {"5", 2}, {"6", 2}}
	if !slices.Equal(s.Names, []string{"7", "8", "9"}) || !slices.Equal(s.Items, want) || s.Records == nil {
		t.Errorf("names %v items %v", s.Names, s.Items)
	}
	checkItems(t, s)
}

// TestRecKindNoLayout: without InsightFace's header every record is an
// image, labelled by its header, in file order.
func TestRecKindNoLayout(t *testing.T) {
	dir := t.TempDir()
	rf, err := os.Create(filepath.Join(dir, "train.rec"))
	if err != nil {
		t.Fatal(err)
	}
	xf, err := os.Create(filepath.Join(dir, "train.idx"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewIndexedRecordWriter(rf, xf)
	for key, label := range []float32{4, 4, 9, 4, 2} {
		if err := w.Write(key, PackImageRecord(IRHeader{Label: label}, []byte{byte(key)})); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{w.Flush(), rf.Close(), xf.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Builtin().OpenTrain("rec", dir, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []TrainItem{{"0", 0}, {"1", 0}, {"2", 1}, {"3", 0}, {"4", 2}}
	if !slices.Equal(s.Names, []string{"4", "9", "2"}) || !slices.Equal(s.Items, want) {
		t.Errorf("names %v items %v", s.Names, s.Items)
	}
	if _, err := Builtin().OpenTrain("rec", t.TempDir(), TrainOptions{}); err == nil {
		t.Error("a folder without train.rec: no error")
	}
}

func TestSelectFolds(t *testing.T) {
	mk := func() *EvalSet {
		s := &EvalSet{}
		for i := range 200 {
			s.Pairs = append(s.Pairs, EvalPair{Same: i%2 == 0, Fold: i / 20})
		}
		return s
	}
	s := mk()
	if err := s.SelectFolds([]int{2, 5}); err != nil || len(s.Pairs) != 40 {
		t.Fatalf("folds 3,6: %d pairs, %v", len(s.Pairs), err)
	}
	for _, p := range s.Pairs {
		if p.Fold != 2 && p.Fold != 5 {
			t.Fatalf("pair of fold %d kept", p.Fold)
		}
	}
	s = mk()
	if err := s.SelectFolds([]int{9}); err != nil || len(s.Pairs) != 20 {
		t.Fatalf("fold 10: %d pairs, %v", len(s.Pairs), err)
	}
	labels := map[int]int{}
	for _, p := range s.Pairs {
		labels[p.Fold]++
	}
	if len(labels) != 10 {
		t.Errorf("one fold re-dealt into %d folds, want 10", len(labels))
	}
	if err := (&EvalSet{}).SelectFolds([]int{0, 1, 2, 4}); err == nil || err.Error() != "no pairs in folds 1-3,5" {
		t.Errorf("no pairs: %v", err)
	}
}
