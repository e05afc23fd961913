package face

import (
	"context"
	"errors"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/maskinv/workbench/model"
)

// fakeDetector answers each call with the next entry of replies (rows of
// hand-made detections); past the end it finds nothing.
func fakeDetector(replies ...[]rawDet) *fakeNet {
	n := 0
	return &fakeNet{fn: func(model.Tensor) ([]model.Tensor, error) {
		var rows []rawDet
		if n < len(replies) {
			rows = replies[n]
		}
		n++
		if len(rows) == 0 {
			rows = []rawDet{{0.01, 0.4, 0.4, 0.6, 0.6}} // a non-face
		}
		return detectorOutputs(rows, false), nil
	}}
}

// fakeLandmarks answers with a face whose five key points sit where the
// ArcFace template puts them, in crop units (0..1 of a 112 square).
func fakeLandmarks() *fakeNet {
	tmpl := ArcFaceTemplate()
	out := make([]float32, 136)
	for i := range out {
		out[i] = 0.5
	}
	set := func(p Point, idx ...int) {
		for _, i := range idx {
			out[2*i], out[2*i+1] = float32(p.X/112), float32(p.Y/112)
		}
	}
	set(tmpl[0], 37, 38, 40, 41)
	set(tmpl[1], 43, 44, 46, 47)
	set(tmpl[2], 30)
	set(tmpl[3], 48, 60)
	set(tmpl[4], 54, 64)
	return &fakeNet{fn: func(in model.Tensor) ([]model.Tensor, error) {
		return []model.Tensor{{Shape: []int{1, 136}, Data: append([]float32(nil), out...)}}, nil
	}}
}

func newFakePipeline(det *fakeNet) (*Pipeline, *fakeNet) {
	feat := echoFeature(true)
	return NewPipeline(det, fakeLandmarks(), feat), feat
}

func TestProcessOneFace(t *testing.T) {
	// Photo 250×250; the model box 0.3..0.7 × 0.25..0.75 → x 75..175,
	// y 62.5..187.5 → square side 125 about x 125: 62.5..187.5.
	p, _ := newFakePipeline(fakeDetector([]rawDet{{0.99, 0.3, 0.25, 0.7, 0.75}}))
	res, err := p.Process(context.Background(), picture(250, 250))
	if err != nil {
		t.Fatal(err)
	}
	if want := [4]float64{62.5, 62.5, 125, 125}; !near4(res.Box, want, 1e-3) {
		t.Errorf("box %v, want %v", res.Box, want)
	}
	if res.Score != 0.99 || len(res.Landmarks68) != 68 || res.Choice.String() != "1 face" {
		t.Errorf("score %v, %d landmarks, choice %q", res.Score, len(res.Landmarks68), res.Choice)
	}
	// Landmarks are truncated; the left eye is at 62 + 38.2946/112·125.
	if want := math.Trunc(62 + 38.2946/112*125); res.Landmarks5[0].X != want {
		t.Errorf("left eye x %v, want %v", res.Landmarks5[0].X, want)
	}
	// The transform brings the five points onto the template (to within
	// the truncation of the landmarks).
	tmpl := ArcFaceTemplate()
	for i, p := range res.Landmarks5 {
		q := res.Transform.Apply(p)
		if math.Hypot(q.X-tmpl[i].X, q.Y-tmpl[i].Y) > 1.5 {
			t.Errorf("point %d maps to %v, template %v", i, q, tmpl[i])
		}
	}
	if res.Aligned.Rect != image.Rect(0, 0, 112, 112) {
		t.Errorf("aligned %v", res.Aligned.Rect)
	}
	if len(res.Embedding) != 4 || math.Abs(Cosine(res.Embedding, res.Embedding)-1) > 1e-6 {
		t.Errorf("embedding %v", res.Embedding)
	}
}

func near4(a, b [4]float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

func TestProcessSeveralFaces(t *testing.T) {
	// Three faces: a big one off-centre (highest score), a big one in the
	// centre, and a small one exactly in the centre.
	p, _ := newFakePipeline(fakeDetector([]rawDet{
		{0.99, 0.0, 0.0, 0.3, 0.4},
		{0.90, 0.35, 0.3, 0.65, 0.7},
		{0.95, 0.47, 0.47, 0.53, 0.53},
	}))
	res, err := p.Process(context.Background(), picture(250, 250))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Choice
	if len(c.Faces) != 3 || c.Faces[c.Index].Score != 0.90 || c.Eligible != 2 {
		t.Fatalf("choice %+v", c)
	}
	if got := c.String(); got != "face 3 of 3 (nearest the centre of 2 large faces)" {
		t.Errorf("choice text %q", got)
	}
	if res.Score != 0.90 {
		t.Errorf("result is for the face with score %v", res.Score)
	}
}

func TestProcessNoFace(t *testing.T) {
	p, feat := newFakePipeline(fakeDetector())
	_, err := p.Process(context.Background(), picture(250, 250))
	if !errors.Is(err, ErrNoFace) {
		t.Fatalf("err = %v, want ErrNoFace", err)
	}
	if len(feat.calls) != 0 {
		t.Error("recogniser ran without a face")
	}
	// With Fallback the best box is used, and the choice says so.
	p.Detector.Config.Fallback = true
	res, err := p.Process(context.Background(), picture(250, 250))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Choice.String(), "below threshold") {
		t.Errorf("fallback choice %q", res.Choice)
	}
}

func TestProcessBatchGoesOn(t *testing.T) {
	face := []rawDet{{0.99, 0.3, 0.25, 0.7, 0.75}}
	p, feat := newFakePipeline(fakeDetector(face, nil, face))
	imgs := []image.Image{picture(250, 250), picture(250, 250), picture(200, 160)}
	res, errs := p.ProcessBatch(context.Background(), imgs, false)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], ErrNoFace) {
		t.Fatalf("errors %v", errs)
	}
	if res[0].Embedding == nil || res[2].Embedding == nil || res[1].Embedding != nil {
		t.Error("embeddings missing or invented")
	}
	if len(feat.calls) != 1 || feat.calls[0].Shape[0] != 2 {
		t.Errorf("recogniser calls %d, want one batch of 2", len(feat.calls))
	}
}

func TestProcessAligned(t *testing.T) {
	p, _ := newFakePipeline(fakeDetector())
	crop := picture(112, 112)
	res, err := p.ProcessAligned(context.Background(), crop)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Choice.Aligned || res.Choice.String() != "aligned input (no detection)" || res.Embedding == nil || res.Landmarks68 != nil {
		t.Errorf("aligned result %+v", res.Choice)
	}
	_, err = p.ProcessAligned(context.Background(), picture(250, 250))
	if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), "250×250") {
		t.Errorf("250×250 in aligned mode: %v", err)
	}
	_, errs := p.ProcessBatch(context.Background(), []image.Image{crop, picture(100, 112), crop}, true)
	if errs[0] != nil || !errors.Is(errs[1], ErrSize) || errs[2] != nil {
		t.Errorf("aligned batch errors %v", errs)
	}
}

func TestProcessWithoutEmbedder(t *testing.T) {
	p := NewPipeline(fakeDetector([]rawDet{{0.99, 0.3, 0.25, 0.7, 0.75}}), fakeLandmarks(), nil)
	res, err := p.Process(context.Background(), picture(250, 250))
	if err != nil || res.Embedding != nil || res.Aligned == nil {
		t.Errorf("locate-only: %v, embedding %v", err, res.Embedding)
	}
}

func TestProcessCancelled(t *testing.T) {
	p, _ := newFakePipeline(fakeDetector([]rawDet{{0.99, 0.3, 0.25, 0.7, 0.75}}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Process(ctx, picture(250, 250)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	_, errs := p.ProcessBatch(ctx, []image.Image{picture(50, 50)}, false)
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("batch err = %v", errs[0])
	}
}

// TestLocateNear takes the detection overlapping the given box, not the
// one Locate would choose, accepts it below the score threshold (masked
// faces score low), and fails when nothing overlaps the box.
func TestLocateNear(t *testing.T) {
	ctx := context.Background()
	rows := []rawDet{{0.99, 0.0, 0.0, 0.3, 0.4}, {0.90, 0.35, 0.3, 0.65, 0.7}}
	low := []rawDet{{0.2, 0.0, 0.0, 0.3, 0.4}}
	shrunk := []rawDet{{0.3, 0.05, 0.1, 0.15, 0.2}} // only part of the face, inside its box
	p, _ := newFakePipeline(fakeDetector(rows, rows, rows, low, shrunk))
	img := picture(250, 250)
	faces, err := p.Detector.Detect(ctx, img)
	if err != nil || len(faces) != 2 {
		t.Fatalf("%d faces, %v", len(faces), err)
	}
	r, err := p.LocateNear(ctx, img, faces[0].Box)
	if err != nil || r.Score != 0.99 || r.Choice.Index != 0 || r.Aligned == nil {
		t.Fatalf("near the off-centre face: score %v, choice %+v, %v", r.Score, r.Choice, err)
	}
	if _, err := p.LocateNear(ctx, img, Box{X1: 200, Y1: 200, X2: 240, Y2: 240}); !errors.Is(err, ErrNoFace) {
		t.Errorf("a box overlapping no face: %v, want ErrNoFace", err)
	}
	r, err = p.LocateNear(ctx, img, faces[0].Box)
	if err != nil || r.Score != 0.2 || !r.Choice.Faces[r.Choice.Index].Fallback {
		t.Errorf("below the threshold: score %v, %v", r.Score, err)
	}
	r, err = p.LocateNear(ctx, img, faces[0].Box)
	if err != nil || r.Score != 0.3 {
		t.Errorf("a detection shrunk to part of the face: score %v, %v", r.Score, err)
	}
	if p.Detector.Config.Fallback {
		t.Error("LocateNear changed the pipeline's detector settings")
	}
}
