/* Shared by the interpreter tests (test_interp.c, test_k_shape.c): captured
 * diagnostics, tensors from literal arrays, and running a small function
 * given as .qir text through interp_run. Include after cmocka.h. */
#ifndef QUENCH_TEST_INTERP_TEST_H
#define QUENCH_TEST_INTERP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "ir/text.h"
#include "ir/verifier.h"

static Diag D;
static char *diag_text;
static size_t diag_len;
static FILE *diag_out;

static int it_setup(void **state) {
  (void)state;
  diag_out = open_memstream(&diag_text, &diag_len);
  diag_init(&D, diag_out);
  return 0;
}

static int it_teardown(void **state) {
  (void)state;
  fclose(diag_out);
  free(diag_text);
  return 0;
}

/* Everything reported so far. */
static inline const char *diags(void) {
  fflush(diag_out);
  return diag_text ? diag_text : "";
}

static inline void expect_error(const char *msg) {
  if (!strstr(diags(), msg)) fail_msg("missing '%s' in:\n%s", msg, diags());
}

/* Dims from "2x3" ("" for a scalar); returns the rank. */
static inline int32_t parse_dims(const char *spec, int64_t *dims) {
  int32_t r = 0;
  for (const char *p = spec; *p;) {
    char *end;
    dims[r++] = strtoll(p, &end, 10);
    p = *end == 'x' ? end + 1 : end;
  }
  return r;
}

/* A tensor of type e and shape "2x3" holding v (NULL: zeros). */
static inline Tensor *T(IrElem e, const char *shape, const double *v) {
  int64_t dims[16];
  int32_t r = parse_dims(shape, dims);
  Tensor *t = tensor_new(e, r, dims);
  for (int64_t i = 0; v && i < t->numel; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

/* t has type e, shape "2x3" and exactly the values v. */
static inline void expect(const Tensor *t, IrElem e, const char *shape, const double *v) {
  int64_t dims[16];
  int32_t r = parse_dims(shape, dims);
  assert_non_null(t);
  assert_int_equal(t->elem, e);
  assert_int_equal(t->rank, r);
  for (int32_t i = 0; i < r; i++) assert_int_equal(t->dims[i], dims[i]);
  for (int64_t i = 0; i < t->numel; i++)
    if (tensor_get_f64(t, i) != v[i])
      fail_msg("element %lld is %g, expected %g", (long long)i, tensor_get_f64(t, i), v[i]);
}

/* Parses and verifies `text`; fails the test with the diagnostics if not. */
static inline IrModule *parse_qir(const char *text) {
  IrModule *m = ir_parse(&D, "t.qir", text, strlen(text), NULL);
  if (!m) fail_msg("parse: %s", diags());
  if (!ir_verify(m, &D)) fail_msg("verify: %s", diags());
  return m;
}

/* Runs `body` (ops and the return) as func @main(args) -> (results); frees
 * the inputs. */
static inline bool run(const char *args, const char *results, const char *body, Tensor **ins, uint32_t nin,
                       Tensor **outs) {
  char text[4096];
  snprintf(text, sizeof text, "module {\n  func @main(%s) -> (%s) {\n%s\n  }\n}\n", args, results, body);
  IrModule *m = parse_qir(text);
  Interp *it = interp_create(m, NULL, NULL, &D);
  assert_non_null(it);
  bool ok = interp_run(it, ins, nin, outs);
  for (uint32_t i = 0; i < nin; i++) tensor_free(ins[i]);
  interp_destroy(it);
  ir_module_destroy(m);
  return ok;
}

/* Runs like run() and expects it to fail with a diagnostic containing msg. */
static inline void run_fails(const char *args, const char *results, const char *body, Tensor **ins, uint32_t nin,
                             const char *msg) {
  Tensor *outs[8];
  assert_false(run(args, results, body, ins, nin, outs));
  expect_error(msg);
}

static inline void free_all(Tensor **ts, int n) {
  for (int i = 0; i < n; i++) tensor_free(ts[i]);
}

#endif
