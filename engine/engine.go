// Package engine loads the face models every command and the desktop app run
// (detector, landmarker, recogniser: embedded, or a recogniser ONNX of the
// user's) into an Engine, and holds what depends on the loaded models as a
// whole: the pipeline identity that caches key on, and masks drawn on the
// photo before alignment.
package engine

import (
	"context"
	"errors"
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

// Model is a loaded network as the engine runs it, whatever runs it:
// *model.Net on the CPU implements it.
type Model interface {
	face.Runner
	Name() string // the file name, for messages and reports
	Hash() string // SHA-256 of the model file, for caches
	InputShape() []int
}

// Engine is the face pipeline every command runs: detector, landmarker and
// recogniser. Build one with Load and pass it along; it holds no global
// state and is safe for concurrent use.
type Engine struct {
	*face.Pipeline
	Recogniser Model
	// Threshold decides "same person"; DefaultThreshold for the embedded
	// recogniser, and the caller's choice for any other.
	Threshold float64
}

// Options choose the models. The zero value uses the embedded ones.
type Options struct {
	// RecogniserPath replaces the embedded recogniser with any ArcFace-style
	// ONNX model taking N×3×112×112 input.
	RecogniserPath string
	// DetectFallback accepts the best face below the detector's confidence
	// threshold when none passes it (useful on face crops such as MFR2).
	DetectFallback bool
}

// ErrModelInput marks a recogniser whose input is not N×3×112×112.
var ErrModelInput = errors.New("recogniser input must be N×3×112×112")

// Load decodes the models.
func Load(opt Options) (*Engine, error) {
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
// maskgen: Engine is the landmark finder of `maskinv mask`.
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

// PipelineVersion names the numerics of our own code that embeddings depend
// on besides the model files: decoding, detection post-processing,
// alignment and the engine's kernels. Bump it with any change that moves
// the numbers, so that cached embeddings from older code are not reused.
const PipelineVersion = "pipeline/1"

// PhotoMaskVersion names how MaskPhoto finds the masked face again
// (face.Pipeline.LocateNear's rule); it enters the cache keys of masks
// drawn on the photo, in eval and in train. Bump it when that changes.
const PhotoMaskVersion = "photo-mask/2"

// PipelineID describes how the engine turns a photo into a crop, for cache
// keys: aligned input needs no detector; photos depend on the detector and
// landmarker models and on the detection fallback.
func (e *Engine) PipelineID(aligned bool) string {
	if aligned {
		return PipelineVersion + " aligned-112"
	}
	return fmt.Sprintf("%s photo det=%s lmk=%s fallback=%t", PipelineVersion,
		RunnerHash(e.Detector.Net), RunnerHash(e.Landmarker.Net), e.Detector.Config.Fallback)
}

// RunnerHash is a runner's model hash, or its type where it has none (a
// test's stand-in).
func RunnerHash(r face.Runner) string {
	if h, ok := r.(interface{ Hash() string }); ok {
		return h.Hash()
	}
	return fmt.Sprintf("%T", r)
}
