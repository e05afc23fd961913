// Package compare analyses a photo folder the way the desktop app's Compare
// screen shows it: each photo's face aligned, masked and embedded, and the
// three N×N similarity matrices (unmasked vs unmasked, unmasked vs masked,
// masked vs masked) with their statistics, flips and exports.
package compare

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/parallel"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/render"
)

// A Comparison is one analysed photo folder: every photo's face, its
// aligned 112×112 crop and a masked copy of that crop, the embeddings of
// both, and the three N×N cosine-similarity matrices over the N photos in
// which a face was found:
//
//	SettingUU  unmasked row photo against unmasked column photo
//	SettingUM  unmasked row photo against masked column photo
//	SettingMM  masked row photo against masked column photo
//
// Masks follow the MaskInv protocol: they are drawn by maskgen on the
// aligned crop (maskgen.AlignedFace(112, 112), the ArcFace template), not
// on the photo, keyed by the photo's path under the folder, so a photo wears
// the same mask in every pair and in every run with the same settings.
// (`maskinv mask` on raw photos draws from the 68 landmarks on the photo
// instead; the random choices for a key are the same.)
//
// Rows are ordered by identity, then path. Identities come from the
// folder layout: the first subfolder of a photo's path, or, for photos at
// the top level, the file name before a trailing _NNNN (LFW style,
// "Colin_Powell_0001.jpg"). When every analysed photo has an identity and
// some identity has two photos, the identities are Known and the
// comparison carries per-setting statistics.
//
// A Comparison is immutable once made; Remask returns a new one that shares
// the unmasked half, so one may be displayed while the next is computed.
type Comparison struct {
	Source    string  // folder name, for titles
	Photos    []Photo // every image found, failed ones included, in row order
	Rows      []int   // index into Photos of each matrix row
	Blocks    []IdentityBlock
	Known     bool // identities known for every row, with genuine pairs
	Mask      maskgen.Config
	Model     Model   // the recogniser of the embeddings (Options.Model)
	Threshold float64 // decision: same person when cosine ≥ Threshold
	Scores    [NumSettings]ScoreMatrix
	// Stats are per setting, when Known (else nil); StatsErr says why
	// there are none when Known but a metric was undefined.
	Stats    []SettingStats
	StatsErr error
	// Flips are the pairs whose decision at Threshold under SettingUM or
	// SettingMM differs from that under SettingUU; FlipCount counts them
	// per setting.
	Flips     []Flip
	FlipCount [NumSettings]int

	cache *maskedCache // masked embeddings of earlier settings, shared
	diffs [2]struct {
		once sync.Once
		m    ScoreMatrix
	}
}

// Setting is one way of comparing two photos of a Comparison.
type Setting int

// The three settings of a Comparison.
const (
	SettingUU Setting = iota // unmasked vs unmasked
	SettingUM                // unmasked (row) vs masked (column)
	SettingMM                // masked vs masked
	NumSettings
)

// CompareSettings lists the settings in display order.
func Settings() []Setting { return []Setting{SettingUU, SettingUM, SettingMM} }

func (s Setting) String() string {
	switch s {
	case SettingUU:
		return "unmasked vs unmasked"
	case SettingUM:
		return "unmasked vs masked"
	case SettingMM:
		return "masked vs masked"
	}
	return fmt.Sprintf("setting %d", int(s))
}

// ID is the setting's short name in CSV headers and file names.
func (s Setting) ID() string {
	return [...]string{"unmasked", "unmasked_masked", "masked"}[s]
}

// Photo is one image of the folder.
type Photo struct {
	Key      string // path under the folder, slash-separated; keys the mask
	Identity string // "" when unknown
	Err      string // why the photo has no row (unreadable, no face); "" if it has one
	Row      int    // its matrix row, or -1
	Size     image.Point
	Box      [4]float64 // chosen face: x, y, w, h in photo pixels
	Choice   string     // which face was chosen, of how many
	Thumb    *image.NRGBA
	Aligned  *image.NRGBA // 112×112 aligned crop
	Masked   *image.NRGBA // the crop with its mask
	Params   maskgen.Params
	Coverage float64 // share of the crop the mask covers

	Embedding, MaskedEmbedding []float32 // unit length
}

// Name is the photo's file name without folders or extension.
func (p *Photo) Name() string {
	b := path.Base(p.Key)
	return strings.TrimSuffix(b, path.Ext(b))
}

// IdentityBlock is a run of rows [Start, End) of one identity.
type IdentityBlock = render.Block

// ScoreMatrix is an N×N matrix of cosine similarities, row-major.
type ScoreMatrix = render.Matrix

// maskAligned masks a copy of the aligned crop of the photo called key.
func maskAligned(mask maskgen.Config, crop *image.NRGBA, key string) (maskgen.Result, error) {
	r, err := mask.ApplyAligned(crop, key)
	if err != nil {
		return maskgen.Result{}, fmt.Errorf("%s: mask: %w", key, err)
	}
	return r, nil
}

// SettingStats are the verification metrics of one setting over all pairs
// of rows: i < j for SettingUU and SettingMM, and every ordered pair i ≠ j
// for SettingUM (the row photo unmasked, the column photo masked).
type SettingStats struct {
	Setting           Setting
	Genuine, Impostor eval.Moments
	EER               float64 // equal error rate
	EERThreshold      float64
	FMR100            float64 // lowest FNMR at FMR ≤ 1%
	FMR, FNMR         float64 // at the Comparison's threshold
	Hist              ScoreHistogram
}

// ScoreHistogram counts genuine and impostor scores in equal bins over
// [Lo, Hi); scores outside fall into the end bins.
type ScoreHistogram = eval.Histogram

// Flip is a pair whose decision at the threshold differs between
// SettingUU and Setting (SettingUM or SettingMM). Under SettingUM, A is the
// unmasked photo and B the masked one; A, B are rows.
type Flip struct {
	Setting          Setting
	A, B             int32
	Unmasked, Masked float32 // the pair's score under SettingUU and under Setting
}

// Options configure Folder.
type Options struct {
	Source string // name for titles; default "folder"
	Mask   maskgen.Config
	// Model names the engine's recogniser (for a Duo's captions and CSV
	// columns; a one-model comparison's exports do not show it).
	Model Model
	// Threshold is the decision threshold: the engine's (engine.Engine's
	// Threshold) unless the user chose another.
	Threshold float64
	// Workers decode and locate photos at once; 0 means GOMAXPROCS.
	Workers int
	// Batch is how many photos are processed per step (and per progress
	// report); 0 means 16.
	Batch    int
	Progress progress.Func // photos done of total; nil: none
}

// ThumbSize is the longest side of Photo.Thumb.
const ThumbSize = 96

// Engine is what a Comparison needs of the face engine; *engine.Engine has
// it.
type Engine interface {
	Locate(ctx context.Context, img image.Image) (face.Result, error)
	Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error)
}

// Folder analyses every image under src (all subfolders; hidden entries
// skipped): it finds each photo's face, aligns, masks and embeds it, and
// scores every pair. Photos that fail (unreadable, no face) are kept with
// their reason and get no row. Cancelling ctx stops between batches and
// returns ctx's error.
func Folder(ctx context.Context, eng Engine, src fs.FS, opt Options) (*Comparison, error) {
	if err := opt.Mask.Validate(); err != nil {
		return nil, err
	}
	scan, err := folder.ScanFS(src)
	if err != nil {
		return nil, err
	}
	keys := scan.Images
	if len(keys) == 0 && len(scan.Skipped) > 0 {
		return nil, fmt.Errorf("no images (.jpg, .jpeg, .png) in the folder; skipped %s", scan.Skipped[0])
	}
	if len(keys) == 0 {
		return nil, errors.New("no images (.jpg, .jpeg, .png) in the folder")
	}
	if opt.Source == "" {
		opt.Source = "folder"
	}
	prog := opt.Progress
	if prog == nil {
		prog = progress.Nop
	}
	photos := make([]Photo, len(keys))
	for i, k := range keys {
		photos[i] = Photo{Key: k, Row: -1}
	}
	assignIdentities(photos)
	batch := opt.Batch
	if batch <= 0 {
		batch = 16
	}
	prog(0, len(photos))
	for start := 0; start < len(photos); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := photos[start:min(start+batch, len(photos))]
		if err := parallel.Each(ctx, len(chunk), opt.Workers, func(i int) { locatePhoto(ctx, eng, src, &chunk[i], opt.Mask) }); err != nil {
			return nil, err
		}
		// One recogniser call for both variants of the whole batch.
		var crops []*image.NRGBA
		var dst []*[]float32
		for i := range chunk {
			p := &chunk[i]
			if p.Err == "" {
				crops = append(crops, p.Aligned, p.Masked)
				dst = append(dst, &p.Embedding, &p.MaskedEmbedding)
			}
		}
		if len(crops) > 0 {
			vecs, err := eng.Embed(ctx, crops)
			if err != nil {
				return nil, err
			}
			for i, v := range vecs {
				*dst[i] = v
			}
		}
		prog(start+len(chunk), len(photos))
	}
	// What the scan could not use (an unreadable subfolder, a broken or
	// looping link) is listed with the failed photos, with its reason.
	for _, s := range scan.Skipped {
		photos = append(photos, Photo{Key: s.Path, Err: "skipped " + s.String(), Row: -1})
	}
	c := &Comparison{Source: opt.Source, Photos: photos, Mask: opt.Mask, Model: opt.Model, Threshold: opt.Threshold, cache: newMaskedCache()}
	c.index()
	c.cache.put(c)
	return c, c.score(ctx)
}

// locatePhoto decodes, locates, thumbnails and masks one photo, recording
// a per-photo failure in p.Err.
func locatePhoto(ctx context.Context, eng Engine, src fs.FS, p *Photo, mask maskgen.Config) {
	img, err := imageio.DecodeFS(src, p.Key)
	if err != nil {
		p.Err = err.Error()
		return
	}
	p.Size = img.Rect.Size()
	res, err := eng.Locate(ctx, img)
	if err != nil {
		p.Thumb = render.Thumbnail(img, ThumbSize, nil)
		if ctx.Err() == nil {
			p.Err = fmt.Sprintf("%s: %v", p.Key, err)
		} else {
			p.Err = ctx.Err().Error()
		}
		return
	}
	p.Box = res.Box
	p.Choice = res.Choice.String()
	p.Thumb = render.Thumbnail(img, ThumbSize, &res.Box)
	p.Aligned = res.Aligned
	m, err := maskAligned(mask, res.Aligned, p.Key)
	if err != nil {
		p.Err = err.Error()
		return
	}
	p.Masked, p.Params, p.Coverage = m.Image, m.Params, m.CoveredFraction()
}

// lfwName matches "Name_0001.jpg": the identity of a photo at the top level.
var lfwName = regexp.MustCompile(`^(.+)_[0-9]+\.[A-Za-z]+$`)

// assignIdentities sets each photo's identity from its path and sorts the
// photos by identity, then key.
func assignIdentities(photos []Photo) {
	for i := range photos {
		k := photos[i].Key
		if dir, _, ok := strings.Cut(k, "/"); ok {
			photos[i].Identity = dir
		} else if m := lfwName.FindStringSubmatch(k); m != nil {
			photos[i].Identity = m[1]
		}
	}
	slices.SortStableFunc(photos, func(a, b Photo) int {
		if c := strings.Compare(a.Identity, b.Identity); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// index numbers the rows and finds the identity blocks.
func (c *Comparison) index() {
	c.Rows = c.Rows[:0]
	c.Blocks = nil
	named, genuine := true, false
	for i := range c.Photos {
		p := &c.Photos[i]
		p.Row = -1
		if p.Err != "" {
			continue
		}
		p.Row = len(c.Rows)
		c.Rows = append(c.Rows, i)
		if p.Identity == "" {
			named = false
		}
		if n := len(c.Blocks); n > 0 && c.Blocks[n-1].Name == p.Identity {
			c.Blocks[n-1].End++
			genuine = true
		} else {
			c.Blocks = append(c.Blocks, IdentityBlock{Name: p.Identity, Start: p.Row, End: p.Row + 1})
		}
	}
	c.Known = named && genuine && len(c.Blocks) > 1
}

// Row returns the photo of matrix row i.
func (c *Comparison) Row(i int) *Photo { return &c.Photos[c.Rows[i]] }

// N is the number of rows.
func (c *Comparison) N() int { return len(c.Rows) }

// Failed lists the photos without a row.
func (c *Comparison) Failed() []*Photo {
	var out []*Photo
	for i := range c.Photos {
		if c.Photos[i].Err != "" {
			out = append(out, &c.Photos[i])
		}
	}
	return out
}

// FailureLines are the reasons of the photos without a row, each naming
// its photo: at most limit of them, then "… and N more", so that a folder
// of thousands of faceless photos does not flood a terminal.
func (c *Comparison) FailureLines(limit int) []string {
	failed := c.Failed()
	var out []string
	for k, p := range failed {
		if k == limit {
			out = append(out, fmt.Sprintf("… and %d more", len(failed)-limit))
			break
		}
		out = append(out, p.Err)
	}
	return out
}

// ErrNoFaces marks a comparison in which no photo has a face.
var ErrNoFaces = errors.New("no photo has a face")

// CheckRows refuses exports of a comparison without rows: an empty picture
// and a header-only CSV would look like results, and would replace whatever
// the user had at that path. where names the folder.
func (c *Comparison) CheckRows(where string) error {
	if c.N() > 0 {
		return nil
	}
	return fmt.Errorf("%s: %w (%d photos tried): nothing written", where, ErrNoFaces, len(c.Photos))
}

// Same reports whether rows i and j show the same identity; known is false
// when the identities are not Known.
func (c *Comparison) Same(i, j int) (same, known bool) {
	return c.Row(i).Identity == c.Row(j).Identity, c.Known
}

// score fills the matrices, statistics and flips.
func (c *Comparison) score(ctx context.Context) error {
	n := c.N()
	u := make([]float32, 0, n*512)
	m := make([]float32, 0, n*512)
	dim := 0
	for i := range n {
		p := c.Row(i)
		if dim == 0 {
			dim = len(p.Embedding)
		}
		if len(p.Embedding) != dim || len(p.MaskedEmbedding) != dim {
			return fmt.Errorf("%s: embedding length %d/%d, want %d", p.Key, len(p.Embedding), len(p.MaskedEmbedding), dim)
		}
		u = append(u, p.Embedding...)
		m = append(m, p.MaskedEmbedding...)
	}
	// A matrix already there is shared with the comparison this one was
	// made from (Remask keeps SettingUU's, WithThreshold all three).
	for s, ab := range [NumSettings][2][]float32{SettingUU: {u, u}, SettingUM: {u, m}, SettingMM: {m, m}} {
		if c.Scores[s].Data == nil {
			c.Scores[s] = gram(ab[0], ab[1], n, dim)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	c.findFlips()
	if c.Known {
		c.Stats, c.StatsErr = c.stats(ctx)
	}
	return ctx.Err()
}

// gram returns A·Bᵀ for n×dim row-major A and B: cosine similarities of
// unit vectors.
func gram(a, b []float32, n, dim int) ScoreMatrix {
	out := ScoreMatrix{N: n, Data: make([]float32, n*n)}
	if n == 0 || dim == 0 {
		return out
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: dim, Stride: dim, Data: a},
		blas32.General{Rows: n, Cols: dim, Stride: dim, Data: b},
		0, blas32.General{Rows: n, Cols: n, Stride: n, Data: out.Data})
	return out
}

// pairsOf calls fn for every pair of setting s: i < j, or i ≠ j for
// SettingUM.
func pairsOf(s Setting, n int, fn func(i, j int)) {
	for i := range n {
		j0 := i + 1
		if s == SettingUM {
			j0 = 0
		}
		for j := j0; j < n; j++ {
			if i != j {
				fn(i, j)
			}
		}
	}
}

func (c *Comparison) findFlips() {
	c.Flips = nil
	c.FlipCount = [NumSettings]int{}
	t := c.Threshold
	uu := c.Scores[SettingUU]
	for _, s := range []Setting{SettingUM, SettingMM} {
		sm := c.Scores[s]
		pairsOf(s, c.N(), func(i, j int) {
			a, b := uu.At(i, j), sm.At(i, j)
			if (a >= t) != (b >= t) {
				c.Flips = append(c.Flips, Flip{Setting: s, A: int32(i), B: int32(j), Unmasked: float32(a), Masked: float32(b)})
				c.FlipCount[s]++
			}
		})
	}
}

// identities numbers each row's identity block.
func (c *Comparison) identities() []int {
	ident := make([]int, c.N())
	for k, b := range c.Blocks {
		for i := b.Start; i < b.End; i++ {
			ident[i] = k
		}
	}
	return ident
}

func (c *Comparison) stats(ctx context.Context) ([]SettingStats, error) {
	ident := c.identities()
	out := make([]SettingStats, 0, NumSettings)
	for _, s := range Settings() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := c.N()
		pairs := n * (n - 1)
		if s != SettingUM {
			pairs /= 2
		}
		scores := make([]float64, 0, pairs)
		same := make([]bool, 0, pairs)
		m := c.Scores[s]
		pairsOf(s, c.N(), func(i, j int) {
			scores = append(scores, m.At(i, j))
			same = append(same, ident[i] == ident[j])
		})
		st, err := settingStats(s, scores, same, c.Threshold)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		out = append(out, st)
	}
	return out, nil
}

func settingStats(s Setting, scores []float64, same []bool, t float64) (SettingStats, error) {
	st := SettingStats{Setting: s}
	st.Genuine, st.Impostor = eval.ScoreMoments(scores, same)
	curve, err := eval.ROC(scores, same)
	if err != nil {
		return st, err
	}
	st.EER, st.EERThreshold = curve.EER()
	st.FMR100 = curve.FNMRAtFMR(0.01)
	st.Hist = eval.NewHistogram(scores, same, eval.HistogramLo, eval.HistogramHi, eval.HistogramBins)
	fa, fr := 0, 0
	for k, v := range scores {
		switch {
		case same[k] && v < t:
			fr++
		case !same[k] && v >= t:
			fa++
		}
	}
	st.FMR = float64(fa) / float64(st.Impostor.N)
	st.FNMR = float64(fr) / float64(st.Genuine.N)
	return st, nil
}

// Histogram is st's score histogram as render draws it, titled with the
// setting and its error rates.
func (st *SettingStats) Histogram() render.Histogram {
	return render.Histogram{
		Title:    st.Setting.String(),
		Subtitle: fmt.Sprintf("EER %.1f%%, FMR100 %.1f%%", 100*st.EER, 100*st.FMR100),
		Lo:       st.Hist.Lo, Hi: st.Hist.Hi,
		Genuine: st.Hist.Genuine, Impostor: st.Hist.Impostor,
	}
}

// Stat returns the statistics of setting s, or nil.
func (c *Comparison) Stat(s Setting) *SettingStats {
	for i := range c.Stats {
		if c.Stats[i].Setting == s {
			return &c.Stats[i]
		}
	}
	return nil
}

// DiffKind selects a difference map: how much masks change each score.
type DiffKind int

// Difference maps.
const (
	DiffNone DiffKind = iota
	DiffUM            // SettingUM − SettingUU
	DiffMM            // SettingMM − SettingUU
)

// ParseDiff reads "none", "um" or "mm".
func ParseDiff(s string) (DiffKind, error) {
	switch s {
	case "", "none":
		return DiffNone, nil
	case "um":
		return DiffUM, nil
	case "mm":
		return DiffMM, nil
	}
	return DiffNone, fmt.Errorf("difference map %q: want none, um or mm", s)
}

func (d DiffKind) String() string {
	return [...]string{"none", "um", "mm"}[d]
}

// Title names the map, e.g. "(unmasked vs masked) − (unmasked vs unmasked)".
func (d DiffKind) Title() string {
	switch d {
	case DiffUM:
		return "difference: (unmasked vs masked) − unmasked"
	case DiffMM:
		return "difference: (masked vs masked) − unmasked"
	}
	return ""
}

func (d DiffKind) setting() Setting {
	if d == DiffMM {
		return SettingMM
	}
	return SettingUM
}

// Difference returns the difference map d (computed once).
func (c *Comparison) Difference(d DiffKind) ScoreMatrix {
	if d == DiffNone {
		return ScoreMatrix{}
	}
	slot := &c.diffs[d-1]
	slot.once.Do(func() {
		a, b := c.Scores[d.setting()], c.Scores[SettingUU]
		slot.m = ScoreMatrix{N: a.N, Data: make([]float32, len(a.Data))}
		for i := range a.Data {
			slot.m.Data[i] = a.Data[i] - b.Data[i]
		}
	})
	return slot.m
}

// PairInfo is everything the pair inspector shows for rows A and B.
type PairInfo struct {
	A, B      *Photo
	RowA      int
	RowB      int
	Scores    [NumSettings]float64 // SettingUM: A unmasked, B masked
	Reverse   float64              // A masked, B unmasked
	Same      [NumSettings]bool    // decision: same person at Threshold
	Flipped   [NumSettings]bool    // decision differs from SettingUU's
	Threshold float64
	// SameIdentity is the truth when Known.
	SameIdentity, Known bool
}

// Pair describes rows i and j.
func (c *Comparison) Pair(i, j int) PairInfo {
	p := PairInfo{A: c.Row(i), B: c.Row(j), RowA: i, RowB: j, Threshold: c.Threshold, Reverse: c.Scores[SettingUM].At(j, i)}
	p.SameIdentity, p.Known = c.Same(i, j)
	for _, s := range Settings() {
		p.Scores[s] = c.Scores[s].At(i, j)
		p.Same[s] = p.Scores[s] >= c.Threshold
		p.Flipped[s] = p.Same[s] != p.Same[SettingUU]
	}
	return p
}

// PairRow is one line of the pair inspector: a setting, the pair's score,
// the decision at the threshold and whether masks flipped it.
type PairRow struct {
	Label    string
	Score    float64
	Decision string // "same person" or "different people", with "(correct)" or "(wrong)" when known
	Flipped  bool   // the decision differs from the unmasked one
}

// Rows are the pair's four comparisons: unmasked; A unmasked against B
// masked; A masked against B unmasked; both masked.
func (p PairInfo) Rows() []PairRow {
	base := p.Scores[SettingUU] >= p.Threshold
	row := func(label string, v float64) PairRow {
		same := v >= p.Threshold
		d := "different people"
		if same {
			d = "same person"
		}
		if p.Known {
			if same == p.SameIdentity {
				d += " (correct)"
			} else {
				d += " (wrong)"
			}
		}
		return PairRow{Label: label, Score: v, Decision: d, Flipped: same != base}
	}
	return []PairRow{
		row("unmasked vs unmasked", p.Scores[SettingUU]),
		row("A unmasked vs B masked", p.Scores[SettingUM]),
		row("A masked vs B unmasked", p.Reverse),
		row("masked vs masked", p.Scores[SettingMM]),
	}
}

// CellText is the one-line description of cell (i, j) of map s (or of a
// difference map when diff is not DiffNone), for tooltips.
func (c *Comparison) CellText(s Setting, diff DiffKind, i, j int) string {
	a, b := c.Row(i).Name(), c.Row(j).Name()
	switch {
	case diff != DiffNone:
		return fmt.Sprintf("%s × %s: %+.3f (%.3f → %.3f)", a, b, c.Difference(diff).At(i, j),
			c.Scores[SettingUU].At(i, j), c.Scores[diff.setting()].At(i, j))
	case s == SettingUM:
		a += " (unmasked)"
		b += " (masked)"
	case s == SettingMM:
		a += " (masked)"
		b += " (masked)"
	}
	v := c.Scores[s].At(i, j)
	d := "different"
	if v >= c.Threshold {
		d = "same"
	}
	return fmt.Sprintf("%s × %s: %.3f (%s)", a, b, v, d)
}

// FlipText describes a flip for lists, e.g. "unmasked vs masked:
// Ann_0001 × Ann_0002 (masked): 0.412 → 0.213, genuine pair now rejected".
func (c *Comparison) FlipText(f Flip) string {
	a, b := c.Row(int(f.A)), c.Row(int(f.B))
	an, bn := a.Name(), b.Name()+" (masked)"
	if f.Setting == SettingMM {
		an += " (masked)"
	}
	what := "now accepted"
	if f.Masked < f.Unmasked {
		what = "now rejected"
	}
	switch same, known := c.Same(int(f.A), int(f.B)); {
	case !known:
		what = "pair " + what
	case same:
		what = "genuine pair " + what
	default:
		what = "impostor pair " + what
	}
	return fmt.Sprintf("%s: %s × %s: %.3f → %.3f, %s", f.Setting, an, bn, f.Unmasked, f.Masked, what)
}
