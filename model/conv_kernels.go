package model

/*
#cgo CFLAGS: -O3
#include <xmmintrin.h>

// im2col for one image and one channel group, restricted to output columns
// [p0,p1): col is (cg*kh*kw) x (p1-p0), row-major. Rows are filled by runs
// of output x so the inner loop is a strided copy the compiler vectorises.
static void im2col_f32(const float *x, int cg, int h, int w, int kh, int kw,
		int sh, int sw, int pt, int pl, int dh, int dw, int oh, int ow,
		int p0, int p1, float *col) {
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

// Depthwise convolution of planes [c0,c1) of one image batch laid out as
// consecutive planes (plane index = n*channels + c). Each output plane starts
// from its bias and accumulates one kernel tap at a time over whole rows.
static void dwconv_f32(const float *x, const float *wt, const float *bias, float *y,
		int channels, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl,
		int dh, int dw, int oh, int ow, int c0, int c1) {
	unsigned int csr = _mm_getcsr();
	_mm_setcsr(csr | 0x8040);
	for (int pc = c0; pc < c1; pc++) {
		int c = pc % channels;
		const float *xp = x + (long)pc * h * w;
		float *yp = y + (long)pc * oh * ow;
		float b = bias ? bias[c] : 0;
		for (int t = 0; t < oh * ow; t++) yp[t] = b;
		for (int i = 0; i < kh; i++) {
			for (int j = 0; j < kw; j++) {
				float k = wt[(c * kh + i) * kw + j];
				// output x range whose input x stays inside the image
				int off = j * dw - pl;
				int x0 = off < 0 ? (-off + sw - 1) / sw : 0;
				int x1 = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / sw + 1;
				if (x1 > ow) x1 = ow;
				for (int oy = 0; oy < oh; oy++) {
					int iy = oy * sh - pt + i * dh;
					if (iy < 0 || iy >= h) continue;
					const float *src = xp + (long)iy * w + off;
					float *dst = yp + (long)oy * ow;
					if (sw == 1) {
						for (int ox = x0; ox < x1; ox++) dst[ox] += k * src[ox];
					} else {
						for (int ox = x0; ox < x1; ox++) dst[ox] += k * src[ox * sw];
					}
				}
			}
		}
	}
	_mm_setcsr(csr);
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

func depthwiseFast(g *convGeom, x, w, b, y []float32, c0, c1 int) {
	C.dwconv_f32(f32p(x), f32p(w), f32p(b), f32p(y), C.int(g.c), C.int(g.h), C.int(g.w),
		C.int(g.kh), C.int(g.kw), C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl),
		C.int(g.dh), C.int(g.dw), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
}
