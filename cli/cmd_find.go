package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/gallery/blaskernel"
	"github.com/maskinv/workbench/gallery/clkernel"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/progress"
)

func runFind(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("find", stdio.Err, "find --gallery STORE|DIR [--k N] [--json] [--model F] [--aligned] QUERY...\n\n"+
		"For each query photo (a file, or the photos of a folder), the gallery photos most like it by\n"+
		"cosine similarity, best first: e.g. masked photos against a gallery of unmasked ones. The\n"+
		"gallery is an embedding store ('embed --out', merged; memory-mapped, never read whole), made\n"+
		"with the same recogniser, or a photo folder, embedded first. On an OpenCL device (--device)\n"+
		"the search runs there too (the gallery kept in device memory).\n")
	ef := addEngineFlags(fs, false)
	aligned := addAlignedFlag(fs) // the gallery folder's photos too
	galleryPath := fs.String("gallery", "", "an embedding store, or a folder of photos (required)")
	k := fs.Int("k", 5, "gallery photos per query")
	asJSON := fs.Bool("json", false, `one JSON object per query: {"query","face","hits":[{"row","score","path"}],"error"}`)
	batch := fs.Int("batch", 32, "faces per recogniser batch")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	switch {
	case *galleryPath == "":
		fs.Usage()
		return usagef("--gallery is required")
	case fs.NArg() == 0:
		fs.Usage()
		return usagef("no query photos given")
	case *k < 1:
		return usagef("--k %d, want at least 1", *k)
	case *batch < 1:
		return usagef("--batch %d, want at least 1", *batch)
	}
	queries, skipped, err := app.ImagePaths(fs.Args())
	if err != nil {
		return err
	}
	for _, r := range skipped {
		fmt.Fprintln(stdio.Err, "note:", r.Error)
	}
	eng, err := ef.load(stdio)
	if err != nil {
		return err
	}
	defer eng.Close()
	eng.Embedder.Batch = *batch
	g, err := app.OpenGallery(ctx, eng, *galleryPath, app.GalleryOptions{Aligned: *aligned, Batch: *batch, Progress: progress.For(stdio.Err, "embed gallery")})
	if err != nil {
		return err
	}
	defer g.Close()
	for _, n := range g.Notes {
		fmt.Fprintln(stdio.Err, "note:", n)
	}
	kernel, closeKernel, err := searchKernel(eng.Device())
	if err != nil {
		return err
	}
	defer closeKernel()
	res, err := app.Find(ctx, eng, g, queries, app.FindOptions{K: *k, Aligned: *aligned, Batch: *batch, Kernel: kernel})
	for _, r := range res {
		if werr := writeFindResult(stdio.Out, r, *asJSON); werr != nil {
			return werr
		}
	}
	return err
}

// searchKernel is where find searches the gallery: on the models' OpenCL
// device when they run on one (the rows kept in its memory, each block's
// best picked there), else on the CPU with OpenBLAS. The hits are the
// same either way.
func searchKernel(dev *model.Device) (gallery.Kernel, func(), error) {
	if dev.IsCPU() {
		return blaskernel.New(), func() {}, nil
	}
	spec, err := model.ParseDeviceSpec(dev.Info().Spec)
	if err != nil {
		return nil, nil, err
	}
	k, err := clkernel.Open(spec.Platform, spec.Device, clkernel.Options{})
	if err != nil {
		return nil, nil, err
	}
	return k, func() { _ = k.Close() }, nil // releasing the device at exit cannot be acted on
}

// writeFindResult writes one query's hits: a JSON line, or a block of
// lines (the query and its face, then rank, score and path).
func writeFindResult(w io.Writer, r app.FindResult, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if r.Error != "" {
		_, err := fmt.Fprintf(w, "%s\terror: %s\n", r.Query, r.Error)
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\t%s\n", r.Query, r.Face); err != nil {
		return err
	}
	for i, h := range r.Hits {
		if _, err := fmt.Fprintf(w, "  %d\t%.4f\t%s\n", i+1, h.Score, h.Path); err != nil {
			return err
		}
	}
	return nil
}
