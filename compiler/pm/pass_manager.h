/* The pass manager: a registry of passes (built-ins from passes/registry.c
 * plus plugins), pipeline strings (`dce,foo{alpha=0.5}`) parsed into a list
 * of configured passes, and a runner that verifies, prints, times and counts
 * around every pass. docs/pass-manager.md describes the user-visible side;
 * include/quench/pass.h is the API passes are written against. */
#ifndef QUENCH_PM_PASS_MANAGER_H
#define QUENCH_PM_PASS_MANAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"
#include "pm/equivalence.h"
#include "quench/pass.h"
#include "support/strmap.h"

typedef QPass Pass;
typedef QPassOption PassOption;
typedef QPassStat PassStat;

/* ---- built-in passes (passes/registry.c) ---------------------------- */

/* The built-in passes in registration order; *n receives their count. */
const Pass *const *pass_builtins(int *n);

/* ---- option values --------------------------------------------------- */

typedef union PassOptionValue {
  bool b;
  int64_t i;
  double f;
  const char *s; /* unescaped, NUL-terminated */
} PassOptionValue;

typedef enum {
  PASS_OPT_OK,
  PASS_OPT_BAD_SYNTAX, /* not a bool / int / float */
  PASS_OPT_OUT_OF_RANGE, /* an int outside [min, max] or int64 */
} PassOptionStatus;

/* Parses `text` (len bytes) as a value of option `o`. Strings are returned
 * as-is (not copied: point into text, not NUL-terminated, so callers copy). */
PassOptionStatus pass_option_parse(const PassOption *o, const char *text, size_t len, PassOptionValue *out);
const char *pass_option_kind_name(QOptionKind k);
/* Prints a value as a pipeline string would spell it. */
void pass_option_print(FILE *out, const PassOption *o, PassOptionValue v);

/* ---- registry --------------------------------------------------------- */

typedef struct PassInfo {
  const Pass *pass;
  const char *origin; /* NULL: built-in; else the plugin's path */
  int nopts, nstats;
  PassOptionValue *defaults; /* one per option, parsed at registration */
} PassInfo;

typedef struct PassRegistry {
  PassInfo **passes; /* registration order */
  int n, cap;
  StrMap by_name;
  void **handles; /* dlopen handles, closed by pass_registry_free */
  int nhandles;
} PassRegistry;

void pass_registry_init(PassRegistry *r);
void pass_registry_free(PassRegistry *r);
/* Adds every built-in pass. False (after a report at `where`) only if a
 * built-in descriptor is malformed. */
bool pass_registry_add_builtins(PassRegistry *r, Diag *d, DiagLoc where);
/* Validates and adds a pass; origin as in PassInfo. Reports duplicates and
 * malformed descriptors at `where` and returns false. */
bool pass_registry_add(PassRegistry *r, const Pass *p, const char *origin, Diag *d, DiagLoc where);
const PassInfo *pass_registry_find(const PassRegistry *r, const char *name);
/* Index of option `name` (len bytes) of a pass, or -1. */
int pass_info_option_index(const PassInfo *pi, const char *name, size_t len);
/* The closest of `names` to `word` (len bytes) by edit distance, when close
 * enough to be a likely typo; NULL otherwise. */
const char *pass_suggest(const char *const *names, int n, const char *word, size_t len);
const char *pass_registry_suggest(const PassRegistry *r, const char *word, size_t len);
/* The pass list of --help: each pass, its summary, origin and options. */
void pass_registry_print_help(FILE *out, const PassRegistry *r);

/* dlopens a plugin and runs its quench_plugin_init. Reports failures at
 * `where` and returns false. */
bool pass_plugin_load(PassRegistry *r, const char *path, Diag *d, DiagLoc where);
/* dlcloses every loaded plugin (pass_registry_free calls it). */
void pass_plugin_close_all(PassRegistry *r);

/* ---- pipelines -------------------------------------------------------- */

typedef struct PipelineEntry {
  const PassInfo *info;
  PassOptionValue *values; /* one per option of the pass */
  int col;                 /* 1-based column of the pass name */
} PipelineEntry;

typedef struct Pipeline {
  PipelineEntry *entries;
  int n, cap;
  Arena arena; /* option strings */
} Pipeline;

void pipeline_init(Pipeline *p);
void pipeline_free(Pipeline *p);
/* Parses `text` and appends its passes to `p`. Errors are reported at
 * `srcname`:1:col (register the text with diag_add_source to get a caret)
 * and make it return false. */
bool pipeline_parse(Pipeline *p, const PassRegistry *r, const char *text, const char *srcname, Diag *d);
/* The canonical spelling, every option given: `dce{keep-consts=false},...`. */
void pipeline_print(FILE *out, const Pipeline *p);

/* ---- running ------------------------------------------------------------ */

typedef struct PassManagerOptions {
  bool verify;              /* verify after each pass */
  bool print_before_all, print_after_all;
  const char *const *print_before; /* pass names */
  int nprint_before;
  const char *const *print_after;
  int nprint_after;
  FILE *dump;     /* where IR dumps go (stderr) */
  DiagLoc where;  /* reported location of "pass 'X' failed" and the like */
  EquivOptions equiv; /* --verify-equivalence; its lines go to `dump` */
} PassManagerOptions;

typedef struct PassManager {
  const Pipeline *pipeline;
  PassManagerOptions opts;
  int64_t **stats;     /* per pipeline entry, per declared statistic */
  double *entry_secs;  /* wall time per pipeline entry */
  double verify_secs;  /* verifier runs after passes */
  double equiv_secs;   /* interpreter runs of --verify-equivalence */
} PassManager;

void pm_init(PassManager *pm, const Pipeline *pl, const PassManagerOptions *opts);
void pm_free(PassManager *pm);
/* Runs the pipeline on m. On failure, reports why and returns false; the
 * module is then in whatever state the failing pass left it. */
bool pm_run(PassManager *pm, IrModule *m, Diag *d);
/* --pass-stats: statistics summed per pass name, in pipeline order. */
void pm_print_stats(const PassManager *pm, FILE *out);

/* Seconds since an arbitrary start, monotonic. */
double pm_now(void);
/* --time-passes: `rows_before` and `rows_after` (name, seconds; NULL name
 * ends) frame the pass rows, e.g. parsing and printing. */
typedef struct PassTimeRow {
  const char *name;
  double secs;
} PassTimeRow;
void pm_print_timing(const PassManager *pm, FILE *out, const PassTimeRow *rows_before, const PassTimeRow *rows_after);

/* ---- the context a running pass sees (opaque to plugins) ---------------- */

struct PassContext {
  const PassInfo *info;
  const PassOptionValue *values;
  int64_t *stats;
  Diag *diag;
  IrModule *module;
  DiagLoc where; /* for reports not tied to an op */
};
typedef struct PassContext PassContext;

#endif
