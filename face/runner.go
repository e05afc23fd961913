package face

import (
	"context"
	"errors"
	"image"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/model"
)

// Runner runs one model on one NCHW input and returns its outputs in the
// model's output order. *model.Net implements it.
type Runner interface {
	Run(ctx context.Context, in model.Tensor) ([]model.Tensor, error)
}

// Errors callers can branch on with errors.Is. Returned errors wrap them
// with the stage and details.
var (
	// ErrNoFace: the detector found no face (a per-image condition: a batch
	// goes on with the next image).
	ErrNoFace = errors.New("no face found")
	// ErrSize: an input image has the wrong size (aligned mode needs 112×112).
	ErrSize = errors.New("wrong image size")
	// ErrDegenerate: points too close together to define an alignment.
	ErrDegenerate = errors.New("degenerate points")
	// ErrOutput: a model returned outputs of an unexpected shape.
	ErrOutput = errors.New("unexpected model output")
)

// asNRGBA returns img as *image.NRGBA with its origin at (0,0), copying only
// when needed. All coordinates in this package are relative to the image's
// top-left corner.
func asNRGBA(img image.Image) *image.NRGBA {
	if m, ok := img.(*image.NRGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	return imageio.ToNRGBA(img)
}
