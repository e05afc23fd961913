package face

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// umeyamaSVD is the paper's general algorithm with an SVD (gonum), the slow
// reference for our 2-D closed form.
func umeyamaSVD(src, dst []Point) Affine {
	n := float64(len(src))
	ms, md := centroid(src), centroid(dst)
	cov := mat.NewDense(2, 2, nil)
	var varS float64
	for i := range src {
		s := []float64{src[i].X - ms.X, src[i].Y - ms.Y}
		d := []float64{dst[i].X - md.X, dst[i].Y - md.Y}
		for r := 0; r < 2; r++ {
			for c := 0; c < 2; c++ {
				cov.Set(r, c, cov.At(r, c)+d[r]*s[c]/n)
			}
		}
		varS += (s[0]*s[0] + s[1]*s[1]) / n
	}
	var svd mat.SVD
	if !svd.Factorize(cov, mat.SVDFull) {
		panic("svd failed")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := svd.Values(nil)
	sgn := []float64{1, 1}
	if mat.Det(cov) < 0 {
		sgn[1] = -1
	}
	var r mat.Dense
	r.Mul(&u, mat.NewDiagDense(2, sgn))
	r.Mul(&r, v.T())
	c := (d[0]*sgn[0] + d[1]*sgn[1]) / varS
	m := Affine{c * r.At(0, 0), c * r.At(0, 1), 0, c * r.At(1, 0), c * r.At(1, 1), 0}
	m[2] = md.X - (m[0]*ms.X + m[1]*ms.Y)
	m[5] = md.Y - (m[3]*ms.X + m[4]*ms.Y)
	return m
}

func similarity(angle, scale, tx, ty float64) Affine {
	c, s := scale*math.Cos(angle), scale*math.Sin(angle)
	return Affine{c, -s, tx, s, c, ty}
}

func affineClose(a, b Affine, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestUmeyamaRecovers(t *testing.T) {
	src := []Point{{100.75, 119}, {144.75, 112}, {126, 136}, {112.5, 167}, {153, 160.5}}
	tests := []struct {
		name                 string
		angle, scale, tx, ty float64
	}{
		{"identity", 0, 1, 0, 0},
		{"translate", 0, 1, -40.5, 12.25},
		{"scale", 0, 0.37, 3, 4},
		{"rotate 30°", math.Pi / 6, 1, 0, 0},
		{"rotate -75° scale 2.5", -75 * math.Pi / 180, 2.5, 10, -20},
		{"rotate 180°", math.Pi, 0.8, 56, 56},
		{"rotate 179.9°", 179.9 * math.Pi / 180, 1.2, -3, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := similarity(tc.angle, tc.scale, tc.tx, tc.ty)
			dst := make([]Point, len(src))
			for i, p := range src {
				dst[i] = want.Apply(p)
			}
			srcCopy := append([]Point(nil), src...)
			got, err := Umeyama(src, dst)
			if err != nil {
				t.Fatal(err)
			}
			if !affineClose(got, want, 1e-9) {
				t.Errorf("got %v, want %v", got, want)
			}
			for i := range src {
				if src[i] != srcCopy[i] {
					t.Fatal("Umeyama modified its input")
				}
			}
		})
	}
}

// TestUmeyamaNoisy: with noisy targets (no exact solution) the closed form
// equals the SVD algorithm, including targets that are mirror images,
// where the best rotation is not the best orthogonal map.
func TestUmeyamaNoisy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tmpl := ArcFaceTemplate()
	for trial := 0; trial < 200; trial++ {
		truth := similarity(rng.Float64()*2*math.Pi, 0.2+rng.Float64()*3, rng.NormFloat64()*50, rng.NormFloat64()*50)
		src := make([]Point, 5)
		dst := make([]Point, 5)
		mirror := trial%4 == 3
		for i := range src {
			src[i] = Point{tmpl[i].X + rng.NormFloat64()*20, tmpl[i].Y + rng.NormFloat64()*20}
			d := truth.Apply(src[i])
			if mirror {
				d.X = -d.X
			}
			dst[i] = Point{d.X + rng.NormFloat64()*2, d.Y + rng.NormFloat64()*2}
		}
		got, err := Umeyama(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		want := umeyamaSVD(src, dst)
		if !affineClose(got, want, 1e-9) {
			t.Fatalf("trial %d: closed form %v, SVD %v", trial, got, want)
		}
		if det := got[0]*got[4] - got[1]*got[3]; det <= 0 {
			t.Fatalf("trial %d: determinant %g: a reflection", trial, det)
		}
	}
}

func TestUmeyamaDegenerate(t *testing.T) {
	same := []Point{{3, 4}, {3, 4}, {3, 4}}
	spread := []Point{{0, 0}, {1, 0}, {0, 1}}
	tests := []struct {
		name     string
		src, dst []Point
	}{
		{"too few", []Point{{1, 2}}, []Point{{3, 4}}},
		{"length mismatch", spread, spread[:2]},
		{"source collapsed", same, spread},
		{"target collapsed", spread, same},
	}
	for _, tc := range tests {
		if _, err := Umeyama(tc.src, tc.dst); !errors.Is(err, ErrDegenerate) {
			t.Errorf("%s: err = %v, want ErrDegenerate", tc.name, err)
		}
	}
}

func TestAffineInvert(t *testing.T) {
	m := similarity(0.3, 1.7, 20.5, -30.25)
	inv := m.Invert()
	for _, p := range []Point{{0, 0}, {10, -3}, {111, 111}} {
		q := inv.Apply(m.Apply(p))
		if math.Abs(q.X-p.X) > 1e-12 || math.Abs(q.Y-p.Y) > 1e-12 {
			t.Errorf("inverse(m(%v)) = %v", p, q)
		}
	}
	if got := (Affine{1, 2, 3, 2, 4, 6}).Invert(); got != (Affine{}) {
		t.Errorf("singular inverse = %v, want zeros like OpenCV", got)
	}
}

func TestPoints5(t *testing.T) {
	l68 := make([]Point, 68)
	for i := range l68 {
		l68[i] = Point{float64(i), float64(1000 + 2*i)}
	}
	got, err := Points5(l68)
	if err != nil {
		t.Fatal(err)
	}
	want := [5]Point{
		{(37 + 38 + 40 + 41) / 4.0, 1000 + 2*(37+38+40+41)/4.0},
		{(43 + 44 + 46 + 47) / 4.0, 1000 + 2*(43+44+46+47)/4.0},
		{30, 1060},
		{(48 + 60) / 2.0, 1000 + (48 + 60)},
		{(54 + 64) / 2.0, 1000 + (54 + 64)},
	}
	if got != want {
		t.Errorf("Points5 = %v, want %v", got, want)
	}
	if _, err := Points5(l68[:5]); err == nil {
		t.Error("5 landmarks accepted")
	}
}

func TestBoxIoU(t *testing.T) {
	unit := Box{X1: 0, Y1: 0, X2: 10, Y2: 10}
	for _, tc := range []struct {
		b            Box
		iou, overlap float64
	}{
		{unit, 1, 1},
		{Box{X1: 5, Y1: 0, X2: 15, Y2: 10}, 50.0 / 150, 0.5},
		{Box{X1: 10, Y1: 0, X2: 20, Y2: 10}, 0, 0},
		{Box{X1: 2, Y1: 2, X2: 4, Y2: 4}, 4.0 / 100, 1},
		{Box{X1: 5, Y1: 5, X2: 25, Y2: 25}, 25.0 / 475, 0.25},
		{Box{X1: 3, Y1: 3, X2: 3, Y2: 9}, 0, 0},
	} {
		for _, pair := range [][2]Box{{unit, tc.b}, {tc.b, unit}} {
			if got := pair[0].IoU(pair[1]); math.Abs(got-tc.iou) > 1e-12 {
				t.Errorf("%v.IoU(%v) = %g, want %g", pair[0], pair[1], got, tc.iou)
			}
			if got := pair[0].Overlap(pair[1]); math.Abs(got-tc.overlap) > 1e-12 {
				t.Errorf("%v.Overlap(%v) = %g, want %g", pair[0], pair[1], got, tc.overlap)
			}
		}
	}
}
