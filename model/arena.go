package model

import "sync"

// Inference memory. Gorgonia's tape machine bound every node to its value
// and kept it, so a graph held the activations of every layer of its last
// run (435 MB for the recogniser at batch 32, per batch size ever run). A
// plan instead gives each activation a slot shared with values whose lives
// do not overlap (3 slots for the recogniser's 62 steps); a run takes its
// slots' buffers from the Net's bufferPool and gives them back when it
// ends, so the next run, of any batch size, reuses the same memory.

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
