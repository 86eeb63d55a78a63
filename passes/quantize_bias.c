/* quantize, bias correction: empirical bias correction (Nagel et al.,
 * "Data-Free Quantization Through Weight Equalization and Bias
 * Correction", ICCV 2019, section 4.2; ../shared/ALGORITHMS.md section
 * 10). Quantizing W to W^ shifts the mean output by E[x] . eps with
 * eps = W^ - W; subtracting that from the bias makes the mean output
 * error zero on the calibration data's mean input:
 *   Conv W[O, I/g, kh, kw]:  b'[o] = b[o] - sum_{i,kh,kw} eps[o,i,kh,kw] E[x_(g(o) I/g + i)]
 *   MatMul B[K, N], Gemm:    c'[n] = c[n] - sum_k E[x_k] eps[k, n]  (Gemm: times alpha / beta)
 * E[x] is the per-channel mean of the op's input from the calibration
 * statistics (ch_sum / ch_count, axis 1 of an NCHW Conv input, the last
 * axis of a MatMul/Gemm input). Zero padding makes the Conv correction
 * approximate at the borders, as the paper says. A Conv or Gemm without a
 * bias gets one (W.bias); a MatMul is corrected only through the constant
 * per-column Add that is its only user, else declined. A corrected bias
 * is a new constant B.bc (the old one may be shared). Test:
 * test/lit/quant/quantize-bias-correction.qir,
 * test/unit/test_quantize_numerics.c. */
#include <math.h>
#include <stdlib.h>

#include "passes/canon_util.h"
#include "passes/quantize_util.h"

/* E[x] over nch channels along `axis` of op's input 0, or NULL. */
static double *input_mean(const QzCtx *q, const IrOp *op, int32_t axis, int64_t nch) {
  const IrValue *x = ir_op_operand(op, 0);
  const QTensorStats *ts = q->stats && x && x->name ? q_stats_find(q->stats, x->name) : NULL;
  if (!ts || ts->ch_axis != axis || ts->nch != nch || ts->ch_count <= 0 || !ts->ch_sum) return NULL;
  double *m = xmalloc((size_t)nch * sizeof *m);
  for (int64_t i = 0; i < nch; i++) m[i] = ts->ch_sum[i] / (double)ts->ch_count;
  return m;
}

/* Appends operand v to op (a Conv or Gemm without its optional bias). */
static void add_operand(QzCtx *q, IrOp *op, IrValue *v) {
  uint32_t n = op->noperands;
  if (n > 2 && !ir_op_operand(op, 2)) {
    ir_op_set_operand(op, 2, v);
    return;
  }
  IrValue *vals[2] = {ir_op_operand(op, 0), ir_op_operand(op, 1)};
  for (uint32_t i = 0; i < n; i++) ir_op_set_operand(op, i, NULL);
  IrUse *u = arena_calloc(&q->m->arena, n + 1, sizeof *u);
  for (uint32_t i = 0; i <= n; i++) u[i].user = op, u[i].index = i;
  op->operands = u, op->noperands = n + 1;
  for (uint32_t i = 0; i < n; i++) ir_op_set_operand(op, i, vals[i]);
  ir_op_set_operand(op, n, v);
}

/* Whether b is a float constant of at most rank 2 whose last dim is n (or
 * a single value): one value per output column, broadcast over rows. */
static bool column_const(const IrValue *b, int64_t n) {
  if (!b || !canon_const(b) || !ir_elem_is_float(b->type->elem) || b->type->quant || b->type->rank > 2) return false;
  int64_t numel = 1;
  for (int32_t i = 0; i < b->type->rank; i++) numel *= b->type->dims[i].size;
  return numel == 1 || (b->type->rank >= 1 && b->type->dims[b->type->rank - 1].size == n);
}

/* A copy of the constant b (NULL: zeros of shape [n]) with -f * delta[col]
 * added, widened to [n] when b holds a single value. */
static Tensor *corrected(const IrValue *b, const double *delta, int64_t n, double f) {
  Tensor *old = b ? tensor_from_const(canon_const(b)) : NULL;
  if (b && !old) return NULL;
  Tensor *t;
  if (!old || old->numel == 1) {
    t = tensor_new(old ? old->elem : IR_ELEM_F32, 1, &n);
    for (int64_t j = 0; j < n && t; j++) tensor_set_f64(t, j, (old ? tensor_get_f64(old, 0) : 0) - f * delta[j]);
  } else {
    t = tensor_new(old->elem, old->rank, old->dims);
    for (int64_t e = 0; e < old->numel && t; e++) tensor_set_f64(t, e, tensor_get_f64(old, e) - f * delta[e % n]);
  }
  tensor_free(old);
  return t;
}

/* Replaces operand idx of `user` (a bias; absent when idx >= noperands or
 * NULL) by the corrected constant; the new constant goes before `user`. */
static bool rebias(QzCtx *q, IrOp *user, uint32_t idx, const char *wname, const double *delta, int64_t n, double f) {
  IrValue *b = idx < user->noperands ? ir_op_operand(user, idx) : NULL;
  Tensor *t = corrected(b, delta, n, f);
  if (!t) return false;
  const char *name = b && b->name ? qz_name(q, b->name, "bc") : qz_name(q, wname ? wname : "w", "bias");
  IrValue *nv = qz_const(q, NULL, user, name, t);
  tensor_free(t);
  if (b) {
    ir_op_set_operand(user, idx, nv);
    qz_drop_const(q, b);
  } else {
    add_operand(q, user, nv);
  }
  return true;
}

/* Why op cannot be corrected, or NULL after correcting it. */
static const char *correct(QzCtx *q, IrOp *op, const Tensor *t, const double *eps) {
  const IrValue *wv = ir_op_operand(op, 1);
  const char *wname = wv ? wv->name : NULL;
  const IrValue *x = ir_op_operand(op, 0);
  if (op->kind == IR_OP_CONV) {
    int64_t g = ir_op_attr_int(op, "group", 1), o = t->dims[0], ig = t->rank > 1 ? t->dims[1] : 0;
    if (t->rank < 3 || g < 1 || o % g != 0 || x->type->rank != t->rank) return "not an N-D Conv";
    if (op->noperands > 2 && ir_op_operand(op, 2) && !column_const(ir_op_operand(op, 2), o)) return "a non-constant bias";
    double *mean = input_mean(q, op, 1, ig * g);
    if (!mean) return "no per-channel statistics of its input";
    int64_t inner = t->numel / (o * ig), opg = o / g;
    double *delta = xcalloc((size_t)o, sizeof *delta);
    for (int64_t oc = 0; oc < o; oc++)
      for (int64_t i = 0; i < ig; i++) {
        double mi = mean[oc / opg * ig + i], s = 0;
        const double *e = eps + (oc * ig + i) * inner;
        for (int64_t k = 0; k < inner; k++) s += e[k];
        delta[oc] += s * mi;
      }
    bool ok = rebias(q, op, 2, wname, delta, o, 1.0);
    free(mean), free(delta);
    return ok ? NULL : "an unreadable bias";
  }
  if ((op->kind != IR_OP_MATMUL && op->kind != IR_OP_GEMM) || t->rank != 2 || x->type->rank < 1)
    return "not a Conv, Gemm or MatMul with a rank-2 weight";
  bool trans_b = op->kind == IR_OP_GEMM && ir_op_attr_int(op, "transB", 0);
  if (op->kind == IR_OP_GEMM && ir_op_attr_int(op, "transA", 0)) return "Gemm transA=1";
  int64_t k = trans_b ? t->dims[1] : t->dims[0], n = trans_b ? t->dims[0] : t->dims[1];
  IrOp *user = op;
  uint32_t idx = 2;
  double f = 1.0;
  if (op->kind == IR_OP_GEMM) {
    double alpha = ir_op_attr_float(op, "alpha", 1.0f), beta = ir_op_attr_float(op, "beta", 1.0f);
    bool has_c = op->noperands > 2 && ir_op_operand(op, 2);
    if (has_c && !column_const(ir_op_operand(op, 2), n)) return "a bias C that is not a per-column constant";
    if (has_c && beta == 0) return "beta = 0";
    f = has_c ? alpha / beta : alpha;
    if (!has_c && beta != 1) return "no C and beta != 1";
  } else {
    IrValue *y = op->results[0];
    user = canon_one_use(y) ? y->uses->user : NULL;
    if (!user || user->kind != IR_OP_ADD || user->parent != op->parent) return "a MatMul not followed by an Add";
    idx = ir_op_operand(user, 0) == y ? 1 : 0;
    if (!column_const(ir_op_operand(user, idx), n) || ir_op_operand(user, idx)->type->rank > y->type->rank)
      return "a MatMul whose Add is not of a per-column constant";
  }
  double *mean = input_mean(q, op, x->type->rank - 1, k);
  if (!mean) return "no per-channel statistics of its input";
  double *delta = xcalloc((size_t)n, sizeof *delta);
  for (int64_t i = 0; i < k; i++)
    for (int64_t c = 0; c < n; c++) delta[c] += mean[i] * eps[trans_b ? c * k + i : i * n + c];
  bool ok = rebias(q, user, idx, wname, delta, n, f);
  free(mean), free(delta);
  return ok ? NULL : "an unreadable bias";
}

bool qz_bias_correct(QzCtx *q, IrOp *op, const Tensor *t, const double *eps) {
  const char *why = correct(q, op, t, eps);
  if (why) {
    quench_pass_stat_add(q->ctx, "bias-correction-declined", 1);
    return false;
  }
  quench_pass_stat_add(q->ctx, "biases-corrected", 1);
  return true;
}
