package modelreg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/model"
)

// TeacherThreshold is the embedded teacher's threshold: the mean of its
// ten per-fold thresholds on LFW View 2 (docs/evaluation.md).
const TeacherThreshold = engine.DefaultThreshold

// TeacherName names the embedded recogniser.
const TeacherName = "fr_feature.onnx (embedded)"

// Errors callers can branch on.
var (
	ErrNotFound = errors.New("model not on the list")
	ErrEmbedded = errors.New("the embedded teacher cannot be removed or given a path")
)

// Registry is the model list in one file. Its methods are safe for
// concurrent use, also by several processes sharing the file (Unix).
type Registry struct {
	path string
	now  func() time.Time

	mu      sync.Mutex // serialises this process's changes
	teacher struct {
		once  sync.Once
		entry Entry
		err   error
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

// Teacher is the embedded recogniser's entry with its default threshold
// (decoded once per Registry, in about a tenth of a second).
func (r *Registry) Teacher() (Entry, error) {
	r.teacher.once.Do(func() {
		e, _, err := Inspect(context.Background(), TeacherName, assets.Recognizer())
		e.Embedded, e.Threshold, e.ThresholdSource = true, TeacherThreshold, ThresholdDefault
		r.teacher.entry, r.teacher.err = e, err
	})
	return r.teacher.entry, r.teacher.err
}

// List is every model: the teacher first, then the added ones in the order
// they were added. When the file is corrupt it returns the teacher alone
// and an error wrapping ErrCorrupt, so a caller can go on with it.
func (r *Registry) List() ([]Entry, error) {
	t, err := r.Teacher()
	if err != nil {
		return nil, err
	}
	stored, err := r.read()
	if err != nil {
		return []Entry{t}, err
	}
	return merge(t, stored), nil
}

// merge puts the teacher first, with a stored threshold of its own if the
// file has one, and drops stored entries of another embedded model (a
// different build's teacher).
func merge(t Entry, stored []Entry) []Entry {
	out := []Entry{t}
	for _, e := range stored {
		switch {
		case e.Embedded && e.SHA256 == t.SHA256:
			out[0].Threshold, out[0].ThresholdSource, out[0].Calibration = e.Threshold, e.ThresholdSource, e.Calibration
		case !e.Embedded:
			out = append(out, e)
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
	t, err := r.Teacher()
	if err != nil {
		return Entry{}, nil, err
	}
	if e.SHA256 == t.SHA256 {
		list, err := r.List()
		if err != nil {
			return Entry{}, nil, err
		}
		return list[0], net, nil // the teacher is always listed
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
// ThresholdLFW needs the Calibration; ThresholdDefault is for the teacher
// alone and restores TeacherThreshold; ThresholdNone clears it.
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
	t, err := r.Teacher()
	if err != nil {
		return Entry{}, err
	}
	if src == ThresholdDefault && (sha256 != t.SHA256 || threshold != TeacherThreshold) {
		return Entry{}, fmt.Errorf("set threshold: source %q is the teacher's %v only: %w", src, TeacherThreshold, ErrThreshold)
	}
	var out Entry
	err = r.update(func(list []Entry) ([]Entry, error) {
		if sha256 == t.SHA256 {
			list = setTeacher(list, t, threshold, src, cal)
			out = merge(t, list)[0]
			return list, nil
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

// setTeacher stores the teacher's threshold as an embedded entry, or
// removes that entry when the threshold goes back to the default.
func setTeacher(list []Entry, t Entry, threshold float64, src ThresholdSource, cal *Calibration) []Entry {
	kept := list[:0]
	for _, e := range list {
		if !e.Embedded {
			kept = append(kept, e)
		}
	}
	if src == ThresholdDefault {
		return kept
	}
	t.Threshold, t.ThresholdSource, t.Calibration = threshold, src, cal
	return append(kept, t)
}

// Remove takes a model off the list (the file itself stays).
func (r *Registry) Remove(sha256 string) error {
	t, err := r.Teacher()
	if err != nil {
		return err
	}
	if sha256 == t.SHA256 {
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
