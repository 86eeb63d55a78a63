/* fold-batchnorm: folds inference BatchNormalization into the linear op
 * that feeds it.
 *
 * What it does: BatchNormalization(y, gamma, beta, mean, var) whose input y
 * is produced by Conv(x, w[, b]), Gemm(a, w[, c]) or MatMul(x, w)
 * [+ Add(., c)] with constant weights and bias becomes that op alone with
 *   s = gamma / sqrt(var + eps),  w' = w * s  (per output channel),
 *   b' = (b - mean) * s + beta.
 * BN's channel axis is dim 1 of y: Conv's output channels (w's dim 0), a
 * Gemm's columns (w's dim 1, or dim 0 with transB), a rank-2 MatMul's
 * columns.
 * Declines: y (or the MatMul result under the Add) has another user; any
 * weight, bias or BN parameter is not a constant; BN in training mode or
 * with its running statistics used; parameter lengths that are not the
 * channel count; a Gemm bias that is not per column; quantized types.
 * Needs: verified IR. Guarantees: the same function, up to float rounding
 * (checked by test/unit/test_canon_numerics.c).
 * Test: test/lit/passes/fold-batchnorm.qir. Docs: docs/passes/fold-batchnorm.md. */
#include <math.h>
#include <stdlib.h>

#include "passes/canon_util.h"

/* The producer of BN's input: its op, which operand holds the weights,
 * the weights' output-channel axis, and the bias (NULL: none) with a factor
 * (Gemm's beta). add is the Add under a MatMul, or NULL. */
typedef struct Linear {
  IrOp *op, *add;
  uint32_t w_index;
  int32_t w_axis;
  IrValue *bias;
  double bias_scale;
} Linear;

static bool float_const(const IrValue *v) {
  const IrConst *c = canon_const(v);
  return c && !c->type->quant && ir_elem_is_float(c->type->elem);
}

static bool match_linear(IrValue *y, Linear *l) {
  *l = (Linear){0};
  l->bias_scale = 1;
  if (!y || !canon_one_use(y) || y->kind != IR_VALUE_RESULT) return false;
  IrOp *op = y->def;
  if (op->kind == IR_OP_ADD) {
    int i = canon_operand_of_kind(op, IR_OP_MATMUL);
    if (i < 0) return false;
    IrValue *mm = ir_op_operand(op, (uint32_t)i);
    if (!canon_one_use(mm)) return false;
    l->add = op;
    l->bias = ir_op_operand(op, (uint32_t)(1 - i));
    op = mm->def;
  }
  l->op = op;
  l->w_index = 1;
  if (op->kind == IR_OP_CONV) {
    l->w_axis = 0;
    l->bias = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  } else if (op->kind == IR_OP_GEMM) {
    l->w_axis = ir_op_attr_int(op, "transB", 0) ? 0 : 1;
    l->bias = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
    l->bias_scale = ir_op_attr_float(op, "beta", 1.0f);
  } else if (op->kind == IR_OP_MATMUL) {
    if (op->results[0]->type->rank != 2 || y->type->rank != 2) return false;
    l->w_axis = 1;
  } else {
    return false;
  }
  const IrValue *w = ir_op_operand(op, 1);
  return float_const(w) && (!l->bias || float_const(l->bias)) && w->type->rank > l->w_axis;
}

/* Parameter i of BN as doubles, or NULL unless it is a constant of m
 * elements (1-D or scalar-broadcast is not ONNX BN; require exactly m). */
static double *param(const IrOp *bn, uint32_t i, int64_t m) {
  const IrValue *v = ir_op_operand(bn, i);
  if (!float_const(v) || ir_type_numel(v->type) != m) return NULL;
  Tensor *t = tensor_from_const(canon_const(v));
  if (!t) return NULL;
  double *out = malloc((size_t)m * sizeof *out);
  for (int64_t j = 0; j < m; j++) out[j] = tensor_get_f64(t, j);
  tensor_free(t);
  return out;
}

/* The bias as one value per channel, or false when its shape is not
 * per channel (numel 1 or m, only the last dim non-1). */
static bool bias_per_channel(const Linear *l, int64_t m, double *b) {
  for (int64_t j = 0; j < m; j++) b[j] = 0;
  if (!l->bias) return true;
  const IrType *t = l->bias->type;
  int64_t n = ir_type_numel(t);
  if (n != 1 && n != m) return false;
  for (int32_t i = 0; i + 1 < t->rank; i++)
    if (t->dims[i].size != 1) return false;
  Tensor *c = tensor_from_const(canon_const(l->bias));
  if (!c) return false;
  for (int64_t j = 0; j < m; j++) b[j] = l->bias_scale * tensor_get_f64(c, n == 1 ? 0 : j);
  tensor_free(c);
  return true;
}

/* Builds op' with weights w2 and bias b2 (constants before the BN), copies
 * the original's attributes (Gemm's beta becomes 1) and returns the value
 * standing for BN's result. */
static IrValue *rebuild(IrModule *m, IrOp *bn, const Linear *l, const Tensor *w2, const Tensor *b2) {
  IrOp *op = l->op;
  const IrType *ty = bn->results[0]->type;
  const char *name = bn->results[0]->name;
  IrValue *wv = canon_new_const(m, bn, "bn_folded_w", w2), *bv = canon_new_const(m, bn, "bn_folded_b", b2);
  IrValue *ins[3] = {ir_op_operand(op, 0), wv, bv};
  IrOp *n;
  if (op->kind == IR_OP_MATMUL) {
    IrOp *mm = canon_create(m, bn, IR_OP_MATMUL, ins, 2, ty, NULL);
    IrValue *add_in[2] = {mm->results[0], bv};
    n = canon_create(m, bn, IR_OP_ADD, add_in, 2, ty, name);
    mm->src = op->src, mm->src_name = op->src_name;
  } else {
    n = canon_create(m, bn, op->kind, ins, 3, ty, name);
    for (uint32_t i = 0; i < op->nattrs; i++) ir_op_set_attr(m, n, &op->attrs[i]);
    if (op->kind == IR_OP_GEMM) {
      IrAttr beta = {.name = "beta", .kind = IR_ATTR_FLOAT, .u.f = 1.0f};
      ir_op_set_attr(m, n, &beta);
    }
  }
  canon_replace(bn, n);
  return n->results[0];
}

static bool try_fold(PassContext *ctx, IrModule *m, IrOp *bn) {
  if (ir_op_attr_int(bn, "training_mode", 0) != 0) return false;
  for (uint32_t i = 1; i < bn->nresults; i++)
    if (ir_value_has_uses(bn->results[i])) return false;
  Linear l;
  if (!match_linear(ir_op_operand(bn, 0), &l)) return false;
  const IrValue *wv = ir_op_operand(l.op, l.w_index);
  int64_t mch = wv->type->dims[l.w_axis].size;
  if (mch < 1 || bn->results[0]->type->quant) return false;
  double *p[4] = {0};
  double *bias = malloc((size_t)mch * sizeof *bias);
  bool ok = bias_per_channel(&l, mch, bias);
  for (uint32_t i = 0; ok && i < 4; i++) ok = (p[i] = param(bn, i + 1, mch)) != NULL;
  Tensor *w = ok ? tensor_from_const(canon_const(wv)) : NULL;
  int64_t bdim = mch;
  Tensor *b2 = w ? tensor_new(w->elem, 1, &bdim) : NULL;
  if (b2) {
    double eps = ir_op_attr_float(bn, "epsilon", 1e-5f);
    int64_t inner = 1;
    for (int32_t i = l.w_axis + 1; i < w->rank; i++) inner *= w->dims[i];
    for (int64_t j = 0; j < mch; j++) {
      double s = p[0][j] / sqrt(p[3][j] + eps);
      tensor_set_f64(b2, j, (bias[j] - p[2][j]) * s + p[1][j]);
      p[0][j] = s;
    }
    for (int64_t e = 0; e < w->numel; e++) tensor_set_f64(w, e, tensor_get_f64(w, e) * p[0][(e / inner) % mch]);
    rebuild(m, bn, &l, w, b2);
    IrOp *dead[3] = {bn, l.add, l.op};
    canon_erase_dead(dead, 3);
    quench_pass_stat_add(ctx, "batchnorms-folded", 1);
  }
  tensor_free(w);
  tensor_free(b2);
  for (int i = 0; i < 4; i++) free(p[i]);
  free(bias);
  return b2 != NULL;
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  if (op->kind == IR_OP_BATCH_NORM) try_fold(ctx, m, op);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"batchnorms-folded", "BatchNormalization ops folded into the Conv/Gemm/MatMul before them"},
    {0},
};

const Pass pass_fold_batchnorm = {
    .name = "fold-batchnorm",
    .summary = "Fold inference BatchNormalization into a preceding Conv, Gemm or MatMul with constant weights",
    .options = NULL,
    .stats = stats,
    .run = run,
};
