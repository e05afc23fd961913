package occlusion

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/onnxsplit"
)

// PatchEmbedder is an Embedder that also embeds faces under many patches
// at once, more cheaply than embedding each occluded crop whole:
// orig[i] is face i's embedding, patches[i][k] its embedding with
// rects[k] grey. OccludeFaces uses it when the Embedder has it. done
// receives the number of embeddings finished since its last call.
type PatchEmbedder interface {
	Embedder
	EmbedPatches(ctx context.Context, faces []*image.NRGBA, rects []image.Rectangle, batch int, done func(n int)) (orig [][]float32, patches [][][]float32, err error)
}

// DefaultMaxTile is NetEmbedder's default for MaxTile.
const DefaultMaxTile = 0.5

// NetEmbedder runs a recogniser ONNX model. Embed embeds whole crops;
// EmbedPatches computes the same embeddings for a face under many patches
// incrementally: a patch changes only the activations near it in the
// early layers, so each early segment of the network (onnxsplit) runs
// only on a tile around the changed region, pasted into the unoccluded
// face's activations, and the network runs whole only from the first
// segment where such a tile would cover more than MaxTile of the map.
// The result equals whole-crop embedding up to float rounding in the
// engine's kernels (TestIncrementalMatchesPlain). A model that cannot be
// split (its first layer is not a convolution or element-wise) falls back
// to whole crops.
type NetEmbedder struct {
	// MaxTile is the largest share of a segment's input area a tile may
	// have for the segment to run on tiles (0: DefaultMaxTile).
	MaxTile float64

	// Pipeline workers making tiles and running the whole-map part (0:
	// two each; BenchmarkPairWorkers measures the choice).
	producers, consumers int

	name  string
	net   *model.Net    // the whole model as decoded
	dev   *model.Device // where every model runs
	plain face.Embedder // the whole model on dev, for whole crops
	split *onnxsplit.Model
	segs  []onnxsplit.Segment

	mu   sync.Mutex
	nets map[netKey]model.Model
}

type netKey struct{ from, to, h, w, replica int }

// NewNetEmbedder decodes a recogniser (N×3×112×112 → d) from its ONNX
// bytes, to run on dev (nil: the CPU engine; a device gets the whole model
// and every segment model bound to it); name labels errors. A model with
// another input is refused with engine.ErrModelInput.
func NewNetEmbedder(name string, onnx []byte, dev *model.Device) (*NetEmbedder, error) {
	net, err := model.Decode(name, onnx)
	if err != nil {
		return nil, err
	}
	if s := net.InputShape(); len(s) != 4 || s[1] != 3 || s[2] != face.AlignedSize || s[3] != face.AlignedSize {
		return nil, fmt.Errorf("model %s: input shape %v: %w", name, s, engine.ErrModelInput)
	}
	if dev == nil {
		dev = model.CPU()
	}
	whole, err := dev.Bind(net)
	if err != nil {
		return nil, err
	}
	e := &NetEmbedder{name: name, net: net, dev: dev, plain: face.Embedder{Net: whole, Batch: DefaultBatch}, nets: map[netKey]model.Model{}}
	if m, err := onnxsplit.Parse(onnx); err == nil {
		if segs, err := m.Segments(); err == nil && len(segs) > 0 && segs[0].Local {
			e.split, e.segs = m, segs
		}
	}
	return e, nil
}

// Net is the whole model as decoded (its name, hash and FLOPs).
func (e *NetEmbedder) Net() *model.Net { return e.net }

// Close releases the device memory of the models bound to a device (on
// the CPU engine there is none); the embedder is not used afterwards.
func (e *NetEmbedder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for k, n := range e.nets {
		if c, ok := n.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		delete(e.nets, k)
	}
	if c, ok := e.plain.Net.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Incremental reports whether EmbedPatches works incrementally.
func (e *NetEmbedder) Incremental() bool { return e.split != nil }

// Embed embeds whole crops.
func (e *NetEmbedder) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	return e.plain.Embed(ctx, crops)
}

// sub is the model of segments [from, to) for an input of h×w, decoded
// and bound to the device once.
func (e *NetEmbedder) sub(from, to, h, w, replica int) (model.Model, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := netKey{from, to, h, w, replica}
	if n, ok := e.nets[k]; ok {
		return n, nil
	}
	data, err := e.split.SubModel(e.segs, from, to, h, w)
	if err != nil {
		return nil, fmt.Errorf("%s: segments %d..%d: %w", e.name, from, to-1, err)
	}
	n, err := model.Decode(fmt.Sprintf("%s segments %d..%d at %d×%d", e.name, from, to-1, h, w), data)
	if err != nil {
		return nil, err
	}
	bound, err := e.dev.Bind(n)
	if err != nil {
		return nil, err
	}
	e.nets[k] = bound
	return bound, nil
}

// span is an inclusive range of positions along one axis.
type span struct{ lo, hi int }

func (s span) len() int { return s.hi - s.lo + 1 }

// stage is one segment run on tiles.
type stage struct {
	seg     onnxsplit.Segment
	tile    [2]int // input tile height, width
	outTile [2]int
}

// patchPlan says how EmbedPatches computes a set of patches: stages
// [0, len(stages)) on tiles, the rest of the network on whole maps. For
// patch j and stage k, in[j][k] is the changed region of the stage's input
// (per axis), out[j][k] that of its output, at[j][k] the tile's origin.
type patchPlan struct {
	rects  []image.Rectangle
	stages []stage
	in     [][][2]span
	out    [][][2]span
	at     [][][2]int
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// plan lays out the stages for rects.
func (e *NetEmbedder) plan(rects []image.Rectangle) (*patchPlan, error) {
	maxTile := e.MaxTile
	if maxTile <= 0 {
		maxTile = DefaultMaxTile
	}
	p := &patchPlan{rects: rects, in: make([][][2]span, len(rects)), out: make([][][2]span, len(rects)), at: make([][][2]int, len(rects))}
	cur := make([][2]span, len(rects))
	for j, r := range rects {
		cur[j] = [2]span{{r.Min.Y, r.Max.Y - 1}, {r.Min.X, r.Max.X - 1}}
	}
	for k, seg := range e.segs {
		if !seg.Local {
			break
		}
		need := make([][2]span, len(rects))
		outs := make([][2]span, len(rects))
		var tile [2]int
		for j := range rects {
			for a := range 2 {
				g, n := seg.Geom[a], seg.In[a]
				o := span{max(0, -floorDiv(-(cur[j][a].lo-g.Hi), g.S)), min(seg.Out[a]-1, floorDiv(cur[j][a].hi+g.Lo, g.S))}
				if o.lo > o.hi {
					return nil, fmt.Errorf("%s: segment %d: region %v changes no output", e.name, k, cur[j][a])
				}
				outs[j][a] = o
				need[j][a] = span{max(0, g.S*o.lo-g.Lo), min(n-1, g.S*o.hi+g.Hi)}
				start := need[j][a].lo - need[j][a].lo%g.S
				tile[a] = max(tile[a], need[j][a].hi-start+1)
			}
		}
		for a := range 2 {
			s, n := seg.Geom[a].S, seg.In[a]
			tile[a] += ((n-tile[a])%s + s) % s // so that n − tile is a multiple of s
			tile[a] = min(tile[a], n)
		}
		if float64(tile[0]*tile[1]) > maxTile*float64(seg.In[0]*seg.In[1]) {
			break
		}
		st := stage{seg: seg, tile: tile}
		var ok bool
		if st.outTile[0], st.outTile[1], ok = e.split.OutSize(e.segs, k, k+1, tile[0], tile[1]); !ok {
			break
		}
		for j := range rects {
			var at [2]int
			for a := range 2 {
				s, n := seg.Geom[a].S, seg.In[a]
				at[a] = need[j][a].lo - need[j][a].lo%s
				if at[a]+tile[a] > n {
					at[a] = n - tile[a]
				}
				o := outs[j][a]
				if need[j][a].lo < at[a] || need[j][a].hi > at[a]+tile[a]-1 || o.hi-at[a]/s >= st.outTile[a] {
					return nil, fmt.Errorf("%s: segment %d: tile at %d of %d misses %v", e.name, k, at[a], tile[a], need[j][a])
				}
			}
			p.in[j] = append(p.in[j], cur[j])
			p.out[j] = append(p.out[j], outs[j])
			p.at[j] = append(p.at[j], at)
		}
		p.stages = append(p.stages, st)
		copy(cur, outs)
	}
	return p, nil
}

// EmbedPatches embeds each face whole and under each of rects (grey, as
// OccludeFaces hides a patch), batch patches at a time, all faces' patches
// in one stream of batches.
func (e *NetEmbedder) EmbedPatches(ctx context.Context, faces []*image.NRGBA, rects []image.Rectangle, batch int, done func(int)) ([][]float32, [][][]float32, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	if done == nil {
		done = func(int) {}
	}
	if err := checkPatches(faces, rects); err != nil {
		return nil, nil, err
	}
	if e.split == nil {
		return embedWhole(ctx, &e.plain, faces, rects, batch, done)
	}
	p, err := e.plan(rects)
	if err != nil {
		return nil, nil, err
	}
	acts := make([][]model.Tensor, len(faces))
	orig := make([][]float32, len(faces))
	var tail model.Model
	for f, img := range faces {
		if acts[f], err = e.activations(ctx, p, img); err != nil {
			return nil, nil, err
		}
		last := acts[f][len(p.stages)].Shape
		if tail, err = e.sub(len(p.stages), len(e.segs), last[2], last[3], 0); err != nil {
			return nil, nil, err
		}
		v, err := runEmbed(ctx, tail, acts[f][len(p.stages)], 1)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.name, err)
		}
		orig[f] = v[0]
		done(1)
	}
	flat, err := e.pipeline(ctx, p, acts, batch, done)
	if err != nil {
		return nil, nil, err
	}
	patches := make([][][]float32, len(faces))
	for f := range patches {
		patches[f] = flat[f*len(rects) : (f+1)*len(rects)]
	}
	return orig, patches, nil
}

// checkPatches: every face is an aligned crop and every patch a non-empty
// part of it.
func checkPatches(faces []*image.NRGBA, rects []image.Rectangle) error {
	full := image.Rect(0, 0, face.AlignedSize, face.AlignedSize)
	for i, f := range faces {
		if f.Rect.Dx() != face.AlignedSize || f.Rect.Dy() != face.AlignedSize {
			return fmt.Errorf("face %d is %d×%d, want %d×%d: %w", i, f.Rect.Dx(), f.Rect.Dy(), face.AlignedSize, face.AlignedSize, face.ErrSize)
		}
	}
	for k, r := range rects {
		if r.Empty() || !r.In(full) {
			return fmt.Errorf("%w: patch %d is %v, outside the %v face", ErrGrid, k, r, full)
		}
	}
	return nil
}

// activations are the unoccluded face's activations at every tiled
// stage's input and at the input of the part run whole.
func (e *NetEmbedder) activations(ctx context.Context, p *patchPlan, img *image.NRGBA) ([]model.Tensor, error) {
	acts := []model.Tensor{face.RecogniserInput([]*image.NRGBA{img})}
	for i, st := range p.stages {
		net, err := e.sub(i, i+1, st.seg.In[0], st.seg.In[1], 0)
		if err != nil {
			return nil, err
		}
		outs, err := net.Run(ctx, acts[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		acts = append(acts, outs[0])
	}
	return acts, nil
}

// pipeline embeds every face's patches in batches (item g is face
// g / len(rects), patch g % len(rects)), in two stages that run at once:
// workers making the tiles of batches, and workers running the network's
// whole-map part on finished ones, each worker on models of its own (a
// model runs one batch at a time). On two cores that keeps both busy where
// the engine's own parallel split of small tiles does not: two workers of
// each kind took 19 s a pair where one of each took 24 s, at the same CPU
// time, on the shared machine.
func (e *NetEmbedder) pipeline(ctx context.Context, p *patchPlan, acts [][]model.Tensor, batch int, done func(int)) ([][]float32, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		g0, n int
		in    model.Tensor
	}
	total := len(acts) * len(p.rects)
	out := make([][]float32, total)
	jobs := make(chan job, 1)
	var next atomic.Int64 // the next batch to make tiles for
	var producers, consumers sync.WaitGroup
	for w := range cmp.Or(e.producers, 2) {
		producers.Go(func() {
			for {
				g0 := int(next.Add(1)-1) * batch
				if g0 >= total || ctx.Err() != nil {
					return
				}
				g1 := min(g0+batch, total)
				in, err := e.tiles(ctx, p, acts, g0, g1, w)
				if err != nil {
					cancel(err)
					return
				}
				select {
				case jobs <- job{g0, g1 - g0, in}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		producers.Wait()
		close(jobs)
	}()
	var mu sync.Mutex // serialises done
	shape := acts[0][len(p.stages)].Shape
	for w := range cmp.Or(e.consumers, 2) {
		consumers.Go(func() {
			tail, err := e.sub(len(p.stages), len(e.segs), shape[2], shape[3], w)
			if err != nil {
				cancel(err)
			}
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain: the producers stop at the cancel
				}
				vecs, err := runEmbed(ctx, tail, j.in, j.n)
				if err != nil {
					cancel(fmt.Errorf("%s: %w", e.name, err))
					continue
				}
				copy(out[j.g0:], vecs)
				mu.Lock()
				done(j.n)
				mu.Unlock()
			}
		})
	}
	consumers.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// tiles runs the tiled stages for items [g0, g1) (see pipeline) of plan
// p and returns the input of the whole-map part: each face's activations
// with its patch's changed region pasted in.
func (e *NetEmbedder) tiles(ctx context.Context, p *patchPlan, acts [][]model.Tensor, g0, g1, replica int) (model.Tensor, error) {
	n, r := g1-g0, len(p.rects)
	vals := make([][]float32, n) // each patch's changed region, CHW; nil: the grey patch
	for i, st := range p.stages {
		c := st.seg.InC
		in := model.NewTensor(n, c, st.tile[0], st.tile[1])
		for j := range n {
			f, k := (g0+j)/r, (g0+j)%r
			dst := in.Data[j*c*st.tile[0]*st.tile[1]:][:c*st.tile[0]*st.tile[1]]
			crop(dst, acts[f][i], p.at[k][i], st.tile)
			paste(dst, st.tile, p.at[k][i], p.in[k][i], vals[j], c)
		}
		net, err := e.sub(i, i+1, st.tile[0], st.tile[1], replica)
		if err != nil {
			return model.Tensor{}, err
		}
		outs, err := net.Run(ctx, in)
		if err != nil {
			return model.Tensor{}, fmt.Errorf("%s: %w", e.name, err)
		}
		oc, s := st.seg.OutC, [2]int{st.seg.Geom[0].S, st.seg.Geom[1].S}
		for j := range n {
			k := (g0 + j) % r
			at := p.at[k][i]
			src := outs[0].Data[j*oc*st.outTile[0]*st.outTile[1]:][:oc*st.outTile[0]*st.outTile[1]]
			vals[j] = extract(src, st.outTile, [2]int{at[0] / s[0], at[1] / s[1]}, p.out[k][i], oc)
		}
	}
	shape := acts[0][len(p.stages)].Shape
	c, h, w := shape[1], shape[2], shape[3]
	in := model.NewTensor(n, c, h, w)
	for j := range n {
		f, k := (g0+j)/r, (g0+j)%r
		dst := in.Data[j*c*h*w:][:c*h*w]
		copy(dst, acts[f][len(p.stages)].Data)
		rect := p.rects[k]
		region := [2]span{{rect.Min.Y, rect.Max.Y - 1}, {rect.Min.X, rect.Max.X - 1}}
		if s := len(p.stages); s > 0 {
			region = p.out[k][s-1]
		}
		paste(dst, [2]int{h, w}, [2]int{}, region, vals[j], c)
	}
	return in, nil
}

// crop copies the tile of size tile at origin at of the one-image map act
// (1×C×H×W) into dst (C×tile).
func crop(dst []float32, act model.Tensor, at, tile [2]int) {
	c, h, w := act.Shape[1], act.Shape[2], act.Shape[3]
	for ch := range c {
		for y := range tile[0] {
			copy(dst[(ch*tile[0]+y)*tile[1]:][:tile[1]], act.Data[(ch*h+at[0]+y)*w+at[1]:])
		}
	}
}

// paste writes vals, a C×region map (nil: zeros, the grey patch), into
// dst, a C×size map whose origin sits at origin in map coordinates.
func paste(dst []float32, size, origin [2]int, region [2]span, vals []float32, c int) {
	rh, rw := region[0].len(), region[1].len()
	for ch := range c {
		for y := range rh {
			row := dst[(ch*size[0]+region[0].lo-origin[0]+y)*size[1]+region[1].lo-origin[1]:][:rw]
			if vals == nil {
				clear(row)
				continue
			}
			copy(row, vals[(ch*rh+y)*rw:][:rw])
		}
	}
}

// extract copies region (map coordinates) out of src, a C×size map whose
// origin sits at origin, as a C×region map.
func extract(src []float32, size, origin [2]int, region [2]span, c int) []float32 {
	rh, rw := region[0].len(), region[1].len()
	out := make([]float32, c*rh*rw)
	for ch := range c {
		for y := range rh {
			copy(out[(ch*rh+y)*rw:][:rw], src[(ch*size[0]+region[0].lo-origin[0]+y)*size[1]+region[1].lo-origin[1]:])
		}
	}
	return out
}

// runEmbed runs the part of the network that ends in the embedding on n
// inputs and returns the n unit vectors.
func runEmbed(ctx context.Context, net model.Model, in model.Tensor, n int) ([][]float32, error) {
	outs, err := net.Run(ctx, in)
	if err != nil {
		return nil, err
	}
	if len(outs) == 0 || len(outs[0].Data) == 0 || len(outs[0].Data)%n != 0 {
		return nil, fmt.Errorf("output for %d faces: %w", n, face.ErrOutput)
	}
	d := len(outs[0].Data) / n
	vecs := make([][]float32, n)
	for i := range vecs {
		v, err := face.Normalize(outs[0].Data[i*d : (i+1)*d])
		if err != nil {
			return nil, err
		}
		vecs[i] = v
	}
	return vecs, nil
}
