package maskgen

import (
	"errors"
	"fmt"
	"math"
)

// Point is a position in image pixels. Integer coordinates are pixel
// centres, as in OpenCV and in the ArcFace template.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

func (p Point) add(q Point) Point      { return Point{p.X + q.X, p.Y + q.Y} }
func (p Point) sub(q Point) Point      { return Point{p.X - q.X, p.Y - q.Y} }
func (p Point) mul(k float64) Point    { return Point{p.X * k, p.Y * k} }
func (p Point) dot(q Point) float64    { return p.X*q.X + p.Y*q.Y }
func (p Point) norm() float64          { return math.Hypot(p.X, p.Y) }
func lerp(p, q Point, t float64) Point { return Point{p.X + (q.X-p.X)*t, p.Y + (q.Y-p.Y)*t} }
func (p Point) finite() bool           { return !math.IsNaN(p.X+p.Y) && !math.IsInf(p.X+p.Y, 0) }
func (p Point) unit() Point {
	n := p.norm()
	if n == 0 {
		return Point{}
	}
	return p.mul(1 / n)
}

// The five key points, in the order of Face.Points5.
const (
	LeftEye = iota
	RightEye
	NoseTip
	LeftMouth
	RightMouth
)

// Face is what maskgen needs to know about one face: its five key points
// and, on raw photos, its 68 landmarks (iBUG numbering, 0-based: 0–16 jaw,
// 17–26 brows, 27–30 nose bridge with 30 the tip, 31–35 nostrils, 36–47
// eyes, 48–67 mouth). Points68 is nil on aligned crops: the realistic styles
// then use a mean face placed by a similarity transform on Points5.
type Face struct {
	Points5  [5]Point
	Points68 []Point
}

// arcFace112 is the ArcFace 5-point template of 112×112 aligned crops.
var arcFace112 = [5]Point{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366},
	{41.5493, 92.3655}, {70.7299, 92.2041},
}

// AlignedFace returns the Face of a w×h aligned crop: the ArcFace 112×112
// template scaled by h/112 and centred horizontally, with no 68 landmarks.
// That is the template itself on 112×112 crops, the 96×112 template (x − 8)
// on 96×112 crops, and twice the template on 224×224 crops.
func AlignedFace(w, h int) Face {
	var f Face
	s := float64(h) / 112
	for i, p := range arcFace112 {
		f.Points5[i] = Point{(p.X-56)*s + float64(w)/2, p.Y * s}
	}
	return f
}

// Points5From68 reduces 68 landmarks to the five key points the usual way:
// eyes = mean of 37, 38, 40, 41 and of 43, 44, 46, 47; nose tip = 30; mouth
// corners = mean of 48 and 60, and of 54 and 64.
func Points5From68(p []Point) ([5]Point, error) {
	if len(p) != 68 {
		return [5]Point{}, fmt.Errorf("%w: %d landmarks, want 68", ErrLandmarks, len(p))
	}
	mean := func(idx ...int) Point {
		var s Point
		for _, i := range idx {
			s = s.add(p[i])
		}
		return s.mul(1 / float64(len(idx)))
	}
	return [5]Point{
		mean(37, 38, 40, 41), mean(43, 44, 46, 47), p[30],
		mean(48, 60), mean(54, 64),
	}, nil
}

// FaceFrom68 builds a Face from 68 landmarks, deriving the five key points.
func FaceFrom68(p []Point) (Face, error) {
	p5, err := Points5From68(p)
	if err != nil {
		return Face{}, err
	}
	return Face{Points5: p5, Points68: append([]Point(nil), p...)}, nil
}

// ErrLandmarks reports landmarks that cannot place a mask (wrong count,
// NaN, or a collapsed face).
var ErrLandmarks = errors.New("maskgen: bad landmarks")

// validate checks a Face before any geometry is derived from it.
func (f *Face) validate() error {
	for i, p := range f.Points5 {
		if !p.finite() || math.Abs(p.X) > maxCoord || math.Abs(p.Y) > maxCoord {
			return fmt.Errorf("%w: key point %d is %v", ErrLandmarks, i, p)
		}
	}
	if n := len(f.Points68); n != 0 && n != 68 {
		return fmt.Errorf("%w: %d landmarks, want 68", ErrLandmarks, n)
	}
	for i, p := range f.Points68 {
		if !p.finite() || math.Abs(p.X) > maxCoord || math.Abs(p.Y) > maxCoord {
			return fmt.Errorf("%w: landmark %d is %v", ErrLandmarks, i, p)
		}
	}
	eyes := f.Points5[RightEye].sub(f.Points5[LeftEye]).norm()
	mouth := lerp(f.Points5[LeftMouth], f.Points5[RightMouth], 0.5)
	drop := mouth.sub(lerp(f.Points5[LeftEye], f.Points5[RightEye], 0.5)).norm()
	if eyes < 2 || drop < 2 {
		return fmt.Errorf("%w: face too small (eyes %.2f px apart, eyes to mouth %.2f px)", ErrLandmarks, eyes, drop)
	}
	return nil
}

// maxCoord bounds landmark coordinates so that fixed-point rasterisation
// cannot overflow; no image maskgen accepts is that large.
const maxCoord = 1 << 20

// similarity is x' = a·x − b·y + tx, y' = b·x + a·y + ty.
type similarity struct{ a, b, tx, ty float64 }

func (s similarity) apply(p Point) Point {
	return Point{s.a*p.X - s.b*p.Y + s.tx, s.b*p.X + s.a*p.Y + s.ty}
}

// fitSimilarity is the least-squares similarity (Umeyama, no reflection)
// taking src onto dst.
func fitSimilarity(src, dst []Point) similarity {
	var ms, md Point
	for i := range src {
		ms, md = ms.add(src[i]), md.add(dst[i])
	}
	n := float64(len(src))
	ms, md = ms.mul(1/n), md.mul(1/n)
	var den, num1, num2 float64
	for i := range src {
		s, d := src[i].sub(ms), dst[i].sub(md)
		den += s.dot(s)
		num1 += s.dot(d)
		num2 += s.X*d.Y - s.Y*d.X
	}
	if den == 0 {
		return similarity{a: 1, tx: md.X - ms.X, ty: md.Y - ms.Y}
	}
	a, b := num1/den, num2/den
	return similarity{a, b, md.X - (a*ms.X - b*ms.Y), md.Y - (b*ms.X + a*ms.Y)}
}

// canonical68 is a mean frontal face in the 112×112 ArcFace frame: the 68
// landmarks of the 30 faces in shared/golden/reference.json, each mapped onto
// the template by its 5-point similarity, averaged, then made left-right
// symmetric about x = 56 (TestCanonical68 recomputes it).
var canonical68 = [68]Point{
	{13.48, 50.46}, {14.03, 61.73}, {15.27, 72.99}, {17.34, 84.05}, {21.40, 94.39},
	{27.84, 103.41}, {36.06, 111.00}, {45.28, 117.09}, {56.00, 118.82}, {66.72, 117.09},
	{75.94, 111.00}, {84.16, 103.41}, {90.60, 94.39}, {94.66, 84.05}, {96.73, 72.99},
	{97.97, 61.73}, {98.52, 50.46},
	{21.53, 45.03}, {26.97, 40.55}, {34.58, 39.57}, {42.38, 40.87}, {49.71, 43.81},
	{62.29, 43.81}, {69.62, 40.87}, {77.42, 39.57}, {85.03, 40.55}, {90.47, 45.03},
	{56.00, 51.81}, {56.00, 58.72}, {56.00, 65.76}, {56.00, 72.91},
	{47.04, 77.53}, {51.36, 79.08}, {56.00, 80.22}, {60.64, 79.08}, {64.96, 77.53},
	{30.28, 52.63}, {34.98, 50.80}, {40.34, 50.72}, {45.18, 53.69}, {40.06, 54.52}, {34.57, 54.50},
	{66.82, 53.69}, {71.66, 50.72}, {77.02, 50.80}, {81.72, 52.63}, {77.43, 54.50}, {71.94, 54.52},
	{39.87, 90.49}, {45.67, 87.88}, {51.71, 86.48}, {56.00, 87.61}, {60.29, 86.48}, {66.33, 87.88},
	{72.13, 90.49}, {66.54, 96.65}, {60.68, 99.39}, {56.00, 99.85}, {51.32, 99.39}, {45.46, 96.65},
	{42.35, 90.84}, {51.67, 89.94}, {56.00, 90.48}, {60.33, 89.94}, {69.65, 90.84},
	{60.47, 93.99}, {56.00, 94.56}, {51.53, 93.99},
}

// landmarks68 returns the face's 68 landmarks, or the mean face fitted to
// its five key points when it has none.
func (f *Face) landmarks68() []Point {
	if len(f.Points68) == 68 {
		return f.Points68
	}
	sim := fitSimilarity(arcFace112[:], f.Points5[:])
	out := make([]Point, 68)
	for i, p := range canonical68 {
		out[i] = sim.apply(p)
	}
	return out
}
