/* Helpers shared by the canonicalization passes; see canon_util.h. */
#include "passes/canon_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const IrConst *canon_const(const IrValue *v) {
  if (!v || v->kind != IR_VALUE_RESULT || v->def->kind != IR_OP_CONSTANT) return NULL;
  const IrAttr *a = ir_op_attr(v->def, "value");
  return a && a->kind == IR_ATTR_TENSOR ? a->u.tensor : NULL;
}

bool canon_scalar(const IrValue *v, double *out) {
  const IrConst *c = canon_const(v);
  if (!c || c->type->quant) return false;
  IrElem e = c->type->elem;
  if (!ir_elem_is_float(e) && !ir_elem_is_int(e)) return false;
  int64_t n = ir_type_numel(c->type);
  if (n < 1) return false;
  uint64_t first = ir_const_bits(c, 0);
  for (int64_t i = 1; i < n && !c->splat; i++)
    if (ir_const_bits(c, i) != first) return false;
  Tensor *t = tensor_new(e, 0, NULL);
  if (!t) return false;
  tensor_set_bits(t, 0, first);
  *out = tensor_get_f64(t, 0);
  tensor_free(t);
  return true;
}

bool canon_scalar_near(const IrValue *v, double want, double tol) {
  double x;
  return canon_scalar(v, &x) && fabs(x - want) <= tol * fmax(1.0, fabs(want));
}

IrOp *canon_def(const IrValue *v, IrOpKind k) {
  return v && v->kind == IR_VALUE_RESULT && v->def->kind == k ? v->def : NULL;
}

IrValue *canon_other(const IrOp *bin, const IrValue *x) {
  if (bin->noperands != 2) return NULL;
  if (ir_op_operand(bin, 0) == x) return ir_op_operand(bin, 1);
  if (ir_op_operand(bin, 1) == x) return ir_op_operand(bin, 0);
  return NULL;
}

int canon_operand_of_kind(const IrOp *bin, IrOpKind want) {
  for (int i = 0; i < 2 && (uint32_t)i < bin->noperands; i++)
    if (canon_def(ir_op_operand(bin, (uint32_t)i), want)) return i;
  return -1;
}

/* base, base_1, base_2, ...: the first name the pool does not hold. */
static const char *unique_const_name(IrModule *m, const char *base) {
  size_t n = strlen(base) + 24;
  char *buf = arena_alloc(&m->arena, n);
  snprintf(buf, n, "%s", base);
  for (unsigned i = 1; ir_module_find_const(m, buf); i++) snprintf(buf, n, "%s_%u", base, i);
  return buf;
}

IrOp *canon_const_op(IrModule *m, const char *base, const Tensor *t) {
  const IrType *ty = ir_type_static(m, t->elem, t->rank, t->dims);
  IrConst *c = ir_const_create(m, unique_const_name(m, base), ty, t->data, t->nbytes, false);
  IrOp *op = ir_op_create(m, IR_OP_CONSTANT, NULL, 0, &ty, 1, 0);
  IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = c};
  ir_op_set_attr(m, op, &a);
  ir_value_set_name(m, op->results[0], c->name);
  return op;
}

IrValue *canon_new_const(IrModule *m, IrOp *pos, const char *base, const Tensor *t) {
  IrOp *op = canon_const_op(m, base, t);
  ir_op_insert_before(pos, op);
  op->src = pos->src;
  op->src_name = pos->src_name;
  return op->results[0];
}

static bool unused(const IrOp *op) {
  for (uint32_t i = 0; i < op->nresults; i++)
    if (ir_value_has_uses(op->results[i])) return false;
  return true;
}

void canon_erase_dead(IrOp *const *ops, int n) {
  bool again = true;
  while (again) {
    again = false;
    for (int i = 0; i < n; i++)
      if (ops[i] && ops[i]->parent && unused(ops[i])) {
        ir_op_erase(ops[i]);
        again = true;
      }
  }
}

bool canon_reduces_last_axis(const IrOp *reduce) {
  if (reduce->kind != IR_OP_REDUCE_MEAN || ir_op_attr_int(reduce, "keepdims", 1) != 1) return false;
  int32_t rank = ir_op_operand(reduce, 0)->type->rank;
  if (rank < 1) return false;
  int64_t axis;
  const IrAttr *a = ir_op_attr(reduce, "axes");
  IrValue *axes_in = reduce->noperands > 1 ? ir_op_operand(reduce, 1) : NULL;
  if (axes_in) {
    const IrConst *c = canon_const(axes_in);
    if (!c || !ir_elem_is_int(c->type->elem) || ir_type_numel(c->type) != 1) return false;
    Tensor *t = tensor_from_const(c);
    if (!t) return false;
    axis = tensor_get_i64(t, 0);
    tensor_free(t);
  } else if (a && a->kind == IR_ATTR_INTS && a->u.ints.n == 1) {
    axis = a->u.ints.v[0];
  } else {
    return false;
  }
  return axis == -1 || axis == rank - 1;
}

IrOp *canon_create(IrModule *m, IrOp *pos, IrOpKind k, IrValue *const *ins, uint32_t nin, const IrType *t,
                   const char *name) {
  IrOp *op = ir_op_create(m, k, ins, nin, &t, 1, 0);
  ir_op_insert_before(pos, op);
  if (name) ir_value_set_name(m, op->results[0], name);
  return op;
}

void canon_replace(IrOp *old, IrOp *new_op) {
  new_op->src = old->src;
  new_op->src_name = old->src_name;
  ir_value_replace_all_uses(old->results[0], new_op->results[0]);
}

/* ---- products -------------------------------------------------------- */

static bool small_int_power(const IrOp *pow, int *k) {
  double e;
  if (!canon_scalar(ir_op_operand(pow, 1), &e) || e != floor(e) || e < 1 || e > 4) return false;
  *k = (int)e;
  return true;
}

static bool flatten(IrValue *v, bool root, CanonProduct *p) {
  double c;
  if (canon_scalar(v, &c)) {
    p->coef *= c;
    return true;
  }
  IrOp *op = v->kind == IR_VALUE_RESULT ? v->def : NULL;
  bool expand = op && (root || canon_one_use(v)) && p->nops < CANON_MAX_FACTORS * 2;
  int k = 0;
  if (expand && op->kind == IR_OP_MUL) {
    p->ops[p->nops++] = op;
    return flatten(ir_op_operand(op, 0), false, p) && flatten(ir_op_operand(op, 1), false, p);
  }
  if (expand && op->kind == IR_OP_DIV && canon_scalar(ir_op_operand(op, 1), &c) && c != 0) {
    p->ops[p->nops++] = op;
    p->coef /= c;
    return flatten(ir_op_operand(op, 0), false, p);
  }
  if (expand && op->kind == IR_OP_POW && small_int_power(op, &k)) {
    p->ops[p->nops++] = op;
    for (int i = 0; i < k; i++)
      if (!flatten(ir_op_operand(op, 0), false, p)) return false;
    return true;
  }
  if (root || p->n == CANON_MAX_FACTORS) return false;
  p->f[p->n++] = v;
  return true;
}

bool canon_product(IrOp *op, CanonProduct *p) {
  *p = (CanonProduct){.coef = 1};
  return flatten(op->results[0], true, p);
}

bool canon_product_is(const CanonProduct *p, IrValue *const *want, int n) {
  if (p->n != n) return false;
  bool taken[CANON_MAX_FACTORS] = {0};
  for (int i = 0; i < n; i++) {
    int j = 0;
    while (j < n && (taken[j] || p->f[j] != want[i])) j++;
    if (j == n) return false;
    taken[j] = true;
  }
  return true;
}

IrOp *canon_climb(IrValue *v, IrValue *const *want, int n, double c, double tol, CanonProduct *p) {
  for (int level = 0; level < 4 && canon_one_use(v); level++) {
    IrOp *u = v->uses->user;
    if (u->kind != IR_OP_MUL && !(u->kind == IR_OP_DIV && v->uses->index == 0)) return NULL;
    if (canon_product(u, p) && canon_product_is(p, want, n) && fabs(p->coef - c) <= tol * fmax(1.0, fabs(c)))
      return u;
    v = u->results[0];
  }
  return NULL;
}

/* ---- normalizations -------------------------------------------------- */

static void add_op(CanonNorm *c, IrOp *op) {
  if (c->nops < (int)(sizeof c->ops / sizeof c->ops[0])) c->ops[c->nops++] = op;
}

bool canon_uses_only_by(const IrValue *d, IrOp *const *ops, int n) {
  for (const IrUse *u = d->uses; u; u = u->next) {
    int i = 0;
    while (i < n && ops[i] != u->user) i++;
    if (i == n) return false;
  }
  return true;
}

bool canon_match_norm(IrOp *sqrt_op, CanonNorm *out) {
  CanonNorm c = {0};
  IrValue *s = sqrt_op->results[0];
  IrOp *add = canon_def(ir_op_operand(sqrt_op, 0), IR_OP_ADD);
  if (!add || !canon_one_use(add->results[0]) || !canon_one_use(s)) return false;
  int ri = canon_operand_of_kind(add, IR_OP_REDUCE_MEAN);
  if (ri < 0 || !canon_scalar(ir_op_operand(add, (uint32_t)(1 - ri)), &c.eps)) return false;
  IrOp *rm = ir_op_operand(add, (uint32_t)ri)->def;
  if (!canon_one_use(rm->results[0]) || !canon_reduces_last_axis(rm)) return false;
  IrValue *sqv = ir_op_operand(rm, 0);
  CanonProduct sq;
  if (sqv->kind != IR_VALUE_RESULT || !canon_one_use(sqv) || !canon_product(sqv->def, &sq) || sq.n != 2 ||
      sq.f[0] != sq.f[1] || sq.coef != 1)
    return false;
  c.d = sq.f[0];
  IrOp *user = s->uses->user, *n = NULL;
  if (user->kind == IR_OP_DIV && s->uses->index == 1 && ir_op_operand(user, 0) == c.d) {
    n = user;
  } else if (user->kind == IR_OP_RECIPROCAL && canon_one_use(user->results[0])) {
    IrOp *mul = user->results[0]->uses->user;
    if (mul->kind == IR_OP_MUL && canon_other(mul, user->results[0]) == c.d) n = mul;
    add_op(&c, user);
  }
  if (!n) return false;
  c.n = c.root = n;
  for (int i = 0; i < sq.nops; i++) add_op(&c, sq.ops[i]);
  add_op(&c, rm);
  add_op(&c, add);
  add_op(&c, sqrt_op);
  add_op(&c, n);
  IrValue *nv = n->results[0];
  if (canon_one_use(nv) && nv->uses->user->kind == IR_OP_MUL) {
    IrOp *mul = nv->uses->user;
    IrValue *g = canon_other(mul, nv);
    if (canon_const(g) && canon_last_axis_param(g, c.d)) {
      c.gamma = g;
      c.root = mul;
      add_op(&c, mul);
    }
  }
  *out = c;
  return true;
}

bool canon_last_axis_param(const IrValue *c, const IrValue *x) {
  const IrType *t = c->type, *xt = x->type;
  if (!canon_const(c) || t->quant || t->elem != xt->elem || xt->rank < 1 || t->rank > xt->rank) return false;
  int64_t last = xt->dims[xt->rank - 1].size;
  if (last < 1 || ir_type_numel(t) != last) return false;
  for (int32_t i = 0; i + 1 < t->rank; i++)
    if (t->dims[i].size != 1) return false;
  return true;
}

IrValue *canon_fill_last_axis(IrModule *m, IrOp *pos, const IrValue *x, double v, const char *name) {
  int64_t last = x->type->dims[x->type->rank - 1].size;
  Tensor *t = tensor_new(x->type->elem, 1, &last);
  for (int64_t i = 0; i < last; i++) tensor_set_f64(t, i, v);
  IrValue *r = canon_new_const(m, pos, name, t);
  tensor_free(t);
  return r;
}

/* ---- walking ---------------------------------------------------------- */

typedef struct OpList {
  IrOp **ops;
  size_t n, cap;
} OpList;

static bool collect(IrOp *op, void *arg) {
  OpList *l = arg;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->ops = xrealloc(l->ops, l->cap * sizeof *l->ops);
  }
  l->ops[l->n++] = op;
  return true;
}

void canon_walk(IrModule *m, IrOpVisitor fn, void *ctx) {
  OpList l = {0};
  ir_module_walk(m, collect, &l);
  for (size_t i = 0; i < l.n; i++)
    if (l.ops[i]->parent && !fn(l.ops[i], ctx)) break;
  free(l.ops);
}

typedef struct RewriteAll {
  PassContext *ctx;
  IrModule *m;
  CanonRewrite fn;
} RewriteAll;

static bool rewrite_one(IrOp *op, void *arg) {
  RewriteAll *r = arg;
  return r->fn(r->ctx, r->m, op);
}

void canon_rewrite_all(PassContext *ctx, IrModule *m, CanonRewrite fn) {
  RewriteAll r = {ctx, m, fn};
  canon_walk(m, rewrite_one, &r);
}
