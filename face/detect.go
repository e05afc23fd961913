package face

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/maskinv/workbench/model"
)

// The detector's fixed input size; photos are stretched to it, not
// letterboxed (the JS calls cv.resize straight to 320×240).
const (
	DetectorWidth  = 320
	DetectorHeight = 240
)

// Defaults from onnx_config in fr_detect.js.
const (
	DefaultScoreThreshold = 0.65
	DefaultNMSThreshold   = 0.4
	DefaultTopK           = 750
)

// DetectorConfig tunes post-processing. Zero fields take the JS's values.
type DetectorConfig struct {
	// ScoreThreshold keeps boxes whose face score is ≥ it (0 → 0.65). The
	// comparison is in float64, as in the JS (float32 0.65 does not pass).
	ScoreThreshold float64
	// NMSThreshold suppresses a box when its intersection with a kept box
	// covers at least this fraction of its own area (0 → 0.4). Note this is
	// the JS's overlap measure, not IoU.
	NMSThreshold float64
	// TopK caps the boxes entering NMS (0 → 750).
	TopK int
	// Fallback: when no box reaches ScoreThreshold, return the single
	// best-scoring box (marked Fallback) instead of nothing. The golden
	// reference did this for one masked MFR2 face (StevenReed_0002, best
	// score 0.13); masks lower the detector's confidence.
	Fallback bool
}

func (c DetectorConfig) withDefaults() DetectorConfig {
	c.ScoreThreshold = cmp.Or(c.ScoreThreshold, DefaultScoreThreshold)
	c.NMSThreshold = cmp.Or(c.NMSThreshold, DefaultNMSThreshold)
	c.TopK = cmp.Or(c.TopK, DefaultTopK)
	return c
}

// Detection is one face found by the detector.
type Detection struct {
	// Box is square (side = the model box's height) around the model box's
	// centre, clipped to [0, width−1]×[0, height−1]: the JS's scaleResult rule.
	Box   Box
	Score float32
	// Fallback marks a box below the score threshold, returned because
	// DetectorConfig.Fallback is set and no box reached the threshold.
	Fallback bool
}

// Detector finds faces with fr_detect.onnx.
type Detector struct {
	Net    Runner
	Config DetectorConfig
}

// Detect returns the faces in img after thresholding, NMS and the square-box
// rule, highest score first. No face is not an error here: the result is
// empty (Pipeline turns that into ErrNoFace).
func (d *Detector) Detect(ctx context.Context, img image.Image) ([]Detection, error) {
	src := asNRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("detect: empty %d×%d image: %w", w, h, ErrSize)
	}
	outs, err := d.Net.Run(ctx, detectorInput(src))
	if err != nil {
		return nil, fmt.Errorf("detect: run model: %w", err)
	}
	scores, boxes, err := splitDetectorOutputs(outs)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return postprocess(scores, boxes, d.Config.withDefaults(), w, h), nil
}

// detectorInput stretches the photo to 320×240 (OpenCV bilinear) and lays it
// out as 1×3×240×320 planes B, G, R with values (p−127)/128. The planes are
// B,G,R because the JS converts its RGBA canvas with COLOR_BGR2RGB, which
// swaps the first and third channels.
func detectorInput(src *image.NRGBA) model.Tensor {
	small := resizeLinear(src, src.Rect, DetectorWidth, DetectorHeight)
	const plane = DetectorWidth * DetectorHeight
	t := model.Tensor{Shape: []int{1, 3, DetectorHeight, DetectorWidth}, Data: make([]float32, 3*plane)}
	for i := 0; i < plane; i++ {
		p := small.Pix[4*i : 4*i+3]
		t.Data[i] = (float32(p[2]) - 127) / 128
		t.Data[plane+i] = (float32(p[1]) - 127) / 128
		t.Data[2*plane+i] = (float32(p[0]) - 127) / 128
	}
	return t
}

// splitDetectorOutputs finds scores (…×N×2) and boxes (…×N×4) by their last
// dimension, so the order in which an engine returns them does not matter.
func splitDetectorOutputs(outs []model.Tensor) (scores, boxes []float32, err error) {
	var nS, nB int
	for _, o := range outs {
		if len(o.Shape) == 0 || o.Len() != len(o.Data) {
			continue
		}
		switch o.Shape[len(o.Shape)-1] {
		case 2:
			scores, nS = o.Data, len(o.Data)/2
		case 4:
			boxes, nB = o.Data, len(o.Data)/4
		}
	}
	if scores == nil || boxes == nil || nS != nB {
		shapes := make([][]int, len(outs))
		for i, o := range outs {
			shapes[i] = o.Shape
		}
		return nil, nil, fmt.Errorf("want scores N×2 and boxes N×4, got shapes %v: %w", shapes, ErrOutput)
	}
	return scores, boxes, nil
}

// candidate is a box in detector-input pixels (320×240) with its score.
type candidate struct {
	x1, y1, x2, y2 float64
	score          float32
}

// postprocess follows fr_detect.js: face score = column 1; keep scores ≥
// threshold; boxes (x1,y1,x2,y2 in 0..1) scaled to 320×240 in float32; sort
// by score, keep TopK; NMS; scale to the photo and square (scaleResult).
func postprocess(scores, boxes []float32, cfg DetectorConfig, w, h int) []Detection {
	n := len(scores) / 2
	var cands []candidate
	best := -1
	for i := 0; i < n; i++ {
		s := scores[2*i+1]
		if best < 0 || s > scores[2*best+1] {
			best = i
		}
		if float64(s) >= cfg.ScoreThreshold {
			cands = append(cands, toCandidate(boxes[4*i:4*i+4], s))
		}
	}
	fallback := false
	if len(cands) == 0 {
		if !cfg.Fallback || best < 0 {
			return nil
		}
		cands = []candidate{toCandidate(boxes[4*best:4*best+4], scores[2*best+1])}
		fallback = true
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	if len(cands) > cfg.TopK {
		cands = cands[:cfg.TopK]
	}
	kept := nms(cands, cfg.NMSThreshold)
	dets := make([]Detection, len(kept))
	for i, c := range kept {
		dets[i] = Detection{Box: squareBox(c, w, h), Score: c.score, Fallback: fallback}
	}
	return dets
}

func toCandidate(b []float32, s float32) candidate {
	// The JS multiplies into a Float32Array, so the products are float32.
	return candidate{
		float64(b[0] * DetectorWidth), float64(b[1] * DetectorHeight),
		float64(b[2] * DetectorWidth), float64(b[3] * DetectorHeight), s,
	}
}

// nms is the JS's cpuNMS (Malisiewicz style) on boxes in score order: drop
// boxes without positive width and height, then repeatedly keep the first
// box and suppress every other box whose intersection with it, measured
// with the "+1 pixel" convention, covers ≥ thresh of that box's own area.
// The JS sorts by y2 first, keeping the top-most box of each cluster; we
// keep score order, as the golden reference did (see the package comment).
func nms(cands []candidate, thresh float64) []candidate {
	live := make([]candidate, 0, len(cands))
	for _, c := range cands {
		if c.x2-c.x1 > 0 && c.y2-c.y1 > 0 {
			live = append(live, c)
		}
	}
	var kept []candidate
	for len(live) > 0 {
		top := live[0]
		kept = append(kept, top)
		rest := live[:0]
		for _, b := range live[1:] {
			iw := math.Max(0, math.Min(b.x2, top.x2)-math.Max(b.x1, top.x1)+1)
			ih := math.Max(0, math.Min(b.y2, top.y2)-math.Max(b.y1, top.y1)+1)
			if iw*ih/((b.x2-b.x1)*(b.y2-b.y1)) < thresh {
				rest = append(rest, b)
			}
		}
		live = rest
	}
	return kept
}

// squareBox is the JS's scaleResult: scale from 320×240 to the photo, make
// a square of side = box height about the box centre, clip to
// [0, w−1]×[0, h−1]. The JS stores the result in a Float32Array; rounding
// to float32 here keeps the later integer truncations identical.
func squareBox(c candidate, w, h int) Box {
	sx, sy := float64(w)/DetectorWidth, float64(h)/DetectorHeight
	x1, y1, x2, y2 := c.x1*sx, c.y1*sy, c.x2*sx, c.y2*sy
	side := y2 - y1
	cx, cy := (x1+x2)/2, (y1+y2)/2
	f32 := func(v float64) float64 { return float64(float32(v)) }
	return Box{
		X1: f32(math.Max(0, cx-side/2)),
		Y1: f32(math.Max(0, cy-side/2)),
		X2: f32(math.Min(float64(w-1), cx+side/2)),
		Y2: f32(math.Min(float64(h-1), cy+side/2)),
	}
}
