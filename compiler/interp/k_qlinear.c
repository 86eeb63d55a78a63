/* Kernels: the integer ops ConvInteger and MatMulInteger (int32 results) and
 * the quantized QLinearConv and QLinearMatMul, as the ONNX spec and its
 * reference implementation (onnx/reference/ops/op_qlinear_conv.py,
 * op_qlinear_matmul.py) define them:
 *
 *   acc = sum (x - x_zp)(w - w_zp) (+ B for QLinearConv), exact integers;
 *   y   = saturate(round_half_even(acc * M + y_zp)),
 *   M   = x_scale * w_scale / y_scale computed in the scales' float type
 *         (float32 for f32 scales, as numpy does it), acc * M in double.
 *
 * Zero points and scales: per tensor (one element); QLinearConv/ConvInteger
 * weights also per output channel (1-D of M); MatMul operands per row of A
 * and per column of B (1-D), or an A/B zero point of higher rank that
 * broadcasts to its operand ([.., M, 1] / [.., 1, N]). Padding contributes
 * zeros after the zero point is subtracted, as in the reference. Conv
 * geometry (strides, dilations, pads, auto_pad, group) comes from
 * dense_util's win_geom, shared with Conv.
 *
 * Fast path: u8/i8 operands (any mix) with same-typed zero points shift to
 * values in [-255, 255], held as int16 and multiplied by gemm_i16_exact
 * (int32 block sums, exact); convolutions go through im2col. Every other
 * type uses the int64 loops below. Test: test/unit/test_k_qlinear_fast.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "interp/gemm_i32.h"

/* t - zp as int64 into out. zp: NULL, one element, 1-D along axis (axis
 * >= 0), or a tensor broadcasting to t's shape. */
static bool shift_zp(KernelCtx *k, const Tensor *t, const Tensor *zp, int32_t axis, const char *what, int64_t *out) {
  int64_t st[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0};
  if (zp && zp->elem != t->elem)
    return kernel_fail(k, "%s zero point is %s but its operand is %s", what, ir_elem_name(zp->elem),
                       ir_elem_name(t->elem));
  int mode = !zp || zp->numel == 1 ? 0 : zp->rank == 1 && axis >= 0 && zp->dims[0] == t->dims[axis] ? 1 : 2;
  if (mode == 2) {
    const Tensor *pair[2] = {t, zp};
    int32_t r;
    int64_t dims[TENSOR_MAX_RANK];
    bool ok = zp->rank <= t->rank && kernel_broadcast_shape(k, pair, 2, &r, dims);
    for (int32_t i = 0; ok && i < r; i++) ok = dims[i] == t->dims[i];
    if (!ok) {
      char b1[128], b2[128];
      return kernel_fail(k, "%s zero point of shape %s does not fit its operand %s", what,
                         tensor_describe(zp, b1, sizeof b1), tensor_describe(t, b2, sizeof b2));
    }
    kernel_broadcast_strides(zp, t->rank, t->dims, st);
  }
  int64_t inner = mode == 1 ? dense_span(t, axis + 1, t->rank) : 1, z0 = zp ? tensor_get_i64(zp, 0) : 0;
  for (int64_t i = 0; i < t->numel; i++) {
    int64_t z = z0;
    if (mode == 1) z = tensor_get_i64(zp, i / inner % t->dims[axis]);
    if (mode == 2) {
      int64_t off = 0;
      for (int32_t d = 0; d < t->rank; d++) off += idx[d] * st[d];
      z = tensor_get_i64(zp, off);
      for (int32_t d = t->rank - 1; d >= 0 && ++idx[d] == t->dims[d]; d--) idx[d] = 0;
    }
    out[i] = tensor_get_i64(t, i) - z;
  }
  return true;
}

/* The scale s as n values (one element repeated, or 1-D of n). */
static bool scale_vec(KernelCtx *k, const Tensor *s, int64_t n, const char *what, double *out) {
  if (!ir_elem_is_float(s->elem)) return kernel_fail(k, "%s is %s, not a float type", what, ir_elem_name(s->elem));
  if (s->numel != 1 && (s->rank != 1 || s->dims[0] != n)) {
    char b[128];
    return kernel_fail(k, "%s must have one element or shape [%lld], got %s", what, (long long)n,
                       tensor_describe(s, b, sizeof b));
  }
  for (int64_t i = 0; i < n; i++) out[i] = tensor_get_f64(s, s->numel == 1 ? 0 : i);
  return true;
}

/* v rounded to float type e, through a one-element tensor. */
static double as_type(IrElem e, double v) {
  uint64_t buf = 0;
  Tensor t = {.elem = e, .rank = 0, .numel = 1, .nbytes = (size_t)ir_elem_bytes(e), .data = &buf};
  tensor_set_f64(&t, 0, v);
  return tensor_get_f64(&t, 0);
}

/* x_scale * w_scale / y_scale in the scales' type. */
static double multiplier(IrElem e, double xs, double ws, double ys) { return as_type(e, as_type(e, xs * ws) / ys); }

static bool requant_store(Tensor *y, int64_t i, int64_t acc, double mult, int64_t yzp) {
  int64_t lo, hi;
  ir_elem_int_range(y->elem, &lo, &hi);
  double r = (double)acc * mult + (double)yzp;
  r = isnan(r) ? (double)yzp : rint(fmin(fmax(r, (double)lo), (double)hi));
  tensor_set_i64(y, i, (int64_t)r);
  return true;
}

static bool need(KernelCtx *k, const char *names, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!kernel_in(k, i)) return kernel_fail(k, "missing required input #%u (inputs: %s)", i, names);
  return true;
}

/* ---- convolution ---------------------------------------------------- */

typedef struct IConv {
  int64_t n, c, m, group;
  G3 g;
} IConv;

static bool iconv_setup(KernelCtx *k, const Tensor *x, const Tensor *w, IConv *cv) {
  if (x->rank < 3 || x->rank > 5 || w->rank != x->rank)
    return kernel_fail(k, "x and w must have the same rank, 3 to 5 (got %d and %d)", x->rank, w->rank);
  cv->n = x->dims[0], cv->c = x->dims[1], cv->m = w->dims[0];
  cv->group = ir_op_attr_int(k->op, "group", 1);
  if (cv->group < 1 || cv->c % cv->group || cv->m % cv->group || w->dims[1] * cv->group != cv->c)
    return kernel_fail(k, "group %lld does not fit %lld input channels, %lld filters of %lld channels",
                       (long long)cv->group, (long long)cv->c, (long long)cv->m, (long long)w->dims[1]);
  const IrAttr *ka = ir_op_attr(k->op, "kernel_shape");
  bool ks_ok = !ka || (ka->kind == IR_ATTR_INTS && ka->u.ints.n == (uint32_t)(x->rank - 2));
  for (int32_t i = 0; ka && ks_ok && i < x->rank - 2; i++) ks_ok = ka->u.ints.v[i] == w->dims[2 + i];
  if (!ks_ok) return kernel_fail(k, "kernel_shape does not list the weight's %d spatial dims", x->rank - 2);
  WinGeom wg;
  if (!win_geom(k, x, w->dims + 2, false, &wg)) return false;
  g3_from(&wg, &cv->g);
  return true;
}

/* acc[n][m][out positions] = sum over the group's channels and taps of
 * x * w, reading each output position's window (out-of-range taps skip). */
static void iconv_acc(const IConv *cv, const int64_t *x, const int64_t *w, int64_t *acc) {
  const G3 *g = &cv->g;
  int64_t cg = cv->c / cv->group, mg = cv->m / cv->group, isp = prod3(g->in), osp = prod3(g->out);
  int64_t ksz = prod3(g->k);
  for (int64_t b = 0; b < cv->n; b++)
    for (int64_t mo = 0; mo < cv->m; mo++) {
      const int64_t *xg = x + (b * cv->c + mo / mg * cg) * isp, *wm = w + mo * cg * ksz;
      int64_t *am = acc + (b * cv->m + mo) * osp;
      for (int64_t o = 0; o < osp; o++) {
        int64_t op[3] = {o / (g->out[1] * g->out[2]), o / g->out[2] % g->out[1], o % g->out[2]}, s = 0;
        for (int64_t t = 0; t < ksz; t++) {
          int64_t kt[3] = {t / (g->k[1] * g->k[2]), t / g->k[2] % g->k[1], t % g->k[2]}, pos = 0;
          bool in = true;
          for (int j = 0; j < 3 && in; j++) {
            int64_t ij = op[j] * g->s[j] + kt[j] * g->d[j] - g->p[j];
            in = ij >= 0 && ij < g->in[j];
            pos = pos * g->in[j] + ij;
          }
          if (!in) continue;
          for (int64_t ci = 0; ci < cg; ci++) s += xg[ci * isp + pos] * wm[ci * ksz + t];
        }
        am[o] = s;
      }
    }
}

/* ---- matrix multiplication ----------------------------------------- */

/* numpy matmul geometry: 1-D operands promoted, batch dims broadcast. */
typedef struct IMat {
  int64_t m, kk, n, nbatch;
  int32_t brank, yrank;
  int64_t ydims[TENSOR_MAX_RANK];
  int64_t astr[TENSOR_MAX_RANK], bstr[TENSOR_MAX_RANK]; /* per batch dim, in matrices */
} IMat;

static bool imat_setup(KernelCtx *k, const Tensor *a, const Tensor *b, IMat *g) {
  if (a->rank < 1 || b->rank < 1) return kernel_fail(k, "operands must have rank >= 1");
  g->m = a->rank > 1 ? a->dims[a->rank - 2] : 1;
  g->kk = a->dims[a->rank - 1];
  g->n = b->rank > 1 ? b->dims[b->rank - 1] : 1;
  int64_t kb = b->rank > 1 ? b->dims[b->rank - 2] : b->dims[0];
  char b1[128], b2[128];
  if (kb != g->kk)
    return kernel_fail(k, "inner dimensions differ: %s x %s", tensor_describe(a, b1, sizeof b1),
                       tensor_describe(b, b2, sizeof b2));
  int32_t ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
  g->brank = ra > rb ? ra : rb;
  g->nbatch = 1;
  int64_t sa = 1, sb = 1;
  for (int32_t i = g->brank - 1; i >= 0; i--) {
    int32_t ia = i - (g->brank - ra), ib = i - (g->brank - rb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return kernel_fail(k, "batch dimensions do not broadcast: %s x %s", tensor_describe(a, b1, sizeof b1),
                         tensor_describe(b, b2, sizeof b2));
    g->ydims[i] = da == 1 ? db : da;
    g->astr[i] = da == 1 ? 0 : sa;
    g->bstr[i] = db == 1 ? 0 : sb;
    sa *= da, sb *= db;
    g->nbatch *= g->ydims[i];
  }
  g->yrank = g->brank;
  if (a->rank > 1) g->ydims[g->yrank++] = g->m;
  if (b->rank > 1) g->ydims[g->yrank++] = g->n;
  return true;
}

/* acc[batch][i][j] of the shifted operands. */
static void imat_acc(const IMat *g, const int64_t *a, const int64_t *b, int64_t *acc) {
  int64_t idx[TENSOR_MAX_RANK] = {0};
  for (int64_t t = 0; t < g->nbatch; t++) {
    int64_t ao = 0, bo = 0;
    for (int32_t d = 0; d < g->brank; d++) ao += idx[d] * g->astr[d], bo += idx[d] * g->bstr[d];
    const int64_t *am = a + ao * g->m * g->kk, *bm = b + bo * g->kk * g->n;
    int64_t *y = acc + t * g->m * g->n;
    for (int64_t i = 0; i < g->m; i++)
      for (int64_t j = 0; j < g->n; j++) {
        int64_t s = 0;
        for (int64_t p = 0; p < g->kk; p++) s += am[i * g->kk + p] * bm[p * g->n + j];
        y[i * g->n + j] = s;
      }
    for (int32_t d = g->brank - 1; d >= 0 && ++idx[d] == g->ydims[d]; d--) idx[d] = 0;
  }
}

/* ---- fast path: 8-bit operands, int16 + exact int32 GEMM ------------ */

static bool is_8bit(IrElem e) { return e == IR_ELEM_U8 || e == IR_ELEM_I8; }

/* im2col of one group's cg channels (int16, padding 0 after the zero point
 * is subtracted). */
DEFINE_IM2COL(int16_t, im2col_i16)

/* iconv_acc on int16 operands: per batch and group, W_g [mg x cg*ksz] times
 * the im2col patches [cg*ksz x osp] lands in acc's [mg x osp] block. */
static bool iconv_acc_fast(const IConv *cv, const int16_t *x, const int16_t *w, int64_t *acc) {
  const G3 *g = &cv->g;
  int64_t cg = cv->c / cv->group, mg = cv->m / cv->group, isp = prod3(g->in), osp = prod3(g->out);
  int64_t kg = cg * prod3(g->k);
  bool pointwise = prod3(g->k) == 1 && isp == osp;
  for (int j = 0; j < 3; j++) pointwise = pointwise && g->s[j] == 1 && g->p[j] == 0;
  int16_t *col = pointwise ? NULL : malloc((size_t)(kg * osp + 1) * sizeof *col);
  if (!pointwise && !col) return false;
  bool ok = true;
  for (int64_t b = 0; ok && b < cv->n; b++)
    for (int64_t gi = 0; ok && gi < cv->group; gi++) {
      const int16_t *xg = x + (b * cv->c + gi * cg) * isp;
      if (!pointwise) im2col_i16(xg, cg, g, col);
      ok = gemm_i16_exact(mg, osp, kg, w + gi * mg * kg, kg, pointwise ? xg : col, osp,
                          acc + (b * cv->m + gi * mg) * osp, osp);
    }
  free(col);
  return ok;
}

/* imat_acc on int16 operands. */
static bool imat_acc_fast(const IMat *g, const int16_t *a, const int16_t *b, int64_t *acc) {
  int64_t idx[TENSOR_MAX_RANK] = {0};
  for (int64_t t = 0; t < g->nbatch; t++) {
    int64_t ao = 0, bo = 0;
    for (int32_t d = 0; d < g->brank; d++) ao += idx[d] * g->astr[d], bo += idx[d] * g->bstr[d];
    if (!gemm_i16_exact(g->m, g->n, g->kk, a + ao * g->m * g->kk, g->kk, b + bo * g->kk * g->n, g->n,
                        acc + t * g->m * g->n, g->n))
      return false;
    for (int32_t d = g->brank - 1; d >= 0 && ++idx[d] == g->ydims[d]; d--) idx[d] = 0;
  }
  return true;
}

/* t - zp straight into int16 for 8-bit t whose zero point is absent, one
 * element of t's type or 1-D along axis (what lower-int emits); false for
 * anything else, which goes through shift_zp and its checks instead. */
static bool shift_i16(const Tensor *t, const Tensor *zp, int32_t axis, int16_t *out) {
  if (zp && zp->elem != t->elem) return false;
  bool per_axis = zp && zp->numel != 1;
  if (per_axis && !(zp->rank == 1 && axis >= 0 && zp->dims[0] == t->dims[axis])) return false;
  if (t->numel == 0) return true;
  int64_t inner = per_axis ? dense_span(t, axis + 1, t->rank) : t->numel, nz = per_axis ? zp->numel : 1;
  const uint8_t *u = t->data;
  const int8_t *sg = t->data;
  for (int64_t base = 0, zi = 0; base < t->numel; base += inner, zi = zi + 1 == nz ? 0 : zi + 1) {
    int16_t z = zp ? (int16_t)tensor_get_i64(zp, zi) : 0;
    if (t->elem == IR_ELEM_U8)
      for (int64_t r = 0; r < inner; r++) out[base + r] = (int16_t)(u[base + r] - z);
    else
      for (int64_t r = 0; r < inner; r++) out[base + r] = (int16_t)(sg[base + r] - z);
  }
  return true;
}

/* ---- the four ops -------------------------------------------------- */

/* The geometry of an integer product: a convolution (x, w) or a matmul
 * (A, B), the result's shape, and how result elements find their row (A's
 * per-row parameters) and column (B's per-column, w's per-channel ones). */
typedef struct IProd {
  bool conv;
  IConv cv;
  IMat mm;
  int32_t yrank;
  int64_t ydims[TENSOR_MAX_RANK];
  int64_t nrow, ncol, inner; /* element i: row i / (ncol * inner) % nrow, column i / inner % ncol */
} IProd;

static bool iprod_setup(KernelCtx *k, bool conv, const Tensor *a, const Tensor *b, IProd *p) {
  p->conv = conv;
  if (!ir_elem_is_int(a->elem) || !ir_elem_is_int(b->elem))
    return kernel_fail(k, "operands must be integer tensors, got %s and %s", ir_elem_name(a->elem),
                       ir_elem_name(b->elem));
  if (conv) {
    if (!iconv_setup(k, a, b, &p->cv)) return false;
    int32_t nsp = a->rank - 2;
    p->yrank = a->rank;
    p->ydims[0] = p->cv.n, p->ydims[1] = p->cv.m;
    for (int32_t i = 0; i < nsp; i++) p->ydims[2 + i] = p->cv.g.out[3 - nsp + i];
    p->nrow = 1, p->ncol = p->cv.m, p->inner = prod3(p->cv.g.out);
    return true;
  }
  if (!imat_setup(k, a, b, &p->mm)) return false;
  p->yrank = p->mm.yrank;
  for (int32_t i = 0; i < p->yrank; i++) p->ydims[i] = p->mm.ydims[i];
  p->nrow = p->mm.m, p->ncol = p->mm.n, p->inner = 1;
  return true;
}

/* The accumulators (malloc'ed, y->numel of them) of (a - az) * (b - bz),
 * or NULL with a kernel_fail. Zero points: conv x per tensor, w per tensor
 * or channel; matmul A per row, B per column (or broadcasting tensors). */
static int64_t *iprod_acc(KernelCtx *k, const IProd *p, const Tensor *a, const Tensor *az, const Tensor *b,
                          const Tensor *bz, int64_t nacc) {
  if (p->conv && az && az->numel != 1) {
    kernel_fail(k, "x zero point must have one element");
    return NULL;
  }
  int64_t *acc = malloc((size_t)(nacc + 1) * sizeof *acc);
  if (!acc) {
    kernel_fail(k, "out of memory");
    return NULL;
  }
  int32_t aaxis = p->conv || a->rank < 2 ? -1 : a->rank - 2, baxis = p->conv ? 0 : b->rank < 2 ? -1 : b->rank - 1;
  /* Fast path: both operands 8-bit, so every shifted value is in
   * [-255, 255] (a zero point must have its operand's type). */
  bool fast = is_8bit(a->elem) && is_8bit(b->elem), ok = true;
  int16_t *a16 = fast ? malloc((size_t)(a->numel + b->numel + 1) * sizeof *a16) : NULL;
  int16_t *b16 = a16 ? a16 + a->numel : NULL;
  if (fast && !a16) ok = kernel_fail(k, "out of memory");
  if (ok && fast && !(shift_i16(a, az, aaxis, a16) && shift_i16(b, bz, baxis, b16))) {
    /* Another zero-point shape: the generic shift (and its errors), narrowed. */
    int64_t *as = malloc((size_t)(a->numel + b->numel + 1) * sizeof *as), *bs = as ? as + a->numel : NULL;
    ok = as ? shift_zp(k, a, az, aaxis, p->conv ? "x" : "A", as) && shift_zp(k, b, bz, baxis, p->conv ? "w" : "B", bs)
            : kernel_fail(k, "out of memory");
    for (int64_t i = 0; ok && i < a->numel + b->numel; i++) a16[i] = (int16_t)as[i];
    free(as);
  }
  if (ok && fast && !(p->conv ? iconv_acc_fast(&p->cv, a16, b16, acc) : imat_acc_fast(&p->mm, a16, b16, acc)))
    ok = kernel_fail(k, "out of memory");
  free(a16);
  if (ok && !fast) {
    int64_t *as = malloc((size_t)(a->numel + b->numel + 1) * sizeof *as), *bs = as ? as + a->numel : NULL;
    ok = as ? shift_zp(k, a, az, aaxis, p->conv ? "x" : "A", as) && shift_zp(k, b, bz, baxis, p->conv ? "w" : "B", bs)
            : kernel_fail(k, "out of memory");
    if (ok && p->conv) iconv_acc(&p->cv, as, bs, acc);
    if (ok && !p->conv) imat_acc(&p->mm, as, bs, acc);
    free(as);
  }
  if (!ok) free(acc);
  return ok ? acc : NULL;
}

/* ConvInteger (x, w, x_zp, w_zp) and MatMulInteger (A, B, a_zp, b_zp): i32. */
static bool integer_op(KernelCtx *k, bool conv) {
  if (!need(k, conv ? "x, w" : "A, B", 2)) return false;
  IProd p;
  Tensor *y;
  if (!iprod_setup(k, conv, kernel_in(k, 0), kernel_in(k, 1), &p) ||
      !(y = kernel_output(k, 0, IR_ELEM_I32, p.yrank, p.ydims)))
    return false;
  int64_t *acc = iprod_acc(k, &p, kernel_in(k, 0), kernel_in(k, 2), kernel_in(k, 1), kernel_in(k, 3), y->numel);
  for (int64_t i = 0; acc && i < y->numel; i++) tensor_set_i64(y, i, acc[i]);
  free(acc);
  return acc != NULL;
}

/* QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]) and
 * QLinearMatMul (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp). */
static bool qlinear_op(KernelCtx *k, bool conv) {
  if (!need(k, conv ? "x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point"
                    : "a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point",
            8))
    return false;
  const Tensor *a = kernel_in(k, 0), *b = kernel_in(k, 3), *yzp = kernel_in(k, 7), *bias = kernel_in(k, 8);
  IrElem ye = kernel_result_elem(k, 0), se = kernel_in(k, 1)->elem;
  if (yzp->elem != ye || !ir_elem_is_int(ye) || yzp->numel != 1)
    return kernel_fail(k, "y zero point must be one element of the result type %s", ir_elem_name(ye));
  IProd p;
  if (!iprod_setup(k, conv, a, b, &p)) return false;
  if (bias && (bias->elem != IR_ELEM_I32 || bias->rank != 1 || bias->dims[0] != p.ncol))
    return kernel_fail(k, "bias must be i32 of shape [%lld]", (long long)p.ncol);
  double *sa = malloc((size_t)(p.nrow + p.ncol + 1) * sizeof *sa), *sb = sa ? sa + p.nrow : NULL, ys;
  if (!sa) return kernel_fail(k, "out of memory");
  Tensor *y = NULL;
  int64_t *acc = NULL;
  bool ok = scale_vec(k, kernel_in(k, 1), p.nrow, conv ? "x_scale" : "a_scale", sa) &&
            scale_vec(k, kernel_in(k, 4), p.ncol, conv ? "w_scale" : "b_scale", sb) &&
            scale_vec(k, kernel_in(k, 6), 1, "y_scale", &ys) && (y = kernel_output(k, 0, ye, p.yrank, p.ydims)) &&
            (acc = iprod_acc(k, &p, a, kernel_in(k, 2), b, kernel_in(k, 5), y->numel));
  int64_t z = ok ? tensor_get_i64(yzp, 0) : 0;
  for (int64_t i = 0; ok && i < y->numel; i++) {
    int64_t col = i / p.inner % p.ncol, row = i / (p.inner * p.ncol) % p.nrow;
    requant_store(y, i, acc[i] + (bias ? tensor_get_i64(bias, col) : 0), multiplier(se, sa[row], sb[col], ys), z);
  }
  free(acc);
  free(sa);
  return ok;
}

static bool k_conv_integer(KernelCtx *k) { return integer_op(k, true); }
static bool k_matmul_integer(KernelCtx *k) { return integer_op(k, false); }
static bool k_qlinear_conv(KernelCtx *k) { return qlinear_op(k, true); }
static bool k_qlinear_matmul(KernelCtx *k) { return qlinear_op(k, false); }

void kernels_register_qlinear(KernelFn *table) {
  table[IR_OP_CONV_INTEGER] = k_conv_integer;
  table[IR_OP_MATMUL_INTEGER] = k_matmul_integer;
  table[IR_OP_QLINEAR_CONV] = k_qlinear_conv;
  table[IR_OP_QLINEAR_MATMUL] = k_qlinear_matmul;
}
