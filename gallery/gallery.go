// Package gallery finds, for query embeddings, the most similar rows of a
// large gallery of embeddings (a memory-mapped store) by cosine
// similarity: an exhaustive, blocked, parallel scan whose inner product is
// a Kernel (the portable GoKernel, or BLAS, or a GPU).
package gallery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/maskinv/workbench/internal/parallel"
)

// Hit is one result: a gallery row and its cosine similarity to the
// query. Path is left for the caller to fill (see Name).
type Hit struct {
	Row   int     `json:"row"`
	Score float32 `json:"score"`
	Path  string  `json:"path,omitempty"`
}

// Gallery is a row-major matrix of embeddings with the inverse length of
// each row. Rows are not copied: scores are dot products scaled by the
// row's inverse length, so a read-only memory map serves as it is (a
// normalised copy of a 1 M × 512 gallery would cost 2 GB). A row of zeros
// (a store's failed image) has inverse length 0 and is never a hit.
type Gallery struct {
	rows   []float32
	n, dim int
	inv    []float32
}

// ErrShape marks inputs whose lengths do not fit.
var ErrShape = errors.New("gallery: bad shape")

// New makes a gallery of the len(rows)/dim rows of rows, computing each
// row's length once (in parallel).
func New(rows []float32, dim int) (*Gallery, error) {
	if dim < 1 || len(rows)%dim != 0 {
		return nil, fmt.Errorf("%w: %d values are not rows of %d", ErrShape, len(rows), dim)
	}
	g := &Gallery{rows: rows, n: len(rows) / dim, dim: dim}
	g.inv = make([]float32, g.n)
	parallel.For(g.n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var s float64
			for _, v := range rows[r*dim : (r+1)*dim] {
				s += float64(v) * float64(v)
			}
			if s > 0 && !math.IsInf(s, 0) && !math.IsNaN(s) {
				g.inv[r] = float32(1 / math.Sqrt(s))
			}
		}
	})
	return g, nil
}

// Len is the number of rows; Dim their length.
func (g *Gallery) Len() int { return g.n }
func (g *Gallery) Dim() int { return g.dim }

// Rows is the gallery's matrix (Len×Dim, row-major) and InvNorms each
// row's inverse length (0: the row is never a hit), for a Scanner that
// copies them to a device. Both are the gallery's own: read, never write.
func (g *Gallery) Rows() []float32     { return g.rows }
func (g *Gallery) InvNorms() []float32 { return g.inv }

// Options configure Search; the zero value is usable.
type Options struct {
	K         int    // hits per query; 0: 10
	BlockRows int    // gallery rows per Kernel call; 0: 2048
	Workers   int    // goroutines; 0: GOMAXPROCS
	Kernel    Kernel // nil: GoKernel; a Scanner takes the whole search
}

// Search returns, for each query, its K best rows, best first: highest
// score, and of equal scores the lowest row, so results are deterministic.
// Queries are normalised first; a query of zeros is an error. The scan
// splits the gallery into blocks of rows that workers take in turn, each
// keeping its own top K per query, merged at the end; ctx is checked
// between blocks. When opt.Kernel is a Scanner, the scan is its Scan.
func (g *Gallery) Search(ctx context.Context, queries [][]float32, opt Options) ([][]Hit, error) {
	k, block, workers := opt.K, opt.BlockRows, opt.Workers
	if k <= 0 {
		k = 10
	}
	if block <= 0 {
		block = 2048
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	kernel := opt.Kernel
	if kernel == nil {
		kernel = KernelFunc(GoKernel)
	}
	q, err := g.normalise(queries)
	if err != nil {
		return nil, err
	}
	m := len(queries)
	if m == 0 {
		return nil, nil
	}
	if s, ok := kernel.(Scanner); ok {
		return s.Scan(ctx, g, q, k)
	}
	tops := make([][]topK, workers)
	scratch := make([][]float32, workers)
	for w := range workers {
		tops[w], scratch[w] = make([]topK, m), make([]float32, m*block)
	}
	blocks := (g.n + block - 1) / block
	// A kernel's error stops the scan: its worker keeps it and cancels.
	scan, stop := context.WithCancel(ctx)
	defer stop()
	errs := make([]error, workers)
	err = parallel.EachWorker(scan, blocks, workers, func(w, b int) {
		lo, hi := b*block, min((b+1)*block, g.n)
		if errs[w] = kernel.MulT(m, hi-lo, g.dim, q, g.rows[lo*g.dim:hi*g.dim], scratch[w]); errs[w] != nil {
			errs[w] = fmt.Errorf("gallery rows %d to %d: %w", lo, hi-1, errs[w])
			stop()
			return
		}
		g.collect(tops[w], scratch[w], lo, hi, k)
	})
	if kerr := errors.Join(errs...); kerr != nil {
		return nil, kerr
	}
	if err != nil {
		return nil, err
	}
	out := make([][]Hit, m)
	for i := range m {
		var all []Hit
		for w := range workers {
			all = append(all, tops[w][i].hits...)
		}
		out[i] = Top(all, k)
	}
	return out, nil
}

// Top sorts hits best first (higher score, then lower row: Search's
// order) and returns the first k of them; a Scanner merges the candidates
// of its blocks with it.
func Top(hits []Hit, k int) []Hit {
	slices.SortFunc(hits, better)
	return hits[:min(k, len(hits))]
}

// normalise returns the queries scaled to unit length, row-major.
func (g *Gallery) normalise(queries [][]float32) ([]float32, error) {
	q := make([]float32, 0, len(queries)*g.dim)
	for i, v := range queries {
		if len(v) != g.dim {
			return nil, fmt.Errorf("%w: query %d has %d values, the gallery %d", ErrShape, i, len(v), g.dim)
		}
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
			return nil, fmt.Errorf("%w: query %d has no direction (length %v)", ErrShape, i, math.Sqrt(s))
		}
		inv := 1 / math.Sqrt(s)
		for _, x := range v {
			q = append(q, float32(float64(x)*inv))
		}
	}
	return q, nil
}

// collect offers the scores of rows lo…hi-1 (c, one row of hi-lo per
// query) to each query's top K.
func (g *Gallery) collect(tops []topK, c []float32, lo, hi, k int) {
	n := hi - lo
	inv := g.inv[lo:hi]
	for i := range tops {
		t := &tops[i]
		for j, d := range c[i*n : (i+1)*n] {
			if inv[j] == 0 {
				continue
			}
			s := d * inv[j]
			if len(t.hits) == k && !better2(s, lo+j, t.hits[0]) {
				continue
			}
			t.push(Hit{Row: lo + j, Score: s}, k)
		}
	}
}

// better orders hits best first: higher score, then lower row.
func better(a, b Hit) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

// better2 reports whether (score, row) ranks above h.
func better2(score float32, row int, h Hit) bool {
	return score > h.Score || score == h.Score && row < h.Row
}

// topK keeps the K best hits seen, as a heap with the worst at the root.
type topK struct{ hits []Hit }

func (t *topK) push(h Hit, k int) {
	if len(t.hits) < k {
		t.hits = append(t.hits, h)
		t.up(len(t.hits) - 1)
		return
	}
	t.hits[0] = h
	t.down(0)
}

// worse reports whether hit i ranks below hit j.
func (t *topK) worse(i, j int) bool { return better(t.hits[i], t.hits[j]) > 0 }

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.hits[i], t.hits[p] = t.hits[p], t.hits[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.hits)
	for {
		w := i
		if l := 2*i + 1; l < n && t.worse(l, w) {
			w = l
		}
		if r := 2*i + 2; r < n && t.worse(r, w) {
			w = r
		}
		if w == i {
			return
		}
		t.hits[i], t.hits[w] = t.hits[w], t.hits[i]
		i = w
	}
}

// Name fills the hits' Path from name(row) (a store's record path).
func Name(hits [][]Hit, name func(row int) (string, error)) error {
	for _, hs := range hits {
		for i := range hs {
			p, err := name(hs[i].Row)
			if err != nil {
				return err
			}
			hs[i].Path = p
		}
	}
	return nil
}
