package maskgen

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// syntheticFace draws a 112×112 aligned "face" procedurally: a background
// gradient, a skin-coloured head, eyes, brows, nose and mouth at the ArcFace
// template positions. It holds no dataset pixels, so goldens made on it can
// be committed.
func syntheticFace() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 112, 112))
	in := func(x, y, cx, cy, rx, ry float64) bool {
		dx, dy := (x-cx)/rx, (y-cy)/ry
		return dx*dx+dy*dy <= 1
	}
	for y := 0; y < 112; y++ {
		for x := 0; x < 112; x++ {
			fx, fy := float64(x), float64(y)
			c := color.NRGBA{uint8(60 + x/2), uint8(90 + y/3), 140, 255}
			switch {
			case in(fx, fy, 56, 36, 44, 34) && fy < 40:
				c = color.NRGBA{70, 50, 35, 255} // hair
			case in(fx, fy, 56, 66, 41, 54):
				shade := 1 - 0.25*math.Abs(fx-56)/41
				c = color.NRGBA{uint8(224 * shade), uint8(176 * shade), uint8(150 * shade), 255}
			}
			for _, e := range arcFace112[:2] {
				if in(fx, fy, e.X, e.Y, 6, 3) {
					c = color.NRGBA{250, 250, 250, 255}
				}
				if in(fx, fy, e.X, e.Y, 2.4, 2.4) {
					c = color.NRGBA{60, 40, 30, 255}
				}
				if in(fx, fy, e.X, e.Y-8, 8, 1.6) {
					c = color.NRGBA{80, 55, 40, 255}
				}
			}
			n := arcFace112[NoseTip]
			if in(fx, fy, n.X, n.Y, 5, 3) {
				c = color.NRGBA{190, 140, 120, 255}
			}
			m0, m1 := arcFace112[LeftMouth], arcFace112[RightMouth]
			if in(fx, fy, (m0.X+m1.X)/2, (m0.Y+m1.Y)/2, (m1.X-m0.X)/2, 3.5) {
				c = color.NRGBA{170, 60, 70, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// refFace is the Face of a golden reference face (68 landmarks and the
// five points derived from them).
func refFace(r sharedtest.RefFace) (Face, error) {
	if len(r.Landmarks68) != 68 || len(r.Landmarks5) != 5 {
		return Face{}, fmt.Errorf("%s: %d/%d landmarks", r.Key, len(r.Landmarks68), len(r.Landmarks5))
	}
	var f Face
	for i, p := range r.Landmarks5 {
		f.Points5[i] = Point{p[0], p[1]}
	}
	for _, p := range r.Landmarks68 {
		f.Points68 = append(f.Points68, Point{p[0], p[1]})
	}
	return f, nil
}

// loadReference returns the shared folder and the golden reference faces,
// or skips.
func loadReference(t testing.TB) (string, []sharedtest.RefFace) {
	t.Helper()
	shared, ref := sharedtest.LoadReference(t)
	return shared, ref.Items
}
