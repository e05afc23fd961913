package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/shard"
)

const testModel = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func testParams(sp shard.Spec) Params {
	return Params{Model: testModel, Pipeline: "pipeline/1 photo det=x lmk=y fallback=false",
		Settings: map[string]string{"aligned": "false"}, Dim: 8, Shard: sp}
}

// testKeys are dataset-like keys, sorted.
func testKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("person_%03d/person_%03d_%04d.jpg", i/5, i/5, i%5+1)
	}
	slices.Sort(keys)
	return keys
}

func seedOf(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// testImage is what a pipeline would make of key: a failure for about one
// image in seven, otherwise a vector, box and landmarks drawn from the key.
func testImage(key string, dim int) (Record, []float32) {
	rng := rand.New(rand.NewPCG(seedOf(key), 1))
	rec := Record{Path: key}
	if rng.IntN(7) == 0 {
		rec.Error = key + ": no face found"
		return rec, nil
	}
	rec.Box = []float64{rng.Float64() * 100, rng.Float64() * 100, 50 + rng.Float64(), 60.125}
	for range 5 {
		rec.Landmarks5 = append(rec.Landmarks5, [2]float64{rng.Float64() * 250, rng.NormFloat64()})
	}
	rec.Face = "1 face"
	vec := make([]float32, dim)
	for i := range vec {
		vec[i] = float32(rng.NormFloat64())
	}
	return rec, vec
}

// addAll adds keys from several goroutines, in an order of their own.
func addAll(t testing.TB, w *Writer, keys []string, dim int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := len(keys) - 1 - g; i >= 0; i -= 3 {
				rec, vec := testImage(keys[i], dim)
				if err := w.Add(rec, vec); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// create is Create for a test that needs the writer.
func create(t testing.TB, dir string, p Params, opt Options) *Writer {
	t.Helper()
	w, err := Create(dir, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// writeStore writes a finished store of keys (the shard's part of them).
func writeStore(t testing.TB, dir string, sp shard.Spec, keys []string) Meta {
	t.Helper()
	return writeFinished(t, dir, testParams(sp), sp.Filter(keys))
}

// writeFinished writes a finished store of exactly keys with p, whichever
// shard p claims.
func writeFinished(t testing.TB, dir string, p Params, keys []string) Meta {
	t.Helper()
	w := create(t, dir, p, Options{})
	addAll(t, w, keys, p.Dim)
	m, err := w.Finish(keys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// writeJournal adds keys in order to a new store in dir and closes it
// unfinished; it returns the journal's bytes.
func writeJournal(t testing.TB, dir string, keys []string) []byte {
	t.Helper()
	w := create(t, dir, testParams(shard.Whole), Options{})
	for _, k := range keys {
		rec, vec := testImage(k, 8)
		if err := w.Add(rec, vec); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	b, err := os.ReadFile(filepath.Join(dir, JournalName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// damage rewrites the file at path with edit applied to its bytes.
func damage(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeBytes reads a store's three files.
func storeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range []string{EmbeddingsName, IndexName, MetaName} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	keys := testKeys(300)
	meta := writeStore(t, dir, shard.Whole, keys)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	if s.Meta.Count != len(keys) || s.Len() != len(keys) || s.Dim() != 8 || !reflect.DeepEqual(s.Meta, meta) {
		t.Fatalf("meta %+v, want %d records of 8", s.Meta, len(keys))
	}
	failed := 0
	for i, k := range keys {
		rec, err := s.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		want, vec := testImage(k, 8)
		want.Status = StatusOK
		if want.Error != "" {
			want.Status = StatusError
			failed++
			vec = make([]float32, 8)
		}
		if fmt.Sprint(rec) != fmt.Sprint(want) {
			t.Fatalf("record %d = %+v, want %+v", i, rec, want)
		}
		if !slices.Equal(s.Row(i), vec) {
			t.Fatalf("row %d = %v, want %v", i, s.Row(i), vec)
		}
	}
	if s.Meta.Failed != failed || failed == 0 {
		t.Fatalf("failed = %d, want %d (> 0)", s.Meta.Failed, failed)
	}
	if len(s.Matrix()) != len(keys)*8 {
		t.Fatalf("matrix of %d values", len(s.Matrix()))
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal left after Finish: %v", err)
	}
}

func TestEmptyStore(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, shard.Whole, nil)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 0 || s.Verify() != nil {
		t.Fatalf("empty store: %d records, verify %v", s.Len(), s.Verify())
	}
}

// TestMergeMatchesSingle: four shard stores merged are byte for byte the
// store one task makes over the whole set, whatever order they are given
// in, and also when one shard was interrupted and resumed.
func TestMergeMatchesSingle(t *testing.T) {
	root := t.TempDir()
	keys := testKeys(1000)
	single := filepath.Join(root, "single")
	writeStore(t, single, shard.Whole, keys)
	const n = 4
	var srcs []string
	for i := 1; i <= n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("store-%d", i))
		sp := shard.Spec{Index: i, Count: n}
		if i == 3 {
			writeInterrupted(t, dir, sp, keys)
		} else {
			writeStore(t, dir, sp, keys)
		}
		srcs = append(srcs, dir)
	}
	want := storeBytes(t, single)
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 1, 0, 2}} {
		dst := filepath.Join(root, fmt.Sprintf("merged-%v", order[0]))
		var in []string
		for _, i := range order {
			in = append(in, srcs[i])
		}
		var last [2]int
		m, err := Merge(context.Background(), dst, in, MergeOptions{Progress: func(d, t int) { last = [2]int{d, t} }})
		if err != nil {
			t.Fatal(err)
		}
		if m.Count != len(keys) || last != [2]int{len(keys), len(keys)} {
			t.Fatalf("merged %d records, last progress %v", m.Count, last)
		}
		got := storeBytes(t, dst)
		for name, b := range want {
			if !bytes.Equal(got[name], b) {
				t.Errorf("merged %s differs from the single-process one (%d vs %d bytes)", name, len(got[name]), len(b))
			}
		}
	}
}

// writeInterrupted writes a shard in two runs: the first adds half its
// images and dies with its last journal frame torn; the second resumes,
// adds only what is not done, and finishes.
func writeInterrupted(t *testing.T, dir string, sp shard.Spec, keys []string) {
	t.Helper()
	p := testParams(sp)
	part := sp.Filter(keys)
	w := create(t, dir, p, Options{})
	addAll(t, w, part[:len(part)/2], p.Dim)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	jname := filepath.Join(dir, JournalName)
	st, err := os.Stat(jname)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(jname, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	w = create(t, dir, p, Options{})
	if len(w.Notes()) != 1 || !strings.Contains(w.Notes()[0], "torn") {
		t.Fatalf("notes %q, want the torn frame reported", w.Notes())
	}
	var todo []string
	for _, k := range part {
		if w.Done(k) == "" {
			todo = append(todo, k)
		}
	}
	if len(todo) <= len(part)-len(part)/2 || len(todo) > len(part)-len(part)/2+1 {
		t.Fatalf("resume redoes %d of %d images, want the other half plus the torn one", len(todo), len(part))
	}
	addAll(t, w, todo, p.Dim)
	if _, err := w.Finish(part); err != nil {
		t.Fatal(err)
	}
}

// TestResumeOverFinished: a rerun over a finished store keeps its
// records, adds new images and drops removed ones, and ends with the
// bytes a fresh run over the new set makes.
func TestResumeOverFinished(t *testing.T) {
	root := t.TempDir()
	keys := testKeys(200)
	dir := filepath.Join(root, "s")
	writeStore(t, dir, shard.Whole, keys[:150])
	now := keys[20:]
	w := create(t, dir, testParams(shard.Whole), Options{})
	var todo []string
	for _, k := range now {
		if w.Done(k) != StatusOK {
			todo = append(todo, k)
		}
	}
	for _, k := range keys[20:150] {
		if rec, _ := testImage(k, 8); rec.Error == "" && w.Done(k) != StatusOK {
			t.Fatalf("%s not done after a finished run", k)
		}
	}
	addAll(t, w, todo, 8)
	if _, err := w.Finish(now); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(root, "fresh")
	writeStore(t, fresh, shard.Whole, now)
	got, want := storeBytes(t, dir), storeBytes(t, fresh)
	for name := range want {
		if !bytes.Equal(got[name], want[name]) {
			t.Errorf("%s after resuming differs from a fresh run's", name)
		}
	}
}

func TestFinishIncomplete(t *testing.T) {
	dir := t.TempDir()
	keys := testKeys(20)
	w := create(t, dir, testParams(shard.Whole), Options{})
	addAll(t, w, keys[:15], 8)
	_, err := w.Finish(keys)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "5 of 20") || !strings.Contains(err.Error(), keys[15]) {
		t.Fatalf("Finish with 5 images missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, MetaName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an incomplete Finish wrote meta.json")
	}
	addAll(t, w, keys[15:], 8)
	if _, err := w.Finish(keys); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Record{Path: "late.jpg", Error: "x"}, nil); err == nil {
		t.Fatal("Add after Finish accepted")
	}
}

func TestAddRejects(t *testing.T) {
	w := create(t, t.TempDir(), testParams(shard.Whole), Options{})
	defer w.Close()
	nan := make([]float32, 8)
	nan[3] = float32(nanValue())
	for _, tc := range []struct {
		rec Record
		vec []float32
		msg string
	}{
		{Record{Path: "a.jpg"}, make([]float32, 7), "length 7"},
		{Record{Path: "a.jpg"}, nan, "not finite"},
		{Record{Path: "../a.jpg"}, make([]float32, 8), "bad path"},
		{Record{Path: "/a.jpg"}, make([]float32, 8), "bad path"},
		{Record{Path: "a.jpg", Box: []float64{1, 2}}, make([]float32, 8), "box of 2"},
		{Record{Path: "a.jpg", Landmarks5: [][2]float64{{1, 2}}}, make([]float32, 8), "1 landmarks"},
	} {
		if err := w.Add(tc.rec, tc.vec); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Add(%+v) = %v, want an error mentioning %q", tc.rec, err, tc.msg)
		}
	}
}

func nanValue() float64 {
	var zero float64
	return zero / zero
}

func TestForeignFilesRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, IndexName), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("unrelated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Create(dir, testParams(shard.Whole), Options{})
	var fe *folder.ForeignFilesError
	if !errors.Is(err, folder.ErrForeignFiles) || !errors.As(err, &fe) || !slices.Equal(fe.Paths, []string{IndexName}) {
		t.Fatalf("Create over a foreign index.jsonl: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, IndexName)); string(b) != "mine\n" {
		t.Fatal("the foreign file was touched")
	}
	_, err = Merge(context.Background(), dir, []string{writeTo(t, shard.Whole)}, MergeOptions{})
	if !errors.Is(err, folder.ErrForeignFiles) {
		t.Fatalf("Merge into a foreign folder: %v", err)
	}
	w := create(t, dir, testParams(shard.Whole), Options{Force: true})
	if _, err := w.Finish(nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "unrelated\n" {
		t.Fatal("a file that is not the store's was touched")
	}
}

func writeTo(t *testing.T, sp shard.Spec) string {
	dir := filepath.Join(t.TempDir(), "src")
	writeStore(t, dir, sp, testKeys(50))
	return dir
}

func TestOtherParamsRefused(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, shard.Whole, testKeys(30))
	other := testParams(shard.Whole)
	other.Model = strings.Repeat("f", 64)
	_, err := Create(dir, other, Options{})
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "model") {
		t.Fatalf("Create with another model: %v", err)
	}
	w := create(t, dir, other, Options{Force: true})
	if w.Done(testKeys(30)[1]) != "" || len(w.Notes()) == 0 {
		t.Fatalf("forced Create kept the old records (notes %q)", w.Notes())
	}
	w.Close()
	// A journal of another shard is refused the same way.
	dir2 := t.TempDir()
	w = create(t, dir2, testParams(shard.Spec{Index: 1, Count: 2}), Options{})
	w.Close()
	if _, err := Create(dir2, testParams(shard.Spec{Index: 2, Count: 2}), Options{}); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "shard 1/2") {
		t.Fatalf("Create over another shard's journal: %v", err)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir, testParams(shard.Whole), Options{})
	defer w.Close()
	if _, err := Create(dir, testParams(shard.Whole), Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer on one store: %v", err)
	}
}

// TestFileModes: the files are readable by others, as other outputs are
// (CreateTemp alone would leave them 0600).
func TestFileModes(t *testing.T) {
	if MarkerName != folder.MarkerName(markerCmd) {
		t.Fatalf("MarkerName %q is not folder.MarkerName(%q)", MarkerName, markerCmd)
	}
	dir := t.TempDir()
	writeStore(t, dir, shard.Whole, testKeys(3))
	for _, n := range []string{MarkerName, EmbeddingsName, IndexName, MetaName} {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", n, st.Mode().Perm())
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	keys := testKeys(101)
	writeStore(t, dir, shard.Whole, keys)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for want, k := range keys {
		if i, ok, err := s.Find(k); err != nil || !ok || i != want {
			t.Fatalf("Find(%q) = %d, %v, %v; want %d", k, i, ok, err, want)
		}
	}
	for _, k := range []string{"", "a", "person_000/person_000_0001.jpga", "zzz"} {
		if _, ok, err := s.Find(k); ok || err != nil {
			t.Fatalf("Find(%q) found it (%v)", k, err)
		}
	}
}
