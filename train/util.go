package train

import "github.com/maskinv/workbench/internal/parallel"

// parallelRows calls f for every row in [0,n), rows split over the cores.
func parallelRows(n int, f func(i int)) {
	parallel.For(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	})
}
