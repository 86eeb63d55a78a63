/* quench-run: runs a model (.onnx or .qir) on the reference interpreter.
 * Inputs come from tensor files (.pb TensorProto or .npy), from an ONNX
 * test_data_set folder (--check, which also supplies expected outputs) or
 * from a seeded random generator; outputs are summarized, compared, timed
 * and optionally written out. docs/quench-run.md is the manual. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interp/compare.h"
#include "interp/interp.h"
#include "interp/tensor_io.h"
#include "interp/tensor_random.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "onnx/import.h"
#include "ops/ops.h"

#define MAX_FILES 256

typedef struct Options {
  const char *model, *func, *output_dir, *check_dir;
  TensorFileFormat format;
  const char *named[MAX_FILES]; /* NAME=FILE */
  int nnamed;
  const char *files[MAX_FILES]; /* positional */
  int nfiles;
  int repeat;
  bool seeded, print_values, profile;
  InterpNumerics numerics;
  uint64_t seed;
  double max_rel, min_sqnr;
} Options;

static const DiagLoc tool_loc = {"quench-run", 0, 0};

static void usage(FILE *out) {
  fputs("usage: quench-run MODEL(.onnx|.qir) [options] [FILE...]\n"
        "\n"
        "Runs the model on the reference interpreter. Positional FILEs (.pb TensorProto or\n"
        ".npy) are inputs: a TensorProto named like an input binds to it, the other files\n"
        "fill the inputs still unbound, in order.\n"
        "\n"
        "options:\n"
        "  --input NAME=FILE  bind input NAME to FILE (repeatable; overrides --check's file)\n"
        "  --check DIR        inputs DIR/input_K.pb, expected outputs DIR/output_K.pb; prints\n"
        "                     error metrics per output, exits 1 unless every output passes\n"
        "  --max-rel X        --check passes a float output when max rel error <= X (1e-4)\n"
        "  --min-sqnr DB      ... or when its SQNR >= DB (80); ints and bools must be exact\n"
        "  --output-dir DIR   write outputs as DIR/output_K.pb (or .npy)\n"
        "  --format pb|npy    format of --output-dir files (pb)\n"
        "  --func NAME        run function NAME of a .qir module (default main)\n"
        "  --repeat N         run N times and print the median and best time\n"
        "  --seed S           fill inputs not given with seeded random values\n"
        "  --print-values     print every element of every output\n"
        "  --profile          print the time spent per op kind (all runs)\n"
        "  --numerics exact|ort  float rounding where the spec leaves it open (exact):\n"
        "                     ort adds f32 ReduceSum/ReduceMean in ONNX Runtime's order and\n"
        "                     uses its f32 Tanh and Sigmoid, to reproduce its outputs bit for bit\n"
        "  -h, --help         this help\n",
        out);
}

static bool parse_number(const char *flag, const char *s, double lo, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo)) {
    fprintf(stderr, "quench-run: error: %s expects a number >= %g, got '%s'\n", flag, lo, s);
    return false;
  }
  *out = v;
  return true;
}

/* Returns 0 when the command line is good, else the exit code (2: help). */
static int parse_args(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    double v;
    bool takes = strcmp(a, "--input") == 0 || strcmp(a, "--output-dir") == 0 || strcmp(a, "--format") == 0 ||
                 strcmp(a, "--check") == 0 || strcmp(a, "--func") == 0 || strcmp(a, "--repeat") == 0 ||
                 strcmp(a, "--seed") == 0 || strcmp(a, "--max-rel") == 0 || strcmp(a, "--min-sqnr") == 0 ||
                 strcmp(a, "--numerics") == 0;
    if (takes && !next) {
      fprintf(stderr, "quench-run: error: %s needs a value\n", a);
      return 1;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 2;
    } else if (strcmp(a, "--input") == 0) {
      if (!strchr(next, '=') || next[0] == '=') {
        fprintf(stderr, "quench-run: error: --input expects NAME=FILE, got '%s'\n", next);
        return 1;
      }
      if (o->nnamed == MAX_FILES) return fprintf(stderr, "quench-run: error: too many --input options\n"), 1;
      o->named[o->nnamed++] = argv[++i];
    } else if (strcmp(a, "--output-dir") == 0) {
      o->output_dir = argv[++i];
    } else if (strcmp(a, "--format") == 0) {
      i++;
      if (strcmp(next, "pb") == 0) o->format = TENSOR_FILE_PB;
      else if (strcmp(next, "npy") == 0) o->format = TENSOR_FILE_NPY;
      else return fprintf(stderr, "quench-run: error: --format expects pb or npy, got '%s'\n", next), 1;
    } else if (strcmp(a, "--check") == 0) {
      o->check_dir = argv[++i];
    } else if (strcmp(a, "--func") == 0) {
      o->func = argv[++i];
    } else if (strcmp(a, "--repeat") == 0) {
      if (!parse_number(a, argv[++i], 1, &v) || v != floor(v) || v > 1e6) {
        fprintf(stderr, "quench-run: error: --repeat expects a whole number of runs, got '%s'\n", next);
        return 1;
      }
      o->repeat = (int)v;
    } else if (strcmp(a, "--seed") == 0) {
      if (!parse_number(a, argv[++i], 0, &v) || v != floor(v)) return 1;
      o->seeded = true;
      o->seed = (uint64_t)v;
    } else if (strcmp(a, "--max-rel") == 0) {
      if (!parse_number(a, argv[++i], 0, &o->max_rel)) return 1;
    } else if (strcmp(a, "--min-sqnr") == 0) {
      if (!parse_number(a, argv[++i], -INFINITY, &o->min_sqnr)) return 1;
    } else if (strcmp(a, "--numerics") == 0) {
      i++;
      if (strcmp(next, "exact") == 0) o->numerics = INTERP_NUMERICS_EXACT;
      else if (strcmp(next, "ort") == 0) o->numerics = INTERP_NUMERICS_ORT;
      else return fprintf(stderr, "quench-run: error: --numerics expects exact or ort, got '%s'\n", next), 1;
    } else if (strcmp(a, "--print-values") == 0) {
      o->print_values = true;
    } else if (strcmp(a, "--profile") == 0) {
      o->profile = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "quench-run: error: unknown option '%s' (see --help)\n", a);
      return 1;
    } else if (!o->model) {
      o->model = a;
    } else {
      if (o->nfiles == MAX_FILES) return fprintf(stderr, "quench-run: error: too many input files\n"), 1;
      o->files[o->nfiles++] = a;
    }
  }
  if (!o->model) {
    fprintf(stderr, "quench-run: error: no model given (see --help)\n");
    return 1;
  }
  return 0;
}

static IrModule *load_model(const char *path, Diag *d, char **text) {
  size_t n = strlen(path);
  *text = NULL;
  IrModule *m;
  if (n > 5 && strcmp(path + n - 5, ".onnx") == 0) m = onnx_import_file(d, path, NULL);
  else m = ir_parse_file(d, path, text);
  if (m && !ir_verify(m, d)) {
    ir_module_destroy(m);
    m = NULL;
  }
  return m;
}

/* ---- inputs --------------------------------------------------------------- */

typedef struct Bound {
  Tensor **t;
  const char **from; /* the file each input came from ("random" for --seed) */
  uint32_t n;
} Bound;

static int arg_index(const IrFunc *f, const char *name) {
  for (uint32_t i = 0; name && i < f->body->nargs; i++)
    if (f->body->args[i]->name && strcmp(f->body->args[i]->name, name) == 0) return (int)i;
  return -1;
}

static const char *arg_name(const IrFunc *f, uint32_t i) {
  return f->body->args[i]->name ? f->body->args[i]->name : "?";
}

/* Binds `file` to input `slot` (replace: an earlier binding may be dropped). */
static bool bind(Bound *b, const IrFunc *f, uint32_t slot, Tensor *t, const char *file, bool replace, Diag *d) {
  if (b->t[slot] && !replace) {
    diag_error(d, tool_loc, "input '%s' is given twice ('%s' and '%s')", arg_name(f, slot), b->from[slot], file);
    tensor_free(t);
    return false;
  }
  tensor_free(b->t[slot]);
  b->t[slot] = t;
  b->from[slot] = file;
  return true;
}

/* Positional files: a TensorProto whose name is an input's binds to it;
 * the others then fill the inputs still unbound, in order. */
static bool bind_positional(Bound *b, const IrFunc *f, const char *const *files, int n, Diag *d) {
  Tensor **ts = xcalloc((size_t)n + 1, sizeof *ts);
  bool ok = true;
  for (int i = 0; ok && i < n; i++) {
    char *name;
    ok = (ts[i] = tensor_read_file(files[i], &name, d)) != NULL;
    int slot = ok ? arg_index(f, name) : -1;
    free(name);
    if (slot >= 0) {
      ok = bind(b, f, (uint32_t)slot, ts[i], files[i], false, d);
      ts[i] = NULL;
    }
  }
  uint32_t next = 0;
  for (int i = 0; ok && i < n; i++) {
    if (!ts[i]) continue;
    while (next < b->n && b->t[next]) next++;
    if (next == b->n) {
      diag_error(d, tool_loc, "too many input files: every one of the model's %u inputs is bound before '%s'",
                 b->n, files[i]);
      ok = false;
      break;
    }
    bind(b, f, next, ts[i], files[i], false, d);
    ts[i] = NULL;
  }
  for (int i = 0; i < n; i++) tensor_free(ts[i]);
  free(ts);
  return ok;
}

/* Uniform [-1, 1) floats, [0, 16) integers, random bools (tensor_random.h). */
static Tensor *random_input(const IrType *ty, uint64_t *state, const char *name, Diag *d) {
  char buf[256];
  Tensor *t = tensor_random(ty, state);
  if (!t)
    diag_error(d, tool_loc, "input '%s' (%s) has no static shape to generate; give it with --input", name,
               tensor_type_describe(ty, buf, sizeof buf));
  return t;
}

static char *join(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *s = xmalloc(n);
  snprintf(s, n, "%s/%s", dir, file);
  return s;
}

/* Fills b from --check's input files, --input options, positional files
 * and --seed, then checks every input against the model's types. */
static bool bind_inputs(const Options *o, const IrFunc *f, Bound *b, Tensor **check_in, char **check_paths,
                        uint32_t ncheck, Diag *d) {
  if (ncheck > b->n) {
    diag_error(d, tool_loc, "'%s' holds %u input files, the model has %u inputs", o->check_dir, ncheck, b->n);
    return false;
  }
  for (uint32_t k = 0; k < ncheck; k++) {
    bind(b, f, k, check_in[k], check_paths[k], true, d);
    check_in[k] = NULL;
  }
  for (int i = 0; i < o->nnamed; i++) {
    const char *eq = strchr(o->named[i], '=');
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(eq - o->named[i]), o->named[i]);
    int slot = arg_index(f, name);
    if (slot < 0) {
      diag_error(d, tool_loc, "--input '%s': the model has no input named '%s'", o->named[i], name);
      return false;
    }
    Tensor *t = tensor_read_file(eq + 1, NULL, d);
    if (!t) {
      diag_note(d, tool_loc, "while reading input '%s'", name);
      return false;
    }
    /* --input overrides the check set's file, not another --input. */
    bool from_check = b->t[slot] && ncheck > (uint32_t)slot && b->from[slot] == check_paths[slot];
    if (!bind(b, f, (uint32_t)slot, t, eq + 1, from_check, d)) return false;
  }
  if (!bind_positional(b, f, o->files, o->nfiles, d)) return false;
  uint64_t state = tensor_random_state(o->seed);
  char buf[256], why[600];
  for (uint32_t i = 0; i < b->n; i++) {
    const IrType *ty = f->body->args[i]->type;
    if (!b->t[i] && o->seeded) {
      if (!(b->t[i] = random_input(ty, &state, arg_name(f, i), d))) return false;
      b->from[i] = "random";
    }
    if (!b->t[i]) {
      diag_error(d, tool_loc, "missing input '%s' (#%u, %s): the model has %u inputs", arg_name(f, i), i,
                 tensor_type_describe(ty, buf, sizeof buf), b->n);
      return false;
    }
    if (!tensor_fits_type(b->t[i], ty, why, sizeof why)) {
      diag_error(d, tool_loc, "input '%s' ('%s'): %s", arg_name(f, i), b->from[i], why);
      return false;
    }
  }
  return true;
}

/* ---- outputs --------------------------------------------------------------- */

static void print_summary(const Tensor *t) {
  if (t->numel == 0) return;
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (int64_t i = 0; i < t->numel; i++) {
    double v = tensor_get_f64(t, i);
    lo = fmin(lo, v);
    hi = fmax(hi, v);
    sum += v;
  }
  printf(" min %.6g max %.6g mean %.6g", lo, hi, sum / (double)t->numel);
}

static void print_values(const Tensor *t) {
  printf("  values:");
  for (int64_t i = 0; i < t->numel; i++) {
    if (ir_elem_is_float(t->elem)) printf(" %.9g", tensor_get_f64(t, i));
    else if (t->elem == IR_ELEM_U64) printf(" %llu", (unsigned long long)tensor_get_bits(t, i));
    else printf(" %lld", (long long)tensor_get_i64(t, i));
  }
  printf("\n");
}

/* Prints one output's check line; returns whether it passes. */
static bool check_output(const Options *o, uint32_t i, const char *name, const Tensor *got, const Tensor *want) {
  char gb[256], wb[256];
  CompareStats s;
  if (!compare_tensors(got, want, &s)) {
    printf("FAIL output %u '%s': got %s, expected %s\n", i, name, tensor_describe(got, gb, sizeof gb),
           tensor_describe(want, wb, sizeof wb));
    return false;
  }
  bool pass = s.exact ? s.mismatches == 0
                      : s.nan_mismatch == 0 && (s.max_rel <= o->max_rel || s.sqnr_db >= o->min_sqnr);
  printf("%s output %u '%s' %s:", pass ? "PASS" : "FAIL", i, name, tensor_describe(got, gb, sizeof gb));
  if (s.exact) {
    printf(" exact, %lld of %lld differ\n", (long long)s.mismatches, (long long)s.n);
  } else {
    printf(" max_abs %.3g max_rel %.3g sqnr %.1f dB cosine %.6f", s.max_abs, s.max_rel, s.sqnr_db, s.cosine);
    if (s.nan_mismatch) printf(" (%lld NaN mismatches)", (long long)s.nan_mismatch);
    printf("\n");
  }
  return pass;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* --profile: the observer runs after every op, so the time since the
 * previous call is that op's (ops inside If/Loop bodies are reported on
 * their own; the parent op gets only its own overhead). */
typedef struct Profile {
  double last, ms[IR_OP_COUNT];
  int64_t calls[IR_OP_COUNT];
} Profile;

static bool profile_op(void *ctx, const IrOp *op, Tensor *const *results, uint32_t nresults) {
  (void)results;
  (void)nresults;
  Profile *p = ctx;
  double t = now_ms();
  p->ms[op->kind] += t - p->last;
  p->calls[op->kind]++;
  p->last = t;
  return true;
}

static void print_profile(const Profile *p) {
  double total = 0;
  for (int k = 0; k < IR_OP_COUNT; k++) total += p->ms[k];
  printf("profile: %.3f ms in ops\n", total);
  bool done[IR_OP_COUNT] = {0};
  for (;;) {
    int best = -1;
    for (int k = 0; k < IR_OP_COUNT; k++)
      if (!done[k] && p->calls[k] && (best < 0 || p->ms[k] > p->ms[best])) best = k;
    if (best < 0) break;
    done[best] = true;
    printf("  %-24s %10.3f ms %5.1f%% %8lld calls\n", ops_name((IrOpKind)best), p->ms[best],
           total > 0 ? 100 * p->ms[best] / total : 0.0, (long long)p->calls[best]);
  }
}

/* Runs o->repeat times; outs gets the last run's outputs. */
static bool run_timed(const Options *o, Interp *it, Bound *b, Tensor **outs, uint32_t nout, Profile *prof) {
  double *ms = xmalloc((size_t)o->repeat * sizeof *ms);
  bool ok = true;
  for (int r = 0; ok && r < o->repeat; r++) {
    if (r)
      for (uint32_t i = 0; i < nout; i++) tensor_free(outs[i]), outs[i] = NULL;
    double t0 = now_ms();
    if (prof) prof->last = t0;
    ok = interp_run(it, b->t, b->n, outs);
    ms[r] = now_ms() - t0;
  }
  if (ok && o->repeat > 1) {
    qsort(ms, (size_t)o->repeat, sizeof *ms, cmp_double);
    double median = o->repeat % 2 ? ms[o->repeat / 2] : 0.5 * (ms[o->repeat / 2 - 1] + ms[o->repeat / 2]);
    printf("time: median %.3f ms, best %.3f ms over %d runs (1 thread)\n", median, ms[0], o->repeat);
  }
  free(ms);
  return ok;
}

static int report(const Options *o, const IrFunc *f, Tensor **outs, Tensor **want, uint32_t nwant, Diag *d) {
  const IrOp *ret = f->body->last;
  uint32_t passed = 0;
  bool written = true;
  for (uint32_t i = 0; i < f->nresults; i++) {
    const IrValue *v = ir_op_operand(ret, i);
    const char *name = v && v->name ? v->name : "";
    char buf[256];
    if (o->check_dir) {
      passed += check_output(o, i, name, outs[i], want[i]);
    } else {
      printf("output %u '%s': %s", i, name, tensor_describe(outs[i], buf, sizeof buf));
      print_summary(outs[i]);
      printf("\n");
    }
    if (o->print_values) print_values(outs[i]);
    if (o->output_dir) {
      char file[64];
      snprintf(file, sizeof file, "output_%u.%s", i, o->format == TENSOR_FILE_NPY ? "npy" : "pb");
      char *path = join(o->output_dir, file);
      written &= tensor_write_file(path, outs[i], name, o->format, d);
      free(path);
    }
  }
  if (o->check_dir)
    printf("check: %u of %u outputs pass (max_rel <= %g or sqnr >= %g dB; ints exact)\n", passed, nwant,
           o->max_rel, o->min_sqnr);
  return written && (!o->check_dir || passed == nwant) ? 0 : 1;
}

static int run(const Options *o, Diag *d) {
  char *text;
  IrModule *m = load_model(o->model, d, &text);
  if (!m) return 1;
  int rc = 1;
  Profile *prof = o->profile ? xcalloc(1, sizeof *prof) : NULL;
  InterpOptions iopts = {.observer = prof ? profile_op : NULL, .observer_ctx = prof, .numerics = o->numerics};
  Interp *it = interp_create(m, o->func, &iopts, d);
  const IrFunc *f = it ? interp_func(it) : NULL;
  Tensor **check_in = NULL, **want = NULL;
  char **in_paths = NULL, **out_paths = NULL;
  uint32_t ncheck = 0, nwant = 0;
  Bound b = {0};
  Tensor **outs = NULL;
  if (!it) goto done;
  b.n = f->body->nargs;
  b.t = xcalloc(b.n + 1, sizeof *b.t);
  b.from = xcalloc(b.n + 1, sizeof *b.from);
  outs = xcalloc(f->nresults + 1, sizeof *outs);
  if (o->check_dir) {
    int before = d->errors;
    check_in = tensor_read_numbered(o->check_dir, "input", &ncheck, &in_paths, d);
    want = tensor_read_numbered(o->check_dir, "output", &nwant, &out_paths, d);
    if (d->errors > before) goto done;
    if (nwant != f->nresults) {
      diag_error(d, tool_loc, "'%s' holds %u expected outputs (output_K.pb), the model has %u outputs",
                 o->check_dir, nwant, f->nresults);
      goto done;
    }
  }
  if (!bind_inputs(o, f, &b, check_in, in_paths, ncheck, d)) goto done;
  if (!run_timed(o, it, &b, outs, f->nresults, prof)) goto done;
  if (prof) print_profile(prof);
  rc = report(o, f, outs, want, nwant, d);
done:
  for (uint32_t i = 0; outs && i < f->nresults; i++) tensor_free(outs[i]);
  free(outs);
  for (uint32_t i = 0; i < b.n; i++) tensor_free(b.t[i]);
  free(b.t);
  free(b.from);
  if (check_in) tensor_free_numbered(check_in, in_paths, ncheck);
  if (want) tensor_free_numbered(want, out_paths, nwant);
  interp_destroy(it);
  ir_module_destroy(m);
  free(text);
  free(prof);
  return rc;
}

int main(int argc, char **argv) {
  Options o = {.format = TENSOR_FILE_PB, .repeat = 1, .max_rel = 1e-4, .min_sqnr = 80};
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc == 2 ? 0 : rc;
  Diag d;
  diag_init(&d, stderr);
  return run(&o, &d);
}
