// Command genicon draws the app icon (assets/icon.png): a stylised face
// wearing a surgical mask inside face-detection brackets. The icon is the
// project's own art; keeping it as code means it can be redrawn at another
// size or restyled without an image editor, and the test in this package
// fails if the committed PNG and the code drift apart.
//
//	go run ./scripts/genicon -o assets/icon.png
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

func main() {
	out := flag.String("o", "assets/icon.png", "output PNG `file`")
	size := flag.Int("size", 512, "edge length in pixels")
	flag.Parse()
	if err := write(*out, *size); err != nil {
		fmt.Fprintln(os.Stderr, "genicon:", err)
		os.Exit(1)
	}
}

func write(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, Draw(size)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shape reports whether a point, in a 512×512 design space, is inside.
type shape func(x, y float64) bool

type layer struct {
	in  shape
	col color.NRGBA
}

// ss is the supersampling factor per axis: shapes are hard-edged
// predicates, so edges are anti-aliased by counting covered subsamples.
const ss = 4

// Draw renders the icon at size×size on a transparent background.
func Draw(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	scale := 512 / float64(size)
	ls := layers()
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64 // premultiplied, 0..1
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) * scale
					y := (float64(py) + (float64(sy)+0.5)/ss) * scale
					sr, sg, sb, sa := sample(ls, x, y)
					r, g, b, a = r+sr, g+sg, b+sb, a+sa
				}
			}
			n := float64(ss * ss)
			r, g, b, a = r/n, g/n, b/n, a/n
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: to8(r / a), G: to8(g / a), B: to8(b / a), A: to8(a),
			})
		}
	}
	return img
}

// sample composites every layer covering (x, y), back to front, and returns
// a premultiplied colour; the background layer carries a gradient.
func sample(ls []layer, x, y float64) (r, g, b, a float64) {
	for i, l := range ls {
		if !l.in(x, y) {
			continue
		}
		c := l.col
		if i == 0 {
			c = background(y)
		}
		ca := float64(c.A) / 255
		r = float64(c.R)/255*ca + r*(1-ca)
		g = float64(c.G)/255*ca + g*(1-ca)
		b = float64(c.B)/255*ca + b*(1-ca)
		a = ca + a*(1-ca)
	}
	return r, g, b, a
}

func to8(v float64) uint8 {
	return uint8(math.Round(math.Max(0, math.Min(1, v)) * 255))
}

// background fades from deep blue at the top to teal at the bottom.
func background(y float64) color.NRGBA {
	t := math.Max(0, math.Min(1, (y-16)/480))
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }
	return color.NRGBA{mix(0x1e, 0x0f), mix(0x3a, 0x76), mix(0x5f, 0x6e), 0xff}
}

func layers() []layer {
	var (
		skin    = color.NRGBA{0xf2, 0xc9, 0xa0, 0xff}
		hair    = color.NRGBA{0x3b, 0x2a, 0x24, 0xff}
		dark    = color.NRGBA{0x1f, 0x29, 0x37, 0xff}
		mask    = color.NRGBA{0xe0, 0xf2, 0xfe, 0xff}
		pleat   = color.NRGBA{0x93, 0xc5, 0xfd, 0xff}
		loop    = color.NRGBA{0xf8, 0xfa, 0xfc, 0xff}
		bracket = color.NRGBA{0x67, 0xe8, 0xf9, 0xff}
	)
	face := ellipse(256, 272, 122, 150)
	// The mask's top edge rises over the nose and drops towards the ears.
	maskTop := func(x float64) float64 { d := (x - 256) / 130; return 286 + 26*d*d }
	maskShape := func(x, y float64) bool {
		d := (x - 256) / 130
		return y > maskTop(x) && y < 408-36*d*d && ellipse(256, 272, 130, 158)(x, y)
	}
	inMask := func(x, y float64) bool { return maskShape(x, y) && x > 146 && x < 366 }
	pleats := func(x, y float64) bool {
		if !inMask(x, y) {
			return false
		}
		for _, py := range []float64{330, 358, 386} {
			if math.Abs(y-(py+6*math.Pow((x-256)/110, 2))) < 3 {
				return true
			}
		}
		return false
	}
	// Ear loops: rings round each ear, kept to the part outside the face.
	loops := func(x, y float64) bool {
		for _, cx := range []float64{134, 378} {
			dx, dy := (x-cx)/34, (y-300)/58
			d := math.Hypot(dx, dy)
			if d > 0.86 && d < 1 && !face(x, y) {
				return true
			}
		}
		return false
	}
	fringe := func(x, y float64) bool {
		d := (x - 256) / 122
		return face(x, y) && y < 168+50*d*d-14*math.Abs(math.Sin(d*5))
	}
	return []layer{
		{roundRect(16, 16, 496, 496, 104), color.NRGBA{}}, // colour from background()
		{brackets(64, 64, 448, 448, 72, 14), bracket},
		{ellipse(256, 222, 140, 134), hair},
		{ellipse(136, 282, 20, 34), skin},
		{ellipse(376, 282, 20, 34), skin},
		{face, skin},
		{fringe, hair},
		{ellipse(206, 252, 13, 16), dark},
		{ellipse(306, 252, 13, 16), dark},
		{roundRect(180, 214, 232, 224, 5), hair},
		{roundRect(280, 214, 332, 224, 5), hair},
		{loops, loop},
		{maskShape, mask},
		{pleats, pleat},
		// Nose wire along the mask's top edge.
		{func(x, y float64) bool { return x > 226 && x < 286 && y > maskTop(x)+5 && y < maskTop(x)+11 }, pleat},
	}
}

func ellipse(cx, cy, rx, ry float64) shape {
	return func(x, y float64) bool {
		dx, dy := (x-cx)/rx, (y-cy)/ry
		return dx*dx+dy*dy <= 1
	}
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		// Distance to the inner rectangle shrunk by r; corners become arcs.
		dx := math.Max(0, math.Max(x0+r-x, x-(x1-r)))
		dy := math.Max(0, math.Max(y0+r-y, y-(y1-r)))
		return dx*dx+dy*dy <= r*r
	}
}

// brackets draws the four L-shaped corners of a detection box.
func brackets(x0, y0, x1, y1, arm, thick float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		nearX := x < x0+arm || x > x1-arm
		nearY := y < y0+arm || y > y1-arm
		onX := x < x0+thick || x > x1-thick
		onY := y < y0+thick || y > y1-thick
		return (onX && nearY) || (onY && nearX)
	}
}
