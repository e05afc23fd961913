package render

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Histogram is a genuine/impostor score histogram: counts in equal bins
// over [Lo, Hi) (scores outside counted in the end bins).
type Histogram struct {
	Title    string // e.g. the setting or protocol
	Subtitle string // e.g. the error rates
	Lo, Hi   float64
	Genuine  []int
	Impostor []int
}

// Histogram colours: genuine pairs green, impostor pairs orange.
var (
	genuineColor  = color.NRGBA{27, 158, 119, 255}
	impostorColor = color.NRGBA{217, 95, 2, 255}
)

func sum(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// DrawHistogram draws the genuine and impostor score densities of h in r
// (each class normalised to unit area) under its title and subtitle, with
// a key, ticks every 0.2 and, when it is within range, the threshold as a
// dashed red line.
func DrawHistogram(dst *image.NRGBA, r image.Rectangle, fonts *Fonts, h Histogram, threshold float64) {
	FillRect(dst, r, color.NRGBA{255, 255, 255, 255})
	fonts.Draw(dst, r.Min.X+4, r.Min.Y+2, h.Title, TextStyle{12, true, color.NRGBA{20, 20, 20, 255}}, r.Dx()-8)
	fonts.Draw(dst, r.Min.X+4, r.Min.Y+18, h.Subtitle, StyleSmall, r.Dx()-8)
	ng, ni := sum(h.Genuine), sum(h.Impostor)
	kx := r.Min.X + 4
	for _, k := range []struct {
		name string
		c    color.NRGBA
		n    int
	}{{"genuine", genuineColor, ng}, {"impostor", impostorColor, ni}} {
		FillRect(dst, image.Rect(kx, r.Min.Y+36, kx+10, r.Min.Y+44), k.c)
		kx += 14 + fonts.Draw(dst, kx+14, r.Min.Y+33, fmt.Sprintf("%s (%d)", k.name, k.n), StyleSmall, 0) + 10
	}
	plot := image.Rect(r.Min.X+4, r.Min.Y+50, r.Max.X-4, r.Max.Y-16)
	if plot.Dx() < 10 || plot.Dy() < 10 {
		return
	}
	drawBars(dst, plot, h, ng, ni)
	drawHistogramAxis(dst, r, plot, fonts, h, threshold)
}

// drawBars draws both classes' densities as translucent bars.
func drawBars(dst *image.NRGBA, plot image.Rectangle, h Histogram, ng, ni int) {
	bins := len(h.Genuine)
	dens := func(counts []int, n int) []float64 {
		out := make([]float64, bins)
		for k, c := range counts {
			if n > 0 {
				out[k] = float64(c) / float64(n)
			}
		}
		return out
	}
	g, im := dens(h.Genuine, ng), dens(h.Impostor, ni)
	top := 0.0
	for k := range bins {
		top = math.Max(top, math.Max(g[k], im[k]))
	}
	if top == 0 {
		top = 1
	}
	for k := range bins {
		x0 := plot.Min.X + k*plot.Dx()/bins
		x1 := plot.Min.X + (k+1)*plot.Dx()/bins
		for _, cl := range []struct {
			d []float64
			c color.NRGBA
		}{{im, impostorColor}, {g, genuineColor}} {
			hgt := int(math.Round(cl.d[k] / top * float64(plot.Dy())))
			if hgt > 0 {
				c := cl.c
				c.A = 150
				BlendRect(dst, image.Rect(x0, plot.Max.Y-hgt, x1, plot.Max.Y), c)
			}
		}
	}
}

// drawHistogramAxis draws the score axis under plot, its ticks and labels,
// and the threshold.
func drawHistogramAxis(dst *image.NRGBA, r, plot image.Rectangle, fonts *Fonts, h Histogram, threshold float64) {
	xOf := func(v float64) int {
		return plot.Min.X + int(math.Round((v-h.Lo)/(h.Hi-h.Lo)*float64(plot.Dx())))
	}
	axis := color.NRGBA{90, 90, 90, 255}
	FillRect(dst, image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), axis)
	for v := math.Ceil(h.Lo/0.2-1e-9) * 0.2; v <= h.Hi+1e-9; v += 0.2 {
		x := xOf(v)
		FillRect(dst, image.Rect(x, plot.Max.Y, x+1, plot.Max.Y+3), axis)
		label := fmt.Sprintf("%.1f", v)
		if math.Abs(v) < 1e-9 {
			label = "0"
		}
		tw := fonts.Width(label, StyleSmall)
		fonts.Draw(dst, min(max(x-tw/2, r.Min.X), r.Max.X-tw), plot.Max.Y+3, label, StyleSmall, 0)
	}
	if threshold >= h.Lo && threshold <= h.Hi {
		x := xOf(threshold)
		for y := plot.Min.Y; y < plot.Max.Y; y += 6 {
			FillRect(dst, image.Rect(x, y, x+1, min(y+3, plot.Max.Y)), color.NRGBA{230, 30, 30, 255})
		}
	}
}
