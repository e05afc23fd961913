package face

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"

	"github.com/maskinv/workbench/model"
)

func TestDetectorInput(t *testing.T) {
	// At exactly 320×240 the resize is a copy, so values are hand-computable.
	img := image.NewNRGBA(image.Rect(0, 0, DetectorWidth, DetectorHeight))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 255, 127, 0, 255
	}
	img.SetNRGBA(7, 5, color.NRGBA{10, 20, 30, 255})
	in := detectorInput(img)
	if want := []int{1, 3, 240, 320}; !slices.Equal(in.Shape, want) || len(in.Data) != 3*240*320 {
		t.Fatalf("shape %v (%d values), want %v", in.Shape, len(in.Data), want)
	}
	const plane = 240 * 320
	at := func(c, y, x int) float32 { return in.Data[c*plane+y*320+x] }
	// Planes are B, G, R.
	if at(0, 0, 0) != (0-127)/128.0 || at(1, 0, 0) != 0 || at(2, 0, 0) != 1 {
		t.Errorf("pixel (0,0) planes = %v %v %v, want -0.9921875 0 1", at(0, 0, 0), at(1, 0, 0), at(2, 0, 0))
	}
	if at(0, 5, 7) != (30-127)/128.0 || at(1, 5, 7) != (20-127)/128.0 || at(2, 5, 7) != (10-127)/128.0 {
		t.Errorf("pixel (7,5) planes = %v %v %v", at(0, 5, 7), at(1, 5, 7), at(2, 5, 7))
	}
}

// rawDet is a hand-made detector row: face score and box in 0..1.
type rawDet struct {
	score          float32
	x1, y1, x2, y2 float32
}

func detectorOutputs(rows []rawDet, boxesFirst bool) []model.Tensor {
	n := len(rows)
	s := model.Tensor{Shape: []int{1, n, 2}, Data: make([]float32, 2*n)}
	b := model.Tensor{Shape: []int{1, n, 4}, Data: make([]float32, 4*n)}
	for i, r := range rows {
		s.Data[2*i], s.Data[2*i+1] = 1-r.score, r.score
		copy(b.Data[4*i:], []float32{r.x1, r.y1, r.x2, r.y2})
	}
	if boxesFirst {
		return []model.Tensor{b, s}
	}
	return []model.Tensor{s, b}
}

func TestPostprocess(t *testing.T) {
	// Boxes are given in 320×240 pixels (converted to 0..1 below) and the
	// photo is 320×240, so scaling is the identity.
	px := func(score float32, x1, y1, x2, y2 float32) rawDet {
		return rawDet{score, x1 / 320, y1 / 240, x2 / 320, y2 / 240}
	}
	tests := []struct {
		name string
		rows []rawDet
		cfg  DetectorConfig
		want []Box // square boxes in order
	}{
		{"none above threshold", []rawDet{px(0.64, 10, 10, 50, 50)}, DetectorConfig{}, nil},
		{"float32 0.65 is below 0.65", []rawDet{px(0.65, 10, 10, 50, 50)}, DetectorConfig{}, nil},
		{"threshold inclusive", []rawDet{px(0.6500001, 100, 100, 140, 140)}, DetectorConfig{}, []Box{{100, 100, 140, 140}}},
		{"custom threshold", []rawDet{px(0.5, 100, 100, 140, 140)}, DetectorConfig{ScoreThreshold: 0.4}, []Box{{100, 100, 140, 140}}},
		{"overlap suppressed, best score kept", []rawDet{
			px(0.80, 100, 100, 140, 140),
			px(0.95, 104, 102, 144, 142),
		}, DetectorConfig{}, []Box{{104, 102, 144, 142}}},
		{"disjoint both kept, score order", []rawDet{
			px(0.70, 10, 10, 50, 50),
			px(0.90, 200, 100, 260, 160),
		}, DetectorConfig{}, []Box{{200, 100, 260, 160}, {10, 10, 50, 50}}},
		// Overlap is measured on the suppressed box's own area: a small box
		// inside a big one goes even though their IoU is tiny.
		{"small box inside big one", []rawDet{
			px(0.99, 50, 50, 200, 200),
			px(0.90, 100, 100, 120, 120),
		}, DetectorConfig{}, []Box{{50, 50, 200, 200}}},
		// ...but a big box around a kept small one stays (overlap 21²/100² < 0.4).
		{"big box around small one", []rawDet{
			px(0.99, 100, 100, 120, 120),
			px(0.90, 50, 50, 150, 150),
		}, DetectorConfig{}, []Box{{100, 100, 120, 120}, {50, 50, 150, 150}}},
		{"+1 pixel convention", []rawDet{ // intersection (9+1)·(40+1)/(30·40) = 0.34 < 0.4
			px(0.9, 100, 100, 130, 140),
			px(0.8, 121, 100, 151, 140),
		}, DetectorConfig{}, []Box{{95, 100, 135, 140}, {116, 100, 156, 140}}},
		{"+1 pixel tips it", []rawDet{ // (11+1)·(40+1)/(30·40) = 0.41 ≥ 0.4; without +1, 0.37
			px(0.9, 100, 100, 130, 140),
			px(0.8, 119, 100, 149, 140),
		}, DetectorConfig{}, []Box{{95, 100, 135, 140}}},
		{"custom NMS threshold", []rawDet{
			px(0.9, 100, 100, 130, 140),
			px(0.8, 119, 100, 149, 140),
		}, DetectorConfig{NMSThreshold: 0.5}, []Box{{95, 100, 135, 140}, {114, 100, 154, 140}}},
		{"empty box dropped", []rawDet{px(0.9, 50, 50, 50, 90)}, DetectorConfig{}, nil},
		{"square from height, clipped", []rawDet{px(0.9, 0, 20, 20, 100)}, DetectorConfig{}, []Box{{0, 20, 50, 100}}},
		{"clipped at w-1, h-1", []rawDet{px(0.9, 300, 200, 320, 240)}, DetectorConfig{}, []Box{{290, 200, 319, 239}}},
		{"top-k", []rawDet{
			px(0.7, 10, 10, 50, 50),
			px(0.9, 200, 100, 260, 160),
		}, DetectorConfig{TopK: 1}, []Box{{200, 100, 260, 160}}},
		{"fallback", []rawDet{px(0.13, 100, 100, 140, 140), px(0.05, 10, 10, 30, 30)}, DetectorConfig{Fallback: true}, []Box{{100, 100, 140, 140}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, boxesFirst := range []bool{false, true} {
				scores, boxes, err := splitDetectorOutputs(detectorOutputs(tc.rows, boxesFirst))
				if err != nil {
					t.Fatal(err)
				}
				got := postprocess(scores, boxes, tc.cfg.withDefaults(), 320, 240)
				if len(got) != len(tc.want) {
					t.Fatalf("got %d faces %v, want %v", len(got), got, tc.want)
				}
				for i := range got {
					if !boxClose(got[i].Box, tc.want[i], 1e-3) {
						t.Errorf("face %d: %v, want %v", i, got[i].Box, tc.want[i])
					}
					if got[i].Fallback != tc.cfg.Fallback {
						t.Errorf("face %d: Fallback = %v", i, got[i].Fallback)
					}
				}
			}
		})
	}
}

func boxClose(a, b Box, tol float64) bool {
	return math.Abs(a.X1-b.X1) <= tol && math.Abs(a.Y1-b.Y1) <= tol && math.Abs(a.X2-b.X2) <= tol && math.Abs(a.Y2-b.Y2) <= tol
}

// TestSquareBoxScaling: boxes are scaled by width/320 and height/240
// (stretched, not letterboxed) before the square rule.
func TestSquareBoxScaling(t *testing.T) {
	// A 0.25..0.5 × 0.25..0.75 box on a 500×300 photo: x 125..250, y 75..225,
	// height 150 → square 112.5..262.5 around x centre 187.5.
	got := squareBox(toCandidate([]float32{0.25, 0.25, 0.5, 0.75}, 1), 500, 300)
	if want := (Box{112.5, 75, 262.5, 225}); !boxClose(got, want, 1e-4) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSplitDetectorOutputsErrors(t *testing.T) {
	good := detectorOutputs([]rawDet{{0.9, 0, 0, 1, 1}}, false)
	tests := []struct {
		name string
		outs []model.Tensor
	}{
		{"none", nil},
		{"scores only", good[:1]},
		{"count mismatch", []model.Tensor{good[0], {Shape: []int{1, 2, 4}, Data: make([]float32, 8)}}},
		{"inconsistent tensor", []model.Tensor{good[0], {Shape: []int{1, 1, 4}, Data: make([]float32, 3)}}},
	}
	for _, tc := range tests {
		if _, _, err := splitDetectorOutputs(tc.outs); !errors.Is(err, ErrOutput) {
			t.Errorf("%s: err = %v, want ErrOutput", tc.name, err)
		}
	}
}

func TestDetectRunsModel(t *testing.T) {
	net := &fakeNet{fn: func(in model.Tensor) ([]model.Tensor, error) {
		return detectorOutputs([]rawDet{{0.9, 0.25, 0.25, 0.5, 0.75}}, true), nil
	}}
	d := Detector{Net: net}
	faces, err := d.Detect(context.Background(), picture(500, 300))
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 || !boxClose(faces[0].Box, Box{112.5, 75, 262.5, 225}, 1e-4) {
		t.Errorf("faces %v", faces)
	}
	if len(net.calls) != 1 || !slices.Equal(net.calls[0].Shape, []int{1, 3, 240, 320}) {
		t.Errorf("model called with %d inputs", len(net.calls))
	}
	boom := errors.New("boom")
	d.Net = &fakeNet{fn: func(model.Tensor) ([]model.Tensor, error) { return nil, boom }}
	if _, err := d.Detect(context.Background(), picture(50, 50)); !errors.Is(err, boom) {
		t.Errorf("runner error lost: %v", err)
	}
}

func TestChooseFace(t *testing.T) {
	det := func(x1, y1, side float64) Detection {
		return Detection{Box: Box{x1, y1, x1 + side, y1 + side}, Score: 0.9}
	}
	tests := []struct {
		name     string
		faces    []Detection
		want     int
		eligible int
		text     string
	}{
		{"one", []Detection{det(10, 10, 40)}, 0, 1, "1 face"},
		{"centre wins", []Detection{det(0, 0, 100), det(75, 75, 100)}, 1, 2, "face 2 of 2 (nearest the centre of 2 large faces)"},
		{"small centred face loses", []Detection{det(0, 0, 100), det(115, 115, 20)}, 0, 1, "face 1 of 2 (the only large face)"},
		{"exactly half as tall counts", []Detection{det(0, 0, 100), det(100, 100, 50)}, 1, 2, "face 2 of 2 (nearest the centre of 2 large faces)"},
		{"tie keeps higher score", []Detection{det(50, 100, 50), det(150, 100, 50)}, 0, 2, "face 1 of 2 (nearest the centre of 2 large faces)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := ChooseFace(tc.faces, 250, 250)
			if !ok || c.Index != tc.want || c.Eligible != tc.eligible || c.String() != tc.text {
				t.Errorf("got %+v %q, want index %d eligible %d %q", c, c, tc.want, tc.eligible, tc.text)
			}
		})
	}
	if _, ok := ChooseFace(nil, 10, 10); ok {
		t.Error("choice among no faces")
	}
	fb := Choice{Faces: []Detection{{Score: 0.13, Fallback: true}}}
	if got := fb.String(); got != "1 face, below threshold (score 0.13)" {
		t.Errorf("fallback text %q", got)
	}
}

func benchmarkDetectorInput(b *testing.B, w, h int) {
	src := picture(w, h)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		detectorInput(src)
	}
}

func BenchmarkDetectorInputLFW(b *testing.B)   { benchmarkDetectorInput(b, 250, 250) }
func BenchmarkDetectorInputPhoto(b *testing.B) { benchmarkDetectorInput(b, 1600, 1200) }
