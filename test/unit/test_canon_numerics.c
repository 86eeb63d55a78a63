/* The canonicalization passes change structure, never values: every module
 * in the passes' lit tests (every .qir file in test/lit/passes, each `// -----` chunk) is
 * run on the interpreter with seeded random inputs before and after
 * `canonicalize`, and every output must agree to float rounding. The lit
 * tests check what is rewritten; this checks that the rewrites are exact. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "pm/pass_manager.h"
#include "support/fileio.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double uniform(void) { /* xorshift64*, in [-2, 2) */
  rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
  return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0 * 4.0 - 2.0;
}

/* Random inputs for every argument of f; false if one has no static shape. */
static bool make_inputs(const IrFunc *f, Tensor **in) {
  for (uint32_t i = 0; i < f->body->nargs; i++) {
    const IrType *t = f->body->args[i]->type;
    int64_t dims[TENSOR_MAX_RANK];
    if (!ir_type_is_static(t) || t->quant || t->rank > TENSOR_MAX_RANK) return false;
    for (int32_t d = 0; d < t->rank; d++) dims[d] = t->dims[d].size;
    in[i] = tensor_new(t->elem, t->rank, dims);
    for (int64_t k = 0; k < in[i]->numel; k++) {
      double v = uniform();
      if (t->elem == IR_ELEM_BOOL) v = v > 0;
      else if (!ir_elem_is_float(t->elem)) v = floor(v * 2);
      tensor_set_f64(in[i], k, v);
    }
  }
  return true;
}

static bool run(const IrModule *m, const char *func, Tensor **in, uint32_t nin, Tensor **out, Diag *d) {
  Interp *it = interp_create(m, func, NULL, d);
  if (!it) return false;
  bool ok = interp_run(it, in, nin, out);
  interp_destroy(it);
  return ok;
}

static int checked_chunks, compared_outputs;

static void check_chunk(const char *path, const char *text, size_t len, int line, PassRegistry *reg) {
  Diag d;
  diag_init(&d, NULL); /* error-case chunks fail quietly */
  IrParseOptions po = {NULL, line};
  IrModule *m = ir_parse(&d, path, text, len, &po);
  if (!m || !ir_verify(m, &d)) { /* error-case chunks are the lit tests' business */
    ir_module_destroy(m);
    return;
  }
  Tensor *in[16] = {0}, *before[16] = {0}, *after[16] = {0};
  IrFunc *f = m->nfuncs ? m->funcs[0] : NULL;
  bool ok = f && f->body->nargs <= 16 && f->nresults <= 16 && make_inputs(f, in) &&
            run(m, f->name, in, f->body->nargs, before, &d);
  if (ok) {
    Pipeline pl;
    pipeline_init(&pl);
    assert_true(pipeline_parse(&pl, reg, "canonicalize", "<test>", &d));
    PassManagerOptions pmo = {.verify = true, .dump = stderr};
    PassManager pm;
    pm_init(&pm, &pl, &pmo);
    if (!pm_run(&pm, m, &d)) fail_msg("%s:%d: canonicalize failed (%d errors)", path, line + 1, d.errors);
    pm_free(&pm);
    pipeline_free(&pl);
    if (!run(m, f->name, in, f->body->nargs, after, &d)) fail_msg("%s:%d: the canonicalized module fails", path, line + 1);
    for (uint32_t r = 0; r < f->nresults; r++) {
      assert_int_equal(before[r]->elem, after[r]->elem);
      assert_true(tensor_same_shape(before[r], after[r]));
      double scale = 0, err = 0;
      for (int64_t k = 0; k < before[r]->numel; k++) {
        double a = tensor_get_f64(before[r], k), b = tensor_get_f64(after[r], k);
        scale = fmax(scale, fabs(a));
        err = fmax(err, fabs(a - b));
      }
      /* Raised ops compute in double where the decomposed chain rounded to
       * f32 at every step: a few f32 ulps of the output's scale. */
      if (err > 1e-5 * fmax(scale, 1e-3))
        fail_msg("%s:%d: output #%u differs by %g (scale %g) after canonicalize", path, line + 1, r, err, scale);
      compared_outputs++;
    }
    checked_chunks++;
  }
  for (int i = 0; i < 16; i++) tensor_free(in[i]), tensor_free(before[i]), tensor_free(after[i]);
  ir_module_destroy(m);
}

static void test_passes_keep_values(void **state) {
  (void)state;
  const char *src = getenv("QUENCH_SOURCE_DIR");
  if (!src) fail_msg("QUENCH_SOURCE_DIR is not set (ctest sets it)");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/test/lit/passes", src);
  DIR *dh = opendir(dir);
  assert_non_null(dh);
  PassRegistry reg;
  pass_registry_init(&reg);
  Diag d;
  diag_init(&d, stderr);
  assert_true(pass_registry_add_builtins(&reg, &d, diag_loc("<test>", 0, 0)));
  struct dirent *e;
  while ((e = readdir(dh))) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".qir") != 0) continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    char *text = fileio_read_path(path, "test", &len, &d, diag_loc(path, 0, 0));
    assert_non_null(text);
    /* Chunks as quench-opt --split-input-file cuts them. */
    const char *chunk = text;
    int line = 0, chunk_line = 0;
    for (const char *p = text;; p++) {
      bool at_end = p == text + len;
      bool sep = !at_end && (p == text || p[-1] == '\n') && strncmp(p, "// -----", 8) == 0;
      if (sep || at_end) {
        check_chunk(path, chunk, (size_t)(p - chunk), chunk_line, &reg);
        if (at_end) break;
        chunk = p;
        chunk_line = line;
      }
      if (*p == '\n') line++;
    }
    free(text);
  }
  closedir(dh);
  pass_registry_free(&reg);
  /* The lit tests hold dozens of modules; a handful checked means the
   * harness lost them. */
  print_message("canonicalize kept the values of %d modules (%d outputs)\n", checked_chunks, compared_outputs);
  assert_true(checked_chunks >= 20);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_passes_keep_values)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
