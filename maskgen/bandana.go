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

func (bandana) choices() choices {
	return choices{
		palette: bandanaPalette, accents: accentColors,
		textures:       []string{"solid", "dots", "check", "stripes"},
		textureWeights: []float64{0.3, 0.4, 0.2, 0.1},
		fit:            [2]float64{0.3, 0.9}, drop: [2]float64{0.4, 0.8},
	}
}

func (bandana) build(g *faceGeom, p *Params) shape {
	nb, lt, rt := g.topEdge(28, p.Fit, 0.3)
	hang := 1.05 * g.p[4].sub(g.p[1]).norm() / g.u
	tip := g.down(g.p[8], p.Drop)
	m := newMesh(splineThrough([]Point{lt, nb, rt}), polylineThrough([]Point{g.down(lt, hang), tip, g.down(rt, hang)}), 8)
	shade := func(s, t float64) float64 {
		u := 2*s - 1
		fold := math.Abs(math.Sin(math.Pi * (2.5*t + 1.5*math.Abs(u))))
		return 1 - 0.12*u*u*(1-t) - 0.08*fold
	}
	return shape{
		mesh: m, look: look{p: 8, soft: 0.035, shadow: 0.25, grain: 3},
		shade: shade, tex: newTexture(p, g, m, 0.3),
	}
}
