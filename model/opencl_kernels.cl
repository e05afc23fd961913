// OpenCL C 1.2 kernels of the maskinv engine: one per CPU kernel of
// package model (forward, gradient and data movement), built once per
// OpenCL context. Tensors are float32, row-major (NCHW for images).
// Geometry travels in int8 vectors; see opencl_backend.go for each launch.

// ---- tiled matrix products ----
// A work-group of RTS×RTS work-items computes a TS×TS tile of C = A·B,
// each work-item a WPT×WPT block at stride RTS (rows ly + RTS·i, columns
// lx + RTS·j), stepping through K in slices of TK kept in local memory.

#define TS 64
#define TK 16
#define RTS 16
#define WPT 4
#define ASTR (TS + 1) /* padded row of As: conflict-free stores */
#define RWG 256       /* work-group size of reductions */

// Adds the product of the staged tiles As and Bs to the work-item's block,
// once the whole work-group has staged them; returns when every item is
// done reading them, so the next slice may overwrite them. Every item of
// the work-group must call it.
inline void mac_tile(__local const float *As, __local const float *Bs, float *acc, int lx, int ly) {
	barrier(CLK_LOCAL_MEM_FENCE);
	for (int kk = 0; kk < TK; kk++) {
		float a[WPT], b[WPT];
		for (int i = 0; i < WPT; i++) a[i] = As[kk * ASTR + ly + RTS * i];
		for (int j = 0; j < WPT; j++) b[j] = Bs[kk * TS + lx + RTS * j];
		for (int i = 0; i < WPT; i++)
			for (int j = 0; j < WPT; j++) acc[i * WPT + j] = fma(a[i], b[j], acc[i * WPT + j]);
	}
	barrier(CLK_LOCAL_MEM_FENCE);
}

// Writes the work-item's block of the tile at (m0, n0) of C (M×N, row
// stride ldc) as alpha·acc + beta·C, leaving out what lies past M or N.
// beta = 0 never reads C.
inline void store_tile(__global float *C, const float *acc, int lx, int ly, int m0, int n0, int M, int N, int ldc,
		float alpha, float beta) {
	for (int i = 0; i < WPT; i++) {
		int m = m0 + ly + RTS * i;
		if (m >= M) continue;
		for (int j = 0; j < WPT; j++) {
			int n = n0 + lx + RTS * j;
			if (n >= N) continue;
			float v = alpha * acc[i * WPT + j];
			if (beta != 0.0f) v += beta * C[(long)m * ldc + n];
			C[(long)m * ldc + n] = v;
		}
	}
}

// C (M×N, row stride ldc) = alpha·op(A)·op(B) + beta·C; op transposes
// when ta/tb. d = (M, N, K, lda, ldb, ldc, ta, tb). beta = 0 never reads C.
__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void gemm(__global const float *A, __global const float *B, __global float *C, int8 d, float alpha, float beta) {
	const int M = d.s0, N = d.s1, K = d.s2, lda = d.s3, ldb = d.s4, ldc = d.s5, ta = d.s6, tb = d.s7;
	const int lx = get_local_id(0), ly = get_local_id(1), tid = ly * RTS + lx;
	const int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
	__local float As[TK * ASTR];
	__local float Bs[TK * TS];
	float acc[WPT * WPT];
	for (int i = 0; i < WPT * WPT; i++) acc[i] = 0.0f;
	for (int k0 = 0; k0 < K; k0 += TK) {
		for (int l = 0; l < TS * TK / (RTS * RTS); l++) {
			int idx = tid + l * RTS * RTS;
			// read along the contiguous axis of A in memory
			int r = ta ? idx % TS : idx / TK, kk = ta ? idx / TS : idx % TK;
			int gm = m0 + r, gk = k0 + kk;
			float v = 0.0f;
			if (gm < M && gk < K) v = ta ? A[(long)gk * lda + gm] : A[(long)gm * lda + gk];
			As[kk * ASTR + r] = v;
		}
		for (int l = 0; l < TS * TK / (RTS * RTS); l++) {
			int idx = tid + l * RTS * RTS;
			int c = tb ? idx / TK : idx % TS, kk = tb ? idx % TK : idx / TS;
			int gn = n0 + c, gk = k0 + kk;
			float v = 0.0f;
			if (gn < N && gk < K) v = tb ? B[(long)gn * ldb + gk] : B[(long)gk * ldb + gn];
			Bs[kk * TS + c] = v;
		}
		mac_tile(As, Bs, acc, lx, ly);
	}
	store_tile(C, acc, lx, ly, m0, n0, M, N, ldc, alpha, beta);
}

// ---- convolution ----
// ga = (c, h, w, m, kh, kw, oh, ow); gb = (sh, sw, pt, pl, dh, dw, group, n).
// flags: bit 0 bias, bits 1-2 activation (1 ReLU, 2 PReLU with slope).

inline float activate(float v, int flags, __global const float *bias, __global const float *slope, int ch) {
	if (flags & 1) v += bias[ch];
	int act = flags >> 1;
	if (act == 1) v = v > 0.0f ? v : 0.0f;
	else if (act == 2) v = v > 0.0f ? v : slope[ch] * v;
	return v;
}

// Bias and activation over an N×M×P convolution output, in place, after a
// product that did not apply them (CLBlast).
__kernel void bias_act(__global float *y, __global const float *bias, __global const float *slope, int flags, int M,
		int P, int n) {
	const int i = get_global_id(0);
	if (i < n) y[i] = activate(y[i], flags, bias, slope, (i / P) % M);
}

// Stores a conv tile: column col = n·P + p of group g's output channels,
// biased and activated as flags say (0: as they are, bias and slope unread).
inline void conv_store(__global float *y, const float *acc, int lx, int ly, int m0, int n0, int mg, int M, int P, int NP,
		int g, int flags, __global const float *bias, __global const float *slope) {
	for (int j = 0; j < WPT; j++) {
		int col = n0 + lx + RTS * j;
		if (col >= NP) continue;
		int n = col / P, p = col - n * P;
		for (int i = 0; i < WPT; i++) {
			int m = m0 + ly + RTS * i;
			if (m >= mg) continue;
			int ch = g * mg + m;
			y[((long)n * M + ch) * P + p] = activate(acc[i * WPT + j], flags, bias, slope, ch);
		}
	}
}

// Loads a TS×TK tile of group g's weights (rows of length K) into As.
inline void load_weights(__local float *As, __global const float *wg, int tid, int m0, int k0, int mg, int K) {
	for (int l = 0; l < TS * TK / (RTS * RTS); l++) {
		int idx = tid + l * RTS * RTS;
		int r = idx / TK, kk = idx % TK;
		int gm = m0 + r, gk = k0 + kk;
		As[kk * ASTR + r] = (gm < mg && gk < K) ? wg[(long)gm * K + gk] : 0.0f;
	}
}

// Convolution as an implicit GEMM, one group per third-axis work-group:
// y_g (mg × N·P) = W_g (mg × cg·kh·kw) · im2col(x_g), the columns gathered
// from the image as the tile is loaded. pw: a 1×1, stride-1, unpadded
// convolution, whose columns are the input planes themselves.
inline void conv_gemm(__global const float *x, __global const float *wt, __global const float *bias,
		__global const float *slope, __global float *y, int8 ga, int8 gb, int flags, const int pw,
		__local float *As, __local float *Bs) {
	const int C = ga.s0, H = ga.s1, W = ga.s2, M = ga.s3, KH = ga.s4, KW = ga.s5, OH = ga.s6, OW = ga.s7;
	const int SH = gb.s0, SW = gb.s1, PT = gb.s2, PL = gb.s3, DH = gb.s4, DW = gb.s5, G = gb.s6, N = gb.s7;
	const int cg = C / G, mg = M / G, P = OH * OW, KHW = KH * KW, K = cg * KHW, NP = N * P;
	const int g = get_group_id(2);
	const int lx = get_local_id(0), ly = get_local_id(1), tid = ly * RTS + lx;
	const int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
	float acc[WPT * WPT];
	for (int i = 0; i < WPT * WPT; i++) acc[i] = 0.0f;
	// This work-item always loads the same column of B: place it once.
	const int bc = tid % TS, bk0 = tid / TS;
	const int col = n0 + bc;
	const bool colOK = col < NP;
	int bn = 0, p = 0, iy0 = 0, ix0 = 0;
	if (colOK) {
		bn = col / P;
		p = col - bn * P;
		int oy = p / OW, ox = p - (p / OW) * OW;
		iy0 = oy * SH - PT;
		ix0 = ox * SW - PL;
	}
	const __global float *xb = x + ((long)bn * C + (long)g * cg) * H * W;
	const __global float *wg = wt + (long)g * mg * K;
	for (int k0 = 0; k0 < K; k0 += TK) {
		load_weights(As, wg, tid, m0, k0, mg, K);
		for (int kk = bk0; kk < TK; kk += RTS * RTS / TS) {
			int gk = k0 + kk;
			float v = 0.0f;
			if (colOK && gk < K) {
				if (pw) {
					v = xb[(long)gk * P + p];
				} else {
					int c = gk / KHW, rem = gk - c * KHW;
					int ki = rem / KW, kj = rem - ki * KW;
					int iy = iy0 + ki * DH, ix = ix0 + kj * DW;
					if (iy >= 0 && iy < H && ix >= 0 && ix < W) v = xb[((long)c * H + iy) * W + ix];
				}
			}
			Bs[kk * TS + bc] = v;
		}
		mac_tile(As, Bs, acc, lx, ly);
	}
	conv_store(y, acc, lx, ly, m0, n0, mg, M, P, NP, g, flags, bias, slope);
}

__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void conv_fwd(__global const float *x, __global const float *wt, __global const float *bias,
		__global const float *slope, __global float *y, int8 ga, int8 gb, int flags) {
	__local float As[TK * ASTR];
	__local float Bs[TK * TS];
	conv_gemm(x, wt, bias, slope, y, ga, gb, flags, 0, As, Bs);
}

__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void conv_fwd_pw(__global const float *x, __global const float *wt, __global const float *bias,
		__global const float *slope, __global float *y, int8 ga, int8 gb, int flags) {
	__local float As[TK * ASTR];
	__local float Bs[TK * TS];
	conv_gemm(x, wt, bias, slope, y, ga, gb, flags, 1, As, Bs);
}

// Depthwise convolution (group = c = m), one work-item per output value.
__kernel void conv_depthwise(__global const float *x, __global const float *wt, __global const float *bias,
		__global const float *slope, __global float *y, int8 ga, int8 gb, int flags) {
	const int C = ga.s0, H = ga.s1, W = ga.s2, KH = ga.s4, KW = ga.s5, OH = ga.s6, OW = ga.s7;
	const int SH = gb.s0, SW = gb.s1, PT = gb.s2, PL = gb.s3, DH = gb.s4, DW = gb.s5, N = gb.s7;
	const long i = get_global_id(0);
	if (i >= (long)N * C * OH * OW) return;
	const int ox = i % OW, oy = (i / OW) % OH;
	const long pc = i / ((long)OW * OH);
	const int c = pc % C;
	const __global float *xp = x + pc * H * W;
	const __global float *k = wt + (long)c * KH * KW;
	float s = 0.0f;
	for (int ki = 0; ki < KH; ki++) {
		int iy = oy * SH - PT + ki * DH;
		if (iy < 0 || iy >= H) continue;
		for (int kj = 0; kj < KW; kj++) {
			int ix = ox * SW - PL + kj * DW;
			if (ix >= 0 && ix < W) s = fma(k[ki * KW + kj], xp[(long)iy * W + ix], s);
		}
	}
	y[i] = activate(s, flags, bias, slope, c);
}

// Gradient with respect to the input: each input value gathers the output
// gradients its taps reached.
__kernel void conv_grad_x(__global const float *wt, __global const float *dy, __global float *dx, int8 ga, int8 gb) {
	const int C = ga.s0, H = ga.s1, W = ga.s2, M = ga.s3, KH = ga.s4, KW = ga.s5, OH = ga.s6, OW = ga.s7;
	const int SH = gb.s0, SW = gb.s1, PT = gb.s2, PL = gb.s3, DH = gb.s4, DW = gb.s5, G = gb.s6, N = gb.s7;
	const long i = get_global_id(0);
	if (i >= (long)N * C * H * W) return;
	const int cg = C / G, mg = M / G;
	const int ix = i % W, iy = (i / W) % H, ch = (i / ((long)W * H)) % C;
	const long n = i / ((long)W * H * C);
	const int g = ch / cg, cl = ch - g * cg;
	float s = 0.0f;
	for (int ki = 0; ki < KH; ki++) {
		int ty = iy + PT - ki * DH;
		if (ty < 0 || ty % SH != 0 || ty / SH >= OH) continue;
		int oy = ty / SH;
		for (int kj = 0; kj < KW; kj++) {
			int tx = ix + PL - kj * DW;
			if (tx < 0 || tx % SW != 0 || tx / SW >= OW) continue;
			int ox = tx / SW;
			const __global float *wp = wt + (((long)g * mg * cg + cl) * KH + ki) * KW + kj;
			const __global float *dp = dy + ((n * M + (long)g * mg) * OH + oy) * OW + ox;
			for (int m = 0; m < mg; m++) s = fma(wp[(long)m * cg * KH * KW], dp[(long)m * OH * OW], s);
		}
	}
	dx[i] = s;
}

inline float group_sum(__local float *buf, float v) {
	const int l = get_local_id(0);
	buf[l] = v;
	barrier(CLK_LOCAL_MEM_FENCE);
	for (int s = RWG / 2; s > 0; s >>= 1) {
		if (l < s) buf[l] += buf[l + s];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	float r = buf[0];
	barrier(CLK_LOCAL_MEM_FENCE);
	return r;
}

// Gradient with respect to the weights: one work-group per weight, its
// work-items splitting the sum over the batch and output positions.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void conv_grad_w(__global const float *x, __global const float *dy, __global float *dw, int8 ga, int8 gb) {
	const int C = ga.s0, H = ga.s1, W = ga.s2, M = ga.s3, KH = ga.s4, KW = ga.s5, OH = ga.s6, OW = ga.s7;
	const int SH = gb.s0, SW = gb.s1, PT = gb.s2, PL = gb.s3, DH = gb.s4, DW = gb.s5, G = gb.s6, N = gb.s7;
	__local float buf[RWG];
	const int cg = C / G, mg = M / G, P = OH * OW;
	const int e = get_group_id(0);
	const int kj = e % KW, ki = (e / KW) % KH, cl = (e / (KW * KH)) % cg, m = e / (KW * KH * cg);
	const int ch = (m / mg) * cg + cl;
	float s = 0.0f;
	for (long j = get_local_id(0); j < (long)N * P; j += RWG) {
		long n = j / P;
		int p = j - n * P, oy = p / OW, ox = p - (p / OW) * OW;
		int iy = oy * SH - PT + ki * DH, ix = ox * SW - PL + kj * DW;
		if (iy >= 0 && iy < H && ix >= 0 && ix < W)
			s = fma(dy[(n * M + m) * P + p], x[((n * C + ch) * H + iy) * W + ix], s);
	}
	s = group_sum(buf, s);
	if (get_local_id(0) == 0) dw[e] = s;
}

// Per-channel sums of an N×C×plane array (bias gradients).
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void channel_sum(__global const float *src, __global float *dst, int N, int C, int plane) {
	__local float buf[RWG];
	const int c = get_group_id(0);
	float s = 0.0f;
	for (long j = get_local_id(0); j < (long)N * plane; j += RWG) {
		long n = j / plane;
		s += src[(n * C + c) * plane + (j - n * plane)];
	}
	s = group_sum(buf, s);
	if (get_local_id(0) == 0) dst[c] = s;
}

// ---- elementwise ----

inline float apply2(int fn, float a, float b) {
	switch (fn) {
	case 0: return a + b;
	case 1: return a - b;
	case 2: return a * b;
	case 3: return a / b;
	default: return a > 0.0f ? a : b * a;
	}
}

// ∂f/∂a (wrt 0) or ∂f/∂b (wrt 1), as partial() in elementwise.go.
inline float partial2(int fn, int wrt, float a, float b) {
	switch (fn) {
	case 0: return 1.0f;
	case 1: return wrt == 0 ? 1.0f : -1.0f;
	case 2: return wrt == 0 ? b : a;
	case 3: return wrt == 0 ? 1.0f / b : -a / (b * b);
	default:
		if (wrt == 0) return a > 0.0f ? 1.0f : b;
		return a > 0.0f ? 0.0f : a;
	}
}

__kernel void binary_same(int fn, __global const float *a, __global const float *b, __global float *y, int n) {
	const int i = get_global_id(0);
	if (i < n) y[i] = apply2(fn, a[i], b[i]);
}

// Broadcasting binary op: dims of the output, element strides sa and sb
// of the inputs per output dimension (0 where repeated).
__kernel void binary_bc(int fn, __global const float *a, __global const float *b, __global float *y,
		int rank, int8 dims, int8 sa, int8 sb, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	const int *dm = (const int *)&dims, *pa = (const int *)&sa, *pb = (const int *)&sb;
	int rest = i, oa = 0, ob = 0;
	for (int d = rank - 1; d >= 0; d--) {
		int q = rest % dm[d];
		rest /= dm[d];
		oa += q * pa[d];
		ob += q * pb[d];
	}
	y[i] = apply2(fn, a[oa], b[ob]);
}

// The gradient of input wrt of a broadcasting binary op at one of its
// elements e, summed over the output positions r0, r0+rstep, … of the
// dimensions it was repeated along (red: bitmask of those dimensions).
inline float binary_grad_at(int fn, int wrt, __global const float *a, __global const float *b, __global const float *dy,
		int rank, const int *dm, const int *pa, const int *pb, int red, int e, int r0, int rstep, int rn) {
	int kept[8], outStride[8];
	int acc = 1;
	for (int d = rank - 1; d >= 0; d--) {
		outStride[d] = acc;
		acc *= dm[d];
	}
	int rest = e;
	for (int d = rank - 1; d >= 0; d--) {
		kept[d] = 0;
		if (!(red >> d & 1)) {
			kept[d] = rest % dm[d];
			rest /= dm[d];
		}
	}
	float s = 0.0f;
	for (int r = r0; r < rn; r += rstep) {
		int rr = r, oa = 0, ob = 0, o = 0;
		for (int d = rank - 1; d >= 0; d--) {
			int q = kept[d];
			if (red >> d & 1) {
				q = rr % dm[d];
				rr /= dm[d];
			}
			oa += q * pa[d];
			ob += q * pb[d];
			o += q * outStride[d];
		}
		s = fma(dy[o], partial2(fn, wrt, a[oa], b[ob]), s);
	}
	return s;
}

__kernel void binary_grad(int fn, int wrt, __global const float *a, __global const float *b, __global const float *dy,
		__global float *d, int rank, int8 dims, int8 sa, int8 sb, int red, int rn, int n) {
	const int e = get_global_id(0);
	if (e >= n) return;
	d[e] = binary_grad_at(fn, wrt, a, b, dy, rank, (const int *)&dims, (const int *)&sa, (const int *)&sb, red, e, 0, 1, rn);
}

__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void binary_grad_group(int fn, int wrt, __global const float *a, __global const float *b, __global const float *dy,
		__global float *d, int rank, int8 dims, int8 sa, int8 sb, int red, int rn) {
	__local float buf[RWG];
	const int e = get_group_id(0);
	float s = binary_grad_at(fn, wrt, a, b, dy, rank, (const int *)&dims, (const int *)&sa, (const int *)&sb, red, e,
		get_local_id(0), RWG, rn);
	s = group_sum(buf, s);
	if (get_local_id(0) == 0) d[e] = s;
}

// fn: 0 ReLU, 1 exp.
__kernel void unary(int fn, __global const float *x, __global float *y, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	float v = x[i];
	y[i] = fn == 0 ? fmax(v, 0.0f) : exp(v);
}

__kernel void unary_grad(int fn, __global const float *x, __global const float *y, __global const float *dy,
		__global float *d, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	d[i] = fn == 0 ? (x[i] > 0.0f ? dy[i] : 0.0f) : dy[i] * y[i];
}

// ---- normalisation ----

// Inference batch norm, y = x·mul + add with mul = scale/√(var+ε).
__kernel void bn_infer(__global const float *x, __global const float *scale, __global const float *bias,
		__global const float *mean, __global const float *var, __global float *y, int C, int plane, float eps, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	const int c = (i / plane) % C;
	float mul = scale[c] / sqrt(var[c] + eps);
	y[i] = x[i] * mul + (bias[c] - mean[c] * mul);
}

__kernel void bn_grad_x(__global const float *scale, __global const float *var, __global const float *dy,
		__global float *d, int C, int plane, float eps, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	const int c = (i / plane) % C;
	d[i] = dy[i] * (scale[c] / sqrt(var[c] + eps));
}

// Σ dy·(x−mean)/√(var+ε) per channel: the scale gradient.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void bn_grad_scale(__global const float *x, __global const float *mean, __global const float *var,
		__global const float *dy, __global float *d, int N, int C, int plane, float eps) {
	__local float buf[RWG];
	const int c = get_group_id(0);
	const float inv = 1.0f / sqrt(var[c] + eps), mu = mean[c];
	float s = 0.0f;
	for (long j = get_local_id(0); j < (long)N * plane; j += RWG) {
		long n = j / plane, o = (n * C + c) * plane + (j - n * plane);
		s = fma(dy[o], (x[o] - mu) * inv, s);
	}
	s = group_sum(buf, s);
	if (get_local_id(0) == 0) d[c] = s;
}

// Mean and biased variance of channel c over the batch, by one work-group.
inline float2 channel_stats(__global const float *x, __local float *buf, int N, int C, int plane, int c) {
	const long m = (long)N * plane;
	float s = 0.0f;
	for (long j = get_local_id(0); j < m; j += RWG) {
		long n = j / plane;
		s += x[(n * C + c) * plane + (j - n * plane)];
	}
	const float mu = group_sum(buf, s) / m;
	float q = 0.0f;
	for (long j = get_local_id(0); j < m; j += RWG) {
		long n = j / plane;
		float dv = x[(n * C + c) * plane + (j - n * plane)] - mu;
		q = fma(dv, dv, q);
	}
	return (float2)(mu, group_sum(buf, q) / m);
}

// Training batch norm: normalise with the batch's own statistics.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void bn_train(__global const float *x, __global const float *scale, __global const float *bias, __global float *y,
		__global float *stats, int N, int C, int plane, float eps) {
	__local float buf[RWG];
	const int c = get_group_id(0);
	const float2 st = channel_stats(x, buf, N, C, plane, c);
	const float mul = scale[c] / sqrt(st.y + eps), add = bias[c] - st.x * mul;
	for (long j = get_local_id(0); j < (long)N * plane; j += RWG) {
		long n = j / plane, o = (n * C + c) * plane + (j - n * plane);
		y[o] = x[o] * mul + add;
	}
	if (get_local_id(0) == 0) {
		stats[2 * c] = st.x;
		stats[2 * c + 1] = st.y;
	}
}

// Training batch norm gradients through the batch statistics:
// wrt 0: dx = scale/σ·(dy − mean(dy) − x̂·mean(dy·x̂)); 1: Σ dy·x̂; 2: Σ dy.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void bn_train_grad(__global const float *x, __global const float *scale, __global const float *dy, __global float *d,
		int N, int C, int plane, float eps, int wrt) {
	__local float buf[RWG];
	const int c = get_group_id(0);
	const long m = (long)N * plane;
	const float2 st = channel_stats(x, buf, N, C, plane, c);
	const float inv = 1.0f / sqrt(st.y + eps);
	float sdy = 0.0f, sdyx = 0.0f;
	for (long j = get_local_id(0); j < m; j += RWG) {
		long n = j / plane, o = (n * C + c) * plane + (j - n * plane);
		sdy += dy[o];
		sdyx = fma(dy[o], (x[o] - st.x) * inv, sdyx);
	}
	sdy = group_sum(buf, sdy);
	sdyx = group_sum(buf, sdyx);
	if (wrt != 0) {
		if (get_local_id(0) == 0) d[c] = wrt == 1 ? sdyx : sdy;
		return;
	}
	const float f = scale[c] * inv;
	for (long j = get_local_id(0); j < m; j += RWG) {
		long n = j / plane, o = (n * C + c) * plane + (j - n * plane);
		float xh = (x[o] - st.x) * inv;
		d[o] = f * (dy[o] - sdy / m - xh * sdyx / m);
	}
}

// Softmax of each row, one work-item per row.
__kernel void softmax(__global const float *x, __global float *y, int rows, int cols) {
	const int r = get_global_id(0);
	if (r >= rows) return;
	const __global float *xr = x + (long)r * cols;
	__global float *yr = y + (long)r * cols;
	float m = xr[0];
	for (int i = 1; i < cols; i++) m = fmax(m, xr[i]);
	float s = 0.0f;
	for (int i = 0; i < cols; i++) {
		yr[i] = exp(xr[i] - m);
		s += yr[i];
	}
	for (int i = 0; i < cols; i++) yr[i] /= s;
}

__kernel void softmax_grad(__global const float *y, __global const float *dy, __global float *d, int rows, int cols) {
	const int r = get_global_id(0);
	if (r >= rows) return;
	const long o = (long)r * cols;
	float dot = 0.0f;
	for (int i = 0; i < cols; i++) dot = fma(dy[o + i], y[o + i], dot);
	for (int i = 0; i < cols; i++) d[o + i] = y[o + i] * (dy[o + i] - dot);
}

// ---- data movement ----

// Strided copy of an array of shape dims: dst[doff + Σ idx·dstr] =
// src[soff + Σ idx·sstr].
__kernel void nd_copy(__global const float *src, __global float *dst, int rank, int8 dims, int8 sstr, int8 dstr,
		int soff, int doff, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	const int *dm = (const int *)&dims, *ps = (const int *)&sstr, *pd = (const int *)&dstr;
	int rest = i, so = soff, dof = doff;
	for (int d = rank - 1; d >= 0; d--) {
		int q = rest % dm[d];
		rest /= dm[d];
		so += q * ps[d];
		dof += q * pd[d];
	}
	dst[dof] = src[so];
}

// ---- training: optimiser, gradient norm, running statistics ----

// One SGD step of a weight in place, velocity v in place too:
// v = mu·v + (clip·g + wd·w); w −= lr·v.
__kernel void sgd(__global float *w, __global const float *g, __global float *vel, float lr, float mu, float wd,
		float clip, int n) {
	const int i = get_global_id(0);
	if (i >= n) return;
	const float v = mu * vel[i] + (clip * g[i] + wd * w[i]);
	vel[i] = v;
	w[i] -= lr * v;
}

// Σ g² of n values into dst[at], by one work-group.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void sum_squares(__global const float *g, __global float *dst, int n, int at) {
	__local float buf[RWG];
	float s = 0.0f;
	for (int j = get_local_id(0); j < n; j += RWG) s = fma(g[j], g[j], s);
	s = group_sum(buf, s);
	if (get_local_id(0) == 0) dst[at] = s;
}

// Folds the batch statistics of channel c of a training batch norm's input
// into the running ones (unbias: m/(m−1) for the variance), in place.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void bn_running(__global const float *x, __global float *rm, __global float *rv, int N, int C, int plane,
		float momentum, float unbias) {
	__local float buf[RWG];
	const int c = get_group_id(0);
	const float2 st = channel_stats(x, buf, N, C, plane, c);
	if (get_local_id(0) == 0) {
		rm[c] = momentum * rm[c] + (1.0f - momentum) * st.x;
		rv[c] = momentum * rv[c] + (1.0f - momentum) * st.y * unbias;
	}
}

// ---- training: convolution gradients as tiled products ----

// Weight gradient of a convolution that is not depthwise, as a product per
// group g: dW_g (mg × K, K = cg·KH·KW) = Σ_j dY_g[m, j] · im2col(x)_g[j, k]
// over j = (n, p), the images and output positions. The third work-group
// axis is g + G·s: split s sums j over [s·chunk, (s+1)·chunk) into its own
// copy of dW at dw + s·M·K (a later sum_parts adds them), so that small
// weights still give the device enough work-groups. pw: a 1×1, stride-1,
// unpadded convolution, whose im2col is the input itself.
__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void conv_grad_w_gemm(__global const float *x, __global const float *dy, __global float *dw, int8 ga, int8 gb, int pw,
		int chunk) {
	const int C = ga.s0, H = ga.s1, W = ga.s2, M = ga.s3, KH = ga.s4, KW = ga.s5, OH = ga.s6, OW = ga.s7;
	const int SH = gb.s0, SW = gb.s1, PT = gb.s2, PL = gb.s3, DH = gb.s4, DW = gb.s5, G = gb.s6, N = gb.s7;
	const int cg = C / G, mg = M / G, P = OH * OW, KHW = KH * KW, K = cg * KHW, NP = N * P;
	const int g = get_group_id(2) % G, s = get_group_id(2) / G;
	const int j0 = s * chunk, j1 = min(NP, j0 + chunk);
	const int lx = get_local_id(0), ly = get_local_id(1), tid = ly * RTS + lx;
	const int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
	__local float As[TK * ASTR];
	__local float Bs[TK * TS];
	float acc[WPT * WPT];
	for (int i = 0; i < WPT * WPT; i++) acc[i] = 0.0f;
	for (int jt = j0; jt < j1; jt += TK) {
		for (int l = 0; l < TS * TK / (RTS * RTS); l++) {
			// j varies fastest: dY and x are contiguous along positions
			int idx = tid + l * RTS * RTS, r = idx / TK, kk = idx % TK;
			int m = m0 + r, j = jt + kk;
			float a = 0.0f, b = 0.0f;
			if (j < j1) {
				int n = j / P, p = j - (j / P) * P;
				if (m < mg) a = dy[((long)n * M + g * mg + m) * P + p];
				int k = n0 + r;
				if (k < K) {
					if (pw) {
						b = x[((long)n * C + g * cg + k) * P + p];
					} else {
						int c = k / KHW, rem = k - c * KHW, ki = rem / KW, kj = rem - ki * KW;
						int oy = p / OW, ox = p - oy * OW;
						int iy = oy * SH - PT + ki * DH, ix = ox * SW - PL + kj * DW;
						if (iy >= 0 && iy < H && ix >= 0 && ix < W) b = x[(((long)n * C + g * cg + c) * H + iy) * W + ix];
					}
				}
			}
			As[kk * ASTR + r] = a;
			Bs[kk * TS + r] = b;
		}
		mac_tile(As, Bs, acc, lx, ly);
	}
	store_tile(dw + (long)s * M * K + (long)g * mg * K, acc, lx, ly, m0, n0, mg, K, K, 1.0f, 0.0f);
}

// dst[i] = Σ_s src[s·n + i], s < parts: the splits of conv_grad_w_gemm.
__kernel void sum_parts(__global const float *src, __global float *dst, int n, int parts) {
	const int i = get_global_id(0);
	if (i >= n) return;
	float v = 0.0f;
	for (int s = 0; s < parts; s++) v += src[(long)s * n + i];
	dst[i] = v;
}

// Input gradient of a 1×1, stride-1, unpadded convolution, as a product per
// group g: dX_g (cg × N·P) = W_gᵀ (cg × mg) · dY_g (mg × N·P).
__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void conv_grad_x_pw(__global const float *wt, __global const float *dy, __global float *dx, int8 ga, int8 gb) {
	const int C = ga.s0, M = ga.s3, OH = ga.s6, OW = ga.s7, G = gb.s6, N = gb.s7;
	const int cg = C / G, mg = M / G, P = OH * OW, NP = N * P;
	const int g = get_group_id(2);
	const int lx = get_local_id(0), ly = get_local_id(1), tid = ly * RTS + lx;
	const int n0 = get_group_id(0) * TS, c0 = get_group_id(1) * TS;
	__local float As[TK * ASTR];
	__local float Bs[TK * TS];
	float acc[WPT * WPT];
	for (int i = 0; i < WPT * WPT; i++) acc[i] = 0.0f;
	for (int k0 = 0; k0 < mg; k0 += TK) {
		for (int l = 0; l < TS * TK / (RTS * RTS); l++) {
			// rows and columns vary fastest: W_gᵀ along c, dY along p
			int idx = tid + l * RTS * RTS, r = idx % TS, kk = idx / TS;
			int m = k0 + kk, c = c0 + r, col = n0 + r;
			float a = 0.0f, b = 0.0f;
			if (m < mg) {
				if (c < cg) a = wt[((long)g * mg + m) * cg + c];
				if (col < NP) {
					int n = col / P, p = col - (col / P) * P;
					b = dy[((long)n * M + g * mg + m) * P + p];
				}
			}
			As[kk * ASTR + r] = a;
			Bs[kk * TS + r] = b;
		}
		mac_tile(As, Bs, acc, lx, ly);
	}
	conv_store(dx, acc, lx, ly, c0, n0, cg, C, P, NP, g, 0, 0, 0);
}
