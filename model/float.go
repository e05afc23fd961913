package model

import "github.com/maskinv/workbench/internal/parallel"

// float is the element type of kernels: float32 runs models, float64 checks
// gradients by finite differences.
type float interface{ ~float32 | ~float64 }

// parallelFor runs f over [0,n) in contiguous chunks, one per core.
func parallelFor(n int, f func(lo, hi int)) { parallel.For(n, f) }
