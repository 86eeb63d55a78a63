/* MatMul and Gemm kernels (k_linalg.c) and the blocked f32 GEMM
 * (gemm_f32.c). Expected values come from numpy (the expression is in a
 * comment by each case) or, for the GEMM, from a naive triple loop in
 * double. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "interp/gemm_f32.h"
#include "kernel_test.h"

/* gemm_f32 against a double triple loop on odd sizes around the register
 * tile (6 x 16) and the cache blocks (k 256, n 2048), plain and transposed
 * views, overwrite and accumulate. */
static void check_gemm(int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool acc) {
  int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n}, cd[2] = {m, n};
  Tensor *a = kt_f32(2, ad, NULL), *b = kt_f32(2, bd, NULL), *c = kt_f32(2, cd, NULL);
  const float *ap = a->data, *bp = b->data;
  float *cp = c->data;
  double *want = malloc((size_t)(m * n) * sizeof *want);
  GemmMat ma = {ap, ta ? 1 : k, ta ? m : 1}, mb = {bp, tb ? 1 : n, tb ? k : 1};
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = acc ? cp[i * n + j] : 0;
      for (int64_t p = 0; p < k; p++) s += (double)ma.p[i * ma.rs + p * ma.cs] * mb.p[p * mb.rs + j * mb.cs];
      want[i * n + j] = s;
    }
  assert_true(gemm_f32(m, n, k, ma, mb, cp, n, acc));
  /* f32 sums of k terms of size <= 1: error well under 1e-5 * k. */
  kt_expect(c, 2, cd, want, 2e-6 * (double)(k + 1));
  free(want);
  tensor_free(a);
  tensor_free(b);
  tensor_free(c);
}

static void test_gemm_sizes(void **state) {
  (void)state;
  static const int64_t sizes[] = {1, 7, 17, 33, 65};
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++)
      for (int l = 0; l < 5; l++) check_gemm(sizes[i], sizes[j], sizes[l], false, false, false);
}

static void test_gemm_views_and_blocks(void **state) {
  (void)state;
  check_gemm(13, 19, 5, true, false, false);
  check_gemm(13, 19, 5, false, true, true);
  check_gemm(7, 33, 17, true, true, true);
  check_gemm(100, 21, 300, false, false, false); /* two k blocks, two m blocks */
  check_gemm(3, 2100, 9, false, true, false);    /* two n blocks */
  check_gemm(5, 3, 0, false, false, false);      /* k = 0: zeros */
}

static const char *SIG2 = "%a: tensor<*xf32>, %b: tensor<*xf32>";

static void test_matmul_batch_broadcast(void **state) {
  (void)state;
  /* A = np.arange(12).reshape(2,1,2,3) - 5; B = np.arange(18).reshape(3,3,2) * 0.5; A @ B */
  int64_t ad[4] = {2, 1, 2, 3}, bd[3] = {3, 3, 2}, yd[4] = {2, 3, 2, 2};
  float av[12], bv[18];
  for (int i = 0; i < 12; i++) av[i] = (float)i - 5;
  for (int i = 0; i < 18; i++) bv[i] = (float)i * 0.5f;
  Tensor *in[2] = {kt_f32(4, ad, av), kt_f32(3, bd, bv)};
  KtRun r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", in);
  assert_true(r.ok);
  static const double want[] = {-10, -16, -1, -2.5, -46, -52, -10, -11.5, -82, -88, -19, -20.5,
                                8,   11,  17, 24.5, 26,  29,  62,  69.5,  44,  47,  107, 114.5};
  kt_expect(r.out[0], 4, yd, want, 1e-6);
  kt_free(&r);
  tensor_free(in[0]);
  tensor_free(in[1]);
}

static void test_matmul_vectors(void **state) {
  (void)state;
  /* a = [1,2,3]; M = np.arange(6).reshape(3,2): a @ M = [16, 22], M.T @ a = [16, 22], a @ a = 14 */
  float av[3] = {1, 2, 3}, mv[6] = {0, 1, 2, 3, 4, 5}, mtv[6] = {0, 2, 4, 1, 3, 5};
  int64_t d3 = 3, md[2] = {3, 2}, mtd[2] = {2, 3}, d2 = 2;
  static const double w1[2] = {16, 22}, w0[1] = {14};
  Tensor *vm[2] = {kt_f32(1, &d3, av), kt_f32(2, md, mv)};
  KtRun r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", vm);
  assert_true(r.ok);
  kt_expect(r.out[0], 1, &d2, w1, 0);
  kt_free(&r);
  Tensor *mvv[2] = {kt_f32(2, mtd, mtv), vm[0]};
  r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", mvv);
  assert_true(r.ok);
  kt_expect(r.out[0], 1, &d2, w1, 0);
  kt_free(&r);
  Tensor *vv[2] = {vm[0], vm[0]};
  r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", vv);
  assert_true(r.ok);
  kt_expect(r.out[0], 0, NULL, w0, 0);
  kt_free(&r);
  tensor_free(vm[0]);
  tensor_free(vm[1]);
  tensor_free(mvv[0]);
}

static void test_matmul_f64_and_int(void **state) {
  (void)state;
  /* np.array([[1e-9, 1], [2, 3]]) @ np.array([[1e9], [1]]) = [[2], [2e9 + 3]] in f64 */
  int64_t ad[2] = {2, 2}, bd[2] = {2, 1}, yd[2] = {2, 1};
  Tensor *a = tensor_new(IR_ELEM_F64, 2, ad), *b = tensor_new(IR_ELEM_F64, 2, bd);
  double *ap = a->data, *bp = b->data;
  ap[0] = 1e-9, ap[1] = 1, ap[2] = 2, ap[3] = 3, bp[0] = 1e9, bp[1] = 1;
  Tensor *in[2] = {a, b};
  KtRun r = kt_run("%a: tensor<*xf64>, %b: tensor<*xf64>", "%y = MatMul(%a, %b) : tensor<*xf64>\nreturn %y", in);
  assert_true(r.ok);
  static const double w[2] = {2, 2e9 + 3};
  kt_expect(r.out[0], 2, yd, w, 1e-15);
  kt_free(&r);
  /* int32 wraps: np.array([[65536]], np.int32) @ np.array([[65537]], np.int32) = [[65536]] */
  int64_t one[2] = {1, 1};
  Tensor *ia = tensor_new(IR_ELEM_I32, 2, one), *ib = tensor_new(IR_ELEM_I32, 2, one);
  ((int32_t *)ia->data)[0] = 65536, ((int32_t *)ib->data)[0] = 65537;
  Tensor *iin[2] = {ia, ib};
  r = kt_run("%a: tensor<*xi32>, %b: tensor<*xi32>", "%y = MatMul(%a, %b) : tensor<*xi32>\nreturn %y", iin);
  assert_true(r.ok);
  assert_int_equal(((int32_t *)r.out[0]->data)[0], 65536);
  kt_free(&r);
  tensor_free(a);
  tensor_free(b);
  tensor_free(ia);
  tensor_free(ib);
}

static void test_matmul_errors(void **state) {
  (void)state;
  int64_t ad[2] = {2, 3}, bd[2] = {2, 2}, b3[3] = {2, 3, 2}, a3[3] = {3, 2, 3};
  Tensor *in[2] = {kt_f32(2, ad, NULL), kt_f32(2, bd, NULL)};
  KtRun r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", in);
  kt_expect_error(&r, "inner dimensions differ: f32[2x3] x f32[2x2]");
  kt_free(&r);
  tensor_free(in[0]);
  tensor_free(in[1]);
  Tensor *bb[2] = {kt_f32(3, a3, NULL), kt_f32(3, b3, NULL)};
  r = kt_run(SIG2, "%y = MatMul(%a, %b) : tensor<*xf32>\nreturn %y", bb);
  kt_expect_error(&r, "cannot broadcast");
  kt_free(&r);
  tensor_free(bb[0]);
  tensor_free(bb[1]);
}

static const char *SIG3 = "%a: tensor<*xf32>, %b: tensor<*xf32>, %c: tensor<*xf32>";

static void test_gemm_attrs(void **state) {
  (void)state;
  /* A = np.arange(6).reshape(3,2); B = np.arange(12).reshape(4,3) - 4; C = [1,-2,3,0.5]
   * 0.5 * np.dot(A.T, B.T) + 2.0 * C */
  int64_t ad[2] = {3, 2}, bd[2] = {4, 3}, cd = 4, yd[2] = {2, 4};
  float av[6] = {0, 1, 2, 3, 4, 5}, bv[12], cv[4] = {1, -2, 3, 0.5f};
  for (int i = 0; i < 12; i++) bv[i] = (float)i - 4;
  Tensor *in[3] = {kt_f32(2, ad, av), kt_f32(2, bd, bv), kt_f32(1, &cd, cv)};
  KtRun r = kt_run(SIG3,
                   "%y = Gemm(%a, %b, %c) {alpha = 0.5, beta = 2.0, transA = 1, transB = 1} : tensor<*xf32>\n"
                   "return %y",
                   in);
  assert_true(r.ok);
  static const double w[8] = {-5, -2, 17, 21, -9.5, -2, 21.5, 30};
  kt_expect(r.out[0], 2, yd, w, 1e-6);
  kt_free(&r);
  /* C2 = [[1], [10]]: np.dot(A.T, B.T) + C2 */
  int64_t c2d[2] = {2, 1};
  float c2v[2] = {1, 10};
  tensor_free(in[2]);
  in[2] = kt_f32(2, c2d, c2v);
  r = kt_run(SIG3, "%y = Gemm(%a, %b, %c) {transA = 1, transB = 1} : tensor<*xf32>\nreturn %y", in);
  assert_true(r.ok);
  static const double w2[8] = {-13, 5, 23, 41, -13, 14, 41, 68};
  kt_expect(r.out[0], 2, yd, w2, 1e-6);
  kt_free(&r);
  /* C of shape [3] does not broadcast to 2x4 */
  int64_t c3 = 3;
  tensor_free(in[2]);
  in[2] = kt_f32(1, &c3, NULL);
  r = kt_run(SIG3, "%y = Gemm(%a, %b, %c) {transA = 1, transB = 1} : tensor<*xf32>\nreturn %y", in);
  kt_expect_error(&r, "C of shape f32[3] does not broadcast to 2x4");
  kt_free(&r);
  /* without transB the inner dims (2x3 by 4x3) differ */
  r = kt_run(SIG3, "%y = Gemm(%a, %b, %c) {transA = 1} : tensor<*xf32>\nreturn %y", in);
  kt_expect_error(&r, "inner dimensions differ");
  kt_free(&r);
  for (int i = 0; i < 3; i++) tensor_free(in[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gemm_sizes),         cmocka_unit_test(test_gemm_views_and_blocks),
      cmocka_unit_test(test_matmul_batch_broadcast), cmocka_unit_test(test_matmul_vectors),
      cmocka_unit_test(test_matmul_f64_and_int), cmocka_unit_test(test_matmul_errors),
      cmocka_unit_test(test_gemm_attrs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
