package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/progress"
)

func runEmbed(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("embed", stdio.Err, "embed [--aligned] [--model F] [--json] IMAGE|DIR...")
	ef := addEngineFlags(fs, false)
	aligned := addAlignedFlag(fs)
	asJSON := fs.Bool("json", false, "write one JSON object per line instead of a table")
	batch := fs.Int("batch", 32, "faces per recogniser batch")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usagef("no images given")
	}
	paths, skipped, err := app.ImagePaths(fs.Args())
	if err != nil {
		return err
	}
	failed := 0
	write := func(r app.EmbedRecord) error {
		if r.Error != "" {
			failed++
		}
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdio.Out, "%s\n", b)
			return err
		}
		return writeEmbedRow(stdio.Out, r)
	}
	// What a folder scan could not use is a per-path error, as an
	// unreadable file is, and the rest goes on.
	for _, r := range skipped {
		if err := write(r); err != nil {
			return err
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("no images found in %v", fs.Args())
	}
	eng, err := ef.load()
	if err != nil {
		return err
	}
	eng.Embedder.Batch = *batch
	if err := app.EmbedFiles(ctx, eng, paths, *aligned, *batch, progress.Terminal(stdio.Err, "embed"), write); err != nil {
		return err
	}
	failed -= len(skipped)
	fmt.Fprintf(stdio.Err, "%d images, %d embedded, %d failed", len(paths), len(paths)-failed, failed)
	if len(skipped) > 0 {
		fmt.Fprintf(stdio.Err, "; %d paths in the folders skipped", len(skipped))
	}
	fmt.Fprintln(stdio.Err)
	if failed == len(paths) {
		return errors.New("no image could be embedded")
	}
	return nil
}

func writeEmbedRow(w io.Writer, r app.EmbedRecord) error {
	if r.Error != "" {
		_, err := fmt.Fprintf(w, "%s\terror: %s\n", r.Path, r.Error)
		return err
	}
	box := "aligned"
	if r.Box != nil {
		box = fmt.Sprintf("box %.0f,%.0f %.0f×%.0f", r.Box[0], r.Box[1], r.Box[2], r.Box[3])
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\tembedding[0:3] %.4f %.4f %.4f\n", r.Path, box, r.Face, r.Embedding[0], r.Embedding[1], r.Embedding[2])
	return err
}
