/* reparam: RepQ-ViT post-LayerNorm scale reparameterization (Li et al.,
 * "RepQ-ViT: Scale Reparameterization for Post-Training Quantization of
 * Vision Transformers", ICCV 2023; zkkli/RepQ-ViT test_quant.py;
 * ../shared/ALGORITHMS.md section 3(a); the post-Softmax log-sqrt2 part
 * (b) is not done here).
 *
 * For X = LayerNormalization(x, gamma, beta) whose every user is a linear
 * op with a constant weight reading X as its input (MatMul(X, B[K,N]),
 * Gemm(X, B) with transA=0), from X's per-channel calibration ranges:
 *   s_c = (max_c - min_c)/255 (range widened to include 0),
 *   z_c = rne(-min_c/s_c), s~ = mean s_c, z~ = mean z_c (not rounded, as
 *   the reference), r_c = s_c/s~, b_c = -z_c s_c/r_c + z~ s~.
 * gamma' = gamma/r, beta' = beta/r - b, B[c,:] *= r_c, bias' = bias + b B'
 * (B' already scaled): LN'(x) B' + bias' = LN(x) B + bias, exact. After it
 * X's per-channel grids map onto one per-tensor grid (s~, z~); pipelines
 * must calibrate again before quantize.
 * Declines (statistics; IR unchanged): a user that is not such a linear op,
 * no constant gamma and beta, shared constants, no statistics, a channel
 * with zero range. Tests: test/lit/quant/reparam*.qir. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/outlier_util.h"
#include "quant/calib.h"

#define MAX_CONS 16

typedef struct Run {
  PassContext *ctx;
  IrModule *m;
  const char *path;
  QStats stats;
  OutlierRewriter rw;
} Run;

/* Target t's constant with channel j's values v replaced by v*mul[j] + add[j]
 * (add may be NULL). */
static void rescale(Run *r, const OutlierTarget *t, int64_t k, const double *mul, const double *add) {
  Tensor *w = tensor_from_const(canon_const(ir_op_operand(t->op, t->idx)));
  int64_t inner = w->numel / k;
  for (int64_t e = 0; e < w->numel; e++) {
    int64_t j = t->first ? e / inner : e % k;
    tensor_set_f64(w, e, tensor_get_f64(w, e) * mul[j] + (add ? add[j] : 0.0));
  }
  outlier_replace_operand(&r->rw, t->op, t->idx, w);
  tensor_free(w);
}

/* r_c and b_c of ALGORITHMS 3(a) from X's channel ranges; false when a
 * channel has zero range (no scale to divide by) or stats are missing. */
static bool factors(Run *r, const IrValue *x, int64_t k, double *rr, double *bb) {
  const QTensorStats *ts = q_stats_find(&r->stats, x->name);
  if (!ts || ts->ch_axis != x->type->rank - 1 || ts->nch != k || ts->count == 0 || ts->nonfinite > 0) {
    quench_pass_stat_add(r->ctx, "declined-no-stats", 1);
    return false;
  }
  double smean = 0, zmean = 0;
  for (int64_t c = 0; c < k; c++) {
    double lo = fmin(ts->ch_min[c], 0.0), hi = fmax(ts->ch_max[c], 0.0);
    double s = (hi - lo) / 255.0;
    if (!isfinite(lo) || !isfinite(hi) || !(s > 0)) {
      quench_pass_stat_add(r->ctx, "declined-zero-range", 1);
      return false;
    }
    rr[c] = s;
    bb[c] = nearbyint(-lo / s); /* z_c, round half to even */
    smean += s, zmean += bb[c];
  }
  smean /= (double)k, zmean /= (double)k;
  for (int64_t c = 0; c < k; c++) {
    double minc = -bb[c] * rr[c];
    rr[c] /= smean;
    bb[c] = minc / rr[c] + zmean * smean;
  }
  return true;
}

static void reparam_ln(Run *r, IrOp *ln) {
  IrValue *x = ln->results[0];
  const IrType *t = x->type;
  if (!x->name || t->quant || !ir_elem_is_float(t->elem) || t->rank < 1 || t->dims[t->rank - 1].size < 1) return;
  int64_t k = t->dims[t->rank - 1].size;
  OutlierTarget cons[MAX_CONS];
  int ncons = 0;
  for (const IrUse *u = x->uses; u; u = u->next)
    if (ncons == MAX_CONS || !outlier_match_consumer(u, x, k, &cons[ncons++])) {
      quench_pass_stat_add(r->ctx, "declined-users", 1);
      return;
    }
  IrValue *gamma = ln->noperands > 1 ? ir_op_operand(ln, 1) : NULL;
  IrValue *beta = ln->noperands > 2 ? ir_op_operand(ln, 2) : NULL;
  if (!outlier_last_axis_norm(ln, x) || !gamma || !beta || !outlier_float_const(gamma) ||
      !outlier_float_const(beta) || !canon_last_axis_param(gamma, x) || !canon_last_axis_param(beta, x)) {
    quench_pass_stat_add(r->ctx, "declined-producer", 1);
    return;
  }
  bool shared = !outlier_exclusive(r->m, gamma, ln) || !outlier_exclusive(r->m, beta, ln);
  for (int i = 0; i < ncons; i++) shared |= !outlier_exclusive(r->m, ir_op_operand(cons[i].op, 1), cons[i].op);
  if (shared) {
    quench_pass_stat_add(r->ctx, "declined-shared-weight", 1);
    return;
  }
  size_t kb = (size_t)k * sizeof(double);
  double *rr = malloc(kb), *bb = malloc(kb), *inv = malloc(kb), *nb = malloc(kb);
  if (!factors(r, x, k, rr, bb)) {
    quench_pass_warning(r->ctx, ln,
                        "reparam: no usable per-channel statistics of '%s' (last axis, %lld channels) in '%s'; "
                        "not reparameterized",
                        x->name, (long long)k, r->path);
    free(rr), free(bb), free(inv), free(nb);
    return;
  }
  for (int64_t c = 0; c < k; c++) inv[c] = 1.0 / rr[c], nb[c] = -bb[c];
  rescale(r, &(OutlierTarget){ln, 1, false}, k, inv, NULL);
  rescale(r, &(OutlierTarget){ln, 2, false}, k, inv, nb);
  for (int i = 0; i < ncons; i++) rescale(r, &cons[i], k, rr, NULL);
  /* bias' = bias + alpha * b B', with the scaled B'. */
  int64_t n, cols[MAX_CONS];
  double *bm = outlier_consumer_matrix(cons, ncons, k, &n, cols);
  double *corr = malloc((size_t)n * sizeof *corr);
  int64_t col = 0;
  for (int i = 0; i < ncons; i++) {
    IrOp *op = cons[i].op;
    double alpha = op->kind == IR_OP_GEMM ? ir_op_attr_float(op, "alpha", 1.0f) : 1.0;
    for (int64_t c = 0; c < cols[i]; c++) {
      double v = 0;
      for (int64_t j = 0; j < k; j++) v += bb[j] * bm[j * n + col + c];
      corr[c] = alpha * v;
    }
    outlier_add_bias(&r->rw, op, cols[i], corr);
    col += cols[i];
  }
  free(corr), free(bm), free(rr), free(bb), free(inv), free(nb);
  quench_pass_stat_add(r->ctx, "norms-reparameterized", 1);
  quench_pass_stat_add(r->ctx, "consumers-rewritten", ncons);
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.ctx = ctx, .m = m, .rw = {ctx, m, "rep", "rbias", "unbiased", "reparam", NULL, 0}};
  q_stats_init(&r.stats);
  const char *sp = outlier_stats_path(ctx, m);
  bool ok = sp && q_stats_read(&r.stats, sp, ctx->diag);
  r.path = sp;
  for (uint32_t i = 0; ok && i < m->nfuncs; i++)
    for (IrOp *op = m->funcs[i]->body->first; op; op = op->next)
      if (op->kind == IR_OP_LAYER_NORM && op->nresults > 0 && outlier_candidate(op->results[0])) reparam_ln(&r, op);
  outlier_rewriter_finish(&r.rw);
  q_stats_free(&r.stats);
  return ok;
}

static const PassOption options[] = {
    {"stats", Q_OPT_STRING, "", "the .qstats file (default: the module attribute quench.calib_stats)", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"norms-reparameterized", "LayerNorms whose per-channel ranges were folded to one per-tensor grid"},
    {"consumers-rewritten", "MatMul/Gemm weights given r and biases b*B'"},
    {"biases-added", "new Add ops after consumers without a bias to take b*B'"},
    {"declined-users",
     "LayerNorms with a user that cannot absorb the rewrite (not a MatMul/Gemm input with constant weights)"},
    {"declined-producer", "LayerNorms without constant gamma and beta over the last axis"},
    {"declined-shared-weight", "LayerNorms whose constants are also used elsewhere"},
    {"declined-no-stats", "LayerNorms without per-channel statistics along the last axis"},
    {"declined-zero-range", "LayerNorms with a channel whose range is {0} (no scale)"},
    {0},
};

const Pass pass_reparam = {
    .name = "reparam",
    .summary = "Fold post-LayerNorm per-channel activation ranges into one per-tensor grid (RepQ-ViT)",
    .options = options,
    .stats = stats,
    .run = run,
};
