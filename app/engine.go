package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
)

// DefaultThreshold is the cosine-similarity threshold of the embedded
// recogniser: the mean of the ten per-fold thresholds that maximise accuracy
// on LFW View 2 (all 6000 unmasked pairs, 10-fold protocol, our pipeline;
// accuracy 99.08%). docs/evaluation.md gives the command that reproduces it.
const DefaultThreshold = 0.2797

// Engine is the face pipeline every command runs: detector, landmarker and
// recogniser. Build one with LoadEngine and pass it along; it holds no
// global state and is safe for concurrent use.
type Engine struct {
	*face.Pipeline
	Recogniser *model.Net
	// Threshold decides "same person"; DefaultThreshold for the embedded
	// recogniser, and the caller's choice for any other.
	Threshold float64
}

// EngineOptions choose the models. The zero value uses the embedded ones.
type EngineOptions struct {
	// RecogniserPath replaces the embedded recogniser with any ArcFace-style
	// ONNX model taking N×3×112×112 input.
	RecogniserPath string
	// DetectFallback accepts the best face below the detector's confidence
	// threshold when none passes it (useful on face crops such as MFR2).
	DetectFallback bool
}

// ErrModelInput marks a recogniser whose input is not N×3×112×112.
var ErrModelInput = errors.New("recogniser input must be N×3×112×112")

// LoadEngine decodes the models.
func LoadEngine(opt EngineOptions) (*Engine, error) {
	det, err := model.Decode("fr_detect.onnx (embedded)", assets.Detector())
	if err != nil {
		return nil, err
	}
	lmk, err := model.Decode("fr_landmark.onnx (embedded)", assets.Landmarker())
	if err != nil {
		return nil, err
	}
	threshold := DefaultThreshold
	var rec *model.Net
	if opt.RecogniserPath == "" {
		rec, err = model.Decode("fr_feature.onnx (embedded)", assets.Recognizer())
	} else {
		rec, err = model.Load(opt.RecogniserPath)
		threshold = 0 // unknown for a foreign model: callers must choose
	}
	if err != nil {
		return nil, err
	}
	if s := rec.InputShape(); len(s) != 4 || s[1] != 3 || s[2] != 112 || s[3] != 112 {
		return nil, fmt.Errorf("model %s: input shape %v: %w", rec.Name(), s, ErrModelInput)
	}
	p := face.NewPipeline(det, lmk, rec)
	p.Detector.Config.Fallback = opt.DetectFallback
	return &Engine{Pipeline: p, Recogniser: rec, Threshold: threshold}, nil
}

// Find locates the face of a raw photo and returns its landmarks for
// maskgen: Engine is the LandmarkFinder of `maskinv mask`.
func (e *Engine) Find(img image.Image) (maskgen.Face, error) {
	r, err := e.Locate(context.Background(), img)
	if err != nil {
		return maskgen.Face{}, err
	}
	return maskFace(r)
}

// maskFace is the located face as maskgen places masks on a photo: by its
// 68 landmarks.
func maskFace(r face.Result) (maskgen.Face, error) {
	pts := make([]maskgen.Point, len(r.Landmarks68))
	for i, p := range r.Landmarks68 {
		pts[i] = maskgen.Point{X: p.X, Y: p.Y}
	}
	return maskgen.FaceFrom68(pts)
}

// NearLocator finds a face in a photo near where it is known to be
// (face.Pipeline.LocateNear; Engine has it).
type NearLocator interface {
	LocateNear(ctx context.Context, img image.Image, box face.Box) (face.Result, error)
}

// MaskPhoto draws a mask on the face that Locate found in photo (its 68
// landmarks place the mask), then finds and aligns that face again in the
// masked photo. This is how a photo of someone wearing a mask is aligned:
// the landmark model misplaces the mouth and jaw under the mask, so the
// crop shifts and zooms compared with the unmasked one, which a mask drawn
// on the aligned crop never shows.
func MaskPhoto(ctx context.Context, eng NearLocator, photo image.Image, located face.Result, mask maskgen.Config, key string) (face.Result, error) {
	if len(located.Landmarks68) == 0 || len(located.Choice.Faces) == 0 {
		return face.Result{}, fmt.Errorf("mask on the photo: %w", maskgen.ErrLandmarks)
	}
	f, err := maskFace(located)
	if err != nil {
		return face.Result{}, err
	}
	m, err := mask.Apply(photo, f, key)
	if err != nil {
		return face.Result{}, err
	}
	r, err := eng.LocateNear(ctx, m.Image, located.Choice.Faces[located.Choice.Index].Box)
	if err != nil {
		return face.Result{}, fmt.Errorf("masked photo: %w", err)
	}
	return r, nil
}

// engineFlags are the flags every command that runs the face engine shares.
type engineFlags struct {
	aligned *bool
	model   *string
}

func addEngineFlags(fs *flag.FlagSet) engineFlags {
	return engineFlags{
		aligned: fs.Bool("aligned", false, "inputs are 112×112 crops already aligned to the ArcFace template"),
		model:   fs.String("model", "", "recogniser ONNX (N×3×112×112 input); default: the embedded one"),
	}
}
