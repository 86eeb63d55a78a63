/* The IR verifier: walks every function, region and op and reports every
 * problem it finds (not just the first), each located at the offending op,
 * argument, function or constant. What it checks:
 *   - structure: regions end in exactly one `return`, whose operands match
 *     the function's results, the If's results or the Loop body's carried
 *     values and scan outputs; region counts come from the op table;
 *   - SSA: operands are dominated by their definitions (earlier in the same
 *     region, a region argument, or earlier in an enclosing region before
 *     the op owning the region); value names are unique per function;
 *   - the op table's rules (ops.def): operand and result counts, required
 *     operands that are `none`, attribute names, kinds and presence, and
 *     the element-type rule;
 *   - Constant's result type against its value; Q/DQ element types;
 *   - every type (quantization parameters) and every constant (verify_types.c).
 * The only per-op code is for the structure ops and Q/DQ; everything else
 * is read from the op table. */
#include "ir/verifier.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir/verifier_impl.h"
#include "support/strmap.h"

/* Where a value stands in the walk: visible while its defining region is
 * open, then closed (a use from outside is a dominance error). */
enum { VAL_VISIBLE = 1, VAL_CLOSED = 2 };

/* Open-addressing map from values to their VAL_ state. */
typedef struct ValMap {
  const IrValue **keys;
  unsigned char *state;
  size_t cap, len;
} ValMap;

typedef struct Verifier {
  const IrModule *m;
  Diag *d;
  const IrFunc *func;
  ValMap vals;
  StrMap names;            /* value name -> IrValue, per function */
  const IrValue **scope;   /* values defined in the open regions, in order */
  size_t nscope, scope_cap;
  char opbuf[2][320];      /* op descriptions for messages */
  char tbuf[2][512];       /* types for messages */
} Verifier;

/* ---- value map ------------------------------------------------------ */

static size_t ptr_hash(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 17);
}

static unsigned char *valmap_slot(ValMap *vm, const IrValue *v, bool insert) {
  if (insert && (vm->len + 1) * 2 > vm->cap) {
    ValMap old = *vm;
    vm->cap = old.cap ? old.cap * 2 : 64;
    vm->len = 0;
    vm->keys = xcalloc(vm->cap, sizeof *vm->keys);
    vm->state = xcalloc(vm->cap, 1);
    for (size_t i = 0; i < old.cap; i++)
      if (old.keys[i]) *valmap_slot(vm, old.keys[i], true) = old.state[i];
    free(old.keys);
    free(old.state);
  }
  if (!vm->cap) return NULL;
  size_t i = ptr_hash(v) & (vm->cap - 1);
  while (vm->keys[i] && vm->keys[i] != v) i = (i + 1) & (vm->cap - 1);
  if (!vm->keys[i]) {
    if (!insert) return NULL;
    vm->keys[i] = v;
    vm->len++;
  }
  return &vm->state[i];
}

static bool is_visible(Verifier *V, const IrValue *v) {
  const unsigned char *s = valmap_slot(&V->vals, v, false);
  return s && *s == VAL_VISIBLE;
}

/* ---- message helpers ------------------------------------------------ */

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

/* "Add", or "Add (node 'conv1')" when the op came from a named ONNX node. */
static const char *op_desc(Verifier *V, const IrOp *op, int slot) {
  const char *name = op->kind == IR_OP_RETURN ? "'return'" : ops_name(op->kind);
  if (op->src_name)
    snprintf(V->opbuf[slot], sizeof V->opbuf[slot], "%s (node '%.200s')", name, op->src_name);
  else
    snprintf(V->opbuf[slot], sizeof V->opbuf[slot], "%s", name);
  return V->opbuf[slot];
}

static const char *type_str(Verifier *V, const IrType *t, int slot) {
  if (!t) return "<no type>";
  return irv_type_str(V->tbuf[slot], sizeof V->tbuf[slot], t);
}

/* The region's description: "region '^body' of Loop" or "function '@f'". */
static const char *region_desc(Verifier *V, const IrRegion *r, char *buf, size_t size) {
  if (r->parent_op)
    snprintf(buf, size, "region '^%s' of %s", r->name, op_desc(V, r->parent_op, 1));
  else
    snprintf(buf, size, "function '@%.200s'", V->func->name);
  return buf;
}

static DiagLoc region_loc(const Verifier *V, const IrRegion *r) {
  return r->parent_op ? ir_op_diag_loc(r->parent_op) : V->func->pos;
}

/* A bound like "2 operands", "2 to 3 operands", "at least 1 operand". */
static void count_desc(char *buf, size_t size, int lo, int hi, const char *noun) {
  if (hi < 0)
    snprintf(buf, size, "at least %d %s%s", lo, noun, plural((uint64_t)lo));
  else if (lo == hi)
    snprintf(buf, size, "%d %s%s", lo, noun, plural((uint64_t)lo));
  else
    snprintf(buf, size, "%d to %d %ss", lo, hi, noun);
}

static const char *const kind_article[IR_ATTR_KIND_COUNT] = {
    "an int", "a float", "a string", "ints", "floats", "strings", "a tensor", "a type"};

/* ---- definitions and uses ------------------------------------------- */

/* Makes v visible and checks its name is new in the function. */
static void define(Verifier *V, const IrValue *v, DiagLoc loc) {
  if (v->name && v->name[0]) {
    const IrValue *prev = strmap_get(&V->names, v->name);
    if (prev && prev != v)
      diag_error(V->d, loc, "redefinition of value '%%%s'", v->name);
    else
      strmap_put(&V->names, v->name, (void *)v);
  }
  *valmap_slot(&V->vals, v, true) = VAL_VISIBLE;
  if (V->nscope == V->scope_cap) {
    V->scope_cap = V->scope_cap ? V->scope_cap * 2 : 64;
    V->scope = xrealloc(V->scope, V->scope_cap * sizeof *V->scope);
  }
  V->scope[V->nscope++] = v;
}

/* Closes the values defined since `mark`: they leave scope with their region. */
static void close_scope(Verifier *V, size_t mark) {
  while (V->nscope > mark) *valmap_slot(&V->vals, V->scope[--V->nscope], false) = VAL_CLOSED;
}

static void check_operands(Verifier *V, const IrOp *op) {
  uint32_t required = ops_required_operands(op->kind);
  for (uint32_t i = 0; i < op->noperands; i++) {
    const IrValue *v = op->operands[i].value;
    if (!v) {
      if (i < required)
        diag_error(V->d, ir_op_diag_loc(op), "operand #%" PRIu32 " of %s is required and cannot be 'none'", i,
                   op_desc(V, op, 0));
    } else if (!is_visible(V, v)) {
      if (v->name && v->name[0])
        diag_error(V->d, ir_op_diag_loc(op), "operand #%" PRIu32 " of %s ('%%%s') does not dominate this use", i,
                   op_desc(V, op, 0), v->name);
      else
        diag_error(V->d, ir_op_diag_loc(op), "operand #%" PRIu32 " of %s does not dominate this use", i,
                   op_desc(V, op, 0));
    }
  }
}

/* ---- op-table rules ------------------------------------------------- */

static void check_arity(Verifier *V, const IrOp *op, const IrOpInfo *info) {
  char want[64];
  if (op->noperands < (uint32_t)info->min_in || (info->max_in >= 0 && op->noperands > (uint32_t)info->max_in)) {
    count_desc(want, sizeof want, info->min_in, info->max_in, "operand");
    diag_error(V->d, ir_op_diag_loc(op), "%s expects %s, got %" PRIu32, op_desc(V, op, 0), want, op->noperands);
  }
  if (op->nresults < (uint32_t)info->min_out || (info->max_out >= 0 && op->nresults > (uint32_t)info->max_out)) {
    count_desc(want, sizeof want, info->min_out, info->max_out, "result");
    diag_error(V->d, ir_op_diag_loc(op), "%s expects %s, got %" PRIu32, op_desc(V, op, 0), want, op->nresults);
  }
}

/* A tensor attribute: an inline constant, or a constant of this module's pool. */
static void check_tensor_attr(Verifier *V, const IrConst *c, DiagLoc loc, const char *attr) {
  if (!c) {
    diag_error(V->d, loc, "attribute '%s' has no tensor", attr);
    return;
  }
  if (!c->name) {
    char what[300];
    snprintf(what, sizeof what, "inline tensor of attribute '%.200s'", attr);
    irv_check_const(V->d, c, what, loc);
    return;
  }
  for (uint32_t i = 0; i < V->m->nconsts; i++)
    if (V->m->consts[i] == c) return;
  diag_error(V->d, loc, "attribute '%s' refers to constant '@%s', which is not in the module's constant pool", attr,
             c->name);
}

/* Payload checks shared by op and module attributes. */
static void check_attr_payload(Verifier *V, const IrAttr *a, DiagLoc loc) {
  if (a->kind == IR_ATTR_TENSOR) check_tensor_attr(V, a->u.tensor, loc, a->name);
  if (a->kind == IR_ATTR_TYPE) irv_check_type(V->d, a->u.type, loc);
}

static void check_attrs(Verifier *V, const IrOp *op, const IrOpInfo *info) {
  DiagLoc loc = ir_op_diag_loc(op);
  for (uint32_t i = 0; i < op->nattrs; i++) {
    const IrAttr *a = &op->attrs[i];
    const IrAttrRule *rule = ops_attr_rule(op->kind, a->name);
    if (!rule)
      diag_error(V->d, loc, "unknown attribute '%s' for %s", a->name, op_desc(V, op, 0));
    else if (rule->kind != a->kind)
      diag_error(V->d, loc, "attribute '%s' of %s must be %s, got %s", a->name, op_desc(V, op, 0),
                 kind_article[rule->kind], kind_article[a->kind]);
    check_attr_payload(V, a, loc);
  }
  for (int i = 0; i < info->nattrs; i++)
    if (info->attrs[i].required && !ir_op_attr(op, info->attrs[i].name))
      diag_error(V->d, loc, "%s requires attribute '%s'", op_desc(V, op, 0), info->attrs[i].name);
}

static const IrType *operand_type(const IrOp *op, uint32_t i) {
  return i < op->noperands && op->operands[i].value ? op->operands[i].value->type : NULL;
}

/* TR_SAME: every present operand and every result has the element type of
 * the first present operand (quantized values compare their storage type).
 * TR_SAME_IN0: the (first) result has operand #0's element type. */
static void check_type_rule(Verifier *V, const IrOp *op, const IrOpInfo *info) {
  if (info->type_rule == TR_ANY) return;
  DiagLoc loc = ir_op_diag_loc(op);
  const IrType *ref = NULL;
  uint32_t ref_i = 0;
  for (uint32_t i = 0; i < op->noperands && !ref; i++)
    if ((ref = operand_type(op, i))) ref_i = i;
  if (info->type_rule == TR_SAME_IN0 && ref_i != 0) ref = NULL;
  if (!ref) return;
  if (info->type_rule == TR_SAME) {
    for (uint32_t i = ref_i + 1; i < op->noperands; i++) {
      const IrType *t = operand_type(op, i);
      if (t && t->elem != ref->elem)
        diag_error(V->d, loc, "element type %s of operand #%" PRIu32 " of %s differs from %s of operand #%" PRIu32,
                   ir_elem_name(t->elem), i, op_desc(V, op, 0), ir_elem_name(ref->elem), ref_i);
    }
  }
  /* TR_SAME_IN0 binds only the first result: later ones are side outputs
   * of other types (Dropout's mask, MaxPool's indices, LayerNorm's mean). */
  uint32_t nres = info->type_rule == TR_SAME_IN0 && op->nresults > 1 ? 1 : op->nresults;
  for (uint32_t i = 0; i < nres; i++) {
    const IrType *t = op->results[i]->type;
    if (t && t->elem != ref->elem)
      diag_error(V->d, loc, "element type %s of result #%" PRIu32 " of %s differs from %s of operand #%" PRIu32,
                 ir_elem_name(t->elem), i, op_desc(V, op, 0), ir_elem_name(ref->elem), ref_i);
  }
}

/* Constant's result is its `value` tensor's type; QuantizeLinear and
 * DequantizeLinear agree with their scale and zero point. */
static void check_special(Verifier *V, const IrOp *op) {
  DiagLoc loc = ir_op_diag_loc(op);
  const IrType *res = op->nresults == 1 ? op->results[0]->type : NULL;
  if (op->kind == IR_OP_CONSTANT) {
    const IrAttr *a = ir_op_attr(op, "value");
    if (res && a && a->kind == IR_ATTR_TENSOR && a->u.tensor && a->u.tensor->type &&
        !ir_type_equal(res, a->u.tensor->type))
      diag_error(V->d, loc, "result type %s of %s differs from its value's type %s", type_str(V, res, 0),
                 op_desc(V, op, 0), type_str(V, a->u.tensor->type, 1));
    return;
  }
  if (op->kind != IR_OP_QUANTIZE_LINEAR && op->kind != IR_OP_DEQUANTIZE_LINEAR) return;
  const IrType *scale = operand_type(op, 1), *zp = operand_type(op, 2), *x = operand_type(op, 0);
  if (scale && !ir_elem_is_float(scale->elem))
    diag_error(V->d, loc, "scale (operand #1) of %s must have a float element type, got %s", op_desc(V, op, 0),
               ir_elem_name(scale->elem));
  if (op->kind == IR_OP_DEQUANTIZE_LINEAR) {
    if (res && !ir_elem_is_float(res->elem))
      diag_error(V->d, loc, "result of %s must have a float element type, got %s", op_desc(V, op, 0),
                 ir_elem_name(res->elem));
    if (x && zp && x->elem != zp->elem)
      diag_error(V->d, loc, "element type %s of operand #0 of %s differs from %s of its zero point (operand #2)",
                 ir_elem_name(x->elem), op_desc(V, op, 0), ir_elem_name(zp->elem));
  } else if (res && zp && res->elem != zp->elem) {
    diag_error(V->d, loc, "element type %s of the result of %s differs from %s of its zero point (operand #2)",
               ir_elem_name(res->elem), op_desc(V, op, 0), ir_elem_name(zp->elem));
  }
}

/* ---- regions and structure ------------------------------------------ */

static void verify_region(Verifier *V, const IrRegion *r);

static const IrOp *terminator(const IrRegion *r) {
  return r->last && r->last->kind == IR_OP_RETURN ? r->last : NULL;
}

/* Function results: `return` operands have exactly the result types. */
static void check_func_return(Verifier *V, const IrFunc *f) {
  const IrOp *ret = terminator(f->body);
  if (!ret) return;
  DiagLoc loc = ir_op_diag_loc(ret);
  if (ret->noperands != f->nresults) {
    diag_error(V->d, loc, "'return' has %" PRIu32 " operand%s, but function '@%s' has %" PRIu32 " result%s",
               ret->noperands, plural(ret->noperands), f->name, f->nresults, plural(f->nresults));
    return;
  }
  for (uint32_t i = 0; i < ret->noperands; i++) {
    const IrType *t = operand_type(ret, i);
    if (!ret->operands[i].value)
      diag_error(V->d, loc, "operand #%" PRIu32 " of 'return' of function '@%s' cannot be 'none'", i, f->name);
    else if (!ir_type_equal(t, f->result_types[i]))
      diag_error(V->d, loc, "operand #%" PRIu32 " of 'return' has type %s, but result #%" PRIu32
                 " of function '@%s' has type %s", i, type_str(V, t, 0), i, f->name,
                 type_str(V, f->result_types[i], 1));
  }
}

/* If: each branch returns one value per result, of the same element type. */
static void check_if(Verifier *V, const IrOp *op) {
  for (uint32_t ri = 0; ri < op->nregions; ri++) {
    const IrOp *ret = terminator(op->regions[ri]);
    if (!ret) continue;
    char rd[400];
    region_desc(V, op->regions[ri], rd, sizeof rd);
    DiagLoc loc = ir_op_diag_loc(ret);
    if (ret->noperands != op->nresults) {
      diag_error(V->d, loc, "'return' of %s has %" PRIu32 " operand%s, but the op has %" PRIu32 " result%s", rd,
                 ret->noperands, plural(ret->noperands), op->nresults, plural(op->nresults));
      continue;
    }
    for (uint32_t i = 0; i < ret->noperands; i++) {
      const IrType *t = operand_type(ret, i), *want = op->results[i]->type;
      if (!t)
        diag_error(V->d, loc, "operand #%" PRIu32 " of 'return' of %s cannot be 'none'", i, rd);
      else if (want && (t->elem != want->elem || !ir_quant_equal(t->quant, want->quant)))
        diag_error(V->d, loc, "operand #%" PRIu32 " of 'return' of %s has type %s, whose element type differs from %s"
                   " of result #%" PRIu32, i, rd, type_str(V, t, 0), type_str(V, want, 1), i);
    }
  }
}

/* Loop (ONNX): operands are the trip count, the condition and N carried
 * values; the body takes (iteration, condition, N carried) and returns
 * (condition, N carried, K scan outputs); the op has N + K results. */
static void check_loop(Verifier *V, const IrOp *op) {
  if (op->nregions < 1 || op->noperands < 2) return;
  const IrRegion *body = op->regions[0];
  uint32_t carried = op->noperands - 2;
  char rd[400];
  region_desc(V, body, rd, sizeof rd);
  DiagLoc loc = ir_op_diag_loc(op);
  if (body->nargs != carried + 2)
    diag_error(V->d, loc, "%s has %" PRIu32 " argument%s, expected %" PRIu32
               " (iteration number, condition and %" PRIu32 " loop-carried value%s)",
               rd, body->nargs, plural(body->nargs), carried + 2, carried, plural(carried));
  if (op->nresults < carried) {
    diag_error(V->d, loc, "%s has %" PRIu32 " result%s, fewer than its %" PRIu32 " loop-carried value%s",
               op_desc(V, op, 0), op->nresults, plural(op->nresults), carried, plural(carried));
    return;
  }
  const IrOp *ret = terminator(body);
  uint32_t scans = op->nresults - carried;
  if (ret && ret->noperands != 1 + op->nresults)
    diag_error(V->d, ir_op_diag_loc(ret), "'return' of %s has %" PRIu32 " operand%s, expected %" PRIu32
               " (condition, %" PRIu32 " loop-carried value%s and %" PRIu32 " scan output%s)",
               rd, ret->noperands, plural(ret->noperands), 1 + op->nresults, carried, plural(carried), scans,
               plural(scans));
}

static void verify_op(Verifier *V, const IrOp *op) {
  const IrOpInfo *info = ops_info(op->kind);
  DiagLoc loc = ir_op_diag_loc(op);
  check_operands(V, op);
  check_arity(V, op, info);
  check_attrs(V, op, info);
  for (uint32_t i = 0; i < op->nresults; i++) irv_check_type(V->d, op->results[i]->type, loc);
  check_type_rule(V, op, info);
  check_special(V, op);
  if (op->nregions != (uint32_t)info->nregions)
    diag_error(V->d, loc, "%s has %" PRIu32 " region%s, expected %d", op_desc(V, op, 0), op->nregions,
               plural(op->nregions), info->nregions);
  /* The op's own results are not visible inside its regions. */
  for (uint32_t i = 0; i < op->nregions; i++) verify_region(V, op->regions[i]);
  if (op->kind == IR_OP_IF) check_if(V, op);
  if (op->kind == IR_OP_LOOP) check_loop(V, op);
  for (uint32_t i = 0; i < op->nresults; i++) define(V, op->results[i], loc);
}

static void verify_region(Verifier *V, const IrRegion *r) {
  size_t mark = V->nscope;
  for (uint32_t i = 0; i < r->nargs; i++) {
    irv_check_type(V->d, r->args[i]->type, r->args[i]->loc);
    define(V, r->args[i], r->args[i]->loc);
  }
  for (const IrOp *op = r->first; op; op = op->next) {
    verify_op(V, op);
    if (op->kind == IR_OP_RETURN && op->next)
      diag_error(V->d, ir_op_diag_loc(op), "'return' must be the last op of its region");
  }
  if (!terminator(r)) {
    char rd[400];
    diag_error(V->d, region_loc(V, r), "%s must end with 'return'", region_desc(V, r, rd, sizeof rd));
  }
  close_scope(V, mark);
}

static void verify_func(Verifier *V, const IrFunc *f) {
  V->func = f;
  strmap_init(&V->names);
  for (uint32_t i = 0; i < f->nresults; i++) irv_check_type(V->d, f->result_types[i], f->pos);
  verify_region(V, f->body);
  check_func_return(V, f);
  strmap_free(&V->names);
}

/* ---- module --------------------------------------------------------- */

static void verify_consts(Verifier *V) {
  StrMap seen;
  strmap_init(&seen);
  for (uint32_t i = 0; i < V->m->nconsts; i++) {
    const IrConst *c = V->m->consts[i];
    if (!c->name) {
      diag_error(V->d, c->loc, "constant #%" PRIu32 " of the pool has no name", i);
      continue;
    }
    if (strmap_get(&seen, c->name))
      diag_error(V->d, c->loc, "redefinition of constant '@%s'", c->name);
    else
      strmap_put(&seen, c->name, (void *)c);
    char what[300];
    snprintf(what, sizeof what, "constant '@%.200s'", c->name);
    irv_check_const(V->d, c, what, c->loc);
  }
  strmap_free(&seen);
}

bool ir_verify(const IrModule *m, Diag *d) {
  assert(m && d);
  ops_init();
  int before = d->errors;
  Verifier V = {.m = m, .d = d};
  verify_consts(&V);
  for (uint32_t i = 0; i < m->nattrs; i++) check_attr_payload(&V, &m->attrs[i], diag_loc(NULL, 0, 0));
  for (uint32_t i = 0; i < m->nfuncs; i++) verify_func(&V, m->funcs[i]);
  free(V.vals.keys);
  free(V.vals.state);
  free(V.scope);
  return d->errors == before;
}
