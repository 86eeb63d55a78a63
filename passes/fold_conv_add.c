/* fold-conv-add: folds a constant per-channel Add after a Conv or
 * ConvTranspose into the op's bias.
 *
 * What it does: Add(Conv(x, w[, b]), c) (either operand order; also
 * ConvTranspose) with c a float constant that holds one value per output
 * channel (dim 1 of the Conv result y), or a single value, becomes
 *   Conv(x, w, b')  with  b'[j] = b[j] + c[j]  (b = 0 when absent).
 * Models exported from CNTK or TF write the bias this way (mnist8); as a
 * separate op it blocks lower-int's Conv+bias pattern and costs the
 * quantizer one more quantization point.
 * c is per channel when its rank is at most y's and every dim of c, aligned
 * right against y as numpy broadcasting does, is 1 except at y's dim 1,
 * where it may be the channel count: [C,1,1], [1,C,1,1], [C,1] for a 1-D
 * conv, [1], a scalar. The Add's result then has y's type.
 * Declines: y has another user; c or b is not a constant; c varies along
 * another dim or its broadcast would change y's shape (a larger rank
 * included: the channel dim would not be y's dim 1); quantized or
 * non-float types; a dynamic channel count.
 * Needs: verified IR. Guarantees: the same function, up to float rounding
 * (checked by test/unit/test_canon_numerics.c).
 * Test: test/lit/passes/fold-conv-add.qir. Docs: docs/passes/fold-conv-add.md. */
#include <stdlib.h>

#include "passes/canon_util.h"

static bool float_const(const IrValue *v) {
  const IrConst *c = canon_const(v);
  return c && !c->type->quant && ir_elem_is_float(c->type->elem);
}

/* The Conv or ConvTranspose defining operand i of add when the Add is its
 * result's only user, else NULL. */
static IrOp *conv_operand(const IrOp *add, uint32_t i) {
  IrValue *v = ir_op_operand(add, i);
  IrOp *op = canon_def(v, IR_OP_CONV);
  if (!op) op = canon_def(v, IR_OP_CONV_TRANSPOSE);
  return op && canon_one_use(v) ? op : NULL;
}

/* c's value for each of the m channels of y into out, or false when c is
 * not per channel of y (see the header comment). */
static bool per_channel(const IrValue *c, const IrType *y, int64_t m, double *out) {
  const IrType *t = c->type;
  if (!float_const(c) || t->elem != y->elem || t->rank < 0 || t->rank > y->rank) return false;
  for (int32_t i = 0; i < t->rank; i++) {
    int32_t axis = y->rank - t->rank + i;
    int64_t d = t->dims[i].size;
    if (d != 1 && !(axis == 1 && d == m)) return false;
  }
  int64_t n = ir_type_numel(t);
  Tensor *ct = tensor_from_const(canon_const(c));
  if (!ct) return false;
  for (int64_t j = 0; j < m; j++) out[j] = tensor_get_f64(ct, n == 1 ? 0 : j);
  tensor_free(ct);
  return true;
}

/* The Conv's bias into out (zeros when absent), or false when it is not a
 * float constant of shape [m]. */
static bool conv_bias(const IrOp *conv, int64_t m, double *out) {
  for (int64_t j = 0; j < m; j++) out[j] = 0;
  const IrValue *b = conv->noperands > 2 ? ir_op_operand(conv, 2) : NULL;
  if (!b) return true;
  if (!float_const(b) || b->type->rank != 1 || b->type->dims[0].size != m) return false;
  Tensor *bt = tensor_from_const(canon_const(b));
  if (!bt) return false;
  for (int64_t j = 0; j < m; j++) out[j] = tensor_get_f64(bt, j);
  tensor_free(bt);
  return true;
}

/* Conv(x, w, b2) in the Add's place: the Add's result type and name, the
 * Conv's attributes and source location (it is that Conv, now with a
 * bias). */
static void rebuild(IrModule *m, IrOp *add, IrOp *conv, const Tensor *b2) {
  IrValue *bv = canon_new_const(m, add, "add_folded_b", b2);
  IrValue *ins[3] = {ir_op_operand(conv, 0), ir_op_operand(conv, 1), bv};
  IrOp *n = canon_create(m, add, conv->kind, ins, 3, add->results[0]->type, add->results[0]->name);
  for (uint32_t i = 0; i < conv->nattrs; i++) ir_op_set_attr(m, n, &conv->attrs[i]);
  canon_replace(add, n);
  n->src = conv->src, n->src_name = conv->src_name;
  IrOp *dead[2] = {add, conv};
  canon_erase_dead(dead, 2);
}

static bool try_fold(PassContext *ctx, IrModule *m, IrOp *add) {
  for (uint32_t i = 0; i < 2; i++) {
    IrOp *conv = conv_operand(add, i);
    if (!conv) continue;
    const IrType *y = conv->results[0]->type;
    if (y->quant || !ir_elem_is_float(y->elem) || y->rank < 2 || !ir_type_equal(y, add->results[0]->type))
      continue;
    int64_t mch = y->dims[1].size, bdim = mch;
    if (mch < 1) continue;
    double *c = malloc((size_t)mch * sizeof *c), *b = malloc((size_t)mch * sizeof *b);
    bool ok = c && b && per_channel(ir_op_operand(add, 1 - i), y, mch, c) && conv_bias(conv, mch, b);
    Tensor *b2 = ok ? tensor_new(y->elem, 1, &bdim) : NULL;
    bool folded = b2 != NULL;
    if (folded) {
      for (int64_t j = 0; j < mch; j++) tensor_set_f64(b2, j, b[j] + c[j]);
      rebuild(m, add, conv, b2);
      quench_pass_stat_add(ctx, "adds-folded", 1);
    }
    tensor_free(b2);
    free(c);
    free(b);
    if (folded) return true;
  }
  return false;
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  if (op->kind == IR_OP_ADD) try_fold(ctx, m, op);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"adds-folded", "per-channel constant Adds folded into the bias of the Conv/ConvTranspose before them"},
    {0},
};

const Pass pass_fold_conv_add = {
    .name = "fold-conv-add",
    .summary = "Fold a constant per-channel Add after a Conv or ConvTranspose into its bias",
    .options = NULL,
    .stats = stats,
    .run = run,
};
