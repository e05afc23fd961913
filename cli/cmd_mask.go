package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
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
	fl := newFlagSet("mask", stdio.Err, "mask --in DIR --out DIR [--style S] [--color C] [--seed N] [--shift X,Y] [--aligned] [--workers N] [--force] [--shard I/N | --shards N] [--keep-going]\n\n"+
		"Exit status: 0 when every image was masked; 1 when any failed (each is recorded in the manifest)\n"+
		"or the run could not finish; 2 for bad flags. With --keep-going, failed images exit 0.\n"+
		"Shards: every task of an array job masks its shard into the same --out, with its own manifest\n"+
		"(.maskinv-manifest.shard-I-of-N.json); 'maskinv merge --masks OUT' then writes manifest.json.\n")
	in := fl.String("in", "", "input folder (required); never modified")
	out := fl.String("out", "", "output folder (required), outside the input tree; mirrors it, with manifest.json")
	mf := addMaskFlags(fl, "", "random seed: the same seed gives the same masks", true)
	aligned := fl.Bool("aligned", false, "images are aligned crops (ArcFace template positions; no face detection)")
	workers := fl.Int("workers", 0, "images masked at once (0: all cores)")
	force := fl.Bool("force", false, "replace files in --out that maskinv did not write (by default the run refuses, naming them)")
	sf := addShardFlags(fl)
	keepGoing := addKeepGoingFlag(fl, "the manifest")
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
	sp, err := sf.spec(stdio)
	if err != nil {
		return err
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
		Shard:    sp,
		Progress: progressFor(stdio, "mask", sp),
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
	var problems []string
	if sum.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d images failed (errors in %s)", sum.Failed, sum.Images, sum.Manifest))
	}
	if sum.Unreadable > 0 {
		problems = append(problems, fmt.Sprintf("%d paths under %s could not be read (see the notes above)", sum.Unreadable, *in))
	}
	return keepGoingError(stdio, *keepGoing, problems)
}

// keepGoingError is the error of problems that did not stop a run (images
// that failed, recorded in its output), or, with --keep-going, nil after
// printing them as notes.
func keepGoingError(stdio Stdio, keepGoing bool, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	if !keepGoing {
		return errors.New(strings.Join(problems, "; "))
	}
	for _, p := range problems {
		fmt.Fprintf(stdio.Err, "note: %s (--keep-going: exit status 0)\n", p)
	}
	return nil
}
