/* noisyquant: a fixed noisy bias before activation quantization (Liu et
 * al., "NoisyQuant: Noisy Bias-Enhanced Post-Training Activation
 * Quantization for Vision Transformers", CVPR 2023;
 * kriskrisliu/NoisyQuant fast_quant.py; ../shared/ALGORITHMS.md section 6).
 *
 * What it does: for every float value X read as input A by MatMul(X, B) or
 * Gemm(X, B, C) (transA=0) with a constant float weight B [K x N], except
 * the head (a linear op from which some path reaches a function result
 * through non-linear ops only; include-head=true takes it too), a fixed
 * per-input-channel noise N in R^K is drawn:
 *   N_j = (2u_j - 1) * amplitude * Delta,  u_j uniform in [0, 1)
 * from a seeded xorshift64* stream in program order, Delta the 8-bit (bits)
 * asymmetric step of X's calibrated range: (max(hi,0) - min(lo,0)) / (2^bits-1).
 * X.noisy = Add(X, X.noise) is inserted once after X's definition and read by
 * every such consumer; the denoising bias N·B is folded into each:
 *   Gemm: C' = C - (alpha/beta) N·B (a new C when there was none);
 *   MatMul followed by a single-use Add of a per-column constant c: c - N·B;
 *   other MatMul: a new Add(MatMul, -N·B) whose result takes the name of
 *   the MatMul's (the MatMul's becomes NAME.nq).
 * Exact without quantization: (X + N)B + b - N·B = XB + b.
 * Other users of X (non-linear ops, the head) keep reading X. The
 * statistics are stale afterwards: calibrate again before quantize.
 * No amplitude search: the reference searches by layer-output MSE on raw
 * calibration samples, which the .qstats summary cannot stand in for
 * (docs/passes/noisyquant.md).
 * Tests: test/lit/quant/noisyquant*.qir. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "quant/calib.h"

/* ---- a set of ops (open addressing on the pointer) ---------------------- */

typedef struct OpSet {
  IrOp **slot;
  size_t cap; /* a power of two */
  size_t n;
} OpSet;

static size_t op_hash(const IrOp *op, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)op * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 17) & (cap - 1);
}

static bool opset_has(const OpSet *s, const IrOp *op) {
  if (!s->cap) return false;
  for (size_t i = op_hash(op, s->cap);; i = (i + 1) & (s->cap - 1)) {
    if (!s->slot[i]) return false;
    if (s->slot[i] == op) return true;
  }
}

static void opset_add(OpSet *s, IrOp *op) {
  if (opset_has(s, op)) return;
  if (2 * (s->n + 1) > s->cap) {
    OpSet g = {calloc(s->cap ? 2 * s->cap : 64, sizeof(IrOp *)), s->cap ? 2 * s->cap : 64, 0};
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) opset_add(&g, s->slot[i]);
    free(s->slot);
    *s = g;
  }
  size_t i = op_hash(op, s->cap);
  while (s->slot[i]) i = (i + 1) & (s->cap - 1);
  s->slot[i] = op;
  s->n++;
}

/* ---- state ----------------------------------------------------------------- */

typedef struct Run {
  PassContext *ctx;
  IrModule *m;
  const char *path;
  QStats stats;
  double amp;
  int bits;
  bool include_head;
  uint64_t rng;
  OpSet heads; /* linear ops that are heads */
  OpSet made;  /* the X.noisy Adds this run inserted */
  const IrConst **dropped; /* pool constants replaced, removed when unreferenced */
  int ndropped;
} Run;

/* xorshift64* (Vigna 2016): the top 53 bits of the product as a uniform
 * in [0, 1), mapped to [-1, 1). The state is never 0 (seed >= 1). */
static double next_uniform(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  uint64_t r = x * 0x2545F4914F6CDD1Dull;
  return 2.0 * ((double)(r >> 11) * 0x1.0p-53) - 1.0;
}

static bool float_const(const IrValue *v) {
  const IrConst *c = v ? canon_const(v) : NULL;
  return c && !c->type->quant && ir_elem_is_float(c->type->elem);
}

static bool is_linear(const IrOp *op) {
  return op->kind == IR_OP_MATMUL || op->kind == IR_OP_GEMM || op->kind == IR_OP_CONV ||
         op->kind == IR_OP_CONV_TRANSPOSE;
}

/* Erases the Constant op of a replaced bias once unused and remembers its
 * pool constant, removed at the end when no Constant op refers to it. */
static void drop_const(Run *r, IrValue *old) {
  const IrConst *c = canon_const(old);
  IrOp *dead = old->def;
  canon_erase_dead(&dead, 1);
  if (c && c->name && dead->parent == NULL) {
    r->dropped = realloc(r->dropped, (size_t)(r->ndropped + 1) * sizeof *r->dropped);
    r->dropped[r->ndropped++] = c;
  }
}

typedef struct RefCount {
  const IrConst *c;
  int n;
} RefCount;

static bool count_ref(IrOp *op, void *arg) {
  RefCount *rc = arg;
  const IrAttr *a = op->kind == IR_OP_CONSTANT ? ir_op_attr(op, "value") : NULL;
  if (a && a->kind == IR_ATTR_TENSOR && a->u.tensor == rc->c) rc->n++;
  return true;
}

static void remove_dropped(Run *r) {
  for (int i = 0; i < r->ndropped; i++) {
    RefCount rc = {r->dropped[i], 0};
    ir_module_walk(r->m, count_ref, &rc);
    if (rc.n == 0) ir_module_remove_const(r->m, r->dropped[i]);
  }
  free(r->dropped);
}

/* ---- heads ------------------------------------------------------------------ */

/* Walks the body backwards: an op is on the tail when a result of it is
 * returned, read inside a region, or read by a non-linear tail op; a
 * linear op on the tail is a head (nothing linear follows it). */
static void find_heads(Run *r, IrFunc *f) {
  OpSet tail = {0};
  for (IrOp *op = f->body->last; op; op = op->prev) {
    if (op->kind == IR_OP_RETURN) continue;
    bool on_tail = false;
    for (uint32_t i = 0; i < op->nresults && !on_tail; i++)
      for (const IrUse *u = op->results[i]->uses; u && !on_tail; u = u->next)
        on_tail = u->user->kind == IR_OP_RETURN || u->user->parent != f->body || opset_has(&tail, u->user);
    if (!on_tail) continue;
    if (is_linear(op))
      opset_add(&r->heads, op);
    else
      opset_add(&tail, op);
  }
  free(tail.slot);
}

/* ---- matching -------------------------------------------------------------- */

typedef enum { C_OK, C_HEAD, C_WEIGHT, C_SHAPE } ConsumerKind;

/* Whether use u of X (K channels) is a linear op that can fold N·B. */
static ConsumerKind consumer_kind(const Run *r, const IrUse *u, int64_t k) {
  const IrOp *op = u->user;
  const IrValue *x = u->value;
  if (u->index != 0 || (op->kind != IR_OP_MATMUL && op->kind != IR_OP_GEMM)) return C_SHAPE;
  const IrValue *b = ir_op_operand(op, 1);
  if (!float_const(b) || b->type->rank != 2 || b->type->elem != x->type->elem) return C_WEIGHT;
  bool bt = op->kind == IR_OP_GEMM && ir_op_attr_int(op, "transB", 0) != 0;
  if (b->type->dims[bt ? 1 : 0].size != k) return C_SHAPE;
  if (op->kind == IR_OP_GEMM) {
    if (ir_op_attr_int(op, "transA", 0) != 0 || x->type->rank != 2) return C_SHAPE;
    if (ir_op_attr_float(op, "beta", 1.0f) == 0.0f) return C_SHAPE;
    IrValue *c = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
    if (c && (!float_const(c) || c->type->rank > 2 || c->type->elem != x->type->elem)) return C_WEIGHT;
  }
  if (!r->include_head && opset_has(&r->heads, op)) return C_HEAD;
  return C_OK;
}

/* ---- folding ----------------------------------------------------------------- */

/* nb[c] = sum_j N_j B[j, c] for the consumer's weight (transposed for Gemm
 * transB=1); returns N (the column count). */
static int64_t noise_times_weight(const IrOp *op, const double *noise, int64_t k, double **nb) {
  const IrValue *bv = ir_op_operand(op, 1);
  bool bt = op->kind == IR_OP_GEMM && ir_op_attr_int(op, "transB", 0) != 0;
  Tensor *b = tensor_from_const(canon_const(bv));
  int64_t n = b->numel / k;
  double *out = calloc((size_t)n, sizeof *out);
  for (int64_t j = 0; j < k; j++)
    for (int64_t c = 0; c < n; c++) out[c] += noise[j] * tensor_get_f64(b, bt ? c * k + j : j * n + c);
  tensor_free(b);
  *nb = out;
  return n;
}

static char *suffixed(const char *base, const char *suffix) {
  size_t len = strlen(base) + strlen(suffix) + 1;
  char *s = malloc(len);
  snprintf(s, len, "%s%s", base, suffix);
  return s;
}

/* Gemm: C' = C - f * nb broadcast to [rows, N] (rows from C's shape), a
 * new Gemm with a C operand when there was none. */
static void fold_gemm(Run *r, IrOp *op, const double *nb, int64_t n) {
  double f = ir_op_attr_float(op, "alpha", 1.0f) / ir_op_attr_float(op, "beta", 1.0f);
  IrValue *cv = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  Tensor *c = cv ? tensor_from_const(canon_const(cv)) : NULL;
  int64_t rows = c && c->rank == 2 ? c->dims[0] : 1;
  int64_t cols = c && c->rank >= 1 ? c->dims[c->rank - 1] : 1;
  int64_t dims[2] = {rows, n};
  IrElem elem = ir_op_operand(op, 0)->type->elem;
  Tensor *t = rows > 1 ? tensor_new(elem, 2, dims) : tensor_new(elem, 1, &dims[1]);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t col = 0; col < n; col++) {
      double v = c ? tensor_get_f64(c, i * cols + (cols == 1 ? 0 : col)) : 0.0;
      tensor_set_f64(t, i * n + col, v - f * nb[col]);
    }
  const char *base = cv && canon_const(cv)->name ? canon_const(cv)->name
                     : op->results[0]->name      ? op->results[0]->name
                                                 : "gemm";
  char *name = suffixed(base, cv ? ".nq" : ".denoise");
  IrValue *nc = canon_new_const(r->m, op, name, t);
  free(name);
  tensor_free(t);
  if (c) {
    tensor_free(c);
    ir_op_set_operand(op, 2, nc);
    drop_const(r, cv);
    return;
  }
  IrValue *ins[3] = {ir_op_operand(op, 0), ir_op_operand(op, 1), nc};
  IrOp *g = canon_create(r->m, op, IR_OP_GEMM, ins, 3, op->results[0]->type, op->results[0]->name);
  for (uint32_t i = 0; i < op->nattrs; i++) ir_op_set_attr(r->m, g, &op->attrs[i]);
  canon_replace(op, g);
  ir_op_erase(op);
}

/* A single-use Add of a per-column constant after the MatMul's result y:
 * the constant's operand index, else -1. */
static int bias_add(const IrValue *y, int64_t n, IrOp **add) {
  if (!canon_one_use(y)) return -1;
  IrOp *a = y->uses->user;
  if (a->kind != IR_OP_ADD || a->parent != y->def->parent) return -1;
  int idx = (int)(1 - y->uses->index);
  const IrValue *c = ir_op_operand(a, (uint32_t)idx);
  if (c == y || !float_const(c) || c->type->elem != y->type->elem || c->type->rank < 1 ||
      c->type->rank > y->type->rank || ir_type_numel(c->type) != n || c->type->dims[c->type->rank - 1].size != n)
    return -1;
  *add = a;
  return idx;
}

/* MatMul: c' = c - nb in its bias Add, or a new Add(MatMul, -nb). */
static void fold_matmul(Run *r, IrOp *op, const double *nb, int64_t n) {
  IrValue *y = op->results[0];
  IrOp *add;
  int idx = bias_add(y, n, &add);
  if (idx >= 0) {
    IrValue *cv = ir_op_operand(add, (uint32_t)idx);
    const IrConst *cc = canon_const(cv);
    Tensor *c = tensor_from_const(cc);
    for (int64_t i = 0; i < n; i++) tensor_set_f64(c, i, tensor_get_f64(c, i) - nb[i]);
    char *name = suffixed(cc->name ? cc->name : cv->name ? cv->name : "bias", ".nq");
    IrValue *nc = canon_new_const(r->m, add, name, c);
    free(name);
    tensor_free(c);
    ir_op_set_operand(add, (uint32_t)idx, nc);
    drop_const(r, cv);
    quench_pass_stat_add(r->ctx, "biases-folded", 1);
    return;
  }
  Tensor *t = tensor_new(y->type->elem, 1, &n);
  for (int64_t i = 0; i < n; i++) tensor_set_f64(t, i, -nb[i]);
  const char *yname = y->name ? y->name : "matmul";
  char *cname = suffixed(yname, ".denoise");
  IrOp *pos = op->next;
  IrValue *nc = canon_new_const(r->m, pos, cname, t);
  free(cname);
  tensor_free(t);
  IrValue *ins[2] = {y, nc};
  IrOp *a = canon_create(r->m, pos, IR_OP_ADD, ins, 2, y->type, y->name);
  ir_value_replace_all_uses(y, a->results[0]);
  ir_op_set_operand(a, 0, y);
  a->src = op->src;
  a->src_name = op->src_name;
  if (y->name) {
    char *mm = suffixed(y->name, ".nq");
    ir_value_set_name(r->m, y, mm);
    free(mm);
  }
  quench_pass_stat_add(r->ctx, "biases-added", 1);
}

/* ---- one value ----------------------------------------------------------------- */

/* Delta of x at r->bits from its statistics; false when there are none. */
static bool step_of(const Run *r, const IrValue *x, double *delta) {
  const QTensorStats *ts = x->name ? q_stats_find(&r->stats, x->name) : NULL;
  if (!ts || ts->count == 0 || ts->nonfinite > 0 || !isfinite(ts->min) || !isfinite(ts->max)) return false;
  *delta = (fmax(ts->max, 0.0) - fmin(ts->min, 0.0)) / (ldexp(1.0, r->bits) - 1.0);
  return true;
}

static void noise_value(Run *r, IrFunc *f, IrValue *x) {
  const IrType *t = x->type;
  int64_t k = t->rank >= 1 ? t->dims[t->rank - 1].size : -1;
  if (t->quant || !ir_elem_is_float(t->elem) || k < 1) return;
  IrOp *cons[64]; /* more consumers keep reading X: still exact, just un-noised */
  int ncons = 0;
  for (const IrUse *u = x->uses; u; u = u->next) {
    if (u->user->kind != IR_OP_MATMUL && u->user->kind != IR_OP_GEMM) continue;
    if (u->user->parent != f->body || u->index != 0) continue;
    switch (consumer_kind(r, u, k)) {
    case C_OK:
      if (ncons < 64) cons[ncons++] = u->user;
      break;
    case C_HEAD: quench_pass_stat_add(r->ctx, "declined-head", 1); break;
    case C_WEIGHT: quench_pass_stat_add(r->ctx, "declined-weight", 1); break;
    case C_SHAPE: quench_pass_stat_add(r->ctx, "declined-shape", 1); break;
    }
  }
  if (!ncons) return;
  double delta;
  if (!step_of(r, x, &delta)) {
    quench_pass_stat_add(r->ctx, "declined-no-stats", ncons);
    quench_pass_warning(r->ctx, cons[0], "noisyquant: no statistics of '%s' in '%s'; no noise added",
                        x->name ? x->name : "?", r->path);
    return;
  }
  if (!(delta > 0)) {
    quench_pass_stat_add(r->ctx, "declined-zero-range", ncons);
    return;
  }
  double *noise = malloc((size_t)k * sizeof *noise);
  Tensor *nt = tensor_new(t->elem, 1, &k);
  for (int64_t j = 0; j < k; j++) {
    tensor_set_f64(nt, j, next_uniform(&r->rng) * r->amp * delta);
    noise[j] = tensor_get_f64(nt, j); /* fold exactly the stored noise */
  }
  IrOp *pos = x->kind == IR_VALUE_ARG ? f->body->first : x->def->next;
  const char *xname = x->name ? x->name : "x";
  char *name = suffixed(xname, ".noise");
  IrValue *nc = canon_new_const(r->m, pos, name, nt);
  free(name);
  tensor_free(nt);
  IrValue *ins[2] = {x, nc};
  name = suffixed(xname, ".noisy");
  IrOp *add = canon_create(r->m, pos, IR_OP_ADD, ins, 2, t, name);
  free(name);
  opset_add(&r->made, add);
  for (int i = 0; i < ncons; i++) {
    double *nb;
    int64_t n = noise_times_weight(cons[i], noise, k, &nb);
    ir_op_set_operand(cons[i], 0, add->results[0]);
    if (cons[i]->kind == IR_OP_GEMM)
      fold_gemm(r, cons[i], nb, n);
    else
      fold_matmul(r, cons[i], nb, n);
    free(nb);
  }
  free(noise);
  quench_pass_stat_add(r->ctx, "values-noised", 1);
  quench_pass_stat_add(r->ctx, "consumers-folded", ncons);
}

static void run_func(Run *r, IrFunc *f) {
  find_heads(r, f);
  for (uint32_t i = 0; i < f->body->nargs; i++) noise_value(r, f, f->body->args[i]);
  /* Rewrites insert ops after the op at hand (the noise, a denoising Add)
   * or replace a later Gemm, so the next op is read afterwards. */
  for (IrOp *op = f->body->first; op; op = op->next) {
    if (op->kind == IR_OP_CONSTANT || op->nresults == 0 || opset_has(&r->made, op)) continue;
    for (uint32_t i = 0; i < op->nresults; i++) noise_value(r, f, op->results[i]);
  }
}

/* ---- options and entry -------------------------------------------------------- */

static bool setup(Run *r) {
  r->amp = quench_pass_option_float(r->ctx, "amplitude");
  if (!(r->amp > 0 && r->amp <= 4)) {
    quench_pass_error(r->ctx, NULL, "bad amplitude %g: expected a value in (0, 4] (a fraction of the step)", r->amp);
    return false;
  }
  r->bits = (int)quench_pass_option_int(r->ctx, "bits");
  r->rng = (uint64_t)quench_pass_option_int(r->ctx, "seed");
  r->include_head = quench_pass_option_bool(r->ctx, "include-head");
  const char *sp = outlier_stats_path(r->ctx, r->m);
  if (!sp) return false;
  r->path = sp;
  return q_stats_read(&r->stats, sp, r->ctx->diag);
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.ctx = ctx, .m = m};
  q_stats_init(&r.stats);
  bool ok = setup(&r);
  for (uint32_t i = 0; ok && i < m->nfuncs; i++) {
    run_func(&r, m->funcs[i]);
    free(r.heads.slot);
    r.heads = (OpSet){0};
  }
  free(r.made.slot);
  remove_dropped(&r);
  q_stats_free(&r.stats);
  return ok;
}

static const PassOption options[] = {
    {"amplitude", Q_OPT_FLOAT, "0.5", "noise half-width as a fraction of the activation step, in (0, 4]", 0, 0},
    {"bits", Q_OPT_INT, "8", "activation bits the step is computed for: (max - min) / (2^bits - 1)", 2, 16},
    {"seed", Q_OPT_INT, "1", "seed of the xorshift64* noise stream (>= 1)", 1, INT64_MAX},
    {"include-head", Q_OPT_BOOL, "false", "also add noise before the head (a linear op nothing linear follows)", 0, 0},
    {"stats", Q_OPT_STRING, "", "the .qstats file (default: the module attribute quench.calib_stats)", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"values-noised", "activations given a noisy bias (one X.noisy each)"},
    {"consumers-folded", "MatMul/Gemm ops reading X.noisy with the denoising bias folded"},
    {"biases-folded", "MatMul consumers whose following bias Add took -N*B"},
    {"biases-added", "MatMul consumers given a new Add(-N*B)"},
    {"declined-head", "linear ops left alone as the head (include-head=false)"},
    {"declined-weight", "MatMul/Gemm inputs whose weight (or Gemm bias) is not a float constant"},
    {"declined-shape", "MatMul/Gemm inputs of another form (transA=1, a rank or size mismatch, Gemm beta = 0)"},
    {"declined-no-stats", "consumers of activations without statistics"},
    {"declined-zero-range", "consumers of activations whose calibrated range is a single point"},
    {0},
};

const Pass pass_noisyquant = {
    .name = "noisyquant",
    .summary = "Add a fixed noisy bias before MatMul/Gemm activation quantization, folded into the bias (NoisyQuant)",
    .options = options,
    .stats = stats,
    .run = run,
};
