package model

// Backend-neutral descriptions of kernels that every device backend maps to
// its own primitives the same way.

// gemmCall is one matrix product C = alpha·op(A)·op(B) over a kernel's
// inputs a and b, row-major, as package model's gemm takes it.
type gemmCall struct {
	ta, tb        bool
	m, n, k       int
	alpha         float64
	a, b          int // input positions of the operands
	lda, ldb, ldc int
}

// matmulCall is the product a matmulKernel or matmulGrad computes (see
// matmulBackward): inputs (A, B) forward, (A, B, Y, dY) backward.
func matmulCall(k kernel) gemmCall {
	switch k := k.(type) {
	case matmulKernel:
		return gemmCall{k.ta, k.tb, k.m, k.n, k.k, k.alpha, 0, 1, k.lda(), k.ldb(), k.n}
	case matmulGrad:
		mk := k.k
		switch {
		case k.wrt == 0 && !mk.ta: // dA (m×k) = dY·op(B)ᵀ
			return gemmCall{false, !mk.tb, mk.m, mk.k, mk.n, mk.alpha, 3, 1, mk.n, mk.ldb(), mk.k}
		case k.wrt == 0: // dA (k×m) = op(B)·dYᵀ
			return gemmCall{mk.tb, true, mk.k, mk.m, mk.n, mk.alpha, 1, 3, mk.ldb(), mk.n, mk.m}
		case !mk.tb: // dB (k×n) = op(A)ᵀ·dY
			return gemmCall{!mk.ta, false, mk.k, mk.n, mk.m, mk.alpha, 0, 3, mk.lda(), mk.n, mk.n}
		default: // dB (n×k) = dYᵀ·op(A)
			return gemmCall{true, mk.ta, mk.n, mk.k, mk.m, mk.alpha, 3, 0, mk.n, mk.lda(), mk.k}
		}
	}
	panic("matmulCall: not a matrix product")
}
