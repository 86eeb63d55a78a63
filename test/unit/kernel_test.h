/* Shared by the interpreter kernel unit tests (test_k_*.c): parse one op
 * from IR text, run it through interp_eval_op and compare results. Include
 * after cmocka.h. */
#ifndef QUENCH_TEST_KERNEL_TEST_H
#define QUENCH_TEST_KERNEL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "ir/text.h"

typedef struct KtRun {
  IrModule *m;
  Tensor *out[4];
  uint32_t nout;
  char *err; /* diagnostics text (malloc'ed) */
  bool ok;
} KtRun;

/* Runs the first op of `body` (a function body, one op then `return`),
 * whose arguments are `sig` (e.g. "%x: tensor<*xf32>, %w: tensor<*xf32>"). */
static inline KtRun kt_run(const char *sig, const char *body, Tensor *const *in) {
  KtRun r = {0};
  char text[4096];
  snprintf(text, sizeof text, "module {\n  func @main(%s) -> (tensor<*xf32>) {\n%s\n  }\n}\n", sig, body);
  size_t len = 0;
  FILE *out = open_memstream(&r.err, &len);
  Diag d;
  diag_init(&d, out);
  r.m = ir_parse(&d, "kt.qir", text, strlen(text), NULL);
  if (!r.m) {
    fclose(out);
    fail_msg("parse failed: %s\n%s", r.err, text);
  }
  const IrOp *op = r.m->funcs[0]->body->first;
  r.nout = op->nresults;
  r.ok = interp_eval_op(op, in, r.out, &d);
  fclose(out);
  return r;
}

static inline void kt_free(KtRun *r) {
  for (uint32_t i = 0; i < r->nout; i++) tensor_free(r->out[i]);
  ir_module_destroy(r->m);
  free(r->err);
}

/* An f32 tensor with the given dims and values (NULL values: v[i] = seed
 * pattern, a deterministic pseudo-random sequence in [-1, 1)). */
static inline Tensor *kt_f32(int32_t rank, const int64_t *dims, const float *v) {
  Tensor *t = tensor_new(IR_ELEM_F32, rank, dims);
  float *p = t->data;
  uint32_t s = 12345;
  for (int64_t i = 0; i < t->numel; i++) {
    s = s * 1103515245u + 12345u;
    p[i] = v ? v[i] : (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  return t;
}

/* A tensor of type e holding ((i * 7 + seed) % 11 - 5) / 4, exact in every
 * float type (the test scripts use the same pattern). */
static inline Tensor *kt_pattern(IrElem e, int32_t rank, const int64_t *dims, int seed) {
  Tensor *t = tensor_new(e, rank, dims);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, (double)((i * 7 + seed) % 11 - 5) * 0.25);
  return t;
}

/* Checks t's dims and that |t - want| <= tol * max(1, |want|). */
static inline void kt_expect(const Tensor *t, int32_t rank, const int64_t *dims, const double *want, double tol) {
  assert_non_null(t);
  assert_int_equal(t->rank, rank);
  for (int32_t i = 0; i < rank; i++) assert_int_equal(t->dims[i], dims[i]);
  for (int64_t i = 0; i < t->numel; i++) {
    double got = tensor_get_f64(t, i), w = want[i];
    if ((isnan(w) && isnan(got)) || (isinf(w) && got == w)) continue;
    double lim = tol * (fabs(w) > 1 ? fabs(w) : 1);
    if (!(fabs(got - w) <= lim)) fail_msg("element %lld: got %.9g, want %.9g", (long long)i, got, w);
  }
}

/* Checks that the run failed with a message containing `needle`. */
static inline void kt_expect_error(const KtRun *r, const char *needle) {
  assert_false(r->ok);
  if (!strstr(r->err, needle)) fail_msg("error '%s' does not mention '%s'", r->err, needle);
}

/* A table-driven case: one op as IR text, its inputs and the expected
 * outputs (each test file says where its expected values come from). */
typedef struct NodeCase {
  const char *name, *sig, *body;
  int nin;
  struct {
    IrElem elem;
    int32_t rank;
    int64_t dims[6];
    const double *v;
  } in[5];
  int nout;
  struct {
    int32_t rank;
    int64_t dims[6];
    const double *v;
  } out[3];
} NodeCase;

static inline void kt_node_case(const NodeCase *c, double tol) {
  Tensor *in[5] = {NULL};
  for (int i = 0; i < c->nin; i++) {
    if (c->in[i].rank < 0) continue; /* absent optional operand */
    in[i] = tensor_new(c->in[i].elem, c->in[i].rank, c->in[i].dims);
    for (int64_t j = 0; j < in[i]->numel; j++) tensor_set_f64(in[i], j, c->in[i].v[j]);
  }
  KtRun r = kt_run(c->sig, c->body, in);
  if (!r.ok) fail_msg("%s: %s", c->name, r.err);
  for (int i = 0; i < c->nout; i++) {
    print_message("%s: result %d\n", c->name, i);
    kt_expect(r.out[i], c->out[i].rank, c->out[i].dims, c->out[i].v, tol);
  }
  kt_free(&r);
  for (int i = 0; i < c->nin; i++) tensor_free(in[i]);
}

#endif
