package occlusion

import (
	"context"
	"errors"
	"flag"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/render"
)

func sumDrops(m Map) float64 {
	s := 0.0
	for _, d := range m.Drops {
		s += d
	}
	return s
}

var docsDir = flag.String("docs", "", "write the demo figures and maps of docs/occlusion.md into this folder (slow: 8×8 patches, stride 4)")

// TestOverlayColours: a map's colours sit where its drops are, blended
// over the face's luma as documented.
func TestOverlayColours(t *testing.T) {
	g := Grid{Size: 112, Patch: 56, Stride: 56}
	m := Map{Grid: g, Drops: []float64{0.1, -0.1, 0, 0.05}} // top-left, top-right, bottom-left, bottom-right
	grey := image.NewNRGBA(image.Rect(0, 0, 112, 112))
	for i := range grey.Pix {
		grey.Pix[i] = 200
	}
	s := Scale{Max: 0.1}
	out := Overlay(grey, m, s)
	tests := []struct {
		at    image.Point
		want  color.NRGBA
		alpha float64
	}{
		{image.Pt(10, 10), color.NRGBA{178, 24, 43, 255}, 0.85},   // +Max: dark red
		{image.Pt(100, 10), color.NRGBA{33, 102, 172, 255}, 0.85}, // −Max: dark blue
		{image.Pt(10, 100), color.NRGBA{200, 200, 200, 255}, 0},   // zero: the face
		{image.Pt(100, 100), s.At(0.05), 0.85 * math.Sqrt(0.5)},
	}
	for _, tc := range tests {
		blend := func(v uint8) uint8 { return uint8(tc.alpha*float64(v) + (1-tc.alpha)*200 + 0.5) }
		want := color.NRGBA{blend(tc.want.R), blend(tc.want.G), blend(tc.want.B), 255}
		if got := out.NRGBAAt(tc.at.X, tc.at.Y); got != want {
			t.Errorf("pixel %v = %v, want %v", tc.at, got, want)
		}
	}
	if c := s.At(0.05); !(c.R > c.B && c.R > 230) {
		t.Errorf("half the scale's maximum is %v, want a light red", c)
	}
}

// TestScaleFor: the scale ends at the 99th percentile of the drawn
// values, rounded up, so one outlier does not wash out the rest.
func TestScaleFor(t *testing.T) {
	g := Grid{Size: 10, Patch: 1, Stride: 1}
	m := Map{Grid: g, Drops: make([]float64, 100)}
	for k := range m.Drops {
		m.Drops[k] = -0.0003 * float64(k) // up to −0.0297
	}
	m.Drops[50] = 0.9 // an outlier
	r := &Result{Grid: g, Settings: []SettingMaps{{A: m, B: Map{Grid: g, Drops: make([]float64, 100)}}}}
	// |values| sorted: 100 zeros, then 0.0003 … 0.0297 and 0.9; the 99th
	// percentile (index 197 of 200) is 0.0291 → 0.05.
	if got := ScaleFor(r); math.Abs(got.Max-0.05) > 1e-12 {
		t.Errorf("ScaleFor = %v, want 0.05", got.Max)
	}
	if got := ScaleFor(); got.Max != 0.01 {
		t.Errorf("ScaleFor() = %v, want 0.01", got.Max)
	}
}

// TestFigureLayout: the figure has a row per setting and a column group
// per model, draws each overlay where the layout puts it, and refuses
// nothing to draw.
func TestFigureLayout(t *testing.T) {
	emb := &regionEmbedder{region: image.Rect(20, 20, 60, 50)}
	p := Pair{NameA: "A/A_0001.jpg", NameB: "B/B_0001.jpg", A: noiseFace(1), B: noiseFace(2), MaskedA: noiseFace(3), MaskedB: noiseFace(4)}
	var results []*Result
	for _, name := range []string{"teacher", "student"} {
		r, err := ComputePair(context.Background(), emb, Model{Name: name, Threshold: 0.3}, p, Options{Patch: 16, Stride: 8})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	one, err := Figure(p, results[:1], FigureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := Figure(p, results, FigureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := one.Rect.Dx() + 2*224 + figGap + figGroupGap; two.Rect.Dx() != want || two.Rect.Dy() != one.Rect.Dy() {
		t.Errorf("two models: %v, want %d wide and as tall as one model's %v", two.Rect, want, one.Rect)
	}
	// The first model's overlay of face A in the first row is where the
	// layout says, pixel for pixel (each crop pixel 2×2).
	l := figureLayout{p: p, results: results, face: 224}
	x := l.groupX(1)
	y := figMargin + headerHeight() + render.StyleHeading.LineHeight()
	ov := Overlay(p.A, results[0].Settings[0].A, ScaleFor(results...))
	for _, pt := range []image.Point{{0, 0}, {30, 40}, {111, 111}} {
		if got, want := two.NRGBAAt(x+2*pt.X+1, y+2*pt.Y+1), ov.NRGBAAt(pt.X, pt.Y); got != want {
			t.Errorf("figure at crop pixel %v = %v, want the overlay's %v", pt, got, want)
		}
	}
	if _, err := Figure(p, nil, FigureOptions{}); !errors.Is(err, ErrNoResults) {
		t.Errorf("no results: error %v", err)
	}
	// Maps for another face size (as a file could hold) are refused.
	other := *results[1]
	other.Grid.Size = 100
	if _, err := Figure(p, []*Result{results[0], &other}, FigureOptions{}); !errors.Is(err, ErrGrid) {
		t.Errorf("maps of 100-pixel faces: error %v, want ErrGrid", err)
	}
}

// TestDemoFigure writes the figures of docs/occlusion.md when -docs is set.
func TestDemoFigure(t *testing.T) {
	if *docsDir == "" {
		t.Skip("SKIP: -docs not set (this writes the documentation's figures)")
	}
	tc := loadTeacher(t)
	emb := teacherEmbedder(t, nil)
	model := Model{Name: "teacher (fr_feature.onnx, embedded)", SHA256: tc.net.Hash(), Threshold: 0.2797}
	for _, pair := range []struct{ name, a, b string }{
		{"genuine", "Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0002.jpg"},
		{"impostor", "Angelina_Jolie/Angelina_Jolie_0001.jpg", "Serena_Williams/Serena_Williams_0001.jpg"},
	} {
		p := tc.demoPair(t, pair.a, pair.b)
		start := time.Now()
		res, err := ComputePair(context.Background(), emb, model, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s pair: %v", pair.name, time.Since(start))
		for _, s := range res.Settings {
			t.Logf("  %s: score %.4f; share of the positive drop above row %d: A %.2f, B %.2f; largest drop A %+.3f, B %+.3f; sum of drops A %+.2f, B %+.2f",
				s.Setting.ID(), s.Score, EyeLine, s.A.ShareAbove(EyeLine), s.B.ShareAbove(EyeLine), maxDrop(s.A), maxDrop(s.B), sumDrops(s.A), sumDrops(s.B))
		}
		img, err := Figure(p, []*Result{res}, FigureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := imageio.WritePNG(filepath.Join(*docsDir, pair.name+".png"), img); err != nil {
			t.Fatal(err)
		}
		f := File{FaceA: pair.a, FaceB: pair.b, Mask: "paper, seed 1", Results: []*Result{res}}
		if err := WriteJSON(filepath.Join(*docsDir, pair.name+".json"), f); err != nil {
			t.Fatal(err)
		}
	}
}
