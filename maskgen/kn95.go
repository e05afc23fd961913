package maskgen

import "math"

// kn95 is a fold-flat respirator: a peaked top edge meeting at the nose
// bridge (points 27–28), a bottom edge folding to a point under the chin,
// a vertical centre seam with one half in the light and one in shade, a
// welded border and ear loops.
type kn95 struct{}

var kn95Palette = []swatch{
	{Color{0xf4, 0xf4, 0xf2}, 0.45}, // white
	{Color{0x2c, 0x2c, 0x2e}, 0.25}, // black
	{Color{0xb5, 0xb7, 0xba}, 0.1},  // grey
	{Color{0xef, 0xb3, 0xc4}, 0.1},  // pink
	{Color{0x8c, 0xb6, 0xdd}, 0.1},  // blue
}

func (kn95) choices() choices {
	return choices{palette: kn95Palette, accents: loopColors, fit: [2]float64{0.4, 0.9}, drop: [2]float64{0.1, 0.22}}
}

func (kn95) build(g *faceGeom, p *Params) shape {
	nb, lt, rt := g.topEdge(27, p.Fit, 0.06)
	chin := g.down(g.radial(8, 0.05), p.Drop)
	left := []Point{g.radial(3, 0.07), g.down(g.radial(5, 0.07), 0.4*p.Drop), chin}
	right := []Point{chin, g.down(g.radial(11, 0.07), 0.4*p.Drop), g.radial(13, 0.07)}
	m := newMesh(polylineThrough([]Point{lt, nb, rt}), func(s float64) Point {
		if s < 0.5 { // the fold: one curve a side
			return spline(left, 2*s)
		}
		return spline(right, 2*s-1)
	}, 6)
	tex := newTexture(p, g, m, 0.3)
	seam := 0.7 * tex.px / tex.sx // seam half-width in s
	shade := func(s, t float64) float64 {
		u, v := 2*s-1, 2*t-1
		l := 1 - 0.1*u*u
		if s > 0.5 { // the far half of the fold is in shade
			l -= 0.08
		}
		if d := math.Abs(s - 0.5); d < seam {
			l -= 0.2 * (1 - d/seam)
		} else if d < 3*seam {
			l += 0.04
		}
		u2, v2 := u*u, v*v
		if r := u2*u2*u2 + v2*v2*v2; r > 0.7 && r < 0.85 { // welded border
			l -= 0.06
		}
		return l
	}
	return shape{
		mesh: m, look: look{p: 6, soft: 0.02, shadow: 0.22, grain: 3},
		shade: shade, tex: tex, straps: earLoops(g, m, 0.022*g.u, p.Color2),
	}
}
