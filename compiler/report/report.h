/* `quench report`: how far a quantized module strays from its float
 * original. Both modules run in the reference interpreter on the same
 * inputs; tensors are paired by name (docs/quantization.md: `X.dq` in the
 * quantized graph stands for `X` in the float graph), and per pair the error
 * is accumulated over all samples as running sums (never the tensors).
 * Per pair: SQNR dB = 10 log10(sum y^2 / sum (y - yq)^2), cosine and max abs
 * error; the same for each model output; and a task-level agreement (same
 * top-1 label, same CTC text, same next token, same detected faces).
 * report.c: metrics and pairing; report_task.c: task decoders;
 * report_html.c: the HTML page. docs/report.md describes the output;
 * tests: test/unit/test_report.c, test/lit/quant/report-*.qir. */
#ifndef QUENCH_REPORT_REPORT_H
#define QUENCH_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "interp/tensor.h"
#include "ir/ir.h"
#include "quant/calib_data.h"
#include "support/diag.h"

/* ---- metrics ------------------------------------------------------------ */

/* Running sums for one pair (y: float reference, yq: quantized), over every
 * element of every sample: the metrics treat all samples as one long
 * vector. Non-finite pairs are counted apart and left out of the sums. */
typedef struct RepMetric {
  double sum_ref2; /* sum y^2 */
  double sum_err2; /* sum (y - yq)^2 */
  double sum_dot;  /* sum y yq */
  double sum_q2;   /* sum yq^2 */
  double max_abs;  /* max |y - yq| */
  int64_t n;       /* finite pairs */
  int64_t nonfinite;
} RepMetric;

/* Adds ref/q (same element count, any float types) to m. */
void rep_metric_add(RepMetric *m, const Tensor *ref, const Tensor *q);
/* +inf when there is no error; -inf when the reference is all zero but the
 * quantized values are not; NaN when nothing was added. */
double rep_metric_sqnr(const RepMetric *m);
/* y.yq / (|y| |yq|); 1 when both are all zero, 0 when only one is. */
double rep_metric_cosine(const RepMetric *m);

/* ---- task agreement (report_task.c) --------------------------------------- */

typedef enum {
  REP_TASK_NONE,
  REP_TASK_TOP1,       /* argmax over the last dim, per row */
  REP_TASK_CTC,        /* [B,T,C] (or [T,C]): greedy CTC text per batch row */
  REP_TASK_NEXT_TOKEN, /* argmax over the last dim at every position */
  REP_TASK_DETECT,     /* [N,2] face scores: the set of N with [n,1] > 0.5 */
} RepTask;

bool rep_task_from_name(const char *name, RepTask *t);
const char *rep_task_name(RepTask t);

/* Index of the largest of x[0], x[stride], ... x[(n-1)*stride]; the first
 * of equal maxima wins (numpy's argmax); NaN is never the maximum unless
 * all are NaN (then 0). */
int64_t rep_argmax(const float *x, int64_t n, int64_t stride);
/* Greedy CTC: argmax per time step over C classes (row t at x + t*C),
 * repeats collapsed, blank (class 0) dropped. Writes the labels to out (room
 * for T) and returns their count. */
int64_t rep_ctc_decode(const float *x, int64_t T, int64_t C, int64_t *out);

/* Agreement counts: matched of total units (rows, sequences, positions or,
 * for detect, the size of the intersection of the union of the two sets). */
typedef struct RepAgree {
  int64_t matched, total;
} RepAgree;

/* Adds one sample's agreement between the float output `ref` and the
 * quantized `q` (f32, same shape). Returns false with the reason in why when
 * the output cannot be scored by task t (wrong rank or type). */
bool rep_task_score(RepTask t, const Tensor *ref, const Tensor *q, RepAgree *a, char *why, size_t nwhy);

/* ---- the report (report.c) ------------------------------------------------ */

typedef enum { REP_ROW_ACT, REP_ROW_WEIGHT } RepRowKind;

/* One quantized tensor X: its `X.dq` in the quantized module against X in
 * the float module. */
typedef struct RepRow {
  char *name;      /* X */
  RepRowKind kind; /* weight: X.dq dequantizes a constant */
  const char *op;  /* the op that reads X.dq first ("Conv"); "-" if none */
  char storage[16];/* element type of the quantized codes ("u8", "f4E2M1") */
  RepMetric fp;    /* X.dq (quantized run) against X (float run): accumulated error */
  RepMetric local; /* X.dq against X in the same quantized run: this pair's rounding */
} RepRow;

typedef struct RepOutput {
  char *name;
  char shape[64]; /* of the first sample, "f32[1x10]" */
  RepMetric m;
} RepOutput;

typedef struct RepReport {
  RepRow *rows; /* graph order of the quantized module */
  int nrows;
  RepOutput *outs;
  int nouts;
  RepTask task;
  int task_output; /* index into outs; -1: no task */
  RepAgree agree;
  int samples;
  double fp_secs, q_secs; /* interpreter time, all samples */
} RepReport;

/* The float model's outputs per sample, kept across rep_run calls on the
 * same float module and samples (--sensitivity scores many quantized
 * modules against one float run). */
typedef struct RepFloatCache {
  Tensor **outs; /* outs[s * nout + i]: output i of sample s */
  int nsamples;  /* samples filled */
  uint32_t nout;
} RepFloatCache;
void rep_float_cache_free(RepFloatCache *c);

typedef struct RepOptions {
  RepTask task;
  const char *task_output; /* output name; NULL: the first (detect: "conf" or the first [N,2]) */
  int max_samples;         /* 0: every sample */
  FILE *progress;          /* one line per sample, or NULL */
  /* Loads sample i: q_sample_load (compiler/quant/calib_data.h), or a
   * test's own loader. */
  bool (*load)(const QSampleSet *s, int i, const IrFunc *f, Tensor **inputs, Diag *d);
  /* Non-NULL: outputs and task only (no tensor rows), and the float model
   * runs only on samples the cache does not hold yet. */
  RepFloatCache *fp_cache;
} RepOptions;

/* Runs `fp` and `q` (function "main" or the first) on the samples of `set`
 * and fills r. The two functions must have the same arguments and results.
 * Memory: per sample, the float tensors that have a pair are kept from the
 * float run until their partner appears in the quantized run (then freed);
 * across samples only the running sums. Errors are reported to d. */
bool rep_run(RepReport *r, const IrModule *fp, const IrModule *q, const QSampleSet *set, const RepOptions *o,
             Diag *d);
void rep_report_free(RepReport *r);

/* The worst output SQNR (the gate of --min-sqnr); +inf with no outputs. */
double rep_worst_output_sqnr(const RepReport *r);
/* Agreement in percent; 100 when nothing was counted (detect: no face in
 * either run), NaN without a task. */
double rep_agreement_pct(const RepReport *r);

/* The terminal table: the `top` worst tensors by SQNR (0: all), every
 * output, the task row. */
void rep_print_table(FILE *out, const RepReport *r, int top);
/* The name column of the terminal tables: as wide as the longest name,
 * 24 to 48 characters; a longer name keeps its tail after "...". */
int rep_name_width(int longest);
/* prefix, then name, padded or cut to w characters in all. */
void rep_print_name(FILE *out, const char *prefix, const char *name, int w);

/* ---- sensitivity (report_sensitivity.c) ------------------------------------ */

/* Builds the quantized module again with the named values kept float (the
 * caller's pipeline, `quantize{float-values=...}`); NULL after an error,
 * reported to d. */
typedef IrModule *(*RepQuantizeFn)(void *ctx, const char *const *floats, int nfloats, Diag *d);

/* The outputs' worst SQNR and the task agreement of one quantized module. */
typedef struct RepScore {
  double sqnr;  /* worst output */
  double agree; /* percent; NaN without a task */
  RepAgree counts;
} RepScore;

typedef struct RepSensRow {
  const char *name; /* an activation row of the base report */
  int index;        /* its row index there (graph order) */
  RepScore s;       /* with it alone kept float */
} RepSensRow;

typedef struct RepSensitivity {
  RepScore base;
  RepScore all_float; /* every activation float: the weights' error alone, the search's ceiling */
  RepSensRow *rows; /* every activation row, largest SQNR first */
  int nrows;
  int skipped;      /* activation rows left out: a comma in the name */
  RepScore *steps;  /* steps[k]: rows[chosen[0..k]] kept float together */
  int *chosen;      /* indices into rows of the values the search kept float */
  int nsteps;
  int tried;        /* values tried together (kept or not) */
  bool gated;       /* a --min-sqnr or --min-agreement gate was given */
  bool met;         /* ... and it holds at the last step (or at the base) */
} RepSensitivity;

typedef struct RepSensOptions {
  int max_float;             /* most values kept float together; 0: one-at-a-time table only */
  double min_sqnr, min_agree; /* the gates; -inf: none */
  FILE *progress;            /* one line per evaluation, or NULL */
} RepSensOptions;

/* Ranks base's activation rows by what keeping each alone float buys (one
 * quantization and evaluation each), then tries them float together in
 * that order, keeping each that raises the SQNR, until the gates hold or
 * max_float values are float (only values whose own gain is positive). ro
 * as for rep_run. */
bool rep_sensitivity_run(RepSensitivity *s, const RepReport *base, const IrModule *fp, const QSampleSet *set,
                         const RepOptions *ro, RepQuantizeFn build, void *ctx, const RepSensOptions *so, Diag *d);
void rep_sensitivity_print(FILE *out, const RepSensitivity *s, const RepSensOptions *so, int top);
/* A config file (docs/quant-config.md): a comment with the figures, the
 * text of `config` (the user's --config file, or NULL), then one `tensor
 * NAME float` rule per value the cumulative search kept float. Written
 * through a temporary renamed into place. */
bool rep_sensitivity_write_config(const RepSensitivity *s, const char *config, const char *path, Diag *d);
void rep_sensitivity_free(RepSensitivity *s);

/* ---- HTML (report_html.c) ------------------------------------------------- */

typedef struct RepHtmlInfo {
  const char *model;    /* path shown in the title */
  const char *data;     /* evaluation folder */
  const char *pipeline; /* the pass pipeline that built the quantized module */
  const RepSensitivity *sens; /* --sensitivity's result, or NULL */
} RepHtmlInfo;

/* Writes a self-contained page (inline CSS and SVG, no scripts) through a
 * temporary renamed into place. */
bool rep_write_html(const RepReport *r, const RepHtmlInfo *info, const char *path, Diag *d);

#endif
