package model

/*
#cgo CFLAGS: -O3
#include <xmmintrin.h>

// Hot loops are compiled for AVX-512, AVX2 and baseline x86-64; the loader
// picks the best the CPU has, so one binary runs everywhere.
#define MULTIARCH __attribute__((target_clones("avx512f", "avx2", "default")))
#define FTZ_BEGIN unsigned int csr_ = _mm_getcsr(); _mm_setcsr(csr_ | 0x8040);
#define FTZ_END _mm_setcsr(csr_);

// im2col for one image and one channel group, restricted to output columns
// [p0,p1): col is (cg*kh*kw) x (p1-p0), row-major. Rows are filled by runs
// of output x so the inner loop is a strided copy the compiler vectorises.
MULTIARCH static void im2col_f32(const float *restrict x, int cg, int h, int w, int kh, int kw,
		int sh, int sw, int pt, int pl, int dh, int dw, int oh, int ow,
		int p0, int p1, float *restrict col) {
	int ncol = p1 - p0;
	for (int c = 0; c < cg; c++) {
		const float *xc = x + (long)c * h * w;
		for (int i = 0; i < kh; i++) {
			for (int j = 0; j < kw; j++) {
				float *row = col + (long)((c * kh + i) * kw + j) * ncol;
				for (int p = p0; p < p1;) {
					int oy = p / ow, ox = p % ow;
					int end = p1 - p < ow - ox ? p1 - p : ow - ox; // run within this output row
					int iy = oy * sh - pt + i * dh;
					float *dst = row + (p - p0);
					if (iy < 0 || iy >= h) {
						for (int t = 0; t < end; t++) dst[t] = 0;
					} else {
						const float *src = xc + (long)iy * w;
						for (int t = 0; t < end; t++) {
							int ix = (ox + t) * sw - pl + j * dw;
							dst[t] = (ix >= 0 && ix < w) ? src[ix] : 0;
						}
					}
					p += end;
				}
			}
		}
	}
}

// Activations fused into convolutions: 0 none, 1 ReLU, 2 PReLU.
static inline void activate(float *restrict y, long n, int act, float slope) {
	if (act == 1) {
		for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
	} else if (act == 2) {
		for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : slope * y[i];
	}
}

// Rows [m0, m0+rows) of a GEMM result block (cols wide, row stride ld) get
// their channel's bias and activation while still in cache.
MULTIARCH static void epilogue_f32(float *restrict y, long ld, int m0, int rows, int cols,
		const float *restrict bias, const float *restrict slope, int act) {
	FTZ_BEGIN
	for (int r = 0; r < rows; r++) {
		float *restrict row = y + r * ld;
		if (bias) {
			float b = bias[m0 + r];
			for (int i = 0; i < cols; i++) row[i] += b;
		}
		activate(row, cols, act, slope ? slope[m0 + r] : 0);
	}
	FTZ_END
}

// 3×3 depthwise convolution (dilation 1, stride 1 or 2), the common case:
// each plane is copied once into a zero-padded buffer, split into even and
// odd columns for stride 2, so that every output row is nine contiguous
// multiply-adds per pixel with no bounds checks, which vectorise.
MULTIARCH static void dw3x3_f32(const float *restrict x, const float *restrict wt,
		const float *restrict bias, const float *restrict slope, int act, float *restrict y,
		int channels, int h, int w, int sh, int sw, int pt, int pl, int pb, int pr,
		int oh, int ow, int c0, int c1) {
	FTZ_BEGIN
	int hp = h + pt + pb, wp = w + pl + pr;
	int half = (wp + 1) / 2; // columns per phase when sw == 2
	float pad[hp * wp];
	float phase[sw == 2 ? 2 * hp * half : 1];
	for (int i = 0; i < hp * wp; i++) pad[i] = 0;
	for (int pc = c0; pc < c1; pc++) {
		int c = pc % channels;
		const float *xp = x + (long)pc * h * w;
		for (int r = 0; r < h; r++) {
			float *dst = pad + (r + pt) * wp + pl;
			const float *src = xp + (long)r * w;
			for (int t = 0; t < w; t++) dst[t] = src[t];
		}
		const float *k = wt + (long)c * 9;
		float b = bias ? bias[c] : 0;
		float *yp = y + (long)pc * oh * ow;
		if (sw == 1) {
			for (int oy = 0; oy < oh; oy++) {
				const float *r0 = pad + oy * sh * wp, *r1 = r0 + wp, *r2 = r1 + wp;
				float *restrict dst = yp + (long)oy * ow;
				for (int ox = 0; ox < ow; ox++)
					dst[ox] = b + k[0] * r0[ox] + k[1] * r0[ox + 1] + k[2] * r0[ox + 2]
						+ k[3] * r1[ox] + k[4] * r1[ox + 1] + k[5] * r1[ox + 2]
						+ k[6] * r2[ox] + k[7] * r2[ox + 1] + k[8] * r2[ox + 2];
				activate(dst, ow, act, slope ? slope[c] : 0);
			}
		} else {
			float *even = phase, *odd = phase + hp * half;
			for (int r = 0; r < hp; r++) {
				const float *src = pad + r * wp;
				for (int t = 0; t < half; t++) {
					even[r * half + t] = 2 * t < wp ? src[2 * t] : 0;
					odd[r * half + t] = 2 * t + 1 < wp ? src[2 * t + 1] : 0;
				}
			}
			for (int oy = 0; oy < oh; oy++) {
				const float *e0 = even + oy * sh * half, *e1 = e0 + half, *e2 = e1 + half;
				const float *o0 = odd + oy * sh * half, *o1 = o0 + half, *o2 = o1 + half;
				float *restrict dst = yp + (long)oy * ow;
				for (int ox = 0; ox < ow; ox++)
					dst[ox] = b + k[0] * e0[ox] + k[1] * o0[ox] + k[2] * e0[ox + 1]
						+ k[3] * e1[ox] + k[4] * o1[ox] + k[5] * e1[ox + 1]
						+ k[6] * e2[ox] + k[7] * o2[ox] + k[8] * e2[ox + 1];
				activate(dst, ow, act, slope ? slope[c] : 0);
			}
		}
	}
	FTZ_END
}

// Depthwise convolution of planes [c0,c1) of one batch laid out as
// consecutive planes (plane index = n*channels + c). Each output row takes
// all kernel taps while it sits in L1. For strides above one, each input row
// is first split into its stride phases, so that every tap reads a
// contiguous run and the inner loop vectorises.
MULTIARCH static void dwconv_f32(const float *restrict x, const float *restrict wt,
		const float *restrict bias, const float *restrict slope, int act, float *restrict y,
		int channels, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl,
		int dh, int dw, int oh, int ow, int c0, int c1) {
	FTZ_BEGIN
	float phases[w + sw];
	for (int pc = c0; pc < c1; pc++) {
		int c = pc % channels;
		const float *xp = x + (long)pc * h * w;
		const float *kc = wt + (long)c * kh * kw;
		float b = bias ? bias[c] : 0;
		for (int oy = 0; oy < oh; oy++) {
			float *restrict dst = y + (long)pc * oh * ow + (long)oy * ow;
			for (int ox = 0; ox < ow; ox++) dst[ox] = b;
			for (int i = 0; i < kh; i++) {
				int iy = oy * sh - pt + i * dh;
				if (iy < 0 || iy >= h) continue;
				const float *row = xp + (long)iy * w;
				int plen = (w + sw - 1) / sw; // length of phase 0, the longest
				if (sw > 1) {
					for (int q = 0; q < sw; q++)
						for (int t = 0; q + t * sw < w; t++) phases[q * plen + t] = row[q + t * sw];
				}
				for (int j = 0; j < kw; j++) {
					float k = kc[i * kw + j];
					int off = j * dw - pl;
					// output x range whose input x = ox*sw + off stays inside the row
					int x0 = off < 0 ? (-off + sw - 1) / sw : 0;
					int x1 = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / sw + 1;
					if (x1 > ow) x1 = ow;
					const float *restrict src;
					if (sw == 1) {
						src = row + off;
					} else {
						int q = ((off % sw) + sw) % sw;
						src = phases + q * plen + (off - q) / sw;
					}
					for (int ox = x0; ox < x1; ox++) dst[ox] += k * src[ox];
				}
			}
			activate(dst, ow, act, slope ? slope[c] : 0);
		}
	}
	FTZ_END
}

// Elementwise kernels over whole tensors, flushing denormals: PReLU's
// negative side multiplies small activations by small slopes, which is
// where subnormal values would otherwise appear.
MULTIARCH static void binary_same_f32(int op, const float *restrict a, const float *restrict b,
		float *restrict y, long n) {
	FTZ_BEGIN
	switch (op) {
	case 0: for (long i = 0; i < n; i++) y[i] = a[i] + b[i]; break;
	case 1: for (long i = 0; i < n; i++) y[i] = a[i] - b[i]; break;
	case 2: for (long i = 0; i < n; i++) y[i] = a[i] * b[i]; break;
	case 3: for (long i = 0; i < n; i++) y[i] = a[i] / b[i]; break;
	}
	FTZ_END
}

// Planes [p0,p1) of an N×C×plane tensor: y = x > 0 ? x : s[c]·x.
MULTIARCH static void prelu_planes_f32(const float *restrict x, const float *restrict s,
		float *restrict y, int channels, long plane, long p0, long p1) {
	FTZ_BEGIN
	for (long p = p0; p < p1; p++) {
		float k = s[p % channels];
		const float *restrict xp = x + p * plane;
		float *restrict yp = y + p * plane;
		for (long i = 0; i < plane; i++) yp[i] = xp[i] > 0 ? xp[i] : k * xp[i];
	}
	FTZ_END
}

*/
import "C"

import "unsafe"

func f32p(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

func im2colFast(g *convGeom, x []float32, p0, p1 int, col []float32) {
	C.im2col_f32(f32p(x), C.int(g.c/g.group), C.int(g.h), C.int(g.w), C.int(g.kh), C.int(g.kw),
		C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl), C.int(g.dh), C.int(g.dw),
		C.int(g.oh), C.int(g.ow), C.int(p0), C.int(p1), f32p(col))
}

func depthwiseFast(g *convGeom, act activation, x, w, b, slope, y []float32, c0, c1 int) {
	// The padded plane lives on the C stack: keep the fast path to sizes
	// where that is a few hundred kilobytes at most.
	if g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && (g.sw == 1 || g.sw == 2) &&
		(g.h+g.pt+g.pb)*(g.w+g.pl+g.pr) <= 64*1024 {
		C.dw3x3_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c),
			C.int(g.h), C.int(g.w), C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl), C.int(g.pb), C.int(g.pr),
			C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
		return
	}
	C.dwconv_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c), C.int(g.h), C.int(g.w),
		C.int(g.kh), C.int(g.kw), C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl),
		C.int(g.dh), C.int(g.dw), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
}

func binarySameFast(fn binaryFn, a, b, y []float32, lo, hi int) {
	C.binary_same_f32(C.int(fn), f32p(a[lo:hi]), f32p(b[lo:hi]), f32p(y[lo:hi]), C.long(hi-lo))
}

func preluPlanesFast(x, s, y []float32, channels, plane, p0, p1 int) {
	C.prelu_planes_f32(f32p(x), f32p(s), f32p(y), C.int(channels), C.long(plane), C.long(p0), C.long(p1))
}

func epilogueFast(y []float32, ld, m0, rows, cols int, bias, slope []float32, act activation) {
	C.epilogue_f32(f32p(y), C.long(ld), C.int(m0), C.int(rows), C.int(cols), f32p(bias), f32p(slope), C.int(act))
}
