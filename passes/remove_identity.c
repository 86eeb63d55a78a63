/* remove-identity: forwards Identity and inference-mode Dropout to their
 * input.
 *
 * What it does: replaces every use of `Identity(x)` and of `Dropout(x, ...)`
 * output 0 with x and erases the op, in every function and nested region.
 * A function result may be forwarded too: `return` simply takes x. Dropout
 * at inference is the identity whatever its ratio (ONNX Dropout-13), so the
 * ratio is ignored; the rewrite declines when
 *   - Dropout's mask (output 1) is used: its value would be lost;
 *   - training_mode is given and not the constant `false`: dropout may be
 *     active;
 *   - the input's type differs from the result's (say a static shape
 *     refined to a dynamic one): users would see another type.
 * Needs: verified IR. Guarantees: same function results; leaves the ratio
 * and training_mode producers to dce.
 * Test: test/lit/passes/remove-identity.qir. Docs: docs/passes/remove-identity.md. */
#include "pm/pass_manager.h"

/* True if v is produced by `Constant() {value = <one false bool>}`. */
static bool is_const_false(const IrValue *v) {
  if (v->kind != IR_VALUE_RESULT || v->def->kind != IR_OP_CONSTANT) return false;
  const IrAttr *a = ir_op_attr(v->def, "value");
  if (!a || a->kind != IR_ATTR_TENSOR) return false;
  const IrConst *c = a->u.tensor;
  return c->type->elem == IR_ELEM_BOOL && ir_type_numel(c->type) == 1 && ir_const_bits(c, 0) == 0;
}

static bool forward(IrOp *op) {
  IrValue *in = ir_op_operand(op, 0), *out = ir_op_result(op, 0);
  if (!in || !ir_type_equal(in->type, out->type)) return false;
  ir_value_replace_all_uses(out, in);
  ir_op_erase(op);
  return true;
}

static bool visit(IrOp *op, void *arg) {
  PassContext *ctx = arg;
  if (op->kind == IR_OP_IDENTITY) {
    if (forward(op)) quench_pass_stat_add(ctx, "identities-removed", 1);
  } else if (op->kind == IR_OP_DROPOUT) {
    bool mask_used = op->nresults > 1 && ir_value_has_uses(op->results[1]);
    IrValue *training = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
    if (!mask_used && (!training || is_const_false(training)) && forward(op))
      quench_pass_stat_add(ctx, "dropouts-removed", 1);
  }
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  ir_module_walk(m, visit, ctx);
  return true;
}

static const PassStat stats[] = {
    {"identities-removed", "Identity ops forwarded to their input"},
    {"dropouts-removed", "Dropout ops forwarded to their input"},
    {0},
};

const Pass pass_remove_identity = {
    .name = "remove-identity",
    .summary = "Forward Identity and inference-mode Dropout to their input",
    .options = NULL,
    .stats = stats,
    .run = run,
};
