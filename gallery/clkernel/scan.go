package clkernel

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/internal/opencl"
)

// resident is a gallery on the device: its rows in blocks, each with its
// rows' inverse lengths.
type resident struct {
	g      *gallery.Gallery
	blocks []block
	rows   int   // rows per block (the last may have fewer)
	stage  block // buffers for the blocks not kept; none when all are
}

// block is rows lo to hi-1 of the gallery. rows and inv are nil when the
// block is not kept on the device (then a search copies it into the
// stage).
type block struct {
	lo, hi    int
	rows, inv *opencl.Buffer
}

func (b *block) release() error {
	err := errors.Join(b.rows.Release(), b.inv.Release())
	b.rows, b.inv = nil, nil
	return err
}

func (r *resident) release() error {
	if r == nil {
		return nil
	}
	errs := []error{r.stage.release()}
	for i := range r.blocks {
		errs = append(errs, r.blocks[i].release())
	}
	return errors.Join(errs...)
}

// blockRows is the rows per block for rows of dim values: as given, or
// as many whole chunks as the device's largest buffer and maxBlockRows
// allow.
func (k *Kernel) blockRows(dim int) (int, error) {
	fit := k.dev.MaxAlloc / int64(4*dim)
	if k.block > 0 {
		if int64(k.block) > fit {
			return 0, fmt.Errorf("blocks of %d rows of %d values exceed the device's largest buffer (%d MiB)", k.block, dim, k.dev.MaxAlloc>>20)
		}
		return k.block, nil
	}
	b := int(min(fit, maxBlockRows))
	if b < 1 {
		return 0, fmt.Errorf("a row of %d values exceeds the device's largest buffer (%d bytes)", dim, k.dev.MaxAlloc)
	}
	if b >= k.chunk {
		b -= b % k.chunk
	}
	return b, nil
}

// workBytes is the device memory a search takes besides the gallery, at
// most: a batch's queries and scores of a block, and some room for its
// candidates.
func (k *Kernel) workBytes(rows, dim int) int64 {
	batch := int64(k.batchSize(rows, k.maxBatch))
	return 4*batch*int64(rows+dim) + 16<<20
}

// batchSize is how many of m queries one batch takes: the scores of a
// batch for a block of rows stay within maxScores.
func (k *Kernel) batchSize(rows, m int) int {
	return max(1, min(m, k.maxBatch, maxScores/(4*rows)))
}

// load makes g the resident gallery (a no-op when it is already).
func (k *Kernel) load(g *gallery.Gallery) error {
	if k.resident != nil && k.resident.g == g {
		return nil
	}
	if err := k.resident.release(); err != nil {
		return err
	}
	k.resident = nil
	if g.Len() > math.MaxInt32 {
		return fmt.Errorf("%d rows: the kernels number rows with 32-bit ints", g.Len())
	}
	per, err := k.blockRows(g.Dim())
	if err != nil {
		return err
	}
	r := &resident{g: g, rows: max(1, min(per, g.Len()))}
	for lo := 0; lo < g.Len(); lo += per {
		hi := min(lo+per, g.Len())
		r.blocks = append(r.blocks, block{lo: lo, hi: hi})
	}
	if err := k.keep(r); err != nil {
		_ = r.release() // the copy's error is the one to report
		return err
	}
	k.resident = r
	return nil
}

// keep copies the blocks up that fit within the memory limit, in order,
// and makes the stage for the others. Many drivers allocate at the first
// write, so running out of memory while copying ends the blocks kept too
// (and gives the stage back the room of the block before).
func (k *Kernel) keep(r *resident) error {
	g, dim := r.g, r.g.Dim()
	size := func(rows int) int64 { return 4 * int64(rows) * int64(dim+1) }
	budget := k.limit - k.workBytes(r.rows, dim)
	var total int64
	for _, b := range r.blocks {
		total += size(b.hi - b.lo)
	}
	if total > budget {
		budget -= size(r.rows) // the stage
	}
	var used int64
	for i := range r.blocks {
		b := &r.blocks[i]
		if used += size(b.hi - b.lo); used > budget {
			return k.makeStage(r)
		}
		err := k.upload(b, g)
		if errors.Is(err, opencl.ErrOutOfMemory) {
			if i > 0 {
				if err := r.blocks[i-1].release(); err != nil {
					return err
				}
			}
			return k.makeStage(r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// makeStage allocates the staging block through which a search copies
// the blocks not kept.
func (k *Kernel) makeStage(r *resident) error {
	dim := r.g.Dim()
	var bs buffers
	r.stage.rows, r.stage.inv = bs.alloc(k.ctx, r.rows*dim), bs.alloc(k.ctx, r.rows)
	if bs.err != nil {
		return errors.Join(fmt.Errorf("a staging block of %d rows for the rows that do not stay on the device: %w", r.rows, bs.err), bs.release())
	}
	return nil
}

// upload allocates b's buffers and copies its rows and inverse lengths
// into them; on an error it releases them.
func (k *Kernel) upload(b *block, g *gallery.Gallery) error {
	dim := g.Dim()
	var bs buffers
	rows, inv := bs.alloc(k.ctx, (b.hi-b.lo)*dim), bs.alloc(k.ctx, b.hi-b.lo)
	err := bs.err
	if err == nil {
		err = errors.Join(rows.Write(0, g.Rows()[b.lo*dim:b.hi*dim]), inv.Write(0, g.InvNorms()[b.lo:b.hi]))
	}
	if err != nil {
		return errors.Join(err, bs.release())
	}
	b.rows, b.inv = rows, inv
	return nil
}

// selection is how a search picks each chunk's best: the kernel (best,
// or best_few for few hits), rows per chunk, candidates per chunk, and
// work-items per chunk; first holds each block's first chunk, chunks the
// count over all blocks.
type selection struct {
	kern                *opencl.Kernel
	few                 bool
	size, per, group    int
	first               []int
	chunks, mergedItems int // mergedItems: best_few's sort size
}

// selectFor plans the selection of hits per query over r's blocks.
func (k *Kernel) selectFor(r *resident, hits int) selection {
	s := selection{kern: k.best, size: k.chunk, per: min(hits, k.chunk), group: k.group}
	if hits <= k.fewMax {
		s = selection{kern: k.few, few: true, size: k.fewChunk, per: hits, group: k.fewGroup, mergedItems: nextPow2(k.fewGroup * hits)}
	}
	for _, b := range r.blocks {
		s.first = append(s.first, s.chunks)
		s.chunks += (b.hi - b.lo + s.size - 1) / s.size
	}
	return s
}

// launch enqueues the selection of the chunks of block b (n rows, at
// inv) from the m queries' scores c into the candidates score and row.
func (s *selection) launch(c, inv, score, row *opencl.Buffer, b, lo, n, m int) error {
	args := []any{c, inv, int32(n), int32(n), int32(lo), int32(s.size), int32(s.per), int32(s.chunks), int32(s.first[b]), score, row}
	if s.few {
		args = append(args, opencl.Local(4*s.mergedItems), opencl.Local(4*s.mergedItems), int32(s.mergedItems))
	} else {
		args = append(args, opencl.Local(4*s.size), opencl.Local(4*s.size))
	}
	if err := s.kern.SetArgs(args...); err != nil {
		return err
	}
	chunks := (n + s.size - 1) / s.size
	return s.kern.Launch([]int{chunks * s.group, m}, []int{s.group, 1})
}

// work is the device memory of one search: a batch of queries, their
// scores against a block, and the candidates of every chunk.
type work struct {
	bufs         buffers
	q, c         *opencl.Buffer
	score, row   *opencl.Buffer
	batch        int // queries per batch
	scores, rows []float32
}

// scan searches g for the queries q (unit length, row-major), hits each.
func (k *Kernel) scan(ctx context.Context, g *gallery.Gallery, q []float32, hits int) ([][]gallery.Hit, error) {
	if err := k.load(g); err != nil {
		return nil, err
	}
	r, dim := k.resident, g.Dim()
	m := len(q) / dim
	out := make([][]gallery.Hit, m)
	if len(r.blocks) == 0 {
		return out, nil
	}
	sel := k.selectFor(r, hits)
	cands := sel.chunks * sel.per
	w := work{batch: max(1, min(k.batchSize(r.rows, m), int(k.dev.MaxAlloc/int64(4*cands))))}
	w.q, w.c = w.bufs.alloc(k.ctx, w.batch*dim), w.bufs.alloc(k.ctx, w.batch*r.rows)
	w.score, w.row = w.bufs.alloc(k.ctx, w.batch*cands), w.bufs.alloc(k.ctx, w.batch*cands)
	defer w.bufs.release() // nothing to do about a failed release
	if w.bufs.err != nil {
		return nil, w.bufs.err
	}
	w.scores, w.rows = make([]float32, w.batch*cands), make([]float32, w.batch*cands)
	for i0 := 0; i0 < m; i0 += w.batch {
		i1 := min(i0+w.batch, m)
		if err := k.scanBatch(ctx, r, &sel, &w, q[i0*dim:i1*dim], i1-i0); err != nil {
			return nil, err
		}
		n := (i1 - i0) * cands
		if err := errors.Join(w.score.Read(0, w.scores[:n]), w.row.Read(0, w.rows[:n])); err != nil {
			return nil, err
		}
		for i := range i1 - i0 {
			out[i0+i] = merge(w.scores[i*cands:(i+1)*cands], w.rows[i*cands:(i+1)*cands], hits)
		}
	}
	return out, nil
}

// scanBatch scores the m queries q against every block and leaves the
// candidates of every chunk in w's score and row buffers. It waits for
// each block, so that a cancelled search stops within one.
func (k *Kernel) scanBatch(ctx context.Context, r *resident, sel *selection, w *work, q []float32, m int) error {
	dim := r.g.Dim()
	if err := w.q.Write(0, q); err != nil {
		return err
	}
	for bi, b := range r.blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, inv := b.rows, b.inv
		if rows == nil {
			rows, inv = r.stage.rows, r.stage.inv
			err := errors.Join(rows.Write(0, r.g.Rows()[b.lo*dim:b.hi*dim]), inv.Write(0, r.g.InvNorms()[b.lo:b.hi]))
			if err != nil {
				return err
			}
		}
		n := b.hi - b.lo
		if err := k.launchScores(w.q, rows, inv, w.c, m, n, dim, true); err != nil {
			return err
		}
		if err := sel.launch(w.c, inv, w.score, w.row, bi, b.lo, n, m); err != nil {
			return err
		}
		if err := k.ctx.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// merge makes one query's hits from its candidates: the rows of every
// chunk's best, -1 where a chunk had fewer rows.
func merge(scores, rows []float32, hits int) []gallery.Hit {
	var all []gallery.Hit
	for i, v := range rows {
		if row := rowOf(v); row >= 0 {
			all = append(all, gallery.Hit{Row: row, Score: scores[i]})
		}
	}
	return gallery.Top(all, hits)
}
