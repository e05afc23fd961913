package face

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"testing"
)

// warpSlow is the textbook inverse-mapping bilinear warp in float64 through
// the image.Image interface: out(x,y) = Σ w·img(tap), taps outside = black.
func warpSlow(img image.Image, m Affine, w, h int) *image.NRGBA {
	inv := m.Invert()
	b := img.Bounds()
	at := func(x, y int) [3]float64 {
		if x < 0 || y < 0 || x >= b.Dx() || y >= b.Dy() {
			return [3]float64{}
		}
		c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
		return [3]float64{float64(c.R), float64(c.G), float64(c.B)}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := inv.Apply(Point{float64(x), float64(y)})
			x0, y0 := math.Floor(p.X), math.Floor(p.Y)
			fx, fy := p.X-x0, p.Y-y0
			ix, iy := int(x0), int(y0)
			var v [3]float64
			for _, tap := range []struct {
				dx, dy int
				w      float64
			}{{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy}} {
				s := at(ix+tap.dx, iy+tap.dy)
				for c := range v {
					v[c] += tap.w * s[c]
				}
			}
			dst.SetNRGBA(x, y, color.NRGBA{uint8(math.Round(v[0])), uint8(math.Round(v[1])), uint8(math.Round(v[2])), 255})
		}
	}
	return dst
}

// hidden wraps an image so that only the image.Image methods are visible,
// sending Warp through its conversion path.
type hidden struct{ image.Image }

func TestWarpAgainstSlow(t *testing.T) {
	src := picture(150, 130)
	tests := []struct {
		name string
		m    Affine
	}{
		{"identity", Affine{1, 0, 0, 0, 1, 0}},
		{"shift", Affine{1, 0, -10.4, 0, 1, 3.7}},
		{"zoom in", similarity(0, 2.3, -40, -30)},
		{"zoom out", similarity(0, 0.6, 5, 5)},
		{"rotate", similarity(0.4, 1.1, -30, -60)},
		{"rotate past border", similarity(-1.2, 0.9, -20, 90)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Warp(hidden{src.SubImage(src.Rect)}, tc.m, 112, 112)
			want := warpSlow(src, tc.m, 112, 112)
			// Positions are rounded to 1/32 px (≤ 1/64 off) and weights to
			// 1/32768: an error of about gradient/64 + 1 levels. The picture
			// is smooth inside, but fades to black over one pixel at its
			// border (gradient up to 255/px), hence max 5, mean tiny.
			mean, worst := meanAbsDiff(got, want)
			if mean > 0.1 || worst > 5 {
				t.Errorf("vs float reference: mean %.3f, max %d", mean, worst)
			}
		})
	}
}

func TestWarpExactCases(t *testing.T) {
	src := picture(112, 112)
	if got := Warp(src, Affine{1, 0, 0, 0, 1, 0}, 112, 112); !bytes.Equal(got.Pix, src.Pix) {
		t.Error("identity warp changed pixels")
	}
	got := Warp(src, Affine{1, 0, 5, 0, 1, -3}, 112, 112) // integer shift
	for y := 0; y < 112; y++ {
		for x := 0; x < 112; x++ {
			sx, sy := x-5, y+3
			want := color.NRGBA{0, 0, 0, 255}
			if sx >= 0 && sy < 112 {
				want = src.NRGBAAt(sx, sy)
			}
			if c := got.NRGBAAt(x, y); c != want {
				t.Fatalf("shift: (%d,%d) = %v, want %v", x, y, c, want)
			}
		}
	}
}

func TestAlignTemplateIsIdentity(t *testing.T) {
	src := picture(112, 112)
	crop, m, err := Align(src, ArcFaceTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if !affineClose(m, Affine{1, 0, 0, 0, 1, 0}, 1e-12) {
		t.Errorf("transform %v, want identity", m)
	}
	if !bytes.Equal(crop.Pix, src.Pix) {
		t.Error("aligning the template onto itself changed pixels")
	}
	if _, _, err := Align(src, [5]Point{}); err == nil {
		t.Error("collapsed points accepted")
	}
}

func benchmarkAlign(b *testing.B, size int) {
	src := picture(size, size)
	c := float64(size) / 250
	pts := [5]Point{{100.75 * c, 119 * c}, {144.75 * c, 112 * c}, {126 * c, 136 * c}, {112.5 * c, 167 * c}, {153 * c, 160.5 * c}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Align(src, pts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAlignLFW(b *testing.B)   { benchmarkAlign(b, 250) }
func BenchmarkAlignPhoto(b *testing.B) { benchmarkAlign(b, 2000) }
