/* ONNX export: IR module -> ModelProto, the inverse of import.c. Function
 * arguments become graph inputs, the leading Constant ops of a graph become
 * initializers (later ones Constant nodes, so the order survives a round
 * trip), ops become nodes with their attributes, regions become GRAPH
 * attributes (If, Loop, Scan bodies), the return becomes the graph outputs,
 * and every other typed value a value_info. Values are named the way the
 * printer names them, so import(export(m)) prints like m. Ops with no ONNX
 * form (quench.*) and types ONNX cannot hold are refused before anything is
 * written; the file goes through a temporary renamed into place.
 * docs/onnx-export.md describes it; tests: test/lit/onnx/export-*.qir,
 * test/unit/test_export.c, test/ort/. */
#include "onnx/export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/names.h"
#include "onnx/export_internal.h"
#include "onnx/import.h"
#include "support/fileio.h"
#include "support/strmap.h"

/* ---- maps and vectors -------------------------------------------------- */

/* Op -> flag maps (attribute forms, skipped constants). */
typedef struct PtrMap {
  const void **keys;
  const char **vals;
  size_t cap, len;
} PtrMap;

static size_t ptr_hash(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 17);
}

static void ptrmap_put(PtrMap *m, const void *k, const char *v) {
  if ((m->len + 1) * 2 > m->cap) {
    PtrMap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->len = 0;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++)
      if (old.keys[i]) ptrmap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
  }
  size_t i = ptr_hash(k) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->len++;
  m->keys[i] = k;
  m->vals[i] = v;
}

static const char *ptrmap_get(const PtrMap *m, const void *k) {
  if (!m->cap) return NULL;
  for (size_t i = ptr_hash(k) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
    if (m->keys[i] == k) return m->vals[i];
  return NULL;
}

/* A growable array of proto pointers in the arena. */
typedef struct Vec {
  void **v;
  size_t n, cap;
} Vec;

typedef struct Ex {
  Diag *d;
  const IrModule *m;
  const IrFunc *f;
  Arena a;            /* every proto and string of the model */
  IrNames *names;     /* printed value names (ir/names.h) of f */
  PtrMap down;        /* ops written in an older opset's attribute form */
  PtrMap skip;        /* Constant ops only those forms read: not written */
  Vec cands;          /* ops that have such a form, with constant operands */
  StrMap node_names;  /* node names given or handed out */
  uint64_t next_node;
  int64_t opset, ir_version;
  bool ok;
} Ex;

static void vec_push(Ex *x, Vec *v, void *p) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    v->v = arena_grow(&x->a, v->v, v->cap * sizeof *v->v, cap * sizeof *v->v);
    v->cap = cap;
  }
  v->v[v->n++] = p;
}

/* Tensor names are printed names, so import(export(m)) prints like m. A
 * value from outside the function (broken IR) is named all the same. */
static const char *vname(Ex *x, const IrValue *v) { return ir_names_get_or_add(x->names, v); }

static bool collect_node_name(IrOp *op, void *ctx) {
  Ex *x = ctx;
  if (op->src_name) strmap_put(&x->node_names, op->src_name, (void *)1);
  return true;
}

/* ---- errors -------------------------------------------------------------- */

static void op_error(Ex *x, const IrOp *op, const char *fmt, ...) DIAG_PRINTF(3, 4);
static void op_error(Ex *x, const IrOp *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_op_verror(x->d, op, fmt, ap);
  va_end(ap);
  x->ok = false;
}

/* A type ONNX can hold: an element type with a data type code, no
 * quantization scheme (the QDQ form carries scales as values). */
static bool check_type(Ex *x, const IrOp *op, const IrValue *v, const IrType *t, const char *role) {
  const char *name = v ? vname(x, v) : "?";
  if (t->quant) {
    op_error(x, op, "%s '%s' has a quantized type; ONNX holds quantization as QuantizeLinear/DequantizeLinear, "
             "not in types", role, name);
    return false;
  }
  if (ir_elem_info[t->elem].onnx == 0) {
    op_error(x, op, "%s '%s' has element type %s, which ONNX has no data type for", role, name,
             ir_elem_name(t->elem));
    return false;
  }
  return true;
}

/* ---- checks and opset ---------------------------------------------------- */

/* A Constant op that can be an initializer: its value is a tensor. */
static const IrConst *initializer_of(const IrOp *op) {
  if (op->kind != IR_OP_CONSTANT) return NULL;
  const IrAttr *a = ir_op_attr(op, "value");
  return a && a->kind == IR_ATTR_TENSOR && op->nattrs == 1 ? a->u.tensor : NULL;
}

/* The constant behind operand v of an attribute form: a 1-D (or scalar)
 * integer tensor defined by a Constant op. */
static const IrConst *int_const(const IrValue *v) {
  if (!v || v->kind != IR_VALUE_RESULT) return NULL;
  const IrConst *k = initializer_of(v->def);
  if (!k || k->type->rank > 1 || (k->type->elem != IR_ELEM_I64 && k->type->elem != IR_ELEM_I32)) return NULL;
  return k;
}

/* Notes op as a candidate for its attribute form (decided once the opset is
 * known) and returns the opset it needs then; else its plain need. */
static int64_t op_need(Ex *x, const IrOp *op) {
  int64_t need = onnx_export_op_opset(op);
  OnnxAttrForm af;
  if (!onnx_export_attr_form(op, &af)) return need;
  for (uint32_t i = 0; i < af.n; i++)
    if (!int_const(ir_op_operand(op, af.first + i))) return need;
  vec_push(x, &x->cands, (void *)op);
  return af.need;
}

/* With the opset settled: candidates whose operand form is too new take the
 * attribute form; Constant ops read by nothing else are then not written. */
static void decide_forms(Ex *x) {
  for (size_t c = 0; c < x->cands.n; c++) {
    const IrOp *op = x->cands.v[c];
    if (onnx_export_op_opset(op) > x->opset) ptrmap_put(&x->down, op, "attr");
  }
  for (size_t c = 0; c < x->cands.n; c++) {
    const IrOp *op = x->cands.v[c];
    OnnxAttrForm af;
    if (!ptrmap_get(&x->down, op) || !onnx_export_attr_form(op, &af)) continue;
    for (uint32_t i = 0; i < af.n; i++) {
      const IrValue *v = ir_op_operand(op, af.first + i);
      bool only = true;
      for (const IrUse *u = v->uses; u && only; u = u->next) {
        OnnxAttrForm uf;
        only = ptrmap_get(&x->down, u->user) && onnx_export_attr_form(u->user, &uf) && u->index >= uf.first;
      }
      if (only) ptrmap_put(&x->skip, v->def, "skip");
    }
  }
}

static bool check_region(Ex *x, const IrRegion *r, const IrOp *owner) {
  for (uint32_t i = 0; i < r->nargs; i++) {
    const IrValue *v = r->args[i];
    if (owner) {
      if (!check_type(x, owner, v, v->type, "region argument")) return false;
    } else if (v->type->quant || ir_elem_info[v->type->elem].onnx == 0) {
      diag_error(x->d, x->f->pos, "function argument '%s' has type %s%s, which ONNX cannot hold", vname(x, v),
                 v->type->quant ? "quantized " : "", ir_elem_name(v->type->elem));
      x->ok = false;
      return false;
    }
    x->opset = x->opset > onnx_export_elem_opset(v->type->elem) ? x->opset : onnx_export_elem_opset(v->type->elem);
  }
  for (const IrOp *op = r->first; op; op = op->next) {
    if (op->kind == IR_OP_RETURN) continue;
    const char *name = ops_name(op->kind);
    if (strncmp(name, "quench.", 7) == 0) {
      op_error(x, op, "'%s' is a quench op with no ONNX form; export the QDQ graph (before lower-int) instead",
               name);
      return false;
    }
    for (uint32_t i = 0; i < op->nresults; i++) {
      const IrValue *v = op->results[i];
      if (!check_type(x, op, v, v->type, "result")) return false;
      int64_t e = onnx_export_elem_opset(v->type->elem);
      if (e > x->opset) x->opset = e;
    }
    for (uint32_t i = 0; i < op->nattrs; i++) {
      const IrAttr *a = &op->attrs[i];
      if (a->kind == IR_ATTR_TYPE) {
        op_error(x, op, "attribute '%s' holds a type; the exporter has no ONNX form for it", a->name);
        return false;
      }
      if (a->kind == IR_ATTR_TENSOR) {
        const IrConst *k = a->u.tensor;
        if (!check_type(x, op, op->nresults ? op->results[0] : NULL, k->type, "constant")) return false;
        int64_t e = onnx_export_elem_opset(k->type->elem);
        if (e > x->opset) x->opset = e;
      }
    }
    int64_t v = op_need(x, op);
    if (v > x->opset) x->opset = v;
    for (uint32_t i = 0; i < op->nregions; i++)
      if (!check_region(x, op->regions[i], op)) return false;
  }
  return true;
}

/* ---- attributes ---------------------------------------------------------- */

static Onnx__GraphProto *export_graph(Ex *x, const IrRegion *r, const char *gname, bool is_main);

static Onnx__AttributeProto *new_attr(Ex *x, const char *name, Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *p = arena_alloc(&x->a, sizeof *p);
  onnx__attribute_proto__init(p);
  p->name = arena_strdup(&x->a, name);
  p->has_type = 1;
  p->type = type;
  return p;
}

static ProtobufCBinaryData bytes_of(Ex *x, const char *s) {
  ProtobufCBinaryData b;
  b.len = strlen(s);
  b.data = arena_memdup(&x->a, s, b.len + 1);
  return b;
}

/* A copy of n elements of `size` bytes; never NULL, also for an empty list
 * (whose source array may be NULL). */
static void *copy_array(Ex *x, const void *p, size_t n, size_t size) {
  void *q = arena_alloc(&x->a, n * size + 1);
  if (n) memcpy(q, p, n * size);
  return q;
}

static Onnx__AttributeProto *export_attr(Ex *x, const IrAttr *a) {
  Onnx__AttributeProto *p = NULL;
  switch (a->kind) {
  case IR_ATTR_INT:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    p->has_i = 1;
    p->i = a->u.i;
    break;
  case IR_ATTR_FLOAT:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    p->has_f = 1;
    p->f = a->u.f;
    break;
  case IR_ATTR_STRING:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    p->has_s = 1;
    p->s = bytes_of(x, a->u.s);
    break;
  case IR_ATTR_INTS:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    p->n_ints = a->u.ints.n;
    p->ints = copy_array(x, a->u.ints.v, a->u.ints.n, sizeof *p->ints);
    break;
  case IR_ATTR_FLOATS:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    p->n_floats = a->u.floats.n;
    p->floats = copy_array(x, a->u.floats.v, a->u.floats.n, sizeof *p->floats);
    break;
  case IR_ATTR_STRINGS:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    p->n_strings = a->u.strings.n;
    p->strings = arena_calloc(&x->a, p->n_strings + 1, sizeof *p->strings);
    for (uint32_t i = 0; i < a->u.strings.n; i++) p->strings[i] = bytes_of(x, a->u.strings.v[i]);
    break;
  case IR_ATTR_TENSOR:
    p = new_attr(x, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    p->t = onnx_export_tensor(&x->a, a->u.tensor, NULL);
    break;
  default:
    break; /* IR_ATTR_TYPE was refused by check_region */
  }
  return p;
}

/* ---- nodes and graphs ---------------------------------------------------- */

static Onnx__ValueInfoProto *value_info(Ex *x, const char *name, const IrType *t) {
  Onnx__ValueInfoProto *vi = arena_alloc(&x->a, sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = (char *)name;
  vi->type = onnx_export_type(&x->a, t);
  return vi;
}

/* A node name: the op's source name, else "<op>_<n>" unused by any other. */
static char *node_name(Ex *x, const IrOp *op) {
  if (op->src_name) return arena_strdup(&x->a, op->src_name);
  const char *base = ops_name(op->kind);
  size_t len = strlen(base) + 24;
  char *s = arena_alloc(&x->a, len);
  do snprintf(s, len, "%s_%" PRIu64, base, x->next_node++);
  while (strmap_get(&x->node_names, s));
  strmap_put(&x->node_names, s, (void *)1);
  return s;
}

static Onnx__NodeProto *new_node(Ex *x, const char *op_type, char *name) {
  Onnx__NodeProto *n = arena_alloc(&x->a, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = arena_strdup(&x->a, op_type);
  n->name = name;
  n->domain = arena_strdup(&x->a, "");
  return n;
}

static Onnx__NodeProto *export_node(Ex *x, const IrOp *op) {
  /* Constant nodes keep their source name only: they are data, and a
   * generated name would appear as a loc(...) after a round trip. */
  char *name = op->kind == IR_OP_CONSTANT && !op->src_name ? NULL : node_name(x, op);
  Onnx__NodeProto *n = new_node(x, ops_name(op->kind), name);
  OnnxAttrForm af = {0};
  bool down = ptrmap_get(&x->down, op) && onnx_export_attr_form(op, &af);
  uint32_t nin = down ? af.first : op->noperands;
  while (nin && !ir_op_operand(op, nin - 1)) nin--; /* trailing absent = fewer inputs */
  n->n_input = nin;
  n->input = arena_calloc(&x->a, (size_t)nin + 1, sizeof *n->input);
  for (uint32_t i = 0; i < nin; i++) {
    const IrValue *v = ir_op_operand(op, i);
    n->input[i] = (char *)(v ? vname(x, v) : "");
  }
  n->n_output = op->nresults;
  n->output = arena_calloc(&x->a, (size_t)op->nresults + 1, sizeof *n->output);
  for (uint32_t i = 0; i < op->nresults; i++) n->output[i] = (char *)vname(x, op->results[i]);
  n->n_attribute = (size_t)op->nattrs + op->nregions + af.n + 1;
  n->attribute = arena_calloc(&x->a, n->n_attribute + 1, sizeof *n->attribute);
  size_t k = 0;
  for (uint32_t i = 0; i < op->nattrs; i++) n->attribute[k++] = export_attr(x, &op->attrs[i]);
  for (uint32_t i = 0; down && i < af.n; i++) {
    const IrConst *c = int_const(ir_op_operand(op, af.first + i));
    int64_t cnt = ir_type_numel(c->type);
    Onnx__AttributeProto *p = new_attr(x, af.names[i], ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    p->n_ints = (size_t)cnt;
    p->ints = arena_calloc(&x->a, (size_t)cnt + 1, sizeof *p->ints);
    for (int64_t j = 0; j < cnt; j++) p->ints[j] = ir_elem_load_int(c->type->elem, c->data, c->splat ? 0 : j);
    n->attribute[k++] = p;
  }
  /* From opset 18 a Split without `split` must say how many outputs. */
  if (op->kind == IR_OP_SPLIT && nin < 2 && x->opset >= 18 && !ir_op_attr(op, "num_outputs")) {
    Onnx__AttributeProto *p = new_attr(x, "num_outputs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    p->has_i = 1;
    p->i = op->nresults;
    n->attribute[k++] = p;
  }
  for (uint32_t i = 0; i < op->nregions; i++) {
    const IrRegion *r = op->regions[i];
    const char *rname = r->name ? r->name : ops_info(op->kind)->regions[i];
    size_t len = strlen(rname) + (name ? strlen(name) : 8) + 2;
    char *gname = arena_alloc(&x->a, len);
    snprintf(gname, len, "%s_%s", name ? name : "graph", rname);
    Onnx__AttributeProto *p = new_attr(x, rname, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    p->g = export_graph(x, r, gname, false);
    n->attribute[k++] = p;
  }
  n->n_attribute = k;
  return n;
}

static Onnx__GraphProto *export_graph(Ex *x, const IrRegion *r, const char *gname, bool is_main) {
  Onnx__GraphProto *g = arena_alloc(&x->a, sizeof *g);
  onnx__graph_proto__init(g);
  g->name = arena_strdup(&x->a, gname);
  Vec inputs = {0}, inits = {0}, nodes = {0}, outputs = {0}, infos = {0};
  for (uint32_t i = 0; i < r->nargs; i++)
    vec_push(x, &inputs, value_info(x, vname(x, r->args[i]), r->args[i]->type));
  const IrOp *op = r->first;
  /* Leading constants: initializers (the importer puts them back first). */
  for (; op && initializer_of(op); op = op->next) {
    if (ptrmap_get(&x->skip, op)) continue;
    const char *name = vname(x, op->results[0]);
    vec_push(x, &inits, onnx_export_tensor(&x->a, initializer_of(op), name));
    /* Before IR 4 every initializer is also a graph input. */
    if (is_main && x->ir_version < 4) vec_push(x, &inputs, value_info(x, name, op->results[0]->type));
  }
  const IrOp *ret = NULL;
  StrMap outs;
  strmap_init(&outs);
  for (; op; op = op->next) {
    if (op->kind == IR_OP_RETURN) {
      ret = op;
      break;
    }
    if (!ptrmap_get(&x->skip, op)) vec_push(x, &nodes, export_node(x, op));
  }
  for (uint32_t i = 0; ret && i < ret->noperands; i++) {
    const IrValue *v = ir_op_operand(ret, i);
    const char *name = vname(x, v);
    const IrType *t = is_main && i < x->f->nresults ? x->f->result_types[i] : v->type;
    if (strmap_get(&outs, name)) {
      /* ONNX outputs are distinct names: a repeated one goes through an
       * Identity. */
      Onnx__NodeProto *idn = new_node(x, "Identity", node_name(x, ret));
      size_t len = strlen(name) + 24;
      char *fresh = arena_alloc(&x->a, len);
      uint64_t k = 1;
      do snprintf(fresh, len, "%s_out%" PRIu64, name, k++);
      while (!ir_names_claim(x->names, fresh));
      idn->n_input = idn->n_output = 1;
      idn->input = arena_calloc(&x->a, 1, sizeof *idn->input);
      idn->output = arena_calloc(&x->a, 1, sizeof *idn->output);
      idn->input[0] = (char *)name;
      idn->output[0] = fresh;
      vec_push(x, &nodes, idn);
      name = fresh;
    }
    strmap_put(&outs, name, (void *)1);
    vec_push(x, &outputs, value_info(x, name, t));
  }
  /* value_info: every other result typed beyond "unranked", so a re-import
   * refines to the same types (import.c's apply_hint). */
  for (const IrOp *o = r->first; o; o = o->next) {
    if (o->kind == IR_OP_RETURN || initializer_of(o) || ptrmap_get(&x->skip, o)) continue;
    for (uint32_t i = 0; i < o->nresults; i++) {
      const IrValue *v = o->results[i];
      if (v->type->rank < 0 || strmap_get(&outs, vname(x, v))) continue;
      vec_push(x, &infos, value_info(x, vname(x, v), v->type));
    }
  }
  /* Constant nodes after the leading run are nodes; their results are
   * listed in value_info above like any other. */
  strmap_free(&outs);
  g->n_input = inputs.n, g->input = (Onnx__ValueInfoProto **)inputs.v;
  g->n_initializer = inits.n, g->initializer = (Onnx__TensorProto **)inits.v;
  g->n_node = nodes.n, g->node = (Onnx__NodeProto **)nodes.v;
  g->n_output = outputs.n, g->output = (Onnx__ValueInfoProto **)outputs.v;
  g->n_value_info = infos.n, g->value_info = (Onnx__ValueInfoProto **)infos.v;
  return g;
}

/* ---- model --------------------------------------------------------------- */

static int64_t module_int(const IrModule *m, const char *name, int64_t dflt) {
  const IrAttr *a = ir_attrs_find(m->attrs, m->nattrs, name);
  return a && a->kind == IR_ATTR_INT ? a->u.i : dflt;
}

static Onnx__OperatorSetIdProto *opset_id(Ex *x, const char *domain, int64_t version) {
  Onnx__OperatorSetIdProto *o = arena_alloc(&x->a, sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = arena_strdup(&x->a, domain);
  o->has_version = 1;
  o->version = version;
  return o;
}

static Onnx__ModelProto *build_model(Ex *x) {
  const IrModule *m = x->m;
  Onnx__ModelProto *mp = arena_alloc(&x->a, sizeof *mp);
  onnx__model_proto__init(mp);
  mp->has_ir_version = 1;
  mp->ir_version = x->ir_version;
  const IrAttr *prod = ir_attrs_find(m->attrs, m->nattrs, "producer");
  if (prod && prod->kind == IR_ATTR_STRING) mp->producer_name = arena_strdup(&x->a, prod->u.s);
  /* Other domains the module imported are kept (the importer records them
   * as opset.DOMAIN); no node uses them, ONNX ops are all default-domain. */
  Vec ops = {0};
  vec_push(x, &ops, opset_id(x, "", x->opset));
  for (uint32_t i = 0; i < m->nattrs; i++) {
    const IrAttr *a = &m->attrs[i];
    if (strncmp(a->name, "opset.", 6) != 0 || strcmp(a->name, "opset.ai.onnx") == 0 || a->kind != IR_ATTR_INT)
      continue;
    vec_push(x, &ops, opset_id(x, a->name + 6, a->u.i));
  }
  mp->n_opset_import = ops.n;
  mp->opset_import = (Onnx__OperatorSetIdProto **)ops.v;
  mp->graph = export_graph(x, x->f->body, m->name ? m->name : x->f->name, true);
  return mp;
}

static bool write_file(Ex *x, const char *path, const void *buf, size_t len) {
  size_t n = strlen(path) + 16;
  char *tmp = xmalloc(n);
  snprintf(tmp, n, "%s.tmpXXXXXX", path);
  int fd = outfile_mkstemp(tmp);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  bool ok = f != NULL;
  if (!f && fd >= 0) close(fd);
  if (ok && len && fwrite(buf, 1, len, f) != len) ok = false;
  if (f && fclose(f) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) {
    diag_error(x->d, diag_loc(path, 0, 0), "cannot write ONNX model '%s': %s", path, strerror(errno));
    if (fd >= 0) remove(tmp);
  }
  free(tmp);
  return ok;
}

bool onnx_export(const IrModule *m, const char *path, Diag *d) {
  const IrFunc *f = ir_module_find_func(m, "main");
  if (!f && m->nfuncs) f = m->funcs[0];
  if (!f) {
    diag_error(d, diag_loc(path, 0, 0), "the module has no function to export");
    return false;
  }
  Ex x = {.d = d, .m = m, .f = f, .ok = true};
  arena_init(&x.a);
  strmap_init(&x.node_names);
  x.names = ir_names_compute(f);
  ir_region_walk(f->body, collect_node_name, &x);
  /* The opset: the module's own (21 for modules that never saw ONNX),
   * raised to what its ops and types need; never below 7, whose
   * broadcasting and attribute forms the IR holds. */
  x.opset = module_int(m, "opset.ai.onnx", 21);
  if (x.opset < 7) x.opset = 7;
  bool ok = check_region(&x, f->body, NULL) && x.ok;
  for (uint32_t i = 0; ok && i < f->nresults; i++) {
    const IrType *t = f->result_types[i];
    if (t->quant || ir_elem_info[t->elem].onnx == 0) {
      diag_error(d, f->pos, "result #%u of function '%s' has type %s%s, which ONNX cannot hold", i, f->name,
                 t->quant ? "quantized " : "", ir_elem_name(t->elem));
      ok = false;
    }
  }
  if (ok && x.opset > ONNX_MAX_OPSET) {
    diag_error(d, diag_loc(path, 0, 0), "the module needs opset %" PRId64 ", newer than the newest supported (%d)",
               x.opset, ONNX_MAX_OPSET);
    ok = false;
  }
  if (ok) {
    decide_forms(&x);
    int64_t ir = onnx_export_ir_version(x.opset);
    int64_t own = module_int(m, "onnx.ir_version", 0);
    x.ir_version = own > ir ? own : ir;
    Onnx__ModelProto *mp = build_model(&x);
    ok = x.ok;
    size_t len = ok ? onnx__model_proto__get_packed_size(mp) : 0;
    if (ok && len > (size_t)INT32_MAX) {
      diag_error(d, diag_loc(path, 0, 0),
                 "the model is %zu bytes, over protobuf's 2 GiB limit (external data is not written)", len);
      ok = false;
    }
    if (ok) {
      uint8_t *buf = xmalloc(len ? len : 1);
      onnx__model_proto__pack(mp, buf);
      ok = write_file(&x, path, buf, len);
      free(buf);
    }
  }
  PtrMap *maps[] = {&x.down, &x.skip};
  for (size_t i = 0; i < 2; i++) free(maps[i]->keys), free(maps[i]->vals);
  ir_names_free(x.names);
  strmap_free(&x.node_names);
  arena_release(&x.a);
  return ok;
}
