package modelreg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/model"
)

// Layout is the input every recogniser gets (face.RecogniserInput): the
// only one the engine feeds, so a model must have been trained on it.
const Layout = "N×3×112×112 NCHW, planes R, G, B, (p−127)/128, ArcFace 5-point aligned crop"

// ErrOutput marks a model whose output is not one vector per face.
var ErrOutput = errors.New("recogniser output must be one vector per face")

// Inspect decodes a recogniser ONNX and describes it (everything but the
// threshold, the path and the time added). name labels errors; the
// engine's decode errors are returned as they are, and a model whose input
// is not N×3×112×112 gets engine.ErrModelInput.
// It also returns the decoded net, for a caller that goes on to use it.
func Inspect(ctx context.Context, name string, data []byte) (Entry, *model.Net, error) {
	net, err := model.Decode(name, data)
	if err != nil {
		return Entry{}, nil, err
	}
	s := net.InputShape()
	if len(s) != 4 || s[1] != 3 || s[2] != 112 || s[3] != 112 {
		return Entry{}, nil, fmt.Errorf("model %s: input shape %v: %w", name, s, engine.ErrModelInput)
	}
	// The output size is only known from a run. Two faces, so that a model
	// that mixes the batch up (or fixes it to one) shows.
	outs, err := net.Run(ctx, model.NewTensor(2, 3, 112, 112))
	if err != nil {
		return Entry{}, nil, fmt.Errorf("model %s: test run: %w", name, err)
	}
	if len(outs) == 0 || len(outs[0].Data) == 0 || len(outs[0].Data)%2 != 0 {
		var shape []int
		if len(outs) > 0 {
			shape = outs[0].Shape
		}
		return Entry{}, nil, fmt.Errorf("model %s: output shape %v for 2 faces: %w", name, shape, ErrOutput)
	}
	sum := sha256.Sum256(data)
	return Entry{
		Name:      name,
		SHA256:    hex.EncodeToString(sum[:]),
		Input:     s,
		Layout:    Layout,
		OutputDim: len(outs[0].Data) / 2,
		FLOPs:     net.FLOPs(),
	}, net, nil
}
