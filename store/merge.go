package store

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"

	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/shard"
)

// ErrShards marks a set of shard stores that is not one whole split:
// shards missing or twice, or of different splits.
var ErrShards = errors.New("shards do not make one whole set")

// ErrOverlap marks an image found in two shard stores, or in a shard it
// does not belong to.
var ErrOverlap = errors.New("shards overlap")

// MergeOptions configure Merge.
type MergeOptions struct {
	Force    bool          // as Options.Force, for dst
	Progress progress.Func // records written of the total; nil: none
}

// Merge joins the shard stores in srcs (all N shards of one split, each
// once, in any order) into a whole store in dst, the same bytes as one
// task writing the whole set would have made. It refuses, with an error
// naming the stores, sources made with different Params (ErrMismatch),
// sources that are not exactly shards 1 to N of one N (ErrShards, naming
// any missing shard), an image in two sources or in the wrong shard
// (ErrOverlap), and unfinished sources (ErrUnfinished); each source's
// files are checked against its hashes as they are read (ErrCorrupt).
// Nothing replaces dst's files until every check has passed (but a
// failed merge leaves dst without meta.json).
func Merge(ctx context.Context, dst string, srcs []string, opt MergeOptions) (Meta, error) {
	stores, err := openShards(dst, srcs)
	defer func() {
		for _, s := range stores {
			s.Close()
		}
	}()
	if err != nil {
		return Meta{}, err
	}
	p, _ := stores[0].Meta.Params()
	n := p.Shard.Count
	p.Shard = shard.Whole
	if err := claim(dst, opt.Force); err != nil {
		return Meta{}, err
	}
	m, err := newMerger(stores, n)
	if err != nil {
		return Meta{}, err
	}
	report := opt.Progress
	if report == nil {
		report = progress.Nop
	}
	report(0, m.total)
	next := func() (Record, []byte, error) {
		if m.emitted%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Record{}, nil, err
			}
			report(m.emitted, m.total)
		}
		return m.next()
	}
	meta, err := writeFiles(dst, p, m.total, next)
	if err == nil {
		report(m.total, m.total)
		removeStaleTemps(dst)
	}
	return meta, err
}

// openShards opens the sources, checks that they are the shards of one
// whole set made with one Params, and returns them in shard order.
func openShards(dst string, srcs []string) ([]*Store, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("%w: no stores to merge", ErrShards)
	}
	dstInfo, _ := os.Stat(dst)
	var stores []*Store
	for _, dir := range srcs {
		if st, err := os.Stat(dir); err == nil && dstInfo != nil && os.SameFile(st, dstInfo) {
			return stores, fmt.Errorf("merge: the output %s is also a source", dst)
		}
		s, err := Open(dir)
		if err != nil {
			return stores, err
		}
		stores = append(stores, s)
		if s.Unfinished {
			return stores, fmt.Errorf("%s: %w: a run of its task was interrupted after it finished once (its journal is there); rerun the task", dir, ErrUnfinished)
		}
	}
	first, _ := stores[0].Meta.Params()
	specs, names := make([]shard.Spec, len(stores)), make([]string, len(stores))
	for i, s := range stores {
		p, _ := s.Meta.Params()
		if d := p.mismatch(first); d != "" {
			return stores, fmt.Errorf("%w: store %s was made with %s (as store %s was)", ErrMismatch, s.Dir, d, stores[0].Dir)
		}
		specs[i], names[i] = p.Shard, "store "+s.Dir
	}
	if err := shard.CheckSet(specs, names); err != nil {
		return stores, fmt.Errorf("%w: %v", ErrShards, err)
	}
	slices.SortFunc(stores, func(a, b *Store) int {
		pa, _ := a.Meta.Params()
		pb, _ := b.Meta.Params()
		return pa.Shard.Index - pb.Shard.Index
	})
	return stores, nil
}

// cursor walks one source in order, hashing what it reads.
type cursor struct {
	s          *Store
	index      int // the shard's number
	i          int // next record
	rec        Record
	npyH, idxH hash.Hash
}

// merger is a k-way merge of the sources by path.
type merger struct {
	heap    cursorHeap
	n       int // shards
	total   int
	emitted int
	// lastPath and lastDir are the record emitted last and its source.
	lastPath, lastDir string
}

func newMerger(stores []*Store, n int) (*merger, error) {
	m := &merger{n: n}
	for _, s := range stores {
		p, _ := s.Meta.Params()
		c := &cursor{s: s, index: p.Shard.Index, npyH: sha256.New(), idxH: sha256.New()}
		c.npyH.Write(s.npy[:len(s.npy)-4*len(s.rows)])
		m.total += s.Len()
		ok, err := c.advance(n)
		if err != nil {
			return nil, err
		}
		if ok {
			m.heap = append(m.heap, c)
		}
	}
	heap.Init(&m.heap)
	return m, nil
}

// advance reads the cursor's next record; false at the end, after the
// source's hashes have been checked.
func (c *cursor) advance(n int) (bool, error) {
	if c.i == c.s.Len() {
		return false, c.checkHashes()
	}
	prev := c.rec.Path
	r, err := c.s.Record(c.i)
	if err != nil {
		return false, err
	}
	if c.i > 0 && r.Path <= prev {
		return false, fmt.Errorf("%s:%d: %w: %q after %q: not sorted, or twice", filepath.Join(c.s.Dir, IndexName), c.i+1, ErrCorrupt, r.Path, prev)
	}
	if got := shard.Of(r.Path, n); got != c.index {
		return false, fmt.Errorf("%w: store %s (shard %d/%d) holds %s, which belongs to shard %d/%d", ErrOverlap, c.s.Dir, c.index, n, r.Path, got, n)
	}
	c.rec = r
	c.idxH.Write(c.s.index[c.s.lines[c.i]:c.s.lines[c.i+1]])
	c.npyH.Write(c.s.rawRow(c.i))
	c.i++
	return true, nil
}

func (c *cursor) checkHashes() error {
	for _, f := range []struct {
		name string
		h    hash.Hash
		want string
	}{{EmbeddingsName, c.npyH, c.s.Meta.EmbeddingsSHA256}, {IndexName, c.idxH, c.s.Meta.IndexSHA256}} {
		if hex.EncodeToString(f.h.Sum(nil)) != f.want {
			return fmt.Errorf("%s: %w: SHA-256 differs from %s's", filepath.Join(c.s.Dir, f.name), ErrCorrupt, MetaName)
		}
	}
	return nil
}

// next returns the record with the least path of all sources.
func (m *merger) next() (Record, []byte, error) {
	if len(m.heap) == 0 {
		return Record{}, nil, errors.New("merge: sources ended early")
	}
	c := m.heap[0]
	rec, row := c.rec, c.s.rawRow(c.i-1)
	if m.emitted > 0 && m.lastPath == rec.Path {
		return Record{}, nil, fmt.Errorf("%w: %s is in both %s and %s", ErrOverlap, rec.Path, m.lastDir, c.s.Dir)
	}
	ok, err := c.advance(m.n)
	if err != nil {
		return Record{}, nil, err
	}
	if ok {
		heap.Fix(&m.heap, 0)
	} else {
		heap.Pop(&m.heap)
	}
	m.emitted++
	m.lastPath, m.lastDir = rec.Path, c.s.Dir
	return rec, row, nil
}

// cursorHeap orders cursors by their current path.
type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].rec.Path < h[j].rec.Path }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
