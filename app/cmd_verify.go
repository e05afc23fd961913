package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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

func verifyCommand() Command {
	return Command{Name: "verify", Summary: "are two photos the same person? (cosine score and decision)", Run: runVerify}
}

func runVerify(ctx context.Context, args []string, stdio Stdio) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	ef := addEngineFlags(fs)
	aligned, modelPath := ef.aligned, ef.model
	threshold := fs.Float64("threshold", 0, fmt.Sprintf("decision threshold on cosine similarity (default %.4f for the embedded recogniser; required with --model)", engine.DefaultThreshold))
	asJSON := fs.Bool("json", false, `write {"score","threshold","same","face_a","face_b"} as JSON`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: maskinv verify [--json] [--model F] [--threshold T] [--aligned] A B")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("%w: want two images, got %d", ErrUsage, fs.NArg())
	}
	if *modelPath != "" && *threshold == 0 {
		return fmt.Errorf("%w: --model needs --threshold (the default %.4f belongs to the embedded recogniser)", ErrUsage, engine.DefaultThreshold)
	}
	eng, err := engine.Load(engine.Options{RecogniserPath: *modelPath})
	if err != nil {
		return err
	}
	if *threshold != 0 {
		eng.Threshold = *threshold
	}
	res, err := Verify(ctx, eng, fs.Arg(0), fs.Arg(1), *aligned)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdio.Out, "%s\n", b)
		return err
	}
	verdict := "different people"
	if res.Same {
		verdict = "same person"
	}
	if _, err := fmt.Fprintf(stdio.Out, "score %.4f (threshold %.4f): %s\n", res.Score, res.Threshold, verdict); err != nil {
		return err
	}
	for i, f := range []string{res.FaceA, res.FaceB} {
		if f != "" {
			if _, err := fmt.Fprintf(stdio.Out, "%s: %s\n", fs.Arg(i), f); err != nil {
				return err
			}
		}
	}
	return nil
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
