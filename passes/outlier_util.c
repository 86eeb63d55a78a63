/* Matching shared by the outlier passes (smoothquant, osplus): see
 * passes/outlier_util.h. Moved out of passes/smoothquant.c unchanged. */
#include "passes/outlier_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"

bool outlier_float_const(const IrValue *v) {
  const IrConst *c = v ? canon_const(v) : NULL;
  return c && !c->type->quant && ir_elem_is_float(c->type->elem);
}

typedef struct RefCount {
  const IrConst *c;
  int n;
} RefCount;

static bool count_ref(IrOp *op, void *arg) {
  RefCount *rc = arg;
  if (op->kind == IR_OP_CONSTANT) {
    const IrAttr *a = ir_op_attr(op, "value");
    if (a && a->kind == IR_ATTR_TENSOR && a->u.tensor == rc->c) rc->n++;
  }
  return true;
}

int outlier_const_refs(IrModule *m, const IrConst *c) {
  RefCount rc = {c, 0};
  ir_module_walk(m, count_ref, &rc);
  return rc.n;
}

bool outlier_exclusive(IrModule *m, const IrValue *v, const IrOp *user) {
  if (!outlier_float_const(v) || !canon_one_use(v) || v->uses->user != user) return false;
  const IrConst *c = canon_const(v);
  return !c->name || outlier_const_refs(m, c) == 1;
}

bool outlier_match_consumer(const IrUse *u, const IrValue *x, int64_t k, OutlierTarget *t) {
  IrOp *op = u->user;
  if (u->index != 0) return false;
  bool first;
  const IrValue *b = op->noperands > 1 ? ir_op_operand(op, 1) : NULL;
  if (!b || !outlier_float_const(b) || b->type->rank != 2) return false;
  if (op->kind == IR_OP_MATMUL) {
    first = true;
  } else if (op->kind == IR_OP_GEMM) {
    if (ir_op_attr_int(op, "transA", 0) != 0) return false;
    first = ir_op_attr_int(op, "transB", 0) == 0;
  } else {
    return false;
  }
  if (b->type->dims[first ? 0 : 1].size != k || b->type->elem != x->type->elem) return false;
  *t = (OutlierTarget){op, 1, first};
  return true;
}

bool outlier_last_axis_norm(const IrOp *op, const IrValue *x) {
  int64_t axis = ir_op_attr_int(op, "axis", -1);
  return axis == -1 || axis == x->type->rank - 1;
}

bool outlier_candidate(const IrValue *x) {
  for (const IrUse *u = x->uses; u; u = u->next) {
    const IrOp *op = u->user;
    if ((op->kind == IR_OP_MATMUL || op->kind == IR_OP_GEMM) && u->index == 0 && op->noperands > 1 &&
        outlier_float_const(ir_op_operand(op, 1)))
      return true;
  }
  return false;
}

double *outlier_consumer_matrix(const OutlierTarget *cons, int ncons, int64_t k, int64_t *n, int64_t *cols) {
  int64_t total = 0;
  for (int i = 0; i < ncons; i++) total += ir_type_numel(ir_op_operand(cons[i].op, 1)->type) / k;
  double *b = calloc((size_t)(k * total), sizeof *b);
  int64_t col = 0;
  for (int i = 0; i < ncons; i++) {
    Tensor *t = tensor_from_const(canon_const(ir_op_operand(cons[i].op, 1)));
    int64_t nc = t->numel / k;
    for (int64_t e = 0; e < t->numel; e++) {
      int64_t j = cons[i].first ? e / nc : e % k, c = cons[i].first ? e % nc : e / k;
      b[j * total + col + c] = tensor_get_f64(t, e);
    }
    if (cols) cols[i] = nc;
    col += nc;
    tensor_free(t);
  }
  *n = total;
  return b;
}

const char *outlier_stats_path(PassContext *ctx, const IrModule *m) {
  const char *sp = quench_pass_option_string(ctx, "stats");
  if (!*sp) {
    const IrAttr *a = ir_attrs_find(m->attrs, m->nattrs, "quench.calib_stats");
    sp = a && a->kind == IR_ATTR_STRING ? a->u.s : "";
  }
  if (!*sp) {
    quench_pass_error(ctx, NULL, "no calibration statistics: give stats=FILE or run calibrate first");
    return NULL;
  }
  return sp;
}

/* ---- rewriting constants (osplus, reparam) ------------------------------------ */

bool outlier_channel_bias(const IrValue *c, int64_t k) {
  return outlier_float_const(c) && c->type->rank >= 1 && c->type->dims[c->type->rank - 1].size == k;
}

void outlier_replace_operand(OutlierRewriter *r, IrOp *op, uint32_t idx, const Tensor *w) {
  IrValue *old = ir_op_operand(op, idx);
  const IrConst *c = canon_const(old);
  const char *base = c->name ? c->name : old->name ? old->name : r->fallback;
  size_t len = strlen(base) + strlen(r->suffix) + 2;
  char *name = malloc(len);
  snprintf(name, len, "%s.%s", base, r->suffix);
  IrValue *nv = canon_new_const(r->m, op, name, w);
  free(name);
  ir_op_set_operand(op, idx, nv);
  IrOp *dead = old->def;
  canon_erase_dead(&dead, 1);
  if (c->name && dead->parent == NULL) {
    r->dropped = realloc(r->dropped, (size_t)(r->ndropped + 1) * sizeof *r->dropped);
    r->dropped[r->ndropped++] = c;
  }
}

/* Adds corr[0..n) along the last axis of consumer op's result: into a
 * Gemm's C (beta 1) or the constant of an Add the result alone feeds, else
 * through a new Add after op. */
void outlier_add_bias(OutlierRewriter *r, IrOp *op, int64_t n, const double *corr) {
  IrValue *y = op->results[0];
  IrOp *holder = NULL;
  uint32_t idx = 0;
  if (op->kind == IR_OP_GEMM && op->noperands > 2 && ir_op_operand(op, 2) &&
      ir_op_attr_float(op, "beta", 1.0f) == 1.0f && outlier_channel_bias(ir_op_operand(op, 2), n) &&
      outlier_exclusive(r->m, ir_op_operand(op, 2), op)) {
    holder = op, idx = 2;
  } else if (canon_one_use(y) && y->uses->user->kind == IR_OP_ADD) {
    IrOp *add = y->uses->user;
    IrValue *c = canon_other(add, y);
    if (c && c != y && outlier_channel_bias(c, n) && c->type->rank <= y->type->rank && c->type->elem == y->type->elem &&
        outlier_exclusive(r->m, c, add))
      holder = add, idx = ir_op_operand(add, 0) == y ? 1 : 0;
  }
  if (holder) {
    Tensor *t = tensor_from_const(canon_const(ir_op_operand(holder, idx)));
    for (int64_t e = 0; e < t->numel; e++) tensor_set_f64(t, e, tensor_get_f64(t, e) + corr[e % n]);
    outlier_replace_operand(r, holder, idx, t);
    tensor_free(t);
    return;
  }
  Tensor *t = tensor_new(y->type->elem, 1, &n);
  for (int64_t e = 0; e < n; e++) tensor_set_f64(t, e, corr[e]);
  const char *base = y->name ? y->name : r->fallback;
  size_t len = strlen(base) + strlen(r->bias_suffix) + strlen(r->orig_suffix) + 2;
  char *name = malloc(len);
  snprintf(name, len, "%s.%s", base, r->bias_suffix);
  IrOp *after = op->next;
  IrValue *c = canon_new_const(r->m, after, name, t);
  tensor_free(t);
  IrValue *ins[2] = {y, c};
  IrOp *add = canon_create(r->m, after, IR_OP_ADD, ins, 2, y->type, NULL);
  ir_value_replace_all_uses(y, add->results[0]);
  ir_op_set_operand(add, 0, y);
  /* The sum stands for the MatMul's old result (statistics, report pairs). */
  if (y->name) {
    ir_value_set_name(r->m, add->results[0], y->name);
    snprintf(name, len, "%s.%s", base, r->orig_suffix);
    ir_value_set_name(r->m, y, name);
  }
  free(name);
  quench_pass_stat_add(r->ctx, "biases-added", 1);
}

void outlier_rewriter_finish(OutlierRewriter *r) {
  for (int i = 0; i < r->ndropped; i++)
    if (outlier_const_refs(r->m, r->dropped[i]) == 0) ir_module_remove_const(r->m, r->dropped[i]);
  free(r->dropped);
  r->dropped = NULL;
  r->ndropped = 0;
}
