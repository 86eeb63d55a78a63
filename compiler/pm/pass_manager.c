/* Runs a pipeline on a module with MLIR-style instrumentation around each
 * pass: IR dumps before/after, the verifier after every pass (a pass that
 * breaks the IR is named, not the pass after it), wall-time accounting,
 * statistics and the --verify-equivalence interpreter runs (equivalence.h).
 * Also the running pass's side of include/quench/pass.h:
 * options, statistics and error reporting. */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir/text.h"
#include "ir/verifier.h"
#include "pm/pass_manager.h"

double pm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void pm_init(PassManager *pm, const Pipeline *pl, const PassManagerOptions *opts) {
  memset(pm, 0, sizeof *pm);
  pm->pipeline = pl;
  pm->opts = *opts;
  if (!pm->opts.dump) pm->opts.dump = stderr;
  pm->stats = xcalloc((size_t)pl->n + 1, sizeof *pm->stats);
  pm->entry_secs = xcalloc((size_t)pl->n + 1, sizeof *pm->entry_secs);
  for (int i = 0; i < pl->n; i++) pm->stats[i] = xcalloc((size_t)pl->entries[i].info->nstats + 1, sizeof(int64_t));
}

void pm_free(PassManager *pm) {
  for (int i = 0; pm->stats && i < pm->pipeline->n; i++) free(pm->stats[i]);
  free(pm->stats);
  free(pm->entry_secs);
  memset(pm, 0, sizeof *pm);
}

static bool name_listed(const char *name, const char *const *list, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(list[i], name) == 0) return true;
  return false;
}

/* MLIR's dump header, so tools that split MLIR dumps work on ours too. */
static void dump_ir(FILE *out, const char *when, const char *pass, const IrModule *m) {
  fprintf(out, "// -----// IR Dump %s %s //----- //\n", when, pass);
  ir_print_module(out, m, NULL, NULL);
  fputc('\n', out);
  fflush(out);
}

/* The pipeline proper; eq (NULL: no check) runs around the checked passes. */
static bool run_entries(PassManager *pm, IrModule *m, EquivChecker *eq, Diag *d) {
  const PassManagerOptions *o = &pm->opts;
  for (int i = 0; i < pm->pipeline->n; i++) {
    const PipelineEntry *e = &pm->pipeline->entries[i];
    const char *name = e->info->pass->name;
    if (o->print_before_all || name_listed(name, o->print_before, o->nprint_before))
      dump_ir(o->dump, "Before", name, m);
    bool check = eq && equiv_checks(eq, name);
    if (check) {
      double t = pm_now();
      bool ready = equiv_before(eq, m, name, d);
      pm->equiv_secs += pm_now() - t;
      if (!ready) return false;
    }

    PassContext ctx = {e->info, e->values, pm->stats[i], d, m, o->where};
    int errors = d->errors;
    double t0 = pm_now();
    bool ok = e->info->pass->run(&ctx, m);
    pm->entry_secs[i] += pm_now() - t0;
    if (!ok || d->errors > errors) {
      diag_error(d, o->where, "pass '%s' failed", name);
      return false;
    }
    if (o->verify) {
      t0 = pm_now();
      ok = ir_verify(m, d);
      pm->verify_secs += pm_now() - t0;
      if (!ok) {
        diag_error(d, o->where, "IR verification failed after pass '%s'", name);
        return false;
      }
    }
    if (o->print_after_all || name_listed(name, o->print_after, o->nprint_after))
      dump_ir(o->dump, "After", name, m);
    if (check) {
      t0 = pm_now();
      ok = equiv_after(eq, m, name, d);
      pm->equiv_secs += pm_now() - t0;
      if (!ok) return false;
    } else if (eq) {
      equiv_forget(eq);
    }
  }
  return true;
}

bool pm_run(PassManager *pm, IrModule *m, Diag *d) {
  const PassManagerOptions *o = &pm->opts;
  /* One checker per module: its inputs fit this module's function. */
  EquivChecker *eq = o->equiv.enabled ? equiv_create(&o->equiv, o->dump, o->where) : NULL;
  bool ok = run_entries(pm, m, eq, d);
  equiv_destroy(eq);
  return ok;
}

void pm_print_stats(const PassManager *pm, FILE *out) {
  const Pipeline *pl = pm->pipeline;
  fputs("===- Pass statistics -===\n", out);
  for (int i = 0; i < pl->n; i++) {
    const PassInfo *pi = pl->entries[i].info;
    bool first = true;
    for (int j = 0; j < i; j++) first &= pl->entries[j].info != pi;
    if (!first) continue; /* repeated passes are summed into the first line */
    for (int s = 0; s < pi->nstats; s++) {
      int64_t total = 0;
      for (int j = i; j < pl->n; j++)
        if (pl->entries[j].info == pi) total += pm->stats[j][s];
      fprintf(out, "%s: %" PRId64 " %s\n", pi->pass->name, total, pi->pass->stats[s].name);
    }
  }
}

static void time_row(FILE *out, const char *name, double secs, double total) {
  fprintf(out, "  %9.4f (%5.1f%%)  %s\n", secs, total > 0 ? 100.0 * secs / total : 0.0, name);
}

void pm_print_timing(const PassManager *pm, FILE *out, const PassTimeRow *before, const PassTimeRow *after) {
  double total = pm->verify_secs + pm->equiv_secs;
  for (const PassTimeRow *r = before; r && r->name; r++) total += r->secs;
  for (const PassTimeRow *r = after; r && r->name; r++) total += r->secs;
  for (int i = 0; i < pm->pipeline->n; i++) total += pm->entry_secs[i];
  fputs("===- Pass execution timing report -===\n", out);
  fprintf(out, "  Total Execution Time: %.4f seconds\n\n", total);
  fputs("  ---Wall Time---   ---Name---\n", out);
  for (const PassTimeRow *r = before; r && r->name; r++) time_row(out, r->name, r->secs, total);
  for (int i = 0; i < pm->pipeline->n; i++)
    time_row(out, pm->pipeline->entries[i].info->pass->name, pm->entry_secs[i], total);
  if (pm->opts.verify) time_row(out, "verify", pm->verify_secs, total);
  if (pm->opts.equiv.enabled) time_row(out, "verify-equivalence", pm->equiv_secs, total);
  for (const PassTimeRow *r = after; r && r->name; r++) time_row(out, r->name, r->secs, total);
  time_row(out, "Total", total, total);
}

/* ---- the running pass's API (include/quench/pass.h) -------------------- */

static int option_index(const QPassContext *ctx, const char *name, QOptionKind kind) {
  int k = pass_info_option_index(ctx->info, name, strlen(name));
  assert(k >= 0 && "pass asked for an option it does not declare");
  assert(ctx->info->pass->options[k].kind == kind && "pass asked for an option as the wrong kind");
  (void)kind;
  return k;
}

bool quench_pass_option_bool(const QPassContext *ctx, const char *name) {
  return ctx->values[option_index(ctx, name, Q_OPT_BOOL)].b;
}

int64_t quench_pass_option_int(const QPassContext *ctx, const char *name) {
  return ctx->values[option_index(ctx, name, Q_OPT_INT)].i;
}

double quench_pass_option_float(const QPassContext *ctx, const char *name) {
  return ctx->values[option_index(ctx, name, Q_OPT_FLOAT)].f;
}

const char *quench_pass_option_string(const QPassContext *ctx, const char *name) {
  return ctx->values[option_index(ctx, name, Q_OPT_STRING)].s;
}

void quench_pass_stat_add(QPassContext *ctx, const char *name, int64_t n) {
  for (int i = 0; i < ctx->info->nstats; i++) {
    if (strcmp(ctx->info->pass->stats[i].name, name) == 0) {
      ctx->stats[i] += n;
      return;
    }
  }
  assert(!"pass counted a statistic it does not declare");
}

static void report(QPassContext *ctx, DiagLevel lvl, const QOp *op, const char *fmt, va_list ap) {
  DiagLoc loc = op ? ir_op_diag_loc(op) : ctx->where;
  if (!loc.file) loc = ctx->where; /* ops a pass created have no position */
  /* Prefix with the pass so a message from deep in a pipeline says who. */
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  diag_report(ctx->diag, lvl, loc, "%s [pass '%s']", msg, ctx->info->pass->name);
}

void quench_pass_error(QPassContext *ctx, const QOp *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(ctx, DIAG_ERROR, op, fmt, ap);
  va_end(ap);
}

void quench_pass_warning(QPassContext *ctx, const QOp *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(ctx, DIAG_WARNING, op, fmt, ap);
  va_end(ap);
}
