/* osplus: Outlier Suppression+ (Wei et al., "Outlier Suppression+:
 * Accurate quantization of large language models by equivalent and optimal
 * shifting and scaling", EMNLP 2023; ModelTC/Outlier_Suppression_Plus
 * migration.py; ../shared/ALGORITHMS.md section 2).
 *
 * For a value X whose every user is a linear op with a constant weight
 * reading X as its input (MatMul(X, B[K,N]), Gemm(X, B) with transA=0),
 * per input channel j < K, from X's per-channel calibration ranges:
 *   z_j = (max_j + min_j) / 2                    centres channel j
 *   s_j = max(1, max(X~_j)/t, min(X~_j)/(-t))    X~ = X - z, t searched
 * X' = (X - z)/s is folded into X's producer, diag(s)B into every
 * consumer's weight and z B (original B) into its bias:
 *   ((X - z)/s)(diag(s) B) + (b + zB) = XB + b            exact.
 * Producers that take the shift: LayerNormalization with beta (beta' =
 * (beta - z)/s, gamma' = gamma/s), Gemm(u, W, C) (C' = (C - z)/s, W's
 * output columns /s), Add(MatMul(u, W), c) (c' = (c - z)/s, W's columns
 * /s). Producers without a bias to take z (RMSNormalization, LayerNorm
 * without beta, a bare MatMul, Llama's SwiGLU gate Mul) get the scale
 * only (z = 0, counted in shift-declined); an Add of a constant to
 * anything else (a decomposed LayerNorm's beta) the shift only. Consumer bias: a Gemm's C, the
 * constant of an Add the MatMul alone feeds, or a new Add after it.
 * Declines as smoothquant does (statistics; IR unchanged): a user that is
 * not such a linear op (a residual Add: the reference's residual restore
 * is not done), another producer, shared weights, no statistics.
 * Consumer matching shared with smoothquant: passes/outlier_util.c.
 * Tests: test/lit/quant/osplus*.qir, test/unit/test_osplus.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "passes/osplus.h"
#include "quant/calib.h"
#include "quant/calib_gram.h"

#define MAX_TARGETS 16

/* Constant operands to rewrite per channel (passes/outlier_util.h). */
typedef OutlierTarget Target;

typedef struct Site {
  IrModule *m;
  IrValue *x;
  int64_t k;
  Target prod[3]; /* divided by s */
  int nprod;
  int shift;      /* index in prod of the bias that takes -z, or -1 */
  bool can_scale; /* the producer can take 1/s */
  Target cons[MAX_TARGETS];
  int ncons;
} Site;

typedef struct Run {
  PassContext *ctx;
  IrModule *m;
  const char *path;
  QStats stats;
  QGramSet grams;
  bool search;
  int steps;
  OutlierRewriter rw;
} Run;


/* ---- matching ----------------------------------------------------------- */

static bool match_consumer(const IrUse *u, Site *s) {
  if (s->ncons == MAX_TARGETS || !outlier_match_consumer(u, s->x, s->k, &s->cons[s->ncons])) return false;
  s->ncons++;
  return true;
}


/* The linear producer p (MatMul/Gemm with constant W whose output columns
 * are X's channels): W and a Gemm bias. */
static bool match_linear(Site *s, IrOp *p) {
  if (p->kind != IR_OP_MATMUL && p->kind != IR_OP_GEMM) return false;
  IrValue *w = ir_op_operand(p, 1);
  if (!outlier_float_const(w) || w->type->rank != 2) return false;
  bool wfirst = p->kind == IR_OP_GEMM && ir_op_attr_int(p, "transB", 0) != 0;
  if (w->type->dims[wfirst ? 0 : 1].size != s->k) return false;
  s->prod[s->nprod++] = (Target){p, 1, wfirst};
  IrValue *c = p->kind == IR_OP_GEMM && p->noperands > 2 ? ir_op_operand(p, 2) : NULL;
  if (c) {
    if (!outlier_channel_bias(c, s->k)) return false;
    if (ir_op_attr_float(p, "beta", 1.0f) == 1.0f) s->shift = s->nprod;
    s->prod[s->nprod++] = (Target){p, 2, false};
  }
  return true;
}

static bool match_producer(Site *s) {
  IrValue *x = s->x;
  s->nprod = 0;
  s->shift = -1;
  s->can_scale = true;
  if (x->kind != IR_VALUE_RESULT || x->index != 0) return false;
  IrOp *p = x->def;
  if (p->kind == IR_OP_LAYER_NORM || p->kind == IR_OP_RMS_NORM) {
    if (!outlier_last_axis_norm(p, x)) return false;
    for (uint32_t i = 1; i < p->noperands && i < 3; i++) {
      IrValue *c = ir_op_operand(p, i);
      if (!c) continue;
      if (!outlier_float_const(c) || !canon_last_axis_param(c, x)) return false;
      if (i == 2) s->shift = s->nprod;
      s->prod[s->nprod++] = (Target){p, i, false};
    }
    return s->nprod > 0;
  }
  if (p->kind == IR_OP_ADD) {
    /* Add(v, c), c a constant bias: X - z = v + (c - z) whatever v is. 1/s
     * also fits when v is a single-use MatMul(u, W) (the exported form of
     * a linear layer); otherwise (a decomposed LayerNorm's beta) shift only. */
    for (uint32_t i = 0; i < 2; i++) {
      IrValue *v = ir_op_operand(p, i), *c = ir_op_operand(p, 1 - i);
      if (!outlier_channel_bias(c, s->k) || c->type->rank > x->type->rank || !outlier_exclusive(s->m, c, p)) continue;
      if (v->kind == IR_VALUE_RESULT && canon_one_use(v) && v->def->kind == IR_OP_MATMUL && match_linear(s, v->def)) {
        s->shift = s->nprod;
      } else {
        s->nprod = 0, s->shift = 0, s->can_scale = false;
      }
      s->prod[s->nprod++] = (Target){p, 1 - i, false};
      return true;
    }
    return false;
  }
  if (p->kind == IR_OP_MUL) {
    /* A SwiGLU gate Mul(g, u W): 1/s fits into W's columns; z does not. */
    for (uint32_t i = 0; i < 2; i++) {
      IrValue *v = ir_op_operand(p, i);
      const IrType *vt = v->type;
      if (v->kind == IR_VALUE_RESULT && canon_one_use(v) && vt->rank >= 1 && vt->dims[vt->rank - 1].size == s->k &&
          (v->def->kind == IR_OP_MATMUL || v->def->kind == IR_OP_GEMM) &&
          outlier_float_const(ir_op_operand(v->def, 1))) {
        if (!match_linear(s, v->def)) return false;
        s->shift = -1;
        return true;
      }
    }
    return false;
  }
  return match_linear(s, p);
}

/* ---- statistics ----------------------------------------------------------- */

/* Channel ranges lo/hi of X, its means and mean squares (the Gram diagonal
 * H_jj/2 when present, else a uniform spread over [lo, hi]). */
static bool act_stats(Run *r, const Site *s, double *lo, double *hi, double *mean, double *ex2) {
  const QTensorStats *ts = q_stats_find(&r->stats, s->x->name);
  if (!ts || ts->ch_axis != s->x->type->rank - 1 || ts->nch != s->k || ts->count == 0 || ts->nonfinite > 0)
    return false;
  const QGram *g = q_gram_find(&r->grams, s->x->name);
  if (g && (g->k != s->k || g->first_dim || g->n == 0)) g = NULL;
  for (int64_t j = 0; j < s->k; j++) {
    lo[j] = ts->ch_min[j], hi[j] = ts->ch_max[j];
    if (!isfinite(lo[j]) || !isfinite(hi[j])) return false;
    mean[j] = ts->ch_count > 0 && ts->ch_sum ? ts->ch_sum[j] / (double)ts->ch_count : (lo[j] + hi[j]) / 2.0;
    ex2[j] = g ? g->h[j * s->k + j] / 2.0 : (lo[j] * lo[j] + lo[j] * hi[j] + hi[j] * hi[j]) / 3.0;
  }
  return true;
}


/* ---- rewriting ---------------------------------------------------------------- */

/* Target t's constant with channel j replaced by (v - sub[j]) / div[j]
 * (divide) or v * div[j]; sub may be NULL. */
static void rescale(Run *r, const Target *t, int64_t k, const double *sub, const double *f, bool divide) {
  Tensor *w = tensor_from_const(canon_const(ir_op_operand(t->op, t->idx)));
  int64_t inner = w->numel / k;
  for (int64_t e = 0; e < w->numel; e++) {
    int64_t j = t->first ? e / inner : e % k;
    double v = tensor_get_f64(w, e) - (sub ? sub[j] : 0.0);
    tensor_set_f64(w, e, divide ? v / f[j] : v * f[j]);
  }
  outlier_replace_operand(&r->rw, t->op, t->idx, w);
  tensor_free(w);
}

static void migrate(Run *r, const Site *s, const double *z, const double *sc, const double *b, int64_t n,
                    const int64_t *cols) {
  bool scaled = false; /* s = 1 everywhere: only the shift changes constants */
  for (int64_t j = 0; j < s->k; j++) scaled |= sc[j] != 1.0;
  for (int i = 0; i < s->nprod; i++)
    if (scaled || i == s->shift) rescale(r, &s->prod[i], s->k, i == s->shift ? z : NULL, sc, true);
  for (int i = 0; i < s->ncons && scaled; i++) rescale(r, &s->cons[i], s->k, NULL, sc, false);
  if (s->shift < 0) return;
  double *corr = malloc((size_t)n * sizeof *corr);
  int64_t col = 0;
  for (int i = 0; i < s->ncons; i++) {
    IrOp *op = s->cons[i].op;
    double alpha = op->kind == IR_OP_GEMM ? ir_op_attr_float(op, "alpha", 1.0f) : 1.0;
    for (int64_t c = 0; c < cols[i]; c++) {
      double v = 0;
      for (int64_t j = 0; j < s->k; j++) v += z[j] * b[j * n + col + c];
      corr[c] = alpha * v;
    }
    outlier_add_bias(&r->rw, op, cols[i], corr);
    col += cols[i];
  }
  free(corr);
}

static void osplus_value(Run *r, IrOp *at, IrValue *x) {
  const IrType *t = x->type;
  if (!x->name || t->quant || !ir_elem_is_float(t->elem) || t->rank < 1 || t->dims[t->rank - 1].size < 1) return;
  Site s = {.m = r->m, .x = x, .k = t->dims[t->rank - 1].size};
  for (const IrUse *u = x->uses; u; u = u->next)
    if (!match_consumer(u, &s)) {
      quench_pass_stat_add(r->ctx, "declined-users", 1);
      return;
    }
  if (!match_producer(&s) || (s.shift < 0 && (!r->search || !s.can_scale))) {
    quench_pass_stat_add(r->ctx, "declined-producer", 1);
    return;
  }
  bool shared = false;
  for (int i = 0; i < s.ncons; i++) shared |= !outlier_exclusive(r->m, ir_op_operand(s.cons[i].op, 1), s.cons[i].op);
  if (s.prod[0].op->kind == IR_OP_MATMUL || s.prod[0].op->kind == IR_OP_GEMM)
    shared |= !outlier_exclusive(r->m, ir_op_operand(s.prod[0].op, 1), s.prod[0].op);
  if (shared) {
    quench_pass_stat_add(r->ctx, "declined-shared-weight", 1);
    return;
  }
  size_t kb = (size_t)s.k * sizeof(double);
  double *lo = malloc(kb), *hi = malloc(kb), *mean = malloc(kb), *ex2 = malloc(kb), *z = malloc(kb),
         *sc = malloc(kb);
  if (!act_stats(r, &s, lo, hi, mean, ex2)) {
    quench_pass_stat_add(r->ctx, "declined-no-stats", 1);
    quench_pass_warning(r->ctx, at,
                        "osplus: no per-channel statistics of '%s' (last axis, %lld channels) in '%s'; not migrated",
                        x->name, (long long)s.k, r->path);
  } else {
    int64_t n, cols[MAX_TARGETS];
    double *b = outlier_consumer_matrix(s.cons, s.ncons, s.k, &n, cols);
    if (s.shift >= 0) {
      os_shift(s.k, lo, hi, z);
    } else {
      for (int64_t j = 0; j < s.k; j++) z[j] = 0;
      quench_pass_stat_add(r->ctx, "shift-declined", 1);
    }
    /* The shifted ranges and mean squares E[(x - z)^2]. */
    for (int64_t j = 0; j < s.k; j++) {
      lo[j] -= z[j], hi[j] -= z[j];
      ex2[j] = fmax(0.0, ex2[j] - 2.0 * z[j] * mean[j] + z[j] * z[j]);
      sc[j] = 1.0;
    }
    if (r->search && s.can_scale) os_search(s.k, n, b, lo, hi, ex2, r->steps, sc, NULL);
    if (r->search && !s.can_scale) quench_pass_stat_add(r->ctx, "scale-declined", 1);
    migrate(r, &s, z, sc, b, n, cols);
    free(b);
    int64_t scaled = 0;
    for (int64_t j = 0; j < s.k; j++) scaled += sc[j] != 1.0;
    quench_pass_stat_add(r->ctx, "values-migrated", 1);
    quench_pass_stat_add(r->ctx, "channels-scaled", scaled);
    quench_pass_stat_add(r->ctx, "consumers-rewritten", s.ncons);
  }
  free(lo), free(hi), free(mean), free(ex2), free(z), free(sc);
}


static bool run_func(Run *r, IrFunc *f) {
  /* Ops in order; a rewrite inserts Constants (and an Add) after the op at
   * hand or before later ops, and erases only dead Constants. */
  IrOp *op = f->body->first;
  while (op) {
    if (op->kind != IR_OP_CONSTANT && op->nresults > 0 && outlier_candidate(op->results[0]))
      osplus_value(r, op, op->results[0]);
    op = op->next;
  }
  return true;
}

/* ---- options and entry --------------------------------------------------------- */

static bool setup(Run *r) {
  r->search = quench_pass_option_bool(r->ctx, "search");
  int64_t steps = quench_pass_option_int(r->ctx, "steps");
  if (steps < 2 || steps > 100000) {
    quench_pass_error(r->ctx, NULL, "bad steps %lld: expected an integer in [2, 100000]", (long long)steps);
    return false;
  }
  r->steps = (int)steps;
  const char *sp = outlier_stats_path(r->ctx, r->m);
  if (!sp) return false;
  r->path = sp;
  return q_stats_read_gram(&r->stats, &r->grams, sp, r->ctx->diag);
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.ctx = ctx, .m = m, .rw = {ctx, m, "osp", "shift", "unshifted", "osplus", NULL, 0}};
  q_stats_init(&r.stats);
  q_gram_set_init(&r.grams);
  bool ok = setup(&r);
  for (uint32_t i = 0; ok && i < m->nfuncs; i++) ok = run_func(&r, m->funcs[i]);
  outlier_rewriter_finish(&r.rw);
  q_stats_free(&r.stats);
  q_gram_set_free(&r.grams);
  return ok;
}

static const PassOption options[] = {
    {"stats", Q_OPT_STRING, "", "the .qstats file (default: the module attribute quench.calib_stats)", 0, 0},
    {"search", Q_OPT_BOOL, "true", "search the clipping point t for the scales (false: shift only, s = 1)", 0, 0},
    {"steps", Q_OPT_INT, "100", "candidate clipping points, from max|X-z| down to 1% of it (at least 2)", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"values-migrated", "activations shifted and/or scaled into their producer and consumers"},
    {"channels-scaled", "channels given a scale other than 1 by the search"},
    {"consumers-rewritten", "MatMul/Gemm weights given the scales and biases the shift"},
    {"biases-added", "new Add ops after consumers without a bias to take z*B"},
    {"shift-declined", "activations whose producer has no bias to take -z (RMSNorm, bare MatMul): scale only"},
    {"scale-declined",
     "activations whose producer can take -z but not 1/s (a constant added to a non-linear value): shift only"},
    {"declined-users",
     "activations with a user that cannot absorb the rewrite (not a MatMul/Gemm input with constant weights)"},
    {"declined-producer", "activations whose producer cannot absorb the shift or 1/s"},
    {"declined-shared-weight", "activations whose weight constants are also used elsewhere"},
    {"declined-no-stats", "activations without per-channel statistics along the last axis"},
    {0},
};

const Pass pass_osplus = {
    .name = "osplus",
    .summary = "Shift and scale activation channels into producers and MatMul/Gemm consumers (Outlier Suppression+)",
    .options = options,
    .stats = stats,
    .run = run,
};
