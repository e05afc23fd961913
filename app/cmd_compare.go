package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/progress"
)

func compareCommand() Command {
	return Command{Name: "compare", Summary: "similarity heatmaps of a photo folder, unmasked and masked, as a PNG (and CSV)", Run: runCompare}
}

func runCompare(ctx context.Context, args []string, stdio Stdio) error {
	fl := flag.NewFlagSet("compare", flag.ContinueOnError)
	fl.SetOutput(stdio.Err)
	in := fl.String("in", "", "photo folder: one subfolder per identity, or flat (identities from Name_NNNN file names)")
	demo := fl.Bool("demo", false, "use the embedded demo folder instead of --in")
	out := fl.String("out", "", "PNG to write (required): heatmaps, legend, histograms, faces, settings")
	csvPath := fl.String("csv", "", "also write every pair's scores as CSV to this file")
	mf := addMaskFlags(fl, "mask-", "mask seed: the same seed gives the same masks", true)
	diff := fl.String("diff", "none", "difference map: none, um ((unmasked vs masked) − unmasked) or mm ((masked vs masked) − unmasked)")
	modelPath := fl.String("model", "", "recogniser ONNX (N×3×112×112 input); default: the embedded one")
	threshold := fl.Float64("threshold", 0, fmt.Sprintf("decision threshold on cosine similarity (default %.4f for the embedded recogniser; required with --model)", DefaultThreshold))
	cell := fl.Int("cell", 0, "heatmap cell size in pixels (0: fit 360 px, at least 1)")
	fl.Usage = func() {
		fmt.Fprintln(stdio.Err, "usage: maskinv compare --in DIR --out FILE.png [--mask-style S] [--mask-color C] [--seed N] [--shift X,Y] [--diff um|mm] [--csv FILE]")
		fl.PrintDefaults()
	}
	if help, err := parseFlags(fl, args); help || err != nil {
		return err
	}
	usage := usageError
	switch {
	case fl.NArg() > 0:
		return usage("unexpected arguments %q", fl.Args())
	case (*in == "") == !*demo:
		return usage("give --in DIR or --demo")
	case *out == "":
		return usage("--out is required")
	case *cell < 0 || *cell > 64:
		return usage("--cell must be within 0..64")
	case *modelPath != "" && *threshold == 0:
		return usage("--model needs --threshold (the default %.4f belongs to the embedded recogniser)", DefaultThreshold)
	}
	mcfg, sh, err := mf.config()
	if err != nil {
		return err
	}
	dk, err := ParseDiff(*diff)
	if err != nil {
		return usage("--diff: %v", err)
	}
	var src fs.FS
	name := "embedded demo"
	if *demo {
		src = assets.Demo()
	} else {
		st, err := os.Stat(*in)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			return usage("--in %s is not a folder", *in)
		}
		src = os.DirFS(*in)
		name = filepath.Base(filepath.Clean(*in))
	}
	eng, err := LoadEngine(EngineOptions{RecogniserPath: *modelPath})
	if err != nil {
		return err
	}
	c, err := Compare(ctx, eng, src, CompareOptions{
		Source:    name,
		Mask:      MaskSettings{Config: mcfg, Shift: sh},
		Threshold: *threshold,
		Progress:  progress.Terminal(stdio.Err, "compare"),
	})
	if err != nil {
		return err
	}
	for _, p := range c.Failed() {
		fmt.Fprintln(stdio.Err, "failed:", p.Err)
	}
	if err := c.WritePNG(*out, RenderOptions{Diff: dk, Cell: *cell}); err != nil {
		return err
	}
	if *csvPath != "" {
		if err := c.WriteCSVFile(*csvPath); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdio.Out, "%s\n", c.Summary())
	for _, st := range c.Stats {
		fmt.Fprintln(stdio.Out, st.Line())
	}
	if c.StatsErr != nil {
		fmt.Fprintln(stdio.Out, "no statistics:", c.StatsErr)
	}
	fmt.Fprintln(stdio.Out, c.FlipLine())
	fmt.Fprintf(stdio.Out, "wrote %s", *out)
	if *csvPath != "" {
		fmt.Fprintf(stdio.Out, " and %s", *csvPath)
	}
	fmt.Fprintln(stdio.Out)
	if c.N() == 0 {
		return errors.New("no face found in any photo")
	}
	return nil
}
