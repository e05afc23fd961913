package gallery

import "context"

// Kernel scores a block of gallery rows against the queries: MulT computes
// C = A·Bᵀ, c[i*n+j] = Σ_t a[i*k+t]·b[j*k+t] for i < m, j < n, where A
// (m×k) holds the queries and B (n×k) a block of gallery rows, all
// row-major and dense. Search calls it from several goroutines at once, on
// disjoint blocks. It is cblas_sgemm(RowMajor, NoTrans, Trans, m, n, k, 1,
// a, k, b, k, 0, c, n), so a BLAS or GPU implementation can replace
// GoKernel. A kernel that can fail (a device's) returns the error, and
// Search stops and returns it.
type Kernel interface {
	MulT(m, n, k int, a, b, c []float32) error
}

// KernelFunc makes a function that cannot fail a Kernel:
// Options{Kernel: KernelFunc(GoKernel)}.
type KernelFunc func(m, n, k int, a, b, c []float32)

// MulT calls f.
func (f KernelFunc) MulT(m, n, k int, a, b, c []float32) error {
	f(m, n, k, a, b, c)
	return nil
}

// Scanner is a Kernel that runs a whole search itself, as a device does
// that keeps the gallery in its own memory and picks each block's best
// rows there, so that only candidates come back. Search hands a Scanner
// the queries normalised to unit length (q, row-major, len(q)/g.Dim() of
// them, at least one) and returns what Scan returns, which must be what
// Search returns with GoKernel: each query's k best rows by Hit order
// (see Top), rows of g.InvNorms() zero left out.
type Scanner interface {
	Kernel
	Scan(ctx context.Context, g *Gallery, q []float32, k int) ([][]Hit, error)
}

// GoKernel is the portable kernel (Search's default, as
// KernelFunc(GoKernel)): tiles of one query × 8 rows, with the 8 sums in
// registers, taken rows outer and queries inner so that the 8 rows (16 KB
// at 512-d) stay in the L1 cache while every query passes over them.
// (Wider tiles are slower: Go's register allocator spills 4×4 and 2×4
// tiles' accumulators.) Every c[i*n+j] is summed over t in order, in
// every code path, so a score does not depend on where a block or tile
// boundary falls.
func GoKernel(m, n, k int, a, b, c []float32) {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	j := 0
	for ; j+8 <= n; j += 8 {
		bj := b[j*k : (j+8)*k]
		for i := range m {
			tile1x8(a[i*k:(i+1)*k], bj, c[i*n+j:i*n+j+8])
		}
	}
	for ; j < n; j++ {
		bj := b[j*k : (j+1)*k]
		for i := range m {
			c[i*n+j] = dot(a[i*k:(i+1)*k], bj)
		}
	}
}

// tile1x8 writes the scores of query a against the 8 rows of b (each
// len(a) long) into c[:8].
func tile1x8(a, b, c []float32) {
	k := len(a)
	b0, b1, b2, b3 := b[:k], b[k:2*k], b[2*k:3*k], b[3*k:4*k]
	b4, b5, b6, b7 := b[4*k:5*k], b[5*k:6*k], b[6*k:7*k], b[7*k:8*k]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for t, q := range a {
		s0 += q * b0[t]
		s1 += q * b1[t]
		s2 += q * b2[t]
		s3 += q * b3[t]
		s4 += q * b4[t]
		s5 += q * b5[t]
		s6 += q * b6[t]
		s7 += q * b7[t]
	}
	c = c[:8]
	c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = s0, s1, s2, s3, s4, s5, s6, s7
}

// dot sums a[t]·b[t] over t in order.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for t, q := range a {
		s += q * b[t]
	}
	return s
}
