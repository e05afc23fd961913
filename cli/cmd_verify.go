package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
)

func verifyCommand() Command {
	return Command{Name: "verify", Summary: "are two photos the same person? (cosine score and decision)", Run: runVerify}
}

func runVerify(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("verify", stdio.Err, "verify [--json] [--model F] [--threshold T] [--aligned] A B")
	ef := addEngineFlags(fs)
	aligned, modelPath := ef.aligned, ef.model
	threshold := fs.Float64("threshold", 0, fmt.Sprintf("decision threshold on cosine similarity (default %.4f for the embedded recogniser; required with --model)", engine.DefaultThreshold))
	asJSON := fs.Bool("json", false, `write {"score","threshold","same","face_a","face_b"} as JSON`)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return usagef("want two images, got %d", fs.NArg())
	}
	if *modelPath != "" && *threshold == 0 {
		return usagef("--model needs --threshold (the default %.4f belongs to the embedded recogniser)", engine.DefaultThreshold)
	}
	eng, err := engine.Load(engine.Options{RecogniserPath: *modelPath})
	if err != nil {
		return err
	}
	if *threshold != 0 {
		eng.Threshold = *threshold
	}
	res, err := app.Verify(ctx, eng, fs.Arg(0), fs.Arg(1), *aligned)
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
