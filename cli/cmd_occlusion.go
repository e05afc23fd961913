package cli

import (
	"context"
	"fmt"
	"image"
	"path/filepath"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/occlusion"
	"github.com/maskinv/workbench/shard"
)

// maxOcclusionModels is how many --model occlusion draws side by side.
const maxOcclusionModels = 4

const occlusionSynopsis = `occlusion A B [--model M]... [--mask-style S] [--mask-color C] [--seed N] [--shift X,Y] [--patch 8 --stride 4] [--aligned] --out FILE.png [--json FILE]

Where on the faces of photos A and B each model's similarity comes from: every patch×patch square of
each aligned face, at the given stride, is hidden behind grey in turn, and the drop of the pair's
cosine score is mapped, for the faces unmasked and masked (blr-blr, blr-m, m-m); with several --model,
the models' maps side by side on one colour scale (red: hiding the region lowers the score). Masks are
drawn on the aligned crops keyed by each photo's path as given, so that, run from inside a folder,
they are the masks 'maskinv compare --in' that folder draws. --json writes the raw maps
(schema maskinv-occlusion/1). 8×8 patches at stride 4 take 4 × 730 embeddings per model.
`

func runOcclusion(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("occlusion", stdio.Err, occlusionSynopsis)
	ef := addModelFlags(fs, true, maxOcclusionModels)
	ef.thresholdOptional = true
	mf := addMaskFlags(fs, "mask-", "mask seed: the same seed gives the same masks", true)
	patch := fs.Int("patch", occlusion.DefaultPatch, "side of the grey square, in aligned-crop pixels")
	stride := fs.Int("stride", occlusion.DefaultStride, "step between patch positions (at most --patch)")
	batch := fs.Int("batch", occlusion.DefaultBatch, "occluded crops per recogniser batch")
	aligned := addAlignedFlag(fs)
	out := fs.String("out", "", "PNG to write (required): the faces and their maps, a row per setting, a column group per model")
	jsonPath := fs.String("json", "", "also write the maps as JSON to this file")
	pos, help, err := parseInterleaved(fs, args)
	if help || err != nil {
		return err
	}
	opt := occlusion.Options{Patch: *patch, Stride: *stride, Batch: *batch}
	switch {
	case len(pos) != 2:
		return usagef("want two photos A and B, got %d", len(pos))
	case *out == "":
		return usagef("--out is required")
	case *batch < 1:
		return usagef("--batch %d, want at least 1", *batch)
	case *jsonPath != "" && filepath.Clean(*jsonPath) == filepath.Clean(*out):
		return usagef("--out and --json name the same file %s", *out)
	}
	if err := opt.Grid(112).Validate(); err != nil {
		return usagef("--patch %d --stride %d: %v", *patch, *stride, err)
	}
	for _, o := range [...]struct{ flag, path string }{{"--out", *out}, {"--json", *jsonPath}} {
		if err := checkOutputPath(o.flag, o.path); err != nil {
			return err
		}
	}
	if err := ef.check(stdio); err != nil {
		return err
	}
	mask, err := mf.config()
	if err != nil {
		return err
	}
	eng, err := ef.load(stdio)
	if err != nil {
		return err
	}
	defer eng.Close()
	pair, err := occlusionPair(ctx, eng, pos[0], pos[1], *aligned, mask)
	if err != nil {
		return err
	}
	var results []*occlusion.Result
	for k := range ef.chosen {
		res, err := occlusionMaps(ctx, stdio, eng, ef.chosen[k], pair, opt)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	return writeOcclusion(stdio, pair, results, mask, *out, *jsonPath)
}

// occlusionPair locates and aligns the two photos (or takes them as
// aligned crops) and masks each crop, keyed by its path as given.
func occlusionPair(ctx context.Context, eng *engine.Engine, a, b string, aligned bool, mask maskgen.Config) (occlusion.Pair, error) {
	var crops, masked [2]*image.NRGBA
	for k, path := range [2]string{a, b} {
		img, err := imageio.Decode(path)
		if err != nil {
			return occlusion.Pair{}, err
		}
		crop := img
		switch {
		case !aligned:
			res, err := eng.Locate(ctx, img)
			if err != nil {
				return occlusion.Pair{}, fmt.Errorf("%s: %w", path, err)
			}
			crop = res.Aligned
		case img.Rect.Dx() != face.AlignedSize || img.Rect.Dy() != face.AlignedSize:
			return occlusion.Pair{}, fmt.Errorf("%s: %d×%d, want an aligned %d×%d crop (--aligned)", path, img.Rect.Dx(), img.Rect.Dy(), face.AlignedSize, face.AlignedSize)
		}
		m, err := mask.ApplyAligned(crop, filepath.ToSlash(filepath.Clean(path)))
		if err != nil {
			return occlusion.Pair{}, fmt.Errorf("%s: mask: %w", path, err)
		}
		crops[k], masked[k] = crop, m.Image
	}
	return occlusion.Pair{NameA: filepath.Base(a), NameB: filepath.Base(b), A: crops[0], B: crops[1], MaskedA: masked[0], MaskedB: masked[1]}, nil
}

// occlusionMaps computes one model's maps on the engine's device, with
// progress on stderr.
func occlusionMaps(ctx context.Context, stdio Stdio, eng *engine.Engine, c chosenModel, pair occlusion.Pair, opt occlusion.Options) (*occlusion.Result, error) {
	data, err := c.Source.Bytes()
	if err != nil {
		return nil, err
	}
	emb, err := occlusion.NewNetEmbedder(c.Source.Name, data, eng.Device())
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	opt.Progress = progressFor(stdio, "occlusion "+c.Label, shard.Whole)
	return occlusion.ComputePair(ctx, emb, occlusion.Model{Name: c.Label, SHA256: c.SHA256, Threshold: c.threshold}, pair, opt)
}

// writeOcclusion writes the figure and the JSON, and says on stdout what
// each model's maps show: the pair's score per setting and the share of
// the score's support that lies above the eye line.
func writeOcclusion(stdio Stdio, pair occlusion.Pair, results []*occlusion.Result, mask maskgen.Config, out, jsonPath string) error {
	img, err := occlusion.Figure(pair, results, occlusion.FigureOptions{})
	if err != nil {
		return err
	}
	if err := imageio.WritePNG(out, img); err != nil {
		return err
	}
	if jsonPath != "" {
		f := occlusion.File{FaceA: pair.NameA, FaceB: pair.NameB, Mask: mask.String(), Results: results}
		if err := occlusion.WriteJSON(jsonPath, f); err != nil {
			return fmt.Errorf("wrote %s, but: %w", out, err)
		}
	}
	for _, r := range results {
		for _, s := range r.Settings {
			fmt.Fprintf(stdio.Out, "%s %s: score %.4f; share of the drop above the eye line: A %.2f, B %.2f\n",
				r.Model.Name, s.Setting.ID(), s.Score, s.A.ShareAbove(occlusion.EyeLine), s.B.ShareAbove(occlusion.EyeLine))
		}
	}
	return reportWritten(out, jsonPath, stdio)
}
