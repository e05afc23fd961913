package occlusion

import (
	"errors"
	"image"
	"math"
	"slices"
	"testing"
)

func TestGridStarts(t *testing.T) {
	tests := []struct {
		name string
		g    Grid
		want []int
	}{
		{"8 at stride 4", Grid{112, 8, 4}, seq(0, 104, 4)},
		{"16 at stride 8", Grid{112, 16, 8}, seq(0, 96, 8)},
		{"non-dividing stride adds the edge", Grid{112, 10, 4}, append(seq(0, 100, 4), 102)},
		{"stride equals patch", Grid{112, 14, 14}, seq(0, 98, 14)},
		{"whole face", Grid{112, 112, 1}, []int{0}},
		{"one pixel", Grid{3, 1, 1}, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.g.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.g.Starts()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Starts = %v, want %v", got, tc.want)
			}
			if tc.g.Side() != len(tc.want) || tc.g.Cells() != len(tc.want)*len(tc.want) {
				t.Errorf("Side %d, Cells %d for %d starts", tc.g.Side(), tc.g.Cells(), len(tc.want))
			}
			rects := tc.g.Rects()
			if len(rects) != tc.g.Cells() {
				t.Fatalf("%d rects, want %d", len(rects), tc.g.Cells())
			}
			// Row-major: cell i*side+j is at x = starts[j], y = starts[i].
			n := tc.g.Side()
			covered := make([]int, tc.g.Size*tc.g.Size)
			for k, r := range rects {
				want := image.Rect(got[k%n], got[k/n], got[k%n]+tc.g.Patch, got[k/n]+tc.g.Patch)
				if r != want {
					t.Fatalf("rect %d = %v, want %v", k, r, want)
				}
				if !r.In(image.Rect(0, 0, tc.g.Size, tc.g.Size)) {
					t.Fatalf("rect %d = %v leaves the face", k, r)
				}
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						covered[y*tc.g.Size+x]++
					}
				}
			}
			if i := slices.Index(covered, 0); i >= 0 {
				t.Fatalf("pixel (%d,%d) is under no patch", i%tc.g.Size, i/tc.g.Size)
			}
		})
	}
}

func seq(from, to, step int) []int {
	var s []int
	for v := from; v <= to; v += step {
		s = append(s, v)
	}
	return s
}

func TestGridInvalid(t *testing.T) {
	for _, g := range []Grid{
		{112, 8, 0}, {112, 8, 9}, {112, 0, 1}, {112, 113, 4}, {0, 1, 1}, {-5, 1, 1}, {MaxSize + 1, 8, 4},
	} {
		if err := g.Validate(); !errors.Is(err, ErrGrid) {
			t.Errorf("%+v: error %v, want ErrGrid", g, err)
		}
		if g.Starts() != nil || g.Cells() != 0 {
			t.Errorf("%+v: invalid grid has starts %v", g, g.Starts())
		}
	}
}

// TestMapPixels checks the per-pixel map against its definition, computed
// pixel by pixel: the mean drop of the patches containing the pixel.
func TestMapPixels(t *testing.T) {
	for _, g := range []Grid{{112, 8, 4}, {112, 10, 4}, {20, 7, 3}, {16, 16, 1}} {
		m := Map{Grid: g, Drops: make([]float64, g.Cells())}
		for k := range m.Drops {
			m.Drops[k] = float64(k*k%17) - 8
		}
		got := m.Pixels()
		rects := g.Rects()
		for y := 0; y < g.Size; y++ {
			for x := 0; x < g.Size; x++ {
				sum, n := 0.0, 0
				for k, r := range rects {
					if image.Pt(x, y).In(r) {
						sum += m.Drops[k]
						n++
					}
				}
				if want := sum / float64(n); got[y*g.Size+x] != want {
					t.Fatalf("grid %+v pixel (%d,%d) = %v, want %v", g, x, y, got[y*g.Size+x], want)
				}
			}
		}
	}
}

func TestShareAbove(t *testing.T) {
	g := Grid{Size: 4, Patch: 2, Stride: 2}
	tests := []struct {
		drops []float64 // cells: top-left, top-right, bottom-left, bottom-right
		y     int
		want  float64
	}{
		{[]float64{1, 1, 1, 1}, 2, 0.5},
		{[]float64{3, 0, 1, 0}, 2, 0.75},
		{[]float64{3, 0, 1, 0}, 1, 0.375},
		{[]float64{2, -5, 2, -1}, 2, 0.5}, // negative drops do not count
		{[]float64{-1, 0, 0, 0}, 2, 0},
		{[]float64{1, 2, 3, 4}, 0, 0},
		{[]float64{1, 2, 3, 4}, 4, 1},
	}
	for _, tc := range tests {
		if got := (Map{Grid: g, Drops: tc.drops}).ShareAbove(tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("drops %v above row %d: %v, want %v", tc.drops, tc.y, got, tc.want)
		}
	}
}
