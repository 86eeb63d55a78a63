/* quench-conformance: runs ONNX backend node tests (folders holding
 * model.onnx and test_data_set_N/{input_K,output_K}.pb) on the importer and
 * the reference interpreter. A test whose model uses an op that is not in
 * quench's op table is "unsupported"; any other test passes or fails with
 * the reason. Each test runs in a forked child under a time limit (and an
 * address-space limit outside sanitizer builds), so a crashing or runaway
 * kernel fails its test, not the run. Prints a per-op table and the pass
 * rate; --write-md writes docs/onnx-coverage.md (docs/quench-run.md is the
 * manual). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <onnx.pb-c.h>

#include "interp/compare.h"
#include "interp/interp.h"
#include "interp/tensor_io.h"
#include "ir/verifier.h"
#include "onnx/import.h"
#include "ops/ops.h"
#include "support/fileio.h"
#include "support/strmap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

enum { ST_PASS, ST_FAIL, ST_UNSUPPORTED };

typedef struct Options {
  const char *md, *filter;
  double rtol, atol, min_rate;
  int min_ops, timeout, verbose;
  long mem_mb;
} Options;

typedef struct OpStat {
  char *name;
  bool in_table;
  int n[3];
} OpStat;

typedef struct Test {
  char *name, *reason;
  int status;
} Test;

typedef struct Suite {
  const char *label, *dir;
  OpStat *ops;
  int nops, ops_cap;
  StrMap op_index; /* name -> index + 1 */
  Test *tests;
  int ntests, tests_cap;
  int n[3];
} Suite;

static const char *const status_name[] = {"pass", "fail", "unsupported"};

/* "a/b", malloc'ed. */
static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = xmalloc(n);
  snprintf(s, n, "%s/%s", a, b);
  return s;
}

/* ---- which ops a model uses ------------------------------------------------ */

typedef struct OpList {
  char **v;
  int n, cap;
} OpList;

static void oplist_add(OpList *l, const char *domain, const char *type) {
  char name[256];
  bool std = !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
  snprintf(name, sizeof name, "%s%s%s", std ? "" : domain, std ? "" : "::", type ? type : "");
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0) return;
  if (l->n == l->cap) l->v = xrealloc(l->v, (size_t)(l->cap = l->cap ? 2 * l->cap : 8) * sizeof *l->v);
  l->v[l->n++] = xstrdup(name);
}

static void collect_ops(const Onnx__GraphProto *g, OpList *l) {
  for (size_t i = 0; g && i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    oplist_add(l, n->domain, n->op_type);
    for (size_t a = 0; a < n->n_attribute; a++) {
      collect_ops(n->attribute[a]->g, l);
      for (size_t k = 0; k < n->attribute[a]->n_graphs; k++) collect_ops(n->attribute[a]->graphs[k], l);
    }
  }
}

/* In quench's op table (Upsample is imported as the Resize row). */
static bool op_in_table(const char *name) {
  IrOpKind k;
  if (strstr(name, "::")) return false;
  if (strcmp(name, "Upsample") == 0) return true;
  return ops_lookup(name, (int)strlen(name), &k) && k != IR_OP_RETURN;
}

/* ---- running one test (in the child) --------------------------------------- */

/* The message of the first error in diagnostics text, without its location. */
static char *first_error(const char *text, const char *what) {
  const char *e = text ? strstr(text, "error: ") : NULL;
  char buf[512];
  if (!e) {
    snprintf(buf, sizeof buf, "%s failed without a diagnostic", what);
  } else {
    e += 7;
    size_t n = strcspn(e, "\n");
    snprintf(buf, sizeof buf, "%s: %.*s", what, (int)(n > 400 ? 400 : n), e);
  }
  return xstrdup(buf);
}

static char *fmt_reason(const char *fmt, const char *a, const char *b) {
  char buf[768];
  snprintf(buf, sizeof buf, fmt, a, b);
  return xstrdup(buf);
}

/* Runs one test_data_set against the interpreter; NULL when it passes. */
static char *run_set(const Options *o, Interp *it, const char *set, const char *set_name, Diag *d, FILE *mem,
                     char **diag_text) {
  const IrFunc *f = interp_func(it);
  uint32_t nin, nout;
  Tensor **in = tensor_read_numbered(set, "input", &nin, NULL, d);
  Tensor **want = tensor_read_numbered(set, "output", &nout, NULL, d);
  Tensor **got = xcalloc(f->nresults + 1, sizeof *got);
  char *reason = NULL, why[600], a[256], b[256];
  fflush(mem);
  if (d->errors) {
    reason = first_error(*diag_text, set_name);
  } else if (nin != f->body->nargs || nout != f->nresults) {
    snprintf(why, sizeof why, "%u input and %u output files, the model has %u inputs and %u outputs", nin, nout,
             f->body->nargs, f->nresults);
    reason = fmt_reason("%s: %s", set_name, why);
  }
  /* The 1.12 suite stores bfloat16 data as uint16 bit patterns (numpy has
   * no bfloat16): read those as the bf16 they stand for. */
  for (uint32_t i = 0; !reason && i < nin; i++)
    if (in[i]->elem == IR_ELEM_U16 && f->body->args[i]->type->elem == IR_ELEM_BF16) in[i]->elem = IR_ELEM_BF16;
  for (uint32_t i = 0; !reason && i < nout; i++)
    if (want[i]->elem == IR_ELEM_U16 && f->result_types[i]->elem == IR_ELEM_BF16) want[i]->elem = IR_ELEM_BF16;
  for (uint32_t i = 0; !reason && i < nin; i++)
    if (!tensor_fits_type(in[i], f->body->args[i]->type, why, sizeof why))
      reason = fmt_reason("input %s: %s", f->body->args[i]->name ? f->body->args[i]->name : "?", why);
  if (!reason && !interp_run(it, in, nin, got)) {
    fflush(mem);
    reason = first_error(*diag_text, "run");
  }
  for (uint32_t i = 0; !reason && i < nout; i++) {
    int64_t bad;
    if (compare_allclose(got[i], want[i], o->rtol, o->atol, &bad)) continue;
    if (bad < 0) {
      snprintf(why, sizeof why, "got %s, expected %s", tensor_describe(got[i], a, sizeof a),
               tensor_describe(want[i], b, sizeof b));
    } else {
      CompareStats s;
      compare_tensors(got[i], want[i], &s);
      snprintf(why, sizeof why, "%s: element %lld is %.9g, expected %.9g (%lld of %lld differ; max abs err %.3g)",
               tensor_describe(want[i], b, sizeof b), (long long)bad, tensor_get_f64(got[i], bad),
               tensor_get_f64(want[i], bad), (long long)s.mismatches, (long long)s.n, s.max_abs);
    }
    char which[32];
    snprintf(which, sizeof which, "output %u", i);
    reason = fmt_reason("%s: %s", which, why);
  }
  for (uint32_t i = 0; i < f->nresults; i++) tensor_free(got[i]);
  free(got);
  tensor_free_numbered(in, NULL, nin);
  tensor_free_numbered(want, NULL, nout);
  return reason;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs a test in this (child) process; NULL when it passes. */
static char *run_test(const Options *o, const char *dir) {
  char *text = NULL, *model = join(dir, "model.onnx");
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  Diag d;
  diag_init(&d, mem);
  char *reason = NULL;
  IrModule *m = onnx_import_file(&d, model, NULL);
  Interp *it = NULL;
  fflush(mem);
  if (!m) reason = first_error(text, "import");
  else if (!ir_verify(m, &d) && !fflush(mem)) reason = first_error(text, "verify");
  else if (!(it = interp_create(m, NULL, NULL, &d)) && !fflush(mem)) reason = first_error(text, "interpreter");
  DIR *dp = it ? opendir(dir) : NULL;
  char **sets = NULL;
  int nsets = 0;
  for (struct dirent *e; dp && (e = readdir(dp));) {
    if (strncmp(e->d_name, "test_data_set_", 14) != 0) continue;
    sets = xrealloc(sets, (size_t)(nsets + 1) * sizeof *sets);
    sets[nsets++] = xstrdup(e->d_name);
  }
  if (dp) closedir(dp);
  if (it && !nsets) reason = xstrdup("no test_data_set_N folder");
  if (nsets) qsort(sets, (size_t)nsets, sizeof *sets, by_name);
  for (int i = 0; i < nsets; i++) {
    char *set = join(dir, sets[i]);
    if (!reason) reason = run_set(o, it, set, sets[i], &d, mem, &text);
    free(set);
    free(sets[i]);
  }
  free(sets);
  interp_destroy(it);
  ir_module_destroy(m);
  fclose(mem);
  free(text);
  free(model);
  return reason;
}

#define RESULT_TAG "\n@@quench-conformance-result@@ "

/* Forks, runs the test in the child, and returns its status; *reason gets
 * the failure reason (malloc'ed). */
static int run_isolated(const Options *o, const char *dir, char **reason) {
  int fds[2];
  *reason = NULL;
  if (pipe(fds) != 0) {
    *reason = fmt_reason("harness: pipe: %s%s", strerror(errno), "");
    return ST_FAIL;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    *reason = fmt_reason("harness: fork: %s%s", strerror(errno), "");
    close(fds[0]);
    close(fds[1]);
    return ST_FAIL;
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    alarm((unsigned)o->timeout);
#ifndef UNDER_ASAN
    struct rlimit rl = {(rlim_t)o->mem_mb << 20, (rlim_t)o->mem_mb << 20};
    setrlimit(RLIMIT_AS, &rl);
#endif
    char *r = run_test(o, dir);
    printf(RESULT_TAG "%s\n", r ? r : "PASS");
    fflush(stdout);
    _exit(0);
  }
  close(fds[1]);
  char *out = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) out = xrealloc(out, cap = 2 * cap + 8192);
    ssize_t n = read(fds[0], out + len, 4096);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  out[len] = '\0';
  close(fds[0]);
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  char *tag = strstr(out, RESULT_TAG);
  int st = ST_FAIL;
  if (tag && WIFEXITED(ws)) {
    char *r = tag + strlen(RESULT_TAG);
    r[strcspn(r, "\n")] = '\0';
    if (strcmp(r, "PASS") == 0) st = ST_PASS;
    else *reason = xstrdup(r);
  } else {
    /* Crashed: keep the last line it printed (an ASan summary, an abort
     * message) as context. */
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) out[--len] = '\0';
    char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    char buf[600];
    if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM)
      snprintf(buf, sizeof buf, "timed out after %d s", o->timeout);
    else if (WIFSIGNALED(ws))
      snprintf(buf, sizeof buf, "crashed (%s)%s%.300s", strsignal(WTERMSIG(ws)), *last ? ": " : "", last);
    else
      snprintf(buf, sizeof buf, "exited with status %d%s%.300s", WEXITSTATUS(ws), *last ? ": " : "", last);
    *reason = xstrdup(buf);
  }
  free(out);
  return st;
}

/* ---- suites ------------------------------------------------------------------ */

static OpStat *suite_op(Suite *s, const char *name) {
  intptr_t i = (intptr_t)strmap_get(&s->op_index, name);
  if (i) return &s->ops[i - 1];
  if (s->nops == s->ops_cap) {
    s->ops_cap = s->ops_cap ? 2 * s->ops_cap : 64;
    s->ops = xrealloc(s->ops, (size_t)s->ops_cap * sizeof *s->ops);
  }
  OpStat *op = &s->ops[s->nops++];
  *op = (OpStat){.name = xstrdup(name), .in_table = op_in_table(name)};
  /* The map keeps pointers to the names; they live until the suite ends. */
  strmap_put(&s->op_index, op->name, (void *)(intptr_t)s->nops);
  return op;
}

static void suite_add(Suite *s, const char *name, int status, char *reason, const OpList *ops) {
  if (s->ntests == s->tests_cap) {
    s->tests_cap = s->tests_cap ? 2 * s->tests_cap : 256;
    s->tests = xrealloc(s->tests, (size_t)s->tests_cap * sizeof *s->tests);
  }
  s->tests[s->ntests++] = (Test){xstrdup(name), reason, status};
  s->n[status]++;
  for (int i = 0; i < ops->n; i++) suite_op(s, ops->v[i])->n[status]++;
}

/* One test: its ops decide unsupported; otherwise the child's verdict. */
static void run_one(const Options *o, Suite *s, const char *dir, const char *name) {
  char *model = join(dir, "model.onnx");
  OpList ops = {0};
  size_t len;
  Diag quiet;
  diag_init(&quiet, NULL);
  char *buf = fileio_read_path(model, "model", &len, &quiet, diag_loc(model, 0, 0));
  Onnx__ModelProto *mp = buf ? onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf) : NULL;
  if (mp) collect_ops(mp->graph, &ops);
  char missing[512] = "";
  for (int i = 0; i < ops.n; i++) {
    size_t at = strlen(missing);
    if (!op_in_table(ops.v[i]) && at < sizeof missing - 1)
      snprintf(missing + at, sizeof missing - at, "%s%s", at ? ", " : "", ops.v[i]);
  }
  int st;
  char *reason = NULL;
  if (!mp) {
    st = ST_FAIL;
    reason = xstrdup(buf ? "model.onnx is not a valid ModelProto" : "cannot read model.onnx");
  } else if (*missing) {
    st = ST_UNSUPPORTED;
    reason = fmt_reason("op %s%s", missing, "");
  } else {
    st = run_isolated(o, dir, &reason);
  }
  if (o->verbose || st == ST_FAIL)
    printf("%-11s %s%s%s\n", status_name[st], name, reason ? ": " : "", reason ? reason : "");
  suite_add(s, name, st, reason, &ops);
  if (mp) onnx__model_proto__free_unpacked(mp, NULL);
  free(buf);
  free(model);
  for (int i = 0; i < ops.n; i++) free(ops.v[i]);
  free(ops.v);
}

static bool has_model(const char *dir) {
  char *p = join(dir, "model.onnx");
  struct stat st;
  bool there = stat(p, &st) == 0;
  free(p);
  return there;
}

static bool run_suite(const Options *o, Suite *s) {
  if (has_model(s->dir)) {
    const char *base = strrchr(s->dir, '/');
    run_one(o, s, s->dir, base ? base + 1 : s->dir);
    return true;
  }
  struct dirent **ents;
  int n = scandir(s->dir, &ents, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "quench-conformance: error: cannot read '%s': %s\n", s->dir, strerror(errno));
    return false;
  }
  for (int i = 0; i < n; i++) {
    char *path = join(s->dir, ents[i]->d_name);
    if (ents[i]->d_name[0] != '.' && (!o->filter || strstr(ents[i]->d_name, o->filter)) && has_model(path))
      run_one(o, s, path, ents[i]->d_name);
    free(path);
    free(ents[i]);
  }
  free(ents);
  return true;
}

static int by_op(const void *a, const void *b) { return strcmp(((const OpStat *)a)->name, ((const OpStat *)b)->name); }

static int ops_in_table(const Suite *s) {
  int k = 0;
  for (int i = 0; i < s->nops; i++) k += s->ops[i].in_table;
  return k;
}

static double pass_rate(const Suite *s) {
  int runnable = s->n[ST_PASS] + s->n[ST_FAIL];
  return runnable ? 100.0 * s->n[ST_PASS] / runnable : 0.0;
}

/* md: the report names the suite by its label only (no machine paths). */
static void print_summary(FILE *f, const Suite *s, bool md) {
  const char *bullet = md ? "- " : "";
  fprintf(f, "%ssuite %s%s%s%s: %d tests: %d pass, %d fail, %d unsupported\n", bullet, s->label, md ? "" : " (",
          md ? "" : s->dir, md ? "" : ")", s->ntests, s->n[ST_PASS], s->n[ST_FAIL], s->n[ST_UNSUPPORTED]);
  fprintf(f, "%sop types in the suite: %d; in quench's op table: %d\n", bullet, s->nops, ops_in_table(s));
  fprintf(f, "%stests whose ops are all in the table: %d; passing: %d (%.1f%%)\n", bullet,
          s->n[ST_PASS] + s->n[ST_FAIL], s->n[ST_PASS], pass_rate(s));
}

static void print_table(FILE *f, const Suite *s, bool md) {
  if (md) fprintf(f, "| op | in table | pass | fail | unsupported |\n|---|---|---:|---:|---:|\n");
  else fprintf(f, "%-40s %-8s %6s %6s %11s\n", "op", "in table", "pass", "fail", "unsupported");
  for (int i = 0; i < s->nops; i++) {
    const OpStat *op = &s->ops[i];
    const char *in = op->in_table ? (strcmp(op->name, "Upsample") == 0 ? "Resize" : "yes") : "no";
    if (md) fprintf(f, "| %s | %s | %d | %d | %d |\n", op->name, in, op->n[0], op->n[1], op->n[2]);
    else fprintf(f, "%-40s %-8s %6d %6d %11d\n", op->name, in, op->n[0], op->n[1], op->n[2]);
  }
}

static bool write_md(const Options *o, Suite *suites, int n) {
  Diag d;
  diag_init(&d, stderr);
  OutFile of;
  if (!outfile_open(&of, o->md, "the coverage report", &d)) return false;
  FILE *f = of.f;
  fprintf(f, "# ONNX node-test coverage\n\n"
             "Generated by `quench-conformance --write-md` (compiler/tools/quench_conformance.c); do not edit.\n"
             "A test is *unsupported* when its model uses an op that is not in quench's op table\n"
             "(compiler/ops/ops.def; Upsample is imported as Resize); otherwise it passes only if the\n"
             "importer, the verifier and the reference interpreter all succeed and every output matches\n"
             "the reference as the ONNX backend tests require: |got - expected| <= atol + rtol |expected|\n"
             "with rtol %g, atol %g, NaN equal to NaN, integers and bools exact. A test counts under\n"
             "every op type its model uses (nested graphs included).\n\n",
          o->rtol, o->atol);
  for (int k = 0; k < n; k++) {
    Suite *s = &suites[k];
    fprintf(f, "## %s\n\n", s->label);
    print_summary(f, s, true);
    fprintf(f, "\n### Failing tests (%d)\n\n", s->n[ST_FAIL]);
    for (int i = 0; i < s->ntests; i++)
      if (s->tests[i].status == ST_FAIL) fprintf(f, "- `%s`: %s\n", s->tests[i].name, s->tests[i].reason);
    fprintf(f, "\n### Per op\n\n");
    print_table(f, s, true);
    fprintf(f, "\n");
  }
  return outfile_commit(&of, &d);
}

/* ---- command line -------------------------------------------------------------- */

static void usage(FILE *out) {
  fputs("usage: quench-conformance [options] [LABEL=]DIR...\n"
        "\n"
        "Runs every ONNX node test under each DIR (a folder of test folders, or one test\n"
        "folder) and reports pass / fail / unsupported per test and per op.\n"
        "\n"
        "options:\n"
        "  --write-md FILE      write the coverage report (docs/onnx-coverage.md) to FILE\n"
        "  --min-pass-rate X    exit 1 if under X% of the tests whose ops are all in the\n"
        "                       op table pass (per suite)\n"
        "  --min-ops N          exit 1 if fewer than N of a suite's op types are in the table\n"
        "  --filter TEXT        only tests whose folder name contains TEXT\n"
        "  --rtol X, --atol X   tolerance (default 1e-3 and 1e-7, as ONNX's backend tests)\n"
        "  --timeout S          per-test time limit in seconds (default 60)\n"
        "  --mem-mb N           per-test address-space limit (default 4096; not under ASan)\n"
        "  --no-table           do not print the per-op table\n"
        "  -v                   print every test's result, not only failures\n",
        out);
}

static bool num_arg(const char *flag, const char *s, double *out) {
  char *end;
  errno = 0;
  *out = s ? strtod(s, &end) : 0;
  if (!s || errno || end == s || *end || *out < 0) {
    fprintf(stderr, "quench-conformance: error: %s expects a non-negative number, got '%s'\n", flag, s ? s : "");
    return false;
  }
  return true;
}

int main(int argc, char **argv) {
  Options o = {.rtol = 1e-3, .atol = 1e-7, .min_rate = -1, .min_ops = -1, .timeout = 60, .mem_mb = 4096};
  Suite *suites = xcalloc((size_t)argc, sizeof *suites);
  int nsuites = 0;
  bool table = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    double x;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "-v") == 0) {
      o.verbose = 1;
    } else if (strcmp(a, "--no-table") == 0) {
      table = false;
    } else if (strcmp(a, "--write-md") == 0 && v) {
      o.md = argv[++i];
    } else if (strcmp(a, "--filter") == 0 && v) {
      o.filter = argv[++i];
    } else if (strcmp(a, "--min-pass-rate") == 0 || strcmp(a, "--min-ops") == 0 || strcmp(a, "--rtol") == 0 ||
               strcmp(a, "--atol") == 0 || strcmp(a, "--timeout") == 0 || strcmp(a, "--mem-mb") == 0) {
      if (!num_arg(a, v, &x)) return 1;
      i++;
      if (a[2] == 'r') o.rtol = x;
      else if (a[2] == 'a') o.atol = x;
      else if (a[2] == 't') o.timeout = x < 1 ? 1 : (int)x;
      else if (strcmp(a, "--mem-mb") == 0) o.mem_mb = (long)x;
      else if (strcmp(a, "--min-ops") == 0) o.min_ops = (int)x;
      else o.min_rate = x;
    } else if (a[0] == '-') {
      fprintf(stderr, "quench-conformance: error: unknown option or missing value '%s' (see --help)\n", a);
      return 1;
    } else {
      const char *eq = strchr(a, '='), *slash = strchr(a, '/');
      Suite *s = &suites[nsuites++];
      strmap_init(&s->op_index);
      if (eq && (!slash || eq < slash)) {
        char *label = xstrdup(a);
        label[eq - a] = '\0';
        s->label = label;
        s->dir = eq + 1;
      } else {
        s->label = s->dir = a;
      }
    }
  }
  if (!nsuites) {
    fprintf(stderr, "quench-conformance: error: no test folder given (see --help)\n");
    return 1;
  }
  ops_init();
  int rc = 0;
  for (int k = 0; k < nsuites; k++) {
    Suite *s = &suites[k];
    if (!run_suite(&o, s)) return 1;
    qsort(s->ops, (size_t)s->nops, sizeof *s->ops, by_op);
    if (table) print_table(stdout, s, false);
    print_summary(stdout, s, false);
    if (o.min_ops >= 0 && ops_in_table(s) < o.min_ops) {
      printf("FAILED: %s: %d op types in the table, fewer than --min-ops %d\n", s->label, ops_in_table(s), o.min_ops);
      rc = 1;
    }
    if (o.min_rate >= 0 && pass_rate(s) < o.min_rate) {
      printf("FAILED: %s: pass rate %.1f%% is under --min-pass-rate %g%%\n", s->label, pass_rate(s), o.min_rate);
      rc = 1;
    }
  }
  if (o.md && !write_md(&o, suites, nsuites)) rc = 1;
  for (int k = 0; k < nsuites; k++) {
    Suite *s = &suites[k];
    for (int i = 0; i < s->nops; i++) free(s->ops[i].name);
    for (int i = 0; i < s->ntests; i++) free(s->tests[i].name), free(s->tests[i].reason);
    free(s->ops);
    free(s->tests);
    strmap_free(&s->op_index);
    if (s->label != s->dir) free((char *)s->label);
  }
  free(suites);
  return rc;
}
