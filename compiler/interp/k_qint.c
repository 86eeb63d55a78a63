/* Kernels: the quench integer ops that lower-int creates (ops.def's last
 * group). Every one ends in the dyadic requantization of
 * compiler/quant/qmath.h, called here and never re-implemented:
 *
 *   quench.Requantize   acc = sat32(x - x_zp + bias[c]);
 *                       y = clamp(y_zp + rshift(acc * m0[c], n[c]), lo, hi)
 *   quench.QAdd         v = (a - a_zp) * m_a + (b - b_zp) * m_b (int64);
 *                       y = clamp(y_zp + rshift(v, n), lo, hi)
 *   quench.QMul         acc = sat32((a - a_zp) * (b - b_zp));
 *                       y = clamp(y_zp + rshift(acc * m0, n), lo, hi)
 *   quench.QAveragePool acc = sat32(sum over the window's in-range taps of
 *                       (x - x_zp)) (padding counts as real 0);
 *                       y = clamp(y_zp + rshift(acc * m0, n), lo, hi)
 *
 * rshift is q_rounding_shift (round half up), sat32 saturation to int32.
 * docs/passes/lower-int.md derives the constants; test/unit/test_k_qint.c
 * checks each kernel on hand-computed values. */
#include <stdlib.h>

#include "interp/dense_util.h"
#include "quant/qmath.h"

#define I32_MIN (-((int64_t)1 << 31))
#define I32_MAX (((int64_t)1 << 31) - 1)

static int64_t sat32(int64_t v) { return v < I32_MIN ? I32_MIN : v > I32_MAX ? I32_MAX : v; }

/* The result's element type, zero point and clamp bounds. */
typedef struct QOut {
  IrElem e;
  int64_t zp, lo, hi;
} QOut;

static bool qout(KernelCtx *k, QOut *o) {
  o->e = kernel_result_elem(k, 0);
  int64_t qmin, qmax;
  if (!ir_elem_is_int(o->e) || ir_elem_info[o->e].bits > 16)
    return kernel_fail(k, "result type %s is not an integer type of at most 16 bits", ir_elem_name(o->e));
  ir_elem_int_range(o->e, &qmin, &qmax);
  o->zp = ir_op_attr_int(k->op, "y_zero_point", 0);
  o->lo = ir_op_attr_int(k->op, "lo", qmin);
  o->hi = ir_op_attr_int(k->op, "hi", qmax);
  if (o->zp < qmin || o->zp > qmax)
    return kernel_fail(k, "y_zero_point %lld is outside %s", (long long)o->zp, ir_elem_name(o->e));
  if (o->lo < qmin || o->hi > qmax || o->lo > o->hi)
    return kernel_fail(k, "bounds [%lld, %lld] are not an interval within %s [%lld, %lld]", (long long)o->lo,
                       (long long)o->hi, ir_elem_name(o->e), (long long)qmin, (long long)qmax);
  return true;
}

/* A dyadic multiplier from attribute values, range-checked so that
 * qmath's preconditions hold: m0 in [0, 2^31), shift in [1, 62]. */
static bool dyadic(KernelCtx *k, int64_t m0, int64_t shift, QDyadic *d) {
  if (m0 < 0 || m0 > I32_MAX || shift < 1 || shift > 62)
    return kernel_fail(k, "multiplier %lld must be in [0, 2^31) and shift %lld in [1, 62]", (long long)m0,
                       (long long)shift);
  *d = (QDyadic){(int32_t)m0, (int32_t)shift};
  return true;
}

/* An integer operand of at most 16 bits (i32 too when wide_ok), and a zero
 * point attribute that keeps |x - zp| below 2^17. */
static bool int_operand(KernelCtx *k, uint32_t i, bool wide_ok, const char *zp_name, int64_t *zp) {
  const Tensor *t = kernel_in(k, i);
  if (!t) return kernel_fail(k, "missing required input #%u", i);
  bool ok = ir_elem_is_int(t->elem) && (ir_elem_info[t->elem].bits <= 16 || (wide_ok && t->elem == IR_ELEM_I32));
  if (!ok) return kernel_fail(k, "operand #%u is %s, not an integer type of at most 16 bits", i, ir_elem_name(t->elem));
  *zp = ir_op_attr_int(k->op, zp_name, 0);
  if (*zp < -65536 || *zp > 65535) return kernel_fail(k, "%s %lld is out of range", zp_name, (long long)*zp);
  return true;
}

/* ---- quench.Requantize ---------------------------------------------- */

/* The per-channel attribute `name` (1 or nch entries). */
static const IrAttr *channel_ints(KernelCtx *k, const char *name, int64_t nch) {
  const IrAttr *a = ir_op_attr(k->op, name);
  if (!a || a->kind != IR_ATTR_INTS || (a->u.ints.n != 1 && (int64_t)a->u.ints.n != nch)) {
    kernel_fail(k, "attribute '%s' must list 1 or %lld values", name, (long long)nch);
    return NULL;
  }
  return a;
}

static bool k_requantize(KernelCtx *k) {
  QOut o;
  int64_t xzp;
  if (!qout(k, &o) || !int_operand(k, 0, true, "x_zero_point", &xzp)) return false;
  const Tensor *x = kernel_in(k, 0), *bias = kernel_in(k, 1);
  if (bias && (bias->elem != IR_ELEM_I32 || bias->rank > 1))
    return kernel_fail(k, "bias must be i32 of rank 0 or 1, got %s", ir_elem_name(bias->elem));
  int32_t axis = 0;
  int64_t nch = 1, inner = 1;
  const IrAttr *ma = ir_op_attr(k->op, "multiplier"), *sa = ir_op_attr(k->op, "shift");
  /* `axis` matters only when some parameter has more than one value. */
  bool per_channel = (ma && ma->kind == IR_ATTR_INTS && ma->u.ints.n > 1) ||
                     (sa && sa->kind == IR_ATTR_INTS && sa->u.ints.n > 1) || (bias && bias->numel > 1);
  if (per_channel) {
    if (!dense_axis(k, ir_op_attr_int(k->op, "axis", 1), x->rank, false, &axis)) return false;
    nch = x->dims[axis];
    inner = dense_span(x, axis + 1, x->rank);
  }
  const IrAttr *mul = channel_ints(k, "multiplier", nch), *sh = mul ? channel_ints(k, "shift", nch) : NULL;
  if (!sh) return false;
  if (bias && (bias->elem != IR_ELEM_I32 || bias->rank > 1 || (bias->numel != 1 && bias->numel != nch)))
    return kernel_fail(k, "bias must be i32 with 1 or %lld elements", (long long)nch);
  QDyadic *d = malloc((size_t)(nch + 1) * sizeof *d);
  if (!d) return kernel_fail(k, "out of memory");
  bool ok = true;
  for (int64_t c = 0; ok && c < nch; c++) {
    uint32_t j = mul->u.ints.n == 1 ? 0 : (uint32_t)c, js = sh->u.ints.n == 1 ? 0 : (uint32_t)c;
    ok = dyadic(k, mul->u.ints.v[j], sh->u.ints.v[js], &d[c]);
  }
  Tensor *y = ok ? kernel_output(k, 0, o.e, x->rank, x->dims) : NULL;
  for (int64_t i = 0; y && i < x->numel; i++) {
    int64_t c = i / inner % nch;
    int64_t acc = tensor_get_i64(x, i) - xzp + (bias ? tensor_get_i64(bias, bias->numel == 1 ? 0 : c) : 0);
    tensor_set_i64(y, i, q_requantize(sat32(acc), d[c], o.zp, o.lo, o.hi));
  }
  free(d);
  return y != NULL;
}

/* ---- quench.QAdd, quench.QMul --------------------------------------- */

static bool k_qbinary(KernelCtx *k, bool add) {
  QOut o;
  int64_t az, bz;
  if (!qout(k, &o) || !int_operand(k, 0, false, "a_zero_point", &az) ||
      !int_operand(k, 1, false, "b_zero_point", &bz))
    return false;
  const Tensor *a = kernel_in(k, 0), *b = kernel_in(k, 1);
  int64_t shift = ir_op_attr_int(k->op, "shift", 0), ma = 0, mb = 0;
  QDyadic d;
  if (add) {
    /* Two multipliers sharing one shift: each checked as a dyadic. */
    ma = ir_op_attr_int(k->op, "a_multiplier", -1), mb = ir_op_attr_int(k->op, "b_multiplier", -1);
    if (!dyadic(k, ma, shift, &d) || !dyadic(k, mb, shift, &d)) return false;
  } else if (!dyadic(k, ir_op_attr_int(k->op, "multiplier", -1), shift, &d)) {
    return false;
  }
  const Tensor *ab[2] = {a, b};
  int32_t r;
  int64_t dims[TENSOR_MAX_RANK], sa[TENSOR_MAX_RANK], sb[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0};
  if (!kernel_broadcast_shape(k, ab, 2, &r, dims)) return false;
  Tensor *y = kernel_output(k, 0, o.e, r, dims);
  if (!y) return false;
  kernel_broadcast_strides(a, r, dims, sa);
  kernel_broadcast_strides(b, r, dims, sb);
  for (int64_t i = 0; i < y->numel; i++) {
    int64_t ia = 0, ib = 0;
    for (int32_t j = 0; j < r; j++) ia += idx[j] * sa[j], ib += idx[j] * sb[j];
    int64_t va = tensor_get_i64(a, ia) - az, vb = tensor_get_i64(b, ib) - bz, q;
    if (add) {
      /* |va|, |vb| < 2^17 and m < 2^31: |v| < 2^49, within rshift's 2^62. */
      int64_t v = q_rounding_shift(va * ma + vb * mb, (int32_t)shift) + o.zp;
      q = v < o.lo ? o.lo : v > o.hi ? o.hi : v;
    } else {
      q = q_requantize(sat32(va * vb), d, o.zp, o.lo, o.hi);
    }
    tensor_set_i64(y, i, q);
    for (int32_t j = r - 1; j >= 0 && ++idx[j] == dims[j]; j--) idx[j] = 0;
  }
  return true;
}

static bool k_qadd(KernelCtx *k) { return k_qbinary(k, true); }
static bool k_qmul(KernelCtx *k) { return k_qbinary(k, false); }

/* ---- quench.QAveragePool ------------------------------------------- */

static bool k_qaverage_pool(KernelCtx *k) {
  QOut o;
  int64_t xzp;
  QDyadic d;
  if (!qout(k, &o) || !int_operand(k, 0, false, "x_zero_point", &xzp) ||
      !dyadic(k, ir_op_attr_int(k->op, "multiplier", -1), ir_op_attr_int(k->op, "shift", 0), &d))
    return false;
  const Tensor *x = kernel_in(k, 0);
  if (x->rank < 3 || x->rank - 2 > WIN_MAX_SPATIAL)
    return kernel_fail(k, "input must be N x C x D1 [x ...] (rank 3 to %d), got rank %d", WIN_MAX_SPATIAL + 2,
                       x->rank);
  int32_t n = x->rank - 2;
  int64_t kern[WIN_MAX_SPATIAL], str[WIN_MAX_SPATIAL], pads[2 * WIN_MAX_SPATIAL], dims[TENSOR_MAX_RANK];
  if (!ir_op_attr(k->op, "kernel_shape")) return kernel_fail(k, "attribute 'kernel_shape' is required");
  if (!dense_attr_ints(k, "kernel_shape", n, 1, kern) || !dense_attr_ints(k, "strides", n, 1, str) ||
      !dense_attr_ints(k, "pads", 2 * n, 0, pads))
    return false;
  dims[0] = x->dims[0], dims[1] = x->dims[1];
  for (int32_t i = 0; i < n; i++) {
    if (kern[i] < 1 || str[i] < 1 || pads[i] < 0 || pads[i + n] < 0)
      return kernel_fail(k, "kernel_shape and strides must be positive, pads not negative");
    int64_t span = x->dims[2 + i] + pads[i] + pads[i + n] - kern[i];
    if (span < 0) return kernel_fail(k, "the window is larger than the padded input along spatial dim %d", (int)i);
    dims[2 + i] = span / str[i] + 1;
  }
  Tensor *y = kernel_output(k, 0, o.e, x->rank, dims);
  if (!y) return false;
  int64_t ksz = 1, osp = dense_span(y, 2, y->rank), isp = dense_span(x, 2, x->rank);
  for (int32_t i = 0; i < n; i++) ksz *= kern[i];
  for (int64_t i = 0; i < y->numel; i++) {
    int64_t plane = i / osp, op = i % osp, acc = 0;
    for (int64_t t = 0; t < ksz; t++) {
      /* Output position and tap, both row-major over the spatial dims. */
      int64_t orem = op, trem = t, off = 0;
      bool in = true;
      for (int32_t j = n - 1; j >= 0; j--) {
        int64_t oj = orem % dims[2 + j], tj = trem % kern[j];
        orem /= dims[2 + j], trem /= kern[j];
        int64_t ij = oj * str[j] + tj - pads[j];
        in = in && ij >= 0 && ij < x->dims[2 + j];
        off += ij * dense_span(x, 3 + j, x->rank);
      }
      if (in) acc += tensor_get_i64(x, plane * isp + off) - xzp;
    }
    tensor_set_i64(y, i, q_requantize(sat32(acc), d, o.zp, o.lo, o.hi));
  }
  return true;
}

void kernels_register_qint(KernelFn *table) {
  table[IR_OP_Q_REQUANTIZE] = k_requantize;
  table[IR_OP_Q_ADD] = k_qadd;
  table[IR_OP_Q_MUL] = k_qmul;
  table[IR_OP_Q_AVERAGE_POOL] = k_qaverage_pool;
}
