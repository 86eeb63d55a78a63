/* Kernels: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceSumSquare, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp,
 * ArgMax, ArgMin.
 *
 * Axes come from the `axes` attribute when present (hand-written IR, old
 * opsets the importer left as they were), else from operand #1; none (or
 * an empty list) reduces everything, or nothing with noop_with_empty_axes.
 * Float inputs accumulate in double and round once, which matches numpy's
 * float32 pairwise sums to well within 1e-6 relative and is exact for the
 * narrow float types; integers accumulate in int64, wrapping like the
 * result type. Empty reductions give the identity: 0 for sums, 1 for
 * products, -inf/+inf (integer min/max) for Max/Min, NaN for Mean. Under
 * InterpNumerics ORT, f32 ReduceSum/ReduceMean add in ONNX Runtime's order
 * instead (ort_numerics.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "interp/k_elementwise.h"
#include "interp/ort_numerics.h"
#include "support/arena.h"

typedef enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_SUMSQ, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP } RedOp;

typedef struct RedCtx {
  RedOp op;
  const Tensor *x;
  double *acc;     /* float path */
  int64_t *iacc;   /* integer path */
  const double *mx; /* LogSumExp: per-output max */
  bool u;          /* u64 */
} RedCtx;

static double fold_d(RedOp o, double a, double v, double m) {
  switch (o) {
  case R_MAX: return v > a || isnan(v) ? v : a;
  case R_MIN: return v < a || isnan(v) ? v : a;
  case R_PROD: return a * v;
  case R_SUMSQ:
  case R_L2: return a + v * v;
  case R_L1: return a + fabs(v);
  case R_LOGSUMEXP: return a + exp(v - m);
  default: return a + v;
  }
}

static int64_t fold_i(RedOp o, int64_t a, int64_t v, bool u) {
  uint64_t ua = (uint64_t)a, uv = (uint64_t)v;
  switch (o) {
  case R_MAX: return (u ? uv > ua : v > a) ? v : a;
  case R_MIN: return (u ? uv < ua : v < a) ? v : a;
  case R_PROD: return (int64_t)(ua * uv);
  case R_SUMSQ: return (int64_t)(ua + uv * uv);
  case R_L1: return (int64_t)(ua + (v < 0 && !u ? 0 - uv : uv));
  default: return (int64_t)(ua + uv);
  }
}

/* operand 0: x (contiguous), operand 1: the accumulator slot. */
static bool red_row(void *vc, const int64_t *off, const int64_t *st, int64_t n) {
  RedCtx *c = vc;
  int64_t xo = off[0], ao = off[1], xs = st[0], as = st[1];
  if (c->iacc) {
    for (int64_t i = 0; i < n; i++) {
      int64_t *a = c->iacc + ao + i * as;
      *a = fold_i(c->op, *a, tensor_get_i64(c->x, xo + i * xs), c->u);
    }
    return true;
  }
  if (c->x->elem == IR_ELEM_F32 && as == 0 && xs == 1) { /* the common inner-axis reductions */
    const float *xp = (const float *)c->x->data + xo;
    if (c->op == R_SUM || c->op == R_MEAN) {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += xp[i];
      c->acc[ao] += s;
      return true;
    }
    if (c->op == R_MAX || c->op == R_MIN) {
      float m = xp[0];
      if (c->op == R_MAX) {
        for (int64_t i = 1; i < n; i++) m = xp[i] > m || xp[i] != xp[i] ? xp[i] : m;
      } else {
        for (int64_t i = 1; i < n; i++) m = xp[i] < m || xp[i] != xp[i] ? xp[i] : m;
      }
      c->acc[ao] = fold_d(c->op, c->acc[ao], m, 0);
      return true;
    }
  }
  for (int64_t i = 0; i < n; i++) {
    double *a = c->acc + ao + i * as;
    double v = c->x->elem == IR_ELEM_F32 ? ((const float *)c->x->data)[xo + i * xs] : tensor_get_f64(c->x, xo + i * xs);
    *a = fold_d(c->op, *a, v, c->mx ? c->mx[ao + i * as] : 0);
  }
  return true;
}

/* The reduced axes into mask; false with a kernel_fail on bad axes.
 * *none: no axes were given. */
static bool read_axes(KernelCtx *k, int32_t rank, bool *mask, bool *none) {
  const IrAttr *a = ir_op_attr(k->op, "axes");
  const Tensor *t = kernel_in(k, 1);
  int64_t n = a ? a->u.ints.n : t ? t->numel : 0;
  if (!a && t && !ir_elem_is_int(t->elem)) return kernel_fail(k, "axes must be integers, got %s", ir_elem_name(t->elem));
  for (int32_t i = 0; i < rank; i++) mask[i] = false;
  *none = n == 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t v = a ? a->u.ints.v[i] : tensor_get_i64(t, i);
    int32_t ax;
    if (!dense_axis(k, v, rank, false, &ax)) return false;
    if (mask[ax]) return kernel_fail(k, "axis %lld is repeated", (long long)v);
    mask[ax] = true;
  }
  return true;
}

static bool reduce(KernelCtx *k, RedOp o) {
  const Tensor *x = kernel_in(k, 0);
  IrElem ye = kernel_result_elem(k, 0);
  if (!ew_check_elem(k, 0, ye)) return false;
  bool mask[TENSOR_MAX_RANK], none = true;
  if (!read_axes(k, x->rank, mask, &none)) return false;
  bool keep = ir_op_attr_int(k->op, "keepdims", 1) != 0;
  if (none && ir_op_attr_int(k->op, "noop_with_empty_axes", 0)) {
    Tensor *y = kernel_output(k, 0, ye, x->rank, x->dims);
    if (y && x->nbytes) memcpy(y->data, x->data, x->nbytes);
    return y != NULL;
  }
  int64_t kd[TENSOR_MAX_RANK], yd[TENSOR_MAX_RANK], count = 1;
  int32_t yr = 0;
  for (int32_t i = 0; i < x->rank; i++) {
    bool red = none || mask[i];
    kd[i] = red ? 1 : x->dims[i];
    if (red) count *= x->dims[i];
    if (!red || keep) yd[yr++] = kd[i];
  }
  Tensor *y = kernel_output(k, 0, ye, yr, yd);
  if (!y) return false;
  if (k->numerics == INTERP_NUMERICS_ORT && (o == R_SUM || o == R_MEAN) && x->elem == IR_ELEM_F32 && ye == IR_ELEM_F32) {
    for (int32_t i = 0; none && i < x->rank; i++) mask[i] = true;
    if (ortnum_reduce_sum((const float *)x->data, x->rank, x->dims, mask, o == R_MEAN, (float *)y->data)) return true;
  }
  int64_t st[2][TENSOR_MAX_RANK];
  ew_contig_strides(x->rank, x->dims, st[0]);
  Tensor kshape = {.rank = x->rank};
  for (int32_t i = 0; i < x->rank; i++) kshape.dims[i] = kd[i];
  kernel_broadcast_strides(&kshape, x->rank, x->dims, st[1]);
  bool fl = ir_elem_is_float(ye) || o == R_L2 || o == R_LOGSUM || o == R_LOGSUMEXP;
  int64_t ny = y->numel;
  RedCtx c = {.op = o, .x = x, .u = ye == IR_ELEM_U64};
  double *mx = NULL;
  if (fl) {
    c.acc = xmalloc((size_t)(ny ? ny : 1) * sizeof *c.acc);
    double init = o == R_MAX || o == R_LOGSUMEXP ? -INFINITY : o == R_MIN ? INFINITY : o == R_PROD ? 1 : 0;
    for (int64_t i = 0; i < ny; i++) c.acc[i] = init;
    if (o == R_LOGSUMEXP) { /* subtract the max so exp cannot overflow */
      c.op = R_MAX;
      ew_walk(x->rank, x->dims, 2, st, red_row, &c);
      mx = c.acc;
      c.acc = xmalloc((size_t)(ny ? ny : 1) * sizeof *c.acc);
      for (int64_t i = 0; i < ny; i++) c.acc[i] = 0;
      c.mx = mx;
      c.op = o;
    }
  } else {
    int64_t lo = 0, hi = 0;
    if (o == R_MAX || o == R_MIN) ir_elem_int_range(ye, &lo, &hi);
    if (c.u) lo = 0, hi = -1; /* u64 max as a bit pattern */
    c.iacc = xmalloc((size_t)(ny ? ny : 1) * sizeof *c.iacc);
    for (int64_t i = 0; i < ny; i++) c.iacc[i] = o == R_MAX ? lo : o == R_MIN ? hi : o == R_PROD ? 1 : 0;
  }
  ew_walk(x->rank, x->dims, 2, st, red_row, &c);
  for (int64_t i = 0; i < ny; i++) {
    if (!fl) {
      int64_t v = c.iacc[i];
      tensor_set_i64(y, i, o == R_MEAN ? (count ? v / count : 0) : v);
      continue;
    }
    double v = c.acc[i];
    switch (o) {
    case R_MEAN: v /= (double)count; break;
    case R_L2: v = sqrt(v); break;
    case R_LOGSUM: v = log(v); break;
    case R_LOGSUMEXP: v = isinf(mx[i]) ? mx[i] : log(v) + mx[i]; break;
    default: break;
    }
    tensor_set_f64(y, i, v);
  }
  free(c.acc);
  free(c.iacc);
  free(mx);
  return true;
}

static bool k_reduce_sum(KernelCtx *k) { return reduce(k, R_SUM); }
static bool k_reduce_mean(KernelCtx *k) { return reduce(k, R_MEAN); }
static bool k_reduce_max(KernelCtx *k) { return reduce(k, R_MAX); }
static bool k_reduce_min(KernelCtx *k) { return reduce(k, R_MIN); }
static bool k_reduce_prod(KernelCtx *k) { return reduce(k, R_PROD); }
static bool k_reduce_sumsq(KernelCtx *k) { return reduce(k, R_SUMSQ); }
static bool k_reduce_l1(KernelCtx *k) { return reduce(k, R_L1); }
static bool k_reduce_l2(KernelCtx *k) { return reduce(k, R_L2); }
static bool k_reduce_logsum(KernelCtx *k) { return reduce(k, R_LOGSUM); }
static bool k_reduce_logsumexp(KernelCtx *k) { return reduce(k, R_LOGSUMEXP); }

/* ArgMax/ArgMin along `axis`: the first extreme (the last with
 * select_last_index); NaN counts as the extreme, as numpy's argmax does. */
static bool arg_extreme(KernelCtx *k, bool max) {
  const Tensor *x = kernel_in(k, 0);
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", 0), x->rank, false, &axis)) return false;
  bool keep = ir_op_attr_int(k->op, "keepdims", 1) != 0, last = ir_op_attr_int(k->op, "select_last_index", 0) != 0;
  int64_t len = x->dims[axis], outer = dense_span(x, 0, axis), inner = dense_span(x, axis + 1, x->rank);
  if (len == 0) return kernel_fail(k, "cannot take the arg-extreme of an empty axis %d", axis);
  int64_t yd[TENSOR_MAX_RANK];
  int32_t yr = 0;
  for (int32_t i = 0; i < x->rank; i++)
    if (i != axis || keep) yd[yr++] = i == axis ? 1 : x->dims[i];
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), yr, yd);
  if (!y) return false;
  bool fl = ir_elem_is_float(x->elem), u = x->elem == IR_ELEM_U64;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * len * inner + in, best = 0;
      double bf = fl ? tensor_get_f64(x, base) : 0;
      int64_t bi = fl ? 0 : tensor_get_i64(x, base);
      for (int64_t j = 1; j < len; j++) {
        bool take;
        if (fl) {
          double v = tensor_get_f64(x, base + j * inner);
          if (isnan(bf)) break;
          take = isnan(v) || (max ? (last ? v >= bf : v > bf) : (last ? v <= bf : v < bf));
          if (take) bf = v;
        } else {
          int64_t v = tensor_get_i64(x, base + j * inner);
          uint64_t uv = (uint64_t)v, ub = (uint64_t)bi;
          bool gt = u ? uv > ub : v > bi, lt = u ? uv < ub : v < bi;
          take = max ? (gt || (last && v == bi)) : (lt || (last && v == bi));
          if (take) bi = v;
        }
        if (take) best = j;
      }
      tensor_set_i64(y, o * inner + in, best);
    }
  return true;
}

static bool k_arg_max(KernelCtx *k) { return arg_extreme(k, true); }
static bool k_arg_min(KernelCtx *k) { return arg_extreme(k, false); }

void kernels_register_reduce(KernelFn *table) {
  table[IR_OP_REDUCE_SUM] = k_reduce_sum;
  table[IR_OP_REDUCE_MEAN] = k_reduce_mean;
  table[IR_OP_REDUCE_MAX] = k_reduce_max;
  table[IR_OP_REDUCE_MIN] = k_reduce_min;
  table[IR_OP_REDUCE_PROD] = k_reduce_prod;
  table[IR_OP_REDUCE_SUM_SQUARE] = k_reduce_sumsq;
  table[IR_OP_REDUCE_L1] = k_reduce_l1;
  table[IR_OP_REDUCE_L2] = k_reduce_l2;
  table[IR_OP_REDUCE_LOG_SUM] = k_reduce_logsum;
  table[IR_OP_REDUCE_LOG_SUM_EXP] = k_reduce_logsumexp;
  table[IR_OP_ARG_MAX] = k_arg_max;
  table[IR_OP_ARG_MIN] = k_arg_min;
}
