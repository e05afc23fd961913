package model

import (
	"sync"

	G "gorgonia.org/gorgonia"
)

// Inference memory. Gorgonia's tape machine binds every node to its value and
// keeps it, so a graph that allocated each kernel's output afresh held the
// activations of every layer of its last run: 435 MB for the recogniser at
// batch 32, per batch size ever run, plus as much garbage again per run. Here
// the kernels of an inference program take their outputs from the Net's
// bufferPool and give a buffer back as soon as the last kernel that reads it
// has run, so a run holds only the activations still to be read, and the
// next run, of any batch size, reuses the same buffers.

// bufferPool holds the float32 buffers of a Net's finished inference runs.
// Its zero value is ready; it is safe for concurrent use.
type bufferPool struct {
	mu    sync.Mutex
	free  [][]float32
	bytes int64 // capacity of every buffer the pool has made, for tests
}

// get returns a buffer of length n: the smallest free one that holds n
// elements, else a new one. Its contents are whatever it last held.
func (p *bufferPool) get(n int) []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		p.bytes += 4 * int64(n)
		return make([]float32, n)
	}
	b := p.free[best]
	p.free[best] = p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return b[:n]
}

func (p *bufferPool) put(b []float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, b)
}

// allocated is the total size in bytes of the buffers the pool has made.
func (p *bufferPool) allocated() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// runMemory is one inference program's share of the pool during a run (a
// program runs one batch at a time, under its lock).
type runMemory struct {
	pool *bufferPool
	live map[*float32]*liveBuffer // by first element, the buffers out now
}

// liveBuffer is a kernel output of the current run and how many of its
// readers have yet to run; readers < 0 keeps it until the run ends.
type liveBuffer struct {
	buf     []float32
	readers int
}

// output returns the buffer for a kernel output of n elements that readers
// kernels will read (0: keep it until the run ends).
func (m *runMemory) output(n, readers int) []float32 {
	b := m.pool.get(n)
	if n == 0 {
		return b
	}
	if readers == 0 {
		readers = -1
	}
	m.live[&b[0]] = &liveBuffer{buf: b, readers: readers}
	return b
}

// read records that one reader of each of the given inputs has run; a
// buffer whose readers have all run goes back to the pool. Inputs that are
// not outputs of this run (weights, the graph input, copies) are ignored,
// and so is an input passed twice to one kernel.
func (m *runMemory) read(in [][]float32) {
	for i, x := range in {
		if len(x) == 0 {
			continue
		}
		dup := false
		for _, y := range in[:i] {
			dup = dup || (len(y) > 0 && &y[0] == &x[0])
		}
		lb, ok := m.live[&x[0]]
		if dup || !ok || lb.readers < 0 {
			continue
		}
		if lb.readers--; lb.readers == 0 {
			delete(m.live, &x[0])
			m.pool.put(lb.buf)
		}
	}
}

// reset gives every buffer still out back to the pool; the run's outputs
// must have been copied.
func (m *runMemory) reset() {
	if m == nil {
		return
	}
	for k, lb := range m.live {
		m.pool.put(lb.buf)
		delete(m.live, k)
	}
}

// planMemory makes the kernels of an inference graph take their outputs
// from pool. A kernel's output is handed back once its readers have run only
// when every reader is a kernel of this graph and it is not a graph output:
// anything else (a Reshape or Slice view, a Concat, the caller) may read it
// at a time the kernels do not see, so it is kept until the run ends.
func planMemory(g *G.ExprGraph, outputs []*G.Node, pool *bufferPool) *runMemory {
	m := &runMemory{pool: pool, live: map[*float32]*liveBuffer{}}
	isOutput := map[*G.Node]bool{}
	for _, o := range outputs {
		isOutput[o] = true
	}
	for _, n := range g.AllNodes() {
		op, ok := n.Op().(*kernelOp)
		if !ok {
			continue
		}
		op.mem = m
		op.readers = 0
		if isOutput[n] {
			continue
		}
		readers := 0
		seen := map[*G.Node]bool{}
		for it := g.To(n.ID()); it != nil && it.Next(); {
			r := it.Node().(*G.Node)
			if seen[r] {
				continue
			}
			seen[r] = true
			if _, ok := r.Op().(*kernelOp); !ok {
				readers = 0
				break
			}
			readers++
		}
		op.readers = readers
	}
	return m
}
