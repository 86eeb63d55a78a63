/* GPTQ (Frantar et al. ICLR 2023), following IST-DASLab/gptq `gptq.py`
 * `fasterquant` step by step (../shared/ALGORITHMS.md section 9), in
 * double, on W laid out as ONNX MatMul's B[K,N] (row i = input i = the
 * reference's column i):
 *   1. scales from the original weights (per column or per tensor; groups
 *      are re-fit at each group start from the current W, as the
 *      reference does, or fixed beforehand under act_order);
 *   2. dead inputs (H_ii = 0): H_ii = 1 and row i of W = 0;
 *   3. act_order (optional): rows by descending H_ii;
 *   4. H += percdamp * mean(diag H) * I; U = chol(H^-1)^T, the upper
 *      factor (the reference's Hinv);
 *   5. per block of 128 rows, per row i: q = Q(w_i), e = (w_i - q) / U_ii,
 *      later rows of the block w_j -= e U_ij; after the block the rows
 *      beyond get the whole block's error at once (lazy batch update).
 * Where the reference would raise (H + damping not positive definite),
 * the damping is raised 10x, at most four times, then the caller falls
 * back to rounding to nearest. Test: test/unit/test_gptq.c. */
#include "quant/gptq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/qmath.h"
#include "support/arena.h"

int64_t q_gptq_nparams(const QGptqOptions *o, int64_t k, int64_t n) {
  if (o->per_tensor) return 1;
  if (o->group > 0) return (k + o->group - 1) / o->group * n;
  return n;
}

static int64_t param_index(const QGptqOptions *o, int64_t i, int64_t col, int64_t n) {
  if (o->per_tensor) return 0;
  if (o->group > 0) return i / o->group * n + col;
  return col;
}

/* Scale and zero point for rows [r0, r1) x columns [c0, c1) of w (row
 * stride n), exactly as the RTN path picks them: q_wclip_params (amax, or
 * the MSE-optimal clip) on the values as f32. */
static void fit(const QGptqOptions *o, const double *w, int64_t n, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                float *s, int64_t *z) {
  double *v = xmalloc((size_t)((r1 - r0) * (c1 - c0)) * sizeof *v + 1);
  int64_t m = 0;
  for (int64_t i = r0; i < r1; i++)
    for (int64_t c = c0; c < c1; c++) v[m++] = (double)(float)w[i * n + c];
  q_wclip_params(o->fmt, v, m, o->symmetric, o->clip, s, z);
  free(v);
}

/* Parameters from the original weights: per tensor, per column, or per
 * group of rows (static groups). */
static void fit_all(const QGptqOptions *o, const double *w, int64_t k, int64_t n, float *scale, int64_t *zp) {
  if (o->per_tensor) {
    fit(o, w, n, 0, k, 0, n, &scale[0], &zp[0]);
  } else if (o->group > 0) {
    for (int64_t i = 0; i < k; i += o->group)
      for (int64_t c = 0; c < n; c++) {
        int64_t p = param_index(o, i, c, n);
        fit(o, w, n, i, i + o->group < k ? i + o->group : k, c, c + 1, &scale[p], &zp[p]);
      }
  } else {
    for (int64_t c = 0; c < n; c++) fit(o, w, n, 0, k, c, c + 1, &scale[c], &zp[c]);
  }
}

static int64_t quant_code(const QGptqOptions *o, double x, float s, int64_t z) {
  return q_quantize_int((float)x, s, z, o->fmt->qmin, o->fmt->qmax);
}

static double dequant(int64_t code, float s, int64_t z) { return (double)(code - z) * (double)s; }

void q_rtn_quantize(const double *w, int64_t k, int64_t n, const QGptqOptions *o, int64_t *codes, float *scale,
                    int64_t *zp) {
  fit_all(o, w, k, n, scale, zp);
  for (int64_t i = 0; i < k; i++)
    for (int64_t c = 0; c < n; c++) {
      int64_t p = param_index(o, i, c, n);
      codes[i * n + c] = quant_code(o, w[i * n + c], scale[p], zp[p]);
    }
}

double q_gptq_layer_error(const double *w, const double *h, int64_t k, int64_t n, const QGptqOptions *o,
                          const int64_t *codes, const float *scale, const int64_t *zp) {
  double *e = xmalloc((size_t)k * sizeof *e), total = 0;
  for (int64_t c = 0; c < n; c++) {
    for (int64_t i = 0; i < k; i++) {
      int64_t p = param_index(o, i, c, n);
      e[i] = w[i * n + c] - dequant(codes[i * n + c], scale[p], zp[p]);
    }
    for (int64_t a = 0; a < k; a++) {
      double hv = 0;
      for (int64_t b = 0; b < k; b++) hv += h[a * k + b] * e[b];
      total += e[a] * hv;
    }
  }
  free(e);
  return total;
}

/* ---- the factorization -------------------------------------------------------- */

/* In-place lower Cholesky factor of the symmetric a (k x k, row-major;
 * only the lower triangle is read and written). False when a is not
 * (numerically) positive definite. */
static bool cholesky(double *a, int64_t k) {
  for (int64_t j = 0; j < k; j++) {
    double *aj = a + j * k, s = aj[j];
    for (int64_t p = 0; p < j; p++) s -= aj[p] * aj[p];
    if (!(s > 0) || !isfinite(s)) return false;
    double d = sqrt(s);
    aj[j] = d;
    for (int64_t i = j + 1; i < k; i++) {
      double *ai = a + i * k, t = ai[j];
      for (int64_t p = 0; p < j; p++) t -= ai[p] * aj[p];
      ai[j] = t / d;
    }
  }
  return true;
}

/* u (k x k) = the upper Cholesky factor of a^-1 (a^-1 = u^T u), the
 * reference's `Hinv`; a is destroyed. */
static bool upper_chol_of_inverse(double *a, int64_t k, double *u) {
  if (!cholesky(a, k)) return false;
  /* m = L^-T (upper): row c of m is column c of L^-1, so the products
   * below run along rows. L^-1 by forward substitution, column by column. */
  double *m = xcalloc((size_t)(k * k), sizeof *m);
  for (int64_t c = 0; c < k; c++) {
    m[c * k + c] = 1.0 / a[c * k + c];
    for (int64_t r = c + 1; r < k; r++) {
      double s = 0;
      const double *ar = a + r * k;
      for (int64_t p = c; p < r; p++) s += ar[p] * m[c * k + p];
      m[c * k + r] = -s / ar[r];
    }
  }
  /* a^-1 = L^-T L^-1: entry (x, y) = sum over r >= max(x, y) of m[x][r] m[y][r]. */
  for (int64_t x = 0; x < k; x++)
    for (int64_t y = 0; y <= x; y++) {
      double s = 0;
      for (int64_t r = x; r < k; r++) s += m[x * k + r] * m[y * k + r];
      a[x * k + y] = s;
    }
  free(m);
  if (!cholesky(a, k)) return false;
  for (int64_t x = 0; x < k; x++)
    for (int64_t y = 0; y < k; y++) u[x * k + y] = y >= x ? a[y * k + x] : 0;
  return true;
}

/* ---- the algorithm ---------------------------------------------------------------- */

typedef struct Ranked {
  double d;
  int64_t i;
} Ranked;

static int by_diag_desc(const void *pa, const void *pb) {
  const Ranked *a = pa, *b = pb;
  if (a->d != b->d) return a->d > b->d ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i; /* stable: ties keep the input order */
}

bool q_gptq_quantize(const double *w, const double *h, int64_t k, int64_t n, const QGptqOptions *o, int64_t *codes,
                     float *scale, int64_t *zp, QGptqInfo *info) {
  *info = (QGptqInfo){0};
  if (!o->fmt || o->fmt->kind != Q_FMT_INT || k < 1 || n < 1) return false;
  for (int64_t i = 0; i < k * n; i++)
    if (!isfinite(w[i])) return false;
  int64_t bs = o->block > 0 ? o->block : 128;
  double percdamp = o->percdamp >= 0 ? o->percdamp : 0.01;
  bool refit = o->group > 0 && !o->per_tensor && !o->act_order;

  /* 1. Parameters from the original weights (groups re-fit below). */
  fit_all(o, w, k, n, scale, zp);

  /* 2. Dead inputs; 3. the order; W and H permuted into it. */
  double *diag = xmalloc((size_t)k * sizeof *diag);
  int64_t *perm = xmalloc((size_t)k * sizeof *perm);
  for (int64_t i = 0; i < k; i++) {
    diag[i] = h[i * k + i];
    if (diag[i] == 0) info->dead++;
    perm[i] = i;
  }
  if (o->act_order) {
    Ranked *r = xmalloc((size_t)k * sizeof *r);
    for (int64_t i = 0; i < k; i++) r[i] = (Ranked){diag[i], i};
    qsort(r, (size_t)k, sizeof *r, by_diag_desc);
    for (int64_t i = 0; i < k; i++) perm[i] = r[i].i;
    free(r);
  }
  double *W = xmalloc((size_t)(k * n) * sizeof *W), *H = xmalloc((size_t)(k * k) * sizeof *H);
  for (int64_t i = 0; i < k; i++) {
    int64_t pi = perm[i];
    bool dead = diag[pi] == 0;
    for (int64_t c = 0; c < n; c++) W[i * n + c] = dead ? 0 : w[pi * n + c];
    for (int64_t j = 0; j < k; j++) H[i * k + j] = h[pi * k + perm[j]];
    if (dead) H[i * k + i] = 1;
  }

  /* 4. Damping and the upper factor of the inverse. */
  double mean = 0;
  for (int64_t i = 0; i < k; i++) mean += H[i * k + i];
  mean /= (double)k;
  double damp = percdamp * mean;
  double *A = xmalloc((size_t)(k * k) * sizeof *A), *U = xmalloc((size_t)(k * k) * sizeof *U);
  bool ok = false;
  for (int attempt = 0; attempt < 5 && !ok; attempt++, damp *= 10) {
    memcpy(A, H, (size_t)(k * k) * sizeof *A);
    for (int64_t i = 0; i < k; i++) A[i * k + i] += damp;
    ok = upper_chol_of_inverse(A, k, U);
    if (ok) info->damp = damp;
  }
  free(A);
  free(H);

  /* 5. Row by row in blocks, with lazy batch updates. */
  double *W1 = ok ? xmalloc((size_t)(bs * n) * sizeof *W1) : NULL;
  double *E1 = ok ? xmalloc((size_t)(bs * n) * sizeof *E1) : NULL;
  for (int64_t i1 = 0; ok && i1 < k; i1 += bs) {
    int64_t i2 = i1 + bs < k ? i1 + bs : k, cnt = i2 - i1;
    memcpy(W1, W + i1 * n, (size_t)(cnt * n) * sizeof *W1);
    for (int64_t t = 0; t < cnt; t++) {
      int64_t i = i1 + t, orig = perm[i];
      if (refit && i % o->group == 0) /* from the full W, as the reference's find_params(W[:, i:i+g]) */
        for (int64_t c = 0; c < n; c++) {
          int64_t p = param_index(o, i, c, n);
          fit(o, W, n, i, i + o->group < k ? i + o->group : k, c, c + 1, &scale[p], &zp[p]);
        }
      double d = U[i * k + i];
      double *wt = W1 + t * n, *et = E1 + t * n;
      for (int64_t c = 0; c < n; c++) {
        int64_t p = param_index(o, orig, c, n);
        int64_t code = quant_code(o, wt[c], scale[p], zp[p]);
        codes[orig * n + c] = code;
        double diff = wt[c] - dequant(code, scale[p], zp[p]);
        info->loss += diff * diff / (d * d) / 2;
        et[c] = diff / d;
      }
      for (int64_t u = t + 1; u < cnt; u++) {
        double f = U[i * k + i1 + u];
        if (f == 0) continue;
        double *wu = W1 + u * n;
        for (int64_t c = 0; c < n; c++) wu[c] -= f * et[c];
      }
    }
    for (int64_t j = i2; j < k; j++) {
      double *wj = W + j * n;
      for (int64_t t = 0; t < cnt; t++) {
        double f = U[(i1 + t) * k + j];
        if (f == 0) continue;
        const double *et = E1 + t * n;
        for (int64_t c = 0; c < n; c++) wj[c] -= f * et[c];
      }
    }
  }
  free(W1), free(E1), free(U), free(W), free(diag), free(perm);
  return ok;
}
