// Shared by the C kernels in the cgo preambles of conv_kernels.go and
// train_kernels.go.
#include <xmmintrin.h>

// FTZ_BEGIN and FTZ_END bracket a kernel's body: denormals are flushed to
// zero (FTZ and DAZ) inside it, and the caller's MXCSR is restored after.
#define FTZ_BEGIN unsigned int csr_ = _mm_getcsr(); _mm_setcsr(csr_ | 0x8040);
#define FTZ_END _mm_setcsr(csr_);

// tap_range sets [*x0, *x1) to the output columns ox < ow of a strided
// convolution row whose input column ox*sw + off lies inside the w input
// columns: the columns a kernel tap at offset off reaches.
static inline void tap_range(int off, int sw, int w, int ow, int *x0, int *x1) {
	*x0 = off < 0 ? (-off + sw - 1) / sw : 0;
	*x1 = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / sw + 1;
	if (*x1 > ow) *x1 = ow;
}
