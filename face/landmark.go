package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/maskinv/workbench/model"
)

// LandmarkSize is the side of the grey crop fr_landmark.onnx takes.
const LandmarkSize = 64

// Landmarker finds 68 facial landmarks (iBUG 300-W order) with
// fr_landmark.onnx.
type Landmarker struct {
	Net Runner
	// Subpixel keeps fractional coordinates. By default they are truncated
	// to whole pixels as the JS (and so the golden reference) does.
	Subpixel bool
}

// Landmarks returns the 68 points of the face in box, in photo pixels.
func (l *Landmarker) Landmarks(ctx context.Context, img image.Image, box Box) ([]Point, error) {
	src := asNRGBA(img)
	in, g, err := landmarkInput(src, box)
	if err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	outs, err := l.Net.Run(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("landmarks: run model: %w", err)
	}
	if len(outs) == 0 || len(outs[0].Data) != 136 {
		var shape []int
		if len(outs) > 0 {
			shape = outs[0].Shape
		}
		return nil, fmt.Errorf("landmarks: want 136 values, got shape %v: %w", shape, ErrOutput)
	}
	return g.toPhoto(outs[0].Data, l.Subpixel), nil
}

// landmarkGeom is what maps the model's 0..1 outputs back to the photo:
// the integer box the JS derives from the detection (not the crop, which can
// differ near the photo's edge; the JS maps with the box, and so do we).
type landmarkGeom struct{ x1, y1, w, h int }

func (g landmarkGeom) toPhoto(out []float32, subpixel bool) []Point {
	pts := make([]Point, 68)
	for i := range pts {
		x := float64(out[2*i])*float64(g.w) + float64(g.x1)
		y := float64(out[2*i+1])*float64(g.h) + float64(g.y1)
		if !subpixel { // parseInt in the JS: truncation towards zero
			x, y = math.Trunc(x), math.Trunc(y)
		}
		pts[i] = Point{x, y}
	}
	return pts
}

// landmarkInput follows fr_landmark.js: truncate the box to integers, take
// the crop alignLandmarkImage computes (scale 1, shifted inside the photo),
// resize it to 64×64 (OpenCV bilinear), convert to grey with BGR2GRAY on RGB
// data (0.114R + 0.587G + 0.299B) and divide by 256.
func landmarkInput(src *image.NRGBA, box Box) (model.Tensor, landmarkGeom, error) {
	crop, g, err := landmarkCrop(src.Rect.Dx(), src.Rect.Dy(), box)
	if err != nil {
		return model.Tensor{}, g, err
	}
	small := resizeLinear(src, crop, LandmarkSize, LandmarkSize)
	t := model.Tensor{Shape: []int{1, 1, LandmarkSize, LandmarkSize}, Data: make([]float32, LandmarkSize*LandmarkSize)}
	for i := range t.Data {
		p := small.Pix[4*i : 4*i+3]
		t.Data[i] = float32(grayCV(p[0], p[1], p[2])) / 256
	}
	return t, g, nil
}

// landmarkCrop is alignLandmarkImage with scale_value 1: a crop the size of
// the box (shrunk only if larger than the photo), moved inside
// [0, w−1]×[0, h−1], with the JS's integer truncations.
func landmarkCrop(w, h int, box Box) (image.Rectangle, landmarkGeom, error) {
	x1, y1 := int(box.X1), int(box.Y1) // parseInt
	x2, y2 := int(box.X2), int(box.Y2)
	g := landmarkGeom{x1: x1, y1: y1, w: abs(x2 - x1), h: abs(y2 - y1)}
	if g.w == 0 || g.h == 0 || w < 2 || h < 2 {
		return image.Rectangle{}, g, fmt.Errorf("box %.1f,%.1f–%.1f,%.1f in a %d×%d photo is too small: %w",
			box.X1, box.Y1, box.X2, box.Y2, w, h, ErrSize)
	}
	bw, bh := float64(g.w), float64(g.h)
	scale := math.Min(float64(h-1)/bh, math.Min(float64(w-1)/bw, 1))
	nw, nh := bw*scale, bh*scale
	cx, cy := bw/2+float64(x1), bh/2+float64(y1)
	l, t, r, b := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if l < 0 {
		r -= l
		l = 0
	}
	if t < 0 {
		b -= t
		t = 0
	}
	if r > float64(w-1) {
		l -= r - float64(w) + 1
		r = float64(w - 1)
	}
	if b > float64(h-1) {
		t -= b - float64(h) + 1
		b = float64(h - 1)
	}
	rx, ry := max(int(l), 0), max(int(t), 0)
	rw, rh := min(int(r-l), w-1), min(int(b-t), h-1)
	rect := image.Rect(rx, ry, rx+rw, ry+rh)
	if rw < 1 || rh < 1 || !rect.In(image.Rect(0, 0, w, h)) {
		return image.Rectangle{}, g, fmt.Errorf("landmark crop %v outside the %d×%d photo: %w", rect, w, h, ErrSize)
	}
	return rect, g, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Points5 reduces 68 landmarks to the five ArcFace points as the JS's
// convert68pts5pts does (0-based indices): left eye = mean of 37, 38, 40,
// 41; right eye = mean of 43, 44, 46, 47; nose tip = 30; mouth corners =
// mean of 48 and 60, and of 54 and 64.
func Points5(l68 []Point) ([5]Point, error) {
	if len(l68) != 68 {
		return [5]Point{}, fmt.Errorf("points5: %d landmarks, want 68", len(l68))
	}
	mean := func(idx ...int) Point {
		var p Point
		for _, i := range idx {
			p.X += l68[i].X
			p.Y += l68[i].Y
		}
		n := float64(len(idx))
		return Point{p.X / n, p.Y / n}
	}
	return [5]Point{
		mean(37, 38, 40, 41),
		mean(43, 44, 46, 47),
		l68[30],
		mean(48, 60),
		mean(54, 64),
	}, nil
}
