/* raise-hardswish: the decomposed HardSwish forms -> HardSwish(x).
 *
 * What it does: two forms, each with any Mul operand order and the 1/6 as
 * a Div by 6 or a Mul by 1/6:
 *   x * HardSigmoid(x) {alpha = 1/6, beta = 0.5}
 *   x * Clip(x + 3, 0, 6) / 6          (PaddlePaddle's and PyTorch's export)
 * both equal x * max(0, min(1, x/6 + 1/2)) = HardSwish(x) (ONNX opset 14).
 * Declines: an intermediate value with another user; other constants
 * (HardSigmoid's default alpha 0.2 is not 1/6; Clip bounds other than 0
 * and 6; an offset other than 3); a product with anything but x; a result
 * type that differs from x's.
 * Needs: verified IR. Guarantees: the same function up to float rounding.
 * Test: test/lit/passes/raise-hardswish.qir. Docs: docs/passes/raise-hardswish.md. */
#include <math.h>

#include "passes/canon_util.h"

#define TOL 1e-6

/* The x of Clip(x + 3, 0, 6), or NULL. */
static IrValue *clip_input(IrOp *clip) {
  if (clip->noperands != 3 || !canon_scalar_near(ir_op_operand(clip, 1), 0, TOL) ||
      !canon_scalar_near(ir_op_operand(clip, 2), 6, TOL))
    return NULL;
  IrOp *add = canon_def(ir_op_operand(clip, 0), IR_OP_ADD);
  if (!add || !canon_one_use(add->results[0])) return NULL;
  for (uint32_t i = 0; i < 2; i++)
    if (canon_scalar_near(ir_op_operand(add, i), 3, TOL)) return ir_op_operand(add, 1 - i);
  return NULL;
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  IrValue *x = NULL;
  double coef = 1;
  if (op->kind == IR_OP_HARD_SIGMOID) {
    if (fabs(ir_op_attr_float(op, "alpha", 0.2f) - 1.0 / 6) > TOL || fabs(ir_op_attr_float(op, "beta", 0.5f) - 0.5) > TOL)
      return true;
    x = ir_op_operand(op, 0);
  } else if (op->kind == IR_OP_CLIP) {
    x = clip_input(op);
    coef = 1.0 / 6;
  }
  if (!x) return true;
  IrValue *g = op->results[0], *want[2] = {x, g};
  CanonProduct p;
  IrOp *root = canon_climb(g, want, 2, coef, TOL, &p);
  if (!root || !ir_type_equal(root->results[0]->type, x->type)) return true;
  IrOp *hs = canon_create(m, root, IR_OP_HARD_SWISH, &x, 1, x->type, root->results[0]->name);
  canon_replace(root, hs);
  IrOp *dead[CANON_MAX_FACTORS * 2 + 2] = {op, canon_def(ir_op_operand(op, 0), IR_OP_ADD)};
  for (int i = 0; i < p.nops; i++) dead[2 + i] = p.ops[i];
  canon_erase_dead(dead, 2 + p.nops);
  quench_pass_stat_add(ctx, "hardswishes-raised", 1);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"hardswishes-raised", "x * HardSigmoid(x) and x * Clip(x + 3, 0, 6) / 6 replaced by HardSwish"},
    {0},
};

const Pass pass_raise_hardswish = {
    .name = "raise-hardswish",
    .summary = "Raise x * HardSigmoid(x) and x * Clip(x + 3, 0, 6) / 6 to HardSwish",
    .options = NULL,
    .stats = stats,
    .run = run,
};
