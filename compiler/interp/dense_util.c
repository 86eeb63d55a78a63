/* Helpers shared by the dense kernels; see dense_util.h. */
#include "interp/dense_util.h"

#include <stdlib.h>
#include <string.h>

bool dense_attr_ints(KernelCtx *k, const char *name, int64_t n, int64_t dflt, int64_t *out) {
  const IrAttr *a = ir_op_attr(k->op, name);
  if (!a) {
    for (int64_t i = 0; i < n; i++) out[i] = dflt;
    return true;
  }
  if (a->kind != IR_ATTR_INTS) return kernel_fail(k, "attribute '%s' must be a list of ints", name);
  if ((int64_t)a->u.ints.n != n)
    return kernel_fail(k, "attribute '%s' has %u values, expected %lld", name, a->u.ints.n, (long long)n);
  for (int64_t i = 0; i < n; i++) out[i] = a->u.ints.v[i];
  return true;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool win_geom(KernelCtx *k, const Tensor *x, const int64_t *kern, bool ceil_mode, WinGeom *g) {
  if (x->rank < 3) return kernel_fail(k, "input must have rank >= 3 (N x C x spatial...), got rank %d", x->rank);
  int32_t n = x->rank - 2;
  if (n > WIN_MAX_SPATIAL) return kernel_fail(k, "at most %d spatial dims are supported", WIN_MAX_SPATIAL);
  g->nsp = n;
  int64_t pads[2 * WIN_MAX_SPATIAL];
  if (!dense_attr_ints(k, "strides", n, 1, g->stride) || !dense_attr_ints(k, "dilations", n, 1, g->dil) ||
      !dense_attr_ints(k, "pads", 2 * n, 0, pads))
    return false;
  const char *ap = ir_op_attr_string(k->op, "auto_pad", "NOTSET");
  bool same_upper = strcmp(ap, "SAME_UPPER") == 0, same_lower = strcmp(ap, "SAME_LOWER") == 0;
  bool valid = strcmp(ap, "VALID") == 0;
  if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET") != 0)
    return kernel_fail(k, "unknown auto_pad '%s'", ap);
  for (int32_t i = 0; i < n; i++) {
    g->in[i] = x->dims[2 + i];
    g->kern[i] = kern[i];
    if (g->stride[i] < 1 || g->dil[i] < 1 || kern[i] < 1)
      return kernel_fail(k, "strides, dilations and kernel_shape must be positive");
    int64_t ext = (kern[i] - 1) * g->dil[i] + 1, s = g->stride[i];
    if (same_upper || same_lower) {
      /* Output ceil(in / stride); the total padding splits evenly, the odd
       * one at the end (SAME_UPPER) or at the beginning (SAME_LOWER). */
      g->out[i] = (g->in[i] + s - 1) / s;
      int64_t total = (g->out[i] - 1) * s + ext - g->in[i];
      if (total < 0) total = 0;
      g->pad0[i] = same_upper ? total / 2 : total - total / 2;
      g->pad1[i] = total - g->pad0[i];
      continue;
    }
    g->pad0[i] = valid ? 0 : pads[i];
    g->pad1[i] = valid ? 0 : pads[n + i];
    if (g->pad0[i] < 0 || g->pad1[i] < 0) return kernel_fail(k, "pads must not be negative");
    int64_t span = g->in[i] + g->pad0[i] + g->pad1[i] - ext;
    if (span < 0) {
      g->out[i] = 0;
    } else if (ceil_mode) {
      g->out[i] = (span + s - 1) / s + 1;
      /* The last window must start inside the input or the left padding. */
      if ((g->out[i] - 1) * s >= g->in[i] + g->pad0[i]) g->out[i]--;
    } else {
      g->out[i] = floor_div(span, s) + 1;
    }
    if (g->out[i] < 1)
      return kernel_fail(k, "spatial dim %d: window of extent %lld does not fit input %lld with pads %lld+%lld", i,
                         (long long)ext, (long long)g->in[i], (long long)g->pad0[i], (long long)g->pad1[i]);
  }
  return true;
}

bool g3_from(const WinGeom *w, G3 *g) {
  if (w->nsp > 3) return false;
  int32_t lead = 3 - w->nsp;
  for (int32_t i = 0; i < 3; i++) {
    int32_t j = i - lead;
    g->in[i] = j < 0 ? 1 : w->in[j];
    g->k[i] = j < 0 ? 1 : w->kern[j];
    g->s[i] = j < 0 ? 1 : w->stride[j];
    g->d[i] = j < 0 ? 1 : w->dil[j];
    g->p[i] = j < 0 ? 0 : w->pad0[j];
    g->out[i] = j < 0 ? 1 : w->out[j];
  }
  return true;
}

void valid_range(int64_t n, int64_t s, int64_t off, int64_t limit, int64_t *lo, int64_t *hi) {
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  *hi = limit - 1 - off < 0 ? 0 : (limit - 1 - off) / s + 1;
  if (*hi > n) *hi = n;
  if (*lo > *hi) *lo = *hi;
}

double *dense_to_f64(KernelCtx *k, const Tensor *t) {
  double *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
  if (!v) {
    kernel_fail(k, "out of memory");
    return NULL;
  }
  if (t->elem == IR_ELEM_F32)
    for (int64_t i = 0; i < t->numel; i++) v[i] = ((const float *)t->data)[i];
  else if (t->elem == IR_ELEM_F64)
    memcpy(v, t->data, (size_t)t->numel * sizeof *v);
  else
    for (int64_t i = 0; i < t->numel; i++) v[i] = tensor_get_f64(t, i);
  return v;
}

void dense_from_f64(Tensor *t, const double *v) {
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, v[i]);
}

int64_t dense_span(const Tensor *t, int32_t from, int32_t to) {
  int64_t p = 1;
  for (int32_t i = from; i < to; i++) p *= t->dims[i];
  return p;
}

bool dense_axis(KernelCtx *k, int64_t axis, int32_t r, bool allow_end, int32_t *out) {
  int64_t hi = allow_end ? r : r - 1;
  if (axis < -r || axis > hi) return kernel_fail(k, "axis %lld is out of range for rank %d", (long long)axis, r);
  *out = (int32_t)(axis < 0 ? axis + r : axis);
  return true;
}
