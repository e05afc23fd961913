package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/disintegration/imaging"
)

// FillRect paints r of dst with c.
func FillRect(dst *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// BlendRect draws c (with its alpha) over r.
func BlendRect(dst *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Over)
}

// StrokeRect draws r's outline, width px wide, inside r, clipped to dst.
func StrokeRect(dst *image.NRGBA, r image.Rectangle, width int, c color.NRGBA) {
	fill := func(q image.Rectangle) {
		q = q.Intersect(dst.Rect)
		for y := q.Min.Y; y < q.Max.Y; y++ {
			for x := q.Min.X; x < q.Max.X; x++ {
				dst.SetNRGBA(x, y, c)
			}
		}
	}
	fill(image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+width))
	fill(image.Rect(r.Min.X, r.Max.Y-width, r.Max.X, r.Max.Y))
	fill(image.Rect(r.Min.X, r.Min.Y, r.Min.X+width, r.Max.Y))
	fill(image.Rect(r.Max.X-width, r.Min.Y, r.Max.X, r.Max.Y))
}

// DrawScaled draws src scaled to fill r; a nil src is a grey tile.
func DrawScaled(dst *image.NRGBA, r image.Rectangle, src image.Image) {
	if src == nil {
		FillRect(dst, r, color.NRGBA{200, 200, 200, 255})
		return
	}
	s := imaging.Resize(src, r.Dx(), r.Dy(), imaging.Linear)
	draw.Draw(dst, r, s, image.Point{}, draw.Src)
}

// Thumbnail scales img to fit a size×size square and outlines box (x, y,
// w, h in img pixels) when it is not nil. It always returns a copy.
func Thumbnail(img image.Image, size int, box *[4]float64) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	t := imaging.Fit(img, size, size, imaging.Linear) // a copy, also when small
	if box != nil {
		s := float64(t.Rect.Dx()) / float64(w)
		r := image.Rect(int(math.Round(box[0]*s)), int(math.Round(box[1]*s)),
			int(math.Round((box[0]+box[2])*s)), int(math.Round((box[1]+box[3])*s)))
		StrokeRect(t, r, 2, color.NRGBA{0, 230, 118, 255})
	}
	return t
}
