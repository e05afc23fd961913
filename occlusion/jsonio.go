package occlusion

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/maskinv/workbench/imageio"
)

// Schema names the JSON format below; a reader refuses any other.
const Schema = "maskinv-occlusion/1"

// File is what `maskinv occlusion --json` writes: one pair, the maps of
// one or more models. As JSON:
//
//	{
//	  "schema": "maskinv-occlusion/1",
//	  "face_a": "Colin_Powell_0001.jpg", "face_b": "Colin_Powell_0002.jpg",
//	  "mask": "paper, seed 1",                  // how the masked faces were made; optional
//	  "grey": 127,                              // occluder value in R, G and B
//	  "models": [{
//	    "model": {"name": "...", "sha256": "...", "threshold": 0.2797},  // threshold absent: unknown
//	    "grid": {"size": 112, "patch": 8, "stride": 4},
//	    "starts": [0, 4, ..., 104],             // patch positions along each axis, as Grid.Starts
//	    "settings": [{
//	      "setting": "blr-blr",                 // blr-blr, blr-m or m-m (see Setting)
//	      "score": 0.71,                        // cosine score of the unoccluded pair
//	      "a": [[...], ...],                    // drops over face A's version: len(starts) rows
//	      "b": [[...], ...]                     //   (top to bottom) of len(starts) values (left to right)
//	    }]
//	  }]
//	}
//
// Cell [i][j] of "a" is the score drop when the patch at x = starts[j],
// y = starts[i] (grid.patch pixels square) of face A's version is grey;
// "b" likewise for face B. The per-pixel map is the mean of the cells
// covering each pixel (Map.Pixels).
type File struct {
	FaceA, FaceB string
	Mask         string
	Results      []*Result
}

// ErrFormat reports JSON that is not a valid occlusion file.
var ErrFormat = errors.New("occlusion: bad occlusion file")

type jsonFile struct {
	Schema  string       `json:"schema"`
	FaceA   string       `json:"face_a"`
	FaceB   string       `json:"face_b"`
	Mask    string       `json:"mask,omitempty"`
	Grey    int          `json:"grey"`
	Results []jsonResult `json:"models"`
}

type jsonResult struct {
	Model    Model         `json:"model"`
	Grid     Grid          `json:"grid"`
	Starts   []int         `json:"starts"`
	Settings []jsonSetting `json:"settings"`
}

type jsonSetting struct {
	Setting string      `json:"setting"`
	Score   float64     `json:"score"`
	A       [][]float64 `json:"a"`
	B       [][]float64 `json:"b"`
}

// Encode writes f as compact JSON on one line (indentation would put each
// of the maps' numbers on a line of its own).
func Encode(w io.Writer, f File) error {
	jf := jsonFile{Schema: Schema, FaceA: f.FaceA, FaceB: f.FaceB, Mask: f.Mask, Grey: Grey}
	for _, r := range f.Results {
		jr := jsonResult{Model: r.Model, Grid: r.Grid, Starts: r.Grid.Starts()}
		for _, s := range r.Settings {
			jr.Settings = append(jr.Settings, jsonSetting{Setting: s.Setting.ID(), Score: s.Score, A: rows(s.A), B: rows(s.B)})
		}
		jf.Results = append(jf.Results, jr)
	}
	if err := json.NewEncoder(w).Encode(jf); err != nil {
		return fmt.Errorf("occlusion: encode JSON: %w", err)
	}
	return nil
}

// WriteJSON writes f to path atomically.
func WriteJSON(path string, f File) error {
	return imageio.WriteAtomic(path, func(w io.Writer) error { return Encode(w, f) })
}

func rows(m Map) [][]float64 {
	n := m.Grid.Side()
	out := make([][]float64, n)
	for i := range out {
		out[i] = m.Drops[i*n : (i+1)*n]
	}
	return out
}

// Decode reads and checks a file written by Encode; name labels errors.
// (Every number is finite: encoding/json refuses NaN, ±Inf and overflow.)
func Decode(r io.Reader, name string) (File, error) {
	var jf jsonFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&jf); err != nil {
		return File{}, fmt.Errorf("%s: %w: %v", name, ErrFormat, err)
	}
	if jf.Schema != Schema {
		return File{}, fmt.Errorf("%s: %w: schema %q, want %q", name, ErrFormat, jf.Schema, Schema)
	}
	if jf.Grey != Grey {
		return File{}, fmt.Errorf("%s: %w: grey %d, this version occludes with %d", name, ErrFormat, jf.Grey, Grey)
	}
	f := File{FaceA: jf.FaceA, FaceB: jf.FaceB, Mask: jf.Mask}
	for i, jr := range jf.Results {
		r, err := jr.result()
		if err != nil {
			return File{}, fmt.Errorf("%s: model %d: %w", name, i, err)
		}
		f.Results = append(f.Results, r)
	}
	return f, nil
}

func (jr jsonResult) result() (*Result, error) {
	if err := jr.Grid.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if !slices.Equal(jr.Starts, jr.Grid.Starts()) {
		return nil, fmt.Errorf("%w: starts %v do not match the grid %+v", ErrFormat, jr.Starts, jr.Grid)
	}
	r := &Result{Model: jr.Model, Grid: jr.Grid}
	for _, js := range jr.Settings {
		s, err := ParseSetting(js.Setting)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if _, dup := r.Setting(s); dup {
			return nil, fmt.Errorf("%w: setting %s twice", ErrFormat, s.ID())
		}
		a, err := unrows(js.A, jr.Grid, js.Score)
		if err != nil {
			return nil, fmt.Errorf("setting %s, map a: %w", s.ID(), err)
		}
		b, err := unrows(js.B, jr.Grid, js.Score)
		if err != nil {
			return nil, fmt.Errorf("setting %s, map b: %w", s.ID(), err)
		}
		r.Settings = append(r.Settings, SettingMaps{Setting: s, Score: js.Score, A: a, B: b})
	}
	return r, nil
}

func unrows(rs [][]float64, g Grid, score float64) (Map, error) {
	n := g.Side()
	if len(rs) != n {
		return Map{}, fmt.Errorf("%w: %d rows, want %d", ErrFormat, len(rs), n)
	}
	m := Map{Grid: g, Score: score, Drops: make([]float64, 0, n*n)}
	for i, row := range rs {
		if len(row) != n {
			return Map{}, fmt.Errorf("%w: row %d has %d values, want %d", ErrFormat, i, len(row), n)
		}
		m.Drops = append(m.Drops, row...)
	}
	return m, nil
}
