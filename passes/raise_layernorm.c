/* raise-layernorm: decomposed layer normalization -> LayerNormalization.
 *
 * What it does: over the last axis (ReduceMean with keepdims),
 *   d = x - mean(x);  y = d / sqrt(mean(d^2) + eps) [* gamma] [+ beta]
 * with d^2 as Pow(d, 2) or Mul(d, d) and the division as Div or Mul by
 * Reciprocal, becomes LayerNormalization(x, gamma, beta) {axis = -1,
 * epsilon = eps} (ONNX opset 17); without gamma the scale is a new constant
 * of ones, without beta the bias is absent.
 * Declines: an intermediate value with another user (d used by anything
 * but d^2 and the division, the mean used elsewhere...); a reduction over
 * other or several axes or without keepdims; a mean of another value than
 * the one centered; eps not a constant; gamma or beta not constants over
 * the last axis (then that Mul/Add is left outside); a result type that
 * differs from x's. The E[x^2] - E[x]^2 variance form (tf2onnx) is not
 * matched.
 * Needs: verified IR. Guarantees: the same function up to float rounding.
 * Test: test/lit/passes/raise-layernorm.qir. Docs: docs/passes/raise-layernorm.md. */
#include "passes/canon_util.h"

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  CanonNorm c;
  if (op->kind != IR_OP_SQRT || !canon_match_norm(op, &c)) return true;
  IrOp *sub = canon_uses_only_by(c.d, c.ops, c.nops) ? canon_def(c.d, IR_OP_SUB) : NULL;
  IrOp *mean = sub ? canon_def(ir_op_operand(sub, 1), IR_OP_REDUCE_MEAN) : NULL;
  if (!mean || !canon_one_use(mean->results[0]) || !canon_reduces_last_axis(mean)) return true;
  IrValue *x = ir_op_operand(sub, 0);
  if (ir_op_operand(mean, 0) != x) return true;
  const IrType *t = x->type;
  if (!ir_elem_is_float(t->elem) || t->quant || !ir_type_equal(c.d->type, t)) return true;
  if (!c.gamma && (t->rank < 1 || t->dims[t->rank - 1].size < 1)) return true;
  IrOp *root = c.root;
  IrValue *beta = NULL;
  IrValue *rv = root->results[0];
  if (canon_one_use(rv) && rv->uses->user->kind == IR_OP_ADD) {
    IrOp *add = rv->uses->user;
    IrValue *b = canon_other(add, rv);
    if (canon_last_axis_param(b, x)) beta = b, root = add;
  }
  if (!ir_type_equal(root->results[0]->type, t)) return true;
  IrValue *ins[3] = {x, c.gamma ? c.gamma : canon_fill_last_axis(m, root, x, 1.0, "ln_scale"), beta};
  IrOp *n = canon_create(m, root, IR_OP_LAYER_NORM, ins, beta ? 3 : 2, t, root->results[0]->name);
  IrAttr axis = {.name = "axis", .kind = IR_ATTR_INT, .u.i = -1};
  IrAttr eps = {.name = "epsilon", .kind = IR_ATTR_FLOAT, .u.f = (float)c.eps};
  ir_op_set_attr(m, n, &axis);
  ir_op_set_attr(m, n, &eps);
  canon_replace(root, n);
  IrOp *dead[16];
  int nd = 0;
  dead[nd++] = root;
  for (int i = 0; i < c.nops; i++) dead[nd++] = c.ops[i];
  dead[nd++] = sub;
  dead[nd++] = mean;
  canon_erase_dead(dead, nd);
  quench_pass_stat_add(ctx, "layernorms-raised", 1);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"layernorms-raised", "decomposed layer normalizations replaced by LayerNormalization"},
    {0},
};

const Pass pass_raise_layernorm = {
    .name = "raise-layernorm",
    .summary = "Raise decomposed layer normalization over the last axis to LayerNormalization",
    .options = NULL,
    .stats = stats,
    .run = run,
};
