/* smoothquant: migrates activation outliers into the weights (Xiao et al.,
 * "SmoothQuant: Accurate and Efficient Post-Training Quantization for Large
 * Language Models", ICML 2023; mit-han-lab/smoothquant smooth.py;
 * ../shared/ALGORITHMS.md section 1).
 *
 * What it does: for a value X whose every user is a linear op with
 * constant weights reading X as its input (MatMul(X, B[K,N]), Gemm(X, B)
 * with transA=0, transB either way), per input channel j < K:
 *   s_j = max(a_j,1e-5)^alpha / max(w_j,1e-5)^(1-alpha)
 * with a_j = max(|ch_min_j|, |ch_max_j|) of X from the calibration
 * statistics and w_j = max |B[j,n]| over every consumer and column. X/s is
 * folded into X's producer and diag(s)B into every consumer:
 *   LayerNormalization (last axis): gamma/s, beta/s;
 *   RMSNormalization (last axis): gamma/s;
 *   MatMul(u, W[M,K]) / Gemm(u, W) with constant W: W's output columns and
 *   the Gemm bias /s;
 *   Mul(g, MatMul(u, W)) (a SwiGLU gate): that MatMul's columns /s.
 * Exact in exact arithmetic: (X diag(s)^-1)(diag(s) B) = X B.
 * Declines (statistics, warnings for missing data): a user that cannot
 * absorb s (a residual Add, a non-linear op, X as a MatMul's B, a Conv);
 * another producer; a weight constant also used elsewhere (rewriting it
 * would untie it); no per-channel statistics of X.
 * search=true picks alpha per value from `alphas` by an error proxy
 * (passes/smoothquant_search.c). The statistics are stale afterwards:
 * calibrate again before quantize (docs/passes/smoothquant.md).
 * The consumer matching is shared with osplus (passes/outlier_util.c).
 * Tests: test/lit/quant/smoothquant*.qir, test/unit/test_smoothquant.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "passes/smoothquant.h"
#include "quant/calib.h"
#include "quant/calib_gram.h"

#define MAX_TARGETS 16
#define MAX_ALPHAS 64

/* Constant operands to rescale (passes/outlier_util.h): producers divide,
 * consumers multiply. */
typedef OutlierTarget Target;

typedef struct Site {
  IrValue *x;
  int64_t k;
  Target prod[3];
  int nprod;
  Target cons[MAX_TARGETS];
  int ncons;
} Site;

typedef struct Run {
  PassContext *ctx;
  IrModule *m;
  const char *path;
  QStats stats;
  QGramSet grams;
  double alpha;
  bool search;
  double alphas[MAX_ALPHAS];
  int nalphas;
  OutlierRewriter rw;
} Run;


/* ---- matching ----------------------------------------------------------- */

/* Whether use u of X is a linear op that can absorb diag(s) in its weight
 * rows; adds the weight to s->cons. */
static bool match_consumer(const IrUse *u, Site *s) {
  if (s->ncons == MAX_TARGETS || !outlier_match_consumer(u, s->x, s->k, &s->cons[s->ncons])) return false;
  s->ncons++;
  return true;
}


/* X's producer and the constants that absorb 1/s; false when there is
 * none that can. */
static bool match_producer(Site *s) {
  IrValue *x = s->x;
  if (x->kind != IR_VALUE_RESULT || x->index != 0) return false;
  IrOp *p = x->def;
  s->nprod = 0;
  if (p->kind == IR_OP_LAYER_NORM || p->kind == IR_OP_RMS_NORM) {
    if (!outlier_last_axis_norm(p, x)) return false;
    for (uint32_t i = 1; i < p->noperands && i < 3; i++) {
      IrValue *c = ir_op_operand(p, i);
      if (!c) continue;
      if (!outlier_float_const(c) || !canon_last_axis_param(c, x)) return false;
      s->prod[s->nprod++] = (Target){p, i, false};
    }
    return s->nprod > 0;
  }
  if (p->kind == IR_OP_MUL) {
    /* A gate Mul(act(x W_g), x W_u) (Llama's SwiGLU) is linear in each
     * operand: 1/s goes into the columns of an operand's single-use linear
     * producer, as smooth.py does for the down projection's input. */
    IrOp *lin = NULL;
    for (uint32_t i = 0; i < 2 && !lin; i++) {
      IrValue *v = ir_op_operand(p, i);
      const IrType *vt = v->type;
      if (v->kind == IR_VALUE_RESULT && canon_one_use(v) && vt->rank >= 1 && vt->dims[vt->rank - 1].size == s->k &&
          (v->def->kind == IR_OP_MATMUL || v->def->kind == IR_OP_GEMM) &&
          outlier_float_const(ir_op_operand(v->def, 1)))
        lin = v->def;
    }
    if (!lin) return false;
    p = lin;
  }
  if (p->kind != IR_OP_MATMUL && p->kind != IR_OP_GEMM) return false;
  IrValue *w = ir_op_operand(p, 1);
  if (!outlier_float_const(w) || w->type->rank != 2 || x->type->rank < 1) return false;
  bool wfirst = p->kind == IR_OP_GEMM && ir_op_attr_int(p, "transB", 0) != 0;
  if (w->type->dims[wfirst ? 0 : 1].size != s->k) return false;
  s->prod[s->nprod++] = (Target){p, 1, wfirst};
  IrValue *c = p->kind == IR_OP_GEMM && p->noperands > 2 ? ir_op_operand(p, 2) : NULL;
  if (c) {
    /* A bias broadcast along the columns cannot take a per-column factor. */
    if (!outlier_float_const(c) || c->type->rank < 1 || c->type->dims[c->type->rank - 1].size != s->k)
      return false;
    s->prod[s->nprod++] = (Target){p, 2, false};
  }
  return true;
}

/* ---- statistics ----------------------------------------------------------- */

/* a_j (and ex2_j, the mean square: from the Gram diagonal H_jj/2 when the
 * file has one, else that of a uniform spread over [ch_min, ch_max]). */
static bool act_stats(Run *r, const Site *s, double *a, double *ex2) {
  const QTensorStats *ts = q_stats_find(&r->stats, s->x->name);
  if (!ts || ts->ch_axis != s->x->type->rank - 1 || ts->nch != s->k || ts->count == 0 || ts->nonfinite > 0)
    return false;
  const QGram *g = q_gram_find(&r->grams, s->x->name);
  if (g && (g->k != s->k || g->first_dim || g->n == 0)) g = NULL;
  for (int64_t j = 0; j < s->k; j++) {
    double lo = ts->ch_min[j], hi = ts->ch_max[j];
    if (!isfinite(lo) || !isfinite(hi)) return false;
    a[j] = fmax(fabs(lo), fabs(hi));
    ex2[j] = g ? g->h[j * s->k + j] / 2.0 : (lo * lo + lo * hi + hi * hi) / 3.0;
  }
  return true;
}

/* The consumers' weights side by side as a K x N matrix (row j: input
 * channel j), for w_j and the search. *n gets N. */
static double *consumer_matrix(const Site *s, int64_t *n) {
  return outlier_consumer_matrix(s->cons, s->ncons, s->k, n, NULL);
}

/* ---- rewriting ---------------------------------------------------------------- */

/* Replaces the constant operand of t by a copy with channel j multiplied
 * by f[j] (divided when `divide`), computed in double. */
static void rescale(Run *r, const Target *t, int64_t k, const double *f, bool divide) {
  Tensor *w = tensor_from_const(canon_const(ir_op_operand(t->op, t->idx)));
  int64_t inner = w->numel / k;
  for (int64_t e = 0; e < w->numel; e++) {
    int64_t j = t->first ? e / inner : e % k;
    double v = tensor_get_f64(w, e);
    tensor_set_f64(w, e, divide ? v / f[j] : v * f[j]);
  }
  outlier_replace_operand(&r->rw, t->op, t->idx, w);
  tensor_free(w);
}

static void smooth_value(Run *r, IrOp *at, IrValue *x) {
  const IrType *t = x->type;
  if (!x->name || t->quant || !ir_elem_is_float(t->elem) || t->rank < 1 || t->dims[t->rank - 1].size < 1) return;
  Site s = {.x = x, .k = t->dims[t->rank - 1].size};
  for (const IrUse *u = x->uses; u; u = u->next)
    if (!match_consumer(u, &s)) {
      quench_pass_stat_add(r->ctx, "declined-users", 1);
      return;
    }
  if (!match_producer(&s)) {
    quench_pass_stat_add(r->ctx, "declined-producer", 1);
    return;
  }
  for (int i = 0; i < s.ncons; i++)
    if (!outlier_exclusive(r->m, ir_op_operand(s.cons[i].op, 1), s.cons[i].op)) {
      quench_pass_stat_add(r->ctx, "declined-shared-weight", 1);
      return;
    }
  if ((s.prod[0].op->kind == IR_OP_MATMUL || s.prod[0].op->kind == IR_OP_GEMM) &&
      !outlier_exclusive(r->m, ir_op_operand(s.prod[0].op, 1), s.prod[0].op)) {
    quench_pass_stat_add(r->ctx, "declined-shared-weight", 1);
    return;
  }
  double *a = malloc((size_t)s.k * sizeof *a), *ex2 = malloc((size_t)s.k * sizeof *ex2);
  double *w = malloc((size_t)s.k * sizeof *w), *sc = malloc((size_t)s.k * sizeof *sc);
  if (!act_stats(r, &s, a, ex2)) {
    quench_pass_stat_add(r->ctx, "declined-no-stats", 1);
    quench_pass_warning(r->ctx, at,
                        "smoothquant: no per-channel statistics of '%s' (last axis, %lld channels) in '%s'; "
                        "not smoothed",
                        x->name, (long long)s.k, r->path);
  } else {
    int64_t n;
    double *b = consumer_matrix(&s, &n);
    double alpha = r->alpha;
    if (r->search) alpha = sq_search_alpha(s.k, n, b, a, ex2, r->alphas, r->nalphas, NULL);
    sq_weight_max(s.k, n, b, w);
    sq_scales(s.k, a, w, alpha, sc);
    free(b);
    for (int i = 0; i < s.nprod; i++) rescale(r, &s.prod[i], s.k, sc, true);
    for (int i = 0; i < s.ncons; i++) rescale(r, &s.cons[i], s.k, sc, false);
    quench_pass_stat_add(r->ctx, "values-smoothed", 1);
    quench_pass_stat_add(r->ctx, "consumers-scaled", s.ncons);
    if (r->search) quench_pass_stat_add(r->ctx, "alpha-x100-sum", (int64_t)llround(alpha * 100));
  }
  free(a), free(ex2), free(w), free(sc);
}


static bool run_func(Run *r, IrFunc *f) {
  /* Ops are visited in order; a rewrite only inserts Constant ops before
   * the op it changes and erases dead Constants, never the op at hand. */
  IrOp *op = f->body->first;
  while (op) {
    IrOp *next = op->next;
    if (op->kind != IR_OP_CONSTANT && op->nresults > 0 && outlier_candidate(op->results[0]))
      smooth_value(r, op, op->results[0]);
    op = next;
  }
  return true;
}

/* ---- options and entry --------------------------------------------------------- */

static bool parse_alphas(Run *r, const char *text) {
  r->nalphas = 0;
  if (!*text) {
    for (int i = 0; i <= 10; i++) r->alphas[r->nalphas++] = i / 10.0;
    return true;
  }
  const char *p = text;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !(v >= 0 && v <= 1) || r->nalphas == MAX_ALPHAS) {
      quench_pass_error(r->ctx, NULL, "bad alphas '%s': expected up to %d comma-separated values in [0, 1]", text,
                        MAX_ALPHAS);
      return false;
    }
    r->alphas[r->nalphas++] = v;
    p = *end ? end + 1 : end;
  }
  return true;
}

static bool setup(Run *r) {
  r->alpha = quench_pass_option_float(r->ctx, "alpha");
  if (!(r->alpha >= 0 && r->alpha <= 1)) {
    quench_pass_error(r->ctx, NULL, "bad alpha %g: expected a value in [0, 1]", r->alpha);
    return false;
  }
  r->search = quench_pass_option_bool(r->ctx, "search");
  if (!parse_alphas(r, quench_pass_option_string(r->ctx, "alphas"))) return false;
  const char *sp = outlier_stats_path(r->ctx, r->m);
  if (!sp) return false;
  r->path = sp;
  return q_stats_read_gram(&r->stats, &r->grams, sp, r->ctx->diag);
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.ctx = ctx, .m = m, .rw = {ctx, m, "sq", "", "", "smooth", NULL, 0}};
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
    {"alpha", Q_OPT_FLOAT, "0.5", "migration strength in [0, 1]: s = a^alpha / w^(1-alpha)", 0, 0},
    {"stats", Q_OPT_STRING, "", "the .qstats file (default: the module attribute quench.calib_stats)", 0, 0},
    {"search", Q_OPT_BOOL, "false", "choose alpha per value from `alphas` by the quantization-error proxy", 0, 0},
    {"alphas", Q_OPT_STRING, "", "comma-separated alphas for search (default 0,0.1,...,1)", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"values-smoothed", "activations whose scales moved into their producer and consumers"},
    {"consumers-scaled", "MatMul/Gemm weights given the scales"},
    {"declined-users",
     "activations with a user that cannot absorb the scales (not a MatMul/Gemm input with constant weights)"},
    {"declined-producer",
     "activations whose producer cannot absorb 1/s (not a norm, a linear op with constant weights or its gate Mul)"},
    {"declined-shared-weight", "activations whose weight constants are also used elsewhere"},
    {"declined-no-stats", "activations without per-channel statistics along the last axis"},
    {"alpha-x100-sum", "search: sum of the chosen alphas times 100 (divide by values-smoothed for the mean)"},
    {0},
};

const Pass pass_smoothquant = {
    .name = "smoothquant",
    .summary = "Migrate activation outliers into the weights of MatMul/Gemm consumers (SmoothQuant)",
    .options = options,
    .stats = stats,
    .run = run,
};
