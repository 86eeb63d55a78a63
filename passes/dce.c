/* dce: dead code elimination.
 *
 * What it does: erases every op none of whose results is used, inside If and
 * Loop regions too, until nothing more can go (an erased op's operands may
 * become dead in turn). `return` is never erased. Unless `keep-consts` is
 * set, pool constants no op (or module attribute) refers to any more are
 * dropped as well.
 * Needs: verified IR (uses dominated by definitions), which the pass manager
 * guarantees before the first pass and after each one.
 * Guarantees: function signatures and returned values are unchanged; every
 * op left has a used result or is a `return`. ONNX ops have no side
 * effects, so erasing an unused op never changes what a function computes.
 * Follows MLIR's -dce / LLVM's DCE in spirit.
 * Test: test/lit/passes/dce.qir. Docs: docs/passes/dce.md. */
#include "pm/pass_manager.h"

static bool op_is_dead(const IrOp *op) {
  if (op->kind == IR_OP_RETURN) return false;
  for (uint32_t i = 0; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i])) return false;
  return true;
}

/* Sweeps a region from its last op to its first. Users follow their
 * operands' definitions and an op's regions are swept before the ops above
 * it, so one sweep erases whole dead chains, captured values included. An
 * erased If or Loop counts once. */
static int64_t sweep(IrRegion *r) {
  int64_t erased = 0;
  for (IrOp *op = r->last, *prev; op; op = prev) {
    prev = op->prev;
    if (op_is_dead(op)) {
      ir_op_erase(op);
      erased++;
      continue;
    }
    for (uint32_t i = 0; i < op->nregions; i++) erased += sweep(op->regions[i]);
  }
  return erased;
}

static void mark_attrs(StrMap *used, const IrAttr *attrs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (attrs[i].kind == IR_ATTR_TENSOR && attrs[i].u.tensor && attrs[i].u.tensor->name)
      strmap_put(used, attrs[i].u.tensor->name, (void *)attrs[i].u.tensor);
}

static bool mark_op(IrOp *op, void *used) {
  mark_attrs(used, op->attrs, op->nattrs);
  return true;
}

/* Drops pool constants nothing refers to; a reference is a tensor
 * attribute pointing at the pool entry itself. */
static int64_t drop_unused_consts(IrModule *m) {
  StrMap used;
  strmap_init(&used);
  mark_attrs(&used, m->attrs, m->nattrs);
  ir_module_walk(m, mark_op, &used);
  int64_t dropped = 0;
  for (uint32_t i = m->nconsts; i-- > 0;) {
    IrConst *c = m->consts[i];
    if (strmap_get(&used, c->name) != c) {
      ir_module_remove_const(m, c);
      dropped++;
    }
  }
  strmap_free(&used);
  return dropped;
}

static bool run(PassContext *ctx, IrModule *m) {
  int64_t erased = 0, n;
  do {
    n = 0;
    for (uint32_t i = 0; i < m->nfuncs; i++) n += sweep(m->funcs[i]->body);
    erased += n;
  } while (n > 0);
  quench_pass_stat_add(ctx, "ops-erased", erased);
  if (!quench_pass_option_bool(ctx, "keep-consts")) quench_pass_stat_add(ctx, "consts-erased", drop_unused_consts(m));
  return true;
}

static const PassOption options[] = {
    {"keep-consts", Q_OPT_BOOL, "false", "keep pool constants that are no longer referenced", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"ops-erased", "ops erased because no result was used"},
    {"consts-erased", "pool constants dropped because nothing referred to them"},
    {0},
};

const Pass pass_dce = {
    .name = "dce",
    .summary = "Erase ops whose results are unused, and unreferenced pool constants",
    .options = options,
    .stats = stats,
    .run = run,
};
