package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/modelreg"
)

// ModelsEnv names the environment variable that moves the model list
// away from the user's config folder (tests, and several lists side by
// side).
const ModelsEnv = "MASKINV_MODELS"

// ModelListPath is where the model list is: $MASKINV_MODELS when set,
// else modelreg.DefaultPath. getenv reads the environment (os.Getenv).
func ModelListPath(getenv func(string) string) (string, error) {
	if p := getenv(ModelsEnv); p != "" {
		return p, nil
	}
	return modelreg.DefaultPath()
}

// The model references every --model takes besides a file or a model on
// the list.
const (
	RefTeacher = "teacher" // the embedded recogniser
	RefStudent = "student" // the embedded student (engine.Student)
)

// ModelChoice is a model reference resolved: which ONNX, under what
// label, and the threshold known for it.
type ModelChoice struct {
	Ref    string // as given
	Label  string // short name: "teacher", "student", a file's or list entry's name without .onnx
	Source engine.Source
	SHA256 string
	// Threshold and ThresholdSource come from the model list when the
	// model is on it (the teacher always is), else from the source's
	// published threshold (ThresholdDefault), else none (0).
	Threshold       float64
	ThresholdSource modelreg.ThresholdSource
	Listed          bool // on the model list
	// ListErr is why the model list could not be read, when a file or the
	// teacher was resolved without it (its threshold then is the
	// published one, or none).
	ListErr error
}

// ErrUnknownModel marks a reference that names no file, no embedded
// model and no model on the list.
var ErrUnknownModel = errors.New("unknown model")

// shaPrefix is what a sha256 prefix on the command line must look like.
var shaPrefix = regexp.MustCompile(`^[0-9a-f]{6,64}$`)

// ResolveModel resolves a model reference, as every --model takes it: ""
// or "teacher" (the embedded recogniser), "student" (the embedded
// student), a path to an ONNX
// file, or the name (with or without .onnx) or a sha256 prefix (6 hex
// digits or more) of a model on the list. A file is read (to hash it)
// but not decoded.
func ResolveModel(reg *modelreg.Registry, ref string) (ModelChoice, error) {
	switch ref {
	case "", RefTeacher:
		return fromSource(reg, ref, RefTeacher, engine.Teacher())
	case RefStudent:
		return fromSource(reg, ref, RefStudent, engine.Student())
	}
	if st, err := os.Stat(ref); err == nil {
		if st.IsDir() {
			return ModelChoice{}, fmt.Errorf("model %s is a folder, not an ONNX file", ref)
		}
		src, err := engine.FileSource(ref)
		if err != nil {
			return ModelChoice{}, err
		}
		return fromSource(reg, ref, labelOf(src.Name), src)
	}
	return fromList(reg, ref)
}

// labelOf is a file name without folders and .onnx.
func labelOf(name string) string {
	return strings.TrimSuffix(filepath.Base(name), ".onnx")
}

// fromSource completes a choice from its source and, when the model is on
// the list, the list's threshold.
func fromSource(reg *modelreg.Registry, ref, label string, src engine.Source) (ModelChoice, error) {
	sha, err := src.SHA256()
	if err != nil {
		return ModelChoice{}, err
	}
	c := ModelChoice{Ref: ref, Label: label, Source: src, SHA256: sha, ThresholdSource: modelreg.ThresholdNone}
	if src.Threshold != 0 {
		c.Threshold, c.ThresholdSource = src.Threshold, modelreg.ThresholdDefault
	}
	list, err := reg.List()
	if err != nil {
		c.ListErr = err
	}
	for _, e := range list {
		if e.SHA256 == sha {
			c.Listed, c.Threshold, c.ThresholdSource = true, e.Threshold, e.ThresholdSource
		}
	}
	return c, nil
}

// fromList finds ref on the model list by name or sha256 prefix.
func fromList(reg *modelreg.Registry, ref string) (ModelChoice, error) {
	list, err := reg.List()
	if err != nil {
		return ModelChoice{}, fmt.Errorf("model %q is not a file, and the model list cannot be read: %w", ref, err)
	}
	var found []modelreg.Entry
	for _, e := range list {
		if e.Name == ref || labelOf(e.Name) == ref || (shaPrefix.MatchString(ref) && strings.HasPrefix(e.SHA256, ref)) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return ModelChoice{}, fmt.Errorf("model %q: %w: not a file, not %q or %q, and no model on the list %s has that name or sha256 prefix (maskinv models list)",
			ref, ErrUnknownModel, RefTeacher, RefStudent, reg.Path())
	case 1:
	default:
		var names []string
		for _, e := range found {
			names = append(names, e.Name+" ("+e.SHA256[:12]+")")
		}
		return ModelChoice{}, fmt.Errorf("model %q is ambiguous: it names %s; give more of the sha256", ref, strings.Join(names, ", "))
	}
	e := found[0]
	src, err := e.Source()
	if err != nil {
		return ModelChoice{}, err
	}
	return fromSource(reg, ref, EntryLabel(e), src)
}

// EntryLabel is a listed model's short name: its keyword for an embedded
// model (teacher, student), else its file name without .onnx.
func EntryLabel(e modelreg.Entry) string {
	switch {
	case e.Embedded && e.Name == engine.StudentName:
		return RefStudent
	case e.Embedded:
		return RefTeacher
	}
	return labelOf(e.Name)
}

// ThresholdHelp says how to give a model a threshold, for errors about a
// model without one.
func (c ModelChoice) ThresholdHelp() string {
	ref := c.Ref
	if ref == "" {
		ref = c.Label
	}
	return fmt.Sprintf("give --threshold, or set one on the model list: maskinv models threshold %s T, or calibrate it on LFW: maskinv models calibrate %s --lfw DIR", ref, ref)
}

// CalibrationSet is the dataset name Calibrate records.
const CalibrationSet = "LFW View 2"

// CalibrateLFW chooses a recogniser's threshold on the LFW View 2 pairs
// of set as the teacher's was chosen: it embeds the unmasked pairs
// (protocol blr-blr) with Evaluate, opt's cache and progress included
// (opt.Protocols is set here), and passes every pair's score, label and
// fold to modelreg.Calibrate; a pair whose photo had no face counts as
// rejected, as eval counts it. It returns the threshold, the record to
// store with it, and the evaluation.
func CalibrateLFW(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, opt EvalOptions) (float64, modelreg.Calibration, *EvalResult, error) {
	opt.Protocols = []string{eval.ProtoBLRBLR}
	res, err := Evaluate(ctx, eng, set, opt)
	if err != nil {
		return 0, modelreg.Calibration{}, nil, err
	}
	pr := res.Protocol(eval.ProtoBLRBLR)
	if pr == nil || len(pr.Pairs) == 0 {
		return 0, modelreg.Calibration{}, res, fmt.Errorf("calibrate on %s: no pairs scored", set.Path)
	}
	pairs := make([]eval.Pair, len(pr.Pairs))
	for i, s := range pr.Pairs {
		p := set.Pairs[s.Pair]
		pairs[i] = eval.Pair{Score: s.Score, Same: p.Same, Fold: p.Fold, Failed: s.Failed}
	}
	scores, same, folds := eval.Columns(pairs)
	t, cal, err := modelreg.Calibrate(CalibrationSet, scores, same, folds)
	return t, cal, res, err
}
