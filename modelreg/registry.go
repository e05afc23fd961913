package modelreg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/model"
)

// TeacherThreshold is the embedded teacher's threshold: the mean of its
// ten per-fold thresholds on LFW View 2 (docs/evaluation.md).
const TeacherThreshold = engine.DefaultThreshold

// StudentThreshold is the embedded student's, chosen the same way
// (assets/models/PROVENANCE.md).
const StudentThreshold = engine.StudentThreshold

// Names of the embedded recognisers on the list.
const (
	TeacherName = engine.TeacherName
	StudentName = engine.StudentName
)

// Errors callers can branch on.
var (
	ErrNotFound = errors.New("model not on the list")
	ErrEmbedded = errors.New("an embedded model (the teacher, the student) cannot be removed or given a path")
)

// Registry is the model list in one file. Its methods are safe for
// concurrent use, also by several processes sharing the file (Unix).
type Registry struct {
	path string
	now  func() time.Time

	mu       sync.Mutex // serialises this process's changes
	embedded struct {
		once    sync.Once
		entries []Entry
		err     error
	}
}

// DefaultPath is os.UserConfigDir()/maskinv/models.json.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("model list: %w", err)
	}
	return filepath.Join(dir, "maskinv", "models.json"), nil
}

// Open returns the registry kept in path (DefaultPath for the user's). The
// file and its folder are created at the first change.
func Open(path string) *Registry { return &Registry{path: path, now: time.Now} }

// Path is the registry's file.
func (r *Registry) Path() string { return r.path }

// Embedded are the entries of the models built into the binary (the
// teacher, then the student: engine.BuiltIn) with their published
// thresholds, decoded once per Registry (about a tenth of a second each).
func (r *Registry) Embedded() ([]Entry, error) {
	r.embedded.once.Do(func() {
		for _, src := range engine.BuiltIn() {
			e, _, err := Inspect(context.Background(), src.Name, src.Data)
			if err != nil {
				r.embedded.err = err
				return
			}
			e.Embedded, e.Threshold, e.ThresholdSource = true, src.Threshold, ThresholdDefault
			r.embedded.entries = append(r.embedded.entries, e)
		}
	})
	if r.embedded.err != nil {
		return nil, r.embedded.err
	}
	return slices.Clone(r.embedded.entries), nil
}

// Teacher is the embedded recogniser's entry with its default threshold.
func (r *Registry) Teacher() (Entry, error) {
	emb, err := r.Embedded()
	if err != nil {
		return Entry{}, err
	}
	return emb[0], nil
}

// embeddedWith is the embedded entry with this sha256 (its default
// threshold); ok is false for a model that is not embedded.
func (r *Registry) embeddedWith(sha256 string) (e Entry, ok bool, err error) {
	emb, err := r.Embedded()
	if err != nil {
		return Entry{}, false, err
	}
	for _, e := range emb {
		if e.SHA256 == sha256 {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// Published is the threshold an embedded model ships with, which
// SetThreshold with ThresholdDefault restores; for any other model it is
// an error wrapping ErrThreshold.
func (r *Registry) Published(sha256 string) (float64, error) {
	e, ok, err := r.embeddedWith(sha256)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, fmt.Errorf("%.12s…: %w: only an embedded model has a published threshold", sha256, ErrThreshold)
	}
	return e.Threshold, nil
}

// List is every model: the embedded ones first (the teacher, the
// student), then the added ones in the order they were added. When the
// file is corrupt it returns the embedded ones alone and an error
// wrapping ErrCorrupt, so a caller can go on with them.
func (r *Registry) List() ([]Entry, error) {
	emb, err := r.Embedded()
	if err != nil {
		return nil, err
	}
	stored, err := r.read()
	if err != nil {
		return emb, err
	}
	return merge(emb, stored), nil
}

// merge puts the embedded models first, each with a stored threshold of
// its own if the file has one, and drops stored entries of embedded
// models this build does not have (another build's).
func merge(emb []Entry, stored []Entry) []Entry {
	out := slices.Clone(emb)
	for _, e := range stored {
		if !e.Embedded {
			out = append(out, e)
			continue
		}
		for i := range emb {
			if e.SHA256 == out[i].SHA256 {
				out[i].Threshold, out[i].ThresholdSource, out[i].Calibration = e.Threshold, e.ThresholdSource, e.Calibration
			}
		}
	}
	return out
}

// Get is the entry of the model with this sha256.
func (r *Registry) Get(sha256 string) (Entry, error) {
	list, err := r.List()
	if err != nil {
		return Entry{}, err
	}
	for _, e := range list {
		if e.SHA256 == sha256 {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%s: %w", sha256, ErrNotFound)
}

// Add loads the ONNX file at path, checks it is a recogniser the engine
// runs (N×3×112×112 input, one vector per face) and puts it on the list
// without a threshold, or, when a model with the same bytes is on it
// already, records the new path and keeps its threshold. It returns the
// entry and the decoded net. A file the engine refuses leaves the list
// unchanged.
func (r *Registry) Add(ctx context.Context, path string) (Entry, *model.Net, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("add model %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("add model: %w", err)
	}
	e, net, err := Inspect(ctx, filepath.Base(abs), data)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("add model %s: %w", abs, err)
	}
	if _, ok, err := r.embeddedWith(e.SHA256); err != nil || ok {
		if err != nil {
			return Entry{}, nil, err
		}
		got, err := r.Get(e.SHA256) // an embedded model is always listed
		return got, net, err
	}
	e.Path, e.Added, e.ThresholdSource = abs, r.now().UTC().Round(time.Second), ThresholdNone
	err = r.update(func(list []Entry) ([]Entry, error) {
		for i := range list {
			if list[i].SHA256 == e.SHA256 {
				list[i].Path = abs
				e = list[i]
				return list, nil
			}
		}
		return append(list, e), nil
	})
	if err != nil {
		return Entry{}, nil, err
	}
	return e, net, nil
}

// SetThreshold records a model's threshold and how it was obtained: src
// ThresholdLFW needs the Calibration; ThresholdDefault is for an embedded
// model alone and restores its published threshold (Published);
// ThresholdNone clears it.
func (r *Registry) SetThreshold(sha256 string, threshold float64, src ThresholdSource, cal *Calibration) (Entry, error) {
	if !src.valid() {
		return Entry{}, fmt.Errorf("set threshold: source %q: %w", src, ErrThreshold)
	}
	if (cal != nil) != (src == ThresholdLFW) {
		return Entry{}, fmt.Errorf("set threshold: a calibration record goes with source %q only: %w", ThresholdLFW, ErrThreshold)
	}
	if err := checkThreshold(threshold, src); err != nil {
		return Entry{}, fmt.Errorf("set threshold: %w", err)
	}
	emb, isEmbedded, err := r.embeddedWith(sha256)
	if err != nil {
		return Entry{}, err
	}
	if src == ThresholdDefault && (!isEmbedded || threshold != emb.Threshold) {
		return Entry{}, fmt.Errorf("set threshold: source %q is an embedded model's published threshold only (the teacher's %v, the student's %v): %w",
			src, TeacherThreshold, StudentThreshold, ErrThreshold)
	}
	var out Entry
	err = r.update(func(list []Entry) ([]Entry, error) {
		if isEmbedded {
			emb.Threshold, emb.ThresholdSource, emb.Calibration = threshold, src, cal
			out = emb
			return setEmbedded(list, emb), nil
		}
		for i := range list {
			if list[i].SHA256 == sha256 && !list[i].Embedded {
				list[i].Threshold, list[i].ThresholdSource, list[i].Calibration = threshold, src, cal
				out = list[i]
				return list, nil
			}
		}
		return nil, fmt.Errorf("set threshold: %s: %w", sha256, ErrNotFound)
	})
	return out, err
}

// setEmbedded stores an embedded model's threshold as an embedded entry
// of the file, or removes that entry when the threshold goes back to the
// published one (the file holds only what differs from the build).
func setEmbedded(list []Entry, e Entry) []Entry {
	kept := list[:0]
	for _, o := range list {
		if !o.Embedded || o.SHA256 != e.SHA256 {
			kept = append(kept, o)
		}
	}
	if e.ThresholdSource == ThresholdDefault {
		return kept
	}
	return append(kept, e)
}

// Remove takes a model off the list (the file itself stays). The
// embedded models cannot be removed (ErrEmbedded).
func (r *Registry) Remove(sha256 string) error {
	if _, ok, err := r.embeddedWith(sha256); err != nil || ok {
		if err != nil {
			return err
		}
		return fmt.Errorf("remove: %w", ErrEmbedded)
	}
	return r.update(func(list []Entry) ([]Entry, error) {
		for i, e := range list {
			if e.SHA256 == sha256 && !e.Embedded {
				return append(list[:i], list[i+1:]...), nil
			}
		}
		return nil, fmt.Errorf("remove: %s: %w", sha256, ErrNotFound)
	})
}

// read parses the file; a missing file is an empty list.
func (r *Registry) read() ([]Entry, error) {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model list: %w", err)
	}
	return parse(data, r.path)
}

// update applies change to the stored list under both locks and writes
// the result atomically. A corrupt file is not overwritten: the error
// names it, and the user decides.
func (r *Registry) update(change func([]Entry) ([]Entry, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	unlock, err := lockFile(r.path + ".lock")
	if err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	defer unlock()
	list, err := r.read()
	if err != nil {
		return err
	}
	list, err = change(list)
	if err != nil {
		return err
	}
	return imageio.WriteAtomic(r.path, func(w io.Writer) error { return encode(w, list) })
}
