package maskgen

import (
	"image"
	"math"
)

// The realistic styles share one drawing method. A style builds, from the
// face's 68 landmarks, a top curve (over the nose bridge, out to the cheeks)
// and a bottom curve (along the jaw and under the chin); the mask is the
// ruled surface between them, rasterised as a triangle mesh that gives
// every pixel its mask coordinates (s across, t down, both 0…1). In those
// coordinates the style decides the outline (a superellipse, whose edge is
// anti-aliased and softened using its distance in pixels), the shading
// (folds, pleats, seams, curvature) and the texture. Because the curves come
// from the landmarks, the mask follows pose and face shape. On top come the
// photo's own lighting (level and left-right gradient, measured on the
// cheeks), a little grain, and a contact shadow along the top edge.

// faceGeom is the face frame realistic styles work in.
type faceGeom struct {
	p         []Point // 68 landmarks
	u         float64 // eye distance, px: the unit of every size
	up, right Point   // unit vectors of the face
	centre    Point
	eyes      Point // midpoint of the eyes
}

func newFaceGeom(f *Face) faceGeom {
	p := f.landmarks68()
	g := faceGeom{p: p}
	g.u = f.Points5[RightEye].sub(f.Points5[LeftEye]).norm()
	g.right = f.Points5[RightEye].sub(f.Points5[LeftEye]).unit()
	g.up = Point{g.right.Y, -g.right.X} // right turned a quarter anticlockwise (y down)
	g.centre = lerp(p[27], p[8], 0.45)
	g.eyes = lerp(f.Points5[LeftEye], f.Points5[RightEye], 0.5)
	return g
}

// minBelowEyes is how far below the eye line, in eye distances, every
// point of a realistic mask's outline must stay.
const minBelowEyes = 0.06

// belowEyes moves q down the face, if needed, to minBelowEyes below the
// line through the eyes. Landmark models sometimes put jaw points on the
// hair or a neighbour's face; the mask must still never cover the eyes.
func (g *faceGeom) belowEyes(q Point) Point {
	if d := g.eyes.sub(q).dot(g.up) / g.u; d < minBelowEyes {
		return g.down(q, minBelowEyes-d)
	}
	return q
}

func (g *faceGeom) allBelowEyes(pts []Point) {
	for i, q := range pts {
		pts[i] = g.belowEyes(q)
	}
}

// radial is landmark i moved outwards from the face centre by k eye
// distances.
func (g *faceGeom) radial(i int, k float64) Point {
	return g.p[i].add(g.p[i].sub(g.centre).unit().mul(k * g.u))
}

// sideways is landmark i moved away from the face's midline by k eye
// distances, along the eye line.
func (g *faceGeom) sideways(i int, k float64) Point {
	d := g.right
	if g.p[i].sub(g.centre).dot(g.right) < 0 {
		d = d.mul(-1)
	}
	return g.p[i].add(d.mul(k * g.u))
}

// down moves q by k eye distances towards the chin.
func (g *faceGeom) down(q Point, k float64) Point { return q.add(g.up.mul(-k * g.u)) }

// jaw returns landmarks from..to of the jaw, pushed out by k eye distances,
// and lowered by drop eye distances at the chin (point 8), fading to zero
// six points away.
func (g *faceGeom) jaw(from, to int, k, drop float64) []Point {
	out := make([]Point, 0, to-from+1)
	for i := from; i <= to; i++ {
		w := math.Max(0, 1-math.Abs(float64(i-8))/6)
		out = append(out, g.down(g.radial(i, k), drop*w*w))
	}
	return out
}

// shape is what a realistic style draws: a body and its straps or loops.
type shape struct {
	mesh *mesh
	look
	shade  func(s, t float64) float64
	tex    texture
	straps []strap
}

// look is how a style finishes its body, the same on every face.
type look struct {
	p      int     // outline superellipse exponent, even
	soft   float64 // eye distances over which the edge fades (at least 1 px)
	shadow float64 // darkening just above the top edge, 0–1
	grain  float64 // per-pixel noise amplitude, in levels
}

// strap is an ear loop or head strap: a polyline of half-width r.
type strap struct {
	pts []Point
	r   float64
	c   Color
}

// light is the photo's lighting on the face, measured before drawing.
type light struct{ level, grad float64 }

// measureLight compares the mean luminance of the two cheeks: its level
// scales the mask's brightness (a white mask in a dim photo is grey), its
// difference shades the mask from one side to the other.
func measureLight(img *image.NRGBA, g *faceGeom) light {
	r := max(1, int(0.1*g.u))
	patch := func(c Point) (float64, bool) {
		cx, cy := int(math.Round(c.X)), int(math.Round(c.Y))
		b := image.Rect(cx-r, cy-r, cx+r+1, cy+r+1).Intersect(img.Rect)
		if b.Empty() {
			return 0, false
		}
		var sum float64
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := img.Pix[img.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				sum += 0.299*float64(row[4*x]) + 0.587*float64(row[4*x+1]) + 0.114*float64(row[4*x+2])
			}
		}
		return sum / float64(b.Dx()*b.Dy()), true
	}
	const typical = 140.0 // luminance of skin in a well-lit photo
	l, okL := patch(lerp(g.p[2], g.p[30], 0.45))
	rr, okR := patch(lerp(g.p[14], g.p[30], 0.45))
	switch {
	case !okL && !okR:
		l, rr = typical, typical
	case !okL:
		l = rr
	case !okR:
		rr = l
	}
	mean := (l + rr) / 2
	return light{
		level: math.Max(0.6, math.Min(1.06, 0.55+0.45*mean/typical)),
		grad:  math.Max(-0.2, math.Min(0.2, 0.7*(rr-l)/(rr+l+1))),
	}
}

// drawRealistic draws a realistic style's shape onto dst.
func drawRealistic(dst *image.NRGBA, cov *image.Alpha, f *Face, p *Params, build func(*faceGeom, *Params) shape) error {
	g := newFaceGeom(f)
	lt := measureLight(dst, &g)
	sh := build(&g, p)
	g.allBelowEyes(sh.mesh.top)
	g.allBelowEyes(sh.mesh.bot)
	for _, st := range sh.straps {
		g.allBelowEyes(st.pts)
	}
	noise := func(x, y int) float64 {
		h := uint32(x)*0x8da6b343 ^ uint32(y)*0xd8163841 ^ p.Grain*0xcb1ab31f
		h ^= h >> 15
		h *= 0x85ebca6b
		h ^= h >> 13
		return float64(h&0xffff)/32768 - 1
	}
	for _, st := range sh.straps {
		c := [3]float64{float64(st.c.R), float64(st.c.G), float64(st.c.B)}
		stroke(st.pts, st.r, dst.Rect, func(x, y int, a float64) {
			l := lt.level * (0.92 + 0.03*noise(x, y))
			i := dst.PixOffset(x, y)
			blendF(dst.Pix[i:i+4:i+4], c[0]*l, c[1]*l, c[2]*l, a)
			if a >= 0.5 {
				cov.Pix[cov.PixOffset(x, y)] = 255
			}
		})
	}
	soft := max(1, sh.soft*g.u)
	shadowW := 0.06 * g.u
	sh.mesh.margin = soft/2 + shadowW + 1
	sh.mesh.raster(dst.Rect, func(y, x0, x1 int, sp, tp plane) {
		s, t := sp.at(x0, y), tp.at(x0, y)
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, y):]
		crow := cov.Pix[cov.PixOffset(cov.Rect.Min.X, y):]
		for x := x0; x < x1; x, s, t = x+1, s+sp.a, t+tp.a {
			i := 4 * (x - dst.Rect.Min.X)
			px := row[i : i+4 : i+4]
			d := superellipseDist(s, t, sh.p, sp, tp)
			a := clamp01(0.5 - d/soft)
			if sh.shadow > 0 && t < 0.5 && d > -soft/2 {
				if k := sh.shadow * clamp01(1-(d+soft/2)/shadowW); k > 0 {
					for c := 0; c < 3; c++ {
						px[c] = uint8(float64(px[c])*(1-k) + 0.5)
					}
				}
			}
			if a == 0 {
				continue
			}
			c := sh.tex.at(s, t)
			l := sh.shade(s, t)*lt.level*(1+lt.grad*(2*s-1)) + sh.grain*noise(x, y)/255
			blendF(px, c[0]*l, c[1]*l, c[2]*l, a)
			if a >= 0.5 {
				crow[x-cov.Rect.Min.X] = 255
			}
		}
	})
	return nil
}

// superellipseDist is the signed distance in pixels (negative inside) from
// pixel (s, t) to the outline |2s−1|^p + |2t−1|^p = 1, to first order:
// f / |∇f|, with the gradient taken through the triangle's planes.
func superellipseDist(s, t float64, p int, sp, tp plane) float64 {
	u, v := 2*s-1, 2*t-1
	u2, v2 := u*u, v*v
	up1, vp1 := u, v // u^(p−1), v^(p−1)
	for k := 2; k < p; k += 2 {
		up1 *= u2
		vp1 *= v2
	}
	f := up1*u + vp1*v - 1
	fs, ft := 2*float64(p)*up1, 2*float64(p)*vp1
	gx := fs*sp.a + ft*tp.a
	gy := fs*sp.b + ft*tp.b
	g := math.Sqrt(gx*gx + gy*gy)
	if g < 1e-12 {
		if f < 0 {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	return f / g
}

func clamp01(v float64) float64 {
	if v <= 0 {
		return 0
	}
	if v >= 1 {
		return 1
	}
	return v
}

// blendF composites colour (r, g, b) (0–255, clamped) with alpha a over the
// non-premultiplied pixel px.
func blendF(px []uint8, r, g, b, a float64) {
	c := func(v float64) float64 { return math.Max(0, math.Min(255, v)) }
	r, g, b = c(r), c(g), c(b)
	if px[3] == 255 {
		px[0] = uint8(float64(px[0]) + (r-float64(px[0]))*a + 0.5)
		px[1] = uint8(float64(px[1]) + (g-float64(px[1]))*a + 0.5)
		px[2] = uint8(float64(px[2]) + (b-float64(px[2]))*a + 0.5)
		return
	}
	da := float64(px[3]) / 255
	oa := a + da*(1-a)
	if oa <= 0 {
		return
	}
	px[0] = uint8((r*a+float64(px[0])*da*(1-a))/oa + 0.5)
	px[1] = uint8((g*a+float64(px[1])*da*(1-a))/oa + 0.5)
	px[2] = uint8((b*a+float64(px[2])*da*(1-a))/oa + 0.5)
	px[3] = uint8(255*oa + 0.5)
}

// pleatedShade is a pleated surgical mask: a cylinder across, bound edges
// with a stitch line, and n pleats whose lower lips catch the light.
type pleatedShade struct{ pleats int }

func (ps pleatedShade) shade(s, t float64) float64 {
	u := 2*s - 1
	l := 1 - 0.13*u*u - 0.07*t
	switch {
	case t < 0.075 || t > 0.925: // binding
		l += 0.03
		if e := math.Min(math.Abs(t-0.055), math.Abs(t-0.945)); e < 0.012 {
			l -= 0.06
		}
	case t > 0.2 && t < 0.8:
		f := (t - 0.2) * float64(ps.pleats) / 0.6
		f -= math.Floor(f)
		l += 0.09*f - 0.045
		if f < 0.12 { // crease under the fold
			l -= 0.1 * (1 - f/0.12)
		}
	}
	if s < 0.03 || s > 0.97 { // side binding
		l += 0.02
	}
	return l
}

// texture colours a mask at (s, t).
type texture struct {
	kind     string // solid, twotone, stripes, dots, check
	c1, c2   [3]float64
	sx, sy   float64 // mask width and height in eye distances
	px       float64 // one pixel in eye distances, for anti-aliasing
	period   float64 // pattern period in eye distances
	cos, sin float64 // stripe angle
}

func newTexture(p *Params, g *faceGeom, m *mesh, basePeriod float64) texture {
	n := len(m.top) - 1
	var w, h float64
	for k := 0; k < n; k++ {
		w += lerp(m.top[k], m.bot[k], 0.5).sub(lerp(m.top[k+1], m.bot[k+1], 0.5)).norm()
	}
	for k := 0; k <= n; k++ {
		h += m.bot[k].sub(m.top[k]).norm()
	}
	h /= float64(n + 1)
	scale := p.Pattern
	if scale <= 0 {
		scale = 1
	}
	a := float64(p.Angle) * math.Pi / 180
	return texture{
		kind: p.Texture,
		c1:   [3]float64{float64(p.Color.R), float64(p.Color.G), float64(p.Color.B)},
		c2:   [3]float64{float64(p.Color2.R), float64(p.Color2.G), float64(p.Color2.B)},
		sx:   w / g.u, sy: h / g.u, px: 1 / g.u,
		period: basePeriod * scale,
		cos:    math.Cos(a), sin: math.Sin(a),
	}
}

func (tx *texture) at(s, t float64) [3]float64 {
	var m float64 // share of c2
	x, y := s*tx.sx, t*tx.sy
	switch tx.kind {
	case "twotone": // one fabric per side of the centre seam
		m = clamp01((x-0.5*tx.sx)/tx.px + 0.5)
	case "stripes":
		m = tx.band(x*tx.sin + y*tx.cos)
	case "dots":
		sp := tx.period
		j := math.Floor(y / sp)
		ox := 0.0
		if int64(j)%2 != 0 {
			ox = sp / 2
		}
		cx := math.Floor((x-ox)/sp)*sp + ox + sp/2
		d := math.Hypot(x-cx, y-(j*sp+sp/2))
		m = clamp01((0.22*sp-d)/tx.px + 0.5)
	case "check":
		m = 0.5 * (tx.band(x) + tx.band(y))
	default:
		return tx.c1
	}
	return [3]float64{
		tx.c1[0] + (tx.c2[0]-tx.c1[0])*m,
		tx.c1[1] + (tx.c2[1]-tx.c1[1])*m,
		tx.c1[2] + (tx.c2[2]-tx.c1[2])*m,
	}
}

// band is 1 on the middle half of each period of v, 0 elsewhere,
// anti-aliased.
func (tx *texture) band(v float64) float64 {
	f := v/tx.period - math.Floor(v/tx.period)
	return clamp01((0.25-math.Abs(f-0.5))*tx.period/tx.px + 0.5)
}

// chooseColors fills Color and Color2 for a realistic style: the spec's
// colour, or a uniform random one, or the style's palette; the second
// colour comes from the accents palette, never equal to the first.
func chooseColors(rs func(string) *stream, cs ColorSpec, p *Params, palette, accents []swatch) {
	switch cs.Mode {
	case ColorFixed:
		p.Color = cs.Color
	case ColorRandom:
		p.Color = randomRGB(rs("color"))
	default:
		p.Color = pickSwatch(rs("color"), palette)
	}
	r := rs("color2")
	for i := 0; i < 8; i++ {
		p.Color2 = pickSwatch(r, accents)
		if math.Abs(p.Color2.luma()-p.Color.luma()) > 40 {
			break
		}
	}
}

// chooseTexture picks a texture kind with the given weights.
func chooseTexture(rs func(string) *stream, p *Params, kinds []string, weights []float64) {
	r := rs("texture")
	p.Texture = kinds[r.pick(weights)]
	p.Pattern = r.rangeFloat(0.8, 1.25)
	p.Angle = []int{0, 0, 90, 45, -45}[r.intn(5)]
}
