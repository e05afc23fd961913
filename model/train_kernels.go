package model

/*
#cgo CFLAGS: -O3
#include "kernels.h"

#define MULTIARCH __attribute__((target_clones("avx512f", "avx2", "default")))

// Gradient of a depthwise convolution with respect to its input, for
// planes [p0,p1) (plane = n*channels + c): every output pixel's gradient is
// scattered back through the kernel taps, row by row, with the same valid
// ranges as the forward kernel dwconv_f32.
MULTIARCH static void dw_back_x_f32(const float *restrict wt, const float *restrict dy, float *restrict dx,
		int channels, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl,
		int dh, int dw, int oh, int ow, int p0, int p1) {
	FTZ_BEGIN
	for (int pc = p0; pc < p1; pc++) {
		int c = pc % channels;
		float *dxp = dx + (long)pc * h * w;
		const float *dyp = dy + (long)pc * oh * ow;
		const float *kc = wt + (long)c * kh * kw;
		for (long i = 0; i < (long)h * w; i++) dxp[i] = 0;
		for (int oy = 0; oy < oh; oy++) {
			const float *restrict src = dyp + (long)oy * ow;
			for (int i = 0; i < kh; i++) {
				int iy = oy * sh - pt + i * dh;
				if (iy < 0 || iy >= h) continue;
				float *row = dxp + (long)iy * w;
				for (int j = 0; j < kw; j++) {
					float k = kc[i * kw + j];
					int off = j * dw - pl;
					int x0, x1;
					tap_range(off, sw, w, ow, &x0, &x1);
					if (sw == 1) {
						float *restrict d = row + off;
						for (int ox = x0; ox < x1; ox++) d[ox] += k * src[ox];
					} else {
						for (int ox = x0; ox < x1; ox++) row[ox * sw + off] += k * src[ox];
					}
				}
			}
		}
	}
	FTZ_END
}

// Gradient of a depthwise convolution with respect to its weights, for
// channels [c0,c1), summed over the n images of the batch.
MULTIARCH static void dw_back_w_f32(const float *restrict x, const float *restrict dy, float *restrict dwt,
		int n, int channels, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl,
		int dh, int dw, int oh, int ow, int c0, int c1) {
	FTZ_BEGIN
	float acc[kh * kw];
	for (int c = c0; c < c1; c++) {
		for (int t = 0; t < kh * kw; t++) acc[t] = 0;
		for (int b = 0; b < n; b++) {
			long pc = (long)b * channels + c;
			const float *xp = x + pc * h * w;
			const float *dyp = dy + pc * oh * ow;
			for (int oy = 0; oy < oh; oy++) {
				const float *restrict src = dyp + (long)oy * ow;
				for (int i = 0; i < kh; i++) {
					int iy = oy * sh - pt + i * dh;
					if (iy < 0 || iy >= h) continue;
					const float *row = xp + (long)iy * w;
					for (int j = 0; j < kw; j++) {
						int off = j * dw - pl;
						int x0, x1;
						tap_range(off, sw, w, ow, &x0, &x1);
						float s = 0;
						if (sw == 1) {
							const float *restrict r = row + off;
							for (int ox = x0; ox < x1; ox++) s += src[ox] * r[ox];
						} else {
							for (int ox = x0; ox < x1; ox++) s += src[ox] * row[ox * sw + off];
						}
						acc[i * kw + j] += s;
					}
				}
			}
		}
		for (int t = 0; t < kh * kw; t++) dwt[(long)c * kh * kw + t] = acc[t];
	}
	FTZ_END
}

// PReLU backward over planes [p0,p1) of an N×C×plane tensor:
// dx = dy where x > 0, else slope·dy.
MULTIARCH static void prelu_back_x_f32(const float *restrict x, const float *restrict s,
		const float *restrict dy, float *restrict dx, int channels, long plane, long p0, long p1) {
	FTZ_BEGIN
	for (long p = p0; p < p1; p++) {
		float k = s[p % channels];
		const float *restrict xp = x + p * plane, *restrict g = dy + p * plane;
		float *restrict d = dx + p * plane;
		for (long i = 0; i < plane; i++) d[i] = xp[i] > 0 ? g[i] : k * g[i];
	}
	FTZ_END
}

// PReLU slope gradient for channels [c0,c1): Σ over x ≤ 0 of dy·x.
MULTIARCH static void prelu_back_s_f32(const float *restrict x, const float *restrict dy,
		float *restrict ds, int n, int channels, long plane, int c0, int c1) {
	FTZ_BEGIN
	for (int c = c0; c < c1; c++) {
		float acc = 0;
		for (int b = 0; b < n; b++) {
			const float *restrict xp = x + ((long)b * channels + c) * plane;
			const float *restrict g = dy + ((long)b * channels + c) * plane;
			for (long i = 0; i < plane; i++) acc += xp[i] > 0 ? 0 : xp[i] * g[i];
		}
		ds[c] = acc;
	}
	FTZ_END
}
*/
import "C"
import "github.com/maskinv/workbench/internal/parallel"

func dwBackXFast(g *convGeom, w, dy, dx []float32, p0, p1 int) {
	C.dw_back_x_f32(f32p(w), f32p(dy), f32p(dx), C.int(g.c), C.int(g.h), C.int(g.w), C.int(g.kh), C.int(g.kw),
		C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl), C.int(g.dh), C.int(g.dw), C.int(g.oh), C.int(g.ow), C.int(p0), C.int(p1))
}

func dwBackWFast(g *convGeom, x, dy, dw []float32, c0, c1 int) {
	C.dw_back_w_f32(f32p(x), f32p(dy), f32p(dw), C.int(g.n), C.int(g.c), C.int(g.h), C.int(g.w), C.int(g.kh), C.int(g.kw),
		C.int(g.sh), C.int(g.sw), C.int(g.pt), C.int(g.pl), C.int(g.dh), C.int(g.dw), C.int(g.oh), C.int(g.ow), C.int(c0), C.int(c1))
}

// convBackX32 is the float32 input gradient: a C kernel for depthwise
// convolutions, one GEMM per image for pointwise ones, else the reference.
func convBackX32(g *convGeom, dx []float32, in [][]float32) {
	w, dy := in[1], in[len(in)-1]
	switch {
	case g.depthwise():
		parallel.For(g.n*g.c, func(lo, hi int) { dwBackXFast(g, w, dy, dx, lo, hi) })
	case g.pointwise() && g.group == 1:
		// dx_n (c×P) = Wᵀ (c×m) · dy_n (m×P)
		p := g.cols()
		parallel.For(g.n, func(lo, hi int) {
			for n := lo; n < hi; n++ {
				gemm(true, false, g.c, p, g.m, 1, w, g.c, dy[n*g.m*p:], p, 0, dx[n*g.c*p:], p)
			}
		})
	default:
		convBackX(g, dx, in)
	}
}

// convBackW32 is the float32 weight gradient: C for depthwise, GEMMs split
// by output channels for pointwise, and im2col + GEMM with one accumulator
// per worker otherwise.
func convBackW32(g *convGeom, dw []float32, in [][]float32) {
	x, dy := in[0], in[len(in)-1]
	switch {
	case g.depthwise():
		parallel.For(g.c, func(lo, hi int) { dwBackWFast(g, x, dy, dw, lo, hi) })
	case g.pointwise() && g.group == 1:
		// dW (m×c) = Σ_n dy_n (m×P) · x_nᵀ (P×c)
		p := g.cols()
		clear(dw)
		parallel.For(g.m, func(lo, hi int) {
			for n := 0; n < g.n; n++ {
				gemm(false, true, hi-lo, g.c, p, 1, dy[(n*g.m+lo)*p:], p, x[n*g.c*p:], p, 1, dw[lo*g.c:], g.c)
			}
		})
	case g.group == 1:
		rows, cols := g.rows(), g.cols()
		workers := min(g.n, 4)
		acc := make([][]float32, workers)
		parallel.For(workers, func(lo, hi int) {
			col := make([]float32, rows*cols+1)
			for wk := lo; wk < hi; wk++ {
				a := make([]float32, len(dw))
				for n := wk; n < g.n; n += workers {
					im2colFast(g, x[n*g.c*g.h*g.w:], 0, cols, col)
					gemm(false, true, g.m, rows, cols, 1, dy[n*g.m*cols:], cols, col, cols, 1, a, rows)
				}
				acc[wk] = a
			}
		})
		clear(dw)
		for _, a := range acc {
			for i, v := range a {
				dw[i] += v
			}
		}
	default:
		convBackW(g, dw, in)
	}
}

// binaryBackward32 adds float32 fast paths for the gradients a training
// graph spends its time in: same-shape Add and per-channel PReLU.
func binaryBackward32(g binaryGrad, d []float32, in [][]float32) {
	k := g.k
	a, b, dy := in[0], in[1], in[3]
	switch {
	case k.fn == fnAdd && k.bc.shapes[0].Eq(k.bc.shapes[1]):
		copy(d, dy)
	case k.fn == fnPRelu && k.perChannel():
		n, c := k.bc.out[0], k.bc.out[1]
		plane := len(a) / (n * c)
		if g.wrt == 0 {
			parallel.For(n*c, func(lo, hi int) {
				C.prelu_back_x_f32(f32p(a), f32p(b), f32p(dy), f32p(d), C.int(c), C.long(plane), C.long(lo), C.long(hi))
			})
		} else {
			parallel.For(c, func(lo, hi int) {
				C.prelu_back_s_f32(f32p(a), f32p(dy), f32p(d), C.int(n), C.int(c), C.long(plane), C.int(lo), C.int(hi))
			})
		}
	default:
		binaryBackward(g, d, in)
	}
}
