/* quantize changes values by at most what the quantization grids allow: a
 * small float graph and its w8a8 QDQ form run on the interpreter with the
 * same inputs, and every output element must be within a bound derived by
 * hand from the scales (docs/passes/quantize.md):
 *   y = x W, per-channel i8 weights s_w[j] = max_k |W[k][j]| / 127, u8
 *   activations s_x = (max(hi, 0) - min(lo, 0)) / 255 over the calibrated
 *   range: |y - x^ W^| <= sum_k |x_k| s_w[j] / 2 + |W^[k][j]| s_x / 2
 *   (round to nearest puts every code within half a step);
 *   r = Relu(y) quantized on its own range adds at most half its step s_r.
 * The statistics are written here from the same samples (their min/max is
 * all min-max calibration reads), so the quantized graph is not checked
 * against itself.
 * Bias correction (passes/quantize_bias.c): on a 2x2 MatMul + Add and a
 * 1x1 Conv without a bias, quantized to i4 (w4a16, large errors), the
 * corrected graph run on the mean calibration input E[x] gives the float
 * graph's output (W^ E[x] + b - eps E[x] = W E[x] + b), up to f32
 * rounding; without the correction it does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "pm/pass_manager.h"
#include "quant/calib.h"

enum { NS = 8, K = 3, N = 2 }; /* samples, input dim, output dim */

static const float W[K][N] = {{0.5f, -1.25f}, {0.3f, 0.8f}, {-0.9f, 0.05f}};

static const char *module_text =
    "module @m {\n"
    "  func @f(%x: tensor<1x3xf32>) -> (tensor<1x2xf32>) {\n"
    "    %w = Constant() {value = dense<[0.5, -1.25, 0.3, 0.8, -0.9, 0.05]> : tensor<3x2xf32>} : "
    "tensor<3x2xf32>\n"
    "    %e = Constant() {value = dense<[1.0, 0.0, 0.0, 1.0]> : tensor<2x2xf32>} : tensor<2x2xf32>\n"
    "    %y = MatMul(%x, %w) : tensor<1x2xf32>\n"
    "    %r = Relu(%y) : tensor<1x2xf32>\n"
    "    %z = MatMul(%r, %e) : tensor<1x2xf32>\n"
    "    return %z\n"
    "  }\n"
    "}\n";

static float xs[NS][K];

static Tensor *row(const float *v, int n) {
  int64_t dims[2] = {1, n};
  Tensor *t = tensor_new(IR_ELEM_F32, 2, dims);
  for (int i = 0; i < n; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

static IrModule *parse(Diag *d) {
  IrParseOptions po = {NULL, 0};
  IrModule *m = ir_parse(d, "<numerics>", module_text, strlen(module_text), &po);
  assert_non_null(m);
  assert_true(ir_verify(m, d));
  return m;
}

static Tensor *run1(const IrModule *m, const float *x, Diag *d) {
  Tensor *in = row(x, K), *out = NULL;
  Interp *it = interp_create(m, "f", NULL, d);
  assert_non_null(it);
  assert_true(interp_run(it, &in, 1, &out));
  interp_destroy(it);
  tensor_free(in);
  return out;
}

static int count_kind(const IrModule *m, IrOpKind k) {
  int n = 0;
  for (IrOp *op = m->funcs[0]->body->first; op; op = op->next) n += op->kind == k;
  return n;
}

static void test_w8a8_error_within_half_steps(void **state) {
  (void)state;
  /* Deterministic samples in [-2, 3): the u8 range is asymmetric. */
  for (int s = 0; s < NS; s++)
    for (int k = 0; k < K; k++) xs[s][k] = (float)(((s * 7 + k * 5) % 11) * 0.5 - 2.0);
  /* Float reference in double, and the ranges calibration would see. */
  double xlo = 0, xhi = 0, rhi = 0, ref[NS][N];
  QStats st;
  q_stats_init(&st);
  QTensorStats *tx = q_stats_get(&st, "x", -1, 0), *tr = q_stats_get(&st, "r", -1, 0), *ty = q_stats_get(&st, "y", -1, 0);
  char why[128];
  for (int s = 0; s < NS; s++) {
    float y[N], r[N];
    for (int j = 0; j < N; j++) {
      double acc = 0;
      for (int k = 0; k < K; k++) acc += (double)xs[s][k] * W[k][j];
      y[j] = (float)acc, r[j] = acc > 0 ? (float)acc : 0.0f, ref[s][j] = r[j];
      rhi = fmax(rhi, r[j]);
    }
    for (int k = 0; k < K; k++) xlo = fmin(xlo, xs[s][k]), xhi = fmax(xhi, xs[s][k]);
    Tensor *a = row(xs[s], K), *b = row(r, N), *c = row(y, N);
    assert_true(q_stats_observe(tx, a, why, sizeof why));
    assert_true(q_stats_observe(tr, b, why, sizeof why));
    assert_true(q_stats_observe(ty, c, why, sizeof why));
    tensor_free(a), tensor_free(b), tensor_free(c);
  }
  st.samples = NS;
  char path[] = "/tmp/quench-qnum-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  Diag d;
  diag_init(&d, stderr);
  assert_true(q_stats_write(&st, path, &d));
  q_stats_free(&st);

  IrModule *fm = parse(&d), *qm = parse(&d);
  PassRegistry reg;
  pass_registry_init(&reg);
  assert_true(pass_registry_add_builtins(&reg, &d, diag_loc("<test>", 0, 0)));
  char pipe[256];
  snprintf(pipe, sizeof pipe, "quantize{preset=w8a8,calibrator=minmax,stats=%s}", path);
  Pipeline pl;
  pipeline_init(&pl);
  assert_true(pipeline_parse(&pl, &reg, pipe, "<test>", &d));
  PassManagerOptions pmo = {.verify = true, .dump = stderr};
  PassManager pm;
  pm_init(&pm, &pl, &pmo);
  assert_true(pm_run(&pm, qm, &d));
  pm_free(&pm);
  pipeline_free(&pl);
  pass_registry_free(&reg);
  unlink(path);
  /* x and r get pairs (r feeds the second MatMul); z is returned: none. */
  assert_int_equal(count_kind(qm, IR_OP_QUANTIZE_LINEAR), 2);

  /* The bound, from the scales as the preset defines them. */
  double sw[N], what[K][N];
  for (int j = 0; j < N; j++) {
    sw[j] = 0;
    for (int k = 0; k < K; k++) sw[j] = fmax(sw[j], fabs(W[k][j]));
    sw[j] /= 127;
    for (int k = 0; k < K; k++) what[k][j] = nearbyint(W[k][j] / sw[j]) * sw[j];
  }
  double sx = (xhi - xlo) / 255, sr = rhi / 255;
  double worst = 0, tightest = INFINITY;
  for (int s = 0; s < NS; s++) {
    Tensor *fo = run1(fm, xs[s], &d), *qo = run1(qm, xs[s], &d);
    for (int j = 0; j < N; j++) {
      double bound = sr / 2 + 1e-5;
      for (int k = 0; k < K; k++) bound += fabs(xs[s][k]) * sw[j] / 2 + fabs(what[k][j]) * sx / 2;
      double f = tensor_get_f64(fo, j), q = tensor_get_f64(qo, j), err = fabs(f - q);
      assert_true(fabs(f - ref[s][j]) < 1e-5);
      if (err > bound) fail_msg("sample %d output %d: |%g - %g| = %g > bound %g", s, j, f, q, err, bound);
      worst = fmax(worst, err);
      tightest = fmin(tightest, bound - err);
    }
    tensor_free(fo), tensor_free(qo);
  }
  /* Quantization must have changed something: an identical result would
   * mean the graph was not quantized and the bound proved nothing. */
  assert_true(worst > 0);
  print_message("worst error %g, smallest margin to the bound %g (s_x %g, s_r %g)\n", worst, tightest, sx, sr);
  ir_module_destroy(fm);
  ir_module_destroy(qm);
}

static const char *bc_text =
    "module @bc {\n"
    "  func @g(%x: tensor<1x2xf32>, %c: tensor<1x2x1x1xf32>) -> (tensor<1x2xf32>, tensor<1x2x1x1xf32>) {\n"
    "    %w = Constant() {value = dense<[0.3, -1.0, 0.45, 0.2]> : tensor<2x2xf32>} : tensor<2x2xf32>\n"
    "    %b = Constant() {value = dense<[0.1, -0.2]> : tensor<2xf32>} : tensor<2xf32>\n"
    "    %m = MatMul(%x, %w) : tensor<1x2xf32>\n"
    "    %y = Add(%m, %b) : tensor<1x2xf32>\n"
    "    %k = Constant() {value = dense<[0.7, 0.33, -0.21, 0.5]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>\n"
    "    %z = Conv(%c, %k) : tensor<1x2x1x1xf32>\n"
    "    return %y, %z\n"
    "  }\n"
    "}\n";

/* The largest output difference between float and quantized (bias
 * correction on or off) on the mean input; *biases the corrected count. */
static double bc_error_at_mean(bool correct) {
  static const float xs2[3][2] = {{1.0f, 2.0f}, {3.0f, -1.0f}, {2.0f, 0.5f}};
  Diag d;
  diag_init(&d, stderr);
  QStats st;
  q_stats_init(&st);
  QTensorStats *tx = q_stats_get(&st, "x", 1, 2), *tc = q_stats_get(&st, "c", 1, 2);
  char why[128];
  int64_t cd[4] = {1, 2, 1, 1};
  for (int s = 0; s < 3; s++) {
    Tensor *a = row(xs2[s], 2), *c = tensor_new(IR_ELEM_F32, 4, cd);
    for (int i = 0; i < 2; i++) tensor_set_f64(c, i, xs2[s][1 - i]);
    assert_true(q_stats_observe(tx, a, why, sizeof why));
    assert_true(q_stats_observe(tc, c, why, sizeof why));
    tensor_free(a), tensor_free(c);
  }
  st.samples = 3;
  char path[] = "/tmp/quench-qbc-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_true(q_stats_write(&st, path, &d));
  q_stats_free(&st);
  IrParseOptions po = {NULL, 0};
  IrModule *fm = ir_parse(&d, "<bc>", bc_text, strlen(bc_text), &po), *qm = ir_parse(&d, "<bc>", bc_text, strlen(bc_text), &po);
  assert_non_null(fm), assert_non_null(qm);
  PassRegistry reg;
  pass_registry_init(&reg);
  assert_true(pass_registry_add_builtins(&reg, &d, diag_loc("<test>", 0, 0)));
  char pipe[256];
  snprintf(pipe, sizeof pipe, "quantize{preset=w4a16,w-clip=none,rounding=rtn,bias-correction=%s,stats=%s}",
           correct ? "true" : "false", path);
  Pipeline pl;
  pipeline_init(&pl);
  assert_true(pipeline_parse(&pl, &reg, pipe, "<test>", &d));
  PassManagerOptions pmo = {.verify = true, .dump = stderr};
  PassManager pm;
  pm_init(&pm, &pl, &pmo);
  assert_true(pm_run(&pm, qm, &d));
  pm_free(&pm);
  pipeline_free(&pl);
  pass_registry_free(&reg);
  unlink(path);
  /* E[x] by hand: x = (1 + 3 + 2, 2 - 1 + 0.5) / 3 = (2, 0.5); c holds x reversed. */
  float mx[2] = {2.0f, 0.5f};
  Tensor *in[2] = {row(mx, 2), tensor_new(IR_ELEM_F32, 4, cd)};
  tensor_set_f64(in[1], 0, 0.5), tensor_set_f64(in[1], 1, 2.0);
  double worst = 0;
  Tensor *fo[2] = {0}, *qo[2] = {0};
  Interp *fi = interp_create(fm, "g", NULL, &d), *qi = interp_create(qm, "g", NULL, &d);
  assert_non_null(fi), assert_non_null(qi);
  assert_true(interp_run(fi, in, 2, fo));
  assert_true(interp_run(qi, in, 2, qo));
  for (int o = 0; o < 2; o++) {
    for (int j = 0; j < 2; j++) worst = fmax(worst, fabs(tensor_get_f64(fo[o], j) - tensor_get_f64(qo[o], j)));
    tensor_free(fo[o]), tensor_free(qo[o]), tensor_free(in[o]);
  }
  interp_destroy(fi), interp_destroy(qi);
  /* The corrected Conv gained a bias operand. */
  for (IrOp *op = qm->funcs[0]->body->first; op; op = op->next)
    if (op->kind == IR_OP_CONV) assert_int_equal(op->noperands, correct ? 3 : 2);
  ir_module_destroy(fm);
  ir_module_destroy(qm);
  return worst;
}

static void test_bias_correction_zero_mean_error(void **state) {
  (void)state;
  double off = bc_error_at_mean(false), on = bc_error_at_mean(true);
  print_message("error at E[x]: %g uncorrected, %g corrected\n", off, on);
  assert_true(off > 1e-3); /* i4 moves the mean output: the test can fail */
  assert_true(on < 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_w8a8_error_within_half_steps),
                                     cmocka_unit_test(test_bias_correction_zero_mean_error)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
