package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/progress"
)

// EmbedRecord is one line of `maskinv embed --json`: a contract that
// scripts and other commands rely on.
type EmbedRecord struct {
	Path       string       `json:"path"`
	Embedding  []float32    `json:"embedding,omitempty"`
	Box        []float64    `json:"box,omitempty"`        // x, y, w, h in photo pixels
	Landmarks5 [][2]float64 `json:"landmarks5,omitempty"` // eyes, nose tip, mouth corners
	Face       string       `json:"face,omitempty"`       // which face was chosen, of how many
	Error      string       `json:"error,omitempty"`
}

func embedCommand() Command {
	return Command{Name: "embed", Summary: "detect, align and embed faces (one JSON line per image)", Run: runEmbed}
}

func runEmbed(ctx context.Context, args []string, stdio Stdio) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	ef := addEngineFlags(fs)
	aligned, modelPath := ef.aligned, ef.model
	asJSON := fs.Bool("json", false, "write one JSON object per line instead of a table")
	batch := fs.Int("batch", 32, "faces per recogniser batch")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: maskinv embed [--aligned] [--model F] [--json] IMAGE|DIR...")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no images given", ErrUsage)
	}
	paths, skipped, err := imagePaths(fs.Args())
	if err != nil {
		return err
	}
	failed := 0
	write := func(r EmbedRecord) error {
		if r.Error != "" {
			failed++
		}
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdio.Out, "%s\n", b)
			return err
		}
		return writeEmbedRow(stdio.Out, r)
	}
	// What a folder scan could not use is a per-path error, as an
	// unreadable file is, and the rest goes on.
	for _, r := range skipped {
		if err := write(r); err != nil {
			return err
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("no images found in %v", fs.Args())
	}
	eng, err := engine.Load(engine.Options{RecogniserPath: *modelPath})
	if err != nil {
		return err
	}
	eng.Embedder.Batch = *batch
	if err := EmbedFiles(ctx, eng, paths, *aligned, *batch, progress.Terminal(stdio.Err, "embed"), write); err != nil {
		return err
	}
	failed -= len(skipped)
	fmt.Fprintf(stdio.Err, "%d images, %d embedded, %d failed", len(paths), len(paths)-failed, failed)
	if len(skipped) > 0 {
		fmt.Fprintf(stdio.Err, "; %d paths in the folders skipped", len(skipped))
	}
	fmt.Fprintln(stdio.Err)
	if failed == len(paths) {
		return errors.New("no image could be embedded")
	}
	return nil
}

func writeEmbedRow(w io.Writer, r EmbedRecord) error {
	if r.Error != "" {
		_, err := fmt.Fprintf(w, "%s\terror: %s\n", r.Path, r.Error)
		return err
	}
	box := "aligned"
	if r.Box != nil {
		box = fmt.Sprintf("box %.0f,%.0f %.0f×%.0f", r.Box[0], r.Box[1], r.Box[2], r.Box[3])
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\tembedding[0:3] %.4f %.4f %.4f\n", r.Path, box, r.Face, r.Embedding[0], r.Embedding[1], r.Embedding[2])
	return err
}

// EmbedFiles runs the pipeline over image files in batches, in order, and
// hands each record to emit. A file that cannot be read or holds no face
// gives a record with Error set; the run goes on.
func EmbedFiles(ctx context.Context, eng *engine.Engine, paths []string, aligned bool, batch int, prog progress.Func, emit func(EmbedRecord) error) error {
	if batch < 1 {
		batch = 1
	}
	for start := 0; start < len(paths); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := paths[start:min(start+batch, len(paths))]
		imgs := make([]image.Image, len(chunk))
		decodeErrs := make([]error, len(chunk))
		for i, p := range chunk {
			img, err := imageio.Decode(p)
			if err != nil {
				decodeErrs[i] = err
				img = image.NewNRGBA(image.Rect(0, 0, 1, 1)) // placeholder; its result is replaced
			}
			imgs[i] = img
		}
		results, errs := eng.ProcessBatch(ctx, imgs, aligned)
		for i, p := range chunk {
			err := decodeErrs[i]
			if err == nil {
				err = errs[i]
			}
			if err == nil {
				err = ctx.Err()
			}
			rec := EmbedRecord{Path: p}
			if err != nil {
				rec.Error = describeFailure(p, err)
			} else {
				rec = recordOf(p, results[i], aligned)
			}
			if err := emit(rec); err != nil {
				return err
			}
		}
		prog(start+len(chunk), len(paths))
	}
	return ctx.Err()
}

func recordOf(path string, r face.Result, aligned bool) EmbedRecord {
	rec := EmbedRecord{Path: path, Embedding: r.Embedding}
	if !aligned {
		rec.Box = r.Box[:]
		rec.Face = r.Choice.String()
	}
	for _, p := range r.Landmarks5 {
		rec.Landmarks5 = append(rec.Landmarks5, [2]float64{p.X, p.Y})
	}
	return rec
}

// describeFailure names the file in the message unless the error already does.
func describeFailure(path string, err error) string {
	var ie *imageio.Error
	if errors.As(err, &ie) {
		return err.Error()
	}
	return fmt.Sprintf("%s: %v", path, err)
}

// imagePaths expands the arguments: files are taken as given, folders are
// searched recursively for images (sorted, hidden entries skipped,
// symbolic links followed once). What a folder scan cannot use (an
// unreadable subfolder, a broken link, a link back into scanned folders)
// comes back as a record with Error set, naming the path.
func imagePaths(args []string) (paths []string, skipped []EmbedRecord, err error) {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, fmt.Errorf("input %w", err)
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		scan, err := folder.Scan(a)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range scan.Images {
			paths = append(paths, filepath.Join(a, filepath.FromSlash(k)))
		}
		for _, s := range scan.Skipped {
			p := filepath.Join(a, filepath.FromSlash(s.Path))
			skipped = append(skipped, EmbedRecord{Path: p, Error: fmt.Sprintf("%s: skipped: %v", p, s.Err)})
		}
	}
	if len(paths) == 0 && len(skipped) == 0 {
		return nil, nil, fmt.Errorf("no images found in %v", args)
	}
	return paths, skipped, nil
}
