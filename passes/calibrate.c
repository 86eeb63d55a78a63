/* calibrate: runs the reference interpreter on calibration samples and
 * streams statistics of every float tensor into a .qstats side file.
 *
 * What it does: for each sample of `data` (compiler/quant/calib_data.h
 * layouts, natural name order, the first `samples` of them or all), loads
 * the function's inputs, runs the interpreter with an observer and adds to
 * the statistics (compiler/quant/calib.h) of every float function argument
 * and every float result of a function-level op. Values inside If/Loop
 * bodies are not observed (they have no single range per run, and quantize
 * works at function level); Constant results are observed on the first
 * sample only (they never change). Channel statistics are kept along the
 * last axis of a value that any MatMul or Gemm uses, along axis 1 of other
 * values of rank >= 3 (NCHW), and not otherwise; only where that dim is
 * static in the value's type. Memory does not grow with the number of
 * samples: each sample's tensors are freed after its run and the statistics
 * have a fixed size.
 * Gram statistics (gram=true, the default; compiler/quant/calib_gram.h):
 * for the activation input X of every MatMul and Gemm whose weight B is a
 * rank-2 constant, H = (2/n) sum x x^T over the tokens of X (rows with the
 * leading dims flattened; K the first dim of a rank-2 X under Gemm
 * transA=1), K x K doubles, for GPTQ rounding in quantize. Input dims
 * K > Q_GRAM_MAX_K (4096) get none (counted as gram-skipped). For every
 * Conv with a constant weight, one Gram per group over its input patches
 * (compiler/quant/calib_conv_gram.h; per-group K up to 1024).
 * Changes to the IR: values with no name get the name the printer would
 * give them (so the printed IR reads the same and statistics are keyed by
 * printed names); the module gets `quench.calib_stats = "PATH"`.
 * Progress: a bar on stderr when it is a terminal, else one summary line.
 * Test: test/lit/quant/calibrate*.qir. Docs: docs/passes/calibrate.md,
 * docs/calibration.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "ir/names.h"
#include "passes/canon_util.h"
#include "pm/pass_manager.h"
#include "quant/calib.h"
#include "quant/calib_conv_gram.h"
#include "quant/calib_data.h"
#include "quant/calib_gram.h"

/* ---- naming ------------------------------------------------------------- */

/* Gives v its printed name if that differs from its name; 1 if it did. */
static int rename_value(IrModule *m, const IrNames *names, IrValue *v) {
  const char *pick = ir_names_get(names, v);
  if (v->name && strcmp(pick, v->name) == 0) return 0;
  ir_value_set_name(m, v, pick);
  return 1;
}

/* Function-level values whose printed name (ir/names.h, nested regions
 * counted) differs from their name get it as their name: statistics are
 * keyed by printed names. Returns how many were renamed. */
static int64_t name_values(IrModule *m, IrFunc *f) {
  IrNames *names = ir_names_compute(f);
  int64_t renamed = 0;
  for (uint32_t i = 0; i < f->body->nargs; i++) renamed += rename_value(m, names, f->body->args[i]);
  for (IrOp *op = f->body->first; op; op = op->next)
    for (uint32_t i = 0; i < op->nresults; i++) renamed += rename_value(m, names, op->results[i]);
  ir_names_free(names);
  return renamed;
}

/* ---- statistics entries ----------------------------------------------- */

static bool observed_type(const IrType *t) { return !t->quant && ir_elem_is_float(t->elem); }

/* The channel axis of v (see the file comment), or -1; *nch its size. */
static int32_t channel_axis(const IrValue *v, int64_t *nch) {
  const IrType *t = v->type;
  int32_t axis = -1;
  for (const IrUse *u = v->uses; u; u = u->next)
    if (u->user->kind == IR_OP_MATMUL || u->user->kind == IR_OP_GEMM) axis = t->rank - 1;
  if (axis < 0 && t->rank >= 3) axis = 1;
  if (axis < 0 || t->dims[axis].size < 0) return -1;
  *nch = t->dims[axis].size;
  return axis;
}

static void add_entry(QStats *s, const IrValue *v) {
  if (!observed_type(v->type) || !v->name) return;
  int64_t nch = 0;
  int32_t axis = channel_axis(v, &nch);
  q_stats_get(s, v->name, axis, nch);
}

/* The Gram entry for op's activation input when op is a MatMul or Gemm
 * with a rank-2 constant weight: keyed by X's name, K from the weight's
 * input dim (always static). A value read both ways keeps the first. */
static void add_gram(QGramSet *g, const IrOp *op, int64_t *skipped) {
  if ((op->kind != IR_OP_MATMUL && op->kind != IR_OP_GEMM) || op->noperands < 2) return;
  const IrValue *x = ir_op_operand(op, 0), *w = ir_op_operand(op, 1);
  if (!observed_type(x->type) || !x->name || !canon_const(w) || !ir_elem_is_float(w->type->elem) ||
      w->type->rank != 2)
    return;
  bool gemm = op->kind == IR_OP_GEMM;
  bool first = gemm && ir_op_attr_int(op, "transA", 0) && x->type->rank == 2;
  int64_t k = w->type->dims[gemm && ir_op_attr_int(op, "transB", 0) ? 1 : 0].size;
  if (k > Q_GRAM_MAX_K) {
    if (!q_gram_find(g, x->name)) (*skipped)++;
    return;
  }
  q_gram_get(g, x->name, k, first);
}

/* Conv inputs: one Gram per group (calib_conv_gram.h). */
static void add_conv_gram(QConvGramSet *cs, QGramSet *g, const IrOp *op, int64_t *skipped) {
  if (op->kind != IR_OP_CONV || op->noperands < 2) return;
  const IrValue *x = ir_op_operand(op, 0), *w = ir_op_operand(op, 1);
  if (!observed_type(x->type) || !canon_const(w) || !ir_elem_is_float(w->type->elem)) return;
  if (q_conv_gram_add(cs, g, op) < 0) (*skipped)++;
}

/* ---- the observer ------------------------------------------------------- */

typedef struct Calib {
  PassContext *ctx;
  QStats stats;
  QGramSet grams;
  QConvGramSet conv_grams;
  const IrRegion *body;
  bool first_sample;
  bool failed;
} Calib;

static bool observe_value(Calib *c, const IrOp *op, const IrValue *v, const Tensor *t) {
  QTensorStats *ts = v->name ? strmap_get(&c->stats.by_name, v->name) : NULL;
  if (!ts || !t) return true;
  char why[160];
  QGram *g = strmap_get(&c->grams.by_name, v->name);
  if (g && !q_gram_observe(g, t, why, sizeof why)) {
    quench_pass_error(c->ctx, op, "%s '%s' (Gram statistics): %s", op ? "value" : "input", v->name, why);
    c->failed = true;
    return false;
  }
  for (int i = 0; i < c->conv_grams.n; i++) {
    const QConvGram *cg = &c->conv_grams.c[i];
    if (cg->x == v && !q_conv_gram_observe(cg, t, c->ctx->diag, why, sizeof why)) {
      quench_pass_error(c->ctx, cg->op, "input '%s' (Gram statistics): %s", v->name, why);
      c->failed = true;
      return false;
    }
  }
  if (q_stats_observe(ts, t, why, sizeof why)) return true;
  quench_pass_error(c->ctx, op, "%s '%s': %s; the channel count must be the same in every sample",
                    op ? "value" : "input", v->name, why);
  c->failed = true;
  return false;
}

static bool observer(void *user, const IrOp *op, Tensor *const *results, uint32_t nresults) {
  Calib *c = user;
  if (op->parent != c->body) return true; /* inside an If/Loop body */
  if (op->kind == IR_OP_CONSTANT && !c->first_sample) return true;
  for (uint32_t i = 0; i < nresults && i < op->nresults; i++)
    if (!observe_value(c, op, op->results[i], results[i])) return false;
  return true;
}

/* ---- progress ------------------------------------------------------------- */

static void draw_bar(int done, int total, double secs) {
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int fill = total ? (int)((int64_t)done * WIDTH / total) : WIDTH;
  for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : ' ';
  bar[WIDTH] = '\0';
  fprintf(stderr, "\rcalibrate: [%s] %d/%d samples  %.1f s", bar, done, total, secs);
  fflush(stderr);
}

/* ---- the pass ------------------------------------------------------------- */

static bool run_samples(Calib *c, Interp *it, const QSampleSet *set, int n, bool bar, double t0) {
  const IrFunc *f = interp_func(it);
  uint32_t nargs = f->body->nargs, nres = f->nresults;
  Tensor **in = xcalloc(nargs + 1, sizeof *in), **out = xcalloc(nres + 1, sizeof *out);
  bool ok = true;
  double last_draw = 0;
  for (int i = 0; ok && i < n; i++) {
    c->first_sample = i == 0;
    ok = q_sample_load(set, i, f, in, c->ctx->diag);
    for (uint32_t k = 0; ok && k < nargs; k++) ok = observe_value(c, NULL, f->body->args[k], in[k]);
    if (ok && !interp_run(it, in, nargs, out)) {
      ok = false;
      if (!c->failed) diag_note(c->ctx->diag, diag_loc(set->paths[i], 0, 0), "while running this calibration sample");
    }
    for (uint32_t k = 0; k < nargs; k++) tensor_free(in[k]), in[k] = NULL;
    for (uint32_t k = 0; k < nres; k++) tensor_free(out[k]), out[k] = NULL;
    double now = pm_now();
    if (ok && bar && (now - last_draw >= 0.1 || i + 1 == n)) {
      draw_bar(i + 1, n, now - t0);
      last_draw = now;
    }
  }
  if (bar) fputc('\n', stderr);
  free(in);
  free(out);
  return ok;
}

static bool calibrate_run(QPassContext *ctx, QModule *m) {
  const char *data = quench_pass_option_string(ctx, "data");
  const char *path = quench_pass_option_string(ctx, "stats");
  int64_t want = quench_pass_option_int(ctx, "samples");
  bool progress = quench_pass_option_bool(ctx, "progress");
  bool gram = quench_pass_option_bool(ctx, "gram");
  if (!*data) {
    quench_pass_error(ctx, NULL, "the 'data' option is required: calibrate{data=DIR} names the folder of samples");
    return false;
  }
  if (!*path) {
    quench_pass_error(ctx, NULL, "the 'stats' option must name a file");
    return false;
  }
  double t0 = pm_now();
  Calib c = {.ctx = ctx};
  InterpOptions io = {.observer = observer, .observer_ctx = &c};
  Interp *it = interp_create(m, NULL, &io, ctx->diag);
  if (!it) return false;
  IrFunc *f = (IrFunc *)interp_func(it);
  QSampleSet set;
  if (!q_samples_find(data, f, &set, ctx->diag)) {
    interp_destroy(it);
    return false;
  }
  name_values(m, f);
  c.body = f->body;
  q_stats_init(&c.stats);
  for (uint32_t i = 0; i < f->body->nargs; i++) add_entry(&c.stats, f->body->args[i]);
  for (IrOp *op = f->body->first; op; op = op->next)
    for (uint32_t i = 0; i < op->nresults; i++) add_entry(&c.stats, op->results[i]);
  q_gram_set_init(&c.grams);
  int64_t gram_skipped = 0;
  for (IrOp *op = f->body->first; gram && op; op = op->next) add_gram(&c.grams, op, &gram_skipped);
  for (IrOp *op = f->body->first; gram && op; op = op->next) add_conv_gram(&c.conv_grams, &c.grams, op, &gram_skipped);

  int n = want > 0 && want < set.n ? (int)want : set.n;
  bool bar = progress && isatty(STDERR_FILENO);
  bool ok = run_samples(&c, it, &set, n, bar, t0);
  interp_destroy(it);
  q_samples_free(&set);
  c.stats.samples = n;
  if (ok) ok = q_stats_write_gram(&c.stats, &c.grams, path, ctx->diag);
  if (ok) {
    IrAttr a = {.name = "quench.calib_stats", .kind = IR_ATTR_STRING, .u.s = path};
    ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &a);
    quench_pass_stat_add(ctx, "samples", n);
    quench_pass_stat_add(ctx, "tensors", c.stats.n);
    quench_pass_stat_add(ctx, "gram", c.grams.n);
    quench_pass_stat_add(ctx, "gram-skipped", gram_skipped);
    if (progress && !bar)
      fprintf(stderr, "calibrate: %d samples, %d tensors, %.1f s -> %s\n", n, c.stats.n, pm_now() - t0, path);
  }
  q_stats_free(&c.stats);
  q_gram_set_free(&c.grams);
  q_conv_gram_set_free(&c.conv_grams);
  return ok;
}

static const QPassOption options[] = {
    {"data", Q_OPT_STRING, "", "folder of calibration samples (required; layouts in docs/calibration.md)", 0, 0},
    {"samples", Q_OPT_INT, "0", "use the first N samples in name order (0: all)", 0, 1000000000},
    {"stats", Q_OPT_STRING, "quench.qstats", "statistics file to write (.qstats)", 0, 0},
    {"progress", Q_OPT_BOOL, "true", "progress bar on a terminal, else a summary line, on stderr", 0, 0},
    {"gram", Q_OPT_BOOL, "true", "Gram matrices of MatMul/Gemm inputs (K <= 4096) and Conv input patches per group (K <= 1024) with constant weights, for GPTQ", 0,
     0},
    {NULL, Q_OPT_BOOL, NULL, NULL, 0, 0},
};

static const QPassStat stats[] = {
    {"samples", "calibration samples run"},
    {"tensors", "tensors with statistics"},
    {"gram", "Gram matrices: MatMul/Gemm inputs, and one per group of each Conv"},
    {"gram-skipped", "layers with no Gram matrix: MatMul/Gemm input dim above 4096, Conv per-group input dim above 1024"},
    {NULL, NULL},
};

const Pass pass_calibrate = {
    "calibrate",
    "run calibration samples on the interpreter and write tensor statistics (.qstats)",
    options,
    stats,
    calibrate_run,
};
