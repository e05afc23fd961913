package app

import (
	"context"
	"errors"
	"image"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
)

// VerifyResult is the output of `maskinv verify --json` (a contract).
type VerifyResult struct {
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Same      bool    `json:"same"`
	// FaceA and FaceB say which face of each photo was compared, of how
	// many, as embed's "face" does: in a group photo the score is only
	// meaningful with it. Empty with --aligned (no detection).
	FaceA string `json:"face_a,omitempty"`
	FaceB string `json:"face_b,omitempty"`
}

// Verify compares the chosen faces of two photos.
func Verify(ctx context.Context, eng *engine.Engine, a, b string, aligned bool) (VerifyResult, error) {
	var imgs [2]image.Image
	for i, p := range []string{a, b} {
		img, err := imageio.Decode(p)
		if err != nil {
			return VerifyResult{}, err
		}
		imgs[i] = img
	}
	results, errs := eng.ProcessBatch(ctx, imgs[:], aligned)
	for i, err := range errs {
		if err != nil {
			return VerifyResult{}, errors.New(describeFailure([]string{a, b}[i], err))
		}
	}
	score := face.Cosine(results[0].Embedding, results[1].Embedding)
	res := VerifyResult{Score: score, Threshold: eng.Threshold, Same: score >= eng.Threshold}
	if !aligned {
		res.FaceA, res.FaceB = results[0].Choice.String(), results[1].Choice.String()
	}
	return res, nil
}
