package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/shard"
)

const modelsSynopsis = `models [list] [--json]
       maskinv models add FILE [--json]
       maskinv models threshold MODEL T|none|default [--json]
       maskinv models calibrate MODEL --lfw DIR [--folds 1-10] [--device D] [--cache DIR | --no-cache] [--json]
       maskinv models remove MODEL

The model list: the recognisers --model can name by their name or a sha256 prefix, with their input,
output dimension, FLOPs and verification threshold, kept in $` + app.ModelsEnv + ` or else the user's config
folder (models.json). The embedded teacher and student are always on it and cannot be removed. MODEL
is what --model takes: teacher, student, a file, a name or a sha256 prefix; a file not on the list yet
is added first. calibrate embeds the unmasked LFW View 2 pairs (blr-blr, embeddings cached) with the
model and stores the mean of the per-fold thresholds that maximise accuracy, as the teacher's 0.2797
and the student's 0.2756 were chosen; threshold T sets one by hand, none clears it, default restores
an embedded model's published one.
`

// modelsArgs are the flags of every models action; each action uses the
// ones that make sense for it and refuses none (they are harmless).
type modelsArgs struct {
	asJSON, noCache *bool
	lfw, folds      *string
	cache           *string
	workers, batch  *int
	device          deviceFlag
}

func runModels(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("models", stdio.Err, modelsSynopsis)
	ma := modelsArgs{
		asJSON:  fs.Bool("json", false, "write the list, or the entry changed, as JSON"),
		lfw:     fs.String("lfw", "", "calibrate: LFW folder with pairs.txt (View 2)"),
		folds:   fs.String("folds", "", "calibrate: folds to use, 1-based, e.g. 1-10 (default: all; at least two)"),
		cache:   fs.String("cache", "", "calibrate: embedding cache folder (default: <user cache dir>/maskinv/embeddings)"),
		noCache: fs.Bool("no-cache", false, "calibrate: neither read nor write the embedding cache"),
		workers: fs.Int("workers", 0, "calibrate: images decoded and located at once (default: number of CPUs)"),
		batch:   fs.Int("batch", 32, "calibrate: crops per recogniser batch"),
		device:  addDeviceFlag(fs),
	}
	pos, help, err := parseInterleaved(fs, args)
	if help || err != nil {
		return err
	}
	action := "list"
	if len(pos) > 0 {
		action, pos = pos[0], pos[1:]
	}
	want := map[string]int{"list": 0, "add": 1, "threshold": 2, "calibrate": 1, "remove": 1}
	n, ok := want[action]
	switch {
	case !ok:
		return usagef("models: unknown action %q (want list, add, threshold, calibrate or remove)", action)
	case len(pos) != n:
		return usagef("models %s takes %d argument(s), got %d: %q", action, n, len(pos), pos)
	case action == "calibrate" && *ma.lfw == "":
		return usagef("models calibrate needs --lfw DIR")
	}
	reg, err := openModelList(stdio)
	if err != nil {
		return err
	}
	switch action {
	case "list":
		return listModels(reg, stdio, *ma.asJSON)
	case "add":
		e, _, err := reg.Add(ctx, pos[0])
		if err != nil {
			return err
		}
		return printEntry(stdio, "added", e, *ma.asJSON)
	case "threshold":
		return setThreshold(reg, stdio, pos[0], pos[1], *ma.asJSON)
	case "calibrate":
		return calibrateModel(ctx, reg, stdio, pos[0], ma)
	}
	return removeModel(reg, stdio, pos[0])
}

// parseInterleaved parses fs's flags wherever they stand among the
// positional arguments (the flag package stops at the first of those),
// and returns the positional ones in order.
func parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, help bool, err error) {
	for {
		if help, err := parseFlags(fs, args); help || err != nil {
			return nil, help, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), false, nil // everything after -- is positional
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// listModels writes the list as a table (or JSON). A corrupt list file
// is an error (exit 1) after the embedded models, which are always there,
// are listed.
func listModels(reg *modelreg.Registry, stdio Stdio, asJSON bool) error {
	list, listErr := reg.List()
	if list == nil {
		return listErr
	}
	if asJSON {
		out := struct {
			Path   string           `json:"path"`
			Models []modelreg.Entry `json:"models"`
			Error  string           `json:"error,omitempty"`
		}{Path: reg.Path(), Models: list}
		if listErr != nil {
			out.Error = listErr.Error()
		}
		if err := writeJSONLine(stdio.Out, out); err != nil {
			return err
		}
		return listErr
	}
	tw := tabwriter.NewWriter(stdio.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSHA256\tINPUT\tDIM\tGFLOPs\tTHRESHOLD\tSOURCE\tFILE")
	for _, e := range list {
		file := e.Path
		if e.Embedded {
			file = "(embedded)"
		}
		th := "-"
		if e.ThresholdSource != modelreg.ThresholdNone {
			th = fmt.Sprintf("%.4f", e.Threshold)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%s\t%s\t%s\n", e.Name, e.SHA256[:12], shapeString(e.Input), e.OutputDim, e.FLOPs/1e9, th, e.ThresholdSource, file)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Err, "model list: %s\n", reg.Path())
	return listErr
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printEntry reports a changed entry: one line, or the entry as JSON.
func printEntry(stdio Stdio, what string, e modelreg.Entry, asJSON bool) error {
	if asJSON {
		return writeJSONLine(stdio.Out, e)
	}
	th := "no threshold yet (maskinv models threshold or calibrate)"
	if e.ThresholdSource != modelreg.ThresholdNone {
		th = fmt.Sprintf("threshold %.4f (%s)", e.Threshold, e.ThresholdSource)
	}
	_, err := fmt.Fprintf(stdio.Out, "%s %s: sha256 %s, input %s, output %d, %.2f GFLOPs, %s\n",
		what, e.Name, e.SHA256, shapeString(e.Input), e.OutputDim, e.FLOPs/1e9, th)
	return err
}

// listed resolves ref to an entry of the list, adding a file that is not
// on it yet.
func listed(ctx context.Context, reg *modelreg.Registry, stdio Stdio, ref string) (modelreg.Entry, error) {
	c, err := resolveRef(stdio, ref)
	if err != nil {
		return modelreg.Entry{}, err
	}
	switch {
	case c.Listed:
		return reg.Get(c.SHA256)
	case c.Source.Embedded():
		return modelreg.Entry{}, fmt.Errorf("model %s is embedded, but the model list could not be read (%v)", ref, c.ListErr)
	}
	e, _, err := reg.Add(ctx, c.Source.Path)
	if err != nil {
		return modelreg.Entry{}, err
	}
	fmt.Fprintf(stdio.Err, "added %s to the model list\n", e.Name)
	return e, nil
}

func setThreshold(reg *modelreg.Registry, stdio Stdio, ref, value string, asJSON bool) error {
	e, err := listed(context.Background(), reg, stdio, ref)
	if err != nil {
		return err
	}
	var t float64
	src := modelreg.ThresholdManual
	switch value {
	case "none":
		src = modelreg.ThresholdNone
	case "default":
		src = modelreg.ThresholdDefault
		if t, err = reg.Published(e.SHA256); err != nil {
			return fmt.Errorf("%w: threshold default for %s: %w", ErrUsage, e.Name, err)
		}
	default:
		if t, err = strconv.ParseFloat(value, 64); err != nil {
			return usagef("threshold %q: want a cosine within [-1, 1], none or default", value)
		}
	}
	e, err = reg.SetThreshold(e.SHA256, t, src, nil)
	if errors.Is(err, modelreg.ErrThreshold) {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if err != nil {
		return err
	}
	return printEntry(stdio, "set", e, asJSON)
}

func removeModel(reg *modelreg.Registry, stdio Stdio, ref string) error {
	c, err := resolveRef(stdio, ref)
	if err != nil {
		return err
	}
	if err := reg.Remove(c.SHA256); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdio.Out, "removed %s (%s) from the model list; the file stays\n", c.Label, c.SHA256[:12])
	return err
}

// calibrateModel embeds LFW View 2's unmasked pairs with the model and
// stores the threshold app.CalibrateLFW chooses.
func calibrateModel(ctx context.Context, reg *modelreg.Registry, stdio Stdio, ref string, ma modelsArgs) error {
	spec, err := ma.device.spec()
	if err != nil {
		return err
	}
	var folds []int
	if *ma.folds != "" {
		if folds, err = eval.ParseFolds(*ma.folds); err != nil {
			return usagef("--folds: %v", err)
		}
	}
	e, err := listed(ctx, reg, stdio, ref)
	if err != nil {
		return err
	}
	set, err := dataset.Builtin().OpenEval("lfw", *ma.lfw, dataset.EvalOptions{})
	if err != nil {
		return err
	}
	if folds != nil {
		if err := set.SelectFolds(folds); err != nil {
			return err
		}
	}
	src, err := e.Source()
	if err != nil {
		return err
	}
	eng, err := ma.device.load(engine.Options{Recogniser: src, Device: &spec})
	if err != nil {
		return err
	}
	defer eng.Close()
	eng.Embedder.Batch = *ma.batch
	cache := openEmbeddingCache(stdio, "models calibrate", *ma.cache, *ma.noCache, e.SHA256)
	if cache != nil {
		defer cache.Close()
	}
	t, cal, res, err := app.CalibrateLFW(ctx, eng, set, app.EvalOptions{
		ModelHash: e.SHA256, Pipeline: eng.PipelineID(false), Cache: cache, Workers: *ma.workers, Batch: *ma.batch,
		Progress: progressFor(stdio, "calibrate "+e.Name, shard.Whole),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Err, "%d images: %d embedded, %d from the cache, %d without a face\n", res.Stats.Images, res.Stats.Embedded, res.Stats.Cached, res.Stats.Failed)
	if e, err = reg.SetThreshold(e.SHA256, t, modelreg.ThresholdLFW, &cal); err != nil {
		return err
	}
	if *ma.asJSON {
		return writeJSONLine(stdio.Out, e)
	}
	_, err = fmt.Fprintf(stdio.Out, "calibrated %s on %s (%d pairs, %d folds): threshold %.4f, accuracy %.2f%% ± %.2f%%\n",
		e.Name, cal.Dataset, cal.Pairs, len(cal.FoldThresholds), t, 100*cal.Accuracy, 100*cal.AccuracyStd)
	return err
}
