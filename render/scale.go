package render

import (
	"image/color"
	"math"
	"sync"
)

// ColorScale maps scores in [Lo, Hi] to colours; values outside take the
// end colours, NaN is grey.
type ColorScale struct {
	Lo, Hi float64
	lut    *[scaleSteps]color.NRGBA
}

const scaleSteps = 1024

// At is the colour of v.
func (s ColorScale) At(v float64) color.NRGBA {
	if math.IsNaN(v) {
		return color.NRGBA{128, 128, 128, 255}
	}
	k := int((v - s.Lo) / (s.Hi - s.Lo) * (scaleSteps - 1))
	return s.lut[max(0, min(scaleSteps-1, k))]
}

func newScale(lo, hi float64, stops []color.NRGBA) ColorScale {
	lut := new([scaleSteps]color.NRGBA)
	for k := range lut {
		t := float64(k) / (scaleSteps - 1) * float64(len(stops)-1)
		i := min(int(t), len(stops)-2)
		f := t - float64(i)
		a, b := stops[i], stops[i+1]
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
		lut[k] = color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
	}
	return ColorScale{Lo: lo, Hi: hi, lut: lut}
}

// The scales are computed once and never change afterwards: constants that
// Go cannot spell as such.
var (
	similarityScale = sync.OnceValue(func() ColorScale {
		// viridis: perceptually uniform, readable in grey and by most
		// colour-blind viewers.
		return newScale(-0.2, 1, []color.NRGBA{
			{68, 1, 84, 255}, {71, 44, 122, 255}, {59, 81, 139, 255}, {44, 113, 142, 255}, {33, 144, 141, 255},
			{39, 173, 129, 255}, {92, 200, 99, 255}, {170, 220, 50, 255}, {253, 231, 37, 255},
		})
	})
	differenceScale = sync.OnceValue(func() ColorScale {
		// RdBu: red where masks lower the score, blue where they raise it.
		return newScale(-0.5, 0.5, []color.NRGBA{
			{178, 24, 43, 255}, {214, 96, 77, 255}, {244, 165, 130, 255}, {253, 219, 199, 255}, {247, 247, 247, 255},
			{209, 229, 240, 255}, {146, 197, 222, 255}, {67, 147, 195, 255}, {33, 102, 172, 255},
		})
	})
)

// SimilarityScale is the one colour scale of every similarity heatmap:
// cosine −0.2 (and below) to 1, fixed so that exports compare.
func SimilarityScale() ColorScale { return similarityScale() }

// DifferenceScale is the scale of difference maps: −0.5 to +0.5.
func DifferenceScale() ColorScale { return differenceScale() }
