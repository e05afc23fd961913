package compare

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"slices"
	"sync"

	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
)

// Model names the recogniser a Comparison's embeddings come from.
type Model struct {
	// Label is a short name for captions and CSV columns: "teacher",
	// "student", a file's base name.
	Label  string
	Name   string // the model's file name, e.g. "fr_feature.onnx (embedded)"
	SHA256 string // of the ONNX file; "" when unknown (a test's stand-in)
}

// Recogniser embeds aligned 112×112 crops into unit-length vectors: all a
// second model of a Duo needs, since the faces are found once by the first
// model's Engine. Engine has it, and so have *face.Embedder,
// *engine.Engine and occlusion.NetEmbedder.
type Recogniser interface {
	Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error)
}

// Duo is two models' comparisons of the same photos under the same masks:
// the faces are found, aligned and masked once, and each model embeds the
// same crops. Both comparisons stay scored, so a view can switch between
// the models, or show them side by side, without embedding again.
//
// Models[0] is the first model (the reference, usually the teacher) and
// Models[1] the second; Change is second − first. A Duo is immutable once
// made; Remask, Swap and WithThreshold return new ones.
type Duo struct {
	Models [2]*Comparison

	change [NumSettings]struct {
		once sync.Once
		m    ScoreMatrix
	}
}

// ErrMismatch marks two comparisons that a Duo cannot pair: other photos,
// rows or masks.
var ErrMismatch = errors.New("the comparisons differ in photos, rows or masks")

// NewDuo pairs two comparisons of the same photos, rows and mask settings
// (the second made from the first with WithModel, or both by Remask).
func NewDuo(first, second *Comparison) (*Duo, error) {
	if first == nil || second == nil {
		return nil, fmt.Errorf("duo: %w: a comparison is missing", ErrMismatch)
	}
	if len(first.Photos) != len(second.Photos) || !slices.Equal(first.Rows, second.Rows) {
		return nil, fmt.Errorf("duo: %w: %d and %d photos, %d and %d rows", ErrMismatch, len(first.Photos), len(second.Photos), first.N(), second.N())
	}
	for i := range first.Photos {
		if a, b := first.Photos[i].Key, second.Photos[i].Key; a != b {
			return nil, fmt.Errorf("duo: %w: photo %d is %s and %s", ErrMismatch, i, a, b)
		}
	}
	if a, b := first.Mask.String(), second.Mask.String(); a != b {
		return nil, fmt.Errorf("duo: %w: masks %s and %s", ErrMismatch, a, b)
	}
	return &Duo{Models: [2]*Comparison{first, second}}, nil
}

// Second is the second model of FolderDuo and Duo.Remask.
type Second struct {
	Recogniser Recogniser
	Model      Model
	Threshold  float64 // its own: decisions of each model are at its threshold
}

// FolderDuo analyses src once with eng (the first model: detection,
// alignment, masks, its embeddings; see Folder and opt) and embeds the
// same crops with the second model. Progress runs over both halves.
func FolderDuo(ctx context.Context, eng Engine, src fs.FS, opt Options, second Second) (*Duo, error) {
	prog := opt.Progress
	if prog == nil {
		prog = progress.Nop
	}
	opt.Progress = func(done, total int) { prog(done, 2*total) }
	first, err := Folder(ctx, eng, src, opt)
	if err != nil {
		return nil, err
	}
	total := len(first.Photos)
	b, err := first.WithModel(ctx, second.Recogniser, second.Model, second.Threshold, func(done, n int) {
		prog(total+done*total/max(n, 1), 2*total)
	})
	if err != nil {
		return nil, err
	}
	return NewDuo(first, b)
}

// WithModel returns the comparison as another recogniser sees it: the same
// photos, rows, crops and masks (shared, not copied), embedded by rec and
// scored at threshold, with statistics and flips of its own. It embeds
// every row's crop twice (unmasked and masked); progress counts rows.
func (c *Comparison) WithModel(ctx context.Context, rec Recogniser, m Model, threshold float64, prog progress.Func) (*Comparison, error) {
	nc := &Comparison{
		Source: c.Source, Photos: slices.Clone(c.Photos), Rows: c.Rows, Blocks: c.Blocks, Known: c.Known,
		Mask: c.Mask, Model: m, Threshold: threshold, cache: newMaskedCache(),
	}
	for _, i := range nc.Rows {
		nc.Photos[i].Embedding, nc.Photos[i].MaskedEmbedding = nil, nil
	}
	if err := nc.embedMissing(ctx, rec, prog); err != nil {
		return nil, err
	}
	nc.cache.put(nc)
	return nc, nc.score(ctx)
}

// rebase is prev's model on c's photos and masks: the comparison
// Duo.Remask makes for the second model once the first has remasked.
// Unmasked embeddings and scores come from prev, masked embeddings from
// prev's cache where it has these settings; rec embeds the rest.
func (c *Comparison) rebase(ctx context.Context, prev *Comparison, rec Recogniser, prog progress.Func) (*Comparison, error) {
	nc := &Comparison{
		Source: c.Source, Photos: slices.Clone(c.Photos), Rows: c.Rows, Blocks: c.Blocks, Known: c.Known,
		Mask: c.Mask, Model: prev.Model, Threshold: prev.Threshold, cache: prev.cache,
	}
	nc.Scores[SettingUU] = prev.Scores[SettingUU]
	cached := prev.cache.get(c.Mask.String())
	for _, i := range nc.Rows {
		p := &nc.Photos[i]
		p.Embedding = prev.Photos[i].Embedding
		p.MaskedEmbedding = cached[p.Key] // nil when not cached
	}
	if err := nc.embedMissing(ctx, rec, prog); err != nil {
		return nil, err
	}
	nc.cache.put(nc)
	return nc, nc.score(ctx)
}

// embedMissing fills the rows' nil embeddings with rec's, in batches.
func (c *Comparison) embedMissing(ctx context.Context, rec Recogniser, prog progress.Func) error {
	if prog == nil {
		prog = progress.Nop
	}
	const batch = 32
	n := c.N()
	prog(0, n)
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+batch, n)
		var crops []*image.NRGBA
		var dst []*[]float32
		for i := start; i < end; i++ {
			p := c.Row(i)
			if p.Embedding == nil {
				crops, dst = append(crops, p.Aligned), append(dst, &p.Embedding)
			}
			if p.MaskedEmbedding == nil {
				crops, dst = append(crops, p.Masked), append(dst, &p.MaskedEmbedding)
			}
		}
		if len(crops) > 0 {
			vecs, err := rec.Embed(ctx, crops)
			if err != nil {
				return err
			}
			if len(vecs) != len(crops) {
				return fmt.Errorf("%s: %d embeddings for %d crops", c.Model.Name, len(vecs), len(crops))
			}
			for k, v := range vecs {
				*dst[k] = v
			}
		}
		prog(end, n)
	}
	return nil
}

// WithThreshold returns the comparison deciding at another threshold:
// the flips and the error rates at the threshold are redone from the
// scores; nothing is embedded, and what does not depend on the threshold
// (scores, EER, FMR100, histograms) is shared.
func (c *Comparison) WithThreshold(ctx context.Context, threshold float64) (*Comparison, error) {
	nc := &Comparison{
		Source: c.Source, Photos: c.Photos, Rows: c.Rows, Blocks: c.Blocks, Known: c.Known,
		Mask: c.Mask, Model: c.Model, Threshold: threshold, Scores: c.Scores, cache: c.cache,
		Stats: slices.Clone(c.Stats), StatsErr: c.StatsErr,
	}
	nc.findFlips()
	ident := nc.identities()
	for k := range nc.Stats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := &nc.Stats[k]
		fa, fr := 0, 0
		m := nc.Scores[st.Setting]
		pairsOf(st.Setting, nc.N(), func(i, j int) {
			same, v := ident[i] == ident[j], m.At(i, j)
			switch {
			case same && v < threshold:
				fr++
			case !same && v >= threshold:
				fa++
			}
		})
		st.FMR, st.FNMR = float64(fa)/float64(st.Impostor.N), float64(fr)/float64(st.Genuine.N)
	}
	return nc, nil
}

// Remask returns the duo under new mask settings: the first model remasks
// with eng (see Comparison.Remask), and the second embeds the new masked
// crops with rec, or takes them from its cache of earlier settings.
// Progress runs over both models.
func (d *Duo) Remask(ctx context.Context, eng Engine, rec Recogniser, mask maskgen.Config, prog progress.Func) (*Duo, error) {
	if prog == nil {
		prog = progress.Nop
	}
	n := d.Models[0].N()
	first, err := d.Models[0].Remask(ctx, eng, mask, func(done, total int) { prog(done, 2*total) })
	if err != nil {
		return nil, err
	}
	second, err := first.rebase(ctx, d.Models[1], rec, func(done, _ int) { prog(n+done, 2*n) })
	if err != nil {
		return nil, err
	}
	return NewDuo(first, second)
}

// Swap returns the duo with its models in the other order.
func (d *Duo) Swap() *Duo { return &Duo{Models: [2]*Comparison{d.Models[1], d.Models[0]}} }

// WithThreshold returns the duo with model k (0 or 1) deciding at
// threshold (see Comparison.WithThreshold).
func (d *Duo) WithThreshold(ctx context.Context, k int, threshold float64) (*Duo, error) {
	c, err := d.Models[k].WithThreshold(ctx, threshold)
	if err != nil {
		return nil, err
	}
	nd := &Duo{Models: d.Models}
	nd.Models[k] = c
	return nd, nil
}

// N is the number of rows (the same for both models).
func (d *Duo) N() int { return d.Models[0].N() }

// Change is the per-pair change between the models under setting s:
// second − first (computed once).
func (d *Duo) Change(s Setting) ScoreMatrix {
	slot := &d.change[s]
	slot.once.Do(func() {
		a, b := d.Models[0].Scores[s], d.Models[1].Scores[s]
		slot.m = ScoreMatrix{N: a.N, Data: make([]float32, len(a.Data))}
		for i := range a.Data {
			slot.m.Data[i] = b.Data[i] - a.Data[i]
		}
	})
	return slot.m
}

// Labels are the models' labels for captions: their Label (else their
// Name, else "model 1"/"model 2"), made distinct when they are equal.
func (d *Duo) Labels() [2]string {
	var out [2]string
	for k, c := range d.Models {
		out[k] = c.Model.Label
		if out[k] == "" {
			out[k] = c.Model.Name
		}
		if out[k] == "" {
			out[k] = fmt.Sprintf("model %d", k+1)
		}
	}
	if out[0] == out[1] {
		out[0] += " (1)"
		out[1] += " (2)"
	}
	return out
}

// FlipSplit counts, under one setting, the pairs whose decision masks flip
// (at each model's own threshold): for the first model only, for the
// second only, and for both.
type FlipSplit struct{ First, Second, Both int }

// FlipSplits are the flip counts of SettingUM and SettingMM, split by
// model (SettingUU's is zero: nothing flips against itself).
func (d *Duo) FlipSplits() [NumSettings]FlipSplit {
	type pair struct {
		s    Setting
		a, b int32
	}
	var out [NumSettings]FlipSplit
	seen := map[pair]bool{}
	for _, f := range d.Models[0].Flips {
		seen[pair{f.Setting, f.A, f.B}] = true
		out[f.Setting].First++
	}
	for _, f := range d.Models[1].Flips {
		if seen[pair{f.Setting, f.A, f.B}] {
			out[f.Setting].First--
			out[f.Setting].Both++
		} else {
			out[f.Setting].Second++
		}
	}
	return out
}

// DuoPair is everything the pair inspector shows of rows A and B with two
// models: each model's PairInfo (its four scores, decisions at its own
// threshold, and the settings under which masks flip them) and the change
// between the models.
type DuoPair struct {
	Models        [2]PairInfo
	Labels        [2]string
	Change        [NumSettings]float64 // second − first; SettingUM: A unmasked, B masked
	ChangeReverse float64              // A masked, B unmasked
}

// Pair describes rows i and j under both models.
func (d *Duo) Pair(i, j int) DuoPair {
	p := DuoPair{Models: [2]PairInfo{d.Models[0].Pair(i, j), d.Models[1].Pair(i, j)}, Labels: d.Labels()}
	for _, s := range Settings() {
		p.Change[s] = p.Models[1].Scores[s] - p.Models[0].Scores[s]
	}
	p.ChangeReverse = p.Models[1].Reverse - p.Models[0].Reverse
	return p
}

// DuoPairRow is one line of the two-model pair inspector: a comparison
// of the pair, each model's score, decision and flip, and the change.
type DuoPairRow struct {
	Label  string
	Models [2]PairRow
	Change float64 // second − first
}

// FlippedBy says whose decision masks flip on this row: "", the first
// label, the second, or "both".
func (r DuoPairRow) FlippedBy(labels [2]string) string {
	switch a, b := r.Models[0].Flipped, r.Models[1].Flipped; {
	case a && b:
		return "both"
	case a:
		return labels[0]
	case b:
		return labels[1]
	}
	return ""
}

// Rows are the pair's four comparisons (as PairInfo.Rows) under both
// models.
func (p DuoPair) Rows() []DuoPairRow {
	a, b := p.Models[0].Rows(), p.Models[1].Rows()
	changes := []float64{p.Change[SettingUU], p.Change[SettingUM], p.ChangeReverse, p.Change[SettingMM]}
	out := make([]DuoPairRow, len(a))
	for k := range a {
		out[k] = DuoPairRow{Label: a[k].Label, Models: [2]PairRow{a[k], b[k]}, Change: changes[k]}
	}
	return out
}

// ChangeText is the one-line description of cell (i, j) of the change map
// of setting s, for tooltips: "Ann_0001 × Bob_0002 (masked): +0.121
// (teacher 0.213 → student 0.334)".
func (d *Duo) ChangeText(s Setting, i, j int) string {
	a, b := d.Models[0].Row(i).Name(), d.Models[0].Row(j).Name()
	switch s {
	case SettingUM:
		a += " (unmasked)"
		b += " (masked)"
	case SettingMM:
		a += " (masked)"
		b += " (masked)"
	}
	l := d.Labels()
	return fmt.Sprintf("%s × %s: %+.3f (%s %.3f → %s %.3f)", a, b, d.Change(s).At(i, j),
		l[0], d.Models[0].Scores[s].At(i, j), l[1], d.Models[1].Scores[s].At(i, j))
}
