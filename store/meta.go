package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/maskinv/workbench/shard"
)

// File names inside a store folder.
const (
	MarkerName     = ".maskinv-store" // folder.MarkerName("store")
	EmbeddingsName = "embeddings.npy"
	IndexName      = "index.jsonl"
	MetaName       = "meta.json"
	JournalName    = ".maskinv-store-journal"
)

// FormatName and FormatVersion identify meta.json.
const (
	FormatName    = "maskinv embedding store"
	FormatVersion = 1
)

// Record statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// ErrCorrupt marks a store file that cannot be read as one; the error
// names the file and the problem.
var ErrCorrupt = errors.New("corrupt store file")

// Params are what made a store's vectors: stores merge only when their
// Params agree (the shard aside).
type Params struct {
	Model    string // the recogniser's SHA-256, hex
	Pipeline string // how crops are made (detector, landmarker, alignment)
	// Settings are any other choices that change the vectors (aligned
	// input, detection fallback, …), as the command names them.
	Settings map[string]string
	Dim      int // embedding length
	Shard    shard.Spec
}

// Meta is meta.json.
type Meta struct {
	Format           string            `json:"format"`
	Version          int               `json:"version"`
	Model            string            `json:"model_sha256"`
	Pipeline         string            `json:"pipeline"`
	Settings         map[string]string `json:"settings,omitempty"`
	Dim              int               `json:"dim"`
	Shard            string            `json:"shard"`
	Count            int               `json:"count"`
	Failed           int               `json:"failed"`
	EmbeddingsSHA256 string            `json:"embeddings_sha256"`
	IndexSHA256      string            `json:"index_sha256"`
}

// maxStoreDim bounds Params.Dim.
const maxStoreDim = 1 << 16

func (p Params) check() error {
	if err := p.Shard.Check(); err != nil {
		return err
	}
	if !isHex64(p.Model) {
		return fmt.Errorf("model hash %q is not a hex SHA-256", p.Model)
	}
	if p.Dim < 1 || p.Dim > maxStoreDim {
		return fmt.Errorf("embedding length %d, want 1 to %d", p.Dim, maxStoreDim)
	}
	return nil
}

// Params returns the Params the store was made with.
func (m Meta) Params() (Params, error) {
	sp, err := shard.Parse(m.Shard)
	if err != nil {
		return Params{}, err
	}
	return Params{Model: m.Model, Pipeline: m.Pipeline, Settings: m.Settings, Dim: m.Dim, Shard: sp}, nil
}

// mismatch names the first of the Params that differ, ignoring the shard,
// or returns "".
func (p Params) mismatch(q Params) string {
	switch {
	case p.Model != q.Model:
		return fmt.Sprintf("model %s, not %s", short(p.Model), short(q.Model))
	case p.Pipeline != q.Pipeline:
		return fmt.Sprintf("pipeline %q, not %q", p.Pipeline, q.Pipeline)
	case !maps.Equal(p.Settings, q.Settings):
		return fmt.Sprintf("settings %v, not %v", p.Settings, q.Settings)
	case p.Dim != q.Dim:
		return fmt.Sprintf("embedding length %d, not %d", p.Dim, q.Dim)
	}
	return ""
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// metaBytes renders meta.json.
func metaBytes(m Meta) []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // strings and ints only
	}
	return append(b, '\n')
}

// maxMeta bounds meta.json.
const maxMeta = 1 << 20

// parseMeta reads and checks meta.json.
func parseMeta(r io.Reader) (Meta, error) {
	var m Meta
	b, err := io.ReadAll(io.LimitReader(r, maxMeta+1))
	if err != nil {
		return m, err
	}
	if len(b) > maxMeta {
		return m, fmt.Errorf("larger than %d bytes", maxMeta)
	}
	if err := decodeOne(b, &m); err != nil {
		return m, err
	}
	if m.Format != FormatName || m.Version != FormatVersion {
		return m, fmt.Errorf("format %q version %d, want %q version %d", m.Format, m.Version, FormatName, FormatVersion)
	}
	p, err := m.Params()
	if err == nil {
		err = p.check()
	}
	switch {
	case err != nil:
		return m, err
	case m.Count < 0 || m.Failed < 0 || m.Failed > m.Count || m.Count > maxDim:
		return m, fmt.Errorf("count %d, failed %d", m.Count, m.Failed)
	case !isHex64(m.EmbeddingsSHA256) || !isHex64(m.IndexSHA256):
		return m, errors.New("file hashes are not hex SHA-256s")
	}
	return m, nil
}

// Record is one line of index.jsonl: one image.
type Record struct {
	Path       string       `json:"path"`
	Status     string       `json:"status"`
	Box        []float64    `json:"box,omitempty"`        // x, y, w, h in the photo's pixels
	Landmarks5 [][2]float64 `json:"landmarks5,omitempty"` // eyes, nose tip, mouth corners
	Face       string       `json:"face,omitempty"`       // which face was chosen, of how many
	Error      string       `json:"error,omitempty"`
}

// check validates a record as it will be written or has been read.
func (r Record) check() error {
	if !validKey(r.Path) {
		return fmt.Errorf("bad path %q: want a clean relative slash path", r.Path)
	}
	switch r.Status {
	case StatusOK:
		if r.Error != "" {
			return fmt.Errorf("%s: status ok with an error", r.Path)
		}
	case StatusError:
		if r.Error == "" {
			return fmt.Errorf("%s: status error without a message", r.Path)
		}
	default:
		return fmt.Errorf("%s: status %q, want %q or %q", r.Path, r.Status, StatusOK, StatusError)
	}
	if len(r.Box) != 0 && len(r.Box) != 4 {
		return fmt.Errorf("%s: box of %d numbers, want 4", r.Path, len(r.Box))
	}
	if len(r.Landmarks5) != 0 && len(r.Landmarks5) != 5 {
		return fmt.Errorf("%s: %d landmarks, want 5", r.Path, len(r.Landmarks5))
	}
	for _, v := range r.Box {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: box %v is not finite", r.Path, r.Box)
		}
	}
	for _, p := range r.Landmarks5 {
		if math.IsNaN(p[0]) || math.IsInf(p[0], 0) || math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
			return fmt.Errorf("%s: landmarks %v are not finite", r.Path, r.Landmarks5)
		}
	}
	return nil
}

// validKey accepts clean, relative, slash-separated paths inside their
// folder (the keys the commands give images), in UTF-8 (JSON would
// replace other bytes) and without line breaks.
func validKey(k string) bool {
	return k != "" && k != "." && fs.ValidPath(k) && utf8.ValidString(k) && !strings.ContainsAny(k, "\n\r")
}

// maxLine bounds an index line; a record is well under 1 KB.
const maxLine = 64 << 10

// recordLine renders a record as its index line, newline included.
func recordLine(r Record) ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(b) >= maxLine {
		return nil, fmt.Errorf("%s: record of %d bytes, want under %d", r.Path, len(b), maxLine)
	}
	return append(b, '\n'), nil
}

// parseRecord reads one index line (without its newline).
func parseRecord(line []byte) (Record, error) {
	var r Record
	if err := decodeOne(line, &r); err != nil {
		return r, err
	}
	return r, r.check()
}

// decodeOne decodes b, which must hold one JSON value and only fields v
// knows, into v.
func decodeOne(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
