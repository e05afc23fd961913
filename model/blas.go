package model

/*
#cgo LDFLAGS: -lopenblas
#cgo CFLAGS: -O3
#include <cblas.h>
#include <xmmintrin.h>

// OpenBLAS runs on as many threads as the engine passes, in practice one (we
// split work across goroutines), so the FTZ/DAZ bits set here cover the
// whole call. They are restored afterwards because the thread goes back to
// running Go code, which expects IEEE behaviour. Denormals cost ~5x on this
// CPU and carry no information in a network's activations.
//
// OpenBLAS keeps its thread count process-wide; each call states the count
// it needs and sets it only when it differs (a read of one int otherwise;
// lowering the count is safe while other threads run OpenBLAS).
static void blas_threads(int threads) {
	if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

static void sgemm_ftz(int threads, int ta, int tb, int m, int n, int k, float alpha,
		const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	blas_threads(threads);
	unsigned int csr = _mm_getcsr();
	_mm_setcsr(csr | 0x8040);
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	_mm_setcsr(csr);
}

static void dgemm_rm(int threads, int ta, int tb, int m, int n, int k, double alpha,
		const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
	blas_threads(threads);
	cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import "unsafe"

// blasThreads is the OpenBLAS thread count the engine runs every product
// with: one, because the engine parallelises across goroutines itself, and
// OpenBLAS's own pool would both oversubscribe the cores and run without
// our denormal flushing. It is passed with each call, so no package state
// records whether OpenBLAS was set up.
const blasThreads = 1

func b2i(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices, where
// op transposes when ta/tb are set; c is m×n and the inner dimension is k.
func gemm[T float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch c := any(c).(type) {
	case []float32:
		a, b := any(a).([]float32), any(b).([]float32)
		C.sgemm_ftz(blasThreads, b2i(ta), b2i(tb), C.int(m), C.int(n), C.int(k), C.float(alpha),
			(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
			C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
	case []float64:
		a, b := any(a).([]float64), any(b).([]float64)
		C.dgemm_rm(blasThreads, b2i(ta), b2i(tb), C.int(m), C.int(n), C.int(k), C.double(alpha),
			(*C.double)(unsafe.Pointer(&a[0])), C.int(lda), (*C.double)(unsafe.Pointer(&b[0])), C.int(ldb),
			C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
	}
}

// openBLASThreads is OpenBLAS's thread count now, for tests.
func openBLASThreads() int { return int(C.openblas_get_num_threads()) }
