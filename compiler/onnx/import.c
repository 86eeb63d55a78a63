/* ONNX import: ModelProto -> IR module. Reads the file, checks opset
 * imports, turns graph inputs into function arguments, initializers into
 * pool constants behind Constant ops, nodes (sorted topologically) into ops
 * with their attributes and subgraph regions, and graph outputs into the
 * return. Every result is typed by shape inference (compiler/ops/infer.c);
 * value_info and declared output types refine what inference leaves open.
 * Tensor decoding is in import_tensor.c, attributes in import_attr.c, older
 * opsets' forms in import_upgrade.c. docs/onnx-import.md describes it. */
/* realpath() is an XSI interface. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/import_internal.h"
#include "ops/infer.h"
#include "support/fileio.h"

typedef struct Scope {
  StrMap vals;  /* ONNX name -> IrValue* */
  StrMap hints; /* ONNX name -> ValueInfoProto* of this graph's value_info */
  struct Scope *parent;
} Scope;

static IrValue *scope_lookup(const Scope *s, const char *name) {
  for (; s; s = s->parent) {
    IrValue *v = strmap_get(&s->vals, name);
    if (v) return v;
  }
  return NULL;
}

const char *onnx_node_desc(char *buf, size_t n, const Onnx__NodeProto *node, int index) {
  const char *op = node->op_type ? node->op_type : "";
  if (node->name && *node->name)
    snprintf(buf, n, "node '%s' (op '%s')", node->name, op);
  else if (node->n_output && node->output[0] && *node->output[0])
    snprintf(buf, n, "node #%d producing '%s' (op '%s')", index, node->output[0], op);
  else
    snprintf(buf, n, "node #%d (op '%s')", index, op);
  return buf;
}

/* ---- types ------------------------------------------------------------ */

/* Symbolic dim names must be identifiers in the text form. */
static const char *sym_name(OnnxCtx *c, const char *p) {
  size_t n = strlen(p);
  char *s = arena_alloc(&c->m->arena, n + 2);
  size_t j = 0;
  if (!((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z') || p[0] == '_')) s[j++] = '_';
  for (size_t i = 0; i < n; i++) {
    char ch = p[i];
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '.' || ch == '$' || ch == '-';
    s[j++] = ok ? ch : '_';
  }
  s[j] = '\0';
  return s;
}

/* The IR type of a ValueInfoProto in *out: `fallback` when it carries no
 * type. Returns false (reported) when it is not a tensor or has an
 * unsupported element type. */
static bool value_info_type(OnnxCtx *c, const Onnx__ValueInfoProto *vi, const IrType *fallback, const char *what,
                            const IrType **out) {
  const Onnx__TypeProto *tp = vi->type;
  *out = fallback;
  if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return true;
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
    diag_error(c->d, onnx_loc(c), "%s: only tensor types are supported (not sequences, maps, optionals or sparse)",
               what);
    return false;
  }
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  IrElem e = fallback ? fallback->elem : IR_ELEM_F32;
  if (tt->has_elem_type && tt->elem_type != 0 && !onnx_elem(c, tt->elem_type, &e, what)) return false;
  if (!tt->shape) {
    *out = ir_type_tensor(c->m, e, -1, NULL);
    return true;
  }
  size_t rank = tt->shape->n_dim;
  if (rank > 64) {
    diag_error(c->d, onnx_loc(c), "%s: rank %zu is too large", what, rank);
    return false;
  }
  IrDim dims[64];
  for (size_t i = 0; i < rank; i++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[i];
    dims[i] = (IrDim){-1, NULL};
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value >= 0)
      dims[i].size = dim->dim_value;
    else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param &&
             *dim->dim_param)
      dims[i].sym = sym_name(c, dim->dim_param);
  }
  *out = ir_type_tensor(c->m, e, (int32_t)rank, dims);
  return true;
}

/* The more precise of two types for one value: each dim static over
 * symbolic over dynamic. NULL when they contradict (elements or static
 * dims differ). */
static const IrType *refine_type(IrModule *m, const IrType *inferred, const IrType *declared) {
  if (!declared) return inferred;
  if (inferred->elem != declared->elem || inferred->quant) return NULL;
  if (declared->rank < 0) return inferred;
  if (inferred->rank < 0) return declared;
  if (inferred->rank != declared->rank) return NULL;
  IrDim dims[64];
  bool changed = false;
  for (int32_t i = 0; i < inferred->rank && i < 64; i++) {
    IrDim a = inferred->dims[i], b = declared->dims[i];
    if (a.size >= 0 && b.size >= 0 && a.size != b.size) return NULL;
    dims[i] = a;
    if (a.size < 0 && (b.size >= 0 || (b.sym && !a.sym))) {
      dims[i] = b;
      changed = true;
    }
  }
  return changed ? ir_type_tensor(m, inferred->elem, inferred->rank, dims) : inferred;
}

/* ---- topological order ------------------------------------------------ */

typedef struct GraphOrder {
  int *order; /* node indices in a valid order */
  int n;
} GraphOrder;

/* Adds to `names` every name a subgraph uses without defining it. */
static void free_names(const Onnx__GraphProto *g, StrMap *names) {
  StrMap defined;
  strmap_init(&defined);
  for (size_t i = 0; i < g->n_input; i++)
    if (g->input[i]->name) strmap_put(&defined, g->input[i]->name, (void *)1);
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i]->name) strmap_put(&defined, g->initializer[i]->name, (void *)1);
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t j = 0; j < g->node[i]->n_output; j++)
      if (g->node[i]->output[j] && *g->node[i]->output[j]) strmap_put(&defined, g->node[i]->output[j], (void *)1);
  StrMap inner;
  strmap_init(&inner);
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t j = 0; j < n->n_input; j++)
      if (n->input[j] && *n->input[j]) strmap_put(&inner, n->input[j], (void *)1);
    for (size_t a = 0; a < n->n_attribute; a++) {
      if (n->attribute[a]->g) free_names(n->attribute[a]->g, &inner);
      for (size_t k = 0; k < n->attribute[a]->n_graphs; k++) free_names(n->attribute[a]->graphs[k], &inner);
    }
  }
  for (size_t i = 0; i < g->n_output; i++)
    if (g->output[i]->name && *g->output[i]->name) strmap_put(&inner, g->output[i]->name, (void *)1);
  for (size_t i = 0; i < inner.cap; i++)
    if (inner.keys[i] && !strmap_get(&defined, inner.keys[i])) strmap_put(names, inner.keys[i], (void *)1);
  strmap_free(&inner);
  strmap_free(&defined);
}

/* Names node i reads: its inputs and its subgraphs' free names. */
static void node_reads(const Onnx__NodeProto *n, StrMap *names) {
  for (size_t j = 0; j < n->n_input; j++)
    if (n->input[j] && *n->input[j]) strmap_put(names, n->input[j], (void *)1);
  for (size_t a = 0; a < n->n_attribute; a++) {
    if (n->attribute[a]->g) free_names(n->attribute[a]->g, names);
    for (size_t k = 0; k < n->attribute[a]->n_graphs; k++) free_names(n->attribute[a]->graphs[k], names);
  }
}

static void heap_push(int *h, int *n, int v) {
  int i = (*n)++;
  h[i] = v;
  while (i > 0 && h[(i - 1) / 2] > h[i]) {
    int p = (i - 1) / 2, t = h[p];
    h[p] = h[i], h[i] = t, i = p;
  }
}

static int heap_pop(int *h, int *n) {
  int top = h[0];
  h[0] = h[--*n];
  for (int i = 0;;) {
    int l = 2 * i + 1, r = l + 1, s = i;
    if (l < *n && h[l] < h[s]) s = l;
    if (r < *n && h[r] < h[s]) s = r;
    if (s == i) break;
    int t = h[s];
    h[s] = h[i], h[i] = t, i = s;
  }
  return top;
}

/* Orders the nodes so every producer precedes its users: the model's own
 * order when it is valid, else the smallest-index-first topological order.
 * A cycle is reported naming a node on it. */
static bool order_nodes(OnnxCtx *c, const Onnx__GraphProto *g, GraphOrder *out) {
  int n = (int)g->n_node;
  StrMap producer; /* name -> node index + 1 */
  strmap_init(&producer);
  for (int i = 0; i < n; i++)
    for (size_t j = 0; j < g->node[i]->n_output; j++) {
      const char *o = g->node[i]->output[j];
      if (o && *o && !strmap_get(&producer, o)) strmap_put(&producer, o, (void *)(intptr_t)(i + 1));
    }
  /* deps[i]: producers node i waits for (deduplicated per node). */
  int **deps = xcalloc((size_t)n + 1, sizeof *deps);
  int *ndeps = xcalloc((size_t)n + 1, sizeof *ndeps);
  bool sorted = true;
  for (int i = 0; i < n; i++) {
    StrMap reads;
    strmap_init(&reads);
    node_reads(g->node[i], &reads);
    int cap = 0;
    for (size_t k = 0; k < reads.cap; k++) {
      if (!reads.keys[k]) continue;
      intptr_t p = (intptr_t)strmap_get(&producer, reads.keys[k]);
      if (!p) continue;
      int pi = (int)p - 1;
      if (pi >= i) sorted = false;
      if (ndeps[i] == cap) deps[i] = xrealloc(deps[i], (size_t)(cap = cap ? cap * 2 : 4) * sizeof **deps);
      deps[i][ndeps[i]++] = pi;
    }
    strmap_free(&reads);
  }
  out->order = xmalloc(((size_t)n + 1) * sizeof *out->order);
  out->n = n;
  bool ok = true;
  if (sorted) {
    for (int i = 0; i < n; i++) out->order[i] = i;
  } else {
    /* Kahn's algorithm over users lists. */
    int *indeg = xcalloc((size_t)n + 1, sizeof *indeg);
    int *nusers = xcalloc((size_t)n + 1, sizeof *nusers);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < ndeps[i]; k++) nusers[deps[i][k]]++;
    int **users = xcalloc((size_t)n + 1, sizeof *users);
    int *fill = xcalloc((size_t)n + 1, sizeof *fill);
    for (int i = 0; i < n; i++) users[i] = xmalloc(((size_t)nusers[i] + 1) * sizeof **users);
    for (int i = 0; i < n; i++) {
      indeg[i] = ndeps[i];
      for (int k = 0; k < ndeps[i]; k++) users[deps[i][k]][fill[deps[i][k]]++] = i;
    }
    int *heap = xmalloc(((size_t)n + 1) * sizeof *heap), hn = 0, done = 0;
    for (int i = 0; i < n; i++)
      if (!indeg[i]) heap_push(heap, &hn, i);
    while (hn) {
      int i = heap_pop(heap, &hn);
      out->order[done++] = i;
      for (int k = 0; k < nusers[i]; k++)
        if (--indeg[users[i][k]] == 0) heap_push(heap, &hn, users[i][k]);
    }
    if (done < n) {
      /* Walk unfinished dependencies n steps: we end up on the cycle. */
      int at = 0;
      while (indeg[at] == 0) at++;
      for (int step = 0; step < n; step++) {
        for (int k = 0; k < ndeps[at]; k++)
          if (indeg[deps[at][k]] > 0) {
            at = deps[at][k];
            break;
          }
      }
      char desc[512];
      diag_error(c->d, onnx_loc(c), "graph '%s' has a cycle through %s", g->name ? g->name : "",
                 onnx_node_desc(desc, sizeof desc, g->node[at], at));
      ok = false;
    }
    for (int i = 0; i < n; i++) free(users[i]);
    free(users), free(fill), free(heap), free(indeg), free(nusers);
  }
  for (int i = 0; i < n; i++) free(deps[i]);
  free(deps), free(ndeps);
  strmap_free(&producer);
  if (!ok) free(out->order);
  return ok;
}

/* ---- graphs and nodes -------------------------------------------------- */

static bool import_graph(OnnxCtx *c, const Onnx__GraphProto *g, IrRegion *r, Scope *scope,
                         const IrType *const *arg_defaults, uint32_t ndefaults, bool is_main);

static bool bind(OnnxCtx *c, Scope *s, const char *name, IrValue *v, const char *desc) {
  if (strmap_get(&s->vals, name)) {
    diag_error(c->d, onnx_loc(c), "%s: '%s' is defined twice", desc, name);
    return false;
  }
  strmap_put(&s->vals, name, v);
  if (!v->name) ir_value_set_name(c->m, v, name);
  return true;
}

static const IrType *unknown_type(OnnxCtx *c) { return ir_type_tensor(c->m, IR_ELEM_F32, -1, NULL); }

/* Constant node: every form becomes `value = @pool` on a Constant op. */
static bool import_constant(OnnxCtx *c, const Onnx__NodeProto *node, const char *desc, IrRegion *r, Scope *s) {
  if (node->n_output != 1 || !node->output[0] || !*node->output[0] || node->n_attribute != 1) {
    diag_error(c->d, onnx_loc(c), "%s: a Constant needs one output and exactly one value attribute", desc);
    return false;
  }
  const Onnx__AttributeProto *a = node->attribute[0];
  const char *an = a->name ? a->name : "";
  const char *out = node->output[0];
  IrConst *k = NULL;
  if (strcmp(an, "value") == 0 && a->t) {
    k = onnx_tensor_to_const(c, a->t, onnx_pool_name(c, out), desc);
    if (!k) return false;
  } else {
    IrElem e;
    const void *data;
    int64_t n;
    int rank;
    if (strcmp(an, "value_float") == 0) e = IR_ELEM_F32, data = &a->f, n = 1, rank = 0;
    else if (strcmp(an, "value_int") == 0) e = IR_ELEM_I64, data = &a->i, n = 1, rank = 0;
    else if (strcmp(an, "value_floats") == 0) e = IR_ELEM_F32, data = a->floats, n = (int64_t)a->n_floats, rank = 1;
    else if (strcmp(an, "value_ints") == 0) e = IR_ELEM_I64, data = a->ints, n = (int64_t)a->n_ints, rank = 1;
    else if (strcmp(an, "value_string") == 0 || strcmp(an, "value_strings") == 0) {
      diag_error(c->d, onnx_loc(c), "%s: string constants are not supported", desc);
      return false;
    } else {
      diag_error(c->d, onnx_loc(c), "%s: unsupported Constant attribute '%s'", desc, an);
      return false;
    }
    const IrType *t = ir_type_static(c->m, e, rank, &n);
    k = ir_const_create(c->m, onnx_pool_name(c, out), t, n ? data : "", (size_t)n * (size_t)ir_elem_bytes(e),
                        false);
  }
  IrValue *v = onnx_emit_const(c, r, k, NULL);
  IrOp *op = v->def;
  if (node->name && *node->name) op->src_name = arena_strdup(&c->m->arena, node->name);
  op->src = onnx_loc(c);
  return bind(c, s, out, v, desc);
}

/* Region argument types a subgraph gets when its inputs carry none: Loop's
 * (iteration number, condition, carried values), Scan's (state, slices). */
static uint32_t region_defaults(OnnxCtx *c, const OnnxNode *n, const IrType **out, uint32_t cap) {
  uint32_t k = 0;
  if (n->kind == IR_OP_LOOP) {
    out[k++] = ir_type_static(c->m, IR_ELEM_I64, 0, NULL);
    out[k++] = ir_type_static(c->m, IR_ELEM_BOOL, 0, NULL);
    for (uint32_t i = 2; i < n->nin && k < cap; i++)
      out[k++] = n->ins[i] ? ir_type_tensor(c->m, n->ins[i]->type->elem, -1, NULL) : unknown_type(c);
  } else if (n->kind == IR_OP_SCAN) {
    for (uint32_t i = 0; i < n->nin && k < cap; i++)
      out[k++] = n->ins[i] ? ir_type_tensor(c->m, n->ins[i]->type->elem, -1, NULL) : unknown_type(c);
  }
  return k;
}

/* Applies a value_info hint to a node result: it refines, never
 * contradicts, what inference found. */
static void apply_hint(OnnxCtx *c, const Scope *s, const char *name, IrValue *v) {
  const Onnx__ValueInfoProto *vi = strmap_get(&s->hints, name);
  if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return;
  /* A quiet diagnostic sink: a hint with an odd type is just ignored. */
  Diag quiet;
  diag_init(&quiet, NULL);
  Diag *saved = c->d;
  c->d = &quiet;
  const IrType *t;
  bool ok = value_info_type(c, vi, NULL, name, &t);
  c->d = saved;
  if (!ok || !t) return;
  const IrType *r = refine_type(c->m, v->type, t);
  if (r) v->type = r;
}

static bool import_node(OnnxCtx *c, const Onnx__NodeProto *node, int idx, IrRegion *r, Scope *s) {
  char desc[512];
  onnx_node_desc(desc, sizeof desc, node, idx);
  const char *op_type = node->op_type ? node->op_type : "";
  const char *domain = node->domain ? node->domain : "";
  if (*domain && strcmp(domain, "ai.onnx") != 0) {
    diag_error(c->d, onnx_loc(c), "%s: domain '%s' is not supported (only the default ONNX domain is)", desc,
               domain);
    return false;
  }
  for (size_t j = 0; j < node->n_input; j++) {
    const char *in = node->input[j];
    if (in && *in && !scope_lookup(s, in)) {
      diag_error(c->d, onnx_loc(c),
                 "%s: input '%s' is not defined (no graph input, initializer or node output has that name)",
                 desc, in);
      return false;
    }
  }
  if (strcmp(op_type, "Constant") == 0) return import_constant(c, node, desc, r, s);

  OnnxNode n = {0};
  if (strcmp(op_type, "Upsample") == 0) {
    n.kind = IR_OP_RESIZE;
  } else if (!ops_lookup(op_type, (int)strlen(op_type), &n.kind) || n.kind == IR_OP_RETURN) {
    diag_error(c->d, onnx_loc(c), "%s: unsupported op '%s'", desc, op_type);
    return false;
  }
  const IrOpInfo *info = ops_info(n.kind);
  for (size_t j = 0; j < node->n_input; j++) {
    const char *in = node->input[j];
    onnx_node_add_input(&n, in && *in ? scope_lookup(s, in) : NULL);
  }
  /* Trailing absent inputs are the same as fewer inputs. */
  while (n.nin && !n.ins[n.nin - 1]) n.nin--;
  bool *consumed = xcalloc(node->n_attribute + 1, sizeof *consumed);
  bool ok = onnx_upgrade(c, r, node, desc, &n, consumed);
  const Onnx__GraphProto *graphs[IR_OP_MAX_REGIONS] = {0};
  for (size_t a = 0; ok && a < node->n_attribute; a++) {
    if (consumed[a]) continue;
    const Onnx__AttributeProto *at = node->attribute[a];
    const char *an = at->name ? at->name : "";
    if (at->g || (at->has_type && at->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)) {
      int slot = -1;
      for (int k = 0; k < info->nregions; k++)
        if (strcmp(info->regions[k], an) == 0) slot = k;
      if (slot < 0 || !at->g) {
        diag_error(c->d, onnx_loc(c), "%s: unexpected graph attribute '%s'", desc, an);
        ok = false;
      } else {
        graphs[slot] = at->g;
      }
      continue;
    }
    IrAttr ia;
    if (!onnx_attr_to_ir(c, n.kind, at, desc, &ia)) {
      ok = false;
      break;
    }
    if (ir_attrs_find(n.attrs, n.nattrs, ia.name)) {
      diag_error(c->d, onnx_loc(c), "%s: attribute '%s' given twice", desc, ia.name);
      ok = false;
      break;
    }
    onnx_node_add_attr(&n, &ia);
  }
  free(consumed);
  for (int k = 0; ok && k < info->nattrs; k++) {
    if (info->attrs[k].required && !ir_attrs_find(n.attrs, n.nattrs, info->attrs[k].name)) {
      diag_error(c->d, onnx_loc(c), "%s: required attribute '%s' is missing", desc, info->attrs[k].name);
      ok = false;
    }
  }
  for (int k = 0; ok && k < info->nregions; k++) {
    if (!graphs[k]) {
      diag_error(c->d, onnx_loc(c), "%s: subgraph attribute '%s' is missing", desc, info->regions[k]);
      ok = false;
    }
  }
  uint32_t nout = (uint32_t)node->n_output;
  if (ok && ((int)n.nin < info->min_in || (info->max_in >= 0 && (int)n.nin > info->max_in))) {
    diag_error(c->d, onnx_loc(c), "%s: %u inputs given, '%s' takes %d to %d", desc, n.nin, info->name,
               info->min_in, info->max_in);
    ok = false;
  }
  for (uint32_t i = 0; ok && i < n.nin && i < ops_required_operands(n.kind); i++) {
    if (!n.ins[i]) {
      diag_error(c->d, onnx_loc(c), "%s: input #%u is required but empty", desc, i);
      ok = false;
    }
  }
  if (ok && ((int)nout < info->min_out || (info->max_out >= 0 && (int)nout > info->max_out))) {
    diag_error(c->d, onnx_loc(c), "%s: %u outputs given, '%s' gives %d to %d", desc, nout, info->name,
               info->min_out, info->max_out);
    ok = false;
  }
  if (!ok) {
    free(n.ins), free(n.attrs);
    return false;
  }
  const IrType **types = xmalloc(((size_t)nout + 1) * sizeof *types);
  for (uint32_t i = 0; i < nout; i++) types[i] = unknown_type(c);
  IrOp *op = ir_op_create(c->m, n.kind, n.ins, n.nin, types, nout, (uint32_t)info->nregions);
  free(types);
  for (uint32_t i = 0; i < n.nattrs; i++) ir_op_set_attr(c->m, op, &n.attrs[i]);
  if (node->name && *node->name) op->src_name = arena_strdup(&c->m->arena, node->name);
  op->src = onnx_loc(c);
  ir_region_append(r, op);
  for (int k = 0; ok && k < info->nregions; k++) {
    const IrType *defaults[256];
    uint32_t nd = region_defaults(c, &n, defaults, 256);
    Scope inner = {.parent = s};
    strmap_init(&inner.vals);
    strmap_init(&inner.hints);
    ok = import_graph(c, graphs[k], op->regions[k], &inner, defaults, nd, false);
    strmap_free(&inner.vals);
    strmap_free(&inner.hints);
  }
  free(n.ins), free(n.attrs);
  if (!ok) return false;
  if (!c->opts->no_infer && !ir_infer_op(c->m, op, c->d)) return false;
  for (uint32_t i = 0; i < nout; i++) {
    const char *o = node->output[i];
    if (!o || !*o) continue;
    apply_hint(c, s, o, op->results[i]);
    if (!bind(c, s, o, op->results[i], desc)) return false;
  }
  return true;
}

static bool import_graph(OnnxCtx *c, const Onnx__GraphProto *g, IrRegion *r, Scope *scope,
                         const IrType *const *arg_defaults, uint32_t ndefaults, bool is_main) {
  char what[512];
  if (g->n_sparse_initializer) {
    diag_error(c->d, onnx_loc(c), "graph '%s': sparse initializers are not supported", g->name ? g->name : "");
    return false;
  }
  for (size_t i = 0; i < g->n_value_info; i++)
    if (g->value_info[i]->name) strmap_put(&scope->hints, g->value_info[i]->name, g->value_info[i]);
  StrMap inits;
  strmap_init(&inits);
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i]->name) strmap_put(&inits, g->initializer[i]->name, (void *)1);
  /* Inputs that also have an initializer (IR < 4) are constants. */
  uint32_t argi = 0;
  bool ok = true;
  for (size_t i = 0; ok && i < g->n_input; i++) {
    const Onnx__ValueInfoProto *vi = g->input[i];
    const char *name = vi->name ? vi->name : "";
    if (is_main && strmap_get(&inits, name)) continue;
    snprintf(what, sizeof what, "graph input '%s'", name);
    const IrType *t;
    if (!value_info_type(c, vi, argi < ndefaults ? arg_defaults[argi] : NULL, what, &t)) {
      ok = false;
      break;
    }
    if (!t) t = unknown_type(c);
    IrValue *v = ir_region_add_arg(c->m, r, name, t);
    argi++;
    if (*name && strmap_get(&scope->vals, name)) {
      diag_error(c->d, onnx_loc(c), "%s is defined twice", what);
      ok = false;
    } else if (*name) {
      strmap_put(&scope->vals, name, v);
    }
  }
  for (size_t i = 0; ok && i < g->n_initializer; i++) {
    const Onnx__TensorProto *t = g->initializer[i];
    const char *name = t->name ? t->name : "";
    snprintf(what, sizeof what, "initializer '%s'", name);
    if (!*name) {
      diag_error(c->d, onnx_loc(c), "an initializer has no name");
      ok = false;
      break;
    }
    IrConst *k = onnx_tensor_to_const(c, t, onnx_pool_name(c, name), what);
    if (!k) {
      ok = false;
      break;
    }
    IrValue *v = onnx_emit_const(c, r, k, NULL);
    IrValue *prev = strmap_get(&scope->vals, name);
    if (prev && prev->kind == IR_VALUE_RESULT) {
      diag_error(c->d, onnx_loc(c), "%s is defined twice", what);
      ok = false;
      break;
    }
    if (prev) {
      /* A subgraph input with an initializer of the same name: the
       * initializer is its default; the input wins. */
      continue;
    }
    strmap_put(&scope->vals, name, v);
    ir_value_set_name(c->m, v, name);
  }
  strmap_free(&inits);
  if (!ok) return false;

  GraphOrder order;
  if (!order_nodes(c, g, &order)) return false;
  for (int i = 0; ok && i < order.n; i++) ok = import_node(c, g->node[order.order[i]], order.order[i], r, scope);
  free(order.order);
  if (!ok) return false;

  IrValue **outs = xmalloc((g->n_output + 1) * sizeof *outs);
  const IrType **types = xmalloc((g->n_output + 1) * sizeof *types);
  for (size_t i = 0; ok && i < g->n_output; i++) {
    const Onnx__ValueInfoProto *vi = g->output[i];
    const char *name = vi->name ? vi->name : "";
    snprintf(what, sizeof what, "graph output '%s'", name);
    IrValue *v = *name ? scope_lookup(scope, name) : NULL;
    if (!v) {
      diag_error(c->d, onnx_loc(c), "%s is not defined by any node, input or initializer", what);
      ok = false;
      break;
    }
    const IrType *declared;
    if (!value_info_type(c, vi, NULL, what, &declared)) {
      ok = false;
      break;
    }
    const IrType *t = refine_type(c->m, v->type, declared);
    if (!t) {
      /* Inference and the model disagree: the model's word is kept when
       * inference knew little (unranked); otherwise it is an error. */
      if (v->type->rank < 0 && declared && v->type->elem == declared->elem) {
        t = declared;
      } else {
        diag_error(c->d, onnx_loc(c), "%s: declared type disagrees with the inferred one", what);
        ok = false;
        break;
      }
    }
    if (v->kind == IR_VALUE_RESULT && v->def->parent == r) v->type = t;
    else t = v->type;
    outs[i] = v;
    types[i] = t;
  }
  if (ok) {
    IrOp *ret = ir_op_create(c->m, IR_OP_RETURN, outs, (uint32_t)g->n_output, NULL, 0, 0);
    ir_region_append(r, ret);
    if (is_main) ir_func_set_results(r->func, types, (uint32_t)g->n_output);
  }
  free(outs);
  free(types);
  return ok;
}

/* ---- model ------------------------------------------------------------- */

static void set_module_attrs(OnnxCtx *c, const Onnx__ModelProto *mp) {
  IrModule *m = c->m;
  IrAttr a;
  if (mp->producer_name && *mp->producer_name) {
    const char *p = mp->producer_name;
    if (mp->producer_version && *mp->producer_version) {
      size_t n = strlen(p) + strlen(mp->producer_version) + 2;
      char *s = arena_alloc(&m->arena, n);
      snprintf(s, n, "%s %s", p, mp->producer_version);
      p = s;
    }
    a = (IrAttr){.name = "producer", .kind = IR_ATTR_STRING, .u.s = p};
    ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &a);
  }
  if (mp->has_ir_version) {
    a = (IrAttr){.name = "onnx.ir_version", .kind = IR_ATTR_INT, .u.i = mp->ir_version};
    ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &a);
  }
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
    const char *dom = o->domain && *o->domain ? o->domain : "ai.onnx";
    size_t n = strlen(dom) + 16;
    char *name = arena_alloc(&m->arena, n);
    snprintf(name, n, "opset.%s", dom);
    a = (IrAttr){.name = name, .kind = IR_ATTR_INT, .u.i = o->has_version ? o->version : 0};
    ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &a);
  }
}

static IrModule *import_model(OnnxCtx *c, const Onnx__ModelProto *mp) {
  int64_t opset = -1;
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
    if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0) opset = o->has_version ? o->version : 0;
  }
  if (opset < 0) {
    if (mp->n_opset_import == 0 && mp->has_ir_version && mp->ir_version < 3) {
      opset = 1; /* before opset imports existed */
    } else {
      diag_error(c->d, onnx_loc(c), "the model imports no default-domain opset");
      return NULL;
    }
  }
  int max = c->opts->max_opset > 0 ? c->opts->max_opset : ONNX_MAX_OPSET;
  if (opset > max) {
    diag_error(c->d, onnx_loc(c), "opset %lld of the default domain is newer than the newest supported (%d)",
               (long long)opset, max);
    return NULL;
  }
  c->opset = opset;
  if (!mp->graph) {
    diag_error(c->d, onnx_loc(c), "the model has no graph");
    return NULL;
  }
  const Onnx__GraphProto *g = mp->graph;
  IrModule *m = ir_module_create(g->name && *g->name ? g->name : NULL);
  c->m = m;
  set_module_attrs(c, mp);
  IrFunc *f = ir_func_create(m, "main");
  Scope top = {0};
  strmap_init(&top.vals);
  strmap_init(&top.hints);
  bool ok = import_graph(c, g, f->body, &top, NULL, 0, true);
  strmap_free(&top.vals);
  strmap_free(&top.hints);
  if (!ok) {
    ir_module_destroy(m);
    return NULL;
  }
  return m;
}

/* Folder of `path` as a real path, for confining external data. */
static char *model_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  if (!slash) {
    dir = xstrdup(".");
  } else {
    size_t n = (size_t)(slash - path);
    dir = xmalloc(n + 2);
    memcpy(dir, path, n);
    dir[n ? n : 1] = '\0';
    if (!n) dir[0] = '/';
  }
  char *real = realpath(dir, NULL);
  free(dir);
  return real;
}

static IrModule *import_buffer(Diag *d, const char *path, char *dir, const void *data, size_t len,
                               const OnnxImportOptions *opts) {
  static const OnnxImportOptions defaults = {0};
  OnnxCtx c = {.d = d, .path = path ? path : "<onnx>", .dir = dir, .opts = opts ? opts : &defaults};
  strmap_init(&c.pool_names);
  ops_init();
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
  IrModule *m = NULL;
  if (!mp) {
    diag_error(d, onnx_loc(&c), "not a valid ONNX model (the protobuf data is truncated or malformed)");
  } else {
    m = import_model(&c, mp);
    onnx__model_proto__free_unpacked(mp, NULL);
  }
  strmap_free(&c.pool_names);
  return m;
}

IrModule *onnx_import_buffer(Diag *d, const char *path, const void *data, size_t len,
                             const OnnxImportOptions *opts) {
  return import_buffer(d, path, NULL, data, len, opts);
}

IrModule *onnx_import_file(Diag *d, const char *path, const OnnxImportOptions *opts) {
  size_t n;
  char *buf = fileio_read_path(path, "model", &n, d, diag_loc(path, 0, 0));
  if (!buf) return NULL;
  char *dir = model_dir(path);
  IrModule *m = import_buffer(d, path, dir, buf, n, opts);
  free(dir);
  free(buf);
  return m;
}
