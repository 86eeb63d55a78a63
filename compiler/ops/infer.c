/* Shape and type inference: the dispatch over the op table, the shared
 * helpers (operand shapes, constant operands, broadcasting) and the
 * elementwise rules. Shape-manipulating ops are in infer_shape.c, linear
 * algebra, convolution, pooling, reductions, recurrent, quantized and
 * control-flow ops in infer_nn.c. Rules follow the ONNX operator spec. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ops/infer_internal.h"
#include "quant/floatfmt.h"

bool infer_fail(InferCtx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_op_verror(c->d, c->op, fmt, ap);
  va_end(ap);
  return false;
}

const IrType *infer_in(const InferCtx *c, uint32_t i) {
  if (i >= c->op->noperands || !c->op->operands[i].value) return NULL;
  return c->op->operands[i].value->type;
}

void infer_shape_of(const IrType *t, Shape *s) {
  s->rank = t->rank > INFER_MAX_RANK ? -1 : t->rank;
  for (int32_t i = 0; i < s->rank; i++) {
    s->d[i] = t->dims[i];
    if (s->d[i].size < 0 && !s->d[i].sym) s->d[i].size = -1;
  }
}

bool infer_in_shape(const InferCtx *c, uint32_t i, Shape *s) {
  const IrType *t = infer_in(c, i);
  if (!t) {
    s->rank = -1;
    return false;
  }
  infer_shape_of(t, s);
  return true;
}

/* Merges the inferred type into the existing one where they agree. */
static const IrType *refine(IrModule *m, const IrType *old, IrElem e, const Shape *s) {
  if (old && old->elem == e && !old->quant && old->rank >= 0 && old->rank == s->rank) {
    Shape r = *s;
    bool changed = false, conflict = false;
    for (int32_t i = 0; i < s->rank; i++) {
      IrDim a = s->d[i], b = old->dims[i];
      if (a.size >= 0 && b.size >= 0 && a.size != b.size) conflict = true;
      if (a.size < 0 && !a.sym && (b.size >= 0 || b.sym)) r.d[i] = b, changed = true;
    }
    if (!conflict && changed) return ir_type_tensor(m, e, r.rank, r.d);
  }
  return ir_type_tensor(m, e, s->rank, s->d);
}

void infer_set(InferCtx *c, uint32_t i, IrElem e, const Shape *s) {
  if (i >= c->op->nresults) return;
  IrValue *v = c->op->results[i];
  v->type = refine(c->m, v->type, e, s);
}

void infer_same_as_in0(InferCtx *c) {
  Shape s;
  const IrType *t = infer_in(c, 0);
  infer_shape_of(t, &s);
  for (uint32_t i = 0; i < c->op->nresults; i++) infer_set(c, i, t->elem, &s);
}

bool infer_axis(InferCtx *c, int64_t axis, int32_t rank, int32_t *out, const char *what) {
  if (axis < -(int64_t)rank || axis >= rank)
    return infer_fail(c, "%s %lld is out of range for rank %d", what, (long long)axis, (int)rank);
  *out = (int32_t)(axis < 0 ? axis + rank : axis);
  return true;
}

int64_t infer_numel(const Shape *s) {
  if (s->rank < 0) return -1;
  int64_t n = 1;
  for (int32_t i = 0; i < s->rank; i++) {
    if (s->d[i].size < 0) return -1;
    if (s->d[i].size && n > INT64_MAX / s->d[i].size) return -1;
    n *= s->d[i].size;
  }
  return n;
}

/* ---- constant operands --------------------------------------------- */

/* The constant tensor behind a Constant op's result, if any, with its
 * scalar-attribute forms handled by the caller. */
static const IrOp *const_def(const IrValue *v) {
  return v && v->kind == IR_VALUE_RESULT && v->def && v->def->kind == IR_OP_CONSTANT ? v->def : NULL;
}

static int64_t const_int(const IrConst *k, int64_t i) {
  uint64_t b = ir_const_bits(k, i);
  uint8_t buf[8];
  ir_elem_store_bits(k->type->elem, buf, 0, b);
  return ir_elem_load_int(k->type->elem, buf, 0);
}

bool infer_const_ints(const InferCtx *c, uint32_t i, int64_t *out, int *n, int max) {
  if (i >= c->op->noperands) return false;
  SVal sv[INFER_MAX_SV];
  int k;
  if (!infer_shape_value(c->op->operands[i].value, sv, &k, 0) || k > max) return false;
  for (int j = 0; j < k; j++) {
    if (!sv[j].known || sv[j].sym) return false;
    out[j] = sv[j].v;
  }
  *n = k;
  return true;
}

bool infer_const_floats(const InferCtx *c, uint32_t i, double *out, int *n, int max) {
  const IrOp *d = const_def(i < c->op->noperands ? c->op->operands[i].value : NULL);
  if (!d) return false;
  const IrAttr *a = ir_op_attr(d, "value");
  if (a && a->kind == IR_ATTR_TENSOR) {
    const IrConst *k = a->u.tensor;
    int64_t ne = ir_type_numel(k->type);
    if (ne < 0 || ne > max || !ir_elem_is_float(k->type->elem)) return false;
    for (int64_t j = 0; j < ne; j++) out[j] = q_float_decode(k->type->elem, ir_const_bits(k, j));
    *n = (int)ne;
    return true;
  }
  if ((a = ir_op_attr(d, "value_float"))) {
    out[0] = a->u.f;
    *n = 1;
    return true;
  }
  if ((a = ir_op_attr(d, "value_floats")) && (int)a->u.floats.n <= max) {
    for (uint32_t j = 0; j < a->u.floats.n; j++) out[j] = a->u.floats.v[j];
    *n = (int)a->u.floats.n;
    return true;
  }
  return false;
}

/* Contents of a Constant op as shape values. */
static bool const_svals(const IrOp *d, SVal *out, int *n) {
  const IrAttr *a = ir_op_attr(d, "value");
  if (a && a->kind == IR_ATTR_TENSOR) {
    const IrConst *k = a->u.tensor;
    int64_t ne = ir_type_numel(k->type);
    if (ne < 0 || ne > INFER_MAX_SV || k->type->rank > 1 || !ir_elem_is_int(k->type->elem)) return false;
    for (int64_t j = 0; j < ne; j++) out[j] = (SVal){const_int(k, j), NULL, true};
    *n = (int)ne;
    return true;
  }
  if ((a = ir_op_attr(d, "value_int"))) {
    out[0] = (SVal){a->u.i, NULL, true};
    *n = 1;
    return true;
  }
  if ((a = ir_op_attr(d, "value_ints")) && a->u.ints.n <= INFER_MAX_SV) {
    for (uint32_t j = 0; j < a->u.ints.n; j++) out[j] = (SVal){a->u.ints.v[j], NULL, true};
    *n = (int)a->u.ints.n;
    return true;
  }
  return false;
}

static SVal sv_unknown(void) { return (SVal){0, NULL, false}; }

static SVal sv_of_dim(IrDim d) {
  if (d.size >= 0) return (SVal){d.size, NULL, true};
  if (d.sym) return (SVal){0, d.sym, false};
  return sv_unknown();
}

static bool sv_static(SVal s) { return s.known && !s.sym; }

/* Elementwise integer arithmetic on shape values; symbols survive only
 * identities (x*1, x+0, x-0, x/1). */
static SVal sv_arith(IrOpKind k, SVal a, SVal b) {
  if (sv_static(a) && sv_static(b)) {
    int64_t x = a.v, y = b.v;
    switch (k) {
    case IR_OP_ADD: return (SVal){x + y, NULL, true};
    case IR_OP_SUB: return (SVal){x - y, NULL, true};
    case IR_OP_MUL: return (SVal){x * y, NULL, true};
    case IR_OP_DIV:
      if (y == 0 || (x == INT64_MIN && y == -1)) return sv_unknown();
      return (SVal){x / y, NULL, true};
    default: return sv_unknown();
    }
  }
  if (a.sym && sv_static(b) &&
      (((k == IR_OP_MUL || k == IR_OP_DIV) && b.v == 1) || ((k == IR_OP_ADD || k == IR_OP_SUB) && b.v == 0)))
    return a;
  if (b.sym && sv_static(a) && ((k == IR_OP_MUL && a.v == 1) || (k == IR_OP_ADD && a.v == 0))) return b;
  return sv_unknown();
}

bool infer_shape_value(const IrValue *v, SVal *out, int *n, int depth) {
  if (!v || depth > 24 || v->kind != IR_VALUE_RESULT || !v->def) return false;
  const IrOp *d = v->def;
  const IrType *t = v->type;
  if (t->rank > 1 || !ir_elem_is_int(t->elem)) return false;
  SVal a[INFER_MAX_SV], b[INFER_MAX_SV];
  int na, nb;
  switch (d->kind) {
  case IR_OP_CONSTANT: return const_svals(d, out, n);
  case IR_OP_SHAPE: {
    const IrType *x = ir_op_operand(d, 0)->type;
    if (x->rank < 0 || x->rank > INFER_MAX_SV) return false;
    int64_t r = x->rank, s = ir_op_attr_int(d, "start", 0), e = ir_op_attr_int(d, "end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    *n = 0;
    for (int64_t i = s; i < e; i++) out[(*n)++] = sv_of_dim(x->dims[i]);
    return true;
  }
  case IR_OP_SIZE: {
    Shape s;
    infer_shape_of(ir_op_operand(d, 0)->type, &s);
    int64_t ne = infer_numel(&s);
    out[0] = ne >= 0 ? (SVal){ne, NULL, true} : sv_unknown();
    *n = 1;
    return true;
  }
  case IR_OP_IDENTITY:
  case IR_OP_CAST:
  case IR_OP_SQUEEZE:
  case IR_OP_UNSQUEEZE:
  case IR_OP_RESHAPE:
    return infer_shape_value(ir_op_operand(d, 0), out, n, depth + 1);
  case IR_OP_GATHER: {
    if (ir_op_attr_int(d, "axis", 0) != 0) return false;
    if (!infer_shape_value(ir_op_operand(d, 0), a, &na, depth + 1)) return false;
    if (!infer_shape_value(ir_op_operand(d, 1), b, &nb, depth + 1)) return false;
    for (int i = 0; i < nb; i++) {
      if (!sv_static(b[i])) return false;
      int64_t ix = b[i].v < 0 ? b[i].v + na : b[i].v;
      if (ix < 0 || ix >= na) return false;
      out[i] = a[ix];
    }
    *n = nb;
    return true;
  }
  case IR_OP_CONCAT: {
    *n = 0;
    for (uint32_t i = 0; i < d->noperands; i++) {
      if (!infer_shape_value(ir_op_operand(d, i), a, &na, depth + 1) || *n + na > INFER_MAX_SV) return false;
      for (int j = 0; j < na; j++) out[(*n)++] = a[j];
    }
    return true;
  }
  case IR_OP_SLICE: {
    if (!infer_shape_value(ir_op_operand(d, 0), a, &na, depth + 1)) return false;
    SVal st[4], en[4], ax[4], sp[4];
    int ns, ne2, nx = 0, np = 0;
    if (!infer_shape_value(ir_op_operand(d, 1), st, &ns, depth + 1) || ns != 1 || !sv_static(st[0])) return false;
    if (!infer_shape_value(ir_op_operand(d, 2), en, &ne2, depth + 1) || ne2 != 1 || !sv_static(en[0])) return false;
    if (d->noperands > 3 && ir_op_operand(d, 3) &&
        (!infer_shape_value(ir_op_operand(d, 3), ax, &nx, depth + 1) || nx != 1 || !sv_static(ax[0]) ||
         (ax[0].v != 0 && ax[0].v != -1)))
      return false;
    if (d->noperands > 4 && ir_op_operand(d, 4) &&
        (!infer_shape_value(ir_op_operand(d, 4), sp, &np, depth + 1) || np != 1 || !sv_static(sp[0]) ||
         sp[0].v != 1))
      return false;
    int64_t s = st[0].v, e = en[0].v;
    if (s < 0) s += na;
    if (e < 0) e += na;
    s = s < 0 ? 0 : s > na ? na : s;
    e = e < 0 ? 0 : e > na ? na : e;
    *n = 0;
    for (int64_t i = s; i < e; i++) out[(*n)++] = a[i];
    return true;
  }
  case IR_OP_ADD:
  case IR_OP_SUB:
  case IR_OP_MUL:
  case IR_OP_DIV: {
    if (!infer_shape_value(ir_op_operand(d, 0), a, &na, depth + 1)) return false;
    if (!infer_shape_value(ir_op_operand(d, 1), b, &nb, depth + 1)) return false;
    if (na != nb && na != 1 && nb != 1) return false;
    *n = na > nb ? na : nb;
    for (int i = 0; i < *n; i++) out[i] = sv_arith(d->kind, a[na == 1 ? 0 : i], b[nb == 1 ? 0 : i]);
    return true;
  }
  case IR_OP_CONSTANT_OF_SHAPE: {
    if (!infer_shape_value(ir_op_operand(d, 0), a, &na, depth + 1) || na != 1 || !sv_static(a[0]) ||
        a[0].v > INFER_MAX_SV || a[0].v < 0)
      return false;
    const IrAttr *va = ir_op_attr(d, "value");
    int64_t fill = 0;
    if (va && va->kind == IR_ATTR_TENSOR) {
      if (!ir_elem_is_int(va->u.tensor->type->elem)) return false;
      fill = const_int(va->u.tensor, 0);
    }
    *n = (int)a[0].v;
    for (int i = 0; i < *n; i++) out[i] = (SVal){fill, NULL, true};
    return true;
  }
  case IR_OP_WHERE: {
    /* Where(Equal(s, c), x, s): exporters' way to spell "replace -1". */
    SVal cv[INFER_MAX_SV];
    int nc;
    const IrValue *cond = ir_op_operand(d, 0);
    if (!cond || !cond->def || cond->def->kind != IR_OP_EQUAL) return false;
    if (!infer_shape_value(ir_op_operand(cond->def, 0), a, &na, depth + 1)) return false;
    if (!infer_shape_value(ir_op_operand(cond->def, 1), b, &nb, depth + 1)) return false;
    nc = na > nb ? na : nb;
    for (int i = 0; i < nc; i++) {
      SVal x = a[na == 1 ? 0 : i], y = b[nb == 1 ? 0 : i];
      if (sv_static(x) && sv_static(y)) cv[i] = (SVal){x.v == y.v, NULL, true};
      else if (x.sym && y.sym && strcmp(x.sym, y.sym) == 0) cv[i] = (SVal){1, NULL, true};
      else if ((x.sym && sv_static(y) && y.v < 0) || (y.sym && sv_static(x) && x.v < 0)) cv[i] = (SVal){0, NULL, true};
      else return false;
    }
    if (!infer_shape_value(ir_op_operand(d, 1), a, &na, depth + 1)) return false;
    if (!infer_shape_value(ir_op_operand(d, 2), b, &nb, depth + 1)) return false;
    *n = nc > na ? nc : na;
    if (nb > *n) *n = nb;
    for (int i = 0; i < *n; i++) {
      SVal cc = cv[nc == 1 ? 0 : i];
      if ((nc != 1 && i >= nc) || (na != 1 && i >= na) || (nb != 1 && i >= nb)) return false;
      out[i] = cc.v ? a[na == 1 ? 0 : i] : b[nb == 1 ? 0 : i];
    }
    return true;
  }
  default:
    return false;
  }
}

/* ---- broadcasting and elementwise ops -------------------------------- */

bool ir_infer_broadcast(const IrDim *a, int32_t ra, const IrDim *b, int32_t rb, IrDim *out, int32_t *rout) {
  if (ra < 0 || rb < 0) {
    *rout = -1;
    return true;
  }
  int32_t r = ra > rb ? ra : rb;
  *rout = r;
  for (int32_t i = 0; i < r; i++) {
    int32_t ia = i - (r - ra), ib = i - (r - rb);
    IrDim x = ia >= 0 ? a[ia] : infer_static(1), y = ib >= 0 ? b[ib] : infer_static(1);
    if (x.size < 0 && !x.sym) x.size = -1;
    if (y.size < 0 && !y.sym) y.size = -1;
    IrDim o;
    if (x.size == 1) o = y;
    else if (y.size == 1) o = x;
    else if (x.size >= 0 && y.size >= 0) {
      if (x.size != y.size) return false;
      o = x;
    } else if (x.size >= 0) o = x; /* y must be 1 or x; it is not statically 1 here, so x */
    else if (y.size >= 0) o = y;
    else if (x.sym && y.sym && strcmp(x.sym, y.sym) == 0) o = x;
    else o = infer_dyn();
    out[i] = o;
  }
  return true;
}

static bool broadcast_all(InferCtx *c, uint32_t first, uint32_t count, Shape *s) {
  s->rank = 0;
  bool any = false;
  for (uint32_t i = first; i < first + count; i++) {
    Shape t;
    if (!infer_in_shape(c, i, &t)) continue;
    if (!any) {
      *s = t;
      any = true;
      continue;
    }
    Shape r;
    if (!ir_infer_broadcast(s->d, s->rank, t.d, t.rank, r.d, &r.rank)) {
      /* Name the first clashing static pair. */
      int32_t rr = s->rank > t.rank ? s->rank : t.rank;
      for (int32_t j = 0; j < rr; j++) {
        int32_t ia = j - (rr - s->rank), ib = j - (rr - t.rank);
        if (ia < 0 || ib < 0) continue;
        IrDim x = s->d[ia], y = t.d[ib];
        if (x.size > 1 && y.size > 1 && x.size != y.size)
          return infer_fail(c, "operands do not broadcast: dim %d is %lld vs %lld", (int)j, (long long)x.size,
                            (long long)y.size);
      }
      return infer_fail(c, "operands do not broadcast");
    }
    *s = r;
  }
  return true;
}

static bool infer_elementwise(InferCtx *c, IrElem e, uint32_t first, uint32_t count) {
  Shape s;
  if (!broadcast_all(c, first, count, &s)) return false;
  infer_set(c, 0, e, &s);
  return true;
}

static bool infer_constant(InferCtx *c) {
  const IrAttr *a = ir_op_attr(c->op, "value");
  if (a && a->kind == IR_ATTR_TENSOR) {
    c->op->results[0]->type = a->u.tensor->type;
    return true;
  }
  Shape s = {.rank = 0};
  if ((a = ir_op_attr(c->op, "value_float"))) infer_set(c, 0, IR_ELEM_F32, &s);
  else if ((a = ir_op_attr(c->op, "value_int"))) infer_set(c, 0, IR_ELEM_I64, &s);
  else if ((a = ir_op_attr(c->op, "value_floats"))) {
    s.rank = 1, s.d[0] = infer_static(a->u.floats.n);
    infer_set(c, 0, IR_ELEM_F32, &s);
  } else if ((a = ir_op_attr(c->op, "value_ints"))) {
    s.rank = 1, s.d[0] = infer_static(a->u.ints.n);
    infer_set(c, 0, IR_ELEM_I64, &s);
  } else {
    return infer_fail(c, "no value attribute");
  }
  return true;
}

static bool infer_cast(InferCtx *c) {
  IrElem e;
  if (c->op->kind == IR_OP_CAST_LIKE) {
    e = infer_in(c, 1)->elem;
  } else {
    int64_t to = ir_op_attr_int(c->op, "to", 0);
    bool found = false;
    for (int k = 0; k < IR_ELEM_COUNT && !found; k++)
      if (to != 0 && ir_elem_info[k].onnx == to) e = (IrElem)k, found = true;
    if (!found) return infer_fail(c, "'to' = %lld names no supported element type", (long long)to);
  }
  Shape s;
  infer_shape_of(infer_in(c, 0), &s);
  infer_set(c, 0, e, &s);
  return true;
}

/* Ops whose results all equal operand 0's type (and Dropout's mask). */
static bool infer_unary(InferCtx *c) {
  Shape s;
  const IrType *t = infer_in(c, 0);
  infer_shape_of(t, &s);
  infer_set(c, 0, t->elem, &s);
  if (c->op->kind == IR_OP_DROPOUT) infer_set(c, 1, IR_ELEM_BOOL, &s);
  return true;
}

bool ir_infer_op(IrModule *m, IrOp *op, Diag *d) {
  InferCtx c = {m, op, d};
  for (uint32_t i = 0; i < op->noperands; i++)
    if (op->operands[i].value && !op->operands[i].value->type) return infer_fail(&c, "operand %u has no type", i);
  /* Ops whose rule needs operand 0 present. */
  if (op->kind != IR_OP_CONSTANT && op->kind != IR_OP_RETURN && op->kind != IR_OP_LOOP && op->noperands &&
      !infer_in(&c, 0) && op->kind != IR_OP_SCAN)
    return infer_fail(&c, "operand 0 is absent");
  switch (op->kind) {
  case IR_OP_RETURN: return true;
  case IR_OP_CONSTANT: return infer_constant(&c);
  case IR_OP_IF: case IR_OP_LOOP: case IR_OP_SCAN: return infer_control(&c);

  case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV: case IR_OP_POW: case IR_OP_MOD:
  case IR_OP_BIT_SHIFT: case IR_OP_AND: case IR_OP_OR: case IR_OP_XOR: case IR_OP_PRELU:
  case IR_OP_MAX: case IR_OP_MIN: case IR_OP_MEAN: case IR_OP_SUM:
    return infer_elementwise(&c, infer_in(&c, 0)->elem, 0, op->noperands);
  case IR_OP_EQUAL: case IR_OP_GREATER: case IR_OP_LESS: case IR_OP_GREATER_OR_EQUAL: case IR_OP_LESS_OR_EQUAL:
    return infer_elementwise(&c, IR_ELEM_BOOL, 0, op->noperands);
  case IR_OP_WHERE:
    if (!infer_in(&c, 1)) return infer_fail(&c, "operand 1 is absent");
    return infer_elementwise(&c, infer_in(&c, 1)->elem, 0, op->noperands);
  case IR_OP_IS_NAN: case IR_OP_IS_INF: {
    Shape s;
    infer_shape_of(infer_in(&c, 0), &s);
    infer_set(&c, 0, IR_ELEM_BOOL, &s);
    return true;
  }
  case IR_OP_CAST: case IR_OP_CAST_LIKE: case IR_OP_BIT_CAST: return infer_cast(&c);

  case IR_OP_IDENTITY: case IR_OP_DROPOUT: case IR_OP_SQRT: case IR_OP_EXP: case IR_OP_LOG: case IR_OP_ABS:
  case IR_OP_NEG: case IR_OP_RECIPROCAL: case IR_OP_ERF: case IR_OP_RELU: case IR_OP_LEAKY_RELU: case IR_OP_CLIP:
  case IR_OP_SIGMOID: case IR_OP_HARD_SIGMOID: case IR_OP_HARD_SWISH: case IR_OP_TANH: case IR_OP_SOFTMAX:
  case IR_OP_NOT: case IR_OP_ACOS: case IR_OP_ACOSH: case IR_OP_ASIN: case IR_OP_ASINH: case IR_OP_ATAN:
  case IR_OP_ATANH: case IR_OP_CEIL: case IR_OP_CELU: case IR_OP_COS: case IR_OP_COSH: case IR_OP_ELU:
  case IR_OP_FLOOR: case IR_OP_GELU: case IR_OP_MISH: case IR_OP_ROUND: case IR_OP_SELU: case IR_OP_SHRINK:
  case IR_OP_SIGN: case IR_OP_SIN: case IR_OP_SINH: case IR_OP_SOFTPLUS: case IR_OP_SOFTSIGN: case IR_OP_TAN:
  case IR_OP_THRESHOLDED_RELU: case IR_OP_HARDMAX: case IR_OP_LOG_SOFTMAX: case IR_OP_LP_NORM: case IR_OP_LRN:
  case IR_OP_MVN: case IR_OP_CUM_SUM: case IR_OP_TRILU: case IR_OP_REVERSE_SEQUENCE: case IR_OP_SCATTER_ELEMENTS:
  case IR_OP_SCATTER_ND: case IR_OP_SCATTER: case IR_OP_CUM_PROD: case IR_OP_TENSOR_SCATTER:
    return infer_unary(&c);
  case IR_OP_LAYER_NORM: case IR_OP_BATCH_NORM: case IR_OP_INSTANCE_NORM: case IR_OP_GROUP_NORM:
    return infer_norm(&c);
  /* fused/newer ONNX ops (ops.def's last group): Y has X's type. */
  case IR_OP_RMS_NORM: return infer_norm(&c);
  case IR_OP_SWISH: return infer_unary(&c);
  /* quench integer ops, created by lower-int (infer_qint.c). */
  case IR_OP_Q_ADD: case IR_OP_Q_AVERAGE_POOL: case IR_OP_Q_MUL: case IR_OP_Q_REQUANTIZE: return infer_qint(&c);
  /* quench transforms, created by rotate (infer_transform.c). */
  case IR_OP_Q_HADAMARD: return infer_transform(&c);

  case IR_OP_MATMUL: case IR_OP_MATMUL_INTEGER: case IR_OP_QLINEAR_MATMUL: return infer_matmul(&c);
  case IR_OP_GEMM: return infer_gemm(&c);
  case IR_OP_EINSUM: return infer_einsum(&c);
  case IR_OP_CONV: case IR_OP_CONV_TRANSPOSE: case IR_OP_CONV_INTEGER: case IR_OP_QLINEAR_CONV:
  case IR_OP_MAX_POOL: case IR_OP_AVERAGE_POOL:
    return infer_conv_pool(&c);
  case IR_OP_GLOBAL_AVERAGE_POOL: case IR_OP_GLOBAL_MAX_POOL: return infer_global_pool(&c);
  case IR_OP_REDUCE_MEAN: case IR_OP_REDUCE_SUM: case IR_OP_REDUCE_MAX: case IR_OP_REDUCE_MIN:
  case IR_OP_REDUCE_PROD: case IR_OP_REDUCE_L1: case IR_OP_REDUCE_L2: case IR_OP_REDUCE_LOG_SUM:
  case IR_OP_REDUCE_LOG_SUM_EXP: case IR_OP_REDUCE_SUM_SQUARE:
    return infer_reduce(&c);
  case IR_OP_ARG_MAX: case IR_OP_ARG_MIN: return infer_arg_reduce(&c);
  case IR_OP_LSTM: case IR_OP_GRU: case IR_OP_RNN: return infer_recurrent(&c);
  case IR_OP_QUANTIZE_LINEAR: case IR_OP_DEQUANTIZE_LINEAR: case IR_OP_DYNAMIC_QUANTIZE_LINEAR:
    return infer_quant(&c);

  case IR_OP_RESHAPE: return infer_reshape(&c);
  case IR_OP_TRANSPOSE: return infer_transpose(&c);
  case IR_OP_CONCAT: return infer_concat(&c);
  case IR_OP_FLATTEN: return infer_flatten(&c);
  case IR_OP_SQUEEZE: return infer_squeeze(&c);
  case IR_OP_UNSQUEEZE: return infer_unsqueeze(&c);
  case IR_OP_SHAPE: case IR_OP_SIZE: return infer_shape_op(&c);
  case IR_OP_GATHER: case IR_OP_GATHER_ELEMENTS: case IR_OP_GATHER_ND: return infer_gather(&c);
  case IR_OP_SLICE: return infer_slice(&c);
  case IR_OP_SPLIT: return infer_split(&c);
  case IR_OP_EXPAND: return infer_expand(&c);
  case IR_OP_PAD: return infer_pad(&c);
  case IR_OP_RESIZE: return infer_resize(&c);
  case IR_OP_TILE: return infer_tile(&c);
  case IR_OP_RANGE: return infer_range(&c);
  case IR_OP_CONSTANT_OF_SHAPE: return infer_constant_of_shape(&c);
  case IR_OP_COMPRESS: case IR_OP_DEPTH_TO_SPACE: case IR_OP_SPACE_TO_DEPTH: case IR_OP_EYE_LIKE:
  case IR_OP_NON_ZERO: case IR_OP_ONE_HOT: case IR_OP_TOP_K: case IR_OP_UNIQUE:
    return infer_misc_data(&c);
  case IR_OP_COUNT: break;
  }
  return infer_fail(&c, "no shape rule");
}

/* ---- whole module ---------------------------------------------------- */

static bool infer_region(IrModule *m, IrRegion *r, Diag *d) {
  bool ok = true;
  for (IrOp *op = r->first; op; op = op->next) {
    bool inner = true;
    for (uint32_t i = 0; i < op->nregions; i++) inner = infer_region(m, op->regions[i], d) && inner;
    if (!inner) {
      ok = false;
      continue;
    }
    if (!ir_infer_op(m, op, d)) ok = false;
  }
  return ok;
}

bool ir_infer_module(IrModule *m, Diag *d) {
  bool ok = true;
  for (uint32_t f = 0; f < m->nfuncs; f++) {
    IrFunc *fn = m->funcs[f];
    if (!infer_region(m, fn->body, d)) {
      ok = false;
      continue;
    }
    IrOp *ret = fn->body->last;
    if (!ret || ret->kind != IR_OP_RETURN || ret->noperands != fn->nresults) continue;
    for (uint32_t i = 0; i < fn->nresults; i++) {
      const IrValue *v = ret->operands[i].value;
      if (!v) continue;
      Shape s;
      infer_shape_of(v->type, &s);
      const IrType *t = refine(m, fn->result_types[i], v->type->elem, &s);
      fn->result_types[i] = t;
      /* The returned value carries what the signature knew as well. */
      if (v->kind == IR_VALUE_RESULT) ((IrValue *)v)->type = t;
    }
  }
  return ok;
}
