package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
)

// evalEngineLoader loads the engine for `maskinv eval`, running batch
// crops per recogniser run, and returns it with the recogniser's name and
// SHA-256 and the pipeline ID for cache keys (see EnginePipelineID). Tests
// substitute one that counts model calls.
type evalEngineLoader func(opt EngineOptions, aligned bool, batch int) (eng EvalEngine, name, hash, pipeline string, err error)

func loadEvalEngine(opt EngineOptions, aligned bool, batch int) (EvalEngine, string, string, string, error) {
	eng, err := LoadEngine(opt)
	if err != nil {
		return nil, "", "", "", err
	}
	eng.Embedder.Batch = batch
	return eng, eng.Recogniser.Name(), eng.Recogniser.Hash(), EnginePipelineID(eng, aligned), nil
}

func evalCommand() Command { return evalCommandWith(loadEvalEngine) }

func evalCommandWith(load evalEngineLoader) Command {
	return Command{
		Name:    "eval",
		Summary: "verification accuracy, unmasked and masked, on LFW, MFR2, .bin or folder datasets",
		Run: func(ctx context.Context, args []string, stdio Stdio) error {
			return runEval(ctx, args, stdio, load)
		},
	}
}

func runEval(ctx context.Context, args []string, stdio Stdio, load evalEngineLoader) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	datasetFlag := fs.String("dataset", "", "lfw=DIR, mfr2=DIR, bin=FILE (InsightFace .bin) or folder=DIR (one subfolder per identity)")
	protoFlag := fs.String("protocol", "", "comma-separated protocols: blr-blr, blr-m, m-m, real (MFR2 as is); default: real for mfr2, else blr-blr,blr-m,m-m")
	foldsFlag := fs.String("folds", "", "folds to evaluate, 1-based, e.g. 1-10, 10 or 1,3,5-7 (default: all)")
	modelPath := fs.String("model", "", "recogniser ONNX (N×3×112×112 input); default: the embedded one")
	style := fs.String("mask-style", "paper", "synthetic mask style: "+strings.Join(maskgen.Styles(), ", ")+", random or mix:NAME=W,…")
	color := fs.String("mask-color", "auto", "mask colour: auto, random, a name or #rrggbb")
	maskOn := fs.String("mask-on", "crop", "where blr-m and m-m draw the masks: crop (the aligned crop, the protocol's) or photo (the photo before alignment, which is then aligned again as a real masked photo is)")
	seed := fs.Uint64("seed", 1, "seed of the masks, of the masked side of blr-m pairs and of folder impostor pairs")
	jsonOut := fs.String("json", "", "write the metrics as JSON to this file")
	reportDir := fs.String("report", "", "write charts (PNG), per-pair scores, flips and failures (CSV) into this folder")
	cacheDir := fs.String("cache", "", "embedding cache folder (default: <user cache dir>/maskinv/embeddings)")
	noCache := fs.Bool("no-cache", false, "neither read nor write the embedding cache")
	aligned := fs.Bool("aligned", false, "lfw/folder images are already 112×112 aligned crops (.bin always is)")
	fallback := fs.Bool("detect-fallback", false, "take the best face below the detector threshold when none passes it (default: on for mfr2, off otherwise)")
	workers := fs.Int("workers", 0, "images decoded and located at once (default: number of CPUs)")
	batch := fs.Int("batch", 32, "crops per recogniser batch")
	force := fs.Bool("force", false, "let --report replace files that an earlier eval did not write there")
	allowMissing := fs.Bool("allow-missing", false, "score only the pairs whose images are all there and report how many were dropped (default: a missing image is an error)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: maskinv eval --dataset lfw=DIR|mfr2=DIR|bin=FILE|folder=DIR [--protocol blr-blr,blr-m,m-m] [--folds 1-10] [--model F] [--mask-style S] [--mask-on crop|photo] [--seed N] [--allow-missing] [--json OUT] [--report DIR [--force]]")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected arguments %q", ErrUsage, fs.Args())
	}
	kind, path, ok := strings.Cut(*datasetFlag, "=")
	if !ok || path == "" {
		fs.Usage()
		return fmt.Errorf("%w: --dataset wants KIND=PATH, got %q", ErrUsage, *datasetFlag)
	}
	switch kind {
	case SetLFW, SetMFR2, SetBin, SetFolder:
	default:
		return fmt.Errorf("%w: --dataset kind %q: want lfw, mfr2, bin or folder", ErrUsage, kind)
	}
	protos, err := parseProtocols(*protoFlag, kind)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var folds []int
	if *foldsFlag != "" {
		if folds, err = parseFolds(*foldsFlag); err != nil {
			return fmt.Errorf("%w: --folds: %v", ErrUsage, err)
		}
	}
	var cfg maskgen.Config
	if cfg.Style, err = maskgen.ParseStyle(*style); err != nil {
		return fmt.Errorf("%w: --mask-style: %v", ErrUsage, err)
	}
	if cfg.Color, err = maskgen.ParseColor(*color); err != nil {
		return fmt.Errorf("%w: --mask-color: %v", ErrUsage, err)
	}
	cfg.Seed = *seed
	if *maskOn != "crop" && *maskOn != "photo" {
		return fmt.Errorf("%w: --mask-on %q: want crop or photo", ErrUsage, *maskOn)
	}
	onPhoto := *maskOn == "photo"
	if *batch < 1 {
		return fmt.Errorf("%w: --batch %d", ErrUsage, *batch)
	}
	detectFallback := kind == SetMFR2
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "detect-fallback" {
			detectFallback = *fallback
		}
	})

	if *reportDir != "" {
		if err := checkFolder(*reportDir, "eval", reportFiles(), *force); err != nil {
			return err
		}
	}
	start := time.Now()
	set, err := LoadEvalSet(kind, path, cfg.Seed, *aligned)
	if err != nil {
		return err
	}
	if folds != nil {
		if err := set.SelectFolds(folds); err != nil {
			return err
		}
	}
	if onPhoto && set.Aligned {
		return fmt.Errorf("%w: --mask-on photo needs photos; %s holds aligned crops", ErrUsage, path)
	}
	eng, modelName, modelHash, pipeline, err := load(EngineOptions{RecogniserPath: *modelPath, DetectFallback: detectFallback}, set.Aligned, *batch)
	if err != nil {
		return err
	}
	var cache *EmbeddingCache
	if !*noCache {
		dir := *cacheDir
		if dir == "" {
			if dir, err = DefaultCacheDir(); err != nil {
				fmt.Fprintf(stdio.Err, "eval: no embedding cache: %v\n", err)
			}
		}
		if dir != "" {
			if cache, err = OpenEmbeddingCache(dir, modelHash); err != nil {
				fmt.Fprintf(stdio.Err, "eval: no embedding cache: %v\n", err)
				cache = nil
			} else {
				defer cache.Close()
				if n := cache.Skipped(); n > 0 {
					fmt.Fprintf(stdio.Err, "eval: embedding cache %s: skipped %d bytes of torn or corrupt entries\n", cache.Path(), n)
				}
			}
		}
	}
	res, err := Evaluate(ctx, eng, set, EvalOptions{
		Protocols:    protos,
		Mask:         cfg,
		MaskOnPhoto:  onPhoto,
		ModelHash:    modelHash,
		Pipeline:     pipeline,
		Cache:        cache,
		Workers:      *workers,
		Batch:        *batch,
		Progress:     progress.Terminal(stdio.Err, "eval "+kind),
		AllowMissing: *allowMissing,
	})
	if err != nil {
		return err
	}
	info := EvalInfo{Model: modelName, ModelHash: modelHash, Mask: cfg, MaskOnPhoto: onPhoto, Folds: folds, DetectFallback: detectFallback}
	st := res.Stats
	fmt.Fprintf(stdio.Err, "eval: %d images: %d located, %d crops embedded, %d from the cache; %d image variants failed", st.Images, st.Located, st.Embedded, st.Cached, st.Failed)
	if st.Fallback > 0 {
		fmt.Fprintf(stdio.Err, ", %d faces below the detector threshold (fallback)", st.Fallback)
	}
	fmt.Fprintf(stdio.Err, "; %.1f s\n", time.Since(start).Seconds())
	if st.CacheErrs > 0 {
		fmt.Fprintf(stdio.Err, "eval: %d writes to the embedding cache failed\n", st.CacheErrs)
	}
	if len(res.Dropped) > 0 {
		fmt.Fprintf(stdio.Err, "eval: %d pairs dropped, not scored (--allow-missing): they name %s: %s\n", len(res.Dropped), nouns(len(res.Missing), "missing image"), missingList(res.Missing))
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(stdio.Err, "eval: %d image variants have no embedding; their pairs count as failed (rejected, \"different\"):\n", len(res.Failures))
		for i, f := range res.Failures {
			if i == 10 {
				fmt.Fprintf(stdio.Err, "  … and %d more (see failed.csv with --report)\n", len(res.Failures)-i)
				break
			}
			fmt.Fprintf(stdio.Err, "  %s (%s): %s\n", f.Key, f.Variant, f.Error)
		}
	}
	if err := res.measured(); err != nil {
		return err
	}
	if _, err := io.WriteString(stdio.Out, res.Markdown(info)); err != nil {
		return err
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res.JSON(info), "", "  ")
		if err != nil {
			return err
		}
		if err := imageio.WriteAtomic(*jsonOut, func(w io.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return err
		}
	}
	if *reportDir != "" {
		if err := claimFolder(*reportDir, "eval", reportFiles(), *force); err != nil {
			return err
		}
		if err := res.WriteReport(*reportDir, info); err != nil {
			return err
		}
	}
	return nil
}

// reportFiles are the files WriteReport writes.
func reportFiles() []string {
	return []string{ReportROC, ReportDET, ReportHistogram, ReportScores, ReportFlips, ReportFailed, ReportTable}
}

// parseProtocols reads --protocol; "" gives the dataset's default.
func parseProtocols(s, kind string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		if kind == SetMFR2 {
			return []string{ProtoReal}, nil
		}
		return []string{ProtoBLRBLR, ProtoBLRM, ProtoMM}, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == ProtoReal && kind != SetMFR2:
			return nil, fmt.Errorf("protocol %q is for mfr2 (real masks); use blr-blr", p)
		case !slices.Contains(EvalProtocols(), p):
			return nil, fmt.Errorf("unknown protocol %q: want blr-blr, blr-m, m-m or real", p)
		case slices.Contains(out, p):
			return nil, fmt.Errorf("protocol %q given twice", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseFolds reads "1-10", "10" or "1,3,5-7" (1-based, as LFW numbers its
// folds) and returns sorted, distinct 0-based folds.
func parseFolds(s string) ([]int, error) {
	seen := [10]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%q is not a fold number or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("%q is not a fold number or range", part)
			}
		}
		if a < 1 || b > 10 || a > b {
			return nil, fmt.Errorf("%q: folds are 1 to 10", part)
		}
		for f := a; f <= b; f++ {
			seen[f-1] = true
		}
	}
	var folds []int
	for f, ok := range seen {
		if ok {
			folds = append(folds, f)
		}
	}
	return folds, nil
}

// formatFolds writes 0-based folds the way --folds reads them, 1-based:
// "1-3,7".
func formatFolds(folds []int) string {
	var parts []string
	for i := 0; i < len(folds); {
		j := i
		for j+1 < len(folds) && folds[j+1] == folds[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", folds[i]+1, folds[j]+1))
		} else {
			parts = append(parts, strconv.Itoa(folds[i]+1))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
