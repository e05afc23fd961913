package render

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// LegendHeight is the height DrawLegend needs.
const LegendHeight = 44

// DrawLegend draws the colour bar of s across r (LegendHeight tall), with
// ticks every 0.2 (0.25 for a difference scale) and, when threshold is not
// NaN, a marker at the threshold. Text and ticks are drawn in ink (nil: dark
// grey), so that the GUI can match its theme.
func DrawLegend(dst *image.NRGBA, r image.Rectangle, fonts *Fonts, s ColorScale, title string, threshold float64, ink color.Color) {
	small := StyleSmall
	if ink != nil {
		small.Color = ink
	}
	tickColor := color.NRGBAModel.Convert(small.Color).(color.NRGBA)
	bar := image.Rect(r.Min.X, r.Min.Y+16, r.Max.X, r.Min.Y+30)
	fonts.Draw(dst, r.Min.X, r.Min.Y, title, small, r.Dx())
	w := bar.Dx()
	if w <= 1 {
		return
	}
	for x := 0; x < w; x++ {
		c := s.At(s.Lo + (s.Hi-s.Lo)*float64(x)/float64(w-1))
		FillRect(dst, image.Rect(bar.Min.X+x, bar.Min.Y, bar.Min.X+x+1, bar.Max.Y), c)
	}
	StrokeRect(dst, bar, 1, color.NRGBA{90, 90, 90, 255})
	xOf := func(v float64) int { return bar.Min.X + int(math.Round((v-s.Lo)/(s.Hi-s.Lo)*float64(w-1))) }
	step := 0.2
	if s.Lo < 0 && s.Hi > 0 && s.Hi-s.Lo <= 1.01 {
		step = 0.25
	}
	for k := math.Ceil(s.Lo/step - 1e-9); k*step <= s.Hi+1e-9; k++ {
		v := k * step
		x := xOf(v)
		FillRect(dst, image.Rect(x, bar.Max.Y, x+1, bar.Max.Y+3), tickColor)
		label := trimTick(v)
		if v > 1e-9 && s.Lo < 0 && s.Hi <= 0.5+1e-9 {
			label = "+" + label
		}
		if math.Abs(v) < 1e-9 {
			label = "0"
		}
		tw := fonts.Width(label, small)
		fonts.Draw(dst, min(max(x-tw/2, r.Min.X), r.Max.X-tw), bar.Max.Y+2, label, small, 0)
	}
	if !math.IsNaN(threshold) && threshold >= s.Lo && threshold <= s.Hi {
		x := xOf(threshold)
		FillRect(dst, image.Rect(x-1, bar.Min.Y-3, x+1, bar.Max.Y+3), color.NRGBA{230, 30, 30, 255})
		label := fmt.Sprintf("threshold %.4f", threshold)
		tw := fonts.Width(label, StyleSmall)
		lx := min(max(x-tw/2, r.Min.X+fonts.Width(title, small)+12), r.Max.X-tw)
		fonts.Draw(dst, lx, r.Min.Y, label, TextStyle{11, true, color.NRGBA{230, 40, 40, 255}}, 0)
	}
}
