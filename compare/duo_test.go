package compare

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/internal/facetest"
	"github.com/maskinv/workbench/maskgen"
)

// eyesModel stands in for a second model: the fake engine's embedding of
// the crop with everything below the eye line grey, so that it ignores
// the lower face, as a mask-invariant student is meant to.
type eyesModel struct {
	inner    facetest.Engine
	embedded atomic.Int64
}

func (m *eyesModel) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	m.embedded.Add(int64(len(crops)))
	grey := make([]*image.NRGBA, len(crops))
	for k, c := range crops {
		g := image.NewNRGBA(c.Rect)
		copy(g.Pix, c.Pix)
		for y := 62; y < g.Rect.Dy(); y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+4*g.Rect.Dx()]
			for x := 0; x < len(row); x += 4 {
				row[x], row[x+1], row[x+2], row[x+3] = 127, 127, 127, 255
			}
		}
		grey[k] = g
	}
	return m.inner.Embed(ctx, grey)
}

var (
	fakeFirst  = Model{Label: "fake", Name: "facetest"}
	fakeSecond = Model{Label: "eyes", Name: "facetest, lower face grey", SHA256: strings.Repeat("ab", 32)}
)

func testDuo(t *testing.T, eng Engine, eyes *eyesModel, mask maskgen.Config, prog func(int, int)) *Duo {
	t.Helper()
	d, err := FolderDuo(context.Background(), eng, facetest.Folder(), Options{Source: "test", Mask: mask, Model: fakeFirst, Threshold: 0.5, Batch: 3, Progress: prog},
		Second{Recogniser: eyes, Model: fakeSecond, Threshold: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDuoFolder: one analysis, each model embeds every crop once, the
// crops are shared, and every score and change agrees with the naive
// cosine of each model's embeddings.
func TestDuoFolder(t *testing.T) {
	eng, eyes := &facetest.Engine{}, &eyesModel{}
	var reports [][2]int
	d := testDuo(t, eng, eyes, maskgen.Config{}, func(done, total int) { reports = append(reports, [2]int{done, total}) })
	if got := eng.Embedded.Load(); got != 16 {
		t.Errorf("first model embedded %d crops, want 16", got)
	}
	if got := eyes.embedded.Load(); got != 16 {
		t.Errorf("second model embedded %d crops, want 16 (8 faces, unmasked and masked)", got)
	}
	last := reports[len(reports)-1]
	if last[0] != last[1] || last[1] != 20 {
		t.Errorf("last progress %v, want 20 of 20 (10 photos, two models)", last)
	}
	for k := 1; k < len(reports); k++ {
		if reports[k][0] < reports[k-1][0] || reports[k][1] != reports[0][1] {
			t.Fatalf("progress %v does not go forward over one total", reports)
		}
	}
	a, b := d.Models[0], d.Models[1]
	if a.Model != fakeFirst || b.Model != fakeSecond || a.Threshold != 0.5 || b.Threshold != 0.6 {
		t.Errorf("models %+v (t %v), %+v (t %v)", a.Model, a.Threshold, b.Model, b.Threshold)
	}
	for i := range d.N() {
		pa, pb := a.Row(i), b.Row(i)
		if pa.Aligned != pb.Aligned || pa.Masked != pb.Masked || pa.Key != pb.Key {
			t.Fatalf("row %d: crops not shared between the models", i)
		}
		want, _ := eyes.Embed(context.Background(), []*image.NRGBA{pa.Aligned, pa.Masked})
		if !slices.Equal(pb.Embedding, want[0]) || !slices.Equal(pb.MaskedEmbedding, want[1]) {
			t.Fatalf("row %d: second model's embeddings are not its own", i)
		}
		if slices.Equal(pa.MaskedEmbedding, pb.MaskedEmbedding) {
			t.Fatalf("row %d: both models have one embedding", i)
		}
	}
	for i := range d.N() {
		for j := range d.N() {
			for _, s := range Settings() {
				naive := func(c *Comparison) float64 {
					x, y := c.Row(i).Embedding, c.Row(j).Embedding
					if s != SettingUU {
						y = c.Row(j).MaskedEmbedding
					}
					if s == SettingMM {
						x = c.Row(i).MaskedEmbedding
					}
					return face.Cosine(x, y)
				}
				if got, want := b.Scores[s].At(i, j), naive(b); math.Abs(got-want) > 1e-5 {
					t.Fatalf("second model, %s (%d, %d) = %v, want %v", s, i, j, got, want)
				}
				if got, want := d.Change(s).At(i, j), naive(b)-naive(a); math.Abs(got-want) > 1e-5 {
					t.Fatalf("change, %s (%d, %d) = %v, want %v", s, i, j, got, want)
				}
			}
		}
	}
	if len(b.Stats) != 3 || b.StatsErr != nil {
		t.Errorf("second model's stats %v, %v", b.Stats, b.StatsErr)
	}
}

// TestDuoFlipsAndPairs counts the flips of each model and their split
// the slow way, from every pair's decisions, and checks the inspector's
// rows against each model's own.
func TestDuoFlipsAndPairs(t *testing.T) {
	d := testDuo(t, &facetest.Engine{}, &eyesModel{}, maskgen.Config{}, nil)
	var want [NumSettings]FlipSplit
	for i := range d.N() {
		for j := range d.N() {
			if i == j {
				continue
			}
			p := d.Pair(i, j)
			for _, s := range []Setting{SettingUM, SettingMM} {
				if s == SettingMM && j < i {
					continue
				}
				fa, fb := p.Models[0].Flipped[s], p.Models[1].Flipped[s]
				switch {
				case fa && fb:
					want[s].Both++
				case fa:
					want[s].First++
				case fb:
					want[s].Second++
				}
			}
			for k, c := range d.Models {
				if p.Models[k].Threshold != c.Threshold || p.Models[k].Scores[SettingMM] != c.Scores[SettingMM].At(i, j) {
					t.Fatalf("pair (%d, %d), model %d: %+v", i, j, k, p.Models[k])
				}
			}
			rows := p.Rows()
			if len(rows) != 4 {
				t.Fatalf("%d rows", len(rows))
			}
			for r, row := range rows {
				ra, rb := p.Models[0].Rows()[r], p.Models[1].Rows()[r]
				if row.Models[0] != ra || row.Models[1] != rb || math.Abs(row.Change-(rb.Score-ra.Score)) > 1e-12 || row.Label != ra.Label {
					t.Fatalf("pair (%d, %d) row %d = %+v; model rows %+v, %+v", i, j, r, row, ra, rb)
				}
				by := map[[2]bool]string{{true, true}: "both", {true, false}: "fake", {false, true}: "eyes", {false, false}: ""}[[2]bool{ra.Flipped, rb.Flipped}]
				if got := row.FlippedBy(p.Labels); got != by {
					t.Fatalf("FlippedBy = %q, want %q", got, by)
				}
			}
		}
	}
	got := d.FlipSplits()
	if got != want {
		t.Errorf("flip splits %+v, want %+v", got, want)
	}
	for k, c := range d.Models {
		for _, s := range []Setting{SettingUM, SettingMM} {
			n := want[s].Both + [2]int{want[s].First, want[s].Second}[k]
			if c.FlipCount[s] != n {
				t.Errorf("model %d, %s: %d flips, split says %d", k, s, c.FlipCount[s], n)
			}
		}
	}
	if want[SettingUM] == (FlipSplit{}) {
		t.Error("the test folder flips nothing: the split is not tested")
	}
}

// TestDuoRemask: new masks cost each model one embedding per row, going
// back costs none, and the result equals a duo made afresh with those
// masks.
func TestDuoRemask(t *testing.T) {
	eng, eyes := &facetest.Engine{}, &eyesModel{}
	paper := maskgen.Config{}
	d := testDuo(t, eng, eyes, paper, nil)
	surgical, _ := maskgen.ParseStyle("surgical")
	other := maskgen.Config{Style: surgical, Seed: 7}
	e0, y0 := eng.Embedded.Load(), eyes.embedded.Load()
	var last [2]int
	d2, err := d.Remask(context.Background(), eng, eyes, other, func(done, total int) { last = [2]int{done, total} })
	if err != nil {
		t.Fatal(err)
	}
	if de, dy := eng.Embedded.Load()-e0, eyes.embedded.Load()-y0; de != 8 || dy != 8 {
		t.Errorf("remask embedded %d and %d crops, want 8 and 8 (masked only)", de, dy)
	}
	if last != [2]int{16, 16} {
		t.Errorf("last progress %v, want 16 of 16", last)
	}
	if &d2.Models[1].Scores[SettingUU].Data[0] != &d.Models[1].Scores[SettingUU].Data[0] {
		t.Error("remask recomputed the second model's unmasked scores")
	}
	fresh := testDuo(t, &facetest.Engine{}, &eyesModel{}, other, nil)
	for k := range d2.Models {
		for _, s := range Settings() {
			if !slices.Equal(d2.Models[k].Scores[s].Data, fresh.Models[k].Scores[s].Data) {
				t.Errorf("model %d, %s: remasked scores differ from a fresh analysis", k, s)
			}
		}
		if d2.Models[k].Model != d.Models[k].Model || d2.Models[k].Threshold != d.Models[k].Threshold {
			t.Errorf("model %d lost its name or threshold", k)
		}
	}
	e0, y0 = eng.Embedded.Load(), eyes.embedded.Load()
	d3, err := d2.Remask(context.Background(), eng, eyes, paper, nil)
	if err != nil {
		t.Fatal(err)
	}
	if de, dy := eng.Embedded.Load()-e0, eyes.embedded.Load()-y0; de != 0 || dy != 0 {
		t.Errorf("going back embedded %d and %d crops, want none (cached)", de, dy)
	}
	for k := range d3.Models {
		if !slices.Equal(d3.Models[k].Scores[SettingMM].Data, d.Models[k].Scores[SettingMM].Data) {
			t.Errorf("model %d: scores differ after going back", k)
		}
	}
}

func TestDuoThresholdSwapMismatch(t *testing.T) {
	d := testDuo(t, &facetest.Engine{}, &eyesModel{}, maskgen.Config{}, nil)
	d2, err := d.WithThreshold(context.Background(), 1, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Models[0].WithModel(context.Background(), &eyesModel{}, fakeSecond, 0.3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d2.Models[1].Flips, again.Flips) || !reflect.DeepEqual(d2.Models[1].Stats, again.Stats) || d2.Models[1].Threshold != 0.3 {
		t.Error("WithThreshold's flips or statistics differ from a comparison made at that threshold")
	}
	if &d2.Models[1].Scores[SettingMM].Data[0] != &d.Models[1].Scores[SettingMM].Data[0] || d2.Models[0] != d.Models[0] {
		t.Error("WithThreshold recomputed scores, or changed the other model")
	}
	s := d.Swap()
	if s.Models[0] != d.Models[1] || s.Change(SettingUM).At(0, 1) != -d.Change(SettingUM).At(0, 1) {
		t.Error("Swap")
	}
	surgical, _ := maskgen.ParseStyle("surgical")
	other, err := d.Models[0].Remask(context.Background(), &facetest.Engine{}, maskgen.Config{Style: surgical}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDuo(d.Models[0], other); !errors.Is(err, ErrMismatch) {
		t.Errorf("other masks: %v, want ErrMismatch", err)
	}
	few, err := Folder(context.Background(), &facetest.Engine{}, facetest.Folder(), Options{Mask: maskgen.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	few.Photos = few.Photos[1:]
	if _, err := NewDuo(d.Models[0], few); !errors.Is(err, ErrMismatch) {
		t.Errorf("other photos: %v, want ErrMismatch", err)
	}
}

func TestDuoCancel(t *testing.T) {
	c := compareTestFolder(t, &facetest.Engine{}, maskgen.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.WithModel(ctx, &eyesModel{}, fakeSecond, 0.5, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("WithModel on a cancelled context: %v", err)
	}
}

// TestDuoCSV reads the two-model CSV back: the header names each model's
// columns after it, and every value is the model's score, flip or change.
func TestDuoCSV(t *testing.T) {
	d := testDuo(t, &facetest.Engine{}, &eyesModel{}, maskgen.Config{}, nil)
	var buf bytes.Buffer
	if err := d.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0], ",")
	want := "photo_a,photo_b,identity_a,identity_b,same_identity," +
		"fake_unmasked,fake_unmasked_masked,fake_masked_unmasked,fake_masked,fake_threshold,fake_flipped," +
		"eyes_unmasked,eyes_unmasked_masked,eyes_masked_unmasked,eyes_masked,eyes_threshold,eyes_flipped," +
		"change_unmasked,change_unmasked_masked,change_masked_unmasked,change_masked"
	if head != want {
		t.Fatalf("header\n%s\nwant\n%s", head, want)
	}
	n := d.N()
	if len(rows) != 1+n*(n-1)/2 {
		t.Fatalf("%d rows, want %d", len(rows), 1+n*(n-1)/2)
	}
	k := 1
	for i := range n {
		for j := i + 1; j < n; j++ {
			r := rows[k]
			k++
			if r[0] != d.Models[0].Row(i).Key || r[1] != d.Models[0].Row(j).Key {
				t.Fatalf("row %d names %s, %s", k, r[0], r[1])
			}
			p := d.Pair(i, j)
			for m := range 2 {
				scores := []float64{p.Models[m].Scores[SettingUU], p.Models[m].Scores[SettingUM], p.Models[m].Reverse, p.Models[m].Scores[SettingMM]}
				var flips []string
				for c, v := range scores {
					got, _ := strconv.ParseFloat(r[5+6*m+c], 64)
					if math.Abs(got-v) > 6e-6 {
						t.Fatalf("(%d, %d) model %d column %d = %v, want %v", i, j, m, c, got, v)
					}
					if (v >= p.Models[m].Threshold) != (scores[0] >= p.Models[m].Threshold) {
						flips = append(flips, duoScoreColumns[c])
					}
				}
				if r[9+6*m] != strconv.FormatFloat(d.Models[m].Threshold, 'f', -1, 64) || r[10+6*m] != strings.Join(flips, " ") {
					t.Fatalf("(%d, %d) model %d: threshold %q flips %q, want %v", i, j, m, r[9+6*m], r[10+6*m], flips)
				}
			}
			if got, _ := strconv.ParseFloat(r[18], 64); math.Abs(got-p.Change[SettingUM]) > 6e-6 {
				t.Fatalf("(%d, %d) change %v, want %v", i, j, got, p.Change[SettingUM])
			}
		}
	}
	same := &Duo{Models: [2]*Comparison{d.Models[0], d.Models[0]}}
	if tags := same.ColumnTags(); tags != [2]string{"fake_1", "fake_2"} {
		t.Errorf("equal labels give tags %v", tags)
	}
	if l := same.Labels(); l[0] == l[1] {
		t.Errorf("equal labels stay equal: %v", l)
	}
	odd, err := d.Models[1].WithThreshold(context.Background(), 0.6)
	if err != nil {
		t.Fatal(err)
	}
	odd.Model.Label = "my, \"student\""
	if tags := (&Duo{Models: [2]*Comparison{d.Models[0], odd}}).ColumnTags(); tags[1] != "my_student" {
		t.Errorf("label with punctuation: tag %q", tags[1])
	}
}

// TestOneModelUnchanged: a one-model comparison's CSV and picture are byte
// for byte what they were before two-model comparisons existed
// (testdata/compare_fake.* were written by the code before them).
func TestOneModelUnchanged(t *testing.T) {
	c := compareTestFolder(t, &facetest.Engine{}, maskgen.Config{Seed: 3})
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "compare_fake.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("one-model CSV changed:\n%s\nwant\n%s", buf.Bytes(), want)
	}
	assertGolden(t, "compare_fake.png", c.Render(RenderOptions{Diff: DiffMM, Cell: 12}))
}

// TestDuoRenderGolden renders the two-model picture of the test folder
// (testdata/duo_fake.png; `go test ./compare -run DuoRenderGolden -update`).
func TestDuoRenderGolden(t *testing.T) {
	d := testDuo(t, &facetest.Engine{}, &eyesModel{}, maskgen.Config{Seed: 3}, nil)
	img := d.Render(RenderOptions{Cell: 12})
	assertGolden(t, "duo_fake.png", img)
	dir := t.TempDir()
	out := filepath.Join(dir, "duo.png")
	if err := d.WritePNG(out, RenderOptions{Cell: 12}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// benchDuo is a duo of n photos with random embeddings for both models.
func benchDuo(b *testing.B, n int) *Duo {
	b.Helper()
	first := benchComparison(b, n)
	second := benchComparison(b, n) // the same keys and identities, other vectors
	second.Threshold = 0.31
	d, err := NewDuo(first, second)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkDuoWithThreshold2000 is what a threshold change costs a model
// of a 2000-photo duo (flips and statistics again, no Gram matrix): the
// peer of BenchmarkScore2000.
func BenchmarkDuoWithThreshold2000(b *testing.B) {
	d := benchDuo(b, 2000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.WithThreshold(context.Background(), 1, 0.3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuoChange2000 is the three change maps of a 2000-photo duo,
// made afresh (a duo computes them once).
func BenchmarkDuoChange2000(b *testing.B) {
	d := benchDuo(b, 2000)
	b.ResetTimer()
	for b.Loop() {
		nd := &Duo{Models: d.Models}
		for _, s := range Settings() {
			nd.Change(s)
		}
	}
}

// BenchmarkDuoHeatmapsSwitch2000 is switching the shown model of a
// 2000-photo duo: its heatmaps and statistics come from the scores kept.
func BenchmarkDuoHeatmapsSwitch2000(b *testing.B) {
	d := benchDuo(b, 2000)
	b.ResetTimer()
	k := 0
	for b.Loop() {
		k = 1 - k
		if len(d.Models[k].Heatmaps(DiffNone)) != 3 || len(d.Models[k].StatsTable()) != 4 {
			b.Fatal("no heatmaps or statistics")
		}
	}
}
