package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/disintegration/imaging"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
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
	Source    string         // folder name, for titles
	Photos    []ComparePhoto // every image found, failed ones included, in row order
	Rows      []int          // index into Photos of each matrix row
	Blocks    []IdentityBlock
	Known     bool // identities known for every row, with genuine pairs
	Mask      MaskSettings
	Threshold float64 // decision: same person when cosine ≥ Threshold
	Scores    [NumSettings]ScoreMatrix
	// Stats are per setting, when Known (else nil); StatsErr says why
	// there are none when Known but a metric was undefined.
	Stats    []SettingStats
	StatsErr error
	// Flips are the pairs whose decision at Threshold under SettingUM or
	// SettingMM differs from that under SettingUU; FlipCount counts them
	// per setting.
	Flips     []CompareFlip
	FlipCount [NumSettings]int

	cache *maskedCache // masked embeddings of earlier settings, shared
	diffs [2]struct {
		once sync.Once
		m    ScoreMatrix
	}
}

// CompareSetting is one way of comparing two photos of a Comparison.
type CompareSetting int

// The three settings of a Comparison.
const (
	SettingUU CompareSetting = iota // unmasked vs unmasked
	SettingUM                       // unmasked (row) vs masked (column)
	SettingMM                       // masked vs masked
	NumSettings
)

// CompareSettings lists the settings in display order.
func CompareSettings() []CompareSetting { return []CompareSetting{SettingUU, SettingUM, SettingMM} }

func (s CompareSetting) String() string {
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
func (s CompareSetting) ID() string {
	return [...]string{"unmasked", "unmasked_masked", "masked"}[s]
}

// ComparePhoto is one image of the folder.
type ComparePhoto struct {
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
func (p *ComparePhoto) Name() string {
	b := path.Base(p.Key)
	return strings.TrimSuffix(b, path.Ext(b))
}

// IdentityBlock is a run of rows [Start, End) of one identity.
type IdentityBlock struct {
	Name       string
	Start, End int
}

// ScoreMatrix is an N×N matrix of cosine similarities, row-major.
type ScoreMatrix struct {
	N    int
	Data []float32
}

// At is the score of row i against column j.
func (m ScoreMatrix) At(i, j int) float64 { return float64(m.Data[i*m.N+j]) }

// MaskSettings choose the masks of a Comparison.
type MaskSettings struct {
	Config maskgen.Config
	Shift  *MaskShift // nil: the paper style's random shift
}

// Params are the mask choices for the photo called key.
func (s MaskSettings) Params(key string) maskgen.Params { return MaskParams(s.Config, s.Shift, key) }

// Apply masks a copy of an aligned 112×112 crop as the photo called key.
func (s MaskSettings) Apply(crop *image.NRGBA, key string) (maskgen.Result, error) {
	if err := s.Shift.check(); err != nil {
		return maskgen.Result{}, err
	}
	p := s.Params(key)
	b := crop.Bounds()
	f := maskgen.AlignedFace(b.Dx(), b.Dy())
	for i := range f.Points5 {
		f.Points5[i].X += float64(b.Min.X)
		f.Points5[i].Y += float64(b.Min.Y)
	}
	img := maskgen.ToNRGBA(crop)
	cov, err := maskgen.Render(img, f, p)
	if err != nil {
		return maskgen.Result{}, fmt.Errorf("%s: mask: %w", key, err)
	}
	return maskgen.Result{Image: img, Coverage: cov, Params: p}, nil
}

// String describes the settings, e.g. "paper, colour auto, seed 0, shift random".
func (s MaskSettings) String() string {
	return fmt.Sprintf("%s, colour %s, seed %d, shift %s", s.Config.Style, s.Config.Color, s.Config.Seed, s.Shift)
}

// key identifies the settings in the masked-embedding cache.
func (s MaskSettings) key() string { return s.String() }

// SettingStats are the verification metrics of one setting over all pairs
// of rows: i < j for SettingUU and SettingMM, and every ordered pair i ≠ j
// for SettingUM (the row photo unmasked, the column photo masked).
type SettingStats struct {
	Setting           CompareSetting
	Genuine, Impostor eval.Moments
	EER               float64 // equal error rate
	EERThreshold      float64
	FMR100            float64 // lowest FNMR at FMR ≤ 1%
	FMR, FNMR         float64 // at the Comparison's threshold
	Hist              ScoreHistogram
}

// ScoreHistogram counts genuine and impostor scores in equal bins over
// [Lo, Hi); scores outside fall into the end bins.
type ScoreHistogram struct {
	Lo, Hi            float64
	Genuine, Impostor []int
}

// Histogram range and bins of SettingStats.
const (
	histLo, histHi = -0.4, 1.0
	histBinCount   = 56 // 0.025 wide
)

// CompareFlip is a pair whose decision at the threshold differs between
// SettingUU and Setting (SettingUM or SettingMM). Under SettingUM, A is the
// unmasked photo and B the masked one; A, B are rows.
type CompareFlip struct {
	Setting          CompareSetting
	A, B             int32
	Unmasked, Masked float32 // the pair's score under SettingUU and under Setting
}

// CompareOptions configure Compare.
type CompareOptions struct {
	Source string // name for titles; default "folder"
	Mask   MaskSettings
	// Threshold is the decision threshold; 0 takes the engine's.
	Threshold float64
	// Workers decode and locate photos at once; 0 means GOMAXPROCS.
	Workers int
	// Batch is how many photos are processed per step (and per progress
	// report); 0 means 16.
	Batch    int
	Progress progress.Func // photos done of total; nil: none
}

// ThumbSize is the longest side of ComparePhoto.Thumb.
const ThumbSize = 96

// compareEngine is what a Comparison needs of the face engine.
type compareEngine interface {
	Locate(ctx context.Context, img image.Image) (face.Result, error)
	Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error)
}

// Compare analyses every image under src (all subfolders; hidden entries
// skipped): it finds each photo's face, aligns, masks and embeds it, and
// scores every pair. Photos that fail (unreadable, no face) are kept with
// their reason and get no row. Cancelling ctx stops between batches and
// returns ctx's error.
func Compare(ctx context.Context, eng *engine.Engine, src fs.FS, opt CompareOptions) (*Comparison, error) {
	if opt.Threshold == 0 {
		opt.Threshold = eng.Threshold
	}
	return compare(ctx, eng, src, opt)
}

func compare(ctx context.Context, eng compareEngine, src fs.FS, opt CompareOptions) (*Comparison, error) {
	if err := opt.Mask.Shift.check(); err != nil {
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
	photos := make([]ComparePhoto, len(keys))
	for i, k := range keys {
		photos[i] = ComparePhoto{Key: k, Row: -1}
	}
	assignIdentities(photos)
	batch := opt.Batch
	if batch <= 0 {
		batch = 16
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	prog(0, len(photos))
	for start := 0; start < len(photos); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := photos[start:min(start+batch, len(photos))]
		parallelFor(len(chunk), workers, func(i int) { locatePhoto(ctx, eng, src, &chunk[i], opt.Mask) })
		if err := ctx.Err(); err != nil {
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
		photos = append(photos, ComparePhoto{Key: s.Path, Err: "skipped " + s.String(), Row: -1})
	}
	c := &Comparison{Source: opt.Source, Photos: photos, Mask: opt.Mask, Threshold: opt.Threshold, cache: newMaskedCache()}
	c.index()
	c.cache.put(c)
	return c, c.score(ctx)
}

// locatePhoto decodes, locates, thumbnails and masks one photo, recording
// a per-photo failure in p.Err.
func locatePhoto(ctx context.Context, eng compareEngine, src fs.FS, p *ComparePhoto, mask MaskSettings) {
	img, err := decodeFS(src, p.Key)
	if err != nil {
		p.Err = err.Error()
		return
	}
	p.Size = img.Rect.Size()
	res, err := eng.Locate(ctx, img)
	if err != nil {
		p.Thumb = Thumbnail(img, nil)
		if ctx.Err() == nil {
			p.Err = fmt.Sprintf("%s: %v", p.Key, err)
		} else {
			p.Err = ctx.Err().Error()
		}
		return
	}
	p.Box = res.Box
	p.Choice = res.Choice.String()
	p.Thumb = Thumbnail(img, &res.Box)
	p.Aligned = res.Aligned
	m, err := mask.Apply(res.Aligned, p.Key)
	if err != nil {
		p.Err = err.Error()
		return
	}
	p.Masked, p.Params, p.Coverage = m.Image, m.Params, m.CoveredFraction()
}

func decodeFS(src fs.FS, key string) (*image.NRGBA, error) {
	f, err := src.Open(key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return imageio.DecodeReader(f, key)
}

// parallelFor runs fn(0..n-1) on up to workers goroutines.
func parallelFor(n, workers int, fn func(i int)) {
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Thumbnail scales img to fit ThumbSize and outlines box (x, y, w, h in
// img pixels) when it is not nil.
func Thumbnail(img image.Image, box *[4]float64) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	t := imaging.Fit(img, ThumbSize, ThumbSize, imaging.Linear) // a copy, also when small
	if box != nil {
		s := float64(t.Rect.Dx()) / float64(w)
		r := image.Rect(int(math.Round(box[0]*s)), int(math.Round(box[1]*s)),
			int(math.Round((box[0]+box[2])*s)), int(math.Round((box[1]+box[3])*s)))
		strokeRect(t, r, 2, color.NRGBA{0, 230, 118, 255})
	}
	return t
}

// strokeRect draws r's outline, width px wide, inside r, clipped to dst.
func strokeRect(dst *image.NRGBA, r image.Rectangle, width int, c color.NRGBA) {
	fill := func(q image.Rectangle) {
		q = q.Intersect(dst.Rect)
		for y := q.Min.Y; y < q.Max.Y; y++ {
			for x := q.Min.X; x < q.Max.X; x++ {
				dst.SetNRGBA(x, y, c)
			}
		}
	}
	fill(image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+width))
	fill(image.Rect(r.Min.X, r.Max.Y-width, r.Max.X, r.Max.Y))
	fill(image.Rect(r.Min.X, r.Min.Y, r.Min.X+width, r.Max.Y))
	fill(image.Rect(r.Max.X-width, r.Min.Y, r.Max.X, r.Max.Y))
}

// lfwName matches "Name_0001.jpg": the identity of a photo at the top level.
var lfwName = regexp.MustCompile(`^(.+)_[0-9]+\.[A-Za-z]+$`)

// assignIdentities sets each photo's identity from its path and sorts the
// photos by identity, then key.
func assignIdentities(photos []ComparePhoto) {
	for i := range photos {
		k := photos[i].Key
		if dir, _, ok := strings.Cut(k, "/"); ok {
			photos[i].Identity = dir
		} else if m := lfwName.FindStringSubmatch(k); m != nil {
			photos[i].Identity = m[1]
		}
	}
	slices.SortStableFunc(photos, func(a, b ComparePhoto) int {
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
func (c *Comparison) Row(i int) *ComparePhoto { return &c.Photos[c.Rows[i]] }

// N is the number of rows.
func (c *Comparison) N() int { return len(c.Rows) }

// Failed lists the photos without a row.
func (c *Comparison) Failed() []*ComparePhoto {
	var out []*ComparePhoto
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

// checkRows refuses exports of a comparison without rows: an empty picture
// and a header-only CSV would look like results, and would replace whatever
// the user had at that path. where names the folder.
func (c *Comparison) checkRows(where string) error {
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
	if c.Scores[SettingUU].Data == nil {
		c.Scores[SettingUU] = gram(u, u, n, dim)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Scores[SettingUM] = gram(u, m, n, dim)
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Scores[SettingMM] = gram(m, m, n, dim)
	if err := ctx.Err(); err != nil {
		return err
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
func pairsOf(s CompareSetting, n int, fn func(i, j int)) {
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
	for _, s := range []CompareSetting{SettingUM, SettingMM} {
		sm := c.Scores[s]
		pairsOf(s, c.N(), func(i, j int) {
			a, b := uu.At(i, j), sm.At(i, j)
			if (a >= t) != (b >= t) {
				c.Flips = append(c.Flips, CompareFlip{Setting: s, A: int32(i), B: int32(j), Unmasked: float32(a), Masked: float32(b)})
				c.FlipCount[s]++
			}
		})
	}
}

func (c *Comparison) stats(ctx context.Context) ([]SettingStats, error) {
	ident := make([]int, c.N())
	for k, b := range c.Blocks {
		for i := b.Start; i < b.End; i++ {
			ident[i] = k
		}
	}
	out := make([]SettingStats, 0, NumSettings)
	for _, s := range CompareSettings() {
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

func settingStats(s CompareSetting, scores []float64, same []bool, t float64) (SettingStats, error) {
	st := SettingStats{Setting: s}
	st.Genuine, st.Impostor = eval.ScoreMoments(scores, same)
	curve, err := eval.ROC(scores, same)
	if err != nil {
		return st, err
	}
	st.EER, st.EERThreshold = curve.EER()
	st.FMR100 = curve.FNMRAtFMR(0.01)
	st.Hist = ScoreHistogram{Lo: histLo, Hi: histHi, Genuine: make([]int, histBinCount), Impostor: make([]int, histBinCount)}
	fa, fr := 0, 0
	for k, v := range scores {
		b := int(math.Floor((v - histLo) / (histHi - histLo) * histBinCount))
		b = max(0, min(histBinCount-1, b))
		if same[k] {
			st.Hist.Genuine[b]++
			if v < t {
				fr++
			}
		} else {
			st.Hist.Impostor[b]++
			if v >= t {
				fa++
			}
		}
	}
	st.FMR = float64(fa) / float64(st.Impostor.N)
	st.FNMR = float64(fr) / float64(st.Genuine.N)
	return st, nil
}

// Stat returns the statistics of setting s, or nil.
func (c *Comparison) Stat(s CompareSetting) *SettingStats {
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

func (d DiffKind) setting() CompareSetting {
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
	A, B      *ComparePhoto
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
	for _, s := range CompareSettings() {
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
func (c *Comparison) CellText(s CompareSetting, diff DiffKind, i, j int) string {
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

// Remask returns the comparison with new mask settings. The unmasked crops,
// embeddings and SettingUU scores are shared with c; only the masked crops
// are redrawn and embedded, and embeddings of settings seen before are
// reused. Progress counts rows.
func (c *Comparison) Remask(ctx context.Context, eng *engine.Engine, mask MaskSettings, prog progress.Func) (*Comparison, error) {
	return c.remask(ctx, eng, mask, prog)
}

func (c *Comparison) remask(ctx context.Context, eng compareEngine, mask MaskSettings, prog progress.Func) (*Comparison, error) {
	if err := mask.Shift.check(); err != nil {
		return nil, err
	}
	if prog == nil {
		prog = progress.Nop
	}
	nc := &Comparison{
		Source: c.Source, Photos: slices.Clone(c.Photos), Rows: c.Rows, Blocks: c.Blocks, Known: c.Known,
		Mask: mask, Threshold: c.Threshold, cache: c.cache,
	}
	nc.Scores[SettingUU] = c.Scores[SettingUU]
	n := nc.N()
	cached := c.cache.get(mask.key())
	prog(0, n)
	const batch = 32
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+batch, n)
		errs := make([]error, end-start)
		parallelFor(end-start, runtime.GOMAXPROCS(0), func(k int) {
			p := nc.Row(start + k)
			m, err := mask.Apply(p.Aligned, p.Key)
			if err != nil {
				errs[k] = err
				return
			}
			p.Masked, p.Params, p.Coverage = m.Image, m.Params, m.CoveredFraction()
			p.MaskedEmbedding = nil
			if cached != nil {
				p.MaskedEmbedding = cached[p.Key]
			}
		})
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		var crops []*image.NRGBA
		var rows []int
		for i := start; i < end; i++ {
			if nc.Row(i).MaskedEmbedding == nil {
				crops = append(crops, nc.Row(i).Masked)
				rows = append(rows, i)
			}
		}
		if len(crops) > 0 {
			vecs, err := eng.Embed(ctx, crops)
			if err != nil {
				return nil, err
			}
			for k, i := range rows {
				nc.Row(i).MaskedEmbedding = vecs[k]
			}
		}
		prog(end, n)
	}
	nc.cache.put(nc)
	return nc, nc.score(ctx)
}

// maskedCache keeps the masked embeddings of the last few mask settings of
// a folder (2 KB per photo and setting), so that going back to earlier
// settings costs no recogniser runs.
type maskedCache struct {
	mu      sync.Mutex
	order   []string
	entries map[string]map[string][]float32 // settings → photo key → embedding
}

const maskedCacheSize = 8

func newMaskedCache() *maskedCache {
	return &maskedCache{entries: map[string]map[string][]float32{}}
}

func (mc *maskedCache) get(key string) map[string][]float32 {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return mc.entries[key]
}

func (mc *maskedCache) put(c *Comparison) {
	e := make(map[string][]float32, c.N())
	for _, i := range c.Rows {
		e[c.Photos[i].Key] = c.Photos[i].MaskedEmbedding
	}
	key := c.Mask.key()
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if _, ok := mc.entries[key]; !ok {
		mc.order = append(mc.order, key)
	}
	mc.entries[key] = e
	for len(mc.order) > maskedCacheSize {
		delete(mc.entries, mc.order[0])
		mc.order = mc.order[1:]
	}
}

// WriteCSV writes one line per pair of rows i < j: the two photos, whether
// they share an identity (yes, no, or empty when unknown), the four scores
// (unmasked; A unmasked vs B masked; A masked vs B unmasked; both masked)
// and the settings under which the decision at the threshold differs from
// the unmasked one.
func (c *Comparison) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("photo_a,photo_b,identity_a,identity_b,same_identity,unmasked,unmasked_masked,masked_unmasked,masked,threshold,flipped\n")
	uu, um, mm := c.Scores[SettingUU], c.Scores[SettingUM], c.Scores[SettingMM]
	t := c.Threshold
	ts := strconv.FormatFloat(t, 'f', -1, 64)
	var line []byte
	for i := range c.N() {
		a := c.Row(i)
		for j := i + 1; j < c.N(); j++ {
			b := c.Row(j)
			line = line[:0]
			line = appendCSVField(line, a.Key)
			line = append(line, ',')
			line = appendCSVField(line, b.Key)
			line = append(line, ',')
			line = appendCSVField(line, a.Identity)
			line = append(line, ',')
			line = appendCSVField(line, b.Identity)
			line = append(line, ',')
			if c.Known {
				if a.Identity == b.Identity {
					line = append(line, "yes"...)
				} else {
					line = append(line, "no"...)
				}
			}
			base := uu.At(i, j) >= t
			var flipped []string
			for k, v := range []float64{uu.At(i, j), um.At(i, j), um.At(j, i), mm.At(i, j)} {
				line = append(line, ',')
				line = strconv.AppendFloat(line, v, 'f', 5, 32)
				if (v >= t) != base {
					flipped = append(flipped, [...]string{"", "unmasked_masked", "masked_unmasked", "masked"}[k])
				}
			}
			line = append(line, ',')
			line = append(line, ts...)
			line = append(line, ',')
			line = append(line, strings.Join(flipped, " ")...)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// WriteCSVFile writes WriteCSV's output to path atomically. It writes
// nothing, and fails with ErrNoFaces, when no photo has a face.
func (c *Comparison) WriteCSVFile(path string) error {
	if err := c.checkRows(c.Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WriteAtomic(path, c.WriteCSV)
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// FlipText describes a flip for lists, e.g. "unmasked vs masked:
// Ann_0001 × Ann_0002 (masked): 0.412 → 0.213, genuine pair now rejected".
func (c *Comparison) FlipText(f CompareFlip) string {
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
