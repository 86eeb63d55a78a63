/* Kernels: Conv and ConvTranspose over 1, 2 or 3 spatial dims (geometry
 * normalized to 3-D with leading unit dims), with groups, dilations,
 * strides, pads and auto_pad. f32 Conv runs im2col + the blocked GEMM
 * (1x1 stride-1 unpadded convolutions skip im2col) and a direct loop for
 * depthwise convolutions; ConvTranspose runs GEMM + col2im. Other float
 * types compute in double with the same loops. Bias is added after the sum,
 * as in the ONNX reference. */
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "interp/gemm_f32.h"

/* y[0..osp) = sum over cg channels and the kernel taps of w * x, for one
 * output channel: x points at the group's first input channel, w at the
 * output channel's filter (cg x k0 x k1 x k2). */
#define DEFINE_CONV_DIRECT(T, NAME)                                                              \
  static void NAME(const T *x, const T *w, T *y, int64_t cg, const G3 *g) {                      \
    int64_t isp = prod3(g->in), osp = prod3(g->out);                                             \
    for (int64_t i = 0; i < osp; i++) y[i] = 0;                                                  \
    for (int64_t c = 0; c < cg; c++)                                                             \
      for (int64_t k0 = 0; k0 < g->k[0]; k0++)                                                   \
        for (int64_t k1 = 0; k1 < g->k[1]; k1++)                                                 \
          for (int64_t k2 = 0; k2 < g->k[2]; k2++) {                                             \
            T wv = *w++;                                                                         \
            int64_t off2 = k2 * g->d[2] - g->p[2], lo, hi;                                       \
            valid_range(g->out[2], g->s[2], off2, g->in[2], &lo, &hi);                           \
            for (int64_t o0 = 0; o0 < g->out[0]; o0++) {                                         \
              int64_t i0 = o0 * g->s[0] + k0 * g->d[0] - g->p[0];                                \
              if (i0 < 0 || i0 >= g->in[0]) continue;                                            \
              for (int64_t o1 = 0; o1 < g->out[1]; o1++) {                                       \
                int64_t i1 = o1 * g->s[1] + k1 * g->d[1] - g->p[1];                              \
                if (i1 < 0 || i1 >= g->in[1]) continue;                                          \
                const T *xr = x + c * isp + (i0 * g->in[1] + i1) * g->in[2];                     \
                T *yr = y + (o0 * g->out[1] + o1) * g->out[2];                                   \
                if (g->s[2] == 1)                                                                \
                  for (int64_t o2 = lo; o2 < hi; o2++) yr[o2] += wv * xr[o2 + off2];             \
                else                                                                             \
                  for (int64_t o2 = lo; o2 < hi; o2++) yr[o2] += wv * xr[o2 * g->s[2] + off2];   \
              }                                                                                  \
            }                                                                                    \
          }                                                                                      \
  }

DEFINE_CONV_DIRECT(float, conv_direct_f32)
DEFINE_CONV_DIRECT(double, conv_direct_f64)

/* The transpose of im2col, accumulating: col rows are (mg, k0, k1, k2),
 * columns the input positions; each lands on output position
 * i*s + k*d - p. */
#define DEFINE_COL2IM(T, NAME)                                                                   \
  static void NAME(const T *col, int64_t mg, const G3 *g, T *y) {                                \
    int64_t isp = prod3(g->in), osp = prod3(g->out);                                             \
    for (int64_t c = 0; c < mg; c++)                                                             \
      for (int64_t k0 = 0; k0 < g->k[0]; k0++)                                                   \
        for (int64_t k1 = 0; k1 < g->k[1]; k1++)                                                 \
          for (int64_t k2 = 0; k2 < g->k[2]; k2++, col += isp) {                                 \
            int64_t off2 = k2 * g->d[2] - g->p[2], lo, hi;                                       \
            valid_range(g->in[2], g->s[2], off2, g->out[2], &lo, &hi);                           \
            for (int64_t i0 = 0; i0 < g->in[0]; i0++) {                                          \
              int64_t o0 = i0 * g->s[0] + k0 * g->d[0] - g->p[0];                                \
              if (o0 < 0 || o0 >= g->out[0]) continue;                                           \
              for (int64_t i1 = 0; i1 < g->in[1]; i1++) {                                        \
                int64_t o1 = i1 * g->s[1] + k1 * g->d[1] - g->p[1];                              \
                if (o1 < 0 || o1 >= g->out[1]) continue;                                         \
                const T *cr = col + (i0 * g->in[1] + i1) * g->in[2];                             \
                T *yr = y + c * osp + (o0 * g->out[1] + o1) * g->out[2];                         \
                for (int64_t i2 = lo; i2 < hi; i2++) yr[i2 * g->s[2] + off2] += cr[i2];          \
              }                                                                                  \
            }                                                                                    \
          }                                                                                      \
  }

DEFINE_COL2IM(float, col2im_f32)
DEFINE_COL2IM(double, col2im_f64)

DEFINE_IM2COL(float, im2col_f32)

/* Shared operand checks: X (N x C x ...), W, optional B of length nbias,
 * all of the result type, group >= 1. */
static bool conv_operands(KernelCtx *k, int64_t *group) {
  const Tensor *x = kernel_in(k, 0), *w = kernel_in(k, 1), *b = kernel_in(k, 2);
  IrElem ye = kernel_result_elem(k, 0);
  if (!ir_elem_is_float(ye)) return kernel_fail(k, "only float types are supported, not %s", ir_elem_name(ye));
  if (x->elem != ye || w->elem != ye || (b && b->elem != ye))
    return kernel_fail(k, "operand types differ from the result type %s", ir_elem_name(ye));
  if (x->rank < 3 || x->rank > 5)
    return kernel_fail(k, "input must be N x C x D1 [x D2 [x D3]] (rank 3 to 5), got rank %d", x->rank);
  if (w->rank != x->rank) return kernel_fail(k, "weight has rank %d, input rank %d", w->rank, x->rank);
  *group = ir_op_attr_int(k->op, "group", 1);
  if (*group < 1) return kernel_fail(k, "group must be positive, got %lld", (long long)*group);
  int64_t ks[WIN_MAX_SPATIAL];
  if (!dense_attr_ints(k, "kernel_shape", x->rank - 2, 0, ks)) return false;
  for (int32_t i = 0; i < x->rank - 2; i++)
    if (ks[i] && ks[i] != w->dims[2 + i])
      return kernel_fail(k, "kernel_shape[%d] = %lld but the weight's dim is %lld", i, (long long)ks[i],
                         (long long)w->dims[2 + i]);
  return true;
}

static bool check_bias(KernelCtx *k, const Tensor *b, int64_t m) {
  if (b && (b->rank != 1 || b->dims[0] != m))
    return kernel_fail(k, "bias must have shape [%lld], got rank %d with %lld elements", (long long)m, b->rank,
                       (long long)b->numel);
  return true;
}

/* With an empty input or weight (a zero channel or spatial dim) the output
 * is the bias alone: nothing is read from the empty tensors, whose data
 * pointers are NULL. */
static bool bias_only(const Tensor *x, const Tensor *w, const Tensor *b, Tensor *y, int64_t m) {
  if (x->numel && w->numel) return false;
  int64_t per = y->numel / (y->dims[0] * m);
  for (int64_t i = 0; i < y->numel; i++) tensor_set_f64(y, i, b ? tensor_get_f64(b, (i / per) % m) : 0.0);
  return true;
}

static bool k_conv(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *w = kernel_in(k, 1), *b = kernel_in(k, 2);
  int64_t group;
  if (!conv_operands(k, &group)) return false;
  int64_t nb = x->dims[0], c = x->dims[1], m = w->dims[0], cg = w->dims[1];
  if (c % group || m % group)
    return kernel_fail(k, "group %lld does not divide the %lld input and %lld output channels", (long long)group,
                       (long long)c, (long long)m);
  if (cg * group != c)
    return kernel_fail(k, "input has %lld channels but the weight expects %lld (%lld per group x %lld groups)",
                       (long long)c, (long long)(cg * group), (long long)cg, (long long)group);
  if (!check_bias(k, b, m)) return false;
  WinGeom wg;
  if (!win_geom(k, x, w->dims + 2, false, &wg)) return false;
  G3 g;
  g3_from(&wg, &g);
  int64_t dims[5] = {nb, m};
  for (int32_t i = 0; i < wg.nsp; i++) dims[2 + i] = wg.out[i];
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), x->rank, dims);
  if (!y) return false;
  int64_t isp = prod3(g.in), osp = prod3(g.out), mg = m / group, kvol = prod3(g.k), kc = cg * kvol;
  if (y->numel == 0 || bias_only(x, w, b, y, m)) return true;
  if (y->elem == IR_ELEM_F32) {
    const float *xp = x->data, *wp = w->data, *bp = b ? b->data : NULL;
    float *yp = y->data;
    bool pointwise = kvol == 1 && g.p[0] == 0 && g.p[1] == 0 && g.p[2] == 0 && g.s[0] * g.s[1] * g.s[2] == 1;
    bool direct = cg == 1 && group > 1;
    float *col = pointwise || direct ? NULL : malloc((size_t)(kc * osp) * sizeof *col);
    if (!pointwise && !direct && !col) return kernel_fail(k, "out of memory for the im2col buffer");
    bool ok = true;
    for (int64_t n = 0; ok && n < nb; n++)
      for (int64_t gi = 0; ok && gi < group; gi++) {
        const float *xg = xp + (n * c + gi * cg) * isp;
        float *yg = yp + (n * m + gi * mg) * osp;
        if (direct) {
          for (int64_t oc = 0; oc < mg; oc++) conv_direct_f32(xg, wp + (gi * mg + oc) * kc, yg + oc * osp, cg, &g);
          continue;
        }
        if (!pointwise) im2col_f32(xg, cg, &g, col);
        GemmMat a = {wp + gi * mg * kc, kc, 1}, bm = {pointwise ? xg : col, osp, 1};
        ok = gemm_f32(mg, osp, kc, a, bm, yg, osp, false);
      }
    free(col);
    if (!ok) return kernel_fail(k, "out of memory");
    if (bp)
      for (int64_t n = 0; n < nb; n++)
        for (int64_t oc = 0; oc < m; oc++)
          for (int64_t i = 0; i < osp; i++) yp[(n * m + oc) * osp + i] += bp[oc];
    return true;
  }
  double *xd = dense_to_f64(k, x), *wd = xd ? dense_to_f64(k, w) : NULL, *bd = wd && b ? dense_to_f64(k, b) : NULL;
  double *yd = wd && (bd || !b) ? malloc((size_t)y->numel * sizeof *yd) : NULL;
  bool ok = yd != NULL;
  for (int64_t n = 0; ok && n < nb; n++)
    for (int64_t oc = 0; oc < m; oc++) {
      double *yr = yd + (n * m + oc) * osp;
      conv_direct_f64(xd + (n * c + oc / mg * cg) * isp, wd + oc * kc, yr, cg, &g);
      if (bd)
        for (int64_t i = 0; i < osp; i++) yr[i] += bd[oc];
    }
  if (ok) dense_from_f64(y, yd);
  free(xd);
  free(wd);
  free(bd);
  free(yd);
  return ok || kernel_fail(k, "out of memory");
}

/* ConvTranspose geometry (ONNX spec): output size from output_shape, from
 * auto_pad SAME_* (in * stride) or from the pads; with a given output size
 * the total padding splits as the spec says (the odd one at the start
 * unless SAME_UPPER). */
static bool convt_geom(KernelCtx *k, const Tensor *x, const Tensor *w, G3 *g) {
  int32_t n = x->rank - 2, lead = 3 - n;
  int64_t s[3], d[3], opad[3], pads[6], oshape[5];
  if (!dense_attr_ints(k, "strides", n, 1, s) || !dense_attr_ints(k, "dilations", n, 1, d) ||
      !dense_attr_ints(k, "output_padding", n, 0, opad) || !dense_attr_ints(k, "pads", 2 * n, 0, pads))
    return false;
  const IrAttr *os = ir_op_attr(k->op, "output_shape");
  if (os && os->kind == IR_ATTR_INTS && os->u.ints.n == (uint32_t)n + 2) /* N, C given too: drop them */
    for (int32_t i = 0; i < n; i++) oshape[i] = os->u.ints.v[i + 2];
  else if (os && !dense_attr_ints(k, "output_shape", n, 0, oshape))
    return false;
  const char *ap = ir_op_attr_string(k->op, "auto_pad", "NOTSET");
  bool same = strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0, valid = strcmp(ap, "VALID") == 0;
  if (!same && !valid && strcmp(ap, "NOTSET") != 0) return kernel_fail(k, "unknown auto_pad '%s'", ap);
  for (int32_t i = 0; i < 3; i++) g->in[i] = g->k[i] = g->s[i] = g->d[i] = g->out[i] = 1, g->p[i] = 0;
  for (int32_t i = 0; i < n; i++) {
    int32_t j = lead + i;
    g->in[j] = x->dims[2 + i], g->k[j] = w->dims[2 + i], g->s[j] = s[i], g->d[j] = d[i];
    if (s[i] < 1 || d[i] < 1) return kernel_fail(k, "strides and dilations must be positive");
    if (opad[i] < 0 || pads[i] < 0 || pads[n + i] < 0) return kernel_fail(k, "pads must not be negative");
    int64_t full = s[i] * (g->in[j] - 1) + opad[i] + (g->k[j] - 1) * d[i] + 1;
    if (os || same) {
      int64_t out = os ? oshape[i] : g->in[j] * s[i], total = full - out;
      g->out[j] = out;
      /* Floor division as the reference's Python `//`: a negative total
       * (output larger than the full result) pads at the end. */
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      g->p[j] = strcmp(ap, "SAME_UPPER") == 0 ? half : total - half;
    } else {
      g->p[j] = valid ? 0 : pads[i];
      g->out[j] = full - (valid ? 0 : pads[i] + pads[n + i]);
    }
    if (g->out[j] < 1) return kernel_fail(k, "spatial dim %d of the output would be %lld", i, (long long)g->out[j]);
  }
  return true;
}

static bool k_conv_transpose(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *w = kernel_in(k, 1), *b = kernel_in(k, 2);
  int64_t group;
  if (!conv_operands(k, &group)) return false;
  int64_t nb = x->dims[0], c = x->dims[1], mg = w->dims[1], m = mg * group;
  if (w->dims[0] != c || c % group)
    return kernel_fail(k, "input has %lld channels, the weight %lld; group %lld must divide them", (long long)c,
                       (long long)w->dims[0], (long long)group);
  if (!check_bias(k, b, m)) return false;
  G3 g;
  if (!convt_geom(k, x, w, &g)) return false;
  int64_t dims[5] = {nb, m};
  for (int32_t i = 0; i < x->rank - 2; i++) dims[2 + i] = g.out[3 - (x->rank - 2) + i];
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), x->rank, dims);
  if (!y) return false;
  int64_t cg = c / group, isp = prod3(g.in), osp = prod3(g.out), rows = mg * prod3(g.k);
  if (y->numel == 0 || bias_only(x, w, b, y, m)) return true;
  bool f32 = y->elem == IR_ELEM_F32, ok = true;
  double *xd = f32 ? NULL : dense_to_f64(k, x), *wd = f32 || !xd ? NULL : dense_to_f64(k, w);
  double *yd = f32 ? NULL : calloc((size_t)y->numel, sizeof *yd);
  void *col = malloc((size_t)(rows * isp) * (f32 ? sizeof(float) : sizeof(double)));
  if (!col || (!f32 && (!xd || !wd || !yd))) ok = false;
  /* Per image and group: col = W_g^T (rows x cg) * X_g (cg x isp), then
   * scattered into the output. */
  for (int64_t n = 0; ok && n < nb; n++)
    for (int64_t gi = 0; ok && gi < group; gi++) {
      int64_t xo = (n * c + gi * cg) * isp, wo = gi * cg * rows, yo = (n * m + gi * mg) * osp;
      if (f32) {
        GemmMat a = {(const float *)w->data + wo, 1, rows}, bm = {(const float *)x->data + xo, isp, 1};
        ok = gemm_f32(rows, isp, cg, a, bm, col, isp, false);
        if (ok) col2im_f32(col, mg, &g, (float *)y->data + yo);
      } else {
        gemm_f64(rows, isp, cg, wd + wo, 1, rows, xd + xo, isp, 1, col, isp, false);
        col2im_f64(col, mg, &g, yd + yo);
      }
    }
  for (int64_t n = 0; ok && b && n < nb; n++)
    for (int64_t oc = 0; oc < m; oc++)
      for (int64_t i = 0; i < osp; i++) {
        int64_t at = (n * m + oc) * osp + i;
        if (f32)
          ((float *)y->data)[at] += ((const float *)b->data)[oc];
        else
          yd[at] += tensor_get_f64(b, oc);
      }
  if (ok && !f32) dense_from_f64(y, yd);
  free(xd);
  free(wd);
  free(yd);
  free(col);
  return ok || kernel_fail(k, "out of memory");
}

void kernels_register_conv(KernelFn *table) {
  table[IR_OP_CONV] = k_conv;
  table[IR_OP_CONV_TRANSPOSE] = k_conv_transpose;
}
