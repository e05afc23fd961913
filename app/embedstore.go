package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// EmbedStoreOptions configure EmbedStore.
type EmbedStoreOptions struct {
	In, Out string // the photo folder, and the store's folder
	Aligned bool   // the images are aligned 112×112 crops
	Batch   int    // images per engine batch; 0: 32
	// Shard is the part of In this run embeds (the zero value: all of it).
	Shard shard.Spec
	// Force replaces what Out holds that this run would not resume from
	// (see store.Options).
	Force    bool
	Progress progress.Func // images done of those to do; nil: none
}

// EmbedStoreSummary counts what EmbedStore did.
type EmbedStoreSummary struct {
	Images   int // the shard's images
	Embedded int // done by this run (with or without an error)
	Resumed  int // found done by an earlier, interrupted or finished, run
	Meta     store.Meta
	// Notes are things the caller may want to print: paths the scan of In
	// skipped, what store.Create found.
	Notes []string
	// Unreadable counts the paths under In that could not be read (each
	// is in Notes).
	Unreadable int
}

// EmbedStore embeds the images of one shard of the folder opt.In into the
// embedding store opt.Out (see package store): a record per image, keyed
// by its slash path under In, sorted, with the recogniser's SHA-256 and
// the pipeline. It resumes what an earlier run with the same model and
// pipeline left in Out (a journal after a kill, or a finished store):
// images recorded there without an error are not embedded again.
// Images that fail (unreadable, no face) are recorded with their error,
// naming the image by its key, so that a store does not depend on where In
// was mounted. Cancelling ctx stops after the batch in progress and
// leaves the journal for the rerun.
func EmbedStore(ctx context.Context, eng *engine.Engine, opt EmbedStoreOptions) (EmbedStoreSummary, error) {
	var sum EmbedStoreSummary
	if opt.Shard == (shard.Spec{}) {
		opt.Shard = shard.Whole
	}
	if opt.Batch < 1 {
		opt.Batch = 32
	}
	if opt.Progress == nil {
		opt.Progress = progress.Nop
	}
	if st, err := os.Stat(opt.In); err != nil {
		return sum, fmt.Errorf("input %w", err)
	} else if !st.IsDir() {
		return sum, fmt.Errorf("input %s is not a folder: a store holds the photos under one folder, keyed by their paths in it", opt.In)
	}
	scan, err := folder.ScanAvoiding(opt.In, opt.Out)
	if err != nil {
		return sum, err
	}
	for _, s := range scan.Skipped {
		sum.Notes = append(sum.Notes, "skipped "+s.String())
		if !errors.Is(s.Err, folder.ErrLinkNotFollowed) {
			sum.Unreadable++
		}
	}
	if len(scan.Images) == 0 {
		return sum, fmt.Errorf("no images found in %s", opt.In)
	}
	keys := opt.Shard.Filter(scan.Images)
	sum.Images = len(keys)
	dim, err := eng.EmbeddingLen(ctx)
	if err != nil {
		return sum, err
	}
	w, err := store.Create(opt.Out, store.Params{
		Model: eng.Recogniser.Hash(), Pipeline: eng.PipelineID(opt.Aligned), Dim: dim, Shard: opt.Shard,
	}, store.Options{Force: opt.Force})
	if err != nil {
		return sum, err
	}
	defer w.Close()
	sum.Notes = append(sum.Notes, w.Notes()...)
	var todo, paths []string
	for _, k := range keys {
		if w.Done(k) == store.StatusOK {
			sum.Resumed++
			continue
		}
		todo = append(todo, k)
		paths = append(paths, filepath.Join(opt.In, filepath.FromSlash(k)))
	}
	next := 0
	emit := func(r EmbedRecord) error {
		key, path := todo[next], paths[next]
		next++
		if ctx.Err() != nil {
			return nil // cut short, not the image's fault: redone by the rerun
		}
		sum.Embedded++
		return w.Add(store.Record{
			Path: key, Box: r.Box, Landmarks5: r.Landmarks5, Face: r.Face,
			Error: strings.ReplaceAll(r.Error, path, key),
		}, r.Embedding)
	}
	if err := EmbedFiles(ctx, eng, paths, opt.Aligned, opt.Batch, opt.Progress, emit); err != nil {
		return sum, err
	}
	sum.Meta, err = w.Finish(keys)
	return sum, err
}
