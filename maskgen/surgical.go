package maskgen

// surgical is a pleated three-ply mask with ear loops: top edge on the
// nose bridge between points 28 and 29, sides on the jaw line by points 1
// and 2, bottom along the jaw and just under the chin.
type surgical struct{}

var surgicalPalette = []swatch{
	{Color{0x7f, 0xb8, 0xdc}, 0.5},  // blue
	{Color{0x9c, 0xc9, 0xe6}, 0.1},  // pale blue
	{Color{0xf2, 0xf2, 0xef}, 0.17}, // white
	{Color{0x8f, 0xd1, 0xb8}, 0.07}, // mint
	{Color{0xf0, 0xa8, 0xbe}, 0.06}, // pink
	{Color{0x2a, 0x2a, 0x2c}, 0.1},  // black
}

// loopColors are ear-loop colours (Color2 of the looped styles).
var loopColors = []swatch{
	{Color{0xf4, 0xf4, 0xf2}, 0.7},
	{Color{0xc8, 0xc8, 0xc6}, 0.15},
	{Color{0x30, 0x30, 0x32}, 0.15},
}

func (surgical) choices() choices {
	return choices{palette: surgicalPalette, accents: loopColors, fit: [2]float64{0.2, 0.7}, drop: [2]float64{0.02, 0.12}}
}

func (surgical) build(g *faceGeom, p *Params) shape {
	m := arch{bridge: 28, side: 0.05, lift: 0.03, jaw: 0.06}.mesh(g, p)
	return shape{
		mesh: m, look: look{p: 8, soft: 0.025, shadow: 0.22, grain: 3},
		shade: pleatedShade{pleats: 3}.shade, tex: newTexture(p, g, m, 0.3),
		straps: earLoops(g, m, 0.022*g.u, p.Color2),
	}
}
