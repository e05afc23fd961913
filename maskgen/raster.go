package maskgen

import (
	"image"
	"math"
)

// plane is an affine function of the pixel position: v = a·x + b·y + c.
type plane struct{ a, b, c float64 }

func (p plane) at(x, y int) float64 { return p.a*float64(x) + p.b*float64(y) + p.c }

// vertex is a mesh vertex: a position in pixels and mask coordinates (s, t).
type vertex struct {
	p    Point
	s, t float64
}

// subpixel is the fixed-point precision of triangle vertices (1/16 px).
const subpixel = 16

// spanFunc receives the pixels x0 ≤ x < x1 of row y inside one triangle,
// with the triangle's s and t planes.
type spanFunc func(y, x0, x1 int, s, t plane)

// rasterTriangle calls span for every row of pixel centres (integer
// coordinates) inside the triangle, clipped to clip. Vertices are snapped
// to 1/16 px and edges evaluated in integers with a top-left rule, so that
// triangles sharing an edge never both claim a pixel: every pixel of a mesh
// is drawn exactly once.
func rasterTriangle(v0, v1, v2 vertex, clip image.Rectangle, span spanFunc) {
	fx := func(v float64) int64 { return int64(math.Round(v * subpixel)) }
	x0, y0 := fx(v0.p.X), fx(v0.p.Y)
	x1, y1 := fx(v1.p.X), fx(v1.p.Y)
	x2, y2 := fx(v2.p.X), fx(v2.p.Y)
	area := (x1-x0)*(y2-y0) - (y1-y0)*(x2-x0)
	if area == 0 {
		return
	}
	if area < 0 {
		x1, y1, x2, y2 = x2, y2, x1, y1
		v1, v2 = v2, v1
	}
	minX := max(int(floorDiv(min(x0, x1, x2), subpixel)), clip.Min.X)
	maxX := min(int(ceilDiv(max(x0, x1, x2), subpixel)), clip.Max.X-1)
	minY := max(int(floorDiv(min(y0, y1, y2), subpixel)), clip.Min.Y)
	maxY := min(int(ceilDiv(max(y0, y1, y2), subpixel)), clip.Max.Y-1)
	if minX > maxX || minY > maxY {
		return
	}
	sp, tp, ok := attributePlanes(v0, v1, v2)
	if !ok {
		return
	}
	// Edge a→b: E(p) = (bx−ax)(py−ay) − (by−ay)(px−ax), positive inside.
	// A pixel exactly on an edge belongs to the triangle whose edge runs
	// upwards, or rightwards when horizontal: the opposite triangle sees
	// the same edge reversed and leaves the pixel alone.
	type edge struct{ dx, dy, e int64 }
	mk := func(ax, ay, bx, by int64) edge {
		dx, dy := bx-ax, by-ay
		px, py := int64(minX)*subpixel, int64(minY)*subpixel
		e := dx*(py-ay) - dy*(px-ax)
		if dy < 0 || dy == 0 && dx > 0 {
			e++ // ties are inside
		}
		return edge{dx * subpixel, dy * subpixel, e}
	}
	e0, e1, e2 := mk(x0, y0, x1, y1), mk(x1, y1, x2, y2), mk(x2, y2, x0, y0)
	for y := minY; y <= maxY; y++ {
		w0, w1, w2 := e0.e, e1.e, e2.e
		start := -1
		for x := minX; x <= maxX; x++ {
			if w0 > 0 && w1 > 0 && w2 > 0 {
				if start < 0 {
					start = x
				}
			} else if start >= 0 {
				span(y, start, x, sp, tp)
				start = -1
				break // a triangle's row is one run
			}
			w0 -= e0.dy
			w1 -= e1.dy
			w2 -= e2.dy
		}
		if start >= 0 {
			span(y, start, maxX+1, sp, tp)
		}
		e0.e += e0.dx
		e1.e += e1.dx
		e2.e += e2.dx
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// attributePlanes solves for the affine functions s(x, y), t(x, y) taking
// the given values at the three vertices.
func attributePlanes(v0, v1, v2 vertex) (plane, plane, bool) {
	ax, ay := v1.p.X-v0.p.X, v1.p.Y-v0.p.Y
	bx, by := v2.p.X-v0.p.X, v2.p.Y-v0.p.Y
	det := ax*by - ay*bx
	if math.Abs(det) < 1e-12 {
		return plane{}, plane{}, false
	}
	solve := func(f0, f1, f2 float64) plane {
		da, db := f1-f0, f2-f0
		a := (da*by - db*ay) / det
		b := (db*ax - da*bx) / det
		return plane{a, b, f0 - a*v0.p.X - b*v0.p.Y}
	}
	return solve(v0.s, v1.s, v2.s), solve(v0.t, v1.t, v2.t), true
}

// mesh is a ruled surface between a top and a bottom curve, sampled at the
// same s = k/N, with a margin of extra vertices around it so that edge
// anti-aliasing, soft edges and the contact shadow have pixels to land on.
// Outside [0,1]² the mask coordinates continue linearly.
type mesh struct {
	top, bot []Point // N+1 samples each, s = 0 … 1
	rows     int     // M: rows between top and bottom
	margin   float64 // px
}

// grid returns the (N+3)×(M+3) vertices, margin included, row-major.
func (m *mesh) grid() ([]vertex, int, int) {
	n := len(m.top) - 1
	cols, rows := n+3, m.rows+3
	g := make([]vertex, cols*rows)
	at := func(k, j int) *vertex { return &g[(j+1)*cols+(k+1)] }
	for k := 0; k <= n; k++ {
		s := float64(k) / float64(n)
		for j := 0; j <= m.rows; j++ {
			t := float64(j) / float64(m.rows)
			*at(k, j) = vertex{lerp(m.top[k], m.bot[k], t), s, t}
		}
		// Margin rows, continuing the column outwards.
		for _, e := range [2][2]int{{0, -1}, {m.rows, m.rows + 1}} {
			in, out := at(k, e[0]), at(k, e[1])
			next := at(k, e[0]-(e[1]-e[0]))
			d := in.p.sub(next.p)
			h := math.Max(d.norm()*float64(m.rows), 1e-3) // px per unit t
			*out = vertex{in.p.add(d.unit().mul(m.margin)), s, in.t + float64(e[1]-e[0])*m.margin/h}
		}
	}
	// Margin columns, continuing the rows outwards (corners included).
	for j := -1; j <= m.rows+1; j++ {
		for _, e := range [2][2]int{{0, -1}, {n, n + 1}} {
			in, out := at(e[0], j), at(e[1], j)
			next := at(e[0]-(e[1]-e[0]), j)
			d := in.p.sub(next.p)
			w := math.Max(d.norm()*float64(n), 1e-3) // px per unit s
			*out = vertex{in.p.add(d.unit().mul(m.margin)), in.s + float64(e[1]-e[0])*m.margin/w, in.t}
		}
	}
	return g, cols, rows
}

// raster calls span for every pixel of the mesh (margin included) inside
// clip, each pixel once. Triangles of a valid mesh never overlap, but odd
// landmarks (a face in profile, a sharp corner and its margin) can fold
// one over another, so pixels already visited are skipped.
func (m *mesh) raster(clip image.Rectangle, span spanFunc) {
	g, cols, rows := m.grid()
	box := pointsBounds(func(yield func(Point) bool) {
		for _, v := range g {
			if !yield(v.p) {
				return
			}
		}
	}, 1).Intersect(clip)
	if box.Empty() {
		return
	}
	seen := make([]bool, box.Dx()*box.Dy())
	once := func(y, x0, x1 int, s, t plane) {
		row := seen[(y-box.Min.Y)*box.Dx():][:box.Dx()]
		for x := x0; x < x1; {
			for x < x1 && row[x-box.Min.X] {
				x++
			}
			start := x
			for x < x1 && !row[x-box.Min.X] {
				row[x-box.Min.X] = true
				x++
			}
			if x > start {
				span(y, start, x, s, t)
			}
		}
	}
	for j := 0; j+1 < rows; j++ {
		for k := 0; k+1 < cols; k++ {
			a, b := g[j*cols+k], g[j*cols+k+1]
			c, d := g[(j+1)*cols+k], g[(j+1)*cols+k+1]
			rasterTriangle(a, b, d, box, once)
			rasterTriangle(a, d, c, box, once)
		}
	}
}

// pointsBounds is the smallest pixel rectangle holding every point, grown
// by pad pixels.
func pointsBounds(seq func(func(Point) bool), pad float64) image.Rectangle {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for p := range seq {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	if minX > maxX {
		return image.Rectangle{}
	}
	return image.Rect(int(math.Floor(minX-pad)), int(math.Floor(minY-pad)), int(math.Ceil(maxX+pad))+1, int(math.Ceil(maxY+pad))+1)
}

// stroke calls fn with the anti-aliased coverage (0, 1] of every pixel
// within half-width r of the polyline pts, each pixel once.
func stroke(pts []Point, r float64, clip image.Rectangle, fn func(x, y int, a float64)) {
	if len(pts) < 2 {
		return
	}
	b := pointsBounds(func(yield func(Point) bool) {
		for _, p := range pts {
			if !yield(p) {
				return
			}
		}
	}, r+1).Intersect(clip)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := Point{float64(x), float64(y)}
			d := math.Inf(1)
			for i := 0; i+1 < len(pts); i++ {
				d = math.Min(d, segmentDist(p, pts[i], pts[i+1]))
			}
			if a := r + 0.5 - d; a > 0 {
				fn(x, y, math.Min(a, 1))
			}
		}
	}
}

func segmentDist(p, a, b Point) float64 {
	ab, ap := b.sub(a), p.sub(a)
	l := ab.dot(ab)
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ap.dot(ab)/l))
	}
	return p.sub(a.add(ab.mul(t))).norm()
}

// spline samples a uniform Catmull-Rom curve through pts at s ∈ [0, 1]
// (knots equally spaced in s), with the end points repeated.
func spline(pts []Point, s float64) Point {
	n := len(pts) - 1
	u := math.Max(0, math.Min(1, s)) * float64(n)
	i := min(int(u), n-1)
	f := u - float64(i)
	p0, p1, p2, p3 := pts[max(i-1, 0)], pts[i], pts[i+1], pts[min(i+2, n)]
	f2, f3 := f*f, f*f*f
	c := func(a, b, c, d float64) float64 {
		return 0.5 * (2*b + (c-a)*f + (2*a-5*b+4*c-d)*f2 + (3*b-a-3*c+d)*f3)
	}
	return Point{c(p0.X, p1.X, p2.X, p3.X), c(p0.Y, p1.Y, p2.Y, p3.Y)}
}

// polyline samples the straight-segment path through pts at s ∈ [0, 1]
// (knots equally spaced in s).
func polyline(pts []Point, s float64) Point {
	n := len(pts) - 1
	u := math.Max(0, math.Min(1, s)) * float64(n)
	i := min(int(u), n-1)
	return lerp(pts[i], pts[i+1], u-float64(i))
}

// sample returns n+1 points of curve at s = k/n.
func sample(n int, curve func(s float64) Point) []Point {
	out := make([]Point, n+1)
	for k := range out {
		out[k] = curve(float64(k) / float64(n))
	}
	return out
}
