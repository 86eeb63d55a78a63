/* `quench report`, the measuring part: error metrics as running sums, the
 * pairing of quantized tensors with their float originals by name (`X.dq`
 * <-> `X`, docs/quantization.md), the two interpreter runs per sample and
 * the terminal table. The metrics follow ALGORITHMS.md section 14 (per-tensor
 * SQNR as ORT's qdq_loss_debug reports it: "xmodel" against the float run,
 * "qdq" across one pair). docs/report.md; tests: test/unit/test_report.c,
 * test/lit/quant/report-*.qir. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "pm/pass_manager.h"
#include "report/report.h"
#include "support/arena.h"
#include "support/strmap.h"

/* ---- metrics ---------------------------------------------------------------- */

void rep_metric_add(RepMetric *m, const Tensor *ref, const Tensor *q) {
  int64_t n = ref->numel < q->numel ? ref->numel : q->numel;
  bool f32 = ref->elem == IR_ELEM_F32 && q->elem == IR_ELEM_F32;
  const float *a = ref->data, *b = q->data;
  double r2 = 0, e2 = 0, dot = 0, q2 = 0, mx = m->max_abs;
  for (int64_t i = 0; i < n; i++) {
    double y = f32 ? a[i] : tensor_get_f64(ref, i), yq = f32 ? b[i] : tensor_get_f64(q, i);
    if (!isfinite(y) || !isfinite(yq)) {
      m->nonfinite++;
      continue;
    }
    double e = y - yq;
    r2 += y * y;
    e2 += e * e;
    dot += y * yq;
    q2 += yq * yq;
    if (fabs(e) > mx) mx = fabs(e);
    m->n++;
  }
  m->sum_ref2 += r2;
  m->sum_err2 += e2;
  m->sum_dot += dot;
  m->sum_q2 += q2;
  m->max_abs = mx;
}

double rep_metric_sqnr(const RepMetric *m) {
  if (m->n == 0) return NAN;
  if (m->sum_err2 == 0) return INFINITY;
  if (m->sum_ref2 == 0) return -INFINITY;
  return 10.0 * log10(m->sum_ref2 / m->sum_err2);
}

double rep_metric_cosine(const RepMetric *m) {
  if (m->sum_ref2 == 0 && m->sum_q2 == 0) return 1.0;
  if (m->sum_ref2 == 0 || m->sum_q2 == 0) return 0.0;
  return m->sum_dot / (sqrt(m->sum_ref2) * sqrt(m->sum_q2));
}

/* ---- pairing ------------------------------------------------------------------ */

/* Per-run state the observers see. Slots: one per row (the float X kept
 * from the float run, and X from the quantized run for the local metric). */
typedef struct Pairing {
  RepReport *r;
  StrMap fp_name;  /* X -> row index + 1 (float run captures) */
  StrMap q_name;   /* X -> row index + 1 (quantized run: X before its pair) */
  StrMap dq_name;  /* X.dq -> row index + 1 */
  char **dq_keys;  /* the X.dq strings dq_name points into */
  Tensor **fp_slot, **q_slot;
  int sample;
  Diag *d;
} Pairing;

static bool at_top(const IrOp *op) { return op->parent && op->parent->parent_op == NULL; }

static bool is_weight_dq(const IrOp *dq) {
  IrValue *x = ir_op_operand(dq, 0);
  if (!x || x->kind != IR_VALUE_RESULT) return false;
  if (x->def->kind == IR_OP_CONSTANT) return true;
  if (x->def->kind == IR_OP_QUANTIZE_LINEAR) {
    IrValue *w = ir_op_operand(x->def, 0);
    return w && w->kind == IR_VALUE_RESULT && w->def->kind == IR_OP_CONSTANT;
  }
  return false;
}

/* Rows: every top-level DequantizeLinear result named "X.dq" whose X names
 * a value of the float function, in the quantized graph's order. */
static void build_rows(Pairing *p, const IrFunc *ff, const IrFunc *qf) {
  StrMap fp_values;
  strmap_init(&fp_values);
  for (uint32_t i = 0; i < ff->body->nargs; i++)
    if (ff->body->args[i]->name) strmap_put(&fp_values, ff->body->args[i]->name, (void *)1);
  for (IrOp *op = ff->body->first; op; op = op->next)
    for (uint32_t i = 0; i < op->nresults; i++)
      if (op->results[i]->name) strmap_put(&fp_values, op->results[i]->name, (void *)1);
  RepReport *r = p->r;
  int cap = 0;
  for (IrOp *op = qf->body->first; op; op = op->next) {
    if (op->kind != IR_OP_DEQUANTIZE_LINEAR || !op->results[0]->name) continue;
    const char *dn = op->results[0]->name;
    size_t len = strlen(dn);
    if (len <= 3 || strcmp(dn + len - 3, ".dq") != 0) continue;
    char *x = xstrdup(dn);
    x[len - 3] = '\0';
    if (!strmap_get(&fp_values, x) || strmap_get(&p->fp_name, x)) {
      free(x);
      continue;
    }
    if (r->nrows == cap) {
      cap = cap ? 2 * cap : 16;
      r->rows = xrealloc(r->rows, (size_t)cap * sizeof *r->rows);
      p->dq_keys = xrealloc(p->dq_keys, (size_t)cap * sizeof *p->dq_keys);
    }
    RepRow *row = &r->rows[r->nrows];
    memset(row, 0, sizeof *row);
    row->name = x;
    row->kind = is_weight_dq(op) ? REP_ROW_WEIGHT : REP_ROW_ACT;
    IrUse *u = op->results[0]->uses;
    row->op = u ? ops_name(u->user->kind) : "-";
    IrValue *codes = ir_op_operand(op, 0);
    snprintf(row->storage, sizeof row->storage, "%s", codes ? ir_elem_name(codes->type->elem) : "?");
    p->dq_keys[r->nrows] = xstrdup(dn);
    r->nrows++;
  }
  for (int i = 0; i < r->nrows; i++) {
    strmap_put(&p->fp_name, r->rows[i].name, (void *)(intptr_t)(i + 1));
    strmap_put(&p->q_name, r->rows[i].name, (void *)(intptr_t)(i + 1));
    strmap_put(&p->dq_name, p->dq_keys[i], (void *)(intptr_t)(i + 1));
  }
  strmap_free(&fp_values);
}

static int row_of(const StrMap *m, const IrValue *v) {
  return v->name ? (int)(intptr_t)strmap_get(m, v->name) - 1 : -1;
}

/* Weights are the same every sample: measured on the first only. */
static bool wanted(const Pairing *p, int row) {
  return row >= 0 && (p->sample == 0 || p->r->rows[row].kind == REP_ROW_ACT);
}

static bool keep(Tensor **slot, const Tensor *t) {
  tensor_free(*slot);
  *slot = ir_elem_is_float(t->elem) ? tensor_clone(t) : NULL;
  return true;
}

static bool observe_fp(void *ctx, const IrOp *op, Tensor *const *res, uint32_t nres) {
  Pairing *p = ctx;
  if (!at_top(op)) return true;
  for (uint32_t i = 0; i < nres; i++) {
    int row = row_of(&p->fp_name, op->results[i]);
    if (wanted(p, row)) keep(&p->fp_slot[row], res[i]);
  }
  return true;
}

static bool observe_q(void *ctx, const IrOp *op, Tensor *const *res, uint32_t nres) {
  Pairing *p = ctx;
  if (!at_top(op)) return true;
  for (uint32_t i = 0; i < nres; i++) {
    int row = row_of(&p->dq_name, op->results[i]);
    if (wanted(p, row)) {
      RepRow *rw = &p->r->rows[row];
      Tensor *y = p->fp_slot[row];
      if (y && y->numel != res[i]->numel) {
        char b1[64], b2[64];
        diag_error(p->d, op->pos, "cannot pair '%s' %s with '%s' %s of the float model: different sizes",
                   op->results[i]->name, tensor_describe(res[i], b1, sizeof b1), rw->name,
                   tensor_describe(y, b2, sizeof b2));
        return false;
      }
      if (y) rep_metric_add(&rw->fp, y, res[i]);
      if (p->q_slot[row] && p->q_slot[row]->numel == res[i]->numel) rep_metric_add(&rw->local, p->q_slot[row], res[i]);
      tensor_free(p->fp_slot[row]);
      tensor_free(p->q_slot[row]);
      p->fp_slot[row] = p->q_slot[row] = NULL;
      continue;
    }
    row = row_of(&p->q_name, op->results[i]);
    if (wanted(p, row)) keep(&p->q_slot[row], res[i]);
  }
  return true;
}

static void clear_slots(Pairing *p) {
  for (int i = 0; i < p->r->nrows; i++) {
    tensor_free(p->fp_slot[i]);
    tensor_free(p->q_slot[i]);
    p->fp_slot[i] = p->q_slot[i] = NULL;
  }
}

/* ---- running -------------------------------------------------------------------- */

static const IrFunc *main_func(const IrModule *m) {
  const IrFunc *f = ir_module_find_func(m, "main");
  return f ? f : m->nfuncs ? m->funcs[0] : NULL;
}

static int pick_task_output(const RepReport *r, const RepOptions *o, const IrFunc *f, Diag *d) {
  if (r->task == REP_TASK_NONE) return -1;
  if (o->task_output) {
    for (int i = 0; i < r->nouts; i++)
      if (strcmp(r->outs[i].name, o->task_output) == 0) return i;
    diag_error(d, diag_loc("quench report", 0, 0), "the model has no output named '%s' (--task-output)",
               o->task_output);
    return -2;
  }
  if (r->task == REP_TASK_DETECT) {
    for (int i = 0; i < r->nouts; i++)
      if (strcmp(r->outs[i].name, "conf") == 0) return i;
    for (uint32_t i = 0; i < f->nresults; i++) {
      const IrType *t = f->result_types[i];
      if (t->rank == 2 && t->dims[1].size == 2) return (int)i;
    }
  }
  return 0;
}

bool rep_run(RepReport *r, const IrModule *fp, const IrModule *q, const QSampleSet *set, const RepOptions *o,
             Diag *d) {
  const DiagLoc where = {"quench report", 0, 0};
  const IrFunc *ff = main_func(fp), *qf = main_func(q);
  if (!ff || !qf) {
    diag_error(d, where, "a module has no function to run");
    return false;
  }
  if (ff->body->nargs != qf->body->nargs || ff->nresults != qf->nresults) {
    diag_error(d, where, "the quantized module's function has %u inputs and %u outputs, the float one %u and %u",
               qf->body->nargs, qf->nresults, ff->body->nargs, ff->nresults);
    return false;
  }
  memset(r, 0, sizeof *r);
  r->task = o->task;
  Pairing p = {.r = r, .d = d};
  strmap_init(&p.fp_name);
  strmap_init(&p.q_name);
  strmap_init(&p.dq_name);
  if (!o->fp_cache) build_rows(&p, ff, qf);
  p.fp_slot = xcalloc((size_t)r->nrows + 1, sizeof *p.fp_slot);
  p.q_slot = xcalloc((size_t)r->nrows + 1, sizeof *p.q_slot);
  r->nouts = (int)ff->nresults;
  r->outs = xcalloc((size_t)r->nouts + 1, sizeof *r->outs);
  IrOp *ret = ff->body->last;
  for (int i = 0; i < r->nouts; i++) {
    IrValue *v = ret && ret->kind == IR_OP_RETURN && (uint32_t)i < ret->noperands ? ir_op_operand(ret, (uint32_t)i) : NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "output_%d", i);
    r->outs[i].name = xstrdup(v && v->name ? v->name : buf);
  }
  r->task_output = pick_task_output(r, o, ff, d);
  bool ok = r->task_output != -2;
  if (!ok) r->task_output = -1;

  RepFloatCache *cache = o->fp_cache;
  if (cache && cache->nout != ff->nresults) rep_float_cache_free(cache), cache->nout = ff->nresults;
  InterpOptions fo = {.observer = observe_fp, .observer_ctx = &p}, qo = {.observer = observe_q, .observer_ctx = &p};
  if (cache) fo.observer = qo.observer = NULL; /* no rows to fill */
  int n = o->max_samples > 0 && o->max_samples < set->n ? o->max_samples : set->n;
  bool need_fp = !cache || cache->nsamples < n;
  Interp *fit = ok && need_fp ? interp_create(fp, ff->name, &fo, d) : NULL;
  Interp *qit = ok && (fit || !need_fp) ? interp_create(q, qf->name, &qo, d) : NULL;
  ok = (fit || !need_fp) && qit;
  uint32_t nin = ff->body->nargs, nout = ff->nresults;
  Tensor **in = xcalloc(nin + 1, sizeof *in), **y = xcalloc(nout + 1, sizeof *y), **yq = xcalloc(nout + 1, sizeof *yq);
  for (int s = 0; ok && s < n; s++) {
    p.sample = s;
    if (!o->load(set, s, ff, in, d)) {
      ok = false;
      break;
    }
    /* Arguments are no op's results: the observers never see them. */
    for (uint32_t i = 0; i < nin; i++) {
      int row = row_of(&p.fp_name, ff->body->args[i]);
      if (wanted(&p, row)) keep(&p.fp_slot[row], in[i]);
      row = row_of(&p.q_name, qf->body->args[i]);
      if (wanted(&p, row)) keep(&p.q_slot[row], in[i]);
    }
    bool cached = cache && s < cache->nsamples, stored = false;
    double t0 = pm_now();
    if (cached) memcpy(y, cache->outs + (size_t)s * nout, nout * sizeof *y);
    else ok = interp_run(fit, in, nin, y);
    if (ok && cache && !cached) {
      /* Samples run in order, so sample s is the next one to keep. */
      cache->outs = xrealloc(cache->outs, ((size_t)s + 1) * nout * sizeof *cache->outs + 1);
      memcpy(cache->outs + (size_t)s * nout, y, nout * sizeof *y);
      cache->nsamples = s + 1;
      stored = true;
    }
    double t1 = pm_now();
    ok = ok && interp_run(qit, in, nin, yq);
    r->fp_secs += t1 - t0;
    r->q_secs += pm_now() - t1;
    for (uint32_t i = 0; ok && i < nout; i++) {
      RepOutput *out = &r->outs[i];
      if (s == 0) tensor_describe(y[i], out->shape, sizeof out->shape);
      if (ir_elem_is_float(y[i]->elem) && ir_elem_is_float(yq[i]->elem) && y[i]->numel == yq[i]->numel)
        rep_metric_add(&out->m, y[i], yq[i]);
      char why[160];
      if ((int)i == r->task_output && !rep_task_score(r->task, y[i], yq[i], &r->agree, why, sizeof why)) {
        diag_error(d, where, "output '%s': %s", out->name, why);
        ok = false;
      }
    }
    if (ok) r->samples++;
    if (ok && o->progress)
      fprintf(o->progress, "sample %d/%d: %s (%.2f s float, %.2f s quantized)\n", s + 1, n, set->paths[s], t1 - t0,
              pm_now() - t1);
    for (uint32_t i = 0; i < nin; i++) tensor_free(in[i]), in[i] = NULL;
    for (uint32_t i = 0; i < nout; i++) {
      if (!cached && !stored) tensor_free(y[i]); /* else the cache owns them */
      tensor_free(yq[i]);
      y[i] = yq[i] = NULL;
    }
    clear_slots(&p);
  }
  /* A weight is the same constant in both runs: its own rounding is all
   * its error. */
  for (int i = 0; i < r->nrows; i++)
    if (r->rows[i].kind == REP_ROW_WEIGHT && r->rows[i].local.n == 0) r->rows[i].local = r->rows[i].fp;
  free(in);
  free(y);
  free(yq);
  interp_destroy(fit);
  interp_destroy(qit);
  clear_slots(&p);
  free(p.fp_slot);
  free(p.q_slot);
  for (int i = 0; i < r->nrows; i++) free(p.dq_keys[i]);
  free(p.dq_keys);
  strmap_free(&p.fp_name);
  strmap_free(&p.q_name);
  strmap_free(&p.dq_name);
  return ok;
}

void rep_float_cache_free(RepFloatCache *c) {
  for (size_t i = 0; i < (size_t)c->nsamples * c->nout; i++) tensor_free(c->outs[i]);
  free(c->outs);
  *c = (RepFloatCache){.nout = c->nout};
}

void rep_report_free(RepReport *r) {
  for (int i = 0; i < r->nrows; i++) free(r->rows[i].name);
  for (int i = 0; i < r->nouts; i++) free(r->outs[i].name);
  free(r->rows);
  free(r->outs);
  memset(r, 0, sizeof *r);
}

double rep_worst_output_sqnr(const RepReport *r) {
  double w = INFINITY;
  for (int i = 0; i < r->nouts; i++) {
    double s = rep_metric_sqnr(&r->outs[i].m);
    if (!isnan(s) && s < w) w = s;
  }
  return w;
}

double rep_agreement_pct(const RepReport *r) {
  if (r->task == REP_TASK_NONE || r->task_output < 0) return NAN;
  return r->agree.total ? 100.0 * (double)r->agree.matched / (double)r->agree.total : 100.0;
}

/* ---- the terminal table ------------------------------------------------------------ */

/* "%8.2f" of a dB figure, "-" where nothing was measured. */
static const char *db(double v, char *buf, size_t n) {
  if (isnan(v)) snprintf(buf, n, "%8s", "-");
  else snprintf(buf, n, "%8.2f", v);
  return buf;
}

static int cmp_sqnr(const void *a, const void *b) {
  const RepRow *x = *(const RepRow *const *)a, *y = *(const RepRow *const *)b;
  double sx = rep_metric_sqnr(&x->fp), sy = rep_metric_sqnr(&y->fp);
  if (isnan(sx)) sx = INFINITY;
  if (isnan(sy)) sy = INFINITY;
  return sx < sy ? -1 : sx > sy ? 1 : strcmp(x->name, y->name);
}

int rep_name_width(int longest) { return longest < 24 ? 24 : longest > 48 ? 48 : longest; }

void rep_print_name(FILE *out, const char *prefix, const char *name, int w) {
  /* Long names keep their tail, where ONNX exporters put the distinguishing part. */
  int room = w - (int)strlen(prefix), len = (int)strlen(name);
  if (len > room) fprintf(out, "%s...%-*s", prefix, room - 3, name + len - (room - 3));
  else fprintf(out, "%s%-*s", prefix, room, name);
}

void rep_print_table(FILE *out, const RepReport *r, int top) {
  int longest = 0;
  for (int i = 0; i < r->nrows; i++)
    if ((int)strlen(r->rows[i].name) > longest) longest = (int)strlen(r->rows[i].name);
  int w = rep_name_width(longest);
  const RepRow **sorted = xmalloc((size_t)(r->nrows + 1) * sizeof *sorted);
  for (int i = 0; i < r->nrows; i++) sorted[i] = &r->rows[i];
  qsort(sorted, (size_t)r->nrows, sizeof *sorted, cmp_sqnr);
  int k = top > 0 && top < r->nrows ? top : r->nrows;
  fprintf(out, "%d quantized tensors over %d samples; the %d worst by SQNR against the float model:\n", r->nrows,
          r->samples, k);
  fprintf(out, "  %-*s %-6s %-18s %-7s %8s %8s %9s %10s\n", w, "tensor", "kind", "read by", "codes", "sqnr", "qdq",
          "cosine", "max_err");
  for (int i = 0; i < k; i++) {
    const RepRow *rw = sorted[i];
    char b1[32], b2[32];
    rep_print_name(out, "  ", rw->name, w + 2);
    fprintf(out, " %-6s %-18s %-7s %s %s %9.6f %10.4g\n",
            rw->kind == REP_ROW_WEIGHT ? "weight" : "act", rw->op, rw->storage, db(rep_metric_sqnr(&rw->fp), b1, sizeof b1),
            db(rep_metric_sqnr(&rw->local), b2, sizeof b2), rep_metric_cosine(&rw->fp), rw->fp.max_abs);
  }
  free(sorted);
  for (int i = 0; i < r->nouts; i++) {
    const RepOutput *o = &r->outs[i];
    fprintf(out, "output %d '%s' %s: sqnr %.2f dB cosine %.6f max_err %.4g\n", i, o->name, o->shape,
            rep_metric_sqnr(&o->m), rep_metric_cosine(&o->m), o->m.max_abs);
  }
  if (r->task != REP_TASK_NONE && r->task_output >= 0)
    fprintf(out, "task %s on '%s': %lld of %lld agree (%.2f%%)\n", rep_task_name(r->task),
            r->outs[r->task_output].name, (long long)r->agree.matched, (long long)r->agree.total,
            rep_agreement_pct(r));
}
