// Package parallel is the project's one worker pool. For splits a loop into
// one contiguous chunk per core (the engine's kernels, the trainer's
// per-sample work); Each hands out items one at a time to a fixed number
// of workers (per-image work of uneven cost: decoding, detection,
// masking), and stops handing them out when its context is done.
package parallel

import (
	"context"
	"runtime"
	"sync"
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
