// Package parallel splits loops over the cores: the engine's kernels and the
// trainer's per-sample work share it.
package parallel

import (
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
