package face

import (
	"fmt"
	"math"
)

// Point is a position in image pixels: x to the right, y down, with the
// image spanning 0..width and 0..height (pixel (i,j) covers i..i+1).
type Point struct{ X, Y float64 }

// Box is an axis-aligned rectangle in image pixels: top-left (X1,Y1),
// bottom-right (X2,Y2).
type Box struct{ X1, Y1, X2, Y2 float64 }

// W is the box width.
func (b Box) W() float64 { return b.X2 - b.X1 }

// H is the box height.
func (b Box) H() float64 { return b.Y2 - b.Y1 }

// Center is the middle of the box.
func (b Box) Center() Point { return Point{(b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2} }

// IoU is the area of the intersection of b and c over that of their union
// (0 for disjoint or empty boxes).
func (b Box) IoU(c Box) float64 {
	in := b.intersection(c)
	if in == 0 {
		return 0
	}
	return in / (b.W()*b.H() + c.W()*c.H() - in)
}

// Overlap is the area of the intersection of b and c over that of the
// smaller of the two: 1 when one box lies inside the other.
func (b Box) Overlap(c Box) float64 {
	in := b.intersection(c)
	if in == 0 {
		return 0
	}
	return in / math.Min(b.W()*b.H(), c.W()*c.H())
}

func (b Box) intersection(c Box) float64 {
	w := math.Min(b.X2, c.X2) - math.Max(b.X1, c.X1)
	h := math.Min(b.Y2, c.Y2) - math.Max(b.Y1, c.Y1)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// XYWH returns x, y, width, height.
func (b Box) XYWH() [4]float64 { return [4]float64{b.X1, b.Y1, b.W(), b.H()} }

// Affine is a 2×3 matrix in OpenCV's row-major layout:
// x' = A[0]·x + A[1]·y + A[2],  y' = A[3]·x + A[4]·y + A[5].
type Affine [6]float64

// Apply maps p.
func (m Affine) Apply(p Point) Point {
	return Point{m[0]*p.X + m[1]*p.Y + m[2], m[3]*p.X + m[4]*p.Y + m[5]}
}

// Invert returns the inverse transform, computed as OpenCV's
// invertAffineTransform does (a singular matrix gives all zeros, as there).
func (m Affine) Invert() Affine {
	d := m[0]*m[4] - m[1]*m[3]
	if d != 0 {
		d = 1 / d
	}
	a11, a22, a12, a21 := m[4]*d, m[0]*d, -m[1]*d, -m[3]*d
	return Affine{a11, a12, -a11*m[2] - a12*m[5], a21, a22, -a21*m[2] - a22*m[5]}
}

// ArcFaceTemplate returns the five ArcFace reference points in the 112×112
// crop: left eye, right eye, nose tip, left and right mouth corner (as seen
// in the image). A function, not a variable, so nobody can change it.
func ArcFaceTemplate() [5]Point {
	return [5]Point{
		{38.2946, 51.6963},
		{73.5318, 51.5014},
		{56.0252, 71.7366},
		{41.5493, 92.3655},
		{70.7299, 92.2041},
	}
}

// centroid is the mean of ps, each point's share added in order.
func centroid(ps []Point) Point {
	n := float64(len(ps))
	var m Point
	for _, p := range ps {
		m.X += p.X / n
		m.Y += p.Y / n
	}
	return m
}

// Umeyama returns the similarity transform (rotation, uniform scale,
// translation) that maps src onto dst with least squared error, after
// Umeyama (1991). Reflections are excluded as in the paper (its S matrix):
// in 2-D the optimum then has the closed form used here, angle
// atan2(Σ21−Σ12, Σ11+Σ22) and scale hypot(Σ11+Σ22, Σ21−Σ12)/σ²ₓ, where Σ is
// the dst×src covariance; this equals tr(DS)/σ²ₓ from the paper's SVD.
func Umeyama(src, dst []Point) (Affine, error) {
	if len(src) != len(dst) || len(src) < 2 {
		return Affine{}, fmt.Errorf("umeyama: %d source and %d target points: %w", len(src), len(dst), ErrDegenerate)
	}
	n := float64(len(src))
	ms, md := centroid(src), centroid(dst)
	var varS, s11, s12, s21, s22 float64
	for i := range src {
		sx, sy := src[i].X-ms.X, src[i].Y-ms.Y
		dx, dy := dst[i].X-md.X, dst[i].Y-md.Y
		varS += (sx*sx + sy*sy) / n
		s11 += dx * sx / n
		s12 += dx * sy / n
		s21 += dy * sx / n
		s22 += dy * sy / n
	}
	a, b := s11+s22, s21-s12
	tr := math.Hypot(a, b)
	if varS < 1e-12 || tr < 1e-12*varS {
		return Affine{}, fmt.Errorf("umeyama: source spread %.3g, covariance %.3g: %w", varS, tr, ErrDegenerate)
	}
	c, s := a/tr, b/tr // cos, sin of the rotation
	scale := tr / varS
	r00, r01, r10, r11 := scale*c, -scale*s, scale*s, scale*c
	return Affine{
		r00, r01, md.X - (r00*ms.X + r01*ms.Y),
		r10, r11, md.Y - (r10*ms.X + r11*ms.Y),
	}, nil
}
