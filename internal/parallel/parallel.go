// Package parallel is the project's one worker pool. For splits a loop into
// one contiguous chunk per core (the trainer's per-sample work); Chunks
// splits it into chunks of a given size that the cores claim one at a time
// (a kernel's blocks), and a Team runs many such sections in a row on
// goroutines that are already running (a model's layers); Each hands out
// items one at a time to a fixed number of workers (per-image work of
// uneven cost: decoding, detection, masking), and stops handing them out
// when its context is done; EachWorker also names the worker.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For runs f over [0,n) in contiguous chunks, one per core. Chunks rather
// than items keep goroutine overhead negligible for small work.
func For(n int, f func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < p; w++ {
		lo, hi := w*n/p, (w+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// Chunks runs f over [0,n) in chunks of size indices (the last may be
// shorter): [0,size), [size,2·size) … Goroutines on every core, the
// caller's among them, claim chunks one at a time, so the caller starts at
// once and a core that joins late (its thread woken late, or held by other
// work on a shared machine) takes fewer chunks instead of holding up the
// rest. Which indices run together is fixed by size alone, not by the core
// count, so a computation whose result depends on its chunks (a GEMM per
// block) gives the same bits on any machine.
//
// Meant for the short parallel sections of a kernel (tens of microseconds
// to seconds): the caller waits for the last chunk by spinning briefly
// before it blocks.
func Chunks(n, size int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	size = max(size, 1)
	r := &chunkRun{n: n, size: size, chunks: (n + size - 1) / size, f: f}
	workers := min(runtime.GOMAXPROCS(0), r.chunks)
	if workers <= 1 {
		for c := 0; c < r.chunks; c++ {
			f(c*size, min(n, (c+1)*size))
		}
		return
	}
	r.pending.Store(int64(r.chunks))
	r.done = make(chan struct{})
	for range workers - 1 {
		go r.work()
	}
	r.work()
	r.wait()
}

type chunkRun struct {
	n, size, chunks int
	f               func(lo, hi int)
	next            atomic.Int64  // the next chunk to claim
	pending         atomic.Int64  // chunks not yet finished
	done            chan struct{} // closed when pending reaches 0
}

func (r *chunkRun) work() {
	for {
		c := int(r.next.Add(1) - 1)
		if c >= r.chunks {
			return // a late helper finds nothing left and touches nothing
		}
		r.f(c*r.size, min(r.n, (c+1)*r.size))
		if r.pending.Add(-1) == 0 {
			close(r.done)
		}
	}
}

// wait returns once every chunk has finished. The chunks still running
// when the caller runs out are usually about to end, so it spins for up to
// spinFor, which costs less than a sleep and a wake-up, before blocking.
func (r *chunkRun) wait() {
	if spinUntil(func() bool { return r.pending.Load() == 0 }) {
		return
	}
	<-r.done
}

// spinFor is how long a goroutine busy-waits for a short event (the end
// of a section, the next section of a team) before it blocks: longer than
// the gap between two layers of a model, far shorter than a scheduler's
// time slice. The wait reads an atomic in a loop rather than yielding:
// runtime.Gosched would put the goroutine on the global queue, from where
// the two goroutines of a team can end up taking turns on one P while the
// other P sleeps.
const spinFor = 50 * time.Microsecond

// spinUntil busy-waits until done() or spinFor has passed, and says which.
func spinUntil(done func() bool) bool {
	start := time.Now()
	for i := 1; ; i++ {
		if done() {
			return true
		}
		if i%64 == 0 && time.Since(start) > spinFor {
			return done()
		}
	}
}

// Team runs the parallel sections of one caller on a fixed set of
// goroutines, for work made of many short sections in a row (a model's
// layers, tens of microseconds each): Chunks, called on Team, hands the
// section to helpers that are already running, where parallel.Chunks
// would start new goroutines, and a core idle since the last section
// would have to be woken first. Between sections a helper spins for a
// short while (spinFor), then sleeps until the next one. Close ends the helpers; a
// Team is for one goroutine at a time.
type Team struct {
	helpers  int
	epoch    atomic.Uint64 // bumped by every section and by Close
	cur      atomic.Pointer[chunkRun]
	sleepers atomic.Int32
	mu       sync.Mutex
	wake     *sync.Cond
	closed   atomic.Bool
	wg       sync.WaitGroup
}

// NewTeam starts a team of workers goroutines, the caller's included
// (workers ≤ 0: GOMAXPROCS).
func NewTeam(workers int) *Team {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	t := &Team{helpers: workers - 1}
	t.wake = sync.NewCond(&t.mu)
	for range t.helpers {
		t.wg.Add(1)
		go t.help()
	}
	return t
}

// Workers is the team's size, the caller's goroutine included.
func (t *Team) Workers() int { return t.helpers + 1 }

// Chunks is parallel.Chunks on the team: the same chunks, claimed by the
// caller and the helpers.
func (t *Team) Chunks(n, size int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	size = max(size, 1)
	r := &chunkRun{n: n, size: size, chunks: (n + size - 1) / size, f: f}
	if t.helpers == 0 || r.chunks == 1 {
		for c := 0; c < r.chunks; c++ {
			f(c*size, min(n, (c+1)*size))
		}
		return
	}
	r.pending.Store(int64(r.chunks))
	r.done = make(chan struct{})
	t.cur.Store(r)
	t.signal()
	r.work()
	r.wait()
}

// signal starts a new epoch and wakes the helpers that went to sleep. A
// helper counts itself among the sleepers before it checks the epoch a
// last time, and the epoch is bumped before the sleepers are counted here,
// so a helper either sees the new epoch or is woken.
func (t *Team) signal() {
	t.epoch.Add(1)
	if t.sleepers.Load() > 0 {
		t.mu.Lock()
		t.wake.Broadcast()
		t.mu.Unlock()
	}
}

// Close stops the helpers and waits for them.
func (t *Team) Close() {
	if t.closed.Swap(true) {
		return
	}
	t.signal()
	t.wg.Wait()
}

func (t *Team) help() {
	defer t.wg.Done()
	// From epoch 0, the team's start: a helper that starts late must not
	// take a section or Close that came before it for the state it waits on.
	var seen uint64
	for {
		if !spinUntil(func() bool { return t.epoch.Load() != seen }) {
			t.mu.Lock()
			t.sleepers.Add(1)
			for t.epoch.Load() == seen {
				t.wake.Wait()
			}
			t.sleepers.Add(-1)
			t.mu.Unlock()
		}
		seen = t.epoch.Load()
		if t.closed.Load() {
			return
		}
		if r := t.cur.Load(); r != nil {
			r.work() // a section already finished finds no chunk left
		}
	}
}

// Each calls fn(i) for every i in [0, n) on min(workers, n) goroutines
// (workers ≤ 0: runtime.GOMAXPROCS(0)), handing out indices in increasing
// order, one at a time, so that a slow item holds up only its worker. Once
// ctx is done no further fn starts (a worker checks before each call); Each
// returns when every fn it started has returned, with ctx.Err() (nil when
// ctx was never done). fn must be safe to call from several goroutines at
// once.
func Each(ctx context.Context, n, workers int, fn func(i int)) error {
	return EachWorker(ctx, n, workers, func(_, i int) { fn(i) })
}

// EachWorker is Each that also tells fn which worker, 0 ≤ w < workers,
// calls it: one worker's calls never overlap, so state indexed by w (a
// scratch buffer, a partial result) needs no lock.
func EachWorker(ctx context.Context, n, workers int, fn func(w, i int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() == nil {
					fn(w, i)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
