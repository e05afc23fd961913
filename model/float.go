package model

// float is the element type of kernels: float32 runs models, float64 checks
// gradients by finite differences.
type float interface{ ~float32 | ~float64 }
