/* Core IR construction and mutation: modules, functions, types, attributes,
 * constants, ops and use lists. Text I/O is in printer.c/parser.c, checking
 * in verifier.c. */
#include "ir/ir.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Grows an arena array of `elem`-byte items to hold at least `need`. */
static void *grow_array(Arena *a, void *arr, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return arr;
  uint32_t ncap = *cap ? *cap * 2 : 4;
  while (ncap < need) ncap *= 2;
  void *n = arena_grow(a, arr, (size_t)*cap * elem, (size_t)ncap * elem);
  *cap = ncap;
  return n;
}

/* ---- module and function ------------------------------------------ */

IrModule *ir_module_create(const char *name) {
  IrModule *m = xcalloc(1, sizeof *m);
  arena_init(&m->arena);
  m->name = arena_strdup(&m->arena, name);
  return m;
}

void ir_module_destroy(IrModule *m) {
  if (!m) return;
  arena_release(&m->arena);
  free(m);
}

static IrRegion *region_create(IrModule *m, const char *name, IrFunc *f, IrOp *parent) {
  IrRegion *r = arena_alloc(&m->arena, sizeof *r);
  r->name = arena_strdup(&m->arena, name);
  r->func = f;
  r->parent_op = parent;
  return r;
}

IrFunc *ir_func_create(IrModule *m, const char *name) {
  IrFunc *f = arena_alloc(&m->arena, sizeof *f);
  f->name = arena_strdup(&m->arena, name);
  f->module = m;
  f->body = region_create(m, "body", f, NULL);
  m->funcs = grow_array(&m->arena, m->funcs, &m->funcs_cap, m->nfuncs + 1, sizeof *m->funcs);
  m->funcs[m->nfuncs++] = f;
  return f;
}

IrFunc *ir_module_find_func(const IrModule *m, const char *name) {
  for (uint32_t i = 0; i < m->nfuncs; i++)
    if (strcmp(m->funcs[i]->name, name) == 0) return m->funcs[i];
  return NULL;
}

void ir_func_set_results(IrFunc *f, const IrType *const *types, uint32_t n) {
  const IrType **t = arena_calloc(&f->module->arena, n, sizeof *t);
  for (uint32_t i = 0; i < n; i++) t[i] = types[i];
  f->result_types = t;
  f->nresults = n;
}

IrValue *ir_region_add_arg(IrModule *m, IrRegion *r, const char *name, const IrType *t) {
  IrValue *v = arena_alloc(&m->arena, sizeof *v);
  v->name = arena_strdup(&m->arena, name);
  v->type = t;
  v->kind = IR_VALUE_ARG;
  v->region = r;
  v->index = r->nargs;
  r->args = grow_array(&m->arena, r->args, &r->args_cap, r->nargs + 1, sizeof *r->args);
  r->args[r->nargs++] = v;
  return v;
}

/* ---- types ---------------------------------------------------------- */

const IrType *ir_type_tensor(IrModule *m, IrElem elem, int32_t rank, const IrDim *dims) {
  IrType *t = arena_alloc(&m->arena, sizeof *t);
  t->elem = elem;
  t->rank = rank;
  if (rank > 0) {
    IrDim *d = arena_calloc(&m->arena, (size_t)rank, sizeof *d);
    for (int32_t i = 0; i < rank; i++) {
      d[i].size = dims[i].sym ? -1 : dims[i].size;
      d[i].sym = arena_strdup(&m->arena, dims[i].sym);
    }
    t->dims = d;
  }
  return t;
}

const IrType *ir_type_static(IrModule *m, IrElem elem, int32_t rank, const int64_t *dims) {
  IrType *t = arena_alloc(&m->arena, sizeof *t);
  t->elem = elem;
  t->rank = rank;
  if (rank > 0) {
    IrDim *d = arena_calloc(&m->arena, (size_t)rank, sizeof *d);
    for (int32_t i = 0; i < rank; i++) d[i].size = dims[i];
    t->dims = d;
  }
  return t;
}

const IrType *ir_type_quant(IrModule *m, const IrQuant *q, int32_t rank, const IrDim *dims) {
  IrQuant *c = arena_memdup(&m->arena, q, sizeof *q);
  c->scales = arena_memdup(&m->arena, q->scales, (size_t)q->num * sizeof *q->scales);
  c->zero_points = arena_memdup(&m->arena, q->zero_points, (size_t)q->num * sizeof *q->zero_points);
  IrType *t = (IrType *)ir_type_tensor(m, q->storage, rank, dims);
  t->quant = c;
  return t;
}

const IrType *ir_type_with_elem(IrModule *m, const IrType *t, IrElem elem) {
  return ir_type_tensor(m, elem, t->rank, t->dims);
}

bool ir_quant_equal(const IrQuant *a, const IrQuant *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->storage != b->storage || a->expressed != b->expressed || a->kind != b->kind || a->num != b->num)
    return false;
  if (a->kind != IR_QUANT_PER_TENSOR && a->axis != b->axis) return false;
  if (a->kind == IR_QUANT_PER_BLOCK && a->block_size != b->block_size) return false;
  /* Bitwise scale comparison: two scales that print differently differ. */
  return memcmp(a->scales, b->scales, (size_t)a->num * sizeof *a->scales) == 0 &&
         memcmp(a->zero_points, b->zero_points, (size_t)a->num * sizeof *a->zero_points) == 0;
}

bool ir_type_equal(const IrType *a, const IrType *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->elem != b->elem || a->rank != b->rank || !ir_quant_equal(a->quant, b->quant)) return false;
  for (int32_t i = 0; i < a->rank; i++) {
    const IrDim *x = &a->dims[i], *y = &b->dims[i];
    if ((x->sym == NULL) != (y->sym == NULL)) return false;
    if (x->sym ? strcmp(x->sym, y->sym) != 0 : x->size != y->size) return false;
  }
  return true;
}

bool ir_type_is_static(const IrType *t) {
  if (t->rank < 0) return false;
  for (int32_t i = 0; i < t->rank; i++)
    if (t->dims[i].size < 0 || t->dims[i].sym) return false;
  return true;
}

int64_t ir_type_numel(const IrType *t) {
  if (!ir_type_is_static(t)) return -1;
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; i++) {
    int64_t d = t->dims[i].size;
    if (d != 0 && n > INT64_MAX / d) return -1;
    n *= d;
  }
  return n;
}

/* ---- attributes ----------------------------------------------------- */

IrAttr ir_attr_copy(IrModule *m, const IrAttr *a) {
  IrAttr c = *a;
  Arena *ar = &m->arena;
  c.name = arena_strdup(ar, a->name);
  switch (a->kind) {
  case IR_ATTR_STRING: c.u.s = arena_strdup(ar, a->u.s); break;
  case IR_ATTR_INTS: c.u.ints.v = arena_memdup(ar, a->u.ints.v, a->u.ints.n * sizeof(int64_t)); break;
  case IR_ATTR_FLOATS: c.u.floats.v = arena_memdup(ar, a->u.floats.v, a->u.floats.n * sizeof(float)); break;
  case IR_ATTR_STRINGS: {
    const char **v = arena_calloc(ar, a->u.strings.n, sizeof *v);
    for (uint32_t i = 0; i < a->u.strings.n; i++) v[i] = arena_strdup(ar, a->u.strings.v[i]);
    c.u.strings.v = v;
    break;
  }
  default: break; /* ints, floats inline; tensors and types are immutable and shared */
  }
  return c;
}

const IrAttr *ir_attrs_find(const IrAttr *attrs, uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(attrs[i].name, name) == 0) return &attrs[i];
  return NULL;
}

void ir_attrs_set(IrModule *m, IrAttr **attrs, uint32_t *n, uint32_t *cap, const IrAttr *a) {
  IrAttr c = ir_attr_copy(m, a);
  uint32_t i = 0;
  while (i < *n && strcmp((*attrs)[i].name, c.name) < 0) i++;
  if (i < *n && strcmp((*attrs)[i].name, c.name) == 0) {
    (*attrs)[i] = c;
    return;
  }
  *attrs = grow_array(&m->arena, *attrs, cap, *n + 1, sizeof **attrs);
  memmove(&(*attrs)[i + 1], &(*attrs)[i], (*n - i) * sizeof **attrs);
  (*attrs)[i] = c;
  (*n)++;
}

const IrAttr *ir_op_attr(const IrOp *op, const char *name) { return ir_attrs_find(op->attrs, op->nattrs, name); }

void ir_op_set_attr(IrModule *m, IrOp *op, const IrAttr *a) {
  ir_attrs_set(m, &op->attrs, &op->nattrs, &op->attrs_cap, a);
}

bool ir_op_remove_attr(IrOp *op, const char *name) {
  for (uint32_t i = 0; i < op->nattrs; i++) {
    if (strcmp(op->attrs[i].name, name) == 0) {
      memmove(&op->attrs[i], &op->attrs[i + 1], (op->nattrs - i - 1) * sizeof *op->attrs);
      op->nattrs--;
      return true;
    }
  }
  return false;
}

int64_t ir_op_attr_int(const IrOp *op, const char *name, int64_t dflt) {
  const IrAttr *a = ir_op_attr(op, name);
  return a && a->kind == IR_ATTR_INT ? a->u.i : dflt;
}

float ir_op_attr_float(const IrOp *op, const char *name, float dflt) {
  const IrAttr *a = ir_op_attr(op, name);
  return a && a->kind == IR_ATTR_FLOAT ? a->u.f : dflt;
}

const char *ir_op_attr_string(const IrOp *op, const char *name, const char *dflt) {
  const IrAttr *a = ir_op_attr(op, name);
  return a && a->kind == IR_ATTR_STRING ? a->u.s : dflt;
}

bool ir_attr_equal(const IrAttr *a, const IrAttr *b) {
  if (strcmp(a->name, b->name) != 0 || a->kind != b->kind) return false;
  switch (a->kind) {
  case IR_ATTR_INT: return a->u.i == b->u.i;
  case IR_ATTR_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof(float)) == 0;
  case IR_ATTR_STRING: return strcmp(a->u.s, b->u.s) == 0;
  case IR_ATTR_INTS:
    return a->u.ints.n == b->u.ints.n &&
           (a->u.ints.n == 0 || memcmp(a->u.ints.v, b->u.ints.v, a->u.ints.n * sizeof(int64_t)) == 0);
  case IR_ATTR_FLOATS:
    return a->u.floats.n == b->u.floats.n &&
           (a->u.floats.n == 0 || memcmp(a->u.floats.v, b->u.floats.v, a->u.floats.n * sizeof(float)) == 0);
  case IR_ATTR_STRINGS:
    if (a->u.strings.n != b->u.strings.n) return false;
    for (uint32_t i = 0; i < a->u.strings.n; i++)
      if (strcmp(a->u.strings.v[i], b->u.strings.v[i]) != 0) return false;
    return true;
  case IR_ATTR_TENSOR: return ir_const_equal(a->u.tensor, b->u.tensor);
  case IR_ATTR_TYPE: return ir_type_equal(a->u.type, b->u.type);
  default: return false;
  }
}

/* ---- constants ------------------------------------------------------ */

IrConst *ir_const_create(IrModule *m, const char *name, const IrType *t, const void *data, size_t nbytes,
                         bool splat) {
  IrConst *c = arena_alloc(&m->arena, sizeof *c);
  c->name = arena_strdup(&m->arena, name);
  c->type = t;
  c->splat = splat;
  c->data = arena_memdup(&m->arena, data, nbytes);
  c->nbytes = nbytes;
  if (name) ir_module_add_const(m, c);
  return c;
}

void ir_module_add_const(IrModule *m, IrConst *c) {
  m->consts = grow_array(&m->arena, m->consts, &m->consts_cap, m->nconsts + 1, sizeof *m->consts);
  m->consts[m->nconsts++] = c;
}

IrConst *ir_module_find_const(const IrModule *m, const char *name) {
  for (uint32_t i = 0; i < m->nconsts; i++)
    if (strcmp(m->consts[i]->name, name) == 0) return m->consts[i];
  return NULL;
}

bool ir_module_remove_const(IrModule *m, const IrConst *c) {
  for (uint32_t i = 0; i < m->nconsts; i++) {
    if (m->consts[i] == c) {
      memmove(&m->consts[i], &m->consts[i + 1], (m->nconsts - i - 1) * sizeof *m->consts);
      m->nconsts--;
      return true;
    }
  }
  return false;
}

uint64_t ir_const_bits(const IrConst *c, int64_t i) {
  return ir_elem_load_bits(c->type->elem, c->data, c->splat ? 0 : i);
}

bool ir_const_equal(const IrConst *a, const IrConst *b) {
  if (a == b) return true;
  if (!ir_type_equal(a->type, b->type)) return false;
  if (a->splat == b->splat)
    return a->nbytes == b->nbytes && (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
  int64_t n = ir_type_numel(a->type);
  for (int64_t i = 0; i < n; i++)
    if (ir_const_bits(a, i) != ir_const_bits(b, i)) return false;
  return true;
}

/* ---- ops and uses --------------------------------------------------- */

static void use_link(IrUse *u, IrValue *v) {
  u->value = v;
  if (!v) return;
  u->next = v->uses;
  if (v->uses) v->uses->prevp = &u->next;
  u->prevp = &v->uses;
  v->uses = u;
}

static void use_unlink(IrUse *u) {
  if (!u->value) return;
  *u->prevp = u->next;
  if (u->next) u->next->prevp = u->prevp;
  u->value = NULL;
  u->next = NULL;
  u->prevp = NULL;
}

IrOp *ir_op_create(IrModule *m, IrOpKind kind, IrValue *const *operands, uint32_t noperands,
                   const IrType *const *result_types, uint32_t nresults, uint32_t nregions) {
  IrOp *op = arena_alloc(&m->arena, sizeof *op);
  op->kind = kind;
  op->operands = arena_calloc(&m->arena, noperands, sizeof *op->operands);
  op->noperands = noperands;
  for (uint32_t i = 0; i < noperands; i++) {
    op->operands[i].user = op;
    op->operands[i].index = i;
    use_link(&op->operands[i], operands ? operands[i] : NULL);
  }
  op->results = arena_calloc(&m->arena, nresults, sizeof *op->results);
  op->nresults = nresults;
  for (uint32_t i = 0; i < nresults; i++) {
    IrValue *v = arena_alloc(&m->arena, sizeof *v);
    v->type = result_types[i];
    v->kind = IR_VALUE_RESULT;
    v->def = op;
    v->index = i;
    op->results[i] = v;
  }
  const IrOpInfo *info = ops_info(kind);
  op->regions = arena_calloc(&m->arena, nregions, sizeof *op->regions);
  op->nregions = nregions;
  for (uint32_t i = 0; i < nregions; i++)
    op->regions[i] = region_create(m, (int)i < info->nregions ? info->regions[i] : "region", NULL, op);
  return op;
}

/* Regions created before their op is placed learn their function here. */
static void set_region_func(IrOp *op, IrFunc *f) {
  for (uint32_t i = 0; i < op->nregions; i++) {
    IrRegion *r = op->regions[i];
    r->func = f;
    for (IrOp *o = r->first; o; o = o->next) set_region_func(o, f);
  }
}

void ir_region_append(IrRegion *r, IrOp *op) {
  assert(!op->parent && "op already placed");
  op->parent = r;
  op->prev = r->last;
  op->next = NULL;
  if (r->last)
    r->last->next = op;
  else
    r->first = op;
  r->last = op;
  set_region_func(op, r->func);
}

void ir_op_insert_before(IrOp *pos, IrOp *op) {
  assert(!op->parent && "op already placed");
  IrRegion *r = pos->parent;
  op->parent = r;
  op->next = pos;
  op->prev = pos->prev;
  if (pos->prev)
    pos->prev->next = op;
  else
    r->first = op;
  pos->prev = op;
  set_region_func(op, r->func);
}

void ir_op_insert_after(IrOp *pos, IrOp *op) {
  if (pos->next) {
    ir_op_insert_before(pos->next, op);
    return;
  }
  ir_region_append(pos->parent, op);
}

static void drop_uses(IrOp *op) {
  for (uint32_t i = 0; i < op->noperands; i++) use_unlink(&op->operands[i]);
  for (uint32_t r = 0; r < op->nregions; r++)
    for (IrOp *o = op->regions[r]->first; o; o = o->next) drop_uses(o);
}

void ir_op_erase(IrOp *op) {
  for (uint32_t i = 0; i < op->nresults; i++) assert(!op->results[i]->uses && "erasing an op whose results are used");
  drop_uses(op);
  IrRegion *r = op->parent;
  if (r) {
    if (op->prev)
      op->prev->next = op->next;
    else
      r->first = op->next;
    if (op->next)
      op->next->prev = op->prev;
    else
      r->last = op->prev;
  }
  op->parent = NULL;
  op->prev = op->next = NULL;
}

void ir_op_set_operand(IrOp *op, uint32_t i, IrValue *v) {
  assert(i < op->noperands);
  use_unlink(&op->operands[i]);
  use_link(&op->operands[i], v);
}

void ir_value_replace_all_uses(IrValue *from, IrValue *to) {
  if (from == to) return;
  while (from->uses) {
    IrUse *u = from->uses;
    use_unlink(u);
    use_link(u, to);
  }
}

uint32_t ir_value_num_uses(const IrValue *v) {
  uint32_t n = 0;
  for (const IrUse *u = v->uses; u; u = u->next) n++;
  return n;
}

void ir_value_set_name(IrModule *m, IrValue *v, const char *name) { v->name = arena_strdup(&m->arena, name); }

IrOp *ir_op_parent_op(const IrOp *op) { return op->parent ? op->parent->parent_op : NULL; }

DiagLoc ir_op_diag_loc(const IrOp *op) { return op->src.file ? op->src : op->pos; }

bool ir_region_walk(IrRegion *r, IrOpVisitor fn, void *ctx) {
  for (IrOp *op = r->first, *next; op; op = next) {
    next = op->next; /* the visitor may erase op */
    if (!fn(op, ctx)) return false;
    for (uint32_t i = 0; i < op->nregions; i++)
      if (!ir_region_walk(op->regions[i], fn, ctx)) return false;
  }
  return true;
}

bool ir_module_walk(IrModule *m, IrOpVisitor fn, void *ctx) {
  for (uint32_t i = 0; i < m->nfuncs; i++)
    if (!ir_region_walk(m->funcs[i]->body, fn, ctx)) return false;
  return true;
}

void ir_op_verror(Diag *d, const IrOp *op, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (op->src_name)
    diag_error(d, ir_op_diag_loc(op), "node '%s' (op '%s'): %s", op->src_name, ops_name(op->kind), msg);
  else
    diag_error(d, ir_op_diag_loc(op), "op '%s': %s", ops_name(op->kind), msg);
}
