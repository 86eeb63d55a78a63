/* quench: the user-facing driver. `quench quantize` imports a model, runs
 * canonicalize, calibrate, quantize (and lower-int) through the pass manager
 * and writes .qir or QDQ .onnx; `quench report` runs the float and the
 * quantized model side by side in the interpreter and says which tensor
 * loses how much (compiler/report/). The pipeline is an ordinary pass
 * pipeline string (--print-pipeline shows it), so everything here can also
 * be done with quench-opt. docs/quench.md is the manual; tests:
 * test/lit/quant/report-*.qir, test/lit/quant/driver-*.qir,
 * test/lit/models/quant-*.test. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/c/cgen.h"
#include "interp/tensor.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "ir/weights.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "pm/pass_manager.h"
#include "quant/calib_data.h"
#include "report/report.h"
#include "support/arena.h"
#include "support/fileio.h"

#ifndef QUENCH_VERSION
#define QUENCH_VERSION "0.1.0"
#endif

typedef struct Opts {
  const char *cmd; /* "quantize" or "report" */
  const char *model, *output;
  /* quantize */
  const char *calib, *calib_samples, *stats, *preset, *config, *calibrator, *percentile, *keep_float;
  bool lower_int, print_pipeline, progress, help;
  /* report */
  const char *data, *quantized, *eval_samples, *task, *task_output, *html, *top, *min_sqnr, *min_agreement;
  bool sensitivity;
  const char *max_float, *suggest_config;
  const char *float_values; /* not a flag: what --sensitivity passes to quantize */
  /* compile */
  const char *target, *weights, *name, *input_shape;
} Opts;

static void usage_main(FILE *f) {
  fputs("usage: quench <command> [options]\n"
        "\n"
        "commands:\n"
        "  quantize MODEL --calib DIR -o OUT   calibrate and quantize a model (.onnx or .qir)\n"
        "  report MODEL --data DIR [--calib DIR] measure the quantized model against the float one\n"
        "  compile MODEL --calib DIR -o DIR    quantize and compile to a C library (docs/backends/c.md)\n"
        "  help [COMMAND]                      this help, or a command's options\n"
        "\n"
        "  --version                           print the version\n"
        "\n"
        "'quench help COMMAND' lists a command's options; docs/quench.md is the manual.\n",
        f);
}

static const char quant_opts_help[] =
    "  --calib DIR            calibration samples (test_data_set_* folders or input files)\n"
    "  --calib-samples N      use at most N of them (default: all)\n"
    "  --stats FILE           the .qstats statistics file: written when calibrating, reused when it\n"
    "                         exists and --calib is not given\n"
    "  --preset P             w8a8 (default), w8a8-sym, w4a16, w4a8, w4a4, fp8, mxfp4, nvfp4\n"
    "  --config FILE          per-op/per-tensor settings (docs/quant-config.md)\n"
    "  --calibrator C         minmax, percentile, entropy or mse (default: the preset's)\n"
    "  --percentile X         for --calibrator percentile, e.g. 99.99\n"
    "  --keep-float LIST      comma list of node or op-type names that stay float\n"
    "  --lower-int            also lower QDQ patterns to integer ops\n"
    "  --print-pipeline       print the pass pipeline before running it\n"
    "  --progress             one line per calibration or evaluation sample on stderr\n";

static void usage_quantize(FILE *f) {
  fputs("usage: quench quantize MODEL(.onnx|.qir) --calib DIR [options] -o OUT(.qir|.onnx)\n"
        "\n"
        "Runs canonicalize,calibrate,quantize[,lower-int] and writes the result: .qir (large constants\n"
        "in OUT.weights) or a QDQ .onnx model.\n"
        "\n"
        "options:\n"
        "  -o FILE                the output, .qir or .onnx\n",
        f);
  fputs(quant_opts_help, f);
}

static void usage_report(FILE *f) {
  fputs("usage: quench report MODEL(.onnx|.qir) --data DIR [--calib DIR] [options]\n"
        "\n"
        "Quantizes MODEL (or loads --quantized), runs both models on every sample of --data and\n"
        "prints per-tensor SQNR, cosine and max error, the outputs' and the task agreement.\n"
        "\n"
        "options:\n"
        "  --data DIR             evaluation samples (same layouts as --calib)\n"
        "  --quantized FILE       a quantized .qir made earlier from MODEL instead of quantizing\n"
        "  --eval-samples N       use at most N evaluation samples\n"
        "  --task T               top1, ctc, next-token, detect or none (default: top1 when the\n"
        "                         first output is a 2-D float tensor, else none)\n"
        "  --task-output NAME     the output the task scores (default: the first; detect: 'conf')\n"
        "  --html FILE            also write an HTML page with a per-tensor SQNR chart\n"
        "  --top K                rows of the terminal table (default 10; 0: all)\n"
        "  --min-sqnr DB          exit 1 when the worst output SQNR is below DB\n"
        "  --min-agreement PCT    exit 1 when the task agreement is below PCT percent\n"
        "  --sensitivity          also quantize again with each activation kept float alone, rank\n"
        "                         them by the output SQNR gained, and keep the best float together\n"
        "                         until the gates above hold (docs/report.md#sensitivity)\n"
        "  --max-float N          --sensitivity: at most N activations kept float together (8)\n"
        "  --suggest-config FILE  --sensitivity: write those as a config file (--config's rules first)\n",
        f);
  fputs(quant_opts_help, f);
}

static void usage_compile(FILE *f) {
  fputs("usage: quench compile MODEL(.onnx|.qir) --calib DIR [options] -o OUTDIR\n"
        "\n"
        "Quantizes MODEL (canonicalize, calibrate, quantize, lower-int), binds its input shapes,\n"
        "and writes a C library into OUTDIR: NAME.h, NAME.c, the weights, a driver NAME_main.c,\n"
        "the runtime sources, a Makefile, and NAME.qir (the exact module compiled).\n"
        "\n"
        "options:\n"
        "  -o DIR                 the output folder (created if missing)\n"
        "  --target T             generic (default), x86-64-avx2, x86-64-avx512vnni, x86-64-amx, aarch64-dotprod\n"
        "  --weights W            embed (default: a const array in NAME_weights.c) or blob\n"
        "                         (NAME.weights, loaded by the caller)\n"
        "  --name NAME            C prefix and file stem (default: the model file's stem)\n"
        "  --input-shape LIST     bind input shapes: NAME=DIMS items, e.g. x=1x3x48x192 or\n"
        "                         batch=1 (default: the first calibration sample's shapes)\n",
        f);
  fputs(quant_opts_help, f);
}

/* ---- command line ------------------------------------------------------------ */

typedef struct Flag {
  const char *name;
  size_t off;   /* offset of the const char * or bool in Opts */
  bool takes;   /* takes a value */
  int only;     /* 0: every command; 1: report only; 2: compile only */
} Flag;

#define F(n, field, takes, only) {n, offsetof(Opts, field), takes, only}
static const Flag flags[] = {
    F("-o", output, true, 0),
    F("--calib", calib, true, 0),
    F("--calib-samples", calib_samples, true, 0),
    F("--stats", stats, true, 0),
    F("--preset", preset, true, 0),
    F("--config", config, true, 0),
    F("--calibrator", calibrator, true, 0),
    F("--percentile", percentile, true, 0),
    F("--keep-float", keep_float, true, 0),
    F("--lower-int", lower_int, false, 0),
    F("--print-pipeline", print_pipeline, false, 0),
    F("--progress", progress, false, 0),
    F("--help", help, false, 0),
    F("-h", help, false, 0),
    F("--data", data, true, 1),
    F("--quantized", quantized, true, 1),
    F("--eval-samples", eval_samples, true, 1),
    F("--task", task, true, 1),
    F("--task-output", task_output, true, 1),
    F("--html", html, true, 1),
    F("--top", top, true, 1),
    F("--min-sqnr", min_sqnr, true, 1),
    F("--min-agreement", min_agreement, true, 1),
    F("--sensitivity", sensitivity, false, 1),
    F("--max-float", max_float, true, 1),
    F("--suggest-config", suggest_config, true, 1),
    F("--target", target, true, 2),
    F("--weights", weights, true, 2),
    F("--name", name, true, 2),
    F("--input-shape", input_shape, true, 2),
};
#undef F
#define NFLAGS ((int)(sizeof flags / sizeof *flags))

static int err(const char *cmd, const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "quench%s%s: error: ", cmd ? " " : "", cmd ? cmd : "");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return 1;
}

static bool flag_allowed(const Flag *f, const char *cmd) {
  return f->only == 0 || (f->only == 1 && strcmp(cmd, "report") == 0) || (f->only == 2 && strcmp(cmd, "compile") == 0);
}

static int unknown_option(const Opts *o, const char *a) {
  const char *names[NFLAGS];
  int n = 0;
  for (int i = 0; i < NFLAGS; i++)
    if (flag_allowed(&flags[i], o->cmd)) names[n++] = flags[i].name;
  const char *eq = strchr(a, '=');
  const char *s = pass_suggest(names, n, a, eq ? (size_t)(eq - a) : strlen(a));
  if (s) return err(o->cmd, "unknown option '%s'; did you mean '%s'?", a, s);
  return err(o->cmd, "unknown option '%s' (see 'quench help %s')", a, o->cmd);
}

/* argv[0] is the command; returns 0 or the exit code. */
static int parse_args(int argc, char **argv, Opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0') {
      if (o->model) return err(o->cmd, "more than one model given ('%s' and '%s')", o->model, a);
      o->model = a;
      continue;
    }
    const Flag *fl = NULL;
    const char *val = NULL;
    for (int k = 0; k < NFLAGS && !fl; k++) {
      size_t n = strlen(flags[k].name);
      if (strncmp(a, flags[k].name, n) != 0) continue;
      if (a[n] == '\0') fl = &flags[k];
      else if (a[n] == '=' && flags[k].takes) fl = &flags[k], val = a + n + 1;
    }
    if (fl && !flag_allowed(fl, o->cmd))
      return err(o->cmd, "option '%s' belongs to 'quench %s'", fl->name, fl->only == 1 ? "report" : "compile");
    if (!fl) return unknown_option(o, a);
    char *field = (char *)o + fl->off;
    if (!fl->takes) {
      *(bool *)field = true;
      continue;
    }
    if (!val) {
      if (i + 1 >= argc) return err(o->cmd, "option '%s' needs a value%s", a, "");
      val = argv[++i];
    }
    *(const char **)field = val;
  }
  return 0;
}

/* A non-negative integer option; -1 after reporting a bad one. */
static long count_opt(const Opts *o, const char *flag, const char *s, long dflt) {
  if (!s) return dflt;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0) {
    err(o->cmd, "%s expects a non-negative integer, got '%s'", flag, s);
    return -1;
  }
  return v;
}

static bool number_opt(const Opts *o, const char *flag, const char *s, double *out) {
  if (!s) return true;
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  if (errno || *end || end == s || !isfinite(*out)) {
    err(o->cmd, "%s expects a number, got '%s'", flag, s);
    return false;
  }
  return true;
}

static bool file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* ---- pipeline --------------------------------------------------------------------- */

typedef struct Buf {
  char *s;
  size_t n, cap;
} Buf;

static void put(Buf *b, const char *s) {
  size_t n = strlen(s);
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->n, s, n + 1);
  b->n += n;
}

/* `,name="value"` with the pipeline syntax's escapes. */
static void put_opt(Buf *b, bool *first, const char *name, const char *value) {
  put(b, *first ? "" : ",");
  *first = false;
  put(b, name);
  put(b, "=\"");
  for (const char *p = value; *p; p++) {
    char c[3] = {*p, 0, 0};
    if (*p == '"' || *p == '\\') c[0] = '\\', c[1] = *p;
    put(b, c);
  }
  put(b, "\"");
}

/* canonicalize,calibrate{...},quantize{...}[,lower-int]; NULL after an error.
 * stats: where calibrate writes its statistics (o->stats, or the caller's
 * default when calibrating without --stats). */
static char *build_pipeline(const Opts *o, const char *stats) {
  bool calibrate = o->calib != NULL;
  if (!o->calib && o->stats && !file_exists(o->stats)) {
    err(o->cmd, "statistics file '%s' does not exist; give --calib DIR to calibrate and write it", o->stats, "");
    return NULL;
  }
  if (o->calib && !file_exists(o->calib)) {
    err(o->cmd, "cannot open calibration folder '%s': %s", o->calib, strerror(errno));
    return NULL;
  }
  Buf b = {0};
  put(&b, "canonicalize");
  bool first = true;
  if (calibrate) {
    put(&b, ",calibrate{");
    put_opt(&b, &first, "data", o->calib);
    if (o->calib_samples) put_opt(&b, &first, "samples", o->calib_samples);
    if (stats) put_opt(&b, &first, "stats", stats);
    put(&b, o->progress ? ",progress=true" : ",progress=false");
    put(&b, "}");
  }
  put(&b, ",quantize");
  first = true;
  const char *qo[][2] = {{"preset", o->preset},         {"config", o->config},
                         {"stats", stats},              {"calibrator", o->calibrator},
                         {"percentile", o->percentile}, {"keep-float", o->keep_float},
                         {"float-values", o->float_values}};
  for (size_t i = 0; i < sizeof qo / sizeof *qo; i++) {
    if (!qo[i][1]) continue;
    put(&b, first ? "{" : "");
    put_opt(&b, &first, qo[i][0], qo[i][1]);
  }
  if (!first) put(&b, "}");
  if (o->lower_int) put(&b, ",lower-int");
  return b.s;
}

/* ---- loading, running, writing ------------------------------------------------------ */

static bool has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

static IrModule *load(const char *cmd, const char *path, Diag *d, char **text) {
  *text = NULL;
  if (!file_exists(path)) {
    err(cmd, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  IrModule *m = has_suffix(path, ".onnx") ? onnx_import_file(d, path, NULL) : ir_parse_file(d, path, text);
  if (m && !ir_verify(m, d)) {
    ir_module_destroy(m);
    m = NULL;
  }
  return m;
}

typedef struct Tool {
  PassRegistry reg;
  Diag *d;
} Tool;

static bool run_pipeline(Tool *t, const char *cmd, IrModule *m, const char *text, double *secs) {
  char name[32];
  snprintf(name, sizeof name, "quench %s", cmd);
  DiagLoc where = {name, 0, 0};
  Pipeline pl;
  pipeline_init(&pl);
  diag_add_source(t->d, "<pipeline>", text, strlen(text), 0);
  bool ok = pipeline_parse(&pl, &t->reg, text, "<pipeline>", t->d);
  if (ok) {
    PassManagerOptions pmo = {.verify = true, .dump = stderr, .where = where};
    PassManager pm;
    pm_init(&pm, &pl, &pmo);
    double t0 = pm_now();
    ok = pm_run(&pm, m, t->d);
    if (secs) *secs = pm_now() - t0;
    pm_free(&pm);
  }
  pipeline_free(&pl);
  return ok;
}

/* .qir and its weights file (constants over 1 KiB), leaving nothing on failure. */
static bool write_qir(IrModule *m, const char *path, Diag *d) { return ir_write_qir_file(&m, 1, path, 1024, d); }

static const IrFunc *main_func(const IrModule *m) {
  const IrFunc *f = ir_module_find_func(m, "main");
  return f ? f : m->nfuncs ? m->funcs[0] : NULL;
}

/* The quantize summary: ops reading a dequantized value (or lowered to
 * integer ops) against quantizable ops left float. */
static void summary(const IrModule *m, const char *out, double secs) {
  const IrFunc *f = main_func(m);
  int quantized = 0, kept = 0, pairs = 0;
  for (IrOp *op = f ? f->body->first : NULL; op; op = op->next) {
    if (op->kind == IR_OP_DEQUANTIZE_LINEAR) {
      pairs++;
      continue;
    }
    if (op->kind == IR_OP_QUANTIZE_LINEAR || op->kind == IR_OP_CONSTANT || op->kind == IR_OP_RETURN) continue;
    bool q = strncmp(ops_name(op->kind), "quench.", 7) == 0;
    for (uint32_t i = 0; !q && i < op->noperands; i++) {
      IrValue *v = ir_op_operand(op, i);
      q = v && v->kind == IR_VALUE_RESULT && v->def->kind == IR_OP_DEQUANTIZE_LINEAR;
    }
    IrOpKind k = op->kind;
    bool quantizable = k == IR_OP_CONV || k == IR_OP_CONV_TRANSPOSE || k == IR_OP_MATMUL || k == IR_OP_GEMM;
    quantized += q;
    kept += !q && quantizable;
  }
  printf("quench quantize: %d ops read quantized values, %d Conv/MatMul/Gemm kept float, %d dequantize ops; "
         "wrote %s in %.2f s\n", quantized, kept, pairs, out, secs);
}

static int cmd_quantize(Tool *t, const Opts *o) {
  if (!o->model) return err(o->cmd, "no model given (usage: quench quantize MODEL --calib DIR -o OUT)%s%s", "", "");
  if (!o->output) return err(o->cmd, "no output given: add -o OUT.qir or -o OUT.onnx%s%s", "", "");
  if (!has_suffix(o->output, ".qir") && !has_suffix(o->output, ".onnx"))
    return err(o->cmd, "output '%s' must end in .qir or .onnx%s", o->output, "");
  if (count_opt(o, "--calib-samples", o->calib_samples, 0) < 0) return 1;
  /* Without --stats the statistics go beside the output: OUT.qstats. */
  char *stats = NULL;
  if (!o->stats && o->calib) {
    size_t n = strlen(o->output);
    stats = xmalloc(n + 8);
    memcpy(stats, o->output, n + 1);
    char *dot = strrchr(stats, '.');
    strcpy(dot, ".qstats");
  }
  char *pipe = build_pipeline(o, o->stats ? o->stats : stats);
  if (!pipe) {
    free(stats);
    return 1;
  }
  if (o->print_pipeline) printf("pipeline: %s\n", pipe);
  bool had_stats = stats && file_exists(stats);
  char *text;
  double t0 = pm_now(), secs;
  IrModule *m = load(o->cmd, o->model, t->d, &text);
  bool ok = m && run_pipeline(t, o->cmd, m, pipe, &secs);
  if (ok) ok = has_suffix(o->output, ".onnx") ? onnx_export(m, o->output, t->d) : write_qir(m, o->output, t->d);
  if (ok) summary(m, o->output, pm_now() - t0);
  /* A failed run leaves no statistics file the user did not ask for. */
  if (!ok && stats && !had_stats) remove(stats);
  free(stats);
  ir_module_destroy(m);
  free(text);
  free(pipe);
  return ok ? 0 : 1;
}

/* ---- compile ------------------------------------------------------------------------ */

/* bind-shapes items when --input-shape is not given: every argument with a
 * dynamic or symbolic dim at the shape of the first calibration sample.
 * *out NULL: all static. False (reported) when a dim is dynamic and there
 * is no calibration sample to take it from. */
static bool default_shapes(const IrModule *m, const char *calib, Diag *d, char **out) {
  const IrFunc *f = main_func(m);
  Tensor *in[64] = {0};
  QSampleSet set = {0};
  bool have = calib && f && f->body->nargs <= 64 && q_samples_find(calib, f, &set, d) &&
              q_sample_load(&set, 0, f, in, d);
  if (calib && f && f->body->nargs <= 64) q_samples_free(&set);
  Buf b = {0};
  for (uint32_t i = 0; f && i < f->body->nargs; i++) {
    const IrValue *a = f->body->args[i];
    if (ir_type_is_static(a->type) || a->type->rank < 0 || !a->name) continue;
    put(&b, b.n ? "," : "");
    put(&b, a->name);
    put(&b, "=");
    if (!have || in[i]->rank != a->type->rank) {
      for (uint32_t j = 0; have && j < f->body->nargs; j++) tensor_free(in[j]);
      free(b.s);
      err("compile", "input '%s' has dynamic dims: give --input-shape (e.g. %s=1x...) or --calib to take them "
          "from the first sample", a->name, a->name);
      return false;
    }
    for (int32_t k = 0; k < a->type->rank; k++) {
      int64_t v = a->type->dims[k].size >= 0 ? a->type->dims[k].size : in[i]->dims[k];
      char dd[32];
      snprintf(dd, sizeof dd, "%s%lld", k ? "x" : "", (long long)v);
      put(&b, dd);
    }
  }
  for (uint32_t i = 0; have && i < f->body->nargs; i++) tensor_free(in[i]);
  *out = b.s;
  return true;
}

/* The file stem of path: "models/mnist-8.onnx" -> "mnist_8" (a C identifier). */
static char *stem_name(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char *s = xstrdup(base), *dot = strrchr(s, '.');
  if (dot && dot != s) *dot = '\0';
  for (char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) *p = '_';
  if (s[0] >= '0' && s[0] <= '9') {
    char *t = xmalloc(strlen(s) + 3);
    snprintf(t, strlen(s) + 3, "m_%s", s);
    free(s);
    s = t;
  }
  return s;
}

/* mkdir -p: each missing folder of path; 0 or -1 with errno. */
static int mkdir_p(const char *path) {
  char *p = xstrdup(path);
  int rc = 0;
  for (char *s = p + 1; rc == 0; s++) {
    bool end = *s == '\0';
    if (*s != '/' && !end) continue;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) rc = -1;
    if (end) break;
    *s = '/';
  }
  free(p);
  return rc;
}

static int cmd_compile(Tool *t, const Opts *o) {
  if (!o->model) return err(o->cmd, "no model given (usage: quench compile MODEL --calib DIR -o OUTDIR)%s%s", "", "");
  if (!o->output) return err(o->cmd, "no output folder given: add -o OUTDIR%s%s", "", "");
  if (count_opt(o, "--calib-samples", o->calib_samples, 0) < 0) return 1;
  if (o->lower_int) return err(o->cmd, "--lower-int is implied by compile%s%s", "", "");
  CgOptions co = {.outdir = o->output};
  if (!cg_target_from_name(o->target ? o->target : "generic", &co.target))
    return err(o->cmd, "unknown target '%s' (generic, x86-64-avx2, x86-64-avx512vnni, x86-64-amx, aarch64-dotprod)%s", o->target, "");
  if (o->weights && strcmp(o->weights, "embed") != 0 && strcmp(o->weights, "blob") != 0)
    return err(o->cmd, "--weights must be embed or blob, not '%s'%s", o->weights, "");
  co.blob_weights = o->weights && strcmp(o->weights, "blob") == 0;
  char *name = o->name ? xstrdup(o->name) : stem_name(o->model);
  co.name = name;
  struct stat st;
  bool made_dir = stat(o->output, &st) != 0;
  if (made_dir && mkdir_p(o->output) != 0) {
    free(name);
    return err(o->cmd, "cannot create output folder '%s': %s", o->output, strerror(errno));
  }
  size_t pl = strlen(o->output) + strlen(name) + 16;
  char *stats = xmalloc(pl), *qir = xmalloc(pl);
  snprintf(stats, pl, "%s/%s.qstats", o->output, name);
  snprintf(qir, pl, "%s/%s.qir", o->output, name);
  Opts qo = *o;
  qo.lower_int = true;
  char *text = NULL, *pipe = NULL, *shapes = NULL;
  bool had_stats = file_exists(stats);
  double t0 = pm_now();
  IrModule *m = load(o->cmd, o->model, t->d, &text);
  bool ok = m != NULL && cg_c_precheck(m, t->d);
  if (ok) {
    char *base = build_pipeline(&qo, o->stats ? o->stats : stats);
    if (o->input_shape) shapes = xstrdup(o->input_shape);
    ok = base != NULL && (o->input_shape || default_shapes(m, o->calib, t->d, &shapes));
    if (ok) {
      Buf b = {0};
      put(&b, base);
      if (shapes) {
        bool first = true;
        put(&b, ",bind-shapes{");
        put_opt(&b, &first, "shapes", shapes);
        put(&b, "}");
      }
      put(&b, ",canonicalize,dce");
      pipe = b.s;
    }
    free(base);
  }
  if (ok && o->print_pipeline) printf("pipeline: %s\n", pipe);
  if (ok) ok = run_pipeline(t, o->cmd, m, pipe, NULL);
  double t_quant = pm_now() - t0;
  if (ok) ok = cg_c_emit(m, &co, t->d) && write_qir(m, qir, t->d);
  if (ok) {
    printf("quench compile: %s -> %s/ (target %s, %s weights) in %.2f s (quantize %.2f s, codegen %.2f s)\n",
           o->model, o->output, cg_target_name(co.target), co.blob_weights ? "blob" : "embedded", pm_now() - t0,
           t_quant, pm_now() - t0 - t_quant);
    printf("  build: make -C %s    run: %s/%s_main INPUT...\n", o->output, o->output, name);
  } else {
    if (!had_stats && !o->stats) remove(stats);
    if (made_dir) rmdir(o->output);
  }
  ir_module_destroy(m);
  free(text);
  free(pipe);
  free(shapes);
  free(stats);
  free(qir);
  free(name);
  return ok ? 0 : 1;
}

/* ---- report ------------------------------------------------------------------------- */

/* --sensitivity's quantizer: MODEL through the report's pipeline again,
 * from the statistics written by the first run, with `floats` kept float.
 * Texts registered with the diagnostics stay alive until the end. */
typedef struct Requant {
  Tool *t;
  Opts o; /* calib NULL, stats the first run's */
  char **keep;
  int nkeep;
} Requant;

static void requant_hold(Requant *rq, char *text) {
  if (!text) return;
  rq->keep = xrealloc(rq->keep, (size_t)(rq->nkeep + 1) * sizeof *rq->keep);
  rq->keep[rq->nkeep++] = text;
}

static IrModule *requantize(void *ctx, const char *const *floats, int n, Diag *d) {
  Requant *rq = ctx;
  Buf list = {0};
  for (int i = 0; i < n; i++) {
    if (i) put(&list, ",");
    put(&list, floats[i]);
  }
  Opts o = rq->o;
  o.float_values = list.s;
  char *pipe = build_pipeline(&o, o.stats), *text = NULL;
  IrModule *m = pipe ? load(o.cmd, o.model, d, &text) : NULL;
  if (m && !run_pipeline(rq->t, o.cmd, m, pipe, NULL)) {
    ir_module_destroy(m);
    m = NULL;
  }
  requant_hold(rq, text);
  requant_hold(rq, pipe);
  free(list.s);
  return m;
}

static bool sensitivity(Tool *t, const Opts *o, const char *stats, const RepReport *base, const IrModule *fp,
                        const QSampleSet *set, const RepOptions *ro, double min_sqnr, double min_agree, int top,
                        long max_float, RepSensitivity *s) {
  Requant rq = {.t = t, .o = *o};
  rq.o.calib = NULL, rq.o.stats = stats;
  RepSensOptions so = {.max_float = max_float > INT_MAX ? INT_MAX : (int)max_float, .min_sqnr = min_sqnr, .min_agree = min_agree,
                       .progress = o->progress || isatty(2) ? stderr : NULL};
  bool ok = rep_sensitivity_run(s, base, fp, set, ro, requantize, &rq, &so, t->d);
  if (ok) rep_sensitivity_print(stdout, s, &so, top);
  if (ok && o->suggest_config) {
    ok = rep_sensitivity_write_config(s, o->config, o->suggest_config, t->d);
    if (ok) printf("wrote %s\n", o->suggest_config);
  }
  for (int i = 0; i < rq.nkeep; i++) free(rq.keep[i]);
  free(rq.keep);
  return ok;
}

/* Default task: top1 for a 2-D float first output. */
static RepTask default_task(const IrModule *m) {
  const IrFunc *f = main_func(m);
  if (f && f->nresults > 0 && f->result_types[0]->rank == 2 && ir_elem_is_float(f->result_types[0]->elem))
    return REP_TASK_TOP1;
  return REP_TASK_NONE;
}

static int cmd_report(Tool *t, const Opts *o) {
  if (!o->model) return err(o->cmd, "no model given (usage: quench report MODEL --data DIR)%s%s", "", "");
  if (!o->data) return err(o->cmd, "no evaluation data: add --data DIR%s%s", "", "");
  RepOptions ro = {.load = q_sample_load, .progress = o->progress ? stderr : NULL};
  long top = count_opt(o, "--top", o->top, 10), ns = count_opt(o, "--eval-samples", o->eval_samples, 0);
  if (top < 0 || ns < 0 || count_opt(o, "--calib-samples", o->calib_samples, 0) < 0) return 1;
  ro.max_samples = (int)ns;
  double min_sqnr = -INFINITY, min_agree = -INFINITY;
  if (!number_opt(o, "--min-sqnr", o->min_sqnr, &min_sqnr) ||
      !number_opt(o, "--min-agreement", o->min_agreement, &min_agree))
    return 1;
  if (o->sensitivity && o->quantized)
    return err(o->cmd, "--sensitivity quantizes MODEL again: it cannot be used with --quantized%s%s", "", "");
  if (!o->sensitivity && (o->max_float || o->suggest_config))
    return err(o->cmd, "%s needs --sensitivity%s", o->max_float ? "--max-float" : "--suggest-config", "");
  if (o->sensitivity && !o->calib && !o->stats)
    return err(o->cmd, "--sensitivity needs calibration statistics: give --calib DIR or --stats FILE%s%s", "", "");
  long max_float = count_opt(o, "--max-float", o->max_float, 8);
  if (max_float < 0) return 1;
  if (o->task && !rep_task_from_name(o->task, &ro.task))
    return err(o->cmd, "unknown task '%s' (top1, ctc, next-token, detect, none)%s", o->task, "");
  ro.task_output = o->task_output;
  /* Without --stats, calibration statistics live in a temporary file. */
  char tmp_stats[4096] = "";
  if (!o->stats && o->calib && !o->quantized) {
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_stats, sizeof tmp_stats, "%s/quench-report-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmp_stats);
    if (fd < 0) return err(o->cmd, "cannot create a temporary statistics file in '%s': %s", dir ? dir : "/tmp",
                           strerror(errno));
    close(fd);
  }
  char *pipe = o->quantized ? xstrdup("canonicalize") : build_pipeline(o, o->stats ? o->stats : tmp_stats[0] ? tmp_stats : NULL);
  if (!pipe) {
    if (tmp_stats[0]) remove(tmp_stats);
    return 1;
  }
  if (o->print_pipeline && !o->quantized) printf("pipeline: %s\n", pipe);
  char *t1 = NULL, *t2 = NULL;
  int rc = 1;
  RepReport r = {0};
  RepSensitivity sens = {0};
  QSampleSet set = {0};
  bool have_set = false;
  IrModule *fp = load(o->cmd, o->model, t->d, &t1), *q = NULL;
  if (!fp || !run_pipeline(t, o->cmd, fp, "canonicalize", NULL)) goto done;
  if (o->quantized) q = load(o->cmd, o->quantized, t->d, &t2);
  else if ((q = load(o->cmd, o->model, t->d, &t2)) && !run_pipeline(t, o->cmd, q, pipe, NULL)) goto done;
  if (!q) goto done;
  if (!o->task) ro.task = default_task(fp);
  if (!(have_set = q_samples_find(o->data, main_func(fp), &set, t->d))) goto done;
  if (!rep_run(&r, fp, q, &set, &ro, t->d)) goto done;
  printf("quench report: %s%s%s on %s\n", o->model, o->quantized ? " against " : "",
         o->quantized ? o->quantized : "", o->data);
  rep_print_table(stdout, &r, (int)top);
  if (o->sensitivity &&
      !sensitivity(t, o, o->stats ? o->stats : tmp_stats, &r, fp, &set, &ro, min_sqnr, min_agree, (int)top, max_float,
                   &sens))
    goto done;
  rc = 0;
  if (o->html) {
    RepHtmlInfo info = {o->model, o->data, o->quantized ? o->quantized : pipe, o->sensitivity ? &sens : NULL};
    if (!rep_write_html(&r, &info, o->html, t->d)) rc = 1;
    else printf("wrote %s\n", o->html);
  }
  double worst = rep_worst_output_sqnr(&r), agree = rep_agreement_pct(&r);
  if (worst < min_sqnr) {
    printf("FAIL: output SQNR %.2f dB is below --min-sqnr %g\n", worst, min_sqnr);
    rc = 1;
  }
  if (o->min_agreement && isnan(agree)) {
    printf("FAIL: --min-agreement needs a task (--task)\n");
    rc = 1;
  } else if (agree < min_agree) {
    printf("FAIL: agreement %.2f%% is below --min-agreement %g%%\n", agree, min_agree);
    rc = 1;
  }
done:
  if (tmp_stats[0]) remove(tmp_stats);
  rep_report_free(&r);
  rep_sensitivity_free(&sens);
  if (have_set) q_samples_free(&set);
  ir_module_destroy(fp);
  ir_module_destroy(q);
  free(t1);
  free(t2);
  free(pipe);
  return rc;
}

/* ---- main ----------------------------------------------------------------------------- */

static int help(const char *topic) {
  if (!topic) usage_main(stdout);
  else if (strcmp(topic, "quantize") == 0) usage_quantize(stdout);
  else if (strcmp(topic, "report") == 0) usage_report(stdout);
  else if (strcmp(topic, "compile") == 0) usage_compile(stdout);
  else return err(NULL, "unknown command '%s' (commands: quantize, report, compile, help)%s", topic, "");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 1;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
    return help(argc > 2 ? argv[2] : NULL);
  if (strcmp(cmd, "--version") == 0) {
    printf("quench %s\n", QUENCH_VERSION);
    return 0;
  }
  if (strcmp(cmd, "quantize") != 0 && strcmp(cmd, "report") != 0 && strcmp(cmd, "compile") != 0) {
    const char *names[] = {"quantize", "report", "compile", "help"};
    const char *s = pass_suggest(names, 4, cmd, strlen(cmd));
    if (s) return err(NULL, "unknown command '%s'; did you mean '%s'?", cmd, s);
    return err(NULL, "unknown command '%s' (see 'quench help')%s", cmd, "");
  }
  Opts o = {.cmd = cmd};
  int rc = parse_args(argc - 1, argv + 1, &o);
  if (rc) return rc;
  if (o.help) return help(cmd);
  Diag d;
  diag_init(&d, stderr);
  Tool t = {.d = &d};
  pass_registry_init(&t.reg);
  if (!pass_registry_add_builtins(&t.reg, &d, diag_loc("quench", 0, 0))) rc = 1;
  else if (strcmp(cmd, "compile") == 0) rc = cmd_compile(&t, &o);
  else rc = strcmp(cmd, "quantize") == 0 ? cmd_quantize(&t, &o) : cmd_report(&t, &o);
  pass_registry_free(&t.reg);
  return rc;
}
