package modelreg

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/maskinv/workbench/engine"
)

// Schema names the file format; a reader refuses any other.
const Schema = "maskinv-models/1"

// ThresholdSource says how an Entry's threshold was obtained.
type ThresholdSource string

// The threshold sources.
const (
	// ThresholdNone: not set yet; Threshold is 0 and no decision can be made.
	ThresholdNone ThresholdSource = "none"
	// ThresholdDefault: an embedded model's published threshold
	// (TeacherThreshold, StudentThreshold).
	ThresholdDefault ThresholdSource = "default"
	// ThresholdLFW: calibrated on LFW View 2 with Calibrate.
	ThresholdLFW ThresholdSource = "lfw-view2"
	// ThresholdManual: set by hand.
	ThresholdManual ThresholdSource = "manual"
)

func (s ThresholdSource) valid() bool {
	switch s {
	case ThresholdNone, ThresholdDefault, ThresholdLFW, ThresholdManual:
		return true
	}
	return false
}

// Entry is one model of the list.
type Entry struct {
	Name            string          `json:"name"`
	Path            string          `json:"path,omitempty"` // absolute; empty for an embedded model
	SHA256          string          `json:"sha256"`         // of the ONNX file's bytes: the key
	Embedded        bool            `json:"embedded,omitempty"`
	Input           []int           `json:"input"` // as the model declares it (a symbolic batch reads 1)
	Layout          string          `json:"layout"`
	OutputDim       int             `json:"output_dim"`
	FLOPs           float64         `json:"flops"` // per face: model.Net.FLOPs
	Threshold       float64         `json:"threshold"`
	ThresholdSource ThresholdSource `json:"threshold_source"`
	Calibration     *Calibration    `json:"calibration,omitempty"` // with ThresholdLFW
	Added           time.Time       `json:"added"`
}

// ErrModelChanged marks a listed model whose file no longer has the bytes
// it was added with.
var ErrModelChanged = errors.New("the model file changed since it was added to the list")

// Source is the listed model's ONNX: an embedded model's bytes, or the
// file read now and checked against the hash it was listed under (the
// list keys thresholds and caches on that hash).
func (e Entry) Source() (engine.Source, error) {
	if e.Embedded {
		src, ok := engine.BuiltInWithSHA256(e.SHA256)
		if !ok {
			return engine.Source{}, fmt.Errorf("model %s on the list: not embedded in this build", e.Name)
		}
		return src, nil
	}
	src, err := engine.FileSource(e.Path)
	if err != nil {
		return engine.Source{}, fmt.Errorf("model %s on the list: %w", e.Name, err)
	}
	if got, _ := src.SHA256(); got != e.SHA256 {
		return engine.Source{}, fmt.Errorf("model %s: %s has sha256 %.12s…, listed as %.12s…; add it again (maskinv models add %s): %w",
			e.Name, e.Path, got, e.SHA256, e.Path, ErrModelChanged)
	}
	return src, nil
}

// ErrCorrupt marks a models file that cannot be read as a list.
var ErrCorrupt = errors.New("corrupt model list")

type file struct {
	Schema string  `json:"schema"`
	Models []Entry `json:"models"`
}

// parse reads and checks a models file's bytes; name labels errors. An
// empty file is an empty list (a crash can leave no partial file, but a
// user may truncate one).
func parse(data []byte, name string) ([]Entry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: %w: data after the list", name, ErrCorrupt)
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("%s: %w: schema %q, want %q", name, ErrCorrupt, f.Schema, Schema)
	}
	seen := map[string]bool{}
	for i, e := range f.Models {
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("%s: %w: model %d: %v", name, ErrCorrupt, i, err)
		}
		if seen[e.SHA256] {
			return nil, fmt.Errorf("%s: %w: model %d: sha256 %s listed twice", name, ErrCorrupt, i, e.SHA256)
		}
		seen[e.SHA256] = true
	}
	return f.Models, nil
}

// check validates one entry as read from a file.
func (e Entry) check() error {
	if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != 32 || hex.EncodeToString(b) != e.SHA256 {
		return fmt.Errorf("sha256 %q is not 64 lower-case hex digits", e.SHA256)
	}
	if e.Name == "" {
		return errors.New("no name")
	}
	if e.Embedded != (e.Path == "") {
		return fmt.Errorf("path %q with embedded %v: the embedded model alone has no path", e.Path, e.Embedded)
	}
	if !e.ThresholdSource.valid() {
		return fmt.Errorf("threshold source %q", e.ThresholdSource)
	}
	if err := checkThreshold(e.Threshold, e.ThresholdSource); err != nil {
		return err
	}
	if (e.Calibration != nil) != (e.ThresholdSource == ThresholdLFW) {
		return fmt.Errorf("calibration record with threshold source %q", e.ThresholdSource)
	}
	if e.OutputDim < 0 || e.FLOPs < 0 || math.IsInf(e.FLOPs, 0) {
		return fmt.Errorf("output dimension %d, FLOPs %v", e.OutputDim, e.FLOPs)
	}
	return nil
}

// ErrThreshold marks a threshold that cannot be a cosine threshold.
var ErrThreshold = errors.New("bad threshold")

func checkThreshold(t float64, src ThresholdSource) error {
	if math.IsNaN(t) || t < -1 || t > 1 {
		return fmt.Errorf("%w: %v is not a cosine in [−1, 1]", ErrThreshold, t)
	}
	if src == ThresholdNone && t != 0 {
		return fmt.Errorf("%w: %v with source %q", ErrThreshold, t, src)
	}
	return nil
}

// encode writes the list.
func encode(w io.Writer, models []Entry) error {
	if models == nil {
		models = []Entry{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(file{Schema: Schema, Models: models})
}
