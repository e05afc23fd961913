package occlusion

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"math"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/progress"
)

// Embedder embeds aligned 112×112 crops: one L2-normalised vector per crop,
// in order. It must not keep the crops after returning (OccludeFaces reuses
// their pixels for the next batch). *face.Embedder implements it.
type Embedder interface {
	Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error)
}

// Grey is the occluder's value in each of R, G and B (opaque): the grey
// that the recogniser's input normalisation (p−127)/128 maps to 0.
const Grey = 127

// Defaults of Options.
const (
	DefaultPatch  = 8
	DefaultStride = 4
	DefaultBatch  = 32
)

// Options configure OccludeFaces. The zero value means 8×8 patches at
// stride 4, batches of 32 crops and no progress reports.
type Options struct {
	Patch, Stride int
	// Batch is how many crops go to the Embedder per call. The engine's
	// throughput is flat from 16 to 128 on two cores (BenchmarkBatch), so
	// the default keeps memory small.
	Batch    int
	Progress progress.Func // embeddings done of total
}

// Grid is the patch grid the options choose for a face of size pixels.
func (o Options) Grid(size int) Grid {
	return Grid{Size: size, Patch: cmp.Or(o.Patch, DefaultPatch), Stride: cmp.Or(o.Stride, DefaultStride)}
}

// Occluded is one face embedded whole and under every patch of a grid.
type Occluded struct {
	Grid     Grid
	Original []float32   // embedding of the unoccluded face
	Patches  [][]float32 // embedding with cell k hidden, in Grid.Rects order
}

// Map scores the occluded face against an unoccluded partner's embedding.
func (o *Occluded) Map(partner []float32) Map {
	m := Map{Grid: o.Grid, Score: face.Cosine(o.Original, partner), Drops: make([]float64, len(o.Patches))}
	for k, e := range o.Patches {
		m.Drops[k] = m.Score - face.Cosine(e, partner)
	}
	return m
}

// OccludeFaces embeds each aligned face whole and under every patch of the
// options' grid, in batches through emb. All faces share one stream of
// batches, so only the last batch runs short. Work stops at the next batch
// when ctx is cancelled.
func OccludeFaces(ctx context.Context, emb Embedder, faces []*image.NRGBA, opt Options) ([]*Occluded, error) {
	if len(faces) == 0 {
		return nil, nil
	}
	size := faces[0].Rect.Dx()
	for i, f := range faces {
		if f.Rect.Dx() != face.AlignedSize || f.Rect.Dy() != face.AlignedSize {
			return nil, fmt.Errorf("occlusion: face %d is %d×%d, want %d×%d: %w",
				i, f.Rect.Dx(), f.Rect.Dy(), face.AlignedSize, face.AlignedSize, face.ErrSize)
		}
	}
	g := opt.Grid(size)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	prog := opt.Progress
	if prog == nil {
		prog = progress.Nop
	}
	rects := g.Rects()
	total, done := len(faces)*(len(rects)+1), 0
	prog(0, total)
	count := func(n int) {
		done += n
		prog(done, total)
	}
	var orig [][]float32
	var patches [][][]float32
	var err error
	if pe, ok := emb.(PatchEmbedder); ok {
		orig, patches, err = pe.EmbedPatches(ctx, faces, rects, batch, count)
	} else {
		orig, patches, err = embedWhole(ctx, emb, faces, rects, batch, count)
	}
	if err != nil {
		return nil, fmt.Errorf("occlusion: %w", err)
	}
	if len(orig) != len(faces) || len(patches) != len(faces) {
		return nil, fmt.Errorf("occlusion: %d and %d embedding sets for %d faces: %w", len(orig), len(patches), len(faces), face.ErrOutput)
	}
	out := make([]*Occluded, len(faces))
	for i := range faces {
		if len(patches[i]) != len(rects) {
			return nil, fmt.Errorf("occlusion: face %d: %d embeddings for %d patches: %w", i, len(patches[i]), len(rects), face.ErrOutput)
		}
		out[i] = &Occluded{Grid: g, Original: orig[i], Patches: patches[i]}
	}
	return out, nil
}

// embedWhole embeds each face whole and under each of rects by embedding
// every occluded crop, in batches of the given size: face i's crop, then
// its crops under each rect, face after face, in one stream of batches,
// so only the last one runs short. done receives each batch's size.
func embedWhole(ctx context.Context, emb Embedder, faces []*image.NRGBA, rects []image.Rectangle, batch int, done func(int)) ([][]float32, [][][]float32, error) {
	per := len(rects) + 1 // the whole face, then each patch
	total := per * len(faces)
	orig := make([][]float32, len(faces))
	patches := make([][][]float32, len(faces))
	for i := range patches {
		patches[i] = make([][]float32, len(rects))
	}
	bufs := make([]*image.NRGBA, min(batch, total))
	for i := range bufs {
		bufs[i] = image.NewNRGBA(faces[0].Rect.Sub(faces[0].Rect.Min))
	}
	for start := 0; start < total; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		n := min(batch, total-start)
		crops := bufs[:n]
		for k, c := range crops {
			job := start + k
			occlude(c, faces[job/per], job%per-1, rects)
		}
		vecs, err := emb.Embed(ctx, crops)
		if err != nil {
			return nil, nil, fmt.Errorf("embed crops %d..%d of %d: %w", start, start+n-1, total, err)
		}
		if len(vecs) != n {
			return nil, nil, fmt.Errorf("embedder returned %d vectors for %d crops: %w", len(vecs), n, face.ErrOutput)
		}
		for k, v := range vecs {
			job := start + k
			if cell := job%per - 1; cell < 0 {
				orig[job/per] = v
			} else {
				patches[job/per][cell] = v
			}
		}
		done(n)
	}
	return orig, patches, nil
}

// occlude writes src into dst with patch cell (−1: none) set to Grey.
func occlude(dst, src *image.NRGBA, cell int, rects []image.Rectangle) {
	if cell < 0 {
		occludeRect(dst, src, image.Rectangle{})
		return
	}
	occludeRect(dst, src, rects[cell])
}

// occludeRect writes src into dst (origin 0,0) with r set to Grey.
func occludeRect(dst, src *image.NRGBA, r image.Rectangle) {
	size := src.Rect.Dx()
	for y := 0; y < size; y++ {
		copy(dst.Pix[y*dst.Stride:][:4*size], src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y):])
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := dst.Pix[y*dst.Stride+4*r.Min.X:][:4*r.Dx()]
		for x := 0; x < len(row); x += 4 {
			row[x], row[x+1], row[x+2], row[x+3] = Grey, Grey, Grey, 255
		}
	}
}

// Map is one face's occlusion map against a partner.
type Map struct {
	Grid  Grid
	Score float64   // cosine score of the unoccluded pair
	Drops []float64 // Score − score with cell k hidden, in Grid.Rects order
}

// At is the drop of row i, column j.
func (m Map) At(i, j int) float64 { return m.Drops[i*m.Grid.Side()+j] }

// Pixels is the per-pixel map, Size×Size row-major: each pixel holds the
// mean drop of the patches that cover it.
func (m Map) Pixels() []float64 {
	n := m.Grid.Size
	sum := make([]float64, n*n)
	count := make([]int, n*n)
	for k, r := range m.Grid.Rects() {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				sum[y*n+x] += m.Drops[k]
				count[y*n+x]++
			}
		}
	}
	for i := range sum {
		if count[i] == 0 {
			sum[i] = math.NaN() // unreachable for a valid grid
			continue
		}
		sum[i] /= float64(count[i])
	}
	return sum
}

// MaxAbs is the largest |drop| of the map.
func (m Map) MaxAbs() float64 {
	v := 0.0
	for _, d := range m.Drops {
		v = max(v, math.Abs(d))
	}
	return v
}

// EyeLine is the row of the aligned 112×112 crop halfway between the
// ArcFace template's eyes (y ≈ 51.6) and nose tip (y ≈ 71.7): above it
// lie the eyes, brows and forehead, which a mask leaves visible.
const EyeLine = 62

// ShareAbove is the share of the map's positive per-pixel drop that lies
// in rows above y: how much of what supports the score comes from there
// (with y = EyeLine, from the eye region). 0 when nothing supports it.
func (m Map) ShareAbove(y int) float64 {
	px := m.Pixels()
	n := m.Grid.Size
	var above, all float64
	for i, v := range px {
		if v <= 0 {
			continue
		}
		all += v
		if i/n < y {
			above += v
		}
	}
	if all == 0 {
		return 0
	}
	return above / all
}
