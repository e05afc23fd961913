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

func (surgical) choose(rs func(string) *stream, cs ColorSpec, p *Params) {
	chooseColors(rs, cs, p, surgicalPalette, loopColors)
	p.Texture = "solid"
	r := rs("fit")
	p.Fit = r.rangeFloat(0.2, 0.7)
	p.Drop = r.rangeFloat(0.02, 0.12)
	p.Grain = uint32(rs("grain").uint64())
}

func (surgical) build(g *faceGeom, p *Params) shape {
	nb := lerp(g.p[28], g.p[29], p.Fit)
	lt, rt := g.sideways(1, 0.05), g.sideways(15, 0.05)
	top := []Point{lt, lerp(lt, nb, 0.5).add(g.up.mul(0.03 * g.u)), nb, lerp(rt, nb, 0.5).add(g.up.mul(0.03 * g.u)), rt}
	bot := g.jaw(2, 14, 0.06, p.Drop)
	m := &mesh{
		top:  sample(24, func(s float64) Point { return spline(top, s) }),
		bot:  sample(24, func(s float64) Point { return spline(bot, s) }),
		rows: 8,
	}
	ps := pleatedShade{pleats: 3}
	return shape{
		mesh: m, p: 8, soft: max(1, 0.025*g.u), shadow: 0.22,
		shade:  ps.shade,
		tex:    newTexture(p, g, m, 0.3),
		grain:  3,
		straps: earLoops(g, m, 0.022*g.u, p.Color2),
	}
}

// earLoops runs a loop from each side's top and bottom corners to a point
// beside the ear, level with landmarks 1–2.
func earLoops(g *faceGeom, m *mesh, r float64, c Color) []strap {
	n := len(m.top) - 1
	ear := func(i, j int) Point { return lerp(g.sideways(i, 0.28), g.sideways(j, 0.28), 0.3) }
	return []strap{
		{pts: []Point{lerp(m.top[0], m.bot[0], 0.1), ear(1, 2), lerp(m.top[0], m.bot[0], 0.9)}, r: r, c: c},
		{pts: []Point{lerp(m.top[n], m.bot[n], 0.1), ear(15, 14), lerp(m.top[n], m.bot[n], 0.9)}, r: r, c: c},
	}
}
