package maskgen

import "math"

// n95 is a moulded cup respirator: an oval from high on the nose bridge
// (points 27–28) to under the chin, domed shading with a darker rim, a
// fibrous grain and two head straps a side.
type n95 struct{}

var n95Palette = []swatch{
	{Color{0xf3, 0xf1, 0xea}, 0.6}, // white
	{Color{0xe4, 0xe0, 0xd2}, 0.2}, // off-white
	{Color{0xb9, 0xbb, 0xb8}, 0.1}, // grey
	{Color{0x33, 0x33, 0x35}, 0.1}, // black
}

var strapColors = []swatch{
	{Color{0xe6, 0xd8, 0x98}, 0.35}, // yellow elastic
	{Color{0xf2, 0xf2, 0xf0}, 0.25},
	{Color{0x5b, 0x7f, 0xb5}, 0.2},
	{Color{0x8a, 0x8c, 0x8e}, 0.2},
}

func (n95) choices() choices {
	return choices{palette: n95Palette, accents: strapColors, fit: [2]float64{0.35, 0.8}, drop: [2]float64{0.05, 0.15}}
}

func (n95) build(g *faceGeom, p *Params) shape {
	m := arch{bridge: 27, side: 0.12, lift: 0.1, jaw: 0.1}.mesh(g, p)
	shade := func(s, t float64) float64 {
		u, v := 2*s-1, 2*t-1
		r2 := u*u + v*v
		l := 0.8 + 0.22*math.Sqrt(math.Max(0, 1-r2))
		if r2 > 0.8 { // the moulded rim
			l -= 0.07
		}
		return l
	}
	n := len(m.top) - 1
	at := func(k int, t float64) Point { return lerp(m.top[k], m.bot[k], t) }
	r := 0.045 * g.u
	ear := func(i int) Point { return g.sideways(i, 0.12) }
	return shape{
		mesh: m, look: look{p: 2, soft: 0.025, shadow: 0.25, grain: 7},
		shade: shade, tex: newTexture(p, g, m, 0.3),
		straps: []strap{
			{pts: []Point{at(1, 0.3), ear(1)}, r: r, c: p.Color2},
			{pts: []Point{at(1, 0.72), ear(3)}, r: r, c: p.Color2},
			{pts: []Point{at(n-1, 0.3), ear(15)}, r: r, c: p.Color2},
			{pts: []Point{at(n-1, 0.72), ear(13)}, r: r, c: p.Color2},
		},
	}
}
