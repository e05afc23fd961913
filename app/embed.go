package app

import (
	"context"
	"errors"
	"fmt"
	"image"
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

// ImageInput is an image file found by ImageInputs, and its key: its
// slash path under the folder argument it was found in, or the path as
// given for a file argument. Shards are chosen by the key.
type ImageInput struct {
	Path, Key string
}

// ImagePaths is the paths of ImageInputs.
func ImagePaths(args []string) (paths []string, skipped []EmbedRecord, err error) {
	inputs, skipped, err := ImageInputs(args)
	for _, in := range inputs {
		paths = append(paths, in.Path)
	}
	return paths, skipped, err
}

// ImageInputs expands the arguments: files are taken as given, folders are
// searched recursively for images (sorted, hidden entries skipped,
// symbolic links followed once). What a folder scan cannot use (an
// unreadable subfolder, a broken link, a link back into scanned folders)
// comes back as a record with Error set, naming the path.
func ImageInputs(args []string) (inputs []ImageInput, skipped []EmbedRecord, err error) {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, fmt.Errorf("input %w", err)
		}
		if !st.IsDir() {
			inputs = append(inputs, ImageInput{Path: a, Key: filepath.ToSlash(a)})
			continue
		}
		scan, err := folder.Scan(a)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range scan.Images {
			inputs = append(inputs, ImageInput{Path: filepath.Join(a, filepath.FromSlash(k)), Key: k})
		}
		for _, s := range scan.Skipped {
			p := filepath.Join(a, filepath.FromSlash(s.Path))
			skipped = append(skipped, EmbedRecord{Path: p, Error: fmt.Sprintf("%s: skipped: %v", p, s.Err)})
		}
	}
	if len(inputs) == 0 && len(skipped) == 0 {
		return nil, nil, fmt.Errorf("no images found in %v", args)
	}
	return inputs, skipped, nil
}
