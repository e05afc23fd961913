package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/progress"
)

func runCompare(ctx context.Context, args []string, stdio Stdio) error {
	fl := newFlagSet("compare", stdio.Err, "compare --in DIR|--demo --out FILE.png [--model A [--model B]] [--threshold T ...] [--mask-style S] [--mask-color C] [--seed N] [--shift X,Y] [--diff um|mm] [--csv FILE]\n\n"+
		"With two --model, both models embed the same aligned, masked crops: each model's three heatmaps on one\n"+
		"colour scale at its own threshold, the change between them (second − first), both models' statistics\n"+
		"and which model's decisions masks flip; --csv then has each model's columns, named after it.\n")
	in := fl.String("in", "", "photo folder: one subfolder per identity, or flat (identities from Name_NNNN file names)")
	demo := fl.Bool("demo", false, "use the embedded demo folder instead of --in")
	out := fl.String("out", "", "PNG to write (required): heatmaps, legend, histograms, faces, settings")
	csvPath := fl.String("csv", "", "also write every pair's scores as CSV to this file")
	mf := addMaskFlags(fl, "mask-", "mask seed: the same seed gives the same masks", true)
	diff := fl.String("diff", "none", "difference map (one model): none, um ((unmasked vs masked) − unmasked) or mm ((masked vs masked) − unmasked)")
	ef := addModelFlags(fl, true, 2)
	cell := fl.Int("cell", 0, "heatmap cell size in pixels (0: fit 360 px, at least 1)")
	if help, err := parseFlags(fl, args); help || err != nil {
		return err
	}
	switch {
	case fl.NArg() > 0:
		return usagef("unexpected arguments %q", fl.Args())
	case (*in == "") == !*demo:
		return usagef("give --in DIR or --demo")
	case *out == "":
		return usagef("--out is required")
	case *cell < 0 || *cell > 64:
		return usagef("--cell must be within 0..64")
	}
	if err := ef.check(stdio); err != nil {
		return err
	}
	mcfg, err := mf.config()
	if err != nil {
		return err
	}
	dk, err := compare.ParseDiff(*diff)
	if err != nil {
		return usagef("--diff: %v", err)
	}
	if dk != compare.DiffNone && len(ef.chosen) > 1 {
		return usagef("--diff is for one model; with two, the picture shows the change between them")
	}
	if *csvPath != "" && filepath.Clean(*csvPath) == filepath.Clean(*out) {
		return usagef("--out and --csv name the same file %s", *out)
	}
	for _, o := range [...]struct{ flag, path string }{{"--out", *out}, {"--csv", *csvPath}} {
		if err := checkOutputPath(o.flag, o.path); err != nil {
			return err
		}
	}
	src, where, name, err := compareSource(*demo, *in)
	if err != nil {
		return err
	}
	eng, err := ef.load(stdio)
	if err != nil {
		return err
	}
	defer eng.Close()
	opt := compare.Options{Source: name, Mask: mcfg, Model: ef.compareModel(0), Threshold: eng.Threshold, Progress: progress.Terminal(stdio.Err, "compare")}
	ropt := compare.RenderOptions{Diff: dk, Cell: *cell}
	if len(ef.chosen) == 2 {
		return compareTwo(ctx, stdio, eng, ef, src, opt, compareOutputs{where, *out, *csvPath, ropt})
	}
	c, err := compare.Folder(ctx, eng, src, opt)
	if err != nil {
		return fmt.Errorf("compare %s: %w", where, err)
	}
	if err := writeComparison(c, c, where, *out, *csvPath, ropt, stdio); err != nil {
		return err
	}
	return reportComparison(c, *out, *csvPath, stdio)
}

// compareOutputs are where compare reads from (for messages) and what it
// writes.
type compareOutputs struct {
	where, png, csv string
	render          compare.RenderOptions
}

// compareTwo is compare with two models: the second recogniser is loaded
// on the engine's device (before the analysis, so that a model the engine
// refuses costs no time), and both embed the crops the first analysis
// made.
func compareTwo(ctx context.Context, stdio Stdio, eng *engine.Engine, ef *engineFlags, src fs.FS, opt compare.Options, o compareOutputs) error {
	rec, err := eng.LoadRecogniser(ef.chosen[1].Source)
	if err != nil {
		return err
	}
	d, err := compare.FolderDuo(ctx, eng, src, opt, compare.Second{Recogniser: rec, Model: ef.compareModel(1), Threshold: ef.chosen[1].threshold})
	if err != nil {
		return fmt.Errorf("compare %s: %w", o.where, err)
	}
	if err := writeComparison(d.Models[0], d, o.where, o.png, o.csv, o.render, stdio); err != nil {
		return err
	}
	fmt.Fprintln(stdio.Out, d.Summary())
	for k, c := range d.Models {
		fmt.Fprintln(stdio.Out, d.ModelLine(k))
		for _, st := range c.Stats {
			fmt.Fprintf(stdio.Out, "  %s\n", st.Line())
		}
		if c.StatsErr != nil {
			fmt.Fprintln(stdio.Out, "  no statistics:", c.StatsErr)
		}
	}
	for _, l := range d.FlipLines() {
		fmt.Fprintln(stdio.Out, l)
	}
	return reportWritten(o.png, o.csv, stdio)
}

// compareSource is the folder to compare, where it is (for messages) and
// its name (for titles).
func compareSource(demo bool, in string) (src fs.FS, where, name string, err error) {
	if demo {
		return assets.Demo(), "the embedded demo", "embedded demo", nil
	}
	st, err := os.Stat(in)
	if err != nil {
		return nil, "", "", err
	}
	if !st.IsDir() {
		return nil, "", "", usagef("--in %s is not a folder", in)
	}
	return os.DirFS(in), in, filepath.Base(filepath.Clean(in)), nil
}

// maxListedFailures is how many photos without a face compare names before
// "… and N more".
const maxListedFailures = 20

// exporter writes a comparison of one model or two.
type exporter interface {
	WritePNG(path string, opt compare.RenderOptions) error
	WriteCSVFile(path string) error
}

// writeComparison names the photos left out of c on stderr, then writes
// exp's PNG and, when csvPath is not empty, its CSV. When no photo has a
// face it writes nothing: an empty picture would pass for a result.
func writeComparison(c *compare.Comparison, exp exporter, where, pngPath, csvPath string, opt compare.RenderOptions, stdio Stdio) error {
	if n := len(c.Photos) - c.N(); n > 0 {
		fmt.Fprintf(stdio.Err, "%d of %d photos in %s left out:\n", n, len(c.Photos), where)
		for _, line := range c.FailureLines(maxListedFailures) {
			fmt.Fprintln(stdio.Err, "  "+line)
		}
	}
	if err := c.CheckRows(where); err != nil {
		return err
	}
	if err := exp.WritePNG(pngPath, opt); err != nil {
		return err
	}
	if csvPath != "" {
		if err := exp.WriteCSVFile(csvPath); err != nil {
			return fmt.Errorf("wrote %s, but: %w", pngPath, err)
		}
	}
	return nil
}

// checkOutputPath fails early, before the analysis, when a file cannot be
// written at path because its folder is missing or path is a folder: found
// later, it would leave the PNG written and the CSV not.
func checkOutputPath(flagName, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s is a folder", flagName, path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s %s: %s is not a folder", flagName, path, dir)
	}
	return nil
}

// reportComparison prints the summary, the statistics and what was written.
func reportComparison(c *compare.Comparison, pngPath, csvPath string, stdio Stdio) error {
	fmt.Fprintf(stdio.Out, "%s\n", c.Summary())
	for _, st := range c.Stats {
		fmt.Fprintln(stdio.Out, st.Line())
	}
	if c.StatsErr != nil {
		fmt.Fprintln(stdio.Out, "no statistics:", c.StatsErr)
	}
	fmt.Fprintln(stdio.Out, c.FlipLine())
	return reportWritten(pngPath, csvPath, stdio)
}

// reportWritten says which files were written.
func reportWritten(pngPath, csvPath string, stdio Stdio) error {
	fmt.Fprintf(stdio.Out, "wrote %s", pngPath)
	if csvPath != "" {
		fmt.Fprintf(stdio.Out, " and %s", csvPath)
	}
	_, err := fmt.Fprintln(stdio.Out)
	return err
}
