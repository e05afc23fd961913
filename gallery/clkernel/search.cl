// Kernels of gallery/clkernel: the scores of a block of gallery rows
// against a batch of queries, and the best rows of each chunk of scores.

// Each score is summed in order over the dimensions, one rounded multiply
// and one rounded add a term, as gallery.GoKernel sums it: contracting them
// into fused multiply-adds would round otherwise, so scores would differ
// from the CPU search's in the last bits and near-equal rows could swap.
#pragma OPENCL FP_CONTRACT OFF

#define TR 64 // gallery rows per work-group, one per work-item
#define TQ 16 // queries per work-group
#define TK 32 // dimensions per step through local memory

// store_scores writes the sums acc of row j against queries i0 … i0+nq-1
// to column j of c, scaled by inv[j] when scale is non-zero.
static void store_scores(__global float *c, int ldc, const float *acc, int nq, int i0, int j, __global const float *inv,
                         int scale) {
  if (scale) {
    const float s = inv[j];
    for (int i = 0; i < nq; i++) {
      c[(long)(i0 + i) * ldc + j] = acc[i] * s;
    }
  } else {
    for (int i = 0; i < nq; i++) {
      c[(long)(i0 + i) * ldc + j] = acc[i];
    }
  }
}

// scores: c[i*ldc + j] = (q_i · r_j) · inv[j] when scale is non-zero, else
// q_i · r_j, for the m queries of q (m×k) and the n rows of r (n×k), both
// row-major. Work-groups of TR items cover TR rows × TQ queries; each step
// stages a TR×TK slice of rows and a TQ×TK slice of queries in local
// memory, read coalesced, and every item adds the slice to its TQ sums
// (GPUs; see scores_rows for CPU devices).
__kernel __attribute__((reqd_work_group_size(TR, 1, 1)))
void scores(__global const float *q, __global const float *r, __global const float *inv, __global float *c,
            int m, int n, int k, int ldc, int scale) {
  __local float rl[TR][TK + 1]; // +1: items reading their rows in step hit distinct banks
  __local float ql[TQ][TK];
  const int lid = get_local_id(0);
  const int j0 = get_group_id(0) * TR, i0 = get_group_id(1) * TQ;
  const int nq = min(TQ, m - i0);
  float acc[TQ];
  for (int i = 0; i < TQ; i++) {
    acc[i] = 0.0f;
  }
  for (int t0 = 0; t0 < k; t0 += TK) {
    const int tk = min(TK, k - t0);
    for (int e = lid; e < TR * TK; e += TR) {
      const int rr = e / TK, tt = e % TK, j = j0 + rr;
      rl[rr][tt] = (j < n && tt < tk) ? r[(long)j * k + t0 + tt] : 0.0f;
    }
    for (int e = lid; e < TQ * TK; e += TR) {
      const int qq = e / TK, tt = e % TK;
      ql[qq][tt] = (qq < nq && tt < tk) ? q[(long)(i0 + qq) * k + t0 + tt] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int tt = 0; tt < tk; tt++) {
      const float x = rl[lid][tt];
#pragma unroll
      for (int i = 0; i < TQ; i++) {
        if (i < nq) {
          acc[i] += ql[i][tt] * x;
        }
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const int j = j0 + lid;
  if (j >= n) {
    return;
  }
  store_scores(c, ldc, acc, nq, i0, j, inv, scale);
}

// scores_rows is scores for CPU devices (PoCL), which run a work-group's
// items as loops vectorised across items, for which staging in local
// memory only costs: each work-item sums its own row against TQ queries
// at a time, in registers (a tile of fewer queries, one at a time). Same
// arguments and work-groups as scores, same sums in the same order.
__kernel void scores_rows(__global const float *q, __global const float *r, __global const float *inv,
                          __global float *c, int m, int n, int k, int ldc, int scale) {
  const int j = get_global_id(0);
  const int i0 = get_group_id(1) * TQ;
  const int nq = min(TQ, m - i0);
  if (j >= n) {
    return;
  }
  __global const float *rj = r + (long)j * k;
  __global const float *qt = q + (long)i0 * k;
  float acc[TQ];
  for (int i = 0; i < TQ; i++) {
    acc[i] = 0.0f;
  }
  if (nq == TQ) {
    for (int t = 0; t < k; t++) {
      const float x = rj[t];
#pragma unroll
      for (int i = 0; i < TQ; i++) {
        acc[i] += qt[i * k + t] * x;
      }
    }
  } else {
    for (int i = 0; i < nq; i++) {
      float a = 0.0f;
      for (int t = 0; t < k; t++) {
        a += qt[i * k + t] * rj[t];
      }
      acc[i] = a;
    }
  }
  store_scores(c, ldc, acc, nq, i0, j, inv, scale);
}

// ahead reports whether (sa, ra) ranks before (sb, rb): a row before an
// absent one (row -1), then the higher score, then the lower row, which
// is gallery.Search's order.
static bool ahead(float sa, int ra, float sb, int rb) {
  if (ra < 0) {
    return false;
  }
  if (rb < 0) {
    return true;
  }
  return sa > sb || (sa == sb && ra < rb);
}

// sort_best sorts size entries (a power of two) of scores ls and rows lr
// best first, bitonically, with the work-group's wg items; every item must
// call it. Runs of width alternate between best first and best last, so
// that each pair makes a bitonic run of twice the width; at width == size
// all of it ends best first.
static void sort_best(__local float *ls, __local int *lr, int size, int lid, int wg) {
  for (int width = 2; width <= size; width <<= 1) {
    for (int stride = width >> 1; stride > 0; stride >>= 1) {
      barrier(CLK_LOCAL_MEM_FENCE);
      for (int t = lid; t < size / 2; t += wg) {
        const int a = 2 * t - (t & (stride - 1)), b = a + stride;
        const bool swap = (a & width) == 0 ? ahead(ls[b], lr[b], ls[a], lr[a]) : ahead(ls[a], lr[a], ls[b], lr[b]);
        if (swap) {
          const float s = ls[a];
          ls[a] = ls[b];
          ls[b] = s;
          const int r = lr[a];
          lr[a] = lr[b];
          lr[b] = r;
        }
      }
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);
}

// best picks the kk best rows of a chunk of size scores (a power of two):
// chunk get_group_id(0) of the n scores of query get_global_id(1) (row i
// of c, ldc apart). It sorts the whole chunk in local memory (ls, lr: size
// floats and ints) and writes its first kk scores and rows (base +
// column; -1 where absent: past n, or a row whose inverse length is 0,
// never a hit) at ((i·chunks) + first + chunk)·kk of score and row.
__kernel void best(__global const float *c, __global const float *inv, int n, int ldc, int base, int size, int kk,
                   int chunks, int first, __global float *score, __global int *row, __local float *ls,
                   __local int *lr) {
  const int lid = get_local_id(0), wg = get_local_size(0);
  const int g = get_group_id(0), i = get_global_id(1);
  const int lo = g * size;
  for (int e = lid; e < size; e += wg) {
    const int j = lo + e;
    const bool ok = j < n && inv[j] != 0.0f;
    ls[e] = ok ? c[(long)i * ldc + j] : 0.0f;
    lr[e] = ok ? base + j : -1;
  }
  sort_best(ls, lr, size, lid, wg);
  const long out = ((long)i * chunks + first + g) * kk;
  for (int e = lid; e < kk; e += wg) {
    score[out + e] = ls[e];
    row[out + e] = lr[e];
  }
}

#define KP 16 // the most rows best_few keeps per work-item

// best_few is best for kk ≤ KP, and chunks of any size: each work-item
// keeps the kk best of its share of the chunk (every wg-th score, read
// coalesced) sorted in registers, where one comparison with the worst
// kept turns most scores away; then the items' lists (wg·kk entries,
// padded with absent ones to merged, a power of two, in ls and lr) are
// sorted together, and the first kk written as best writes them.
__kernel void best_few(__global const float *c, __global const float *inv, int n, int ldc, int base, int size,
                       int kk, int chunks, int first, __global float *score, __global int *row, __local float *ls,
                       __local int *lr, int merged) {
  const int lid = get_local_id(0), wg = get_local_size(0);
  const int g = get_group_id(0), i = get_global_id(1);
  const int lo = g * size, hi = min(lo + size, n);
  float ps[KP];
  int pr[KP];
  int kept = 0;
  for (int j = lo + lid; j < hi; j += wg) {
    if (inv[j] == 0.0f) {
      continue;
    }
    const float s = c[(long)i * ldc + j];
    const int r = base + j;
    if (kept == kk && !ahead(s, r, ps[kk - 1], pr[kk - 1])) {
      continue;
    }
    int p = kept < kk ? kept++ : kk - 1;
    for (; p > 0 && ahead(s, r, ps[p - 1], pr[p - 1]); p--) {
      ps[p] = ps[p - 1];
      pr[p] = pr[p - 1];
    }
    ps[p] = s;
    pr[p] = r;
  }
  for (int e = 0; e < kk; e++) {
    ls[lid * kk + e] = e < kept ? ps[e] : 0.0f;
    lr[lid * kk + e] = e < kept ? pr[e] : -1;
  }
  for (int e = wg * kk + lid; e < merged; e += wg) {
    ls[e] = 0.0f;
    lr[e] = -1;
  }
  sort_best(ls, lr, merged, lid, wg);
  const long out = ((long)i * chunks + first + g) * kk;
  for (int e = lid; e < kk; e += wg) {
    score[out + e] = ls[e];
    row[out + e] = lr[e];
  }
}
