/* raise-silu: x * Sigmoid(x) -> Swish(x) (alpha = 1), i.e. SiLU.
 *
 * What it does: a Sigmoid whose result is multiplied by its own input
 * (Mul in either operand order) becomes one Swish op (ONNX opset 24:
 * Swish(x) = x * sigmoid(alpha * x)); alpha stays at its default 1, so the
 * op is exactly SiLU. quench raises to the ONNX op rather than an op of its
 * own so that exported models stay standard; see docs/passes/raise-silu.md.
 * Declines: the Sigmoid result has another user; the Mul multiplies by
 * anything else (x * Sigmoid(y), the SwiGLU gate x * Sigmoid(x) * z is
 * raised only in its x * Sigmoid(x) part); the Mul's type differs from x's
 * (a broadcast).
 * Needs: verified IR. Guarantees: the same function up to float rounding.
 * Test: test/lit/passes/raise-silu.qir. Docs: docs/passes/raise-silu.md. */
#include "passes/canon_util.h"

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  if (op->kind != IR_OP_SIGMOID) return true;
  IrValue *x = ir_op_operand(op, 0), *s = op->results[0];
  IrValue *want[2] = {x, s};
  CanonProduct p;
  IrOp *root = canon_climb(s, want, 2, 1.0, 0, &p);
  if (!root || p.nops != 1 || !ir_type_equal(root->results[0]->type, x->type)) return true;
  IrOp *sw = canon_create(m, root, IR_OP_SWISH, &x, 1, x->type, root->results[0]->name);
  canon_replace(root, sw);
  IrOp *dead[2] = {root, op};
  canon_erase_dead(dead, 2);
  quench_pass_stat_add(ctx, "silus-raised", 1);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"silus-raised", "x * Sigmoid(x) patterns replaced by Swish"},
    {0},
};

const Pass pass_raise_silu = {
    .name = "raise-silu",
    .summary = "Raise x * Sigmoid(x) to Swish (SiLU, ONNX opset 24)",
    .options = NULL,
    .stats = stats,
    .run = run,
};
