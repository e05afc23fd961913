package maskgen

import "math"

// cloth is a sewn fabric mask: rounded outline over the nose bridge
// (points 28–29) and well under the chin, soft edges, gentle folds, a
// centre seam, fabric ear loops, and a solid, two-tone (one fabric a side),
// striped, dotted or gingham texture.
type cloth struct{}

var clothPalette = []swatch{
	{Color{0x23, 0x2f, 0x55}, 0.15}, // navy
	{Color{0x24, 0x24, 0x26}, 0.15}, // black
	{Color{0x8a, 0x8c, 0x90}, 0.1},  // grey
	{Color{0x6d, 0x1f, 0x2e}, 0.08}, // burgundy
	{Color{0x5c, 0x63, 0x3a}, 0.08}, // olive
	{Color{0xd8, 0xc6, 0xa6}, 0.08}, // beige
	{Color{0x4a, 0x6a, 0x8f}, 0.1},  // denim
	{Color{0xb2, 0x22, 0x22}, 0.08}, // red
	{Color{0x6a, 0x4c, 0x93}, 0.06}, // purple
	{Color{0xf0, 0xee, 0xe8}, 0.06}, // white
	{Color{0x2f, 0x6b, 0x4f}, 0.06}, // green
}

// accentColors are second colours of patterns.
var accentColors = []swatch{
	{Color{0xf4, 0xf2, 0xec}, 0.35}, // white
	{Color{0x22, 0x22, 0x24}, 0.15}, // black
	{Color{0xc8, 0x2a, 0x2a}, 0.12}, // red
	{Color{0xe8, 0xc5, 0x47}, 0.12}, // yellow
	{Color{0x23, 0x2f, 0x55}, 0.12}, // navy
	{Color{0xd8, 0xc6, 0xa6}, 0.14}, // beige
}

func (cloth) choices() choices {
	return choices{
		palette: clothPalette, accents: accentColors,
		textures:       []string{"solid", "twotone", "stripes", "dots", "check"},
		textureWeights: []float64{0.3, 0.15, 0.2, 0.15, 0.2},
		fit:            [2]float64{0.1, 0.6}, drop: [2]float64{0.06, 0.16},
	}
}

func (cloth) build(g *faceGeom, p *Params) shape {
	m := arch{bridge: 28, side: 0.08, lift: 0.05, jaw: 0.09}.mesh(g, p)
	tex := newTexture(p, g, m, 0.28)
	seam := 0.6 * tex.px / tex.sx
	shade := func(s, t float64) float64 {
		u := 2*s - 1
		l := 1 - 0.16*u*u - 0.06*t + 0.035*math.Sin(2*math.Pi*(3*s+0.3*t))
		if d := math.Abs(s - 0.5); d < seam {
			l -= 0.16 * (1 - d/seam)
		}
		return l
	}
	loop := p.Color
	loop.R, loop.G, loop.B = loop.R/10*9, loop.G/10*9, loop.B/10*9
	return shape{
		mesh: m, look: look{p: 4, soft: 0.035, shadow: 0.25, grain: 4},
		shade: shade, tex: tex, straps: earLoops(g, m, 0.035*g.u, loop),
	}
}
