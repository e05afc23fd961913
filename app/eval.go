package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/parallel"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/render"
)

// EvalEngine is what Evaluate needs of the face engine; *engine.Engine has it.
// Both methods must be safe for concurrent use.
type EvalEngine interface {
	// Locate detects, chooses and aligns the face of a photo.
	Locate(ctx context.Context, img image.Image) (face.Result, error)
	// Embed returns unit-length embeddings of aligned 112×112 crops.
	Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error)
}

// EvalOptions configure Evaluate.
type EvalOptions struct {
	Protocols []string       // names from eval.ProtocolNames
	Mask      maskgen.Config // style, colour and seed of the synthetic masks
	// MaskOnPhoto draws the synthetic masks on the photo before alignment
	// and aligns the masked photo again (MaskPhoto), as real masked photos
	// are aligned; false draws them on the aligned crop (the protocol's
	// own). Photos only: the engine must be a engine.NearLocator.
	MaskOnPhoto bool
	// ModelHash is the recogniser's SHA-256 and Pipeline describes how crops
	// are made (see EnginePipelineID); both enter the cache keys.
	ModelHash, Pipeline string
	Cache               *EmbeddingCache // nil: no cache
	Workers             int             // decode+locate goroutines; 0: GOMAXPROCS
	Batch               int             // crops per Embed call; 0: 32
	Progress            progress.Func   // images done of total; nil: none
	// AllowMissing scores only the pairs whose images are all there and
	// reports the others as dropped; without it, a pair naming an image
	// that is not there makes Evaluate fail (*MissingImagesError).
	AllowMissing bool
	// Plain, when not nil, gives the unmasked embedding of every image
	// (an embedding store: StoreSource): they are taken from it, not
	// computed or cached, and an image it lacks is an error
	// (ErrNotInStore). Masked variants are computed as without it: a
	// store holds one embedding per photo.
	Plain PlainSource
}

// ImageFailure is an image variant for which no embedding could be made
// (undecodable, no face, mask failed). Pairs using it count as failed:
// rejected in the decision metrics, left out of the score moments (see
// eval.Summarize).
type ImageFailure struct {
	Key     string `json:"key"`
	Variant string `json:"variant"` // "plain" or "masked"
	Error   string `json:"error"`
}

// ScoredPair is one pair's outcome under one protocol.
type ScoredPair struct {
	Pair   int     // index into dataset.EvalSet.Pairs
	Score  float64 // cosine; eval.FailedScore when Failed
	Failed bool
	Masked string // which images wore a mask: none, a, b or both
	Fold   int    // 0-based fold label the row's k-fold accuracy used
}

// ProtocolResult is one row of the report: a protocol, or for MFR2 one mask
// split of it ("real/both-masked").
type ProtocolResult struct {
	Name    string
	Pairs   []ScoredPair
	Summary eval.Summary
	// FoldAccuracies are the k-fold test accuracies, by fold label (the
	// thresholds are Summary.FoldThresholds).
	FoldAccuracies []float64
	Err            error // the summary could not be computed (e.g. no impostor pairs)
	Dropped        int   // pairs of this row left out for a missing image (AllowMissing)
}

// EvalStats counts the work Evaluate did.
type EvalStats struct {
	Images    int // distinct images the pairs use
	Located   int // Locate calls (photos detected and aligned)
	Embedded  int // crops embedded by the model
	Cached    int // image variants found in the cache
	Failed    int // image variants without an embedding
	Fallback  int // images whose face came from the detector fallback
	CacheErrs int // cache writes that failed (the run goes on)
	Stored    int // plain variants taken from EvalOptions.Plain
}

// EvalResult is the outcome of Evaluate.
type EvalResult struct {
	Set       *dataset.EvalSet // the pairs scored: without Dropped
	Protocols []ProtocolResult
	Failures  []ImageFailure // sorted by key, then variant
	Stats     EvalStats
	Missing   []MissingImage     // images not there (AllowMissing)
	Dropped   []dataset.EvalPair // the pairs that named them, not scored
}

// Measured is an error naming each row's problem when no row has metrics:
// nothing was measured (e.g. no image had a face), so there is no table to
// report.
func (r *EvalResult) Measured() error {
	var why []string
	for _, p := range r.Protocols {
		if p.Err == nil {
			return nil
		}
		why = append(why, p.Name+": "+p.Err.Error())
	}
	return fmt.Errorf("dataset %s=%s: nothing was measured (%s)", r.Set.Kind, r.Set.Path, strings.Join(why, "; "))
}

// Protocol returns the named row, or nil.
func (r *EvalResult) Protocol(name string) *ProtocolResult {
	for i := range r.Protocols {
		if r.Protocols[i].Name == name {
			return &r.Protocols[i]
		}
	}
	return nil
}

// Evaluate embeds every image variant the protocols need, once, and scores
// the pairs. Each distinct photo is decoded and located (detect, choose,
// align) at most once; its unmasked and masked crops are embedded in
// batches. Variants found in opt.Cache cost nothing. An image that cannot
// be decoded, holds no face or cannot be masked is recorded in Failures and
// every pair using it is scored as failed: never dropped. An image that is
// not there at all is an error, before any work, unless opt.AllowMissing
// drops its pairs; one that cannot be read during the run is an error.
func Evaluate(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, opt EvalOptions) (*EvalResult, error) {
	if err := checkProtocols(set, opt.Protocols); err != nil {
		return nil, err
	}
	set, dropped, missing, err := completePairs(set, opt.AllowMissing)
	if err != nil {
		return nil, err
	}
	need := neededVariants(set, opt)
	emb, stats, err := embedPlainAndVariants(ctx, eng, set, slices.Clone(need), opt)
	if err != nil {
		return nil, err
	}
	res := &EvalResult{Set: set, Stats: stats, Missing: missing, Dropped: dropped}
	for i, img := range set.Images {
		for v, e := range emb[i] {
			if need[i]&(1<<v) != 0 && e.Failure != "" {
				res.Failures = append(res.Failures, ImageFailure{Key: img.Key, Variant: eval.Variant(v).String(), Error: e.Failure})
			}
		}
	}
	slices.SortFunc(res.Failures, func(a, b ImageFailure) int {
		return strings.Compare(a.Key+"\x00"+a.Variant, b.Key+"\x00"+b.Variant)
	})
	res.Stats.Failed = len(res.Failures)
	for _, proto := range opt.Protocols {
		scored := make([]ScoredPair, len(set.Pairs))
		for i, p := range set.Pairs {
			va, vb, masked := eval.PairVariants(proto, opt.Mask.Seed, set.Images[p.A].Key, set.Images[p.B].Key)
			a, b := emb[p.A][va], emb[p.B][vb]
			scored[i] = ScoredPair{Pair: i, Masked: masked, Score: eval.FailedScore}
			if a.Failure != "" || b.Failure != "" {
				scored[i].Failed = true
				continue
			}
			scored[i].Score = face.Cosine(a.Vec, b.Vec)
		}
		row := summarise(proto, set, scored, false)
		row.Dropped = len(dropped)
		res.Protocols = append(res.Protocols, row)
		if proto == eval.ProtoReal {
			for _, split := range []dataset.MaskSplit{dataset.BothMasked, dataset.OneMasked, dataset.NeitherMasked} {
				var sub []ScoredPair
				for _, s := range scored {
					if set.Pairs[s.Pair].Split == split.String() {
						sub = append(sub, s)
					}
				}
				row := summarise(proto+"/"+split.String(), set, sub, true)
				for _, p := range dropped {
					if p.Split == split.String() {
						row.Dropped++
					}
				}
				res.Protocols = append(res.Protocols, row)
			}
		}
	}
	return res, nil
}

// checkProtocols refuses protocols that do not exist or do not fit set.
func checkProtocols(set *dataset.EvalSet, protocols []string) error {
	for _, p := range protocols {
		switch {
		case !slices.Contains(eval.ProtocolNames(), p):
			return fmt.Errorf("unknown protocol %q", p)
		case p == eval.ProtoReal && !set.RealMasks:
			return fmt.Errorf("protocol %q needs an MFR2 set (real masks)", p)
		}
	}
	return nil
}

// neededVariants returns, per image of set, bit v set when some pair of
// the protocols uses its variant v.
func neededVariants(set *dataset.EvalSet, opt EvalOptions) []uint8 {
	need := make([]uint8, len(set.Images))
	for _, proto := range opt.Protocols {
		for _, p := range set.Pairs {
			va, vb, _ := eval.PairVariants(proto, opt.Mask.Seed, set.Images[p.A].Key, set.Images[p.B].Key)
			need[p.A] |= 1 << va
			need[p.B] |= 1 << vb
		}
	}
	return need
}

// summarise computes the metrics of one row. refold deals the pairs into
// ten fresh folds (a subset of a fold-less set, such as one MFR2 split).
func summarise(name string, set *dataset.EvalSet, scored []ScoredPair, refold bool) ProtocolResult {
	pr := ProtocolResult{Name: name, Pairs: scored}
	pairs := make([]eval.Pair, len(scored))
	same := make([]bool, len(scored))
	for i, s := range scored {
		p := set.Pairs[s.Pair]
		pairs[i] = eval.Pair{Score: s.Score, Same: p.Same, Fold: p.Fold, Failed: s.Failed}
		same[i] = p.Same
	}
	if refold {
		for i, f := range eval.AssignFolds(same, 10) {
			pairs[i].Fold = f
		}
	}
	for i := range scored {
		scored[i].Fold = pairs[i].Fold
	}
	if len(pairs) == 0 {
		pr.Err = errors.New("no pairs")
		return pr
	}
	if pr.Summary, pr.Err = eval.Summarize(pairs); pr.Err != nil {
		return pr
	}
	kf, err := eval.KFold(eval.Columns(pairs))
	if err != nil {
		pr.Err = err
		return pr
	}
	for _, f := range kf.Folds {
		pr.FoldAccuracies = append(pr.FoldAccuracies, f.Accuracy)
	}
	return pr
}

// variantJob is one crop to embed.
type variantJob struct {
	img, variant int
	key          CacheKey
	crop         *image.NRGBA
	flags        uint8
}

// embedVariants returns, per image, the entry of each needed variant.
func embedVariants(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, need []uint8, opt EvalOptions) ([][2]CacheEntry, EvalStats, error) {
	batch := opt.Batch
	if batch <= 0 {
		batch = 32
	}
	prog := opt.Progress
	if prog == nil {
		prog = progress.Nop
	}
	var todo []int
	for i, n := range need {
		if n != 0 {
			todo = append(todo, i)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &variantPipeline{ctx: ctx, cancel: cancel, eng: eng, set: set, need: need, opt: opt, prog: prog, todo: todo,
		emb: make([][2]CacheEntry, len(set.Images)), pending: make([]atomic.Int32, len(set.Images))}

	jobs := make(chan variantJob, 2*batch)
	go func() {
		// An error cancels ctx, which stops Each handing out images.
		_ = parallel.Each(ctx, len(todo), opt.Workers, func(k int) { p.prepare(todo[k], jobs) })
		close(jobs)
	}()

	embedErr := p.embedAll(jobs, batch)
	if err := context.Cause(ctx); err != nil {
		return nil, EvalStats{}, err
	}
	if embedErr != nil {
		return nil, EvalStats{}, embedErr
	}
	stats := EvalStats{
		Images:    len(todo),
		Located:   int(p.located.Load()),
		Embedded:  int(p.embedded.Load()),
		Cached:    int(p.cached.Load()),
		Fallback:  int(p.fallback.Load()),
		CacheErrs: int(p.cacheErrs.Load()),
	}
	return p.emb, stats, nil
}

// variantPipeline is the state embedVariants' stages share: workers that
// read, locate and mask images feed one embedding stage through a channel.
// An image counts as done once all its variants are resolved, which the
// pending counters track across the two stages.
type variantPipeline struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	eng    EvalEngine
	set    *dataset.EvalSet
	need   []uint8
	opt    EvalOptions
	prog   progress.Func
	todo   []int // images with a needed variant

	emb     [][2]CacheEntry
	pending []atomic.Int32 // per image, variants still to embed

	done, located, embedded, cached, fallback, cacheErrs atomic.Int64
}

func (p *variantPipeline) finish() { p.prog(int(p.done.Add(1)), len(p.todo)) }

// putCache writes entries to the cache; a failed write only costs a later
// run the work again, so it is counted, not fatal.
func (p *variantPipeline) putCache(puts ...CachePut) {
	if err := p.opt.Cache.Put(puts...); err != nil {
		p.cacheErrs.Add(1)
	}
}

// prepare prepares image i and sends its crops on to the embedding stage.
// An error cancels the whole run.
func (p *variantPipeline) prepare(i int, jobs chan<- variantJob) {
	out, err := prepareImage(p.ctx, p.eng, p.set, i, p.need[i], p.opt)
	if err != nil {
		p.cancel(err)
		return
	}
	p.located.Add(int64(out.located))
	if out.fallback {
		p.fallback.Add(1)
	}
	p.pending[i].Store(int32(len(out.jobs)))
	for v, e := range out.known {
		if e != nil {
			p.emb[i][v] = *e
		}
	}
	p.cached.Add(int64(out.cached))
	if len(out.puts) > 0 {
		p.putCache(out.puts...)
	}
	if len(out.jobs) == 0 {
		p.finish()
		return
	}
	for _, j := range out.jobs {
		select {
		case jobs <- j:
		case <-p.ctx.Done():
			return
		}
	}
}

// embedAll is the embedding stage: one goroutine, full batches. After an
// error it keeps draining jobs, so that the workers can finish.
func (p *variantPipeline) embedAll(jobs <-chan variantJob, batch int) error {
	var buf []variantJob
	var embedErr error
	for j := range jobs {
		if embedErr != nil {
			continue // drain, so that workers can finish
		}
		buf = append(buf, j)
		if len(buf) == batch {
			if embedErr = p.embedBatch(buf); embedErr != nil {
				p.cancel(embedErr)
			}
			buf = buf[:0]
		}
	}
	if embedErr == nil && len(buf) > 0 {
		embedErr = p.embedBatch(buf)
	}
	return embedErr
}

// embedBatch embeds one batch of crops, stores and caches the embeddings
// and marks the images whose last variant this was as done.
func (p *variantPipeline) embedBatch(buf []variantJob) error {
	crops := make([]*image.NRGBA, len(buf))
	for k, j := range buf {
		crops[k] = j.crop
	}
	vecs, err := p.eng.Embed(p.ctx, crops)
	if err != nil {
		return err
	}
	if len(vecs) != len(buf) {
		return fmt.Errorf("embed: %d embeddings for %d crops", len(vecs), len(buf))
	}
	p.embedded.Add(int64(len(buf)))
	var puts []CachePut
	for k, j := range buf {
		e := CacheEntry{Vec: vecs[k], Flags: j.flags}
		p.emb[j.img][j.variant] = e
		puts = append(puts, CachePut{Key: j.key, Entry: e})
	}
	p.putCache(puts...)
	for _, j := range buf {
		if p.pending[j.img].Add(-1) == 0 {
			p.finish()
		}
	}
	return nil
}

// prepared is what one worker made of one image.
type prepared struct {
	known    [2]*CacheEntry // entries resolved without the model (cache, failures)
	cached   int            // how many of them came from the cache
	puts     []CachePut     // new failure entries for the cache
	jobs     []variantJob   // crops to embed
	located  int
	fallback bool
}

// prepareImage reads image i, consults the cache for the needed variants
// and, for the missing ones, decodes, locates and masks it. Per-image
// problems become failure entries; only a cancelled context (or another
// error that is not the image's fault) is returned as an error.
func prepareImage(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, i int, need uint8, opt EvalOptions) (prepared, error) {
	ip := &imagePrep{ctx: ctx, eng: eng, set: set, i: i, img: set.Images[i], opt: opt}
	data := ip.img.Data
	if data == nil {
		var err error
		if data, err = os.ReadFile(ip.img.Path); err != nil {
			// Evaluate checked that the file opens; failing now is the
			// disk's fault, not the image's, and no score may stand for it.
			return ip.out, fmt.Errorf("image %s: %w", ip.img.Key, err)
		}
	}
	if err := ip.lookUp(data, need); err != nil || ip.missing == 0 {
		return ip.out, err
	}
	decoded, err := imageio.DecodeReader(bytes.NewReader(data), ip.img.Key)
	if err != nil {
		ip.failAll(err)
		return ip.out, nil
	}
	crop, located, flags, ok, err := ip.locate(decoded)
	if err != nil || !ok {
		return ip.out, err
	}
	err = ip.cropVariants(decoded, crop, located, flags)
	return ip.out, err
}

// imagePrep is prepareImage's state for one image: what it has resolved so
// far and which needed variants are still missing.
type imagePrep struct {
	ctx     context.Context
	eng     EvalEngine
	set     *dataset.EvalSet
	i       int
	img     dataset.EvalImage
	opt     EvalOptions
	out     prepared
	keys    [2]CacheKey
	missing uint8 // bit v: variant v is needed and not in the cache
}

// lookUp computes the cache key of each needed variant and takes what the
// cache already holds.
func (ip *imagePrep) lookUp(data []byte, need uint8) error {
	sum := sha256.Sum256(data)
	content := hex.EncodeToString(sum[:])
	for v := range 2 {
		if need&(1<<v) == 0 {
			continue
		}
		mask := "none"
		if eval.Variant(v) == eval.Masked {
			b, err := json.Marshal(ip.opt.Mask.Choose(ip.img.Key))
			if err != nil {
				return err
			}
			mask = string(b)
			if ip.opt.MaskOnPhoto {
				mask = engine.PhotoMaskVersion + ":" + mask
			}
		}
		ip.keys[v] = EmbeddingKey(ip.opt.ModelHash, ip.opt.Pipeline, content, mask)
		if e, ok := ip.opt.Cache.Get(ip.keys[v]); ok {
			ip.out.known[v] = &e
			ip.out.cached++
			if e.Flags&FlagFallback != 0 {
				ip.out.fallback = true
			}
			continue
		}
		ip.missing |= 1 << v
	}
	return nil
}

// failVariant records a failure, cached when it is a property of the image
// (decode error, no face).
func (ip *imagePrep) failVariant(v int, err error) {
	ip.out.known[v] = &CacheEntry{Failure: err.Error()}
	if cacheableFailure(err) {
		ip.out.puts = append(ip.out.puts, CachePut{Key: ip.keys[v], Entry: *ip.out.known[v]})
	}
}

// failAll records err for every missing variant.
func (ip *imagePrep) failAll(err error) {
	for v := range 2 {
		if ip.missing&(1<<v) != 0 {
			ip.failVariant(v, err)
		}
	}
}

// locate turns the decoded image into the aligned crop: an aligned set's
// image is one already, a photo goes through the detector. ok is false when
// the image failed, which is then recorded for every missing variant.
func (ip *imagePrep) locate(decoded *image.NRGBA) (crop *image.NRGBA, located face.Result, flags uint8, ok bool, err error) {
	if ip.set.Aligned {
		if b := decoded.Bounds(); b.Dx() != face.AlignedSize || b.Dy() != face.AlignedSize {
			ip.failAll(fmt.Errorf("%s: aligned input is %d×%d, want %d×%d: %w", ip.img.Key, b.Dx(), b.Dy(), face.AlignedSize, face.AlignedSize, face.ErrSize))
			return nil, located, 0, false, nil
		}
		return decoded, located, 0, true, nil
	}
	res, err := ip.eng.Locate(ip.ctx, decoded)
	ip.out.located = 1
	if err != nil {
		if ip.ctx.Err() != nil {
			return nil, located, 0, false, context.Cause(ip.ctx)
		}
		ip.failAll(fmt.Errorf("%s: %w", ip.img.Key, err))
		return nil, located, 0, false, nil
	}
	if f := res.Choice.Faces; len(f) > 0 && f[res.Choice.Index].Fallback {
		flags |= FlagFallback
		ip.out.fallback = true
	}
	return res.Aligned, res, flags, true, nil
}

// cropVariants queues a crop to embed for every missing variant, masking it
// for the masked one: on the photo (then aligned again) or on the crop.
func (ip *imagePrep) cropVariants(decoded, crop *image.NRGBA, located face.Result, flags uint8) error {
	img, opt := ip.img, ip.opt
	for v := range 2 {
		if ip.missing&(1<<v) == 0 {
			continue
		}
		c := crop
		if eval.Variant(v) == eval.Masked && opt.MaskOnPhoto && !ip.set.Aligned {
			nl, ok := ip.eng.(engine.NearLocator)
			if !ok {
				return errors.New("eval: masks on the photo need an engine that can locate a face near a box")
			}
			r, err := engine.MaskPhoto(ip.ctx, nl, decoded, located, opt.Mask, img.Key)
			if err != nil {
				if ip.ctx.Err() != nil {
					return context.Cause(ip.ctx)
				}
				ip.failVariant(v, fmt.Errorf("%s: %w", img.Key, err))
				continue
			}
			c = r.Aligned
		} else if eval.Variant(v) == eval.Masked {
			r, err := opt.Mask.ApplyAligned(crop, img.Key)
			if err != nil {
				ip.failVariant(v, fmt.Errorf("%s: mask: %w", img.Key, err))
				continue
			}
			c = r.Image
		}
		ip.out.jobs = append(ip.out.jobs, variantJob{img: ip.i, variant: v, key: ip.keys[v], crop: c, flags: flags})
	}
	return nil
}

// cacheableFailure reports whether err is a property of the image itself,
// so that it will recur on every run and may be cached.
func cacheableFailure(err error) bool {
	var ie *imageio.Error
	return errors.As(err, &ie) || errors.Is(err, face.ErrNoFace) || errors.Is(err, face.ErrSize) ||
		errors.Is(err, face.ErrDegenerate) || errors.Is(err, maskgen.ErrLandmarks)
}

// EvalInfo describes a run for the JSON and Markdown outputs.
type EvalInfo struct {
	Model, ModelHash string
	Mask             maskgen.Config
	MaskOnPhoto      bool
	Folds            []int // 0-based folds evaluated; nil: all
	DetectFallback   bool
}

// EvalJSON is the document `maskinv eval --json` writes (a contract).
// Protocols maps each row name (blr-blr, blr-m, m-m, real,
// real/both-masked, …) to its metrics. It holds no times or paths that
// vary between machines beyond DatasetPath, so reruns write the same bytes.
type EvalJSON struct {
	Dataset        string                  `json:"dataset"`
	DatasetPath    string                  `json:"dataset_path"`
	Model          string                  `json:"model"`
	ModelSHA256    string                  `json:"model_sha256"`
	MaskStyle      string                  `json:"mask_style"`
	MaskColor      string                  `json:"mask_color"`
	MaskOn         string                  `json:"mask_on"` // "crop" (drawn on the aligned crop) or "photo" (before alignment)
	Seed           uint64                  `json:"seed"`
	Folds          []int                   `json:"folds,omitempty"` // 1-based; absent: all
	Aligned        bool                    `json:"aligned"`
	DetectFallback bool                    `json:"detect_fallback"`
	Images         int                     `json:"n_images"`
	FailedImages   int                     `json:"n_failed_images"`   // images with a failed variant
	FallbackImages int                     `json:"n_fallback_images"` // faces taken below the detector threshold
	DroppedPairs   int                     `json:"n_dropped_pairs"`   // not scored: they name a missing image (--allow-missing)
	Missing        []MissingImage          `json:"missing_images"`    // those images, and why
	Protocols      map[string]ProtocolJSON `json:"protocols"`
	Failures       []ImageFailure          `json:"failures"`
}

// ProtocolJSON is one protocol's entry: every eval.Summary field, plus the
// per-fold test accuracies, the mean of the k-fold thresholds and, for masked protocols, the number of
// pairs whose decision flips against blr-blr (see flips.csv).
type ProtocolJSON struct {
	*eval.Summary
	FoldAccuracies    []float64 `json:"fold_accuracies,omitempty"`
	FoldThresholdMean *float64  `json:"fold_threshold_mean,omitempty"`
	Flips             *int      `json:"flips,omitempty"`
	Dropped           int       `json:"n_dropped"` // pairs of the row not scored (missing images)
	Error             string    `json:"error,omitempty"`
}

// JSON builds the --json document.
func (r *EvalResult) JSON(info EvalInfo) EvalJSON {
	doc := EvalJSON{
		Dataset:        r.Set.Kind,
		DatasetPath:    filepath.ToSlash(r.Set.Path),
		Model:          info.Model,
		ModelSHA256:    info.ModelHash,
		MaskStyle:      info.Mask.Style.String(),
		MaskColor:      info.Mask.Color.String(),
		MaskOn:         map[bool]string{false: "crop", true: "photo"}[info.MaskOnPhoto],
		Seed:           info.Mask.Seed,
		Aligned:        r.Set.Aligned,
		DetectFallback: info.DetectFallback && !r.Set.Aligned,
		Images:         r.Stats.Images,
		FallbackImages: r.Stats.Fallback,
		DroppedPairs:   len(r.Dropped),
		Missing:        r.Missing,
		Protocols:      map[string]ProtocolJSON{},
		Failures:       r.Failures,
	}
	if doc.Failures == nil {
		doc.Failures = []ImageFailure{}
	}
	if doc.Missing == nil {
		doc.Missing = []MissingImage{}
	}
	for _, f := range info.Folds {
		doc.Folds = append(doc.Folds, f+1)
	}
	seen := map[string]bool{}
	for _, f := range r.Failures {
		seen[f.Key] = true
	}
	doc.FailedImages = len(seen)
	flips := r.Flips()
	for _, p := range r.Protocols {
		pj := ProtocolJSON{Dropped: p.Dropped}
		if p.Err != nil {
			pj.Error = p.Err.Error()
		} else {
			s := p.Summary
			pj.Summary = &s
			pj.FoldAccuracies = p.FoldAccuracies
			m := mean(s.FoldThresholds)
			pj.FoldThresholdMean = &m
		}
		if f, ok := flips[p.Name]; ok {
			n := len(f)
			pj.Flips = &n
		}
		doc.Protocols[p.Name] = pj
	}
	return doc
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Flip is a pair whose decision under a masked protocol differs from its
// decision under blr-blr, both taken at blr-blr's best global threshold
// (Summary.Threshold of blr-blr): one fixed operating point, so a flip is
// caused by the mask alone.
type Flip struct {
	Protocol  string
	Pair      int
	Threshold float64
	Plain     ScoredPair // under blr-blr
	Masked    ScoredPair // under Protocol
}

// Flips returns the flips of every masked protocol (blr-m, m-m) against
// blr-blr; empty when blr-blr was not evaluated or has no summary.
func (r *EvalResult) Flips() map[string][]Flip {
	base := r.Protocol(eval.ProtoBLRBLR)
	if base == nil || base.Err != nil {
		return nil
	}
	t := base.Summary.Threshold
	out := map[string][]Flip{}
	for _, name := range []string{eval.ProtoBLRM, eval.ProtoMM} {
		p := r.Protocol(name)
		if p == nil {
			continue
		}
		flips := []Flip{}
		for i, m := range p.Pairs {
			b := base.Pairs[i]
			if (b.Score >= t) != (m.Score >= t) {
				flips = append(flips, Flip{Protocol: name, Pair: m.Pair, Threshold: t, Plain: b, Masked: m})
			}
		}
		out[name] = flips
	}
	return out
}

// Markdown renders the results as a table, one row per protocol. Pairs
// dropped for missing images (AllowMissing) get a column of their own and
// a line saying why.
func (r *EvalResult) Markdown(info EvalInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dataset %s (%s), %d pairs, %d images; model %s (sha256 %.12s…)", r.Set.Kind, r.Set.Path, len(r.Set.Pairs), r.Stats.Images, info.Model, info.ModelHash)
	if slices.ContainsFunc(r.Protocols, func(p ProtocolResult) bool { return p.Name == eval.ProtoBLRM || p.Name == eval.ProtoMM }) {
		fmt.Fprintf(&b, "; masks %s, colour %s, seed %d", info.Mask.Style, info.Mask.Color, info.Mask.Seed)
		if info.MaskOnPhoto {
			b.WriteString(", drawn on the photo before alignment")
		}
	}
	if info.Folds != nil {
		fmt.Fprintf(&b, "; folds %s", eval.FormatFolds(info.Folds))
	}
	b.WriteString(".\n")
	dropped := len(r.Dropped) > 0
	if dropped {
		fmt.Fprintf(&b, "\n%d of %d pairs dropped, not scored (--allow-missing): they name %s (first: %s).\n",
			len(r.Dropped), len(r.Dropped)+len(r.Set.Pairs), nouns(len(r.Missing), "missing image"), missingList(r.Missing))
	}
	b.WriteString("\n| protocol | pairs | failed |")
	if dropped {
		b.WriteString(" dropped |")
	}
	b.WriteString(" accuracy (10-fold) | EER | FNMR@FMR=1% | FNMR@FMR=0.1% | AUC | TAR@FAR=1e-3 | genuine mean | impostor mean | FDR | threshold |\n")
	b.WriteString("|---|---:|---:|")
	if dropped {
		b.WriteString("---:|")
	}
	b.WriteString("---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Protocols {
		drop := ""
		if dropped {
			drop = fmt.Sprintf(" %d |", p.Dropped)
		}
		if p.Err != nil {
			fmt.Fprintf(&b, "| %s | %d | |%s n/a: %v | | | | | | | | | |\n", p.Name, len(p.Pairs), drop, p.Err)
			continue
		}
		s := p.Summary
		fmt.Fprintf(&b, "| %s | %d | %d |%s %.2f ± %.2f %% | %.2f %% | %.2f %% | %.2f %% | %.4f | %.2f %% | %.3f | %.3f | %.2f | %.4f |\n",
			p.Name, s.NPairs, s.NFailed, drop, 100*s.Accuracy, 100*s.AccuracyStd, 100*s.EER, 100*s.FMR100, 100*s.FMR1000,
			s.AUC, 100*s.TARAtFAR1e3, s.GenuineMean, s.ImpostorMean, s.FDR, mean(s.FoldThresholds))
	}
	b.WriteString("\nAccuracy: mean ± std of the 10 folds, each at the threshold chosen on the other nine; threshold: mean of those 10 thresholds. " +
		"Failed pairs (an image without an embedding: no face, undecodable) are scored −1, i.e. rejected as \"different\", in accuracy, EER, FNMR, AUC and TAR; " +
		"the genuine and impostor means and FDR are over the other pairs.\n")
	return b.String()
}

// missingList names the first missing images for a message.
func missingList(missing []MissingImage) string {
	var parts []string
	for _, m := range missing[:min(len(missing), missingShown)] {
		parts = append(parts, m.Key+" ("+m.Reason+")")
	}
	if n := len(missing) - missingShown; n > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", n))
	}
	return strings.Join(parts, ", ")
}

// Report file names, inside the --report folder.
const (
	ReportROC       = "roc.png"
	ReportDET       = "det.png"
	ReportHistogram = "hist.png"
	ReportScores    = "scores.csv"
	ReportFlips     = "flips.csv"
	ReportFailed    = "failed.csv"
	ReportTable     = "results.md"
)

// The report's chart sizes in pixels: the ROC and DET charts, and one
// row's panel of hist.png.
const (
	ChartWidth, ChartHeight                   = 720, 540
	HistogramPanelWidth, HistogramPanelHeight = 400, 260
)

// reportHistogram is one row's score histogram (the scored pairs'), titled
// with its error rates and threshold (the mean of its k-fold thresholds).
func reportHistogram(p ProtocolResult, scores []float64, same []bool) render.Histogram {
	h := eval.NewHistogram(scores, same, eval.HistogramLo, eval.HistogramHi, eval.HistogramBins)
	s := p.Summary
	return render.Histogram{
		Title:    p.Name,
		Subtitle: fmt.Sprintf("EER %.2f%%, FNMR@FMR=1%% %.2f%%, threshold %.4f", 100*s.EER, 100*s.FMR100, mean(s.FoldThresholds)),
		Lo:       h.Lo, Hi: h.Hi, Genuine: h.Genuine, Impostor: h.Impostor,
	}
}

// histogramSheet draws the rows' histograms side by side, three to a line,
// each with its threshold.
func histogramSheet(hists []render.Histogram, thresholds []float64) *image.NRGBA {
	cols := min(3, len(hists))
	lines := (len(hists) + cols - 1) / cols
	img := image.NewNRGBA(image.Rect(0, 0, cols*HistogramPanelWidth, lines*HistogramPanelHeight))
	render.FillRect(img, img.Rect, color.NRGBA{255, 255, 255, 255})
	fonts := render.NewFonts()
	for k, h := range hists {
		x, y := k%cols*HistogramPanelWidth, k/cols*HistogramPanelHeight
		render.DrawHistogram(img, image.Rect(x+4, y+4, x+HistogramPanelWidth-4, y+HistogramPanelHeight-4), fonts, h, thresholds[k])
	}
	return img
}

// WriteReport writes into dir (created if needed): ROC, DET and score
// histogram charts of every row; scores.csv, every pair under every row
// (protocol,a,b,same,score,decision,fold,masked,failed; decision at the
// row's k-fold threshold of the pair's fold, fold 1-based); flips.csv, the
// pairs whose decision changes under a mask (see Flips); failed.csv, the
// image variants without an embedding; and results.md, the table. Every
// file is written atomically.
func (r *EvalResult) WriteReport(dir string, info EvalInfo) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The curves count failed pairs as rejected, as the table does; the
	// histograms show scores, and a failed pair has none.
	var protos []eval.Protocol
	var hists []render.Histogram
	var thresholds []float64
	for _, p := range r.Protocols {
		if p.Err != nil {
			continue
		}
		pairs := make([]eval.Pair, len(p.Pairs))
		var scores []float64
		var same []bool
		for i, s := range p.Pairs {
			pairSame := r.Set.Pairs[s.Pair].Same
			pairs[i] = eval.Pair{Score: s.Score, Same: pairSame, Failed: s.Failed}
			if !s.Failed {
				scores, same = append(scores, s.Score), append(same, pairSame)
			}
		}
		all, allSame, _ := eval.Columns(pairs)
		protos = append(protos, eval.Protocol{Name: p.Name, Scores: all, Same: allSame})
		hists = append(hists, reportHistogram(p, scores, same))
		thresholds = append(thresholds, mean(p.Summary.FoldThresholds))
	}
	if len(protos) > 0 {
		for _, c := range []struct {
			name  string
			write func(string, []eval.Protocol, int, int) error
		}{{ReportROC, eval.WriteROC}, {ReportDET, eval.WriteDET}} {
			if err := c.write(filepath.Join(dir, c.name), protos, ChartWidth, ChartHeight); err != nil {
				return err
			}
		}
		if err := imageio.WritePNG(filepath.Join(dir, ReportHistogram), histogramSheet(hists, thresholds)); err != nil {
			return err
		}
	}
	files := []struct {
		name string
		rows func() [][]string
	}{
		{ReportScores, r.scoreRows},
		{ReportFlips, r.flipRows},
		{ReportFailed, r.failureRows},
	}
	for _, f := range files {
		if err := writeCSV(filepath.Join(dir, f.name), f.rows()); err != nil {
			return err
		}
	}
	return imageio.WriteAtomic(filepath.Join(dir, ReportTable), func(w io.Writer) error {
		_, err := io.WriteString(w, r.Markdown(info))
		return err
	})
}

func writeCSV(path string, rows [][]string) error {
	return imageio.WriteAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}

func formatScore(s float64) string { return strconv.FormatFloat(s, 'f', 6, 64) }

func decision(score, threshold float64) string {
	if score >= threshold {
		return "same"
	}
	return "different"
}

// foldThreshold maps a row's fold labels to their k-fold thresholds
// (Summary.FoldThresholds is ordered by label).
func foldThreshold(p ProtocolResult) map[int]float64 {
	var labels []int
	for _, s := range p.Pairs {
		labels = append(labels, s.Fold)
	}
	slices.Sort(labels)
	labels = slices.Compact(labels)
	m := map[int]float64{}
	for i, l := range labels {
		if i < len(p.Summary.FoldThresholds) {
			m[l] = p.Summary.FoldThresholds[i]
		}
	}
	return m
}

func (r *EvalResult) scoreRows() [][]string {
	rows := [][]string{{"protocol", "a", "b", "same", "score", "decision", "fold", "masked", "failed"}}
	for _, p := range r.Protocols {
		if p.Err != nil {
			continue
		}
		ft := foldThreshold(p)
		for _, s := range p.Pairs {
			pair := r.Set.Pairs[s.Pair]
			rows = append(rows, []string{p.Name, r.Set.Images[pair.A].Key, r.Set.Images[pair.B].Key,
				strconv.FormatBool(pair.Same), formatScore(s.Score), decision(s.Score, ft[s.Fold]),
				strconv.Itoa(s.Fold + 1), s.Masked, strconv.FormatBool(s.Failed)})
		}
	}
	return rows
}

func (r *EvalResult) flipRows() [][]string {
	rows := [][]string{{"protocol", "a", "b", "same", "masked", "threshold", "blr_blr_score", "score", "blr_blr_decision", "decision", "correct_now"}}
	flips := r.Flips()
	for _, name := range []string{eval.ProtoBLRM, eval.ProtoMM} {
		for _, f := range flips[name] {
			pair := r.Set.Pairs[f.Pair]
			d := decision(f.Masked.Score, f.Threshold)
			rows = append(rows, []string{name, r.Set.Images[pair.A].Key, r.Set.Images[pair.B].Key,
				strconv.FormatBool(pair.Same), f.Masked.Masked, formatScore(f.Threshold),
				formatScore(f.Plain.Score), formatScore(f.Masked.Score), decision(f.Plain.Score, f.Threshold), d,
				strconv.FormatBool((d == "same") == pair.Same)})
		}
	}
	return rows
}

func (r *EvalResult) failureRows() [][]string {
	rows := [][]string{{"key", "variant", "error"}}
	for _, f := range r.Failures {
		rows = append(rows, []string{f.Key, f.Variant, f.Error})
	}
	return rows
}

// WriteSummary tells w (stderr) what the run did and what it could not
// score, before the table, so that a failed run still explains itself.
func (res *EvalResult) WriteSummary(w io.Writer, elapsed time.Duration) {
	st := res.Stats
	fmt.Fprintf(w, "eval: %d images: %d located, %d crops embedded, %d from the cache", st.Images, st.Located, st.Embedded, st.Cached)
	if st.Stored > 0 {
		fmt.Fprintf(w, ", %d from the embedding store", st.Stored)
	}
	fmt.Fprintf(w, "; %d image variants failed", st.Failed)
	if st.Fallback > 0 {
		fmt.Fprintf(w, ", %d faces below the detector threshold (fallback)", st.Fallback)
	}
	fmt.Fprintf(w, "; %.1f s\n", elapsed.Seconds())
	if st.CacheErrs > 0 {
		fmt.Fprintf(w, "eval: %d writes to the embedding cache failed\n", st.CacheErrs)
	}
	if len(res.Dropped) > 0 {
		fmt.Fprintf(w, "eval: %d pairs dropped, not scored (--allow-missing): they name %s: %s\n", len(res.Dropped), nouns(len(res.Missing), "missing image"), missingList(res.Missing))
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(w, "eval: %d image variants have no embedding; their pairs count as failed (rejected, \"different\"):\n", len(res.Failures))
		for i, f := range res.Failures {
			if i == 10 {
				fmt.Fprintf(w, "  … and %d more (see failed.csv with --report)\n", len(res.Failures)-i)
				break
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", f.Key, f.Variant, f.Error)
		}
	}
}
