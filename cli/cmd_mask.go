package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/progress"
)

// maskCommand is `maskinv mask` finding faces on raw photos with finder
// (nil: the embedded face engine, loaded only when needed).
func maskCommand(finder app.LandmarkFinder) Command {
	return Command{
		Name:    "mask",
		Summary: "make a masked copy of a dataset (synthetic masks, reproducible)",
		Run: func(ctx context.Context, args []string, stdio Stdio) error {
			return runMask(ctx, args, stdio, finder)
		},
	}
}

func runMask(ctx context.Context, args []string, stdio Stdio, finder app.LandmarkFinder) error {
	fl := newFlagSet("mask", stdio.Err, "mask --in DIR --out DIR [--style S] [--color C] [--seed N] [--shift X,Y] [--aligned] [--workers N] [--force]")
	in := fl.String("in", "", "input folder (required); never modified")
	out := fl.String("out", "", "output folder (required), outside the input tree; mirrors it, with manifest.json")
	mf := addMaskFlags(fl, "", "random seed: the same seed gives the same masks", true)
	aligned := fl.Bool("aligned", false, "images are aligned crops (ArcFace template positions; no face detection)")
	workers := fl.Int("workers", 0, "images masked at once (0: all cores)")
	force := fl.Bool("force", false, "replace files in --out that maskinv did not write (by default the run refuses, naming them)")
	if help, err := parseFlags(fl, args); help || err != nil {
		return err
	}
	switch {
	case fl.NArg() > 0:
		return usagef("unexpected arguments %q", fl.Args())
	case *in == "" || *out == "":
		return usagef("--in and --out are required")
	case *workers < 0:
		return usagef("--workers must be ≥ 0")
	}
	if !*aligned && finder == nil {
		eng, err := engine.Load(engine.Options{})
		if err != nil {
			return err
		}
		finder = eng
	}
	cfg, err := mf.config()
	if err != nil {
		return err
	}
	opt := app.MaskOptions{
		In: *in, Out: *out,
		Config:   cfg,
		Aligned:  *aligned,
		Finder:   finder,
		Workers:  *workers,
		Force:    *force,
		Progress: progress.Terminal(stdio.Err, "mask"),
	}
	sum, err := app.MaskDataset(ctx, opt)
	for _, n := range sum.Notes {
		fmt.Fprintln(stdio.Err, "note:", n)
	}
	if errors.Is(err, folder.ErrNested) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "%d images: %d masked, %d already done, %d failed; %d other files copied; manifest %s\n",
		sum.Images, sum.Masked, sum.Skipped, sum.Failed, sum.Copied, sum.Manifest)
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d images failed (errors in %s)", sum.Failed, sum.Images, sum.Manifest)
	}
	if sum.Unreadable > 0 {
		return fmt.Errorf("%d paths under %s could not be read (see the notes above)", sum.Unreadable, *in)
	}
	return nil
}
