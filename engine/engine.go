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
	"io"
	"path/filepath"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/progress"
)

// DefaultThreshold is the cosine-similarity threshold of the embedded
// teacher (StudentThreshold is the student's): the mean of the ten per-fold thresholds that maximise accuracy
// on LFW View 2 (all 6000 unmasked pairs, 10-fold protocol, our pipeline;
// accuracy 99.08%). docs/evaluation.md gives the command that reproduces it.
const DefaultThreshold = 0.2797

// Model is a loaded network as the engine runs it, whatever runs it:
// *model.Net on the CPU and model.Model on any device implement it.
type Model interface {
	face.Runner
	Name() string // the file name, for messages and reports
	Hash() string // SHA-256 of the model file, for caches
	InputShape() []int
}

// Engine is the face pipeline every command runs: detector, landmarker and
// recogniser, all three on one compute device. Build one with Load and pass
// it along; it holds no global state and is safe for concurrent use. It
// owns its device: Close releases it.
type Engine struct {
	*face.Pipeline
	Recogniser Model
	// Threshold decides "same person"; DefaultThreshold for the embedded
	// recogniser, and the caller's choice for any other.
	Threshold float64

	device *model.Device // nil: the CPU engine, as for an Engine built by hand
	bound  []model.Model // the models bound to device, released by Close
}

// Options choose the models. The zero value uses the embedded ones.
type Options struct {
	// RecogniserPath replaces the embedded recogniser with any ArcFace-style
	// ONNX model taking N×3×112×112 input.
	RecogniserPath string
	// Recogniser, when RecogniserPath is empty and Recogniser is not the
	// zero Source, is the recogniser: a file or embedded bytes (Teacher,
	// Student, FileSource). Its Threshold becomes the Engine's.
	Recogniser Source
	// DetectFallback accepts the best face below the detector's confidence
	// threshold when none passes it (useful on face crops such as MFR2).
	DetectFallback bool
	// Device is where the three models run: nil is the CPU engine. The
	// command layer resolves --device and MASKINV_DEVICE into a spec; "auto"
	// never fails (without an OpenCL GPU it takes the CPU engine, and
	// Engine.Fallback says why), an explicit OpenCL device that cannot be
	// used is an error wrapping model.ErrNoDevice.
	Device *model.DeviceSpec
	// DeviceOptions tune an OpenCL device (memory limit, batch cap, GEMM
	// code); the CPU engine ignores them.
	DeviceOptions model.DeviceOptions
	// Progress, when not nil, hears the loading steps (decoding the models,
	// opening the device, which compiles its kernels, and uploading each
	// model's weights): seconds on an OpenCL device.
	Progress progress.Func
}

// ErrModelInput marks a recogniser whose input is not N×3×112×112.
var ErrModelInput = errors.New("recogniser input must be N×3×112×112")

// Load decodes the models and binds them to the chosen device.
func Load(opt Options) (*Engine, error) {
	prog := opt.Progress
	if prog == nil {
		prog = progress.Nop
	}
	const steps = 3
	prog(0, steps)
	src := opt.Recogniser
	switch {
	case opt.RecogniserPath != "":
		src = Source{Name: filepath.Base(opt.RecogniserPath), Path: opt.RecogniserPath}
	case src.Path == "" && src.Data == nil:
		src = Teacher()
	}
	nets, err := decode(src)
	if err != nil {
		return nil, err
	}
	prog(1, steps)
	e := &Engine{Threshold: src.Threshold}
	if opt.Device != nil {
		if e.device, err = model.OpenDevice(*opt.Device, opt.DeviceOptions); err != nil {
			return nil, fmt.Errorf("device %s: %w", opt.Device, err)
		}
	}
	prog(2, steps)
	var run [3]Model
	for i, n := range nets {
		if run[i], err = e.bind(n); err != nil {
			return nil, errors.Join(err, e.Close())
		}
	}
	prog(steps, steps)
	e.Pipeline = face.NewPipeline(run[0], run[1], run[2])
	e.Detector.Config.Fallback = opt.DetectFallback
	e.Recogniser = run[2]
	return e, nil
}

// decode decodes the detector, the landmarker and the recogniser.
func decode(rec Source) (nets [3]*model.Net, err error) {
	if nets[0], err = model.Decode("fr_detect.onnx (embedded)", assets.Detector()); err != nil {
		return nets, err
	}
	if nets[1], err = model.Decode("fr_landmark.onnx (embedded)", assets.Landmarker()); err != nil {
		return nets, err
	}
	nets[2], err = rec.Decode()
	return nets, err
}

// bind makes n run on the engine's device (the CPU engine runs n itself).
func (e *Engine) bind(n *model.Net) (Model, error) {
	if e.device == nil {
		return n, nil
	}
	m, err := e.device.Bind(n)
	if err != nil {
		return nil, fmt.Errorf("model %s on %s: %w", n.Name(), e.device, err)
	}
	e.bound = append(e.bound, m)
	return m, nil
}

// Device is the device the models run on. The Engine owns it: callers
// read it (String, Info, Fallback) and never close it.
func (e *Engine) Device() *model.Device {
	if e.device == nil {
		return model.CPU()
	}
	return e.device
}

// Fallback says why "auto" chose the CPU engine ("" when it did not).
func (e *Engine) Fallback() string {
	if e.device == nil {
		return ""
	}
	return e.device.Fallback()
}

// DeviceSummary is one line for logs and the desktop app: the device in
// use and, when "auto" fell back to the CPU engine, why.
func (e *Engine) DeviceSummary() string {
	s := "device: " + e.Device().Info().String()
	if r := e.Fallback(); r != "" {
		s += "; auto fell back to the CPU: " + r
	}
	return s
}

// Close releases the models' device memory and the device; the engine
// must not be used after. It is safe to call more than once, and on the
// CPU engine, which holds nothing to release.
func (e *Engine) Close() error {
	var errs []error
	for _, m := range e.bound {
		if c, ok := m.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	e.bound = nil
	if e.device != nil {
		errs = append(errs, e.device.Close())
	}
	return errors.Join(errs...)
}

// EmbeddingLen is the length of the embeddings rec makes (512 for the
// embedded recogniser), found by running it once on a blank aligned crop:
// an ONNX file's declared output shape is often symbolic or missing, and
// the run is what the recogniser will really return. It costs one model
// run (tens of milliseconds on a CPU).
func EmbeddingLen(ctx context.Context, rec face.Runner) (int, error) {
	in := face.RecogniserInput([]*image.NRGBA{image.NewNRGBA(image.Rect(0, 0, face.AlignedSize, face.AlignedSize))})
	out, err := rec.Run(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("embedding length: %w", err)
	}
	if len(out) == 0 || len(out[0].Data) == 0 {
		return 0, fmt.Errorf("embedding length: the recogniser returned no output: %w", face.ErrOutput)
	}
	return len(out[0].Data), nil
}

// EmbeddingLen is the length of the engine's embeddings (see the function
// EmbeddingLen).
func (e *Engine) EmbeddingLen(ctx context.Context) (int, error) {
	return EmbeddingLen(ctx, e.Recogniser)
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
