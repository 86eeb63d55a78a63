/* quench-opt: reads .qir, verifies it, runs a pass pipeline, prints .qir
 * (or, when -o names a .onnx file, writes an ONNX model through
 * compiler/onnx/export.h). The output file (and its weights file) appear
 * only when everything
 * succeeded: both are written to temporaries and renamed at the end.
 * Passes come from the built-in table and from plugins loaded with
 * --load-pass-plugin; docs/pass-manager.md describes the pass options and
 * --verify-equivalence (compiler/pm/equivalence.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/text.h"
#include "ir/verifier.h"
#include "ir/weights.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "pm/pass_manager.h"
#include "support/fileio.h"

#define MAX_LIST 64

typedef struct Options {
  const char *input;
  const char *output;
  int verify;
  int split_input;
  size_t inline_limit;
  int help;
  const char *passes; /* pipeline string; NULL: no passes */
  const char *plugins[MAX_LIST];
  int nplugins;
  const char *print_before[MAX_LIST], *print_after[MAX_LIST];
  int nprint_before, nprint_after;
  bool print_before_all, print_after_all;
  bool time_passes, pass_stats, dump_pipeline;
  EquivOptions equiv; /* --verify-equivalence and its companions */
  const char *equiv_passes[MAX_LIST];
  const char *equiv_flag; /* the first --equivalence-* flag given, for its error */
} Options;

/* Errors about the command line itself read "quench-opt: error: ...". */
static const DiagLoc tool_loc = {"quench-opt", 0, 0};

static void usage(FILE *out, const PassRegistry *reg) {
  fputs("usage: quench-opt [options] [FILE.qir | FILE.onnx | -]\n"
        "\n"
        "Reads a .qir module (or imports an ONNX model), verifies it, runs a pass pipeline\n"
        "and prints the result.\n"
        "\n"
        "options:\n"
        "  -o FILE                  write to FILE (large constants go to FILE.weights);\n"
        "                           FILE.onnx: export an ONNX model instead (docs/onnx-export.md)\n"
        "  --no-verify              do not run the verifier (on input or after passes)\n"
        "  --split-input-file       treat each '// -----' chunk as its own module\n"
        "  --weights-inline-limit=N constants over N bytes go to the weights file (default 1024)\n"
        "  --passes=PIPELINE        run passes, e.g. --passes='dce,foo{alpha=0.5,name=x}'\n"
        "  --load-pass-plugin=PATH  load passes from a plugin (repeatable; before --help to list them)\n"
        "  --print-ir-before=NAMES  print the IR to stderr before each pass in the comma list\n"
        "  --print-ir-after=NAMES   print the IR to stderr after each pass in the comma list\n"
        "  --print-ir-before-all    print the IR to stderr before every pass\n"
        "  --print-ir-after-all     print the IR to stderr after every pass\n"
        "  --time-passes            report wall time per pass to stderr\n"
        "  --pass-stats             report pass statistics to stderr\n"
        "  --dump-pass-pipeline     print the pipeline with every option spelled out to stderr\n"
        "  --verify-equivalence[=TOL]\n"
        "                           run the interpreter before and after each pass and fail a pass\n"
        "                           whose outputs move: max|y-y'| > TOL*max(1,max|y|) (TOL 1e-5)\n"
        "  --verify-equivalence-passes=NAMES\n"
        "                           check only these passes (comma list; implies --verify-equivalence)\n"
        "  --equivalence-data=DIR   inputs from a calibration-style sample folder (default: random)\n"
        "  --equivalence-samples=N  use at most N samples (default 4)\n"
        "  --equivalence-seed=S     seed of the random inputs (default 1)\n"
        "  -h, --help               this help\n"
        "\n"
        "passes (--passes='NAME{OPTION=VALUE,...},...'):\n",
        out);
  pass_registry_print_help(out, reg);
}

/* `--name=VALUE` or `--name VALUE`: the value, or NULL if `a` is not --name. */
static const char *opt_value(const char *a, const char *name, int argc, char **argv, int *i) {
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] == '\0' && *i + 1 < argc) return argv[++*i];
  return NULL;
}

/* Splits a comma list of pass names into `list` (the strings stay in argv:
 * each name is copied once into a static pool). */
static bool add_names(const char *flag, const char *value, const char **list, int *n) {
  static char pool[8192];
  static size_t used;
  for (const char *p = value; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0) {
      if (*n == MAX_LIST || used + len + 1 > sizeof pool) {
        fprintf(stderr, "quench-opt: error: too many pass names in %s\n", flag);
        return false;
      }
      memcpy(pool + used, p, len);
      pool[used + len] = '\0';
      list[(*n)++] = pool + used;
      used += len + 1;
    }
    p += len + (end ? 1 : 0);
  }
  return true;
}

/* The number of an --equivalence-* or --verify-equivalence= flag: a
 * decimal in [lo, hi] (integral when `integer`). */
static bool equiv_number(const char *flag, const char *text, double lo, double hi, bool integer, double *out) {
  char *end;
  errno = 0;
  double x = strtod(text, &end);
  if (errno || end == text || *end || !(x >= lo && x <= hi) || (integer && x != (double)(int64_t)x)) {
    if (integer)
      fprintf(stderr, "quench-opt: error: %s expects a whole number in [%.0f, %.0f], got '%s'\n", flag, lo, hi, text);
    else
      fprintf(stderr, "quench-opt: error: %s expects a tolerance >= 0, got '%s'\n", flag, text);
    return false;
  }
  *out = x;
  return true;
}

/* Parses argv; returns 0 on success, else the exit code. */
static int parse_args(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      o->help = 1;
    } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
      o->output = argv[++i];
    } else if (strcmp(a, "--no-verify") == 0) {
      o->verify = 0;
    } else if (strcmp(a, "--split-input-file") == 0) {
      o->split_input = 1;
    } else if (strncmp(a, "--weights-inline-limit=", 23) == 0) {
      char *end;
      errno = 0;
      unsigned long long n = strtoull(a + 23, &end, 10);
      if (errno || *end || end == a + 23) {
        fprintf(stderr, "quench-opt: error: --weights-inline-limit expects a byte count, got '%s'\n", a + 23);
        return 1;
      }
      o->inline_limit = (size_t)n;
    } else if ((v = opt_value(a, "--passes", argc, argv, &i))) {
      if (o->passes) {
        fprintf(stderr, "quench-opt: error: --passes given twice; put all passes in one pipeline\n");
        return 1;
      }
      o->passes = v;
    } else if ((v = opt_value(a, "--load-pass-plugin", argc, argv, &i))) {
      if (o->nplugins == MAX_LIST) {
        fprintf(stderr, "quench-opt: error: too many --load-pass-plugin options\n");
        return 1;
      }
      o->plugins[o->nplugins++] = v;
    } else if ((v = opt_value(a, "--print-ir-before", argc, argv, &i))) {
      if (!add_names("--print-ir-before", v, o->print_before, &o->nprint_before)) return 1;
    } else if ((v = opt_value(a, "--print-ir-after", argc, argv, &i))) {
      if (!add_names("--print-ir-after", v, o->print_after, &o->nprint_after)) return 1;
    } else if (strcmp(a, "--print-ir-before-all") == 0) {
      o->print_before_all = true;
    } else if (strcmp(a, "--print-ir-after-all") == 0) {
      o->print_after_all = true;
    } else if (strcmp(a, "--time-passes") == 0) {
      o->time_passes = true;
    } else if (strcmp(a, "--pass-stats") == 0) {
      o->pass_stats = true;
    } else if (strcmp(a, "--dump-pass-pipeline") == 0) {
      o->dump_pipeline = true;
    } else if (strcmp(a, "--verify-equivalence") == 0) {
      o->equiv.enabled = true;
    } else if (strncmp(a, "--verify-equivalence=", 21) == 0) {
      if (!equiv_number("--verify-equivalence", a + 21, 0, HUGE_VAL, false, &o->equiv.tol)) return 1;
      o->equiv.enabled = true;
    } else if ((v = opt_value(a, "--verify-equivalence-passes", argc, argv, &i))) {
      if (!add_names("--verify-equivalence-passes", v, o->equiv_passes, &o->equiv.npasses)) return 1;
      if (o->equiv.npasses == 0) {
        fprintf(stderr, "quench-opt: error: --verify-equivalence-passes expects pass names, got '%s'\n", v);
        return 1;
      }
      o->equiv.passes = o->equiv_passes;
      o->equiv.enabled = true;
    } else if ((v = opt_value(a, "--equivalence-data", argc, argv, &i))) {
      o->equiv.data = v;
      o->equiv_flag = "--equivalence-data";
    } else if ((v = opt_value(a, "--equivalence-samples", argc, argv, &i))) {
      double x;
      if (!equiv_number("--equivalence-samples", v, 1, 1e6, true, &x)) return 1;
      o->equiv.samples = (int)x;
      o->equiv_flag = "--equivalence-samples";
    } else if ((v = opt_value(a, "--equivalence-seed", argc, argv, &i))) {
      char *end;
      errno = 0;
      unsigned long long seed = strtoull(v, &end, 10);
      if (errno || end == v || *end || v[0] == '-' || v[0] == '+') {
        fprintf(stderr, "quench-opt: error: --equivalence-seed expects a non-negative integer, got '%s'\n", v);
        return 1;
      }
      o->equiv.seed = seed;
      o->equiv_flag = "--equivalence-seed";
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "quench-opt: error: unknown option '%s' (see --help)\n", a);
      return 1;
    } else if (o->input) {
      fprintf(stderr, "quench-opt: error: more than one input file ('%s' and '%s')\n", o->input, a);
      return 1;
    } else {
      o->input = a;
    }
  }
  if (o->equiv_flag && !o->equiv.enabled) {
    fprintf(stderr, "quench-opt: error: %s needs --verify-equivalence\n", o->equiv_flag);
    return 1;
  }
  return 0;
}

/* --print-ir-before/after name passes that must exist (plugins loaded). */
static bool check_names(const PassRegistry *reg, const char *flag, const char *const *names, int n, Diag *d) {
  for (int i = 0; i < n; i++) {
    if (pass_registry_find(reg, names[i])) continue;
    const char *s = pass_registry_suggest(reg, names[i], strlen(names[i]));
    if (s)
      diag_error(d, tool_loc, "unknown pass '%s' in %s; did you mean '%s'?", names[i], flag, s);
    else
      diag_error(d, tool_loc, "unknown pass '%s' in %s", names[i], flag);
    return false;
  }
  return true;
}

typedef struct Chunk {
  const char *text;
  size_t len;
  int line_offset;
} Chunk;

/* Splits at lines that start with "// -----" (MLIR's convention). */
static int split_chunks(const char *text, size_t len, int split, Chunk **out) {
  int n = 0, cap = 4, line = 0;
  Chunk *c = xmalloc((size_t)cap * sizeof *c);
  c[0] = (Chunk){text, 0, 0};
  const char *start = text;
  int start_line = 0;
  for (const char *p = text; split && p < text + len; line++) {
    const char *eol = memchr(p, '\n', (size_t)(text + len - p));
    const char *next = eol ? eol + 1 : text + len;
    if ((size_t)(text + len - p) >= 8 && memcmp(p, "// -----", 8) == 0) {
      if (n + 2 > cap) c = xrealloc(c, (size_t)(cap *= 2) * sizeof *c);
      c[n++] = (Chunk){start, (size_t)(p - start), start_line};
      start = next;
      start_line = line + 1;
    }
    p = next;
  }
  c[n++] = (Chunk){start, (size_t)(text + len - start), start_line};
  *out = c;
  return n;
}

static bool is_onnx_path(const char *p) {
  size_t n = strlen(p);
  return n > 5 && strcmp(p + n - 5, ".onnx") == 0;
}

/* Prints every module to stdout (constants inline) or to -o FILE and its
 * weights file (ir_write_qir_file: nothing left behind on failure, devices
 * written in place); -o FILE.onnx exports the one module as ONNX. Returns
 * non-zero on failure. */
static int write_output(const Options *o, IrModule **mods, int nchunks, Diag *diag) {
  if (o->output && is_onnx_path(o->output)) {
    if (nchunks != 1) {
      diag_error(diag, tool_loc, "-o %s: an ONNX file holds one model, the input has %d modules", o->output,
                 nchunks);
      return 1;
    }
    return onnx_export(mods[0], o->output, diag) ? 0 : 1;
  }
  if (o->output) return ir_write_qir_file(mods, nchunks, o->output, o->inline_limit, diag) ? 0 : 1;
  for (int i = 0; i < nchunks; i++) {
    if (i) fputs("// -----\n", stdout);
    ir_print_module(stdout, mods[i], NULL, diag);
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

/* Everything after the command line: plugins, pipeline, input, passes,
 * output, reports. Returns the exit code. */
static int run(const Options *o, PassRegistry *reg, Pipeline *pl, Diag *diag) {
  if (!pass_registry_add_builtins(reg, diag, tool_loc)) return 1;
  for (int i = 0; i < o->nplugins; i++)
    if (!pass_plugin_load(reg, o->plugins[i], diag, tool_loc)) return 1;
  if (o->help) {
    usage(stdout, reg);
    return 0;
  }
  if (o->passes) {
    diag_add_source(diag, "<passes>", o->passes, strlen(o->passes), 0);
    if (!pipeline_parse(pl, reg, o->passes, "<passes>", diag)) return 1;
  }
  if (!check_names(reg, "--print-ir-before", o->print_before, o->nprint_before, diag) ||
      !check_names(reg, "--print-ir-after", o->print_after, o->nprint_after, diag) ||
      !check_names(reg, "--verify-equivalence-passes", o->equiv_passes, o->equiv.npasses, diag))
    return 1;
  if (o->dump_pipeline) {
    fputs("pipeline: ", stderr);
    pipeline_print(stderr, pl);
    fputc('\n', stderr);
  }

  const char *input = o->input ? o->input : "-";
  const char *path = strcmp(input, "-") == 0 ? "<stdin>" : input;
  /* ONNX models are imported, not parsed: one module, no chunks. */
  int is_onnx = is_onnx_path(input);
  FILE *in = is_onnx ? NULL : strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
  if (!is_onnx && !in) {
    fprintf(stderr, "quench-opt: error: cannot open '%s': %s\n", input, strerror(errno));
    return 1;
  }
  size_t len = 0;
  double t0 = pm_now();
  char *text = NULL;
  if (in) {
    text = fileio_read_stream(in, &len);
    int e = errno;
    if (in != stdin) fclose(in);
    if (!text) {
      fprintf(stderr, "quench-opt: error: cannot read '%s': %s\n", path, strerror(e));
      return 1;
    }
    diag_add_source(diag, path, text, len, 0);
  }

  PassManagerOptions pmo = {
      .verify = o->verify,
      .print_before_all = o->print_before_all,
      .print_after_all = o->print_after_all,
      .print_before = o->print_before,
      .nprint_before = o->nprint_before,
      .print_after = o->print_after,
      .nprint_after = o->nprint_after,
      .dump = stderr,
      .where = tool_loc,
      .equiv = o->equiv,
  };
  PassManager pm;
  pm_init(&pm, pl, &pmo);

  Chunk *chunks = NULL;
  int nchunks = is_onnx ? 1 : split_chunks(text, len, o->split_input, &chunks);
  IrModule **mods = xcalloc((size_t)nchunks, sizeof *mods);
  int failed = 0;
  double parse_secs = 0;
  for (int i = 0; i < nchunks; i++) {
    int before = diag->errors;
    if (is_onnx) {
      mods[i] = onnx_import_file(diag, input, NULL);
    } else {
      IrParseOptions po = {NULL, chunks[i].line_offset};
      /* Chunks are parsed from the original buffer so columns stay right. */
      mods[i] = ir_parse(diag, path, chunks[i].text, chunks[i].len, &po);
    }
    parse_secs += pm_now() - t0;
    t0 = pm_now();
    if (mods[i] && o->verify && !ir_verify(mods[i], diag)) {
      ir_module_destroy(mods[i]);
      mods[i] = NULL;
    }
    pm.verify_secs += pm_now() - t0;
    /* A chunk that fails stops nothing: later chunks still report theirs. */
    if (mods[i] && diag->errors == before && !pm_run(&pm, mods[i], diag)) failed = 1;
    if (!mods[i] || diag->errors > before) failed = 1;
    t0 = pm_now();
  }

  int rc = failed;
  double print_secs = 0;
  if (!failed) {
    t0 = pm_now();
    rc = write_output(o, mods, nchunks, diag);
    print_secs = pm_now() - t0;
  }
  if (o->pass_stats) pm_print_stats(&pm, stderr);
  if (o->time_passes) {
    PassTimeRow before[] = {{is_onnx ? "import" : "parse", parse_secs}, {NULL, 0}};
    PassTimeRow after[] = {{"print", print_secs}, {NULL, 0}};
    pm_print_timing(&pm, stderr, before, after);
  }
  pm_free(&pm);
  for (int i = 0; i < nchunks; i++) ir_module_destroy(mods[i]);
  free(mods);
  free(chunks);
  free(text);
  return rc ? 1 : 0;
}

int main(int argc, char **argv) {
  Options o = {.verify = 1,
               .inline_limit = 1024,
               .equiv = {.tol = EQUIV_DEFAULT_TOL, .samples = EQUIV_DEFAULT_SAMPLES, .seed = 1}};
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc;
  Diag diag;
  diag_init(&diag, stderr);
  PassRegistry reg;
  pass_registry_init(&reg);
  Pipeline pl;
  pipeline_init(&pl);
  rc = run(&o, &reg, &pl, &diag);
  pipeline_free(&pl);
  pass_registry_free(&reg);
  return rc;
}
