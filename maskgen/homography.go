package maskgen

import (
	"fmt"
	"math"
)

// homography is a 3×3 projective transform, row-major: (x, y) maps to
// ((h0 x + h1 y + h2)/w, (h3 x + h4 y + h5)/w) with w = h6 x + h7 y + h8.
type homography [9]float64

func (h *homography) apply(p Point) (Point, bool) {
	w := h[6]*p.X + h[7]*p.Y + h[8]
	if !(w > 1e-12) {
		return Point{}, false
	}
	return Point{(h[0]*p.X + h[1]*p.Y + h[2]) / w, (h[3]*p.X + h[4]*p.Y + h[5]) / w}, true
}

func (h *homography) mul(g *homography) homography {
	var r homography
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[3*i+j] = h[3*i]*g[j] + h[3*i+1]*g[3+j] + h[3*i+2]*g[6+j]
		}
	}
	return r
}

// inverse returns h⁻¹ scaled so that its last element is 1 where possible.
func (h *homography) inverse() (homography, error) {
	a, b, c, d, e, f, g, k, l := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
	inv := homography{
		e*l - f*k, c*k - b*l, b*f - c*e,
		f*g - d*l, a*l - c*g, c*d - a*f,
		d*k - e*g, b*g - a*k, a*e - b*d,
	}
	det := a*inv[0] + b*inv[3] + c*inv[6]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return homography{}, fmt.Errorf("%w: singular homography", ErrLandmarks)
	}
	return inv.normalized(), nil
}

func (h homography) normalized() homography {
	s := h[8]
	if math.Abs(s) < 1e-12 {
		var n float64
		for _, v := range h {
			n += v * v
		}
		s = math.Sqrt(n)
	}
	for i := range h {
		h[i] /= s
	}
	return h
}

// fitHomography is the least-squares homography taking src onto dst
// (normalised DLT, as OpenCV's findHomography with method 0 before its
// refinement): the eigenvector of AᵀA with the smallest eigenvalue, with the
// points first centred and scaled (Hartley) for conditioning.
func fitHomography(src, dst []Point) (homography, error) {
	if len(src) != len(dst) || len(src) < 4 {
		panic("maskgen: fitHomography needs ≥ 4 point pairs")
	}
	ts, td := hartley(src), hartley(dst)
	var ata [81]float64
	for i := range src {
		x, y := ts.apply1(src[i])
		u, v := td.apply1(dst[i])
		rows := [2][9]float64{
			{x, y, 1, 0, 0, 0, -u * x, -u * y, -u},
			{0, 0, 0, x, y, 1, -v * x, -v * y, -v},
		}
		for _, r := range rows {
			for a := 0; a < 9; a++ {
				for b := 0; b < 9; b++ {
					ata[9*a+b] += r[a] * r[b]
				}
			}
		}
	}
	var hn homography
	copy(hn[:], smallestEigenvector9(&ata))
	// H = Td⁻¹ · Hn · Ts.
	tsH, tdInv := ts.matrix(), td.inverse()
	m := hn.mul(&tsH)
	h := tdInv.mul(&m)
	h = h.normalized()
	for _, v := range h {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return homography{}, fmt.Errorf("%w: no homography fits the key points", ErrLandmarks)
		}
	}
	return h, nil
}

// hartleyT maps p to (p − c)·s.
type hartleyT struct{ cx, cy, s float64 }

func (t hartleyT) apply1(p Point) (float64, float64) { return (p.X - t.cx) * t.s, (p.Y - t.cy) * t.s }

func (t hartleyT) matrix() homography {
	return homography{t.s, 0, -t.s * t.cx, 0, t.s, -t.s * t.cy, 0, 0, 1}
}

func (t hartleyT) inverse() homography {
	return homography{1 / t.s, 0, t.cx, 0, 1 / t.s, t.cy, 0, 0, 1}
}

// hartley returns the normalising transform of pts: centroid to the
// origin, mean distance √2.
func hartley(pts []Point) hartleyT {
	var c Point
	for _, p := range pts {
		c = c.add(p)
	}
	c = c.mul(1 / float64(len(pts)))
	var d float64
	for _, p := range pts {
		d += p.sub(c).norm()
	}
	d /= float64(len(pts))
	s := 1.0
	if d > 0 {
		s = math.Sqrt2 / d
	}
	return hartleyT{c.X, c.Y, s}
}

// smallestEigenvector9 returns the unit eigenvector of the symmetric 9×9
// matrix m (row-major) with the smallest eigenvalue, by cyclic Jacobi
// rotations. m is overwritten.
func smallestEigenvector9(m *[81]float64) []float64 {
	const n = 9
	var v [81]float64
	for i := 0; i < n; i++ {
		v[n*i+i] = 1
	}
	for sweep := 0; sweep < 64; sweep++ {
		var off float64
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				off += m[n*p+q] * m[n*p+q]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := m[n*p+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (m[n*q+q] - m[n*p+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					mkp, mkq := m[n*k+p], m[n*k+q]
					m[n*k+p] = c*mkp - s*mkq
					m[n*k+q] = s*mkp + c*mkq
				}
				for k := 0; k < n; k++ {
					mpk, mqk := m[n*p+k], m[n*q+k]
					m[n*p+k] = c*mpk - s*mqk
					m[n*q+k] = s*mpk + c*mqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[n*k+p], v[n*k+q]
					v[n*k+p] = c*vkp - s*vkq
					v[n*k+q] = s*vkp + c*vkq
				}
			}
		}
	}
	best := 0
	for i := 1; i < n; i++ {
		if m[n*i+i] < m[n*best+best] {
			best = i
		}
	}
	out := make([]float64, n)
	for k := 0; k < n; k++ {
		out[k] = v[n*k+best]
	}
	return out
}
