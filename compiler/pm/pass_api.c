/* The IR side of include/quench/pass.h: thin accessors over compiler/ir so
 * plugins see opaque handles and never depend on struct layouts. Plugin
 * mistakes that would corrupt the IR (erasing a used op) are refused;
 * out-of-range indices are asserts, as in the core IR. */
#include <assert.h>
#include <string.h>

#include "pm/pass_manager.h"

/* ---- walking ------------------------------------------------------------- */

uint32_t quench_module_num_funcs(const QModule *m) { return m->nfuncs; }

QFunc *quench_module_func(const QModule *m, uint32_t i) {
  assert(i < m->nfuncs);
  return m->funcs[i];
}

const char *quench_func_name(const QFunc *f) { return f->name; }
QRegion *quench_func_body(const QFunc *f) { return f->body; }
QOp *quench_region_first_op(const QRegion *r) { return r->first; }
QOp *quench_op_next(const QOp *op) { return op->next; }
QOp *quench_op_prev(const QOp *op) { return op->prev; }
const char *quench_region_name(const QRegion *r) { return r->name; }
uint32_t quench_region_num_args(const QRegion *r) { return r->nargs; }

QValue *quench_region_arg(const QRegion *r, uint32_t i) {
  assert(i < r->nargs);
  return r->args[i];
}

QOp *quench_region_parent_op(const QRegion *r) { return r->parent_op; }
QRegion *quench_op_parent_region(const QOp *op) { return op->parent; }

bool quench_module_walk(QModule *m, QOpVisitor fn, void *user) { return ir_module_walk(m, fn, user); }

/* ---- ops ----------------------------------------------------------------- */

const char *quench_op_name(const QOp *op) { return ops_name(op->kind); }
bool quench_op_is(const QOp *op, const char *name) { return strcmp(ops_name(op->kind), name) == 0; }
uint32_t quench_op_num_operands(const QOp *op) { return op->noperands; }

QValue *quench_op_operand(const QOp *op, uint32_t i) {
  assert(i < op->noperands);
  return op->operands[i].value;
}

void quench_op_set_operand(QOp *op, uint32_t i, QValue *v) { ir_op_set_operand(op, i, v); }
uint32_t quench_op_num_results(const QOp *op) { return op->nresults; }

QValue *quench_op_result(const QOp *op, uint32_t i) {
  assert(i < op->nresults);
  return op->results[i];
}

uint32_t quench_op_num_regions(const QOp *op) { return op->nregions; }

QRegion *quench_op_region(const QOp *op, uint32_t i) {
  assert(i < op->nregions);
  return op->regions[i];
}

QOp *quench_op_create(QModule *m, const char *name, QValue *const *operands, uint32_t noperands,
                      const QType *const *result_types, uint32_t nresults) {
  IrOpKind k;
  if (!ops_lookup(name, (int)strlen(name), &k)) return NULL;
  return ir_op_create(m, k, operands, noperands, result_types, nresults, (uint32_t)ops_info(k)->nregions);
}

void quench_op_insert_before(QOp *pos, QOp *op) { ir_op_insert_before(pos, op); }
void quench_op_insert_after(QOp *pos, QOp *op) { ir_op_insert_after(pos, op); }

bool quench_op_erase(QOp *op) {
  for (uint32_t i = 0; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i])) return false;
  ir_op_erase(op);
  return true;
}

/* ---- values and types ------------------------------------------------------ */

const QType *quench_value_type(const QValue *v) { return v->type; }
QOp *quench_value_def(const QValue *v) { return v->kind == IR_VALUE_RESULT ? v->def : NULL; }
uint32_t quench_value_num_uses(const QValue *v) { return ir_value_num_uses(v); }
void quench_value_replace_all_uses(QValue *from, QValue *to) { ir_value_replace_all_uses(from, to); }

const char *quench_type_elem_name(const QType *t) { return ir_elem_name(t->elem); }
bool quench_type_is_quantized(const QType *t) { return t->quant != NULL; }
int32_t quench_type_rank(const QType *t) { return t->rank; }

int64_t quench_type_dim(const QType *t, int32_t i) {
  assert(i >= 0 && i < t->rank);
  return t->dims[i].size >= 0 ? t->dims[i].size : -1;
}

int64_t quench_type_numel(const QType *t) { return ir_type_numel(t); }
bool quench_type_equal(const QType *a, const QType *b) { return ir_type_equal(a, b); }

/* ---- attributes --------------------------------------------------------------- */

bool quench_op_has_attr(const QOp *op, const char *name) { return ir_op_attr(op, name) != NULL; }

int64_t quench_op_attr_int(const QOp *op, const char *name, int64_t dflt) { return ir_op_attr_int(op, name, dflt); }

double quench_op_attr_float(const QOp *op, const char *name, double dflt) {
  const IrAttr *a = ir_op_attr(op, name);
  return a && a->kind == IR_ATTR_FLOAT ? (double)a->u.f : dflt;
}

const char *quench_op_attr_string(const QOp *op, const char *name, const char *dflt) {
  return ir_op_attr_string(op, name, dflt);
}

uint32_t quench_op_attr_ints(const QOp *op, const char *name, const int64_t **values) {
  const IrAttr *a = ir_op_attr(op, name);
  if (!a || a->kind != IR_ATTR_INTS) {
    *values = NULL;
    return 0;
  }
  *values = a->u.ints.v;
  return a->u.ints.n;
}

void quench_op_set_attr_int(QModule *m, QOp *op, const char *name, int64_t v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INT, .u.i = v};
  ir_op_set_attr(m, op, &a);
}

void quench_op_set_attr_float(QModule *m, QOp *op, const char *name, double v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_FLOAT, .u.f = (float)v};
  ir_op_set_attr(m, op, &a);
}

void quench_op_set_attr_string(QModule *m, QOp *op, const char *name, const char *v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_STRING, .u.s = v};
  ir_op_set_attr(m, op, &a);
}

void quench_op_set_attr_ints(QModule *m, QOp *op, const char *name, const int64_t *v, uint32_t n) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INTS};
  a.u.ints.v = v;
  a.u.ints.n = n;
  ir_op_set_attr(m, op, &a);
}

bool quench_op_remove_attr(QOp *op, const char *name) { return ir_op_remove_attr(op, name); }
