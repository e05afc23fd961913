package occlusion

import (
	"context"
	"errors"
	"fmt"
	"image"
)

// Setting says which versions of a pair's faces are compared, as eval's
// protocols name them.
type Setting int

// The settings, in display order.
const (
	Unmasked   Setting = iota // A vs B
	OneMasked                 // A vs masked B
	BothMasked                // masked A vs masked B
	numSettings
)

// ID is the setting's name in JSON and file names: eval's protocol names.
func (s Setting) ID() string {
	if s < 0 || s >= numSettings {
		return fmt.Sprintf("setting%d", int(s))
	}
	return [...]string{"blr-blr", "blr-m", "m-m"}[s]
}

func (s Setting) String() string {
	if s < 0 || s >= numSettings {
		return s.ID()
	}
	return [...]string{"unmasked – unmasked", "unmasked – masked", "masked – masked"}[s]
}

// ParseSetting reads an ID.
func ParseSetting(id string) (Setting, error) {
	for s := Setting(0); s < numSettings; s++ {
		if s.ID() == id {
			return s, nil
		}
	}
	return 0, fmt.Errorf("occlusion: unknown setting %q (want blr-blr, blr-m or m-m)", id)
}

// Pair is two aligned 112×112 faces and, optionally, their masked versions
// (both or neither; maskgen.Config.ApplyAligned masks a crop as the
// comparison does).
type Pair struct {
	NameA, NameB     string
	A, B             *image.NRGBA
	MaskedA, MaskedB *image.NRGBA
}

// ErrPair reports a Pair with a face missing.
var ErrPair = errors.New("occlusion: incomplete pair")

// Settings are the settings the pair's faces allow.
func (p Pair) Settings() []Setting {
	if p.MaskedA != nil && p.MaskedB != nil {
		return []Setting{Unmasked, OneMasked, BothMasked}
	}
	return []Setting{Unmasked}
}

func (p Pair) check() error {
	if p.A == nil || p.B == nil {
		return fmt.Errorf("%w: face A or B is missing", ErrPair)
	}
	if (p.MaskedA == nil) != (p.MaskedB == nil) {
		return fmt.Errorf("%w: only one face has a masked version", ErrPair)
	}
	return nil
}

// Model names the recogniser of a Result. Threshold 0 means none is known
// (captions then give no decision).
type Model struct {
	Name      string  `json:"name"`
	SHA256    string  `json:"sha256,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

// SettingMaps are the maps of one setting: over its version of face A
// (against B) and over its version of face B (against A).
type SettingMaps struct {
	Setting Setting
	Score   float64 // the unoccluded pair's cosine score
	A, B    Map
}

// Result is one model's occlusion maps on one pair.
type Result struct {
	Model    Model
	Grid     Grid
	Settings []SettingMaps
}

// check: the result's maps fit faces of size pixels.
func (r *Result) check(size int) error {
	if r.Grid.Size != size {
		return fmt.Errorf("%w: model %s: maps of %d-pixel faces for %d-pixel faces", ErrGrid, r.Model.Name, r.Grid.Size, size)
	}
	for _, s := range r.Settings {
		if len(s.A.Drops) != r.Grid.Cells() || len(s.B.Drops) != r.Grid.Cells() || s.A.Grid != r.Grid || s.B.Grid != r.Grid {
			return fmt.Errorf("%w: model %s, setting %s: maps do not fit the grid %+v", ErrGrid, r.Model.Name, s.Setting.ID(), r.Grid)
		}
	}
	return nil
}

// Setting returns the maps of setting s, if the result has them.
func (r *Result) Setting(s Setting) (SettingMaps, bool) {
	for _, m := range r.Settings {
		if m.Setting == s {
			return m, true
		}
	}
	return SettingMaps{}, false
}

// ComputePair makes every map the pair allows with one model: it embeds
// the (up to four) faces under every patch once, in one stream of batches,
// and scores them against each other (see Occluded.Map).
func ComputePair(ctx context.Context, emb Embedder, model Model, p Pair, opt Options) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	faces := []*image.NRGBA{p.A, p.B}
	settings := p.Settings()
	if len(settings) > 1 {
		faces = append(faces, p.MaskedA, p.MaskedB)
	}
	occ, err := OccludeFaces(ctx, emb, faces, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", model.Name, err)
	}
	// The setting's first and second face, as indexes into faces.
	members := [numSettings][2]int{Unmasked: {0, 1}, OneMasked: {0, 3}, BothMasked: {2, 3}}
	res := &Result{Model: model, Grid: occ[0].Grid}
	for _, s := range settings {
		a, b := members[s][0], members[s][1]
		ma, mb := occ[a].Map(occ[b].Original), occ[b].Map(occ[a].Original)
		res.Settings = append(res.Settings, SettingMaps{Setting: s, Score: ma.Score, A: ma, B: mb})
	}
	return res, nil
}
