package render

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

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

// TestDrawHeatmapPooled checks the averaged drawing of more cells than
// pixels against the mean computed cell by cell.
func TestDrawHeatmapPooled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, side = 101, 13
	m := Matrix{N: n, Data: make([]float32, n*n)}
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

func benchmarkDrawHeatmap(b *testing.B, n, side int) {
	h := Heatmap{Scores: randomScores(n), Scale: SimilarityScale()}
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

// randomScores is an n×n matrix of cosine-like scores.
func randomScores(n int) Matrix {
	rng := rand.New(rand.NewPCG(5, 6))
	m := Matrix{N: n, Data: make([]float32, n*n)}
	for i := range m.Data {
		m.Data[i] = float32(rng.Float64()*1.2 - 0.2)
	}
	return m
}
