/* constant-fold: evaluates ops whose operands are all constants.
 *
 * What it does: every op (in functions and in If/Loop bodies) whose present
 * operands are all `Constant` results is evaluated once with the reference
 * interpreter's kernel (interp_eval_op) and replaced by `Constant` ops
 * referring to new pool constants named after its results. Shape and Size
 * of a value with a static type fold even when the value is not constant
 * (shape folding), so shape arithmetic downstream can fold in turn. One
 * sweep in program order folds whole chains: a folded result is a Constant
 * before its users are visited.
 * Declines: ops with regions, ops without operands or without a kernel, a
 * kernel error (left for run time to report), results over `max-bytes`, and
 * a result whose folded shape contradicts its type (or refines the type of
 * a value a function returns, whose signature must not change).
 * Needs: verified IR. Guarantees: the same values, bit for bit, as the
 * interpreter computes at run time.
 * Test: test/lit/passes/constant-fold.qir. Docs: docs/passes/constant-fold.md. */
#include <stdlib.h>

#include "interp/interp.h"
#include "passes/canon_util.h"

typedef struct Fold {
  PassContext *ctx;
  IrModule *m;
  int64_t max_bytes;
} Fold;

/* May the folded tensor t stand for v? Its shape must agree with v's type;
 * a refined type is fine unless a function returns v. */
static bool fits(const IrValue *v, const Tensor *t) {
  const IrType *ty = v->type;
  if (ty->quant || ty->elem != t->elem) return false;
  if (ty->rank < 0) goto refined;
  if (ty->rank != t->rank) return false;
  bool exact = true;
  for (int32_t i = 0; i < ty->rank; i++) {
    if (ty->dims[i].size >= 0 && ty->dims[i].size != t->dims[i]) return false;
    if (ty->dims[i].size < 0) exact = false;
  }
  if (exact) return true;
refined:
  for (const IrUse *u = v->uses; u; u = u->next)
    if (u->user->kind == IR_OP_RETURN && !u->user->parent->parent_op) return false;
  return true;
}

/* Replaces op's results by constants holding outs[] (all fit, checked by
 * the caller) and erases op. */
static void replace_by_consts(Fold *f, IrOp *op, Tensor **outs) {
  for (uint32_t i = 0; i < op->nresults; i++) {
    IrValue *r = op->results[i];
    const char *base = r->name && r->name[0] ? r->name : "folded";
    IrValue *c = canon_new_const(f->m, op, base, outs[i]);
    ir_value_replace_all_uses(r, c);
  }
  ir_op_erase(op);
}

/* Shape / Size of a statically shaped value, without evaluating it. */
static Tensor *fold_shape(const IrOp *op) {
  const IrType *t = ir_op_operand(op, 0)->type;
  if (!ir_type_is_static(t) || t->quant) return NULL;
  if (op->kind == IR_OP_SIZE) {
    Tensor *s = tensor_new(IR_ELEM_I64, 0, NULL);
    if (s) tensor_set_i64(s, 0, ir_type_numel(t));
    return s;
  }
  /* Shape-15: start/end clamp to [0, rank] after adding rank to negatives. */
  int64_t r = t->rank, lo = ir_op_attr_int(op, "start", 0), hi = ir_op_attr_int(op, "end", r);
  lo = lo < 0 ? lo + r : lo;
  hi = hi < 0 ? hi + r : hi;
  lo = lo < 0 ? 0 : lo > r ? r : lo;
  hi = hi < 0 ? 0 : hi > r ? r : hi;
  int64_t n = hi > lo ? hi - lo : 0;
  Tensor *s = tensor_new(IR_ELEM_I64, 1, &n);
  for (int64_t i = 0; s && i < n; i++) tensor_set_i64(s, i, t->dims[lo + i].size);
  return s;
}

/* Evaluates op on its constant operands; false (nothing allocated) when an
 * operand is not constant or the kernel refuses. */
static bool evaluate(const IrOp *op, Tensor **outs) {
  Tensor *ins[64] = {0};
  if (op->noperands > 64) return false;
  bool ok = true;
  for (uint32_t i = 0; ok && i < op->noperands; i++) {
    IrValue *v = ir_op_operand(op, i);
    if (!v) continue;
    const IrConst *c = canon_const(v);
    ok = c && !c->type->quant && (ins[i] = tensor_from_const(c)) != NULL;
  }
  if (ok) {
    /* Kernel errors here are left for run time to report: quiet Diag. */
    Diag quiet;
    diag_init(&quiet, NULL);
    ok = interp_eval_op(op, ins, outs, &quiet);
  }
  for (uint32_t i = 0; i < op->noperands; i++) tensor_free(ins[i]);
  return ok;
}

static bool visit(IrOp *op, void *arg) {
  Fold *f = arg;
  if (op->kind == IR_OP_CONSTANT || op->kind == IR_OP_RETURN || op->nregions || !op->noperands ||
      !interp_has_kernel(op->kind) || op->nresults > 16)
    return true;
  /* Results known to be too large are not even evaluated. */
  for (uint32_t i = 0; i < op->nresults; i++) {
    int64_t n = ir_type_numel(op->results[i]->type);
    if (n > 0 && (double)n * (double)ir_elem_bytes(op->results[i]->type->elem) > (double)f->max_bytes) return true;
  }
  Tensor *outs[16] = {0};
  bool shape = op->kind == IR_OP_SHAPE || op->kind == IR_OP_SIZE;
  if (shape && (outs[0] = fold_shape(op)) == NULL) shape = false;
  if (!shape && !evaluate(op, outs)) return true;
  bool ok = true;
  for (uint32_t i = 0; i < op->nresults; i++) {
    ok = ok && outs[i]->nbytes <= (size_t)f->max_bytes && fits(op->results[i], outs[i]);
  }
  if (ok) {
    replace_by_consts(f, op, outs);
    quench_pass_stat_add(f->ctx, shape ? "shapes-folded" : "ops-folded", 1);
  }
  for (uint32_t i = 0; i < op->nresults; i++) tensor_free(outs[i]);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  Fold f = {ctx, m, quench_pass_option_int(ctx, "max-bytes")};
  ir_module_walk(m, visit, &f);
  return true;
}

static const PassOption options[] = {
    {"max-bytes", Q_OPT_INT, "1048576", "largest result (bytes) to materialize as a constant", 0, INT64_MAX},
    {0},
};

static const PassStat stats[] = {
    {"ops-folded", "ops evaluated on constant operands and replaced by constants"},
    {"shapes-folded", "Shape/Size ops of statically shaped values replaced by constants"},
    {0},
};

const Pass pass_constant_fold = {
    .name = "constant-fold",
    .summary = "Evaluate ops whose operands are constants, and Shape/Size of static types",
    .options = options,
    .stats = stats,
    .run = run,
};
