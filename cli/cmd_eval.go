package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/shard"
)

// evalEngineLoader loads the engine for `maskinv eval`, running batch
// crops per recogniser run, and returns it with the recogniser's name and
// SHA-256 and the pipeline ID for cache keys (see EnginePipelineID). Tests
// substitute one that counts model calls.
type evalEngineLoader func(opt engine.Options, aligned bool, batch int) (eng app.EvalEngine, name, hash, pipeline string, err error)

func loadEvalEngine(opt engine.Options, aligned bool, batch int) (app.EvalEngine, string, string, string, error) {
	eng, err := engine.Load(opt)
	if err != nil {
		return nil, "", "", "", err
	}
	eng.Embedder.Batch = batch
	return eng, eng.Recogniser.Name(), eng.Recogniser.Hash(), eng.PipelineID(aligned), nil
}

// evalCommand is `maskinv eval` loading its engine with load (tests count
// model calls through it).
func evalCommand(load evalEngineLoader) Command {
	return Command{
		Name:    "eval",
		Summary: "verification accuracy, unmasked and masked, on LFW, MFR2, .bin or folder datasets",
		Run: func(ctx context.Context, args []string, stdio Stdio) error {
			return runEval(ctx, args, stdio, load)
		},
	}
}

func runEval(ctx context.Context, args []string, stdio Stdio, load evalEngineLoader) error {
	fs, fl := newEvalFlags(stdio.Err)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	kinds := dataset.Builtin()
	es, err := fl.settings(fs, kinds)
	if err != nil {
		return err
	}
	sp, err := fl.shard.spec(stdio)
	if err != nil {
		return err
	}
	if !sp.IsWhole() && (*fl.json != "" || *fl.report != "") {
		return usagef("shard %s scores nothing: --json and --report are for the eval over the whole set that follows the shards", sp)
	}
	if *fl.report != "" {
		if err := folder.Check(*fl.report, "eval", reportFiles(), *fl.force); err != nil {
			return err
		}
	}
	start := time.Now()
	set, err := fl.openSet(kinds, es)
	if err != nil {
		return err
	}
	choice, err := resolveRef(stdio, *fl.model)
	if err != nil {
		return err
	}
	eng, modelName, modelHash, pipeline, err := load(engine.Options{Recogniser: choice.Source, DetectFallback: es.detectFallback, Device: &es.device}, set.Aligned, *fl.batch)
	if err != nil {
		return err
	}
	defer announceDevice(stdio.Err, eng)()
	cache := fl.openCache(stdio, modelHash)
	if cache != nil {
		defer cache.Close()
	}
	opt := app.EvalOptions{
		Protocols:    es.protos,
		Mask:         es.mask,
		MaskOnPhoto:  es.onPhoto,
		ModelHash:    modelHash,
		Pipeline:     pipeline,
		Cache:        cache,
		Workers:      *fl.workers,
		Batch:        *fl.batch,
		Progress:     progressFor(stdio, "eval "+es.kind.Name, sp),
		AllowMissing: *fl.allowMissing,
	}
	if *fl.embeddings != "" {
		src, err := app.OpenStoreSource(*fl.embeddings, modelHash, pipeline)
		if err != nil {
			return err
		}
		defer src.Close()
		opt.Plain = src
	}
	if !sp.IsWhole() {
		return evalShard(ctx, stdio, eng, set, opt, sp, cache)
	}
	res, err := app.Evaluate(ctx, eng, set, opt)
	if err != nil {
		return err
	}
	info := app.EvalInfo{Model: modelName, ModelHash: modelHash, Mask: es.mask, MaskOnPhoto: es.onPhoto, Folds: es.folds, DetectFallback: es.detectFallback}
	res.WriteSummary(stdio.Err, time.Since(start))
	if err := res.Measured(); err != nil {
		return err
	}
	if _, err := io.WriteString(stdio.Out, res.Markdown(info)); err != nil {
		return err
	}
	return fl.writeOutputs(res, info)
}

// evalShard embeds the shard's image variants into the cache.
func evalShard(ctx context.Context, stdio Stdio, eng app.EvalEngine, set *dataset.EvalSet, opt app.EvalOptions, sp shard.Spec, cache *app.EmbeddingCache) error {
	st, err := app.EvalShard(ctx, eng, set, opt, sp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "eval shard %s: %d images: %d located, %d crops embedded, %d from the cache, %d from the embedding store; cache %s\n",
		sp, st.Images, st.Located, st.Embedded, st.Cached, st.Stored, cache.Path())
	if st.CacheErrs > 0 {
		return fmt.Errorf("%d writes to the embedding cache %s failed: the eval after the shards will redo their images", st.CacheErrs, cache.Path())
	}
	return nil
}

// openSet opens the dataset and selects the folds.
func (fl *evalFlags) openSet(kinds *dataset.Kinds, es evalSettings) (*dataset.EvalSet, error) {
	set, err := kinds.OpenEval(es.kind.Name, es.path, dataset.EvalOptions{Seed: es.mask.Seed, Aligned: *fl.aligned})
	if err != nil {
		return nil, err
	}
	if es.folds != nil {
		if err := set.SelectFolds(es.folds); err != nil {
			return nil, err
		}
	}
	if es.onPhoto && set.Aligned {
		return nil, usagef("--mask-on photo needs photos; %s holds aligned crops", es.path)
	}
	if *fl.embeddings != "" && len(set.Images) > 0 && set.Images[0].Data != nil {
		return nil, usagef("--embeddings: the images of %s are not files under a folder, which a store's paths could name", es.path)
	}
	return set, nil
}

// evalFlags are eval's command-line flags as the flag package fills them.
type evalFlags struct {
	dataset, protocol, folds, model, style, color, maskOn *string
	json, report, cache, embeddings                       *string
	seed                                                  *uint64
	noCache, aligned, fallback, force, allowMissing       *bool
	workers, batch                                        *int
	shard                                                 shardFlags
	device                                                deviceFlag
}

func newEvalFlags(out io.Writer) (*flag.FlagSet, *evalFlags) {
	fs := newFlagSet("eval", out, "eval --dataset lfw=DIR|mfr2=DIR|bin=FILE|folder=DIR [--protocol blr-blr,blr-m,m-m] [--folds 1-10] [--model F] [--mask-style S] [--mask-on crop|photo] [--seed N] [--allow-missing] [--json OUT] [--report DIR [--force]] [--embeddings STORE] [--shard I/N | --shards N]\n\n"+
		"--embeddings STORE takes every image's unmasked embedding from a store of 'embed --out' over the\n"+
		"dataset's folder (merged: the whole set), made with the same recogniser and pipeline: blr-blr (and\n"+
		"mfr2's real) need no model run then; the masked side of blr-m and m-m is still computed (and cached),\n"+
		"as the protocol masks the aligned crop, which a store does not hold.\n"+
		"--shard I/N (or a scheduler's array) embeds the variants of shard I's images into the embedding\n"+
		"cache and scores nothing; the eval over the whole set after the shards then finds them there.\n")
	fl := &evalFlags{
		dataset:      fs.String("dataset", "", "lfw=DIR, mfr2=DIR, bin=FILE (InsightFace .bin) or folder=DIR (one subfolder per identity)"),
		protocol:     fs.String("protocol", "", "comma-separated protocols: blr-blr, blr-m, m-m, real (MFR2 as is); default: real for mfr2, else blr-blr,blr-m,m-m"),
		folds:        fs.String("folds", "", "folds to evaluate, 1-based, e.g. 1-10, 10 or 1,3,5-7 (default: all)"),
		model:        fs.String("model", "", modelHelp),
		style:        fs.String("mask-style", maskgen.StyleSpec{}.String(), "synthetic mask style: "+strings.Join(maskgen.Styles(), ", ")+", random or mix:NAME=W,…"),
		color:        fs.String("mask-color", "auto", "mask colour: auto, random, a name or #rrggbb"),
		maskOn:       fs.String("mask-on", "crop", "where blr-m and m-m draw the masks: crop (the aligned crop, the protocol's) or photo (the photo before alignment, which is then aligned again as a real masked photo is)"),
		seed:         fs.Uint64("seed", 1, "seed of the masks, of the masked side of blr-m pairs and of folder impostor pairs"),
		json:         fs.String("json", "", "write the metrics as JSON to this file"),
		report:       fs.String("report", "", "write charts (PNG), per-pair scores, flips and failures (CSV) into this folder"),
		cache:        fs.String("cache", "", "embedding cache folder (default: <user cache dir>/maskinv/embeddings)"),
		noCache:      fs.Bool("no-cache", false, "neither read nor write the embedding cache"),
		aligned:      fs.Bool("aligned", false, "lfw/folder images are already 112×112 aligned crops (.bin always is)"),
		fallback:     fs.Bool("detect-fallback", false, "take the best face below the detector threshold when none passes it (default: on for mfr2, off otherwise)"),
		workers:      fs.Int("workers", 0, "images decoded and located at once (default: number of CPUs)"),
		batch:        fs.Int("batch", 32, "crops per recogniser batch"),
		force:        fs.Bool("force", false, "let --report replace files that an earlier eval did not write there"),
		allowMissing: fs.Bool("allow-missing", false, "score only the pairs whose images are all there and report how many were dropped (default: a missing image is an error)"),
		embeddings:   fs.String("embeddings", "", "an embedding store (maskinv embed --out, merged) of the dataset's folder: the unmasked embeddings come from it"),
		shard:        addShardFlags(fs),
		device:       addDeviceFlag(fs),
	}
	return fs, fl
}

// evalSettings are the flags checked and parsed into what app.Evaluate takes.
type evalSettings struct {
	kind           dataset.Kind
	path           string
	protos         []string
	folds          []int
	mask           maskgen.Config
	onPhoto        bool
	detectFallback bool
	device         model.DeviceSpec
}

// settings checks the parsed flags; every mistake is a usage error, found
// before anything is loaded.
func (fl *evalFlags) settings(fs *flag.FlagSet, kinds *dataset.Kinds) (evalSettings, error) {
	var es evalSettings
	if fs.NArg() != 0 {
		fs.Usage()
		return es, usagef("unexpected arguments %q", fs.Args())
	}
	kind, path, ok := strings.Cut(*fl.dataset, "=")
	if !ok || path == "" {
		fs.Usage()
		return es, usagef("--dataset wants KIND=PATH, got %q", *fl.dataset)
	}
	var err error
	if es.kind, err = kinds.Lookup(kind, dataset.ForEval); err != nil {
		return es, usagef("--dataset: %v", err)
	}
	es.path = path
	if es.protos, err = parseProtocols(*fl.protocol, es.kind.RealMasks); err != nil {
		return es, usagef("%v", err)
	}
	if *fl.folds != "" {
		if es.folds, err = eval.ParseFolds(*fl.folds); err != nil {
			return es, usagef("--folds: %v", err)
		}
	}
	if es.mask.Style, err = maskgen.ParseStyle(*fl.style); err != nil {
		return es, usagef("--mask-style: %v", err)
	}
	if es.mask.Color, err = maskgen.ParseColor(*fl.color); err != nil {
		return es, usagef("--mask-color: %v", err)
	}
	es.mask.Seed = *fl.seed
	if *fl.maskOn != "crop" && *fl.maskOn != "photo" {
		return es, usagef("--mask-on %q: want crop or photo", *fl.maskOn)
	}
	es.onPhoto = *fl.maskOn == "photo"
	if *fl.batch < 1 {
		return es, usagef("--batch %d", *fl.batch)
	}
	if es.device, err = fl.device.spec(); err != nil {
		return es, err
	}
	// Photos of masked faces (MFR2's) are hard for the detector, so it
	// falls back there unless the flag, set either way, says otherwise.
	es.detectFallback = es.kind.RealMasks
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "detect-fallback" {
			es.detectFallback = *fl.fallback
		}
	})
	return es, nil
}

// openCache opens the embedding cache unless --no-cache (see
// openEmbeddingCache).
func (fl *evalFlags) openCache(stdio Stdio, modelHash string) *app.EmbeddingCache {
	return openEmbeddingCache(stdio, "eval", *fl.cache, *fl.noCache, modelHash)
}

// openEmbeddingCache opens the embedding cache of the model with hash
// modelHash in dir (default: the user's cache folder) unless noCache; a
// cache that cannot be opened is only a warning, as the command then just
// embeds everything. label starts the warnings.
func openEmbeddingCache(stdio Stdio, label, dir string, noCache bool, modelHash string) *app.EmbeddingCache {
	if noCache {
		return nil
	}
	if dir == "" {
		var err error
		if dir, err = app.DefaultCacheDir(); err != nil {
			fmt.Fprintf(stdio.Err, "%s: no embedding cache: %v\n", label, err)
		}
	}
	if dir == "" {
		return nil
	}
	cache, err := app.OpenEmbeddingCache(dir, modelHash)
	if err != nil {
		fmt.Fprintf(stdio.Err, "%s: no embedding cache: %v\n", label, err)
		return nil
	}
	if n := cache.Skipped(); n > 0 {
		fmt.Fprintf(stdio.Err, "%s: embedding cache %s: skipped %d bytes of torn or corrupt entries\n", label, cache.Path(), n)
	}
	return cache
}

// writeOutputs writes the --json metrics and the --report folder.
func (fl *evalFlags) writeOutputs(res *app.EvalResult, info app.EvalInfo) error {
	if *fl.json != "" {
		b, err := json.MarshalIndent(res.JSON(info), "", "  ")
		if err != nil {
			return err
		}
		if err := imageio.WriteAtomic(*fl.json, func(w io.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return err
		}
	}
	if *fl.report != "" {
		if err := folder.Claim(*fl.report, "eval", reportFiles(), *fl.force); err != nil {
			return err
		}
		return res.WriteReport(*fl.report, info)
	}
	return nil
}

// reportFiles are the files WriteReport writes.
func reportFiles() []string {
	return []string{app.ReportROC, app.ReportDET, app.ReportHistogram, app.ReportScores, app.ReportFlips, app.ReportFailed, app.ReportTable}
}

// parseProtocols reads --protocol for a set with or without real masks;
// "" gives the set's default.
func parseProtocols(s string, realMasks bool) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		if realMasks {
			return []string{eval.ProtoReal}, nil
		}
		return []string{eval.ProtoBLRBLR, eval.ProtoBLRM, eval.ProtoMM}, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == eval.ProtoReal && !realMasks:
			return nil, fmt.Errorf("protocol %q is for sets with real masks (mfr2); use blr-blr", p)
		case !slices.Contains(eval.ProtocolNames(), p):
			return nil, fmt.Errorf("unknown protocol %q: want blr-blr, blr-m, m-m or real", p)
		case slices.Contains(out, p):
			return nil, fmt.Errorf("protocol %q given twice", p)
		}
		out = append(out, p)
	}
	return out, nil
}
