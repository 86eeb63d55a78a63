/* `quench report --sensitivity`: which quantized activations are worth
 * keeping float. The per-tensor table says where the error is; this says
 * what removing a pair buys at the outputs, which is what a mixed-precision
 * decision needs (ZeroQ's measure, ALGORITHMS.md section 11 (b): quantize
 * everything but one tensor and score the model; here the score is the
 * report's own output SQNR and task agreement on the evaluation data).
 * Then a greedy search keeps the best ones float together, one more at a
 * time, until the gates hold: pairs interact (errors partly cancel), so
 * each step is measured, not summed, and a value is kept only when the
 * step raises the SQNR.
 * docs/report.md#sensitivity; test: test/lit/quant/report-sensitivity.qir. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "support/arena.h"
#include "support/fileio.h"

static RepScore score_of(const RepReport *r) {
  return (RepScore){rep_worst_output_sqnr(r), rep_agreement_pct(r), r->agree};
}

static bool gates_hold(const RepScore *s, const RepSensOptions *so) {
  return s->sqnr >= so->min_sqnr && (isnan(s->agree) ? so->min_agree == -INFINITY : s->agree >= so->min_agree);
}

/* Quantizes with `floats` kept float and scores it on the evaluation set. */
static bool evaluate(const IrModule *fp, const QSampleSet *set, const RepOptions *ro, RepFloatCache *cache,
                     RepQuantizeFn build, void *ctx, const char *const *floats, int n, RepScore *out, Diag *d) {
  IrModule *q = build(ctx, floats, n, d);
  if (!q) return false;
  RepOptions o = *ro;
  o.progress = NULL; /* one line per evaluation instead, from the caller */
  o.fp_cache = cache;
  RepReport r = {0};
  bool ok = rep_run(&r, fp, q, set, &o, d);
  if (ok) *out = score_of(&r);
  rep_report_free(&r);
  ir_module_destroy(q);
  return ok;
}

/* Larger SQNR first; then higher agreement; then graph order (stable). */
static int cmp_gain(const void *a, const void *b) {
  const RepSensRow *x = a, *y = b;
  double sx = isnan(x->s.sqnr) ? -INFINITY : x->s.sqnr, sy = isnan(y->s.sqnr) ? -INFINITY : y->s.sqnr;
  if (sx != sy) return sx > sy ? -1 : 1;
  double ax = isnan(x->s.agree) ? 0 : x->s.agree, ay = isnan(y->s.agree) ? 0 : y->s.agree;
  if (ax != ay) return ax > ay ? -1 : 1;
  return x->index - y->index;
}

static void progress(const RepSensOptions *so, const char *what, int i, int n, const char *name, const RepScore *s) {
  if (!so->progress) return;
  fprintf(so->progress, "sensitivity %s %d/%d: %s: %.2f dB", what, i, n, name, s->sqnr);
  if (!isnan(s->agree)) fprintf(so->progress, ", %.2f%% agree", s->agree);
  fputc('\n', so->progress);
  fflush(so->progress);
}

bool rep_sensitivity_run(RepSensitivity *s, const RepReport *base, const IrModule *fp, const QSampleSet *set,
                         const RepOptions *ro, RepQuantizeFn build, void *ctx, const RepSensOptions *so, Diag *d) {
  *s = (RepSensitivity){.base = score_of(base)};
  RepFloatCache cache = {0}; /* the float model runs once, not once per evaluation */
  s->gated = so->min_sqnr != -INFINITY || so->min_agree != -INFINITY;
  s->rows = xmalloc((size_t)(base->nrows + 1) * sizeof *s->rows);
  for (int i = 0; i < base->nrows; i++)
    if (base->rows[i].kind == REP_ROW_ACT) {
      /* float-values is a comma list: such a name cannot be passed. */
      if (strchr(base->rows[i].name, ',')) s->skipped++;
      else s->rows[s->nrows++] = (RepSensRow){.name = base->rows[i].name, .index = i};
    }
  /* names[]: the values kept float in one evaluation (up to all of them). */
  const char **names = xmalloc((size_t)(s->nrows + 1) * sizeof *names);
  bool ok = true;
  for (int i = 0; ok && i < s->nrows; i++) {
    ok = evaluate(fp, set, ro, &cache, build, ctx, &s->rows[i].name, 1, &s->rows[i].s, d);
    if (ok) progress(so, "alone", i + 1, s->nrows, s->rows[i].name, &s->rows[i].s);
  }
  /* Every activation float at once: what keeping activations float can
   * reach at best (the weights' own error), to tell the user which side
   * to work on. */
  for (int i = 0; i < s->nrows; i++) names[i] = s->rows[i].name;
  s->all_float = s->base;
  if (ok && s->nrows) {
    ok = evaluate(fp, set, ro, &cache, build, ctx, names, s->nrows, &s->all_float, d);
    if (ok) progress(so, "all", 1, 1, "every activation", &s->all_float);
  }
  qsort(s->rows, (size_t)s->nrows, sizeof *s->rows, cmp_gain);
  s->met = s->gated && gates_hold(&s->base, so);
  int useful = 0;
  while (useful < s->nrows && s->rows[useful].s.sqnr > s->base.sqnr) useful++;
  s->steps = xmalloc((size_t)(useful + 1) * sizeof *s->steps);
  s->chosen = xmalloc((size_t)(useful + 1) * sizeof *s->chosen);
  RepScore cur = s->base;
  for (int i = 0; ok && i < useful && s->nsteps < so->max_float && !s->met; i++) {
    names[s->nsteps] = s->rows[i].name;
    RepScore t;
    if (!(ok = evaluate(fp, set, ro, &cache, build, ctx, names, s->nsteps + 1, &t, d))) break;
    s->tried++;
    progress(so, "together", i + 1, useful, names[s->nsteps], &t);
    /* Pairs interact: a value that helps alone can hurt next to the ones
     * already float (their errors partly cancelled). Keep it only when the
     * SQNR rises. */
    if (!(t.sqnr > cur.sqnr)) continue;
    cur = t;
    s->chosen[s->nsteps] = i;
    s->steps[s->nsteps++] = t;
    s->met = s->gated && gates_hold(&t, so);
  }
  free(names);
  rep_float_cache_free(&cache);
  return ok;
}

static void score_cols(FILE *out, const RepScore *s, double base_sqnr) {
  fprintf(out, " %8.2f %+7.2f", s->sqnr, s->sqnr - base_sqnr);
  if (!isnan(s->agree))
    fprintf(out, "  %lld of %lld (%.2f%%)", (long long)s->counts.matched, (long long)s->counts.total, s->agree);
  fputc('\n', out);
}

void rep_sensitivity_print(FILE *out, const RepSensitivity *s, const RepSensOptions *so, int top) {
  if (s->nrows == 0) {
    fprintf(out, "sensitivity: no quantized activation to keep float%s\n",
            s->skipped ? " (those with a comma in the name are left out)" : " (weights only)");
    if (s->gated && !s->met)
      fprintf(out, "gates: not met: the weights' own error is too large (a finer weight format, granularity "
                   "or GPTQ)\n");
    return;
  }
  int longest = 0;
  for (int i = 0; i < s->nrows; i++)
    if ((int)strlen(s->rows[i].name) > longest) longest = (int)strlen(s->rows[i].name);
  int w = rep_name_width(longest);
  int k = top > 0 && top < s->nrows ? top : s->nrows;
  fprintf(out, "sensitivity: each of %d quantized activations kept float alone; the %d that help most:\n", s->nrows,
          k);
  if (s->skipped)
    fprintf(out, "  (%d activation%s with a comma in the name left out: quantize's float-values cannot name %s)\n",
            s->skipped, s->skipped == 1 ? "" : "s", s->skipped == 1 ? "it" : "them");
  fprintf(out, "  %-*s %8s %7s  %s\n", w, "kept float", "sqnr", "gain", isnan(s->base.agree) ? "" : "agreement");
  fprintf(out, "  %-*s", w, "(none)");
  score_cols(out, &s->base, s->base.sqnr);
  fprintf(out, "  %-*s", w, "(every activation)");
  score_cols(out, &s->all_float, s->base.sqnr);
  for (int i = 0; i < k; i++) {
    rep_print_name(out, "  ", s->rows[i].name, w + 2);
    score_cols(out, &s->rows[i].s, s->base.sqnr);
  }
  if (s->nsteps) {
    fprintf(out, "kept float together (%d of %d tried raised the SQNR):\n", s->nsteps, s->tried);
    for (int i = 0; i < s->nsteps; i++) {
      char label[64];
      snprintf(label, sizeof label, "  %d: + ", i + 1);
      rep_print_name(out, label, s->rows[s->chosen[i]].name, w + 2);
      score_cols(out, &s->steps[i], s->base.sqnr);
    }
  }
  if (!s->gated) return;
  if (s->met && s->nsteps == 0)
    fprintf(out, "gates: met with every pair quantized\n");
  else if (s->met)
    fprintf(out, "gates: met with %d activation%s kept float\n", s->nsteps, s->nsteps == 1 ? "" : "s");
  else
    fprintf(out, "gates: not met with %d activation%s kept float (%s)\n", s->nsteps, s->nsteps == 1 ? "" : "s",
            s->nsteps < so->max_float ? "no other activation raises the SQNR"
                                      : "the --max-float limit; raise it to search further");
  if (s->gated && !s->met && !gates_hold(&s->all_float, so))
    fprintf(out, "gates: not met even with every activation float: the weights' own error is too large "
                 "(a finer weight format, granularity or GPTQ)\n");
}

bool rep_sensitivity_write_config(const RepSensitivity *s, const char *config, const char *path, Diag *d) {
  char *text = NULL;
  size_t len = 0;
  if (config && !(text = fileio_read_path(config, "config file", &len, d, diag_loc(config, 0, 0)))) return false;
  OutFile out;
  if (!outfile_open(&out, path, "the suggested config", d)) {
    free(text);
    return false;
  }
  const RepScore *last = s->nsteps ? &s->steps[s->nsteps - 1] : &s->base;
  fprintf(out.f, "# quench report --sensitivity: %d activation%s kept float: output %.2f dB", s->nsteps,
          s->nsteps == 1 ? "" : "s", last->sqnr);
  if (!isnan(last->agree)) fprintf(out.f, ", %.2f%% agree", last->agree);
  fprintf(out.f, " (all quantized: %.2f dB", s->base.sqnr);
  if (!isnan(s->base.agree)) fprintf(out.f, ", %.2f%%", s->base.agree);
  fprintf(out.f, ")%s\n", s->gated ? s->met ? "; the gates hold" : "; the gates do not hold" : "");
  if (text) {
    fprintf(out.f, "# from %s:\n", config);
    fwrite(text, 1, len, out.f);
    if (len && text[len - 1] != '\n') fputc('\n', out.f);
  }
  for (int i = 0; i < s->nsteps; i++) {
    const char *name = s->rows[s->chosen[i]].name;
    /* The config syntax has no quoting: a name with a blank or '#' cannot
     * be written as a rule. */
    if (strpbrk(name, " \t#\n")) fprintf(out.f, "# cannot express as a rule (blank or '#'): %s\n", name);
    else fprintf(out.f, "tensor %s float\n", name);
  }
  free(text);
  return outfile_commit(&out, d);
}

void rep_sensitivity_free(RepSensitivity *s) {
  free(s->rows);
  free(s->steps);
  free(s->chosen);
  *s = (RepSensitivity){0};
}
