package model

/*
#cgo CFLAGS: -O3
#include <string.h>
#include "kernels.h"

// Hot loops are compiled for x86-64-v4 (AVX-512), v3 (AVX2 and FMA) and
// baseline x86-64; the loader picks the best the CPU has, so one binary
// runs everywhere. Naming the levels, not "avx512f" and "avx2", matters for
// the numbers: GCC contracts a*b+c into a fused multiply-add only where the
// target has FMA, which "avx512f" has for 512-bit and scalar code but not
// for the 256-bit tail of a vectorised loop, and "avx2" not at all; so an
// output's rounding depended on its column. With the levels, every
// multiply-add of a v3 or v4 machine is fused, wherever it falls.
#define MULTIARCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

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
// their channel's bias, the activation and, when res is given, the
// residual (laid out as y) added, while still in cache: the same
// operations in the same order as separate passes, in one.
MULTIARCH static void epilogue_f32(float *restrict y, long ld, int m0, int rows, int cols,
		const float *restrict bias, const float *restrict slope, int act, const float *restrict res) {
	if (!bias && !act && !res) return;
	FTZ_BEGIN
	for (int r = 0; r < rows; r++) {
		float *restrict row = y + r * ld;
		float b = bias ? bias[m0 + r] : 0, s = slope ? slope[m0 + r] : 0;
		const float *restrict rr = res ? res + r * ld : 0;
		for (int i = 0; i < cols; i++) {
			float v = row[i];
			if (bias) v += b;
			if (act == 1) v = v > 0 ? v : 0;
			else if (act == 2) v = v > 0 ? v : s * v;
			if (res) v += rr[i];
			row[i] = v;
		}
	}
	FTZ_END
}

// 3×3 depthwise convolutions (dilation 1), the common case. Each plane is
// taken in bands of output rows; a band's input rows are copied into a
// zero-padded buffer, after which every output is nine multiply-adds at
// fixed offsets from its own index in the buffer. Wide rows are computed
// row by row straight into the output. Narrow ones (planes of 7 to 28,
// narrower than two vectors) are computed as one flat run over the band,
// outputs and the few junk columns between rows alike, so the loop runs
// full-width vectors, and then copied out row by row.

// Floats of buffer per band: well inside L1.
#define DW_BAND 4096

// out[q] = b + k0·t0[q] + … + k8·t8[q], always in this order.
static inline void taps9(float *restrict out, long n, const float *const t[9], const float *k, float b) {
	const float *t0 = t[0], *t1 = t[1], *t2 = t[2], *t3 = t[3], *t4 = t[4], *t5 = t[5], *t6 = t[6], *t7 = t[7], *t8 = t[8];
	float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8];
	for (long q = 0; q < n; q++)
		out[q] = b + k0 * t0[q] + k1 * t1[q] + k2 * t2[q] + k3 * t3[q] + k4 * t4[q]
			+ k5 * t5[q] + k6 * t6[q] + k7 * t7[q] + k8 * t8[q];
}

// taps9 over a band of rows rows of ow outputs, whose outputs lie ld apart
// in the band's buffers, into y (rows ow apart); tmp holds rows·ld floats.
static inline void band_out(float *restrict y, float *restrict tmp, int rows, int ow, int ld,
		const float *const t[9], const float *k, float b, int act, float s) {
	if (ow >= 32) {
		for (int r = 0; r < rows; r++) {
			const float *tr[9];
			for (int i = 0; i < 9; i++) tr[i] = t[i] + (long)r * ld;
			taps9(y + (long)r * ow, ow, tr, k, b);
			activate(y + (long)r * ow, ow, act, s);
		}
		return;
	}
	long n = (long)rows * ld;
	taps9(tmp, n, t, k, b);
	activate(tmp, n, act, s);
	for (int r = 0; r < rows; r++) memcpy(y + (long)r * ow, tmp + (long)r * ld, ow * sizeof(float));
}

// Stride 1: the buffer holds a band's rows of the padded plane (wp wide);
// output (oy, ox) of the band is at q = oy*wp + ox and reads q + i*wp + j.
MULTIARCH static void dw3x3s1_f32(const float *restrict x, const float *restrict wt,
		const float *restrict bias, const float *restrict slope, int act, float *restrict y,
		int channels, int h, int w, int pt, int pl, int oh, int ow, int c0, int c1) {
	FTZ_BEGIN
	int wp = ow + 2;
	int band = DW_BAND / wp - 2;
	if (band < 1) band = 1;
	if (band > oh) band = oh;
	float pad[(band + 2) * wp + 2]; // +2: the last junk outputs read past the band
	float tmp[ow >= 32 ? 1 : band * wp];
	for (int i = 0; i < (band + 2) * wp + 2; i++) pad[i] = 0;
	const float *t[9] = {pad, pad + 1, pad + 2, pad + wp, pad + wp + 1, pad + wp + 2, pad + 2 * wp, pad + 2 * wp + 1, pad + 2 * wp + 2};
	for (int pc = c0; pc < c1; pc++) {
		int c = pc % channels;
		const float *xp = x + (long)pc * h * w;
		for (int r0 = 0; r0 < oh; r0 += band) {
			int rows = oh - r0 < band ? oh - r0 : band;
			// The padding columns stay zero; only input columns are written.
			for (int r = 0; r < rows + 2; r++) {
				int iy = r0 + r - pt;
				float *dst = pad + r * wp + pl;
				if (iy < 0 || iy >= h) memset(dst, 0, w * sizeof(float));
				else memcpy(dst, xp + (long)iy * w, w * sizeof(float));
			}
			band_out(y + (long)pc * oh * ow + (long)r0 * ow, tmp, rows, ow, wp, t, wt + (long)c * 9,
				bias ? bias[c] : 0, act, slope ? slope[c] : 0);
		}
	}
	FTZ_END
}

// Stride 2: the band's padded rows are split by row and column parity into
// four phase buffers, half = ow+1 wide, so that output (oy, ox) of the band
// is at q = oy*half + ox and each tap reads one phase at q, q+1, q+half or
// q+half+1.
MULTIARCH static void dw3x3s2_f32(const float *restrict x, const float *restrict wt,
		const float *restrict bias, const float *restrict slope, int act, float *restrict y,
		int channels, int h, int w, int pt, int pl, int oh, int ow, int c0, int c1) {
	FTZ_BEGIN
	int half = ow + 1, wp = 2 * half;
	int band = DW_BAND / wp - 1;
	if (band < 1) band = 1;
	if (band > oh) band = oh;
	int plen = (band + 1) * half + 1;
	float ee[plen], eo[plen], oe[plen], oo[plen]; // row parity, column parity
	float row[wp];
	float tmp[ow >= 32 ? 1 : band * half];
	for (int i = 0; i < wp; i++) row[i] = 0;
	const float *t[9] = {ee, eo, ee + 1, oe, oo, oe + 1, ee + half, eo + half, ee + half + 1};
	for (int pc = c0; pc < c1; pc++) {
		int c = pc % channels;
		const float *xp = x + (long)pc * h * w;
		for (int r0 = 0; r0 < oh; r0 += band) {
			int rows = oh - r0 < band ? oh - r0 : band;
			// Padded rows 2*r0 .. 2*(r0+rows): even ones go to ee/eo, odd ones to oe/oo.
			for (int r = 0; r <= 2 * rows; r++) {
				int iy = 2 * r0 + r - pt;
				if (iy < 0 || iy >= h) memset(row + pl, 0, w * sizeof(float));
				else memcpy(row + pl, xp + (long)iy * w, w * sizeof(float));
				float *e = (r & 1 ? oe : ee) + (r / 2) * half, *o = (r & 1 ? oo : eo) + (r / 2) * half;
				for (int i = 0; i < half; i++) {
					e[i] = row[2 * i];
					o[i] = row[2 * i + 1];
				}
			}
			ee[(rows + 1) * half] = 0; // read by the band's last junk output
			oe[rows * half] = 0;
			band_out(y + (long)pc * oh * ow + (long)r0 * ow, tmp, rows, ow, half, t, wt + (long)c * 9,
				bias ? bias[c] : 0, act, slope ? slope[c] : 0);
		}
	}
	FTZ_END
}

// A depthwise kernel as large as its unpadded input (a global depthwise
// convolution, one output per plane), as a dot product per plane. Eight
// planes at a time keep eight independent sums in flight; each sum runs
// in the order of the generic kernel.
MULTIARCH static void dwglobal_f32(const float *restrict x, const float *restrict wt,
		const float *restrict bias, const float *restrict slope, int act, float *restrict y,
		int channels, int taps, int c0, int c1) {
	FTZ_BEGIN
	for (int p0 = c0; p0 < c1; p0 += 8) {
		int np = c1 - p0 < 8 ? c1 - p0 : 8;
		float acc[8];
		for (int u = 0; u < np; u++) {
			int c = (p0 + u) % channels;
			acc[u] = bias ? bias[c] : 0;
		}
		for (int t = 0; t < taps; t++)
			for (int u = 0; u < np; u++) {
				int c = (p0 + u) % channels;
				acc[u] += wt[(long)c * taps + t] * x[(long)(p0 + u) * taps + t];
			}
		for (int u = 0; u < np; u++) {
			int c = (p0 + u) % channels;
			activate(&acc[u], 1, act, slope ? slope[c] : 0);
			y[p0 + u] = acc[u];
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
					int x0, x1;
					tap_range(off, sw, w, ow, &x0, &x1);
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

// dwPath is the kernel depthwiseFast takes for a geometry.
type dwPath int

const (
	dwGeneric dwPath = iota
	dw3x3S1          // 3×3, stride 1
	dw3x3S2          // 3×3, stride 2
	dwGlobal         // kernel as large as the unpadded input
)

func depthwisePath(g *convGeom) dwPath {
	switch {
	case g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && g.sh == 1 && g.sw == 1:
		return dw3x3S1
	case g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && g.sh == 2 && g.sw == 2:
		return dw3x3S2
	case g.kh == g.h && g.kw == g.w && g.dh == 1 && g.dw == 1 && g.pt+g.pl+g.pb+g.pr == 0:
		return dwGlobal
	}
	return dwGeneric
}

func depthwiseFast(g *convGeom, act activation, x, w, b, slope, y []float32, c0, c1 int) {
	switch depthwisePath(g) {
	case dw3x3S1:
		C.dw3x3s1_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c),
			C.int(g.h), C.int(g.w), C.int(g.pt), C.int(g.pl), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
	case dw3x3S2:
		C.dw3x3s2_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c),
			C.int(g.h), C.int(g.w), C.int(g.pt), C.int(g.pl), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
	case dwGlobal:
		C.dwglobal_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c),
			C.int(g.kh*g.kw), C.int(c0), C.int(c1))
	default:
		C.dwconv_f32(f32p(x), f32p(w), f32p(b), f32p(slope), C.int(act), f32p(y), C.int(g.c), C.int(g.h), C.int(g.w),
			C.int(g.kh), C.int(g.kw), C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl),
			C.int(g.dh), C.int(g.dw), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
	}
}

func binarySameFast(fn binaryFn, a, b, y []float32, lo, hi int) {
	C.binary_same_f32(C.int(fn), f32p(a[lo:hi]), f32p(b[lo:hi]), f32p(y[lo:hi]), C.long(hi-lo))
}

func preluPlanesFast(x, s, y []float32, channels, plane, p0, p1 int) {
	C.prelu_planes_f32(f32p(x), f32p(s), f32p(y), C.int(channels), C.long(plane), C.long(p0), C.long(p1))
}

func epilogueFast(y []float32, ld, m0, rows, cols int, bias, slope []float32, act activation, res []float32) {
	C.epilogue_f32(f32p(y), C.long(ld), C.int(m0), C.int(rows), C.int(cols), f32p(bias), f32p(slope), C.int(act), f32p(res))
}
