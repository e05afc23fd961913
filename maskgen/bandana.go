package maskgen

import "math"

// bandana is a kerchief tied behind the head: a top edge across the nose
// bridge (points 28–29) reaching past the cheeks, sides hanging straight
// down beyond the jaw, and a point well below the chin; diagonal folds
// and a printed (dots, gingham) or plain cloth.
type bandana struct{}

var bandanaPalette = []swatch{
	{Color{0xb2, 0x22, 0x22}, 0.35}, // red
	{Color{0x23, 0x2f, 0x55}, 0.25}, // navy
	{Color{0x24, 0x24, 0x26}, 0.2},  // black
	{Color{0x2f, 0x6b, 0x4f}, 0.1},  // green
	{Color{0x4a, 0x6a, 0x8f}, 0.1},  // denim
}

func (bandana) choose(rs func(string) *stream, cs ColorSpec, p *Params) {
	chooseColors(rs, cs, p, bandanaPalette, accentColors)
	chooseTexture(rs, p, []string{"solid", "dots", "check", "stripes"}, []float64{0.3, 0.4, 0.2, 0.1})
	r := rs("fit")
	p.Fit = r.rangeFloat(0.3, 0.9)
	p.Drop = r.rangeFloat(0.4, 0.8)
	p.Grain = uint32(rs("grain").uint64())
}

func (bandana) build(g *faceGeom, p *Params) shape {
	nb := lerp(g.p[28], g.p[29], p.Fit)
	lt, rt := g.sideways(1, 0.3), g.sideways(15, 0.3)
	hang := 1.05 * g.p[4].sub(g.p[1]).norm() / g.u
	lb, rb := g.down(lt, hang), g.down(rt, hang)
	tip := g.down(g.p[8], p.Drop)
	m := &mesh{
		top:  sample(24, func(s float64) Point { return spline([]Point{lt, nb, rt}, s) }),
		bot:  sample(24, func(s float64) Point { return polyline([]Point{lb, tip, rb}, s) }),
		rows: 8,
	}
	shade := func(s, t float64) float64 {
		u := 2*s - 1
		fold := math.Abs(math.Sin(math.Pi * (2.5*t + 1.5*math.Abs(u))))
		return 1 - 0.12*u*u*(1-t) - 0.08*fold
	}
	return shape{
		mesh: m, p: 8, soft: max(1, 0.035*g.u), shadow: 0.25,
		shade: shade,
		tex:   newTexture(p, g, m, 0.3),
		grain: 3,
	}
}
