package face

import (
	"context"
	"fmt"
	"image"
)

// Result is everything the pipeline computed for one photo. Coordinates
// are photo pixels relative to its top-left corner.
type Result struct {
	Box         [4]float64 // x, y, w, h of the chosen face's square box
	Score       float32    // detector score of that face
	Landmarks68 []Point    // 68 landmarks (nil in aligned mode)
	Landmarks5  [5]Point   // eyes, nose tip, mouth corners
	Transform   Affine     // photo → aligned crop
	Aligned     *image.NRGBA
	Embedding   []float32 // unit length; nil if the pipeline has no embedder
	Choice      Choice
}

// Pipeline chains detection, landmarks, alignment and embedding. An
// Embedder without Net skips the embedding (Result.Embedding stays nil).
// Its methods keep no state, so a Pipeline may be used from several
// goroutines when its Runners allow it.
type Pipeline struct {
	Detector   Detector
	Landmarker Landmarker
	Embedder   Embedder
}

// NewPipeline builds a pipeline with default settings from the three models:
// fr_detect, fr_landmark and fr_feature.
func NewPipeline(detect, landmark, feature Runner) *Pipeline {
	return &Pipeline{
		Detector:   Detector{Net: detect},
		Landmarker: Landmarker{Net: landmark},
		Embedder:   Embedder{Net: feature},
	}
}

// Process runs the whole pipeline on one photo. A photo without a face gives
// an error wrapping ErrNoFace.
func (p *Pipeline) Process(ctx context.Context, img image.Image) (Result, error) {
	res, err := p.Locate(ctx, img)
	if err != nil {
		return res, err
	}
	return res, p.embedInto(ctx, []*Result{&res})
}

// Locate is Process without the embedding: detection, choice, landmarks
// and the aligned crop.
func (p *Pipeline) Locate(ctx context.Context, img image.Image) (Result, error) {
	src := asNRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	faces, err := p.Detector.Detect(ctx, src)
	if err != nil {
		return Result{}, err
	}
	choice, ok := ChooseFace(faces, w, h)
	if !ok {
		return Result{}, fmt.Errorf("detect: %w in %d×%d photo (no score ≥ %.2f)",
			ErrNoFace, w, h, p.Detector.Config.withDefaults().ScoreThreshold)
	}
	return p.locateChoice(ctx, src, choice)
}

// LocateNear is Locate for a photo whose subject is known to be near box
// (e.g. the same photo before a mask was drawn on it): of the detections
// that share at least half of the smaller box's area with box, it takes
// the one that overlaps box most (intersection over union), accepting one
// below the detector's score threshold when none reaches it, since a
// masked face often scores low. The smaller-box rule keeps a detection
// that shrank to the visible upper face, which IoU alone would reject.
// No such detection is an error wrapping ErrNoFace.
func (p *Pipeline) LocateNear(ctx context.Context, img image.Image, box Box) (Result, error) {
	src := asNRGBA(img)
	det := p.Detector
	det.Config.Fallback = true
	faces, err := det.Detect(ctx, src)
	if err != nil {
		return Result{}, err
	}
	best, bestIoU := -1, 0.0
	for i, f := range faces {
		if f.Box.Overlap(box) < 0.5 {
			continue
		}
		if v := f.Box.IoU(box); best < 0 || v > bestIoU {
			best, bestIoU = i, v
		}
	}
	if best < 0 {
		return Result{}, fmt.Errorf("detect: %w overlapping the box %.0f,%.0f–%.0f,%.0f (%d faces elsewhere)",
			ErrNoFace, box.X1, box.Y1, box.X2, box.Y2, len(faces))
	}
	return p.locateChoice(ctx, src, Choice{Index: best, Faces: faces, Eligible: 1})
}

// locateChoice finds the landmarks of the chosen face and aligns it.
func (p *Pipeline) locateChoice(ctx context.Context, src *image.NRGBA, choice Choice) (Result, error) {
	face := choice.Faces[choice.Index]
	l68, err := p.Landmarker.Landmarks(ctx, src, face.Box)
	if err != nil {
		return Result{}, err
	}
	l5, err := Points5(l68)
	if err != nil {
		return Result{}, err
	}
	crop, m, err := Align(src, l5)
	if err != nil {
		return Result{}, err
	}
	return Result{
		Box:         face.Box.XYWH(),
		Score:       face.Score,
		Landmarks68: l68,
		Landmarks5:  l5,
		Transform:   m,
		Aligned:     crop,
		Choice:      choice,
	}, nil
}

// ProcessAligned treats img as an already aligned 112×112 crop: no
// detection or landmarks, only the embedding. Other sizes are an error
// wrapping ErrSize. Result.Aligned is img itself when img is an
// *image.NRGBA with origin (0,0).
func (p *Pipeline) ProcessAligned(ctx context.Context, img image.Image) (Result, error) {
	res, err := alignedResult(img)
	if err != nil {
		return res, err
	}
	return res, p.embedInto(ctx, []*Result{&res})
}

func alignedResult(img image.Image) (Result, error) {
	b := img.Bounds()
	if b.Dx() != AlignedSize || b.Dy() != AlignedSize {
		return Result{}, fmt.Errorf("aligned mode: image is %d×%d, want %d×%d: %w",
			b.Dx(), b.Dy(), AlignedSize, AlignedSize, ErrSize)
	}
	return Result{
		Box:        [4]float64{0, 0, AlignedSize, AlignedSize},
		Landmarks5: ArcFaceTemplate(),
		Transform:  Affine{1, 0, 0, 0, 1, 0},
		Aligned:    asNRGBA(img),
		Choice:     Choice{Aligned: true},
	}, nil
}

// ProcessBatch processes imgs (photos, or aligned crops when aligned is
// true) and embeds the crops in batches. errs[i] is the error for imgs[i]
// (e.g. ErrNoFace); the other images go on. Cancelling ctx fails the rest.
func (p *Pipeline) ProcessBatch(ctx context.Context, imgs []image.Image, aligned bool) (results []Result, errs []error) {
	results = make([]Result, len(imgs))
	errs = make([]error, len(imgs))
	var ok []*Result
	var idx []int
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if aligned {
			results[i], errs[i] = alignedResult(img)
		} else {
			results[i], errs[i] = p.Locate(ctx, img)
		}
		if errs[i] == nil {
			ok = append(ok, &results[i])
			idx = append(idx, i)
		}
	}
	if err := p.embedInto(ctx, ok); err != nil {
		for _, i := range idx {
			errs[i] = err
		}
	}
	return results, errs
}

// Embed returns unit-length embeddings of aligned 112×112 crops.
func (p *Pipeline) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	return p.Embedder.Embed(ctx, crops)
}

func (p *Pipeline) embedInto(ctx context.Context, rs []*Result) error {
	if p.Embedder.Net == nil || len(rs) == 0 {
		return nil
	}
	crops := make([]*image.NRGBA, len(rs))
	for i, r := range rs {
		crops[i] = r.Aligned
	}
	vecs, err := p.Embedder.Embed(ctx, crops)
	if err != nil {
		return err
	}
	for i, r := range rs {
		r.Embedding = vecs[i]
	}
	return nil
}
