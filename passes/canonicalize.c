/* canonicalize: the canonicalization passes, run to a fixed point.
 *
 * What it does: runs remove-identity, constant-fold, fold-batchnorm,
 * fold-conv-add, raise-layernorm, raise-rmsnorm, raise-gelu, raise-silu,
 * raise-hardswish and dce, in that order, with their default options
 * (constant-fold's max-bytes from `fold-max-bytes`), again and again until
 * a round changes nothing or `max-iterations` rounds ran. One rewrite can
 * enable another (a folded Identity exposes a constant; dce frees a value's
 * last other user so a pattern becomes single-use), hence the loop. raise-layernorm
 * runs before raise-rmsnorm, since a layer norm is an RMS norm of x - mean.
 * The pass manager has no pipeline aliases; a pass that drives the others
 * keeps one name in pipelines, --help and --pass-stats (each statistic
 * here sums one sub-pass's counters).
 * Needs: verified IR. Guarantees: what each sub-pass guarantees.
 * Test: test/lit/passes/canonicalize.qir. Docs: docs/passes/canonicalize.md. */
#include <string.h>

#include "pm/pass_manager.h"

extern const Pass pass_remove_identity, pass_constant_fold, pass_fold_batchnorm, pass_fold_conv_add,
    pass_raise_layernorm, pass_raise_rmsnorm, pass_raise_gelu, pass_raise_silu, pass_raise_hardswish, pass_dce;

static const Pass *const subpasses[] = {
    &pass_remove_identity, &pass_constant_fold, &pass_fold_batchnorm, &pass_fold_conv_add,
    &pass_raise_layernorm, &pass_raise_rmsnorm, &pass_raise_gelu,     &pass_raise_silu,
    &pass_raise_hardswish, &pass_dce,
};
#define NSUB (int)(sizeof subpasses / sizeof subpasses[0])
#define MAX_OPTS 4
#define MAX_STATS 8

/* A sub-pass ready to run: its info, option values and counters. */
typedef struct Sub {
  PassInfo info;
  PassOptionValue values[MAX_OPTS];
  int64_t stats[MAX_STATS];
} Sub;

static void sub_init(Sub *s, const Pass *p, int64_t fold_max_bytes) {
  memset(s, 0, sizeof *s);
  s->info.pass = p;
  s->info.defaults = s->values;
  for (const PassOption *o = p->options; o && o->name; o++) {
    PassOptionValue *v = &s->values[s->info.nopts++];
    if (o->kind == Q_OPT_STRING)
      v->s = o->dflt;
    else
      pass_option_parse(o, o->dflt, strlen(o->dflt), v);
    if (p == &pass_constant_fold && strcmp(o->name, "max-bytes") == 0) v->i = fold_max_bytes;
  }
  for (const PassStat *st = p->stats; st && st->name; st++) s->info.nstats++;
}

static bool run(PassContext *ctx, IrModule *m) {
  Sub subs[NSUB];
  for (int i = 0; i < NSUB; i++) sub_init(&subs[i], subpasses[i], quench_pass_option_int(ctx, "fold-max-bytes"));
  int64_t max_iter = quench_pass_option_int(ctx, "max-iterations");
  int errors = ctx->diag->errors;
  for (int64_t it = 0; it < max_iter; it++) {
    int64_t changes = 0;
    for (int i = 0; i < NSUB; i++) {
      Sub *s = &subs[i];
      int64_t before[MAX_STATS];
      memcpy(before, s->stats, sizeof before);
      PassContext sub = {&s->info, s->values, s->stats, ctx->diag, m, ctx->where};
      if (!subpasses[i]->run(&sub, m) || ctx->diag->errors > errors) return false;
      int64_t n = 0;
      for (int j = 0; j < s->info.nstats; j++) n += s->stats[j] - before[j];
      quench_pass_stat_add(ctx, subpasses[i]->name, n);
      changes += n;
    }
    quench_pass_stat_add(ctx, "iterations", 1);
    if (!changes) break;
  }
  return true;
}

static const PassOption options[] = {
    {"max-iterations", Q_OPT_INT, "8", "stop after this many rounds even if the last one changed something", 1, 1000},
    {"fold-max-bytes", Q_OPT_INT, "1048576", "constant-fold's max-bytes: largest result to materialize", 0,
     INT64_MAX},
    {0},
};

static const PassStat stats[] = {
    {"iterations", "rounds run (the last one changed nothing unless max-iterations stopped it)"},
    {"remove-identity", "Identity/Dropout ops removed"},
    {"constant-fold", "ops folded to constants (shapes included)"},
    {"fold-batchnorm", "BatchNormalization ops folded"},
    {"fold-conv-add", "per-channel Adds folded into a Conv bias"},
    {"raise-layernorm", "LayerNormalization ops raised"},
    {"raise-rmsnorm", "RMSNormalization ops raised"},
    {"raise-gelu", "Gelu ops raised"},
    {"raise-silu", "Swish ops raised"},
    {"raise-hardswish", "HardSwish ops raised"},
    {"dce", "dead ops and pool constants erased"},
    {0},
};

const Pass pass_canonicalize = {
    .name = "canonicalize",
    .summary = "Run the canonicalization passes (fold, raise, dce) to a fixed point",
    .options = options,
    .stats = stats,
    .run = run,
};
