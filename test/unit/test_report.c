/* Unit tests for compiler/report: the metrics as running sums over several
 * samples, argmax ties (the first maximum wins, as numpy's), greedy CTC
 * decoding (repeats collapse, blank 0 dropped, a blank separates repeats),
 * each task's agreement counts, and rep_run's pairing of X.dq with X on a
 * tiny module whose quantization error is worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ir/text.h"
#include "report/report.h"

static Tensor *mat(const float *v, int32_t rank, const int64_t *dims) {
  Tensor *t = tensor_new(IR_ELEM_F32, rank, dims);
  memcpy(t->data, v, (size_t)t->numel * sizeof(float));
  return t;
}

static Tensor *vec(const float *v, int64_t n) { return mat(v, 1, &n); }

static void test_metric_sums(void **state) {
  (void)state;
  /* Two samples: y = {1, 2}, yq = {1, 3}; then y = {2}, yq = {0}.
   * sum y^2 = 1+4+4 = 9; sum e^2 = 1+4 = 5; y.yq = 1+6+0 = 7; sum yq^2 = 10. */
  const float y1[] = {1, 2}, q1[] = {1, 3}, y2[] = {2}, q2[] = {0};
  Tensor *a = vec(y1, 2), *b = vec(q1, 2), *c = vec(y2, 1), *e = vec(q2, 1);
  RepMetric m = {0};
  rep_metric_add(&m, a, b);
  rep_metric_add(&m, c, e);
  assert_int_equal(m.n, 3);
  assert_float_equal(rep_metric_sqnr(&m), 10 * log10(9.0 / 5.0), 1e-12);
  assert_float_equal(rep_metric_cosine(&m), 7.0 / sqrt(9.0 * 10.0), 1e-12);
  assert_float_equal(m.max_abs, 2.0, 0);
  tensor_free(a);
  tensor_free(b);
  tensor_free(c);
  tensor_free(e);
}

static void test_metric_edges(void **state) {
  (void)state;
  const float z[] = {0, 0}, one[] = {1, 0}, nan2[] = {NAN, 1};
  Tensor *tz = vec(z, 2), *t1 = vec(one, 2), *tn = vec(nan2, 2);
  RepMetric m = {0};
  assert_true(isnan(rep_metric_sqnr(&m))); /* nothing measured */
  rep_metric_add(&m, t1, t1);
  assert_true(isinf(rep_metric_sqnr(&m)) && rep_metric_sqnr(&m) > 0); /* exact */
  assert_float_equal(rep_metric_cosine(&m), 1.0, 1e-15);
  RepMetric zz = {0};
  rep_metric_add(&zz, tz, tz);
  assert_float_equal(rep_metric_cosine(&zz), 1.0, 0); /* both zero */
  RepMetric zq = {0};
  rep_metric_add(&zq, tz, t1); /* reference zero, quantized not */
  assert_true(isinf(rep_metric_sqnr(&zq)) && rep_metric_sqnr(&zq) < 0);
  assert_float_equal(rep_metric_cosine(&zq), 0.0, 0);
  RepMetric nm = {0};
  rep_metric_add(&nm, tn, t1); /* the NaN pair is counted apart */
  assert_int_equal(nm.nonfinite, 1);
  assert_int_equal(nm.n, 1);
  assert_float_equal(nm.sum_err2, 1.0, 0); /* 1 - 0 */
  tensor_free(tz);
  tensor_free(t1);
  tensor_free(tn);
}

static void test_argmax(void **state) {
  (void)state;
  const float tie[] = {1, 3, 3, 2}, first[] = {5, 5}, nan1[] = {NAN, 1, 2}, allnan[] = {NAN, NAN};
  assert_int_equal(rep_argmax(tie, 4, 1), 1); /* first of the equal maxima */
  assert_int_equal(rep_argmax(first, 2, 1), 0);
  assert_int_equal(rep_argmax(nan1, 3, 1), 2); /* NaN is never the maximum */
  assert_int_equal(rep_argmax(allnan, 2, 1), 0);
  const float strided[] = {0, 9, 4, 9, 1, 9}; /* every other element: 0, 4, 1 */
  assert_int_equal(rep_argmax(strided, 3, 2), 1);
}

/* Rows of one-hot-ish scores for CTC over C = 3 classes (0 is blank). */
static void onehot(float *x, const int *cls, int T) {
  for (int t = 0; t < T; t++)
    for (int c = 0; c < 3; c++) x[t * 3 + c] = c == cls[t] ? 0.9f : 0.05f;
}

static void test_ctc(void **state) {
  (void)state;
  float x[8 * 3];
  int64_t out[8];
  /* 1 1 0 1 2 2 0 0 -> 1 1 2: repeats collapse, a blank separates the two 1s. */
  const int a[] = {1, 1, 0, 1, 2, 2, 0, 0};
  onehot(x, a, 8);
  assert_int_equal(rep_ctc_decode(x, 8, 3, out), 3);
  assert_int_equal(out[0], 1);
  assert_int_equal(out[1], 1);
  assert_int_equal(out[2], 2);
  /* all blank -> empty */
  const int b[] = {0, 0, 0};
  onehot(x, b, 3);
  assert_int_equal(rep_ctc_decode(x, 3, 3, out), 0);
  /* 2 2 2 -> 2 */
  const int c[] = {2, 2, 2};
  onehot(x, c, 3);
  assert_int_equal(rep_ctc_decode(x, 3, 3, out), 1);
  assert_int_equal(out[0], 2);
}

static void test_task_top1(void **state) {
  (void)state;
  /* Three rows of 3: the second row's top label differs. */
  const float y[] = {0.1f, 0.8f, 0.1f, 0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f};
  const float q[] = {0.2f, 0.7f, 0.1f, 0.3f, 0.6f, 0.1f, 0.1f, 0.2f, 0.7f};
  int64_t d[] = {3, 3};
  Tensor *a = mat(y, 2, d), *b = mat(q, 2, d);
  RepAgree g = {0};
  char why[128];
  assert_true(rep_task_score(REP_TASK_TOP1, a, b, &g, why, sizeof why));
  assert_int_equal(g.matched, 2);
  assert_int_equal(g.total, 3);
  /* next-token counts every position of [1,T,V] the same way. */
  int64_t d3[] = {1, 3, 3};
  Tensor *a3 = mat(y, 3, d3), *b3 = mat(q, 3, d3);
  RepAgree g3 = {0};
  assert_true(rep_task_score(REP_TASK_NEXT_TOKEN, a3, b3, &g3, why, sizeof why));
  assert_int_equal(g3.matched, 2);
  assert_int_equal(g3.total, 3);
  /* Different shapes are refused. */
  assert_false(rep_task_score(REP_TASK_TOP1, a, a3, &g, why, sizeof why));
  assert_non_null(strstr(why, "one shape"));
  tensor_free(a);
  tensor_free(b);
  tensor_free(a3);
  tensor_free(b3);
}

static void test_task_ctc(void **state) {
  (void)state;
  /* [B=2, T=4, C=3]: batch 0 decodes to "1 2" on both sides (the quantized
   * side repeats the 1, which collapses); batch 1 is "2" against "2 1". */
  float y[2 * 4 * 3], q[2 * 4 * 3];
  const int y0[] = {1, 0, 2, 0}, q0[] = {1, 1, 2, 2}, y1[] = {2, 2, 0, 0}, q1[] = {2, 0, 1, 0};
  onehot(y, y0, 4);
  onehot(q, q0, 4);
  onehot(y + 12, y1, 4);
  onehot(q + 12, q1, 4);
  int64_t d[] = {2, 4, 3};
  Tensor *a = mat(y, 3, d), *b = mat(q, 3, d);
  RepAgree g = {0};
  char why[128];
  assert_true(rep_task_score(REP_TASK_CTC, a, b, &g, why, sizeof why));
  assert_int_equal(g.matched, 1);
  assert_int_equal(g.total, 2);
  tensor_free(a);
  tensor_free(b);
}

static void test_task_detect(void **state) {
  (void)state;
  /* Faces (score > 0.5) at anchors {0, 2} in float and {2, 3} quantized:
   * intersection 1, union 3. A score of exactly 0.5 is not a face. */
  const float y[] = {0.1f, 0.9f, 0.6f, 0.4f, 0.2f, 0.8f, 0.5f, 0.5f};
  const float q[] = {0.6f, 0.4f, 0.6f, 0.4f, 0.3f, 0.7f, 0.4f, 0.6f};
  int64_t d[] = {4, 2};
  Tensor *a = mat(y, 2, d), *b = mat(q, 2, d);
  RepAgree g = {0};
  char why[128];
  assert_true(rep_task_score(REP_TASK_DETECT, a, b, &g, why, sizeof why));
  assert_int_equal(g.matched, 1);
  assert_int_equal(g.total, 3);
  int64_t d1[] = {8};
  Tensor *c = mat(y, 1, d1);
  assert_false(rep_task_score(REP_TASK_DETECT, c, c, &g, why, sizeof why));
  tensor_free(a);
  tensor_free(b);
  tensor_free(c);
}

static void test_task_names(void **state) {
  (void)state;
  RepTask t;
  assert_true(rep_task_from_name("next-token", &t));
  assert_int_equal(t, REP_TASK_NEXT_TOKEN);
  assert_string_equal(rep_task_name(REP_TASK_DETECT), "detect");
  assert_false(rep_task_from_name("top5", &t));
}

/* ---- rep_run on hand-made modules ----------------------------------------- */

static const char fp_text[] = "module {\n"
                              "  func @main(%x: tensor<4xf32>) -> (tensor<4xf32>) {\n"
                              "    %y = Relu(%x) : tensor<4xf32>\n"
                              "    return %y\n"
                              "  }\n"
                              "}\n";

static const char q_text[] = "module {\n"
                             "  const @s : tensor<f32> = dense<0.5>\n"
                             "  const @z : tensor<i8> = dense<0>\n"
                             "  func @main(%x: tensor<4xf32>) -> (tensor<4xf32>) {\n"
                             "    %s = Constant() {value = @s} : tensor<f32>\n"
                             "    %z = Constant() {value = @z} : tensor<i8>\n"
                             "    %x.q = QuantizeLinear(%x, %s, %z) : tensor<4xi8>\n"
                             "    %x.dq = DequantizeLinear(%x.q, %s, %z) : tensor<4xf32>\n"
                             "    %y = Relu(%x.dq) : tensor<4xf32>\n"
                             "    return %y\n"
                             "  }\n"
                             "}\n";

static bool load_fixed(const QSampleSet *s, int i, const IrFunc *f, Tensor **inputs, Diag *d) {
  (void)s, (void)i, (void)f, (void)d;
  const float x[] = {0.1f, 0.26f, -0.5f, 1.0f};
  inputs[0] = vec(x, 4);
  return true;
}

static void test_run_pairs(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, stderr);
  IrModule *fp = ir_parse(&d, "fp", fp_text, strlen(fp_text), NULL);
  IrModule *q = ir_parse(&d, "q", q_text, strlen(q_text), NULL);
  assert_non_null(fp);
  assert_non_null(q);
  char *paths[] = {"a", "b"};
  QSampleSet set = {.dir = "d", .paths = paths, .n = 2};
  RepOptions o = {.task = REP_TASK_NONE, .load = load_fixed};
  RepReport r;
  assert_true(rep_run(&r, fp, q, &set, &o, &d));
  assert_int_equal(r.samples, 2);
  assert_int_equal(r.nrows, 1); /* x only: x.dq pairs with the float x */
  assert_string_equal(r.rows[0].name, "x");
  assert_string_equal(r.rows[0].op, "Relu");
  assert_string_equal(r.rows[0].storage, "i8");
  /* x/0.5 = 0.2 0.52 -1 2 rounds to 0 1 -1 2: x.dq = 0 0.5 -0.5 1.
   * Errors 0.1 -0.24 0 0: sum e^2 = 0.0676; sum x^2 = 1.3276 (per sample,
   * the same twice). Relu output: y = 0.1 0.26 0 1, yq = 0 0.5 0 1. */
  assert_int_equal(r.rows[0].fp.n, 8); /* first: a NaN would pass assert_float_equal */
  assert_float_equal(rep_metric_sqnr(&r.rows[0].fp), 10 * log10(1.3276 / 0.0676), 1e-4);
  /* x is the graph input: the same in both runs, so the qdq (local)
   * measurement equals the accumulated one here. */
  assert_int_equal(r.rows[0].local.n, 8);
  assert_float_equal(rep_metric_sqnr(&r.rows[0].local), 10 * log10(1.3276 / 0.0676), 1e-4);
  assert_int_equal(r.nouts, 1);
  assert_string_equal(r.outs[0].name, "y");
  assert_int_equal(r.outs[0].m.n, 8);
  assert_float_equal(rep_metric_sqnr(&r.outs[0].m), 10 * log10(1.0776 / 0.0676), 1e-4);
  assert_float_equal(r.outs[0].m.max_abs, 0.24, 1e-6);
  assert_float_equal(rep_worst_output_sqnr(&r), 10 * log10(1.0776 / 0.0676), 1e-4);
  assert_true(isnan(rep_agreement_pct(&r)));
  rep_report_free(&r);
  ir_module_destroy(fp);
  ir_module_destroy(q);
}

/* With a float cache: no tensor rows, the float outputs are computed on the
 * first call only. The second call gets a float module that computes
 * something else (x itself): the figures must still be those of the cached
 * Relu outputs, which shows the float model did not run again. */
static void test_run_cache(void **state) {
  (void)state;
  static const char other_text[] = "module {\n"
                                   "  func @main(%x: tensor<4xf32>) -> (tensor<4xf32>) {\n"
                                   "    %y = Identity(%x) : tensor<4xf32>\n"
                                   "    return %y\n"
                                   "  }\n"
                                   "}\n";
  Diag d;
  diag_init(&d, stderr);
  IrModule *fp = ir_parse(&d, "fp", fp_text, strlen(fp_text), NULL);
  IrModule *other = ir_parse(&d, "other", other_text, strlen(other_text), NULL);
  IrModule *q = ir_parse(&d, "q", q_text, strlen(q_text), NULL);
  assert_non_null(fp);
  assert_non_null(other);
  assert_non_null(q);
  char *paths[] = {"a", "b"};
  QSampleSet set = {.dir = "d", .paths = paths, .n = 2};
  RepFloatCache cache = {0};
  RepOptions o = {.task = REP_TASK_NONE, .load = load_fixed, .fp_cache = &cache};
  RepReport r;
  assert_true(rep_run(&r, fp, q, &set, &o, &d));
  assert_int_equal(r.nrows, 0);
  assert_int_equal(cache.nsamples, 2);
  assert_int_equal(r.outs[0].m.n, 8);
  assert_float_equal(rep_worst_output_sqnr(&r), 10 * log10(1.0776 / 0.0676), 1e-4);
  rep_report_free(&r);
  assert_true(rep_run(&r, other, q, &set, &o, &d));
  assert_int_equal(r.outs[0].m.n, 8);
  assert_float_equal(rep_worst_output_sqnr(&r), 10 * log10(1.0776 / 0.0676), 1e-4);
  rep_report_free(&r);
  /* Without the cache the other module does run: x = 0.1 0.26 -0.5 1
   * against yq = 0 0.5 0 1 adds the -0.5. */
  rep_float_cache_free(&cache);
  assert_int_equal(cache.nsamples, 0);
  o.fp_cache = NULL;
  assert_true(rep_run(&r, other, q, &set, &o, &d));
  assert_float_equal(rep_worst_output_sqnr(&r), 10 * log10(1.3276 / (0.0676 + 0.25)), 1e-4);
  rep_report_free(&r);
  ir_module_destroy(fp);
  ir_module_destroy(other);
  ir_module_destroy(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metric_sums), cmocka_unit_test(test_metric_edges), cmocka_unit_test(test_argmax),
      cmocka_unit_test(test_ctc),         cmocka_unit_test(test_task_top1),    cmocka_unit_test(test_task_ctc),
      cmocka_unit_test(test_task_detect), cmocka_unit_test(test_task_names),   cmocka_unit_test(test_run_pairs),
      cmocka_unit_test(test_run_cache),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
