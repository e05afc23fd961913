package maskgen

// The skeleton every realistic style shares: its random choices are data
// (choices), its top edge hangs from the nose bridge between two corners
// beside the jaw (faceGeom.topEdge), and its body is a mesh sampled from a
// top and a bottom curve (newMesh). A style file holds only what differs:
// palettes, ranges, the curves' shape, shading and straps.

// choices are what a realistic style draws at random: colours from its
// palettes, a texture (solid when textures is nil), and Fit and Drop from
// their ranges [lo, hi).
type choices struct {
	palette, accents []swatch
	textures         []string
	textureWeights   []float64
	fit, drop        [2]float64
}

// choose fills p. Each choice has its own stream, so the order of the
// calls does not matter, except Fit before Drop on the "fit" stream.
func (c choices) choose(rs func(string) *stream, cs ColorSpec, p *Params) {
	chooseColors(rs, cs, p, c.palette, c.accents)
	if c.textures == nil {
		p.Texture = "solid"
	} else {
		chooseTexture(rs, p, c.textures, c.textureWeights)
	}
	r := rs("fit")
	p.Fit = r.rangeFloat(c.fit[0], c.fit[1])
	p.Drop = r.rangeFloat(c.drop[0], c.drop[1])
	p.Grain = uint32(rs("grain").uint64())
}

// topEdge returns the three points a realistic mask's top edge passes
// through: nose, at fit between nose-bridge landmarks bridge and bridge+1,
// and the corners, side eye distances beyond jaw points 1 and 15.
func (g *faceGeom) topEdge(bridge int, fit, side float64) (nose, left, right Point) {
	nose = lerp(g.p[bridge], g.p[bridge+1], fit)
	return nose, g.sideways(1, side), g.sideways(15, side)
}

// arch is the outline of the masks that cup the lower face (surgical, n95,
// cloth), in eye distances: the top edge runs from the corners (side
// beyond the jaw) to the nose bridge, bowing up by lift halfway; the
// bottom edge follows jaw points 2–14, jaw outside them, lowered by
// Params.Drop at the chin.
type arch struct {
	bridge          int // upper nose-bridge landmark of the top edge's pair
	side, lift, jaw float64
}

// mesh builds the arch's mesh for p's Fit and Drop.
func (a arch) mesh(g *faceGeom, p *Params) *mesh {
	nb, lt, rt := g.topEdge(a.bridge, p.Fit, a.side)
	lift := g.up.mul(a.lift * g.u)
	top := []Point{lt, lerp(lt, nb, 0.5).add(lift), nb, lerp(rt, nb, 0.5).add(lift), rt}
	return newMesh(splineThrough(top), splineThrough(g.jaw(2, 14, a.jaw, p.Drop)), 8)
}

// meshSegments is how many segments a mask's edges are sampled into.
const meshSegments = 24

// newMesh samples the top and bottom curves (s from 0 to 1, left to right)
// into a mesh with rows rows between them.
func newMesh(top, bot func(s float64) Point, rows int) *mesh {
	return &mesh{top: sample(meshSegments, top), bot: sample(meshSegments, bot), rows: rows}
}

// splineThrough is the Catmull-Rom curve through pts (see spline).
func splineThrough(pts []Point) func(s float64) Point {
	return func(s float64) Point { return spline(pts, s) }
}

// polylineThrough is the straight-segment path through pts.
func polylineThrough(pts []Point) func(s float64) Point {
	return func(s float64) Point { return polyline(pts, s) }
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
