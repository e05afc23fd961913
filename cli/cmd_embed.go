package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

func runEmbed(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("embed", stdio.Err, "embed [--aligned] [--model F] [--json] [--shard I/N | --shards N] IMAGE|DIR...\n"+
		"       maskinv embed --out STORE [--force] [--keep-going] [--aligned] [--model F] [--shard I/N | --shards N] DIR\n\n"+
		"Without --out, one line (or JSON object) per image on stdout. With --out, an embedding store of the\n"+
		"photos under DIR, keyed by their path under it: embeddings.npy (float32, numpy.load reads it),\n"+
		"index.jsonl and meta.json; resumable after a kill; one store per shard, joined by 'maskinv merge'.\n"+
		"Exit status: 1 when no image could be embedded (unless --keep-going) or the run could not finish.\n")
	ef := addEngineFlags(fs, false)
	aligned := addAlignedFlag(fs)
	asJSON := fs.Bool("json", false, "write one JSON object per line instead of a table")
	batch := fs.Int("batch", 32, "faces per recogniser batch")
	fallback := fs.Bool("detect-fallback", false, "take the best face below the detector threshold when none passes it (eval does for mfr2; a store for 'eval --embeddings' must match)")
	out := fs.String("out", "", "write an embedding store into this folder instead of lines on stdout (one input folder)")
	force := fs.Bool("force", false, "with --out: replace what the folder holds that this run cannot resume from (files it did not write, a store of another model or shard)")
	sf := addShardFlags(fs)
	keepGoing := addKeepGoingFlag(fs, "the store, or the lines")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		fs.Usage()
		return usagef("no images given")
	case *batch < 1:
		return usagef("--batch %d, want at least 1", *batch)
	case *out != "" && (fs.NArg() != 1 || *asJSON):
		return usagef("--out takes one input folder and writes no lines (got %d arguments, --json %v)", fs.NArg(), *asJSON)
	case *out == "" && *force:
		return usagef("--force is for --out")
	}
	sp, err := sf.spec(stdio)
	if err != nil {
		return err
	}
	load := func() (*engine.Engine, error) {
		eng, err := ef.load(stdio)
		if err == nil {
			eng.Detector.Config.Fallback = *fallback
			eng.Embedder.Batch = *batch
		}
		return eng, err
	}
	if *out != "" {
		return embedStore(ctx, stdio, load, app.EmbedStoreOptions{
			In: fs.Arg(0), Out: *out, Aligned: *aligned, Batch: *batch, Shard: sp, Force: *force,
			Progress: progressFor(stdio, "embed", sp),
		}, *keepGoing)
	}
	return embedLines(ctx, stdio, load, fs.Args(), sp, *aligned, *asJSON, *batch, *keepGoing)
}

// embedLines writes a line (or a JSON object) per image of the shard.
func embedLines(ctx context.Context, stdio Stdio, load func() (*engine.Engine, error), args []string, sp shard.Spec, aligned, asJSON bool, batch int, keepGoing bool) error {
	inputs, skipped, err := app.ImageInputs(args)
	if err != nil {
		return err
	}
	var paths []string
	for _, in := range inputs {
		if sp.Has(in.Key) {
			paths = append(paths, in.Path)
		}
	}
	failed := 0
	write := func(r app.EmbedRecord) error {
		if r.Error != "" {
			failed++
		}
		if asJSON {
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
	if len(inputs) == 0 {
		return fmt.Errorf("no images found in %v", args)
	}
	eng, err := load()
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := app.EmbedFiles(ctx, eng, paths, aligned, batch, progressFor(stdio, "embed", sp), write); err != nil {
		return err
	}
	failed -= len(skipped)
	fmt.Fprintf(stdio.Err, "%d images, %d embedded, %d failed", len(paths), len(paths)-failed, failed)
	if len(skipped) > 0 {
		fmt.Fprintf(stdio.Err, "; %d paths in the folders skipped", len(skipped))
	}
	fmt.Fprintln(stdio.Err)
	if len(paths) > 0 && failed == len(paths) {
		return keepGoingError(stdio, keepGoing, []string{"no image could be embedded"})
	}
	return nil
}

// embedStore writes the shard's store.
func embedStore(ctx context.Context, stdio Stdio, load func() (*engine.Engine, error), opt app.EmbedStoreOptions, keepGoing bool) error {
	eng, err := load()
	if err != nil {
		return err
	}
	defer eng.Close()
	sum, err := app.EmbedStore(ctx, eng, opt)
	for _, n := range sum.Notes {
		fmt.Fprintln(stdio.Err, "note:", n)
	}
	if err != nil {
		return err
	}
	m := sum.Meta
	fmt.Fprintf(stdio.Out, "%d images (shard %s): %d embedded now, %d already done, %d failed in all; store %s\n",
		sum.Images, m.Shard, sum.Embedded, sum.Resumed, m.Failed, opt.Out)
	var problems []string
	if m.Count > 0 && m.Failed == m.Count {
		problems = append(problems, fmt.Sprintf("no image could be embedded (errors in %s)", filepath.Join(opt.Out, store.IndexName)))
	}
	if sum.Unreadable > 0 {
		problems = append(problems, fmt.Sprintf("%d paths under %s could not be read (see the notes above)", sum.Unreadable, opt.In))
	}
	return keepGoingError(stdio, keepGoing, problems)
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
