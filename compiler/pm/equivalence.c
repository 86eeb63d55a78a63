/* The equivalence check of --verify-equivalence (equivalence.h): inputs
 * from a sample folder or a seeded generator, interpreter runs at pass
 * boundaries, and the rule of ../shared/ALGORITHMS.md section 0,
 * max|y - y'| <= tol * max(1, max|y|). The module is never cloned: the
 * outputs before a pass are kept, the pass runs in place, and the module is
 * run again. Tests: test/unit/test_equivalence.c, test/lit/pm/equivalence*. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "interp/tensor_io.h"
#include "interp/tensor_random.h"
#include "ir/verifier.h"
#include "pm/equivalence.h"
#include "quant/calib_data.h"
#include "support/arena.h"

struct EquivChecker {
  EquivOptions opts;
  FILE *report;
  DiagLoc where;
  QSampleSet set; /* data mode: the sample folder */
  bool have_inputs;
  int nsamples;
  uint32_t nargs, nresults;
  Tensor **inputs; /* [sample * nargs + k] */
  Tensor **ref;    /* [sample * nresults + k]; NULL when stale */
};

bool equiv_compare(const Tensor *after, const Tensor *before, EquivError *e) {
  memset(e, 0, sizeof *e);
  e->worst = -1;
  e->shape_ok = after->elem == before->elem && tensor_same_shape(after, before);
  if (!e->shape_ok) return false;
  for (int64_t i = 0; i < before->numel; i++) {
    double y = tensor_get_f64(before, i), y2 = tensor_get_f64(after, i), diff;
    if (isnan(y) || isnan(y2)) diff = isnan(y) && isnan(y2) ? 0 : INFINITY;
    else if (isinf(y) || isinf(y2)) diff = y == y2 ? 0 : INFINITY;
    else diff = fabs(y - y2);
    if (isfinite(y) && fabs(y) > e->max_ref) e->max_ref = fabs(y);
    if (e->worst < 0 || diff > e->max_abs) {
      e->max_abs = diff;
      e->worst = i;
    }
  }
  e->rel = e->max_abs / fmax(1.0, e->max_ref);
  return true;
}

bool equiv_within(const EquivError *e, double tol) { return e->shape_ok && e->rel <= tol; }

EquivChecker *equiv_create(const EquivOptions *o, FILE *report, DiagLoc where) {
  EquivChecker *c = xcalloc(1, sizeof *c);
  c->opts = *o;
  if (c->opts.samples <= 0) c->opts.samples = EQUIV_DEFAULT_SAMPLES;
  c->report = report ? report : stderr;
  c->where = where;
  return c;
}

static void free_outputs(const EquivChecker *c, Tensor **outs) {
  for (size_t i = 0; outs && i < (size_t)c->nsamples * c->nresults; i++) tensor_free(outs[i]);
  free(outs);
}

static void free_refs(EquivChecker *c) {
  free_outputs(c, c->ref);
  c->ref = NULL;
}

void equiv_destroy(EquivChecker *c) {
  if (!c) return;
  free_refs(c);
  for (int64_t i = 0; c->inputs && i < (int64_t)c->nsamples * c->nargs; i++) tensor_free(c->inputs[i]);
  free(c->inputs);
  if (c->opts.data) q_samples_free(&c->set);
  free(c);
}

bool equiv_checks(const EquivChecker *c, const char *name) {
  if (c->opts.npasses == 0) return true;
  for (int i = 0; i < c->opts.npasses; i++)
    if (strcmp(c->opts.passes[i], name) == 0) return true;
  return false;
}

void equiv_forget(EquivChecker *c) { free_refs(c); }

static const char *arg_name(const IrFunc *f, uint32_t k) {
  const char *n = f->body->args[k]->name;
  return n ? n : "?";
}

static const char *result_name(const IrFunc *f, uint32_t k) {
  const IrValue *v = f->body->last && k < f->body->last->noperands ? ir_op_operand(f->body->last, k) : NULL;
  return v && v->name ? v->name : "?";
}

/* "sample 1 ('DIR/test_data_set_1')" or "random sample 1 (seed 7)". */
static const char *sample_desc(const EquivChecker *c, int s, char *buf, size_t n) {
  if (c->opts.data) snprintf(buf, n, "sample %d ('%s')", s, c->set.paths[s]);
  else snprintf(buf, n, "random sample %d (seed %llu)", s, (unsigned long long)c->opts.seed);
  return buf;
}

/* The inputs of every sample, for function f: from the folder, or random
 * (static shapes only). */
static bool make_inputs(EquivChecker *c, const IrFunc *f, Diag *d) {
  c->nargs = f->body->nargs;
  c->nresults = f->nresults;
  if (c->opts.data) {
    if (!q_samples_find(c->opts.data, f, &c->set, d)) return false;
    c->nsamples = c->set.n < c->opts.samples ? c->set.n : c->opts.samples;
  } else {
    c->nsamples = c->opts.samples;
  }
  c->have_inputs = true;
  c->inputs = xcalloc((size_t)c->nsamples * c->nargs + 1, sizeof *c->inputs);
  uint64_t state = tensor_random_state(c->opts.seed);
  for (int s = 0; s < c->nsamples; s++) {
    Tensor **in = c->inputs + (size_t)s * c->nargs;
    if (c->opts.data) {
      if (!q_sample_load(&c->set, s, f, in, d)) return false;
      continue;
    }
    for (uint32_t k = 0; k < c->nargs; k++) {
      const IrType *ty = f->body->args[k]->type;
      char buf[256];
      if (!tensor_type_is_static(ty)) {
        diag_error(d, c->where,
                   "equivalence check: input '%s' of @%s (%s) has no static shape, and random inputs need one; "
                   "give samples with --equivalence-data=DIR",
                   arg_name(f, k), f->name, tensor_type_describe(ty, buf, sizeof buf));
        return false;
      }
      if (!(in[k] = tensor_random(ty, &state))) {
        diag_error(d, c->where, "equivalence check: input '%s' of @%s (%s) is too large to generate",
                   arg_name(f, k), f->name, tensor_type_describe(ty, buf, sizeof buf));
        return false;
      }
    }
  }
  return true;
}

/* Runs m's function on every sample: a new array [sample * nresults + k],
 * NULL after a report. *fout gets the function run. `when` ("before",
 * "after") and the pass name the reports. */
static Tensor **run_all(EquivChecker *c, const IrModule *m, const char *when, const char *pass,
                        const IrFunc **fout, Diag *d) {
  /* The interpreter trusts verified IR; under --no-verify nobody else checked. */
  if (!ir_verify(m, d)) {
    diag_error(d, c->where, "equivalence check: the module is not valid IR %s pass '%s'", when, pass);
    return NULL;
  }
  Interp *it = interp_create(m, NULL, NULL, d);
  if (!it) {
    diag_error(d, c->where, "equivalence check: the interpreter cannot run the module %s pass '%s'", when, pass);
    return NULL;
  }
  const IrFunc *f = *fout = interp_func(it);
  bool ok = c->have_inputs || make_inputs(c, f, d);
  if (ok && (f->body->nargs != c->nargs || f->nresults != c->nresults)) {
    diag_error(d, c->where,
               "equivalence check: @%s has %u inputs and %u outputs %s pass '%s', %u and %u before the first "
               "check; only passes that keep the signature can be checked",
               f->name, f->body->nargs, f->nresults, when, pass, c->nargs, c->nresults);
    ok = false;
  }
  Tensor **outs = ok ? xcalloc((size_t)c->nsamples * c->nresults + 1, sizeof *outs) : NULL;
  for (int s = 0; ok && s < c->nsamples; s++) {
    ok = interp_run(it, c->inputs + (size_t)s * c->nargs, c->nargs, outs + (size_t)s * c->nresults);
    if (!ok) {
      char buf[600];
      diag_error(d, c->where, "equivalence check: the interpreter failed on %s %s pass '%s'",
                 sample_desc(c, s, buf, sizeof buf), when, pass);
    }
  }
  interp_destroy(it);
  if (!ok) {
    free_outputs(c, outs);
    return NULL;
  }
  return outs;
}

bool equiv_before(EquivChecker *c, const IrModule *m, const char *pass, Diag *d) {
  if (c->ref) return true;
  const IrFunc *f;
  c->ref = run_all(c, m, "before", pass, &f, d);
  return c->ref != NULL;
}

bool equiv_after(EquivChecker *c, const IrModule *m, const char *pass, Diag *d) {
  const IrFunc *f = NULL;
  Tensor **outs = c->ref ? run_all(c, m, "after", pass, &f, d) : NULL;
  if (!outs) {
    free_refs(c);
    return false;
  }
  /* The worst output over every sample, and the first shape change. */
  size_t n = (size_t)c->nsamples * c->nresults;
  double worst = 0;
  int64_t worst_i = -1, shape_i = -1;
  EquivError worst_e = {0};
  for (size_t i = 0; i < n; i++) {
    EquivError e;
    if (!equiv_compare(outs[i], c->ref[i], &e)) {
      if (shape_i < 0) shape_i = (int64_t)i;
    } else if (worst_i < 0 || e.rel > worst) {
      worst = e.rel;
      worst_i = (int64_t)i;
      worst_e = e;
    }
  }
  bool ok = true;
  char sb[600], ab[256], bb[256];
  if (shape_i >= 0) {
    int s = (int)(shape_i / c->nresults);
    uint32_t k = (uint32_t)(shape_i % c->nresults);
    fprintf(c->report, "equivalence: FAIL '%s': an output changed shape\n", pass);
    fflush(c->report);
    diag_error(d, c->where, "pass '%s' is not equivalent: output %u '%s' changed from %s to %s on %s", pass, k,
               result_name(f, k), tensor_describe(c->ref[shape_i], bb, sizeof bb),
               tensor_describe(outs[shape_i], ab, sizeof ab), sample_desc(c, s, sb, sizeof sb));
    ok = false;
  } else {
    ok = worst <= c->opts.tol;
    fprintf(c->report, "equivalence: %s '%s': max rel error %.2g over %d sample%s (tol %g)\n", ok ? "PASS" : "FAIL",
            pass, worst, c->nsamples, c->nsamples == 1 ? "" : "s", c->opts.tol);
    fflush(c->report);
    if (!ok) {
      int s = (int)(worst_i / c->nresults);
      uint32_t k = (uint32_t)(worst_i % c->nresults);
      diag_error(d, c->where,
                 "pass '%s' is not equivalent: output %u '%s' on %s: max |y - y'| = %.3g (element %lld) exceeds "
                 "tol * max(1, max|y|) = %g * %.3g (max rel error %.2g)",
                 pass, k, result_name(f, k), sample_desc(c, s, sb, sizeof sb), worst_e.max_abs,
                 (long long)worst_e.worst, c->opts.tol, fmax(1.0, worst_e.max_ref), worst);
    }
  }
  /* The outputs after this pass are the reference of the next. */
  free_refs(c);
  if (ok) c->ref = outs;
  else free_outputs(c, outs);
  return ok;
}
