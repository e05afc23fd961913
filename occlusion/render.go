package occlusion

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
)

// Scale maps score drops in [−Max, Max] to a diverging colour map (RdBu):
// red where hiding the region lowers the score, white at zero, blue where
// hiding it raises the score. Values beyond ±Max take the end colours.
type Scale struct{ Max float64 }

// rdbu are the colour map's stops from −Max (blue) to +Max (red).
func rdbu() [9]color.NRGBA {
	return [9]color.NRGBA{
		{33, 102, 172, 255}, {67, 147, 195, 255}, {146, 197, 222, 255}, {209, 229, 240, 255}, {247, 247, 247, 255},
		{253, 219, 199, 255}, {244, 165, 130, 255}, {214, 96, 77, 255}, {178, 24, 43, 255},
	}
}

// At is the colour of drop v (NaN: mid grey).
func (s Scale) At(v float64) color.NRGBA {
	if math.IsNaN(v) || s.Max <= 0 {
		return color.NRGBA{128, 128, 128, 255}
	}
	stops := rdbu()
	t := (v/s.Max + 1) / 2 * float64(len(stops)-1)
	t = max(0, min(float64(len(stops)-1), t))
	i := min(int(t), len(stops)-2)
	f := t - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// ScaleFor is one scale for every map of the results (so that models and
// settings compare): the 99th percentile of |value| over their per-pixel
// maps (what overlays draw), rounded up to 1, 2, 2.5 or 5 times a power of
// ten. A percentile rather than the maximum, because single patches (the
// nose tip, often) drop the score several times more than the rest and
// would leave every other region too faint to see; values beyond ±Max
// take the end colours. All-zero maps get Max 0.01.
func ScaleFor(results ...*Result) Scale {
	var abs []float64
	for _, r := range results {
		for _, s := range r.Settings {
			for _, mp := range []Map{s.A, s.B} {
				for _, v := range mp.Pixels() {
					abs = append(abs, math.Abs(v))
				}
			}
		}
	}
	if len(abs) == 0 {
		return Scale{Max: niceCeil(0)}
	}
	slices.Sort(abs)
	return Scale{Max: niceCeil(abs[(len(abs)-1)*99/100])}
}

func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0.01
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, k := range []float64{1, 2, 2.5, 5, 10} {
		if k*p >= v*(1-1e-12) {
			return k * p
		}
	}
	return 10 * p
}

// overlayAlpha is how much of the map's colour covers the face where the
// value reaches ±Max.
const overlayAlpha = 0.85

// Overlay is the face in grey (luma) under the map's per-pixel colours,
// the size of the face. The colour's opacity grows with √|value| (0 at
// zero, overlayAlpha at ±Max and beyond), so that the face shows through
// where a region does not matter and small values still show. The face
// must be Grid.Size pixels square and the map complete (Figure checks
// data read from files); anything else is a programmer error and panics.
func Overlay(face *image.NRGBA, m Map, s Scale) *image.NRGBA {
	n := m.Grid.Size
	if face.Rect.Dx() != n || face.Rect.Dy() != n || len(m.Drops) != m.Grid.Cells() {
		panic(fmt.Sprintf("occlusion.Overlay: %v face, %d-pixel grid with %d of %d cells", face.Rect.Size(), n, len(m.Drops), m.Grid.Cells()))
	}
	px := m.Pixels()
	out := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			src := face.NRGBAAt(face.Rect.Min.X+x, face.Rect.Min.Y+y)
			luma := 0.299*float64(src.R) + 0.587*float64(src.G) + 0.114*float64(src.B)
			v := px[y*n+x]
			c := s.At(v)
			alpha := overlayAlpha * math.Sqrt(min(1, math.Abs(v)/s.Max))
			blend := func(v uint8) uint8 {
				return uint8(math.Round(alpha*float64(v) + (1-alpha)*luma))
			}
			out.SetNRGBA(x, y, color.NRGBA{blend(c.R), blend(c.G), blend(c.B), 255})
		}
	}
	return out
}

// DrawColorBar fills r of dst with the scale, +Max at the top, −Max at the
// bottom.
func DrawColorBar(dst *image.NRGBA, r image.Rectangle, s Scale) {
	h := r.Dy()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		v := s.Max * (1 - 2*(float64(y-r.Min.Y)+0.5)/float64(h))
		c := s.At(v)
		for x := r.Min.X; x < r.Max.X; x++ {
			dst.SetNRGBA(x, y, c)
		}
	}
}
