package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/maskinv/workbench/app"
)

func runVerify(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("verify", stdio.Err, "verify [--json] [--model F] [--threshold T] [--aligned] A B")
	ef := addEngineFlags(fs, true)
	aligned := addAlignedFlag(fs)
	asJSON := fs.Bool("json", false, `write {"score","threshold","same","face_a","face_b"} as JSON`)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return usagef("want two images, got %d", fs.NArg())
	}
	eng, err := ef.load(stdio)
	if err != nil {
		return err
	}
	defer eng.Close()
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
