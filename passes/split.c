/* split: SplitQuant (Song & Lin, "SplitQuant: Layer Splitting for
 * Low-Bit Neural Network Quantization", arXiv 2501.12428, 2025;
 * jaewoosong/splitquant splitquant.py; ../shared/ALGORITHMS.md section 5).
 *
 * What it does: the constant weight of a MatMul, Gemm or Conv is clustered
 * by 1-D k-means (compiler/quant/kmeans.h; the whole matrix for
 * MatMul/Gemm, each output filter separately for Conv) into k groups split
 * at the midpoints between sorted centroids: W = W_0 + ... + W_{m-1} with
 * W_i = W * [W in group i]. The bias is split by its own k-means. The layer
 * becomes m ops of the same kind on the same input, part i with W_i and
 * bias part i, summed by Adds:
 *   y = x W + b = sum_i (x W_i + b_i)   exact up to summation order.
 * Each part has a narrower range, so quantize gives it a finer scale.
 * Which layers: every eligible one (select=all), those named in `nodes`
 * (select=names), or the `top` with the largest 8-bit per-channel weight
 * quantization error relative to the weight norm (select=sensitive).
 * Declines (statistics): a weight or bias that is not a float constant,
 * or is read by another op too (a split copy would untie them), fewer than
 * min-size weights, weights of one value. Errors: k < 2, an unknown select
 * kind, a node name that no op has.
 * Tests: test/lit/quant/split*.qir, test/unit/test_kmeans.c;
 * docs/passes/split.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "quant/kmeans.h"

#define MAX_NODES 256

typedef enum { SEL_ALL, SEL_NAMES, SEL_SENSITIVE } Select;

typedef struct Layer {
  IrOp *op;
  IrValue *w, *b; /* b NULL: no bias operand */
  int axis;       /* the weight's output-channel axis: 0 or 1 */
  bool per_filter;
  double sens;
  int pos; /* graph order, the tie-break of select=sensitive */
} Layer;

typedef struct Run {
  PassContext *ctx;
  IrModule *m;
  int k;
  int64_t min_size;
  Select select;
  int64_t top;
  char *nodes_buf;
  const char *nodes[MAX_NODES];
  int nnodes;
  Layer *layers;
  int nlayers;
  const IrConst **dropped; /* pool constants replaced, removed when unreferenced */
  int ndropped;
} Run;

/* ---- matching --------------------------------------------------------- */

static bool float_const(const IrValue *v) {
  const IrConst *c = canon_const(v);
  return c && !c->type->quant && ir_elem_is_float(c->type->elem) && ir_type_numel(c->type) > 0;
}

/* v is read only by `user`, once, and no other Constant op refers to its
 * pool tensor: replacing it cannot change another op. */
static bool exclusive(IrModule *m, const IrValue *v, const IrOp *user) {
  if (!canon_one_use(v) || v->uses->user != user) return false;
  const IrConst *c = canon_const(v);
  return !c->name || outlier_const_refs(m, c) == 1;
}

static bool is_layer_kind(IrOpKind k) { return k == IR_OP_MATMUL || k == IR_OP_GEMM || k == IR_OP_CONV; }

/* Fills l for a MatMul/Gemm/Conv whose weight (and bias) can be split;
 * false (with a statistic) when it cannot. */
static bool match_layer(Run *r, IrOp *op, Layer *l) {
  *l = (Layer){.op = op};
  if (op->noperands < 2 || op->nresults != 1) return false;
  l->w = ir_op_operand(op, 1);
  l->b = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  const IrType *wt = l->w ? l->w->type : NULL;
  bool conv = op->kind == IR_OP_CONV;
  if (!wt || !float_const(l->w) || (conv ? wt->rank < 3 : wt->rank != 2) || (l->b && !float_const(l->b))) {
    quench_pass_stat_add(r->ctx, "declined-not-constant", 1);
    return false;
  }
  if (!exclusive(r->m, l->w, op) || (l->b && !exclusive(r->m, l->b, op))) {
    quench_pass_stat_add(r->ctx, "declined-shared-weight", 1);
    return false;
  }
  if (ir_type_numel(wt) < r->min_size || ir_type_numel(wt) < r->k) {
    quench_pass_stat_add(r->ctx, "skipped-small", 1);
    return false;
  }
  l->per_filter = conv;
  l->axis = conv || (op->kind == IR_OP_GEMM && ir_op_attr_int(op, "transB", 0) != 0) ? 0 : 1;
  return true;
}

/* ---- sensitivity ------------------------------------------------------ */

/* ||W - Q(W)|| / ||W|| with Q symmetric 8-bit per output channel, step
 * amax_c / 127 and round half to even (ALGORITHMS.md section 0). */
static double sensitivity(const Layer *l) {
  Tensor *t = tensor_from_const(canon_const(l->w));
  int64_t n = t->numel, nch = t->dims[l->axis], inner = n / t->dims[0];
  double *amax = calloc((size_t)nch, sizeof *amax);
  for (int64_t e = 0; e < n; e++) {
    int64_t c = l->axis == 0 ? e / inner : e % nch;
    amax[c] = fmax(amax[c], fabs(tensor_get_f64(t, e)));
  }
  double err = 0, norm = 0;
  for (int64_t e = 0; e < n; e++) {
    int64_t c = l->axis == 0 ? e / inner : e % nch;
    double v = tensor_get_f64(t, e), s = amax[c] > 0 ? amax[c] / 127.0 : 1.0;
    double d = v - s * rint(v / s);
    err += d * d, norm += v * v;
  }
  free(amax);
  tensor_free(t);
  return norm > 0 ? sqrt(err / norm) : 0;
}

static int by_sensitivity(const void *a, const void *b) {
  const Layer *p = a, *q = b;
  if (p->sens != q->sens) return p->sens < q->sens ? 1 : -1; /* largest first */
  return (p->pos > q->pos) - (p->pos < q->pos);
}

/* ---- splitting -------------------------------------------------------- */

/* Groups of t's elements: the whole tensor clustered at once, or each of
 * its dims[0] slices (Conv filters) separately. g[e] gets the group of
 * element e; returns the number of parts (the most groups of any slice). */
static int cluster(const Tensor *t, bool per_slice, int k, int *g) {
  int64_t nslice = per_slice ? t->dims[0] : 1, inner = t->numel / nslice;
  double *x = malloc((size_t)inner * sizeof *x), *c = malloc((size_t)k * sizeof *c);
  int parts = 0;
  for (int64_t s = 0; s < nslice; s++) {
    for (int64_t i = 0; i < inner; i++) x[i] = tensor_get_f64(t, s * inner + i);
    int m = q_kmeans_1d(x, inner, k, c);
    if (m > parts) parts = m;
    for (int64_t i = 0; i < inner; i++) g[s * inner + i] = q_kmeans_1d_group(c, m, x[i]);
  }
  free(x), free(c);
  return parts;
}

/* Part `part` of t: the elements of that group, zeros elsewhere. */
static Tensor *part_tensor(const Tensor *t, const int *g, int part) {
  Tensor *p = tensor_new(t->elem, t->rank, t->dims);
  for (int64_t e = 0; e < t->numel; e++)
    if (g[e] == part) tensor_set_bits(p, e, tensor_get_bits(t, e));
  return p;
}

/* Renumbers the groups of g[0..numel) so that only those holding a
 * non-zero weight remain (a Conv filter with few groups, or a weight that
 * is already a part of an earlier split, has groups of zeros only: a part
 * of zeros would add work and nothing else); zeros get group -1 (no part).
 * Returns the number of groups left. */
static int drop_zero_parts(const Tensor *t, int parts, int *g) {
  int map[64], n = 0;
  for (int i = 0; i < parts; i++) map[i] = -1;
  for (int64_t e = 0; e < t->numel; e++)
    if (tensor_get_f64(t, e) != 0) map[g[e]] = 0;
  for (int i = 0; i < parts; i++)
    if (map[i] == 0) map[i] = n++;
  for (int64_t e = 0; e < t->numel; e++) g[e] = tensor_get_f64(t, e) != 0 ? map[g[e]] : -1;
  return n;
}

static char *suffixed(const char *base, const char *suffix, int i) {
  size_t len = strlen(base) + strlen(suffix) + 16;
  char *s = malloc(len);
  snprintf(s, len, "%s%s%d", base, suffix, i);
  return s;
}

static const char *const_base(const IrValue *v) {
  const IrConst *c = canon_const(v);
  return c->name ? c->name : v->name ? v->name : "split";
}

/* Drops the Constant op of v once unused (and its pool tensor at the end). */
static void drop_const(Run *r, IrValue *v) {
  const IrConst *c = canon_const(v);
  IrOp *def = v->def;
  canon_erase_dead(&def, 1);
  if (c->name && def->parent == NULL) {
    r->dropped = realloc(r->dropped, (size_t)(r->ndropped + 1) * sizeof *r->dropped);
    r->dropped[r->ndropped++] = c;
  }
}

static void split_layer(Run *r, const Layer *l) {
  IrOp *op = l->op;
  Tensor *w = tensor_from_const(canon_const(l->w));
  int *gw = malloc((size_t)w->numel * sizeof *gw);
  int parts = drop_zero_parts(w, cluster(w, l->per_filter, r->k, gw), gw);
  if (parts < 2) {
    quench_pass_stat_add(r->ctx, "skipped-one-cluster", 1);
    free(gw), tensor_free(w);
    return;
  }
  /* The bias gets its own k-means with at most `parts` groups; parts past
   * its groups carry no bias. An all-zero bias is one group: part 0 keeps
   * it, and the weights still split. */
  Tensor *b = l->b ? tensor_from_const(canon_const(l->b)) : NULL;
  int *gb = b ? malloc((size_t)b->numel * sizeof *gb) : NULL;
  int bparts = b ? cluster(b, false, parts, gb) : 0;
  IrValue *res = op->results[0];
  /* New values are named after the layer's output (else its node name);
   * an unnamed output leaves them unnamed (the printer numbers them). */
  const char *rname = res->name ? res->name : op->src_name;
  char *base = rname ? strcpy(malloc(strlen(rname) + 1), rname) : NULL;
  IrValue *sum = NULL;
  for (int i = 0; i < parts; i++) {
    IrValue *ins[3] = {ir_op_operand(op, 0), NULL, NULL};
    Tensor *wp = part_tensor(w, gw, i);
    char *name = suffixed(const_base(l->w), ".split", i);
    ins[1] = canon_new_const(r->m, op, name, wp);
    free(name), tensor_free(wp);
    uint32_t nin = 2;
    if (i < bparts) {
      Tensor *bp = part_tensor(b, gb, i);
      name = suffixed(const_base(l->b), ".split", i);
      ins[2] = canon_new_const(r->m, op, name, bp);
      free(name), tensor_free(bp);
      nin = 3;
    }
    const IrType *ty = res->type;
    IrOp *p = ir_op_create(r->m, op->kind, ins, nin, &ty, 1, 0);
    for (uint32_t a = 0; a < op->nattrs; a++) ir_op_set_attr(r->m, p, &op->attrs[a]);
    ir_op_insert_before(op, p);
    if (base) {
      name = suffixed(base, ".split", i);
      ir_value_set_name(r->m, p->results[0], name);
      free(name);
    }
    p->src = op->src;
    if (op->src_name) {
      name = suffixed(op->src_name, ".split", i);
      p->src_name = arena_strdup(&r->m->arena, name);
      free(name);
    }
    if (sum) {
      IrValue *ab[2] = {sum, p->results[0]};
      name = base ? suffixed(base, ".sum", i) : NULL;
      IrOp *add = canon_create(r->m, op, IR_OP_ADD, ab, 2, ty, name);
      free(name);
      add->src = op->src;
      if (op->src_name) {
        name = suffixed(op->src_name, ".sum", i);
        add->src_name = arena_strdup(&r->m->arena, name);
        free(name);
      }
      sum = add->results[0];
    } else {
      sum = p->results[0];
    }
  }
  ir_value_replace_all_uses(res, sum);
  IrValue *wv = l->w, *bv = l->b;
  ir_op_erase(op);
  /* The layer's output keeps its name (report pairs values by name). */
  if (res->name)
    ir_value_set_name(r->m, sum, res->name);
  else
    sum->name = NULL;
  drop_const(r, wv);
  if (bv) drop_const(r, bv);
  quench_pass_stat_add(r->ctx, "layers-split", 1);
  quench_pass_stat_add(r->ctx, "parts", parts);
  free(base), free(gw), free(gb);
  tensor_free(w), tensor_free(b);
}

/* ---- selection -------------------------------------------------------- */

static bool named(const Run *r, const char *name) {
  for (int i = 0; name && i < r->nnodes; i++)
    if (strcmp(r->nodes[i], name) == 0) return true;
  return false;
}

typedef struct Find {
  const char *name;
  bool found;
} Find;

static bool find_node(IrOp *op, void *arg) {
  Find *f = arg;
  if (op->src_name && strcmp(op->src_name, f->name) == 0) f->found = true;
  return !f->found;
}

/* Every name of `nodes` is some op's ONNX node name. */
static bool check_nodes(Run *r) {
  for (int i = 0; i < r->nnodes; i++) {
    Find f = {r->nodes[i], false};
    ir_module_walk(r->m, find_node, &f);
    if (!f.found) {
      quench_pass_error(r->ctx, NULL, "split: unknown node name '%s' in nodes=", r->nodes[i]);
      return false;
    }
  }
  return true;
}

static void collect(Run *r, IrFunc *f) {
  for (IrOp *op = f->body->first; op; op = op->next) {
    if (!is_layer_kind(op->kind)) {
      if (r->select == SEL_NAMES && named(r, op->src_name))
        quench_pass_warning(r->ctx, op, "split: node '%s' is not a MatMul, Gemm or Conv; not split", op->src_name);
      continue;
    }
    bool want = r->select != SEL_NAMES || named(r, op->src_name);
    Layer l;
    if (!want || !match_layer(r, op, &l)) {
      if (want && r->select == SEL_NAMES)
        quench_pass_warning(r->ctx, op, "split: node '%s' cannot be split (see --pass-stats)", op->src_name);
      continue;
    }
    if (r->select == SEL_SENSITIVE) l.sens = sensitivity(&l);
    l.pos = r->nlayers;
    r->layers = realloc(r->layers, (size_t)(r->nlayers + 1) * sizeof *r->layers);
    r->layers[r->nlayers++] = l;
  }
}

/* ---- options and entry ------------------------------------------------- */

static bool setup(Run *r) {
  int64_t k = quench_pass_option_int(r->ctx, "k");
  if (k < 2 || k > 64) {
    quench_pass_error(r->ctx, NULL, "split: bad k %lld: expected a number of clusters in [2, 64]", (long long)k);
    return false;
  }
  r->k = (int)k;
  r->min_size = quench_pass_option_int(r->ctx, "min-size");
  r->top = quench_pass_option_int(r->ctx, "top");
  const char *sel = quench_pass_option_string(r->ctx, "select");
  if (strcmp(sel, "all") == 0) {
    r->select = SEL_ALL;
  } else if (strcmp(sel, "names") == 0) {
    r->select = SEL_NAMES;
  } else if (strcmp(sel, "sensitive") == 0) {
    r->select = SEL_SENSITIVE;
  } else {
    quench_pass_error(r->ctx, NULL, "split: bad select '%s': expected all, names or sensitive", sel);
    return false;
  }
  const char *nodes = quench_pass_option_string(r->ctx, "nodes");
  if ((r->select == SEL_NAMES) != (*nodes != 0)) {
    quench_pass_error(r->ctx, NULL, "split: select=names and nodes=LIST go together");
    return false;
  }
  r->nodes_buf = strcpy(malloc(strlen(nodes) + 1), nodes);
  for (char *p = r->nodes_buf; *p;) {
    char *end = strchr(p, ',');
    if (end) *end = 0;
    if (!*p || r->nnodes == MAX_NODES) {
      quench_pass_error(r->ctx, NULL, "split: bad nodes '%s': expected up to %d comma-separated node names", nodes,
                        MAX_NODES);
      return false;
    }
    r->nodes[r->nnodes++] = p;
    p = end ? end + 1 : p + strlen(p);
  }
  return check_nodes(r);
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.ctx = ctx, .m = m};
  bool ok = setup(&r);
  for (uint32_t i = 0; ok && i < m->nfuncs; i++) collect(&r, m->funcs[i]);
  int n = r.nlayers;
  if (ok && r.select == SEL_SENSITIVE) {
    qsort(r.layers, (size_t)n, sizeof *r.layers, by_sensitivity);
    if (r.top < n) {
      quench_pass_stat_add(ctx, "not-selected", n - r.top);
      n = (int)r.top;
    }
  }
  for (int i = 0; ok && i < n; i++) split_layer(&r, &r.layers[i]);
  for (int i = 0; i < r.ndropped; i++)
    if (outlier_const_refs(m, r.dropped[i]) == 0) ir_module_remove_const(m, r.dropped[i]);
  free(r.dropped), free(r.layers), free(r.nodes_buf);
  return ok;
}

static const PassOption options[] = {
    {"k", Q_OPT_INT, "3", "clusters per weight (and bias): parts per split layer, at least 2", 0, 0},
    {"select", Q_OPT_STRING, "all", "which layers: all, names (those in nodes=) or sensitive (the top= worst)", 0, 0},
    {"nodes", Q_OPT_STRING, "", "comma-separated ONNX node names to split (with select=names)", 0, 0},
    {"top", Q_OPT_INT, "4", "select=sensitive: how many layers, largest 8-bit weight error first", 1, 1000000000},
    {"min-size", Q_OPT_INT, "0", "skip layers with fewer weights than this", 0, 4000000000000000000},
    {0},
};

static const PassStat stats[] = {
    {"layers-split", "MatMul/Gemm/Conv ops replaced by parts summed by Adds"},
    {"parts", "part ops created"},
    {"declined-not-constant", "layers whose weight or bias is not a float constant"},
    {"declined-shared-weight", "layers whose weight or bias is also read elsewhere"},
    {"skipped-small", "layers with fewer weights than min-size (or k)"},
    {"skipped-one-cluster", "layers whose non-zero weights form a single group"},
    {"not-selected", "select=sensitive: eligible layers outside the top"},
    {0},
};

const Pass pass_split = {
    .name = "split",
    .summary = "Split MatMul/Gemm/Conv weights by k-means into parts summed by Adds (SplitQuant)",
    .options = options,
    .stats = stats,
    .run = run,
};
