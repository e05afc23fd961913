// Package blaskernel is a gallery.Kernel on OpenBLAS's sgemm (cgo), for
// commands that link OpenBLAS anyway (the face engine does).
package blaskernel

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// c = a·bᵀ: a is m×k (queries), b is n×k (gallery rows), c is m×n.
static void sgemm_nt(int m, int n, int k, const float *a, const float *b, float *c) {
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
}

static void single_threaded(void) { openblas_set_num_threads(1); }
*/
import "C"

import (
	"fmt"

	"github.com/maskinv/workbench/gallery"
)

// New returns the kernel. It pins OpenBLAS to one thread (for the whole
// process, as the face engine also does): gallery.Search runs one call per
// goroutine, and OpenBLAS's own threads would oversubscribe the cores.
// Call it before searching, not while other goroutines use OpenBLAS.
// Unlike gallery.GoKernel, sgemm's order of summation may depend on the
// block's size, so scores can differ in the last bit between block sizes.
func New() gallery.Kernel {
	C.single_threaded()
	return gallery.KernelFunc(func(m, n, k int, a, b, c []float32) {
		if m == 0 || n == 0 {
			return
		}
		if len(a) < m*k || len(b) < n*k || len(c) < m*n {
			panic(fmt.Sprintf("blaskernel: %d×%d·(%d×%d)ᵀ with %d, %d, %d values", m, k, n, k, len(a), len(b), len(c)))
		}
		C.sgemm_nt(C.int(m), C.int(n), C.int(k), (*C.float)(&a[0]), (*C.float)(&b[0]), (*C.float)(&c[0]))
	})
}
