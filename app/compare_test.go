package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/disintegration/imaging"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeEngine stands in for the face engine: the "face" is the whole photo
// scaled to 112×112, a photo whose top-left pixel is black has none, and
// the embedding is the crop's mean colour over a 4×4 grid, centred and
// normalised. Fast, deterministic, and sensitive to masks.
type fakeEngine struct{ embedded atomic.Int64 }

func (e *fakeEngine) Locate(ctx context.Context, img image.Image) (face.Result, error) {
	if err := ctx.Err(); err != nil {
		return face.Result{}, err
	}
	if r, g, b, _ := img.At(img.Bounds().Min.X, img.Bounds().Min.Y).RGBA(); r|g|b == 0 {
		return face.Result{}, fmt.Errorf("detect: %w", face.ErrNoFace)
	}
	b := img.Bounds()
	return face.Result{
		Box:     [4]float64{0, 0, float64(b.Dx()), float64(b.Dy())},
		Aligned: imaging.Resize(img, 112, 112, imaging.Linear),
	}, nil
}

func (e *fakeEngine) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.embedded.Add(int64(len(crops)))
	out := make([][]float32, len(crops))
	for k, c := range crops {
		v := make([]float32, 48)
		for y := range 112 {
			for x := range 112 {
				p := c.NRGBAAt(x, y)
				cell := (y/28*4 + x/28) * 3
				v[cell] += float32(p.R)
				v[cell+1] += float32(p.G)
				v[cell+2] += float32(p.B)
			}
		}
		var mean float32
		for _, x := range v {
			mean += x / 48
		}
		for i := range v {
			v[i] -= mean
		}
		n, err := face.Normalize(v)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

// person draws a synthetic photo of identity id, variant k: a colour
// pattern per identity with a little variation per photo.
func person(id, k int) []byte {
	rng := rand.New(rand.NewPCG(uint64(id), uint64(k)))
	img := image.NewNRGBA(image.Rect(0, 0, 80, 96))
	base := [3]int{40 + 70*(id%3), 40 + 50*(id%4), 200 - 60*(id%3)}
	for y := range 96 {
		for x := range 80 {
			j := rng.IntN(30)
			img.SetNRGBA(x, y, color.NRGBA{uint8(base[0] + x + j), uint8(base[1] + y/2 + j), uint8(base[2] + (x*y)%40), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func blackPhoto() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 20, 20)))
	return buf.Bytes()
}

// testFolder is 3 identities in subfolders (3, 2 and 3 photos), a photo
// without a face, a broken file and a hidden file.
func testFolder() fstest.MapFS {
	m := fstest.MapFS{}
	for id, n := range []int{3, 2, 3} {
		name := []string{"alice", "bob", "carol"}[id]
		for k := range n {
			m[fmt.Sprintf("%s/%s_%04d.png", name, name, k+1)] = &fstest.MapFile{Data: person(id, k)}
		}
	}
	m["bob/bob_0099.png"] = &fstest.MapFile{Data: blackPhoto()}
	m["carol/broken.jpg"] = &fstest.MapFile{Data: []byte("not a jpeg")}
	m[".hidden/x.png"] = &fstest.MapFile{Data: person(9, 9)}
	m["notes.txt"] = &fstest.MapFile{Data: []byte("hello")}
	return m
}

func compareTestFolder(t *testing.T, eng compareEngine, mask MaskSettings) *Comparison {
	t.Helper()
	c, err := compare(context.Background(), eng, testFolder(), CompareOptions{Source: "test", Mask: mask, Threshold: 0.5, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompareFolder(t *testing.T) {
	eng := &fakeEngine{}
	c := compareTestFolder(t, eng, MaskSettings{})
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
	want := []IdentityBlock{{"alice", 0, 3}, {"bob", 3, 5}, {"carol", 5, 8}}
	for k, b := range c.Blocks {
		if b != want[k] {
			t.Errorf("block %d = %v, want %v", k, b, want[k])
		}
	}
	if got := eng.embedded.Load(); got != 16 {
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
					t.Fatalf("%s (%d, %d) = %v, want %v", CompareSetting(s), i, j, got, want)
				}
			}
		}
	}
	// Masks: drawn on the aligned crop from the settings and the key.
	p := c.Row(0)
	m, err := MaskSettings{}.Apply(p.Aligned, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Image.Pix, p.Masked.Pix) || p.Params.Key != p.Key || p.Coverage < 0.1 {
		t.Errorf("masked crop is not MaskSettings.Apply(aligned, key): params %+v, coverage %v", p.Params, p.Coverage)
	}
	if p.Thumb == nil || max(p.Thumb.Rect.Dx(), p.Thumb.Rect.Dy()) != ThumbSize {
		t.Errorf("thumbnail %v, want longest side %d", p.Thumb.Rect, ThumbSize)
	}
}

// TestCompareStatsAndFlips checks the statistics against eval on the pairs
// listed the slow way, and the flips against the decisions.
func TestCompareStatsAndFlips(t *testing.T) {
	c := compareTestFolder(t, &fakeEngine{}, MaskSettings{})
	if c.StatsErr != nil || len(c.Stats) != 3 {
		t.Fatalf("stats %v, err %v", c.Stats, c.StatsErr)
	}
	n := c.N()
	flips := map[CompareFlip]bool{}
	for _, f := range c.Flips {
		flips[f] = true
	}
	for _, s := range CompareSettings() {
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
					if !flips[CompareFlip{Setting: s, A: int32(i), B: int32(j), Unmasked: float32(u), Masked: float32(v)}] {
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
	eng := &fakeEngine{}
	paper := MaskSettings{}
	c := compareTestFolder(t, eng, paper)
	before := eng.embedded.Load()
	surgical, _ := maskgen.ParseStyle("surgical")
	other := MaskSettings{Config: maskgen.Config{Style: surgical, Seed: 7}, Shift: &MaskShift{0, 30}}
	c2, err := c.remask(context.Background(), eng, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.embedded.Load() - before; got != int64(c.N()) {
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
	before = eng.embedded.Load()
	c3, err := c2.remask(context.Background(), eng, paper, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.embedded.Load() - before; got != 0 {
		t.Errorf("going back embedded %d crops, want 0 (cached)", got)
	}
	for k := range c.Scores[SettingMM].Data {
		if c3.Scores[SettingMM].Data[k] != c.Scores[SettingMM].Data[k] {
			t.Fatal("scores differ after returning to the first settings")
		}
	}
	// A fixed shift applies to the paper style only.
	paperShift := MaskSettings{Shift: &MaskShift{-5, 35}}
	if p := paperShift.Params("a/b.png"); p.ShiftX != -5 || p.ShiftY != 35 {
		t.Errorf("paper with a fixed shift: %+v", p)
	}
	if p := other.Params("a/b.png"); p.ShiftX != 0 || p.ShiftY != 0 {
		t.Errorf("surgical has no shift, got %+v", p)
	}
}

func TestCompareCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := compare(ctx, &fakeEngine{}, testFolder(), CompareOptions{Batch: 2, Progress: func(done, total int) {
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
		"Ann_Lee_0001.png": {Data: person(1, 1)}, "Ann_Lee_0002.png": {Data: person(1, 2)},
		"Bo_0001.png": {Data: person(2, 1)},
	}
	c, err := compare(context.Background(), &fakeEngine{}, m, CompareOptions{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Known || len(c.Blocks) != 2 || c.Blocks[0].Name != "Ann_Lee" {
		t.Errorf("flat LFW names: known %v, blocks %v", c.Known, c.Blocks)
	}
	m["holiday.png"] = &fstest.MapFile{Data: person(3, 1)}
	c, err = compare(context.Background(), &fakeEngine{}, m, CompareOptions{Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if c.Known || c.Stats != nil || c.Row(0).Key != "holiday.png" {
		t.Errorf("a photo without identity: known %v, stats %v, first %q", c.Known, c.Stats, c.Row(0).Key)
	}
	if _, err := compare(context.Background(), &fakeEngine{}, fstest.MapFS{"a.txt": {}}, CompareOptions{}); err == nil {
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

func TestHeatmapCellInvertsDrawing(t *testing.T) {
	for _, n := range []int{1, 3, 7, 12, 500} {
		for _, side := range []int{5, 100, 301} {
			r := image.Rect(10, 20, 10+side, 20+side)
			for y := r.Min.Y; y < r.Max.Y; y += 1 + side/50 {
				for x := r.Min.X; x < r.Max.X; x += 1 + side/50 {
					i, j, ok := HeatmapCell(r, n, image.Pt(x, y))
					if !ok || !image.Pt(x, y).In(HeatmapCellRect(r, n, i, j)) {
						t.Fatalf("n %d side %d: pixel (%d, %d) → cell (%d, %d) %v whose rect %v misses it", n, side, x, y, i, j, ok, HeatmapCellRect(r, n, i, j))
					}
				}
			}
			if _, _, ok := HeatmapCell(r, n, r.Max); ok {
				t.Error("a point outside the map must not hit a cell")
			}
		}
	}
	if got := HeatmapRect(image.Rect(0, 0, 300, 200)); got != image.Rect(50, 0, 250, 200) {
		t.Errorf("HeatmapRect = %v", got)
	}
}

func TestColorScale(t *testing.T) {
	s := SimilarityScale()
	if s.At(-5) != s.At(s.Lo) || s.At(5) != s.At(s.Hi) || s.At(s.Lo) == s.At(s.Hi) {
		t.Error("values outside the scale must take the end colours")
	}
	if c := s.At(math.NaN()); c != (color.NRGBA{128, 128, 128, 255}) {
		t.Errorf("NaN → %v, want grey", c)
	}
}

func TestParseMaskShift(t *testing.T) {
	for in, want := range map[string]*MaskShift{"": nil, "random": nil, "3,-40": {3, -40}, " -240 , 240 ": {-240, 240}} {
		got, err := ParseMaskShift(in)
		if err != nil || (got == nil) != (want == nil) || got != nil && *got != *want {
			t.Errorf("ParseMaskShift(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1", "a,b", "0,241", "1,2,3"} {
		if _, err := ParseMaskShift(in); !errors.Is(err, ErrMaskShift) {
			t.Errorf("ParseMaskShift(%q): err %v, want ErrMaskShift", in, err)
		}
	}
}

// TestMaskDatasetShift: the fixed shift reaches the dataset and its
// manifest, and moves the mask.
func TestMaskDatasetShift(t *testing.T) {
	in := maskTestInput(t)
	outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for k, sh := range []*MaskShift{nil, {0, 120}} {
		if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[k], Aligned: true, Shift: sh}); err != nil {
			t.Fatal(err)
		}
	}
	m := readMaskManifestFile(t, outs[1])
	if m.Shift == nil || *m.Shift != (MaskShift{0, 120}) {
		t.Errorf("manifest shift %v", m.Shift)
	}
	for _, rec := range m.Images {
		if rec.Error == "" && (rec.Params.ShiftX != 0 || rec.Params.ShiftY != 120) {
			t.Errorf("%s: params %+v, want the fixed shift", rec.Key, rec.Params)
		}
	}
	a, err := imageio.Decode(filepath.Join(outs[0], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := imageio.Decode(filepath.Join(outs[1], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("a shift of 10 crop pixels left the mask where it was")
	}
	if readMaskManifestFile(t, outs[0]).Shift != nil {
		t.Error("no shift given, but the manifest records one")
	}
	if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[0], Aligned: true, Shift: &MaskShift{0, 999}}); !errors.Is(err, ErrMaskShift) {
		t.Errorf("out-of-range shift: err %v", err)
	}
}

// TestCompareDemoGolden runs the real engine on the embedded demo set and
// compares the rendered comparison with testdata/compare_demo.png (made by
// `go test ./app -run CompareDemoGolden -update`). A per-channel tolerance
// absorbs last-bit differences of the float kernels between CPUs.
func TestCompareDemoGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine on 12 photos")
	}
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(context.Background(), eng, assets.Demo(), CompareOptions{Source: "embedded demo"})
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
	got := RenderComparison(c, RenderOptions{Diff: DiffUM})
	assertGolden(t, "compare_demo.png", got)
}

// assertGolden compares img with testdata/name: every channel within 2,
// and at most 0.2% of pixels further off (text whose last digit moved).
// On a mismatch it writes img to testdata/failed/name.
func assertGolden(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := imageio.WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
		return
	}
	fail := func(format string, a ...any) {
		t.Helper()
		failed := filepath.Join("testdata", "failed", name)
		os.MkdirAll(filepath.Dir(failed), 0o755)
		if err := imageio.WritePNG(failed, img); err != nil {
			t.Error(err)
		}
		t.Errorf("%s: %s; got written to %s (review it, then rerun with -update)", path, fmt.Sprintf(format, a...), failed)
	}
	want, err := imageio.Decode(path)
	if errors.Is(err, fs.ErrNotExist) {
		fail("no golden")
		return
	} else if err != nil {
		t.Fatal(err)
	}
	if want.Rect != img.Rect {
		fail("size %v, want %v", img.Rect, want.Rect)
		return
	}
	off := 0
	for i := range want.Pix {
		d := int(want.Pix[i]) - int(img.Pix[i])
		if d > 2 || d < -2 {
			off++
		}
	}
	if limit := len(want.Pix) / 4 / 500; off > limit {
		fail("%d channel values differ by more than 2 (limit %d)", off, limit)
	}
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"compare", "--out", "x.png"},
		{"compare", "--demo", "--in", dir, "--out", "x.png"},
		{"compare", "--demo"},
		{"compare", "--demo", "--out", "x.png", "--shift", "1"},
		{"compare", "--demo", "--out", "x.png", "--diff", "xx"},
		{"compare", "--demo", "--out", "x.png", "--mask-style", "scarf"},
		{"compare", "--demo", "--out", "x.png", "--csv", "./x.png"},
	} {
		if _, stderr, code := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage); stderr %s", args, code, stderr)
		}
	}
	if testing.Short() {
		return
	}
	out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
	stdout, stderr, code := runCLI(t, "compare", "--demo", "--out", out, "--csv", csvPath, "--mask-style", "n95", "--seed", "4", "--cell", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "12 photos: 12 analysed") || !strings.Contains(stdout, "EER") {
		t.Errorf("stdout %q", stdout)
	}
	img, err := imageio.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect.Dx() < 960 || img.Rect.Dy() < 400 {
		t.Errorf("PNG is %v", img.Rect)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil || bytes.Count(b, []byte("\n")) != 67 {
		t.Errorf("CSV: %d lines, err %v", bytes.Count(b, []byte("\n")), err)
	}
}

// TestDrawHeatmapPooled checks the averaged drawing of more cells than
// pixels against the mean computed cell by cell.
func TestDrawHeatmapPooled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, side = 101, 13
	m := ScoreMatrix{N: n, Data: make([]float32, n*n)}
	for i := range m.Data {
		m.Data[i] = float32(rng.Float64()*1.2 - 0.2)
	}
	h := Heatmap{Scores: m, Scale: SimilarityScale()}
	dst := image.NewNRGBA(image.Rect(0, 0, side+4, side+4))
	r := image.Rect(2, 2, 2+side, 2+side)
	DrawHeatmap(dst, r, h)
	for y := range side {
		for x := range side {
			var sum float64
			cnt := 0
			covers := func(p, i int) bool { return p*n/side <= i && i < (p+1)*n/side }
			for i := range n {
				for j := range n {
					if covers(y, i) && covers(x, j) {
						sum += float64(m.Data[i*n+j])
						cnt++
					}
				}
			}
			want := h.Scale.At(sum / float64(cnt))
			if got := dst.NRGBAAt(r.Min.X+x, r.Min.Y+y); got != want {
				t.Fatalf("pixel (%d, %d) = %v, want %v (mean of %d cells)", x, y, got, want, cnt)
			}
			ci, cj, _ := HeatmapCell(r, n, image.Pt(r.Min.X+x, r.Min.Y+y))
			if !covers(y, ci) || !covers(x, cj) {
				t.Fatalf("pixel (%d, %d) reports cell (%d, %d), which it does not cover", x, y, ci, cj)
			}
		}
	}
	if dst.NRGBAAt(0, 0).A != 0 || dst.NRGBAAt(side+3, side+3).A != 0 {
		t.Error("drew outside r")
	}
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
		c.Photos = append(c.Photos, ComparePhoto{Key: fmt.Sprintf("p%04d/x_%04d.png", i/5, i), Identity: fmt.Sprintf("p%04d", i/5), Embedding: u, MaskedEmbedding: m})
	}
	c.index()
	if err := c.score(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchmarkDrawHeatmap(b *testing.B, n, side int) {
	c := benchComparison(b, n)
	h := c.Heatmaps(DiffNone)[0]
	dst := image.NewNRGBA(image.Rect(0, 0, side, side))
	b.ResetTimer()
	for b.Loop() {
		DrawHeatmap(dst, dst.Rect, h)
	}
}

// The GUI draws each map at its on-screen size (about 330 px) whenever
// the scores or the window change.
func BenchmarkDrawHeatmap2000Screen(b *testing.B) { benchmarkDrawHeatmap(b, 2000, 330) }
func BenchmarkDrawHeatmap200Screen(b *testing.B)  { benchmarkDrawHeatmap(b, 200, 330) }

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
