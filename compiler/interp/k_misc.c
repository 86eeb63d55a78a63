/* Kernels: Softmax, LogSoftmax and Hardmax along one axis (the opset-13
 * form; the importer refuses the older flattening form unless it is the
 * same), TopK, and Einsum (k_einsum.c). Softmax subtracts the row max,
 * exponentiates in the input's precision (float for f32) and sums in
 * double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "interp/k_einsum.h"
#include "interp/k_elementwise.h"
#include "interp/sort_util.h"
#include "support/arena.h"

typedef enum { SM_SOFTMAX, SM_LOG, SM_HARD } SmKind;

/* One slice of n values at stride s: in place in v (doubles). */
static void softmax_slice(SmKind kind, double *v, int64_t n) {
  double m = -INFINITY;
  int64_t arg = 0;
  for (int64_t i = 0; i < n; i++)
    if (v[i] > m || (isnan(v[i]) && !isnan(m))) {
      m = v[i];
      arg = i;
      if (isnan(m)) break;
    }
  if (kind == SM_HARD) {
    for (int64_t i = 0; i < n; i++) v[i] = i == arg;
    return;
  }
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += exp(v[i] - m);
  double ls = log(s);
  for (int64_t i = 0; i < n; i++) v[i] = kind == SM_LOG ? v[i] - m - ls : exp(v[i] - m) / s;
}

/* f32 rows of n contiguous values: exp in float, sums in double. */
static void softmax_f32_row(SmKind kind, const float *x, float *y, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; i++) m = x[i] > m || x[i] != x[i] ? x[i] : m;
  double s = 0;
  for (int64_t i = 0; i < n; i++) {
    y[i] = expf(x[i] - m);
    s += y[i];
  }
  if (kind == SM_LOG) {
    float ls = (float)log(s);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] - m - ls;
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = (float)(y[i] / s);
  }
}

/* f32 along a non-inner axis: len rows of `inner` contiguous columns, each
 * column one softmax; row loops keep the access contiguous. m, s: scratch
 * of inner entries. */
static void softmax_f32_cols(SmKind kind, const float *x, float *y, int64_t len, int64_t inner, float *m, double *s) {
  for (int64_t j = 0; j < inner; j++) m[j] = -INFINITY, s[j] = 0;
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < inner; j++) {
      float v = x[i * inner + j];
      m[j] = v > m[j] || v != v ? v : m[j];
    }
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < inner; j++) {
      y[i * inner + j] = expf(x[i * inner + j] - m[j]);
      s[j] += y[i * inner + j];
    }
  if (kind == SM_LOG)
    for (int64_t j = 0; j < inner; j++) s[j] = log(s[j]);
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t q = i * inner + j;
      y[q] = kind == SM_LOG ? x[q] - m[j] - (float)s[j] : (float)(y[q] / s[j]);
    }
}

static bool softmax(KernelCtx *k, SmKind kind) {
  const Tensor *x = kernel_in(k, 0);
  IrElem e = kernel_result_elem(k, 0);
  if (!ew_check_elem(k, 0, e)) return false;
  if (!ir_elem_is_float(e)) return kernel_fail(k, "type %s is not supported", ir_elem_name(e));
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", -1), x->rank ? x->rank : 1, false, &axis)) return false;
  Tensor *y = kernel_output(k, 0, e, x->rank, x->dims);
  if (!y) return false;
  if (x->numel == 0) return true;
  int64_t outer = dense_span(x, 0, axis), len = x->rank ? x->dims[axis] : 1;
  int64_t inner = x->rank ? dense_span(x, axis + 1, x->rank) : 1;
  if (e == IR_ELEM_F32 && inner == 1 && kind != SM_HARD) {
    for (int64_t o = 0; o < outer; o++)
      softmax_f32_row(kind, (const float *)x->data + o * len, (float *)y->data + o * len, len);
    return true;
  }
  if (e == IR_ELEM_F32 && kind != SM_HARD) {
    float *m = xmalloc((size_t)inner * sizeof *m);
    double *s = xmalloc((size_t)inner * sizeof *s);
    for (int64_t o = 0; o < outer; o++)
      softmax_f32_cols(kind, (const float *)x->data + o * len * inner, (float *)y->data + o * len * inner, len, inner,
                       m, s);
    free(m);
    free(s);
    return true;
  }
  double *v = xmalloc((size_t)len * sizeof *v);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * len * inner + in;
      for (int64_t i = 0; i < len; i++) v[i] = tensor_get_f64(x, base + i * inner);
      softmax_slice(kind, v, len);
      for (int64_t i = 0; i < len; i++) tensor_set_f64(y, base + i * inner, v[i]);
    }
  free(v);
  return true;
}

static bool k_softmax(KernelCtx *k) { return softmax(k, SM_SOFTMAX); }
static bool k_log_softmax(KernelCtx *k) { return softmax(k, SM_LOG); }
static bool k_hardmax(KernelCtx *k) { return softmax(k, SM_HARD); }

/* TopK ordering: better values first, NaN last, ties by index (the sort
 * is stable). Keys are doubles for floats, int64 (u64 unsigned) else. */
typedef struct TopKey {
  const double *f;
  const int64_t *i;
  bool u, largest;
} TopKey;

static bool before(const void *vc, int64_t a, int64_t b) {
  const TopKey *c = vc;
  if (c->f) {
    double x = c->f[a], w = c->f[b];
    if (isnan(x) || isnan(w)) return !isnan(x) && isnan(w);
    return c->largest ? x > w : x < w;
  }
  int64_t x = c->i[a], w = c->i[b];
  bool gt = c->u ? (uint64_t)x > (uint64_t)w : x > w, lt = c->u ? (uint64_t)x < (uint64_t)w : x < w;
  return c->largest ? gt : lt;
}

static bool k_top_k(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *kt = kernel_in(k, 1);
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", -1), x->rank, false, &axis)) return false;
  if (!ir_elem_is_int(kt->elem) || kt->numel != 1)
    return kernel_fail(k, "K must be a single integer, got %s with %lld elements", ir_elem_name(kt->elem),
                       (long long)kt->numel);
  if (!ew_check_elem(k, 0, kernel_result_elem(k, 0))) return false;
  int64_t kk = tensor_get_i64(kt, 0), len = x->dims[axis];
  if (kk < 0 || kk > len)
    return kernel_fail(k, "K = %lld is outside [0, %lld] (the size of axis %d)", (long long)kk, (long long)len, axis);
  int64_t yd[TENSOR_MAX_RANK];
  memcpy(yd, x->dims, sizeof yd);
  yd[axis] = kk;
  Tensor *v = kernel_output(k, 0, x->elem, x->rank, yd);
  Tensor *ix = v ? kernel_output(k, 1, kernel_result_elem(k, 1), x->rank, yd) : NULL;
  if (!ix) return false;
  int64_t outer = dense_span(x, 0, axis), inner = dense_span(x, axis + 1, x->rank);
  bool fl = ir_elem_is_float(x->elem);
  size_t n = (size_t)(len ? len : 1);
  void *keys = xmalloc(n * 8); /* doubles or int64s */
  double *fk = fl ? keys : NULL;
  int64_t *ik = fl ? NULL : keys, *idx = xmalloc(2 * n * sizeof *idx), *tmp = idx + n;
  TopKey c = {fk, ik, x->elem == IR_ELEM_U64, ir_op_attr_int(k->op, "largest", 1) != 0};
  size_t eb = (size_t)ir_elem_bytes(x->elem);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * len * inner + in, ybase = o * kk * inner + in;
      for (int64_t i = 0; i < len; i++) {
        if (fl) fk[i] = tensor_get_f64(x, base + i * inner);
        else ik[i] = tensor_get_i64(x, base + i * inner);
        idx[i] = i;
      }
      index_sort_stable(idx, tmp, len, before, &c);
      for (int64_t i = 0; i < kk; i++) {
        memcpy((char *)v->data + (size_t)(ybase + i * inner) * eb, (const char *)x->data + (size_t)(base + idx[i] * inner) * eb, eb);
        tensor_set_i64(ix, ybase + i * inner, idx[i]);
      }
    }
  free(keys);
  free(idx);
  return true;
}

void kernels_register_misc(KernelFn *table) {
  table[IR_OP_SOFTMAX] = k_softmax;
  table[IR_OP_LOG_SOFTMAX] = k_log_softmax;
  table[IR_OP_HARDMAX] = k_hardmax;
  table[IR_OP_TOP_K] = k_top_k;
  kernels_register_einsum(table);
}
