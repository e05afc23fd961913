package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/model"
)

// Source is a recogniser's ONNX: a file, or bytes built into the binary.
type Source struct {
	Name string // for messages and reports: the file's base name, or "fr_feature.onnx (embedded)"
	Path string // the file; "" for an embedded model
	// Data are the ONNX bytes: always set for an embedded model; for a
	// file, nil until read (Bytes reads it).
	Data []byte
	// Threshold is the model's published threshold (DefaultThreshold for
	// the teacher); 0 when none is known and the caller must choose.
	Threshold float64
}

// Names of the embedded recognisers in messages and on the model list.
const (
	TeacherName = "fr_feature.onnx (embedded)"
	StudentName = "maskinv_student.onnx (embedded)"
)

// StudentThreshold is the embedded student's threshold, chosen as
// DefaultThreshold was: the mean of its ten per-fold thresholds on the
// 6000 unmasked LFW View 2 pairs (assets/models/PROVENANCE.md).
const StudentThreshold = 0.2756

// Teacher is the embedded recogniser.
func Teacher() Source {
	return Source{Name: TeacherName, Data: assets.Recognizer(), Threshold: DefaultThreshold}
}

// Student is the embedded mask-invariant student: the teacher fine-tuned
// by maskinv train (same graph and input; assets.Student).
func Student() Source {
	return Source{Name: StudentName, Data: assets.Student(), Threshold: StudentThreshold}
}

// BuiltIn are the recognisers embedded in the binary, the teacher first.
func BuiltIn() []Source { return []Source{Teacher(), Student()} }

// BuiltInWithSHA256 is the embedded recogniser with this hash; ok is
// false when none has it.
func BuiltInWithSHA256(sha string) (src Source, ok bool) {
	for _, src := range BuiltIn() {
		if h, err := src.SHA256(); err == nil && h == sha {
			return src, true
		}
	}
	return Source{}, false
}

// FileSource is the recogniser in the ONNX file at path, read now (so
// that its hash is known before it is decoded).
func FileSource(path string) (Source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Source{}, fmt.Errorf("load model: %w", err)
	}
	return Source{Name: filepath.Base(path), Path: path, Data: data}, nil
}

// Embedded reports whether the model is built into the binary.
func (s Source) Embedded() bool { return s.Path == "" }

// Bytes are the ONNX bytes, read from the file when not read yet.
func (s Source) Bytes() ([]byte, error) {
	if s.Data != nil {
		return s.Data, nil
	}
	if s.Path == "" {
		return nil, fmt.Errorf("model %s: no file and no ONNX bytes", s.Name)
	}
	data, err := os.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return data, nil
}

// SHA256 is the hash of the ONNX bytes, the key of caches and of the
// model list.
func (s Source) SHA256() (string, error) {
	data, err := s.Bytes()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Decode decodes the recogniser and checks its input is N×3×112×112
// (ErrModelInput otherwise).
func (s Source) Decode() (*model.Net, error) {
	data, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	name := s.Name
	if name == "" {
		name = filepath.Base(s.Path)
	}
	net, err := model.Decode(name, data)
	if err != nil {
		return nil, err
	}
	if sh := net.InputShape(); len(sh) != 4 || sh[1] != 3 || sh[2] != 112 || sh[3] != 112 {
		return nil, fmt.Errorf("model %s: input shape %v: %w", net.Name(), sh, ErrModelInput)
	}
	return net, nil
}

// Recogniser is a recogniser loaded beside an engine's own (the second
// model of a side-by-side comparison), on the engine's device: its model,
// and the embedder that runs it with the engine's batching.
type Recogniser struct {
	*face.Embedder
	Model Model
	// Threshold is the source's published threshold (0: none known).
	Threshold float64
}

// LoadRecogniser decodes src and binds it to the engine's device. The
// engine owns it: Close releases it with the engine's own models. It must
// not be called concurrently with Close.
func (e *Engine) LoadRecogniser(src Source) (*Recogniser, error) {
	net, err := src.Decode()
	if err != nil {
		return nil, err
	}
	m, err := e.bind(net)
	if err != nil {
		return nil, err
	}
	batch := 0
	if e.Pipeline != nil {
		batch = e.Embedder.Batch
	}
	return &Recogniser{Embedder: &face.Embedder{Net: m, Batch: batch}, Model: m, Threshold: src.Threshold}, nil
}
