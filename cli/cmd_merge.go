package cli

import (
	"context"
	"fmt"

	"github.com/maskinv/workbench/maskshard"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/store"
)

func runMerge(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("merge", stdio.Err, "merge --out STORE SHARD_STORE...   (the stores of 'embed --out' shards)\n"+
		"       maskinv merge --masks DIR                  (the shard manifests of 'mask' shards in DIR)\n\n"+
		"Joins what the N shards of an array job wrote into what one process over the whole input\n"+
		"writes, byte for byte. Refuses, naming them, a missing or repeated shard, shards of another\n"+
		"split, model or settings, an image in two shards, and a shard that has not finished.\n")
	out := fs.String("out", "", "the merged store's folder (the shard stores are the arguments)")
	masks := fs.String("masks", "", "a sharded mask run's output folder: write its manifest.json from the shard manifests")
	force := fs.Bool("force", false, "replace what --out holds that no store wrote, or a manifest.json that no mask run wrote")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	switch {
	case *out == "" && fs.NArg() > 0:
		return usagef("shard stores %q given without --out", fs.Args())
	case *out == "" && *masks == "":
		fs.Usage()
		return usagef("give --out STORE with the shard stores, or --masks DIR")
	case *out != "" && fs.NArg() == 0:
		return usagef("--out %s: no shard stores to merge", *out)
	}
	if *out != "" {
		meta, err := store.Merge(ctx, *out, fs.Args(), store.MergeOptions{Force: *force, Progress: progress.For(stdio.Err, "merge")})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "merged %d stores: %d records (%d failed) into %s\n", fs.NArg(), meta.Count, meta.Failed, *out)
	}
	if *masks != "" {
		res, err := maskshard.MergeDir(*masks, *force)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "merged %d shard manifests: %d images, %d copied files into %s\n", res.Shards, res.Images, res.Copies, res.Manifest)
	}
	return nil
}
