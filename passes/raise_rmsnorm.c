/* raise-rmsnorm: x / sqrt(mean(x^2) + eps) [* gamma] -> RMSNormalization.
 *
 * What it does: over the last axis (ReduceMean with keepdims), with x^2 as
 * Pow(x, 2) or Mul(x, x), the division as Div or Mul by Reciprocal, and an
 * optional constant scale gamma (Mul in either order), the pattern becomes
 * RMSNormalization(x, gamma) {axis = -1, epsilon = eps} (ONNX opset 23);
 * without gamma the scale is a new constant of ones.
 * Declines: an intermediate value with another user (x may have others);
 * a reduction over other or several axes or without keepdims; eps not a
 * constant; x itself x' - mean(x') (a layer norm: raise-layernorm's); a
 * gamma that is not a constant over the last axis (then the Mul is left
 * and the scale is ones); a result type that differs from x's.
 * Needs: verified IR. Guarantees: the same function up to float rounding.
 * Test: test/lit/passes/raise-rmsnorm.qir. Docs: docs/passes/raise-rmsnorm.md. */
#include "passes/canon_util.h"

/* d = Sub(x, ReduceMean(x)) over the last axis: a centered value. */
static bool is_centered(const IrValue *d) {
  IrOp *sub = canon_def(d, IR_OP_SUB);
  IrOp *rm = sub ? canon_def(ir_op_operand(sub, 1), IR_OP_REDUCE_MEAN) : NULL;
  return rm && ir_op_operand(rm, 0) == ir_op_operand(sub, 0) && canon_reduces_last_axis(rm);
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  CanonNorm c;
  if (op->kind != IR_OP_SQRT || !canon_match_norm(op, &c) || is_centered(c.d)) return true;
  const IrType *t = c.d->type;
  if (!ir_elem_is_float(t->elem) || t->quant || !ir_type_equal(c.root->results[0]->type, t)) return true;
  if (!c.gamma && (t->rank < 1 || t->dims[t->rank - 1].size < 1)) return true;
  IrValue *ins[2] = {c.d, c.gamma ? c.gamma : canon_fill_last_axis(m, c.root, c.d, 1.0, "rms_scale")};
  IrOp *n = canon_create(m, c.root, IR_OP_RMS_NORM, ins, 2, t, c.root->results[0]->name);
  IrAttr axis = {.name = "axis", .kind = IR_ATTR_INT, .u.i = -1};
  IrAttr eps = {.name = "epsilon", .kind = IR_ATTR_FLOAT, .u.f = (float)c.eps};
  ir_op_set_attr(m, n, &axis);
  ir_op_set_attr(m, n, &eps);
  canon_replace(c.root, n);
  canon_erase_dead(c.ops, c.nops);
  quench_pass_stat_add(ctx, "rmsnorms-raised", 1);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"rmsnorms-raised", "x / sqrt(mean(x^2) + eps) [* gamma] patterns replaced by RMSNormalization"},
    {0},
};

const Pass pass_raise_rmsnorm = {
    .name = "raise-rmsnorm",
    .summary = "Raise decomposed RMS normalization over the last axis to RMSNormalization",
    .options = NULL,
    .stats = stats,
    .run = run,
};
