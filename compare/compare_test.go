package compare

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/internal/facetest"
	"github.com/maskinv/workbench/internal/goldentest"
	"github.com/maskinv/workbench/maskgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func compareTestFolder(t *testing.T, eng Engine, mask maskgen.Config) *Comparison {
	t.Helper()
	c, err := Folder(context.Background(), eng, facetest.Folder(), Options{Source: "test", Mask: mask, Threshold: 0.5, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompareFolder(t *testing.T) {
	eng := &facetest.Engine{}
	c := compareTestFolder(t, eng, maskgen.Config{})
	if len(c.Photos) != 10 || c.N() != 8 {
		t.Fatalf("%d photos, %d rows; want 10 and 8 (hidden files and non-images skipped)", len(c.Photos), c.N())
	}
	failed := map[string]string{}
	for _, p := range c.Failed() {
		failed[p.Key] = p.Err
	}
	if e := failed["bob/bob_0099.png"]; !strings.Contains(e, "bob/bob_0099.png") || !strings.Contains(e, "no face") {
		t.Errorf("no-face photo: error %q, want its name and the reason", e)
	}
	if e := failed["carol/broken.jpg"]; !strings.Contains(e, "carol/broken.jpg") {
		t.Errorf("broken file: error %q, want its name", e)
	}
	if !c.Known || len(c.Blocks) != 3 {
		t.Fatalf("known %v, blocks %v: want 3 known identities", c.Known, c.Blocks)
	}
	want := []IdentityBlock{{Name: "alice", Start: 0, End: 3}, {Name: "bob", Start: 3, End: 5}, {Name: "carol", Start: 5, End: 8}}
	for k, b := range c.Blocks {
		if b != want[k] {
			t.Errorf("block %d = %v, want %v", k, b, want[k])
		}
	}
	if got := eng.Embedded.Load(); got != 16 {
		t.Errorf("%d crops embedded, want 16 (8 faces, unmasked and masked)", got)
	}
	// Every matrix against the naive cosine of the embeddings.
	for i := range c.N() {
		for j := range c.N() {
			a, b := c.Row(i), c.Row(j)
			for s, want := range []float64{
				face.Cosine(a.Embedding, b.Embedding),
				face.Cosine(a.Embedding, b.MaskedEmbedding),
				face.Cosine(a.MaskedEmbedding, b.MaskedEmbedding),
			} {
				if got := c.Scores[s].At(i, j); math.Abs(got-want) > 1e-5 {
					t.Fatalf("%s (%d, %d) = %v, want %v", Setting(s), i, j, got, want)
				}
			}
		}
	}
	// Masks: drawn on the aligned crop from the settings and the key.
	p := c.Row(0)
	m, err := maskgen.Config{}.ApplyAligned(p.Aligned, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Image.Pix, p.Masked.Pix) || p.Params.Key != p.Key || p.Coverage < 0.1 {
		t.Errorf("masked crop is not maskgen.Config.ApplyAligned(aligned, key): params %+v, coverage %v", p.Params, p.Coverage)
	}
	if p.Thumb == nil || max(p.Thumb.Rect.Dx(), p.Thumb.Rect.Dy()) != ThumbSize {
		t.Errorf("thumbnail %v, want longest side %d", p.Thumb.Rect, ThumbSize)
	}
}

// TestCompareStatsAndFlips checks the statistics against eval on the pairs
// listed the slow way, and the flips against the decisions.
func TestCompareStatsAndFlips(t *testing.T) {
	c := compareTestFolder(t, &facetest.Engine{}, maskgen.Config{})
	if c.StatsErr != nil || len(c.Stats) != 3 {
		t.Fatalf("stats %v, err %v", c.Stats, c.StatsErr)
	}
	n := c.N()
	flips := map[Flip]bool{}
	for _, f := range c.Flips {
		flips[f] = true
	}
	for _, s := range Settings() {
		var scores []float64
		var same []bool
		wantFlips := 0
		for i := range n {
			for j := range n {
				if i == j || (s != SettingUM && j < i) {
					continue
				}
				v := c.Scores[s].At(i, j)
				scores = append(scores, v)
				same = append(same, c.Row(i).Identity == c.Row(j).Identity)
				if u := c.Scores[SettingUU].At(i, j); s != SettingUU && (u >= c.Threshold) != (v >= c.Threshold) {
					wantFlips++
					if !flips[Flip{Setting: s, A: int32(i), B: int32(j), Unmasked: float32(u), Masked: float32(v)}] {
						t.Errorf("%s: pair (%d, %d) flips (%.3f → %.3f) but is not listed", s, i, j, u, v)
					}
				}
			}
		}
		if c.FlipCount[s] != wantFlips {
			t.Errorf("%s: %d flips counted, want %d", s, c.FlipCount[s], wantFlips)
		}
		curve, err := eval.ROC(scores, same)
		if err != nil {
			t.Fatal(err)
		}
		st := c.Stat(s)
		eer, _ := curve.EER()
		g, im := eval.ScoreMoments(scores, same)
		if st.EER != eer || st.FMR100 != curve.FNMRAtFMR(0.01) || st.Genuine != g || st.Impostor != im {
			t.Errorf("%s: stats %+v disagree with eval (EER %v, FMR100 %v, %+v, %+v)", s, st, eer, curve.FNMRAtFMR(0.01), g, im)
		}
		total := 0
		for k := range st.Hist.Genuine {
			total += st.Hist.Genuine[k] + st.Hist.Impostor[k]
		}
		if total != len(scores) {
			t.Errorf("%s: histogram holds %d scores, want %d", s, total, len(scores))
		}
	}
	if len(c.Flips) != c.FlipCount[SettingUM]+c.FlipCount[SettingMM] {
		t.Errorf("%d flips listed, counts %v", len(c.Flips), c.FlipCount)
	}
	pi := c.Pair(0, 4)
	if pi.Scores[SettingUM] != c.Scores[SettingUM].At(0, 4) || pi.Reverse != c.Scores[SettingUM].At(4, 0) || pi.SameIdentity {
		t.Errorf("Pair(0, 4) = %+v", pi)
	}
}

func TestCompareRemaskReusesUnmasked(t *testing.T) {
	eng := &facetest.Engine{}
	paper := maskgen.Config{}
	c := compareTestFolder(t, eng, paper)
	before := eng.Embedded.Load()
	surgical, _ := maskgen.ParseStyle("surgical")
	other := maskgen.Config{Style: surgical, Seed: 7, Shift: &maskgen.Shift{X: 0, Y: 30}}
	c2, err := c.Remask(context.Background(), eng, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Embedded.Load() - before; got != int64(c.N()) {
		t.Errorf("remask embedded %d crops, want %d (masked only)", got, c.N())
	}
	if &c2.Scores[SettingUU].Data[0] != &c.Scores[SettingUU].Data[0] {
		t.Error("remask recomputed the unmasked scores")
	}
	if c2.Row(0).Params.Style != "surgical" || c.Row(0).Params.Style != "paper" {
		t.Errorf("styles %q, %q: remask must not change the original", c2.Row(0).Params.Style, c.Row(0).Params.Style)
	}
	// Going back to the first settings costs no recogniser run and gives
	// the same scores.
	before = eng.Embedded.Load()
	c3, err := c2.Remask(context.Background(), eng, paper, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Embedded.Load() - before; got != 0 {
		t.Errorf("going back embedded %d crops, want 0 (cached)", got)
	}
	for k := range c.Scores[SettingMM].Data {
		if c3.Scores[SettingMM].Data[k] != c.Scores[SettingMM].Data[k] {
			t.Fatal("scores differ after returning to the first settings")
		}
	}
	// A fixed shift applies to the paper style only.
	paperShift := maskgen.Config{Shift: &maskgen.Shift{X: -5, Y: 35}}
	if p := paperShift.Choose("a/b.png"); p.ShiftX != -5 || p.ShiftY != 35 {
		t.Errorf("paper with a fixed shift: %+v", p)
	}
	if p := other.Choose("a/b.png"); p.ShiftX != 0 || p.ShiftY != 0 {
		t.Errorf("surgical has no shift, got %+v", p)
	}
}

func TestCompareCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Folder(ctx, &facetest.Engine{}, facetest.Folder(), Options{Batch: 2, Progress: func(done, total int) {
		if calls++; done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if calls != 2 {
		t.Errorf("%d progress reports, want 2 (start, first batch; then stop)", calls)
	}
}

func TestCompareIdentities(t *testing.T) {
	// Flat LFW-style names give identities; other flat names do not.
	m := fstest.MapFS{
		"Ann_Lee_0001.png": {Data: facetest.Person(1, 1)}, "Ann_Lee_0002.png": {Data: facetest.Person(1, 2)},
		"Bo_0001.png": {Data: facetest.Person(2, 1)},
	}
	c, err := Folder(context.Background(), &facetest.Engine{}, m, Options{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Known || len(c.Blocks) != 2 || c.Blocks[0].Name != "Ann_Lee" {
		t.Errorf("flat LFW names: known %v, blocks %v", c.Known, c.Blocks)
	}
	m["holiday.png"] = &fstest.MapFile{Data: facetest.Person(3, 1)}
	c, err = Folder(context.Background(), &facetest.Engine{}, m, Options{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if c.Known || c.Stats != nil || c.Row(0).Key != "holiday.png" {
		t.Errorf("a photo without identity: known %v, stats %v, first %q", c.Known, c.Stats, c.Row(0).Key)
	}
	if _, err := Folder(context.Background(), &facetest.Engine{}, fstest.MapFS{"a.txt": {}}, Options{}); err == nil {
		t.Error("a folder without images must be an error")
	}
}

func TestGramMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dim = 37, 64
	a, b := make([]float32, n*dim), make([]float32, n*dim)
	for i := range a {
		a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	a0 := append([]float32(nil), a...)
	g := gram(a, b, n, dim)
	for i := range n {
		for j := range n {
			var s float64
			for k := range dim {
				s += float64(a[i*dim+k]) * float64(b[j*dim+k])
			}
			if got := g.At(i, j); math.Abs(got-s) > 1e-4*math.Max(1, math.Abs(s)) {
				t.Fatalf("(%d, %d) = %v, want %v", i, j, got, s)
			}
		}
	}
	for i := range a {
		if a[i] != a0[i] {
			t.Fatal("gram modified its input")
		}
	}
}

// TestCompareDemoGolden runs the real engine on the embedded demo set and
// compares the rendered comparison with testdata/compare_demo.png (made by
// `go test ./compare -run CompareDemoGolden -update`). A per-channel tolerance
// absorbs last-bit differences of the float kernels between CPUs.
func TestCompareDemoGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine on 12 photos")
	}
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Folder(context.Background(), eng, assets.Demo(), Options{Source: "embedded demo", Threshold: eng.Threshold})
	if err != nil {
		t.Fatal(err)
	}
	if c.N() != 12 || !c.Known || len(c.Blocks) != 4 || c.StatsErr != nil {
		t.Fatalf("demo: %d rows, known %v, %d blocks, stats error %v", c.N(), c.Known, len(c.Blocks), c.StatsErr)
	}
	for i := range c.N() {
		if d := c.Scores[SettingUU].At(i, i); math.Abs(d-1) > 1e-5 {
			t.Errorf("self-similarity of row %d is %v", i, d)
		}
	}
	if st := c.Stat(SettingUU); st.EER != 0 || st.Genuine.Mean < 0.5 {
		t.Errorf("unmasked demo should separate perfectly: %s", st.Line())
	}
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 1+12*11/2 || len(rows[0]) != 11 {
		t.Fatalf("CSV: %d rows of %d fields, err %v; want 67 of 11", len(rows), len(rows[0]), err)
	}
	got := c.Render(RenderOptions{Diff: DiffUM})
	assertGolden(t, "compare_demo.png", got)
}

func assertGolden(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	goldentest.Assert(t, name, img, *update)
}

// benchComparison is an n-photo comparison of random embeddings in blocks
// of 5 identities, scored: what the GUI redraws from.
func benchComparison(b *testing.B, n int) *Comparison {
	b.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	c := &Comparison{Threshold: engine.DefaultThreshold, cache: newMaskedCache()}
	for i := range n {
		u, m := make([]float32, 512), make([]float32, 512)
		for k := range u {
			u[k], m[k] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		u, _ = face.Normalize(u)
		m, _ = face.Normalize(m)
		c.Photos = append(c.Photos, Photo{Key: fmt.Sprintf("p%04d/x_%04d.png", i/5, i), Identity: fmt.Sprintf("p%04d", i/5), Embedding: u, MaskedEmbedding: m})
	}
	c.index()
	if err := c.score(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkScore2000 is the scoring of 2000 photos: three 2000×2000 Gram
// matrices, flips and statistics (4 million ordered pairs).
func BenchmarkScore2000(b *testing.B) {
	c := benchComparison(b, 2000)
	b.ResetTimer()
	for b.Loop() {
		c.Scores = [NumSettings]ScoreMatrix{}
		if err := c.score(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCompareListsUnreadableFolder: compare goes on without the folder
// and lists it with the failed photos.
func TestCompareListsUnreadableFolder(t *testing.T) {
	c, err := Folder(context.Background(), &facetest.Engine{}, apptest.FailDirFS{FS: facetest.Folder(), Bad: "bob"}, Options{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range c.Failed() {
		if p.Key == "bob" && strings.Contains(p.Err, "permission denied") {
			found = true
		}
	}
	if !found || c.N() != 6 {
		t.Errorf("%d rows, failed %v: want 6 rows and bob listed", c.N(), c.Failed())
	}
}

// TestExportNoFaces checks the exports the desktop app's buttons call
// (Comparison.WritePNG, WriteCSVFile) refuse a comparison without rows
// and leave the file at the path untouched.
func TestExportNoFaces(t *testing.T) {
	c, err := Folder(context.Background(), &facetest.Engine{}, fstest.MapFS{"a.png": {Data: facetest.BlackPhoto()}}, Options{Source: "empty", Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.WriteFile(out, []byte("keep"), 0o644)
	for name, write := range map[string]func() error{
		"PNG": func() error { return c.WritePNG(out, RenderOptions{}) },
		"CSV": func() error { return c.WriteCSVFile(out) },
	} {
		err := write()
		if !errors.Is(err, ErrNoFaces) || !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%s: error %v, want ErrNoFaces naming %s and the folder", name, err, out)
		}
		if b, _ := os.ReadFile(out); string(b) != "keep" {
			t.Errorf("%s: the file at the path became %q", name, b)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%s: %d entries in the folder, want only the earlier file", name, len(ents))
		}
	}
}
