/* rotate: rotates the residual stream of a pre-norm transformer by an
 * orthogonal Q so that activation outliers spread over every channel
 * (QuaRot, Ashkboos et al. 2024, spcl/QuaRot rotation_utils.py; SpinQuant,
 * Liu et al. 2024; ../shared/ALGORITHMS.md section 4, steps 1 and 2).
 *
 * The residual stream is the set of values connected by Add ops that
 * RMSNormalization ops read: sources are Gather(E, ids) of a constant
 * table E, writers are MatMul(u, W) with constant W whose result is added
 * into the stream. Step 1 folds each norm's gamma into its readers
 * (B <- diag(gamma) B, gamma <- 1); step 2 rotates:
 *   E <- E Q, writers W <- W Q, readers B <- Q^T B,
 * exact because RMSNorm(x Q) = RMSNorm(x) Q once gamma is 1 (Q orthogonal
 * keeps the root mean square). Q is H_d / sqrt(d) with rows multiplied by
 * seeded random signs (kind=hadamard, d a power of two) or a seeded random
 * orthogonal matrix (kind=random, any d). The whole structure is verified
 * before anything is rewritten; otherwise the function is left unchanged
 * with a warning naming what blocked it (a residual value read by an op
 * other than Add/RMSNormalization, a norm output read by anything but a
 * MatMul with constant weights, a weight used elsewhere, ...).
 * online=true (QuaRot's step 3): each writer's input x gets an online
 * quench.Hadamard (x H/sqrt(n)) and its weight H^T W / sqrt(n), for input
 * widths n that are powers of two; others are left without, with a
 * warning (stories260k's down projection: 172 = 43 * 4 has no Sylvester
 * matrix; QuaRot's stored H_172 is not here). Calibrate again afterwards.
 * Tests: test/lit/quant/rotate*.qir, test/unit/test_hadamard.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "quant/hadamard.h"

#define ROT_MAX 1024

typedef struct Rot {
  PassContext *ctx;
  IrModule *m;
  int64_t d;
  bool failed;            /* the structure is not one the pass can rotate */
  IrValue *stream[ROT_MAX];
  int nstream;
  IrOp *norms[ROT_MAX];   /* RMSNormalization ops on the stream */
  int nnorms;
  IrOp *readers[ROT_MAX]; /* MatMul(norm output, B) */
  int nreaders;
  IrOp *writers[ROT_MAX]; /* MatMul(u, W) added into the stream */
  int nwriters;
  IrOp *gathers[ROT_MAX]; /* Gather(E, ids) starting the stream */
  int ngathers;
  const IrConst **dropped;
  int ndropped;
} Rot;

static const char *vname(const IrValue *v) { return v->name ? v->name : "?"; }

/* Records the first reason the structure is declined, as a warning. */
static bool decline(Rot *r, const IrOp *at, const char *stat, const char *fmt, const char *a, const char *b) {
  if (!r->failed) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    quench_pass_warning(r->ctx, at, "rotate: %s; the residual stream is not rotated", msg);
    quench_pass_stat_add(r->ctx, stat, 1);
  }
  r->failed = true;
  return false;
}

static bool push(IrOp **list, int *n, IrOp *op) {
  for (int i = 0; i < *n; i++)
    if (list[i] == op) return true;
  if (*n == ROT_MAX) return false;
  list[(*n)++] = op;
  return true;
}

/* A MatMul(u, W) with W a constant [K, d] whose result (one use) is added
 * into the stream. */
static bool is_writer(const Rot *r, const IrValue *v) {
  if (v->kind != IR_VALUE_RESULT || v->def->kind != IR_OP_MATMUL || !canon_one_use(v)) return false;
  const IrValue *w = ir_op_operand(v->def, 1);
  return outlier_float_const(w) && w->type->rank == 2 && w->type->dims[1].size == r->d;
}

static bool add_stream(Rot *r, IrValue *v, const IrOp *at) {
  for (int i = 0; i < r->nstream; i++)
    if (r->stream[i] == v) return true;
  const IrType *t = v->type;
  if (t->quant || !ir_elem_is_float(t->elem) || t->rank < 1 || t->dims[t->rank - 1].size != r->d)
    return decline(r, at, "declined-structure",
                   "residual value '%s' is not a float tensor whose last dim is the width%s",
                   vname(v), "");
  if (r->nstream == ROT_MAX) return decline(r, at, "declined-structure", "more than 1024 residual values%s%s", "", "");
  r->stream[r->nstream++] = v;
  return true;
}

/* Where stream value v comes from: a Gather of a constant table or an Add
 * of stream values and writers. */
static bool visit_producer(Rot *r, IrValue *v) {
  if (v->kind != IR_VALUE_RESULT)
    return decline(r, NULL, "declined-structure", "residual value '%s' is a function argument%s", vname(v), "");
  IrOp *p = v->def;
  if (p->kind == IR_OP_GATHER) {
    const IrValue *e = ir_op_operand(p, 0);
    int64_t axis = ir_op_attr_int(p, "axis", 0);
    if (axis != 0 || !outlier_exclusive(r->m, e, p) || e->type->rank != 2 || e->type->dims[1].size != r->d)
      return decline(r, p, "declined-structure",
                     "residual value '%s' is gathered from '%s', not a [rows, width] constant used only there",
                     vname(v), vname(e));
    if (!push(r->gathers, &r->ngathers, p)) return decline(r, p, "declined-structure", "too many gathers%s%s", "", "");
    return true;
  }
  if (p->kind == IR_OP_ADD) {
    for (uint32_t i = 0; i < 2; i++) {
      IrValue *o = ir_op_operand(p, i);
      if (is_writer(r, o)) {
        if (!outlier_exclusive(r->m, ir_op_operand(o->def, 1), o->def))
          return decline(r, o->def, "declined-shared-weight", "the weight of writer '%s' is also used elsewhere%s",
                         vname(o), "");
        if (!push(r->writers, &r->nwriters, o->def))
          return decline(r, p, "declined-structure", "too many writers%s%s", "", "");
      } else if (!add_stream(r, o, p)) {
        return false;
      }
    }
    return true;
  }
  return decline(r, p, "declined-structure", "residual value '%s' is produced by %s, not Add or Gather", vname(v),
                 ops_name(p->kind));
}

/* Who reads stream value v: RMSNormalization (last axis) or Add. */
static bool visit_users(Rot *r, IrValue *v) {
  for (const IrUse *u = v->uses; u; u = u->next) {
    IrOp *op = u->user;
    if (op->kind == IR_OP_RMS_NORM && u->index == 0) {
      int64_t axis = ir_op_attr_int(op, "axis", -1);
      if (axis != -1 && axis != v->type->rank - 1)
        return decline(r, op, "declined-structure", "RMSNormalization '%s' does not normalize the last axis%s",
                       vname(op->results[0]), "");
      if (!push(r->norms, &r->nnorms, op)) return decline(r, op, "declined-structure", "too many norms%s%s", "", "");
    } else if (op->kind == IR_OP_ADD) {
      if (!add_stream(r, op->results[0], op)) return false;
    } else {
      return decline(r, op, "declined-reader", "residual value '%s' is read by %s, not RMSNormalization or Add",
                     vname(v), op->kind == IR_OP_RETURN ? "return" : ops_name(op->kind));
    }
  }
  return true;
}

/* Each norm: a constant gamma of d elements used only there, and every
 * user of its output a MatMul with a constant [d, N] weight of its own. */
static bool visit_norm(Rot *r, IrOp *n) {
  IrValue *g = ir_op_operand(n, 1), *y = n->results[0];
  if (!outlier_exclusive(r->m, g, n) || ir_type_numel(g->type) != r->d)
    return decline(r, n, "declined-structure",
                   "the scale '%s' of RMSNormalization '%s' is not a constant of width elements used only there",
                   vname(g), vname(y));
  if (!y->uses) return decline(r, n, "declined-structure", "RMSNormalization '%s' has no users%s", vname(y), "");
  for (const IrUse *u = y->uses; u; u = u->next) {
    IrOp *op = u->user;
    const IrValue *b = op->kind == IR_OP_MATMUL ? ir_op_operand(op, 1) : NULL;
    if (!b || u->index != 0 || !outlier_float_const(b) || b->type->rank != 2 || b->type->dims[0].size != r->d)
      return decline(r, op, "declined-reader",
                     "RMSNormalization output '%s' is read by %s, not a MatMul with constant weights",
                     vname(y), op->kind == IR_OP_RETURN ? "return" : ops_name(op->kind));
    if (!outlier_exclusive(r->m, b, op))
      return decline(r, op, "declined-shared-weight", "the weight '%s' of reader '%s' is also used elsewhere", vname(b),
                     vname(op->results[0]));
    if (!push(r->readers, &r->nreaders, op))
      return decline(r, op, "declined-structure", "too many readers%s%s", "", "");
  }
  return true;
}

/* ---- rewriting ------------------------------------------------------------ */

/* Replaces constant operand idx of op by `vals` (same shape), named
 * BASE.rot. */
static void replace_const(Rot *r, IrOp *op, uint32_t idx, const double *vals) {
  IrValue *old = ir_op_operand(op, idx);
  const IrConst *c = canon_const(old);
  Tensor *w = tensor_from_const(c);
  for (int64_t e = 0; e < w->numel; e++) tensor_set_f64(w, e, vals[e]);
  const char *base = c->name ? c->name : old->name ? old->name : "rot";
  size_t len = strlen(base) + 5;
  char *name = malloc(len);
  snprintf(name, len, "%s.rot", base);
  IrValue *nv = canon_new_const(r->m, op, name, w);
  free(name);
  tensor_free(w);
  ir_op_set_operand(op, idx, nv);
  IrOp *dead = old->def;
  canon_erase_dead(&dead, 1);
  if (c->name && dead->parent == NULL) {
    r->dropped = realloc(r->dropped, (size_t)(r->ndropped + 1) * sizeof *r->dropped);
    r->dropped[r->ndropped++] = c;
  }
}

static double *const_values(const IrValue *v, int64_t *numel) {
  Tensor *t = tensor_from_const(canon_const(v));
  double *x = malloc((size_t)t->numel * sizeof *x);
  for (int64_t e = 0; e < t->numel; e++) x[e] = tensor_get_f64(t, e);
  *numel = t->numel;
  tensor_free(t);
  return x;
}

/* Operand idx of op, a [rows, d] matrix, becomes W Q. */
static void rotate_right(Rot *r, IrOp *op, uint32_t idx, const double *q) {
  int64_t numel, d = r->d;
  double *w = const_values(ir_op_operand(op, idx), &numel);
  double *y = calloc((size_t)numel, sizeof *y);
  for (int64_t i = 0; i < numel / d; i++)
    for (int64_t k = 0; k < d; k++) {
      double a = w[i * d + k];
      for (int64_t j = 0; j < d; j++) y[i * d + j] += a * q[k * d + j];
    }
  replace_const(r, op, idx, y);
  free(w), free(y);
}

/* Reader op's weight B [d, N] becomes Q^T diag(g) B. */
static void rotate_reader(Rot *r, IrOp *op, const double *g, const double *q) {
  int64_t numel, d = r->d;
  double *b = const_values(ir_op_operand(op, 1), &numel);
  int64_t n = numel / d;
  double *y = calloc((size_t)numel, sizeof *y);
  for (int64_t k = 0; k < d; k++)
    for (int64_t i = 0; i < d; i++) {
      double a = q[k * d + i] * g[k];
      for (int64_t c = 0; c < n; c++) y[i * n + c] += a * b[k * n + c];
    }
  replace_const(r, op, 1, y);
  free(b), free(y);
}

/* Step 3 (online): writer op's input x of width n gets quench.Hadamard
 * (x Q_n, Q_n = H_n / sqrt(n), symmetric) and its weight W [n, d] becomes
 * Q_n^T W, so x W = (x Q_n)(Q_n^T W). Only for n a power of two. */
static void online_writer(Rot *r, IrOp *w) {
  IrValue *x = ir_op_operand(w, 0);
  const IrType *t = x->type;
  int64_t n = t->rank >= 1 ? t->dims[t->rank - 1].size : -1;
  if (!q_hadamard_supported(n)) {
    quench_pass_warning(r->ctx, w,
                        "rotate: no online Hadamard before '%s': its input width %lld is not a power of two",
                        vname(w->results[0]), (long long)n);
    quench_pass_stat_add(r->ctx, "online-declined-size", 1);
    return;
  }
  int64_t numel;
  double *b = const_values(ir_op_operand(w, 1), &numel);
  double *h = malloc((size_t)(n * n) * sizeof *h), *y = calloc((size_t)numel, sizeof *y);
  q_hadamard(n, h);
  int64_t cols = numel / n;
  double sc = 1.0 / sqrt((double)n);
  for (int64_t k = 0; k < n; k++)
    for (int64_t i = 0; i < n; i++) {
      double a = h[k * n + i] * sc;
      for (int64_t c = 0; c < cols; c++) y[i * cols + c] += a * b[k * cols + c];
    }
  replace_const(r, w, 1, y);
  free(b), free(h), free(y);
  size_t len = strlen(vname(x)) + 5;
  char *name = malloc(len);
  snprintf(name, len, "%s.had", vname(x));
  IrOp *had = canon_create(r->m, w, IR_OP_Q_HADAMARD, &x, 1, t, name);
  free(name);
  IrAttr size = {.name = "size", .kind = IR_ATTR_INT, .u.i = n};
  IrAttr scale = {.name = "scale", .kind = IR_ATTR_FLOAT, .u.f = (float)sc};
  ir_op_set_attr(r->m, had, &size);
  ir_op_set_attr(r->m, had, &scale);
  ir_op_set_operand(w, 0, had->results[0]);
  quench_pass_stat_add(r->ctx, "online-hadamards", 1);
}

static void rewrite(Rot *r, const double *q, bool online) {
  double *ones = malloc((size_t)r->d * sizeof *ones);
  for (int64_t i = 0; i < r->d; i++) ones[i] = 1.0;
  for (int i = 0; i < r->nnorms; i++) {
    IrOp *n = r->norms[i];
    int64_t numel;
    double *g = const_values(ir_op_operand(n, 1), &numel);
    for (const IrUse *u = n->results[0]->uses; u; u = u->next) rotate_reader(r, u->user, g, q);
    replace_const(r, n, 1, ones);
    free(g);
  }
  for (int i = 0; i < r->nwriters; i++) rotate_right(r, r->writers[i], 1, q);
  if (online)
    for (int i = 0; i < r->nwriters; i++) online_writer(r, r->writers[i]);
  for (int i = 0; i < r->ngathers; i++) rotate_right(r, r->gathers[i], 0, q);
  free(ones);
  quench_pass_stat_add(r->ctx, "norms-folded", r->nnorms);
  quench_pass_stat_add(r->ctx, "readers-rotated", r->nreaders);
  quench_pass_stat_add(r->ctx, "writers-rotated", r->nwriters);
  quench_pass_stat_add(r->ctx, "embeddings-rotated", r->ngathers);
}

/* ---- entry -------------------------------------------------------------------- */

typedef struct Opts {
  bool random;
  bool signs;
  bool online;
  uint64_t seed;
} Opts;

/* Q, d x d row-major, or NULL (warned) when kind=hadamard cannot make one. */
static double *make_q(Rot *r, const Opts *o) {
  int64_t d = r->d;
  double *q = malloc((size_t)(d * d) * sizeof *q);
  if (o->random) {
    q_random_orthogonal(d, o->seed, q);
    return q;
  }
  if (!q_hadamard(d, q)) {
    char w[32];
    snprintf(w, sizeof w, "%lld", (long long)d);
    decline(r, NULL, "declined-size",
            "residual width %s is not a power of two (no stored Hadamard matrix for it)%s; "
            "kind=random rotates any width",
            w, "");
    free(q);
    return NULL;
  }
  double *s = malloc((size_t)d * sizeof *s), scale = 1.0 / sqrt((double)d);
  if (o->signs) q_random_signs(d, o->seed, s);
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < d; j++) q[i * d + j] *= (o->signs ? s[i] : 1.0) * scale;
  free(s);
  return q;
}

static void run_func(Rot *r, IrFunc *f, const Opts *o) {
  for (IrOp *op = f->body->first; op; op = op->next) {
    if (op->kind != IR_OP_RMS_NORM) continue;
    const IrType *t = ir_op_operand(op, 0)->type;
    if (t->rank < 1 || t->dims[t->rank - 1].size < 1) continue;
    if (r->d == 0) r->d = t->dims[t->rank - 1].size;
    if (!add_stream(r, ir_op_operand(op, 0), op)) return;
  }
  if (r->nstream == 0) return;
  /* The stream grows while it is walked: users add Add results, producers
   * add Add operands. */
  for (int i = 0; i < r->nstream; i++)
    if (!visit_producer(r, r->stream[i]) || !visit_users(r, r->stream[i])) return;
  for (int i = 0; i < r->nnorms; i++)
    if (!visit_norm(r, r->norms[i])) return;
  double *q = make_q(r, o);
  if (!q) return;
  rewrite(r, q, o->online);
  free(q);
  quench_pass_stat_add(r->ctx, "streams-rotated", 1);
}

static bool run(PassContext *ctx, IrModule *m) {
  const char *kind = quench_pass_option_string(ctx, "kind");
  Opts o = {.signs = quench_pass_option_bool(ctx, "random-signs"),
            .online = quench_pass_option_bool(ctx, "online"),
            .seed = (uint64_t)quench_pass_option_int(ctx, "seed")};
  if (!strcmp(kind, "random")) {
    o.random = true;
  } else if (strcmp(kind, "hadamard") != 0) {
    quench_pass_error(ctx, NULL, "unknown rotation kind '%s': expected hadamard or random", kind);
    return false;
  }
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    Rot *r = calloc(1, sizeof *r);
    r->ctx = ctx, r->m = m;
    run_func(r, m->funcs[i], &o);
    for (int k = 0; k < r->ndropped; k++)
      if (outlier_const_refs(m, r->dropped[k]) == 0) ir_module_remove_const(m, r->dropped[k]);
    free(r->dropped);
    free(r);
  }
  return true;
}

static const PassOption options[] = {
    {"kind", Q_OPT_STRING, "hadamard",
     "hadamard (H/sqrt(d), width a power of two) or random (seeded random orthogonal, any width)", 0, 0},
    {"seed", Q_OPT_INT, "0", "seed of the random signs and of kind=random", 0, 0},
    {"random-signs", Q_OPT_BOOL, "true", "kind=hadamard: multiply the rows of H by seeded random signs", 0, 0},
    {"online", Q_OPT_BOOL, "false",
     "also insert quench.Hadamard before each writer's input (power-of-two widths) and fold H into its weight", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"streams-rotated", "residual streams rotated (one per function at most)"},
    {"norms-folded", "RMSNormalization scales folded into their readers"},
    {"readers-rotated", "MatMul weights read from a norm: B <- Q^T diag(gamma) B"},
    {"writers-rotated", "MatMul weights added into the stream: W <- W Q"},
    {"embeddings-rotated", "Gather tables starting the stream: E <- E Q"},
    {"declined-structure", "streams left alone: a value or op the rotation cannot pass"},
    {"declined-reader", "streams left alone: a residual or norm output read by an op that cannot absorb Q"},
    {"declined-shared-weight", "streams left alone: a weight also used elsewhere"},
    {"declined-size", "streams left alone: kind=hadamard and a width that is not a power of two"},
    {"online-hadamards", "online=true: quench.Hadamard ops inserted before writers"},
    {"online-declined-size", "online=true: writers whose input width is not a power of two (left without)"},
    {0},
};

const Pass pass_rotate = {
    .name = "rotate",
    .summary = "Rotate the residual stream by an orthogonal (Hadamard) matrix folded into the weights (QuaRot)",
    .options = options,
    .stats = stats,
    .run = run,
};
