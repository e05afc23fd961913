package model

import (
	"runtime"
	"sync"
)

// float is the element type of kernels: float32 runs models, float64 checks
// gradients by finite differences.
type float interface{ ~float32 | ~float64 }

// parallelFor runs f over [0,n) in contiguous chunks, one per core. Chunks
// rather than items keep goroutine overhead negligible for small work.
func parallelFor(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p > n {
		p = n
	}
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
