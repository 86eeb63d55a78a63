/* Softmax, LogSoftmax, Hardmax, TopK and Einsum kernels (k_misc.c,
 * k_einsum.c) on small cases. Each expected array comes from the numpy
 * expression in the comment above it (softmax forms in float64 rounded to
 * float32; the rest in np.float32), evaluated with /usr/bin/python3 and
 * printed to 9 digits; none comes from the kernels or the ONNX node tests.
 * Plus error cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define F32 IR_ELEM_F32
#define SIG1 "%a0: tensor<*xf32>"
#define SIG2 "%a0: tensor<*xf32>, %a1: tensor<*xf32>"
#define UN(op, attrs) "%y0 = " op "(%a0) {" attrs "} : tensor<*xf32>\nreturn %y0"
#define EIN1(eq) "%y0 = Einsum(%a0) {equation = \"" eq "\"} : tensor<*xf32>\nreturn %y0"
#define EIN2(eq) "%y0 = Einsum(%a0, %a1) {equation = \"" eq "\"} : tensor<*xf32>\nreturn %y0"
#define TOPK(attrs)                                                                                     \
  "%y0, %y1 = TopK(%a0, %a1) {" attrs "} : tensor<*xf32>, tensor<*xi64>\nreturn %y0, %y1"
/* x = np.float32([1,2,3,-1,0,1,4,4,-2,.5,.5,.5]).reshape(2,2,3) */
#define X {F32, 3, {2, 2, 3}, V(1, 2, 3, -1, 0, 1, 4, 4, -2, 0.5, 0.5, 0.5)}
/* t = np.float32([3,1,4,1,5,9,2,6,5,3,5,8]).reshape(3,4); k = [2] */
#define T {F32, 2, {3, 4}, V(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8)}
#define K2 {IR_ELEM_I64, 1, {1}, V(2)}
/* A = np.float32([1..6]).reshape(2,3), B = np.float32([1,0,-1,2,.5,1]).reshape(3,2) */
#define A {F32, 2, {2, 3}, V(1, 2, 3, 4, 5, 6)}
#define B {F32, 2, {3, 2}, V(1, 0, -1, 2, 0.5, 1)}

static const NodeCase SOFTMAX_CASES[] = {
    /* e = np.exp(x - x.max(ax, keepdims=True)); e / e.sum(ax, keepdims=True), ax = -1 (default) and 1 */
    {"softmax", SIG1, UN("Softmax", ""), 1, {X}, 1,
     {{3, {2, 2, 3}, V(0.0900305733, 0.244728476, 0.665240943, 0.0900305733, 0.244728476, 0.665240943, 0.499381065,
                       0.499381065, 0.00123784191, 0.333333343, 0.333333343, 0.333333343)}}},
    {"softmax_axis1", SIG1, UN("Softmax", "axis = 1"), 1, {X}, 1,
     {{3, {2, 2, 3}, V(0.880797088, 0.880797088, 0.880797088, 0.119202919, 0.119202919, 0.119202919, 0.970687747,
                       0.970687747, 0.0758581832, 0.0293122306, 0.0293122306, 0.924141824)}}},
    /* m = x.max(ax, keepdims=True); x - m - np.log(np.exp(x - m).sum(ax, keepdims=True)), ax = -1 and 0 */
    {"log_softmax", SIG1, UN("LogSoftmax", ""), 1, {X}, 1,
     {{3, {2, 2, 3}, V(-2.40760589, -1.40760601, -0.407605976, -2.40760589, -1.40760601, -0.407605976, -0.694385767,
                       -0.694385767, -6.69438601, -1.09861231, -1.09861231, -1.09861231)}}},
    {"log_softmax_axis0", SIG1, UN("LogSoftmax", "axis = 0"), 1, {X}, 1,
     {{3, {2, 2, 3}, V(-3.04858732, -2.12692809, -0.00671534846, -1.70141327, -0.974076986, -0.474076986,
                       -0.048587352, -0.126928017, -5.0067153, -0.201413274, -0.474076986, -0.974076986)}}},
    /* one-hot of np.argmax(x, ax) (first of ties) along ax = -1 and 1 */
    {"hardmax", SIG1, UN("Hardmax", ""), 1, {X}, 1, {{3, {2, 2, 3}, V(0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0)}}},
    {"hardmax_axis1", SIG1, UN("Hardmax", "axis = 1"), 1, {X}, 1, {{3, {2, 2, 3}, V(1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1)}}},
    /* float64: e = np.exp([1,2,3] - 3.0); e / e.sum() */
    {"softmax_f64", "%a0: tensor<*xf64>", "%y0 = Softmax(%a0) : tensor<*xf64>\nreturn %y0", 1,
     {{IR_ELEM_F64, 1, {3}, V(1, 2, 3)}}, 1, {{1, {3}, V(0.0900305731703805, 0.244728471054798, 0.665240955774822)}}},
};

static const NodeCase TOPK_CASES[] = {
    /* idx = np.argsort(-t, 1, kind='stable')[:, :2]; np.take_along_axis(t, idx, 1), idx */
    {"largest", SIG2, TOPK(""), 2, {T, K2}, 2, {{2, {3, 2}, V(4, 3, 9, 6, 8, 5)}, {2, {3, 2}, V(2, 0, 1, 3, 3, 0)}}},
    /* np.argsort(t, 1, kind='stable')[:, :2]: ties keep the lower index first */
    {"smallest", SIG2, TOPK("largest = 0"), 2, {T, K2}, 2,
     {{2, {3, 2}, V(1, 1, 2, 5, 3, 5)}, {2, {3, 2}, V(1, 3, 2, 0, 1, 0)}}},
    /* np.argsort(-t, 0, kind='stable')[:2] */
    {"axis0", SIG2, TOPK("axis = 0"), 2, {T, K2}, 2,
     {{2, {2, 4}, V(5, 9, 5, 8, 5, 3, 4, 6)}, {2, {2, 4}, V(1, 1, 2, 2, 2, 2, 0, 1)}}},
};

static const NodeCase EINSUM_CASES[] = {
    /* np.einsum('ij,jk->ik', A, B) */
    {"matmul", SIG2, EIN2("ij,jk->ik"), 2, {A, B}, 1, {{2, {2, 2}, V(0.5, 7, 2, 16)}}},
    /* np.einsum('ij->ji', A) */
    {"transpose", SIG1, EIN1("ij->ji"), 1, {A}, 1, {{2, {3, 2}, V(1, 4, 2, 5, 3, 6)}}},
    /* S = np.float32([1..9]).reshape(3,3): np.einsum('ii', S) (implicit: trace), np.einsum('ii->i', S) */
    {"trace", SIG1, EIN1("ii"), 1, {{F32, 2, {3, 3}, V(1, 2, 3, 4, 5, 6, 7, 8, 9)}}, 1, {{0, {0}, V(15)}}},
    {"diagonal", SIG1, EIN1("ii->i"), 1, {{F32, 2, {3, 3}, V(1, 2, 3, 4, 5, 6, 7, 8, 9)}}, 1, {{1, {3}, V(1, 5, 9)}}},
    /* np.einsum('...ij,jk->...ik', np.arange(12).reshape(2,2,3) * .5, [[1,-1],[2,0],[1,1]]) */
    {"ellipsis", SIG2, EIN2("...ij,jk->...ik"), 2,
     {{F32, 3, {2, 2, 3}, V(0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5)}, {F32, 2, {3, 2}, V(1, -1, 2, 0, 1, 1)}},
     1, {{3, {2, 2, 2}, V(2, 1, 8, 1, 14, 1, 20, 1)}}},
    /* np.einsum('kj,ij', B.T, A): implicit output 'ik' */
    {"implicit", SIG2, EIN2("kj,ij"), 2, {{F32, 2, {2, 3}, V(1, -1, 0.5, 0, 2, 1)}, A}, 1,
     {{2, {2, 2}, V(0.5, 7, 2, 16)}}},
    /* np.einsum('i,i', [1,2,3], [4,-5,6]); np.einsum('ij->i', A) */
    {"inner", SIG2, EIN2("i,i"), 2, {{F32, 1, {3}, V(1, 2, 3)}, {F32, 1, {3}, V(4, -5, 6)}}, 1, {{0, {0}, V(12)}}},
    {"row_sum", SIG1, EIN1("ij->i"), 1, {A}, 1, {{1, {2}, V(6, 15)}}},
    /* np.einsum('...i,...i->...', [[1,2],[3,4]], [2,-1]): ellipsis dims broadcast */
    {"broadcast", SIG2, EIN2("...i,...i->..."), 2, {{F32, 2, {2, 2}, V(1, 2, 3, 4)}, {F32, 1, {2}, V(2, -1)}}, 1,
     {{1, {2}, V(0, 2)}}},
    /* np.einsum('ij,j->i', int32 [[1,2],[3,4]], int32 [5,-6]) */
    {"int32", "%a0: tensor<*xi32>, %a1: tensor<*xi32>",
     "%y0 = Einsum(%a0, %a1) {equation = \"ij,j->i\"} : tensor<*xi32>\nreturn %y0", 2,
     {{IR_ELEM_I32, 2, {2, 2}, V(1, 2, 3, 4)}, {IR_ELEM_I32, 1, {2}, V(5, -6)}}, 1, {{1, {2}, V(-7, -9)}}},
};

static void test_softmax(void **state) {
  (void)state;
  kt_cases(SOFTMAX_CASES, KT_COUNT(SOFTMAX_CASES), 1e-6);
}

static void test_top_k(void **state) {
  (void)state;
  kt_cases(TOPK_CASES, KT_COUNT(TOPK_CASES), 0);
}

static void test_einsum(void **state) {
  (void)state;
  kt_cases(EINSUM_CASES, KT_COUNT(EINSUM_CASES), 1e-6);
}

static void test_misc_errors(void **state) {
  (void)state;
  int64_t d23[2] = {2, 3}, d4 = 4, one = 1;
  Tensor *a = kt_f32(2, d23, NULL), *b = kt_f32(1, &d4, NULL), *k = tensor_new(IR_ELEM_I64, 1, &one);
  tensor_set_i64(k, 0, 5);
  Tensor *ak[2] = {a, k}, *ab[2] = {a, b}, *aa[2] = {a, a};
  const KtErrCase errs[] = {
      {SIG2, TOPK(""), ak, "op 'TopK': K = 5 is outside [0, 3] (the size of axis 1)"},
      {SIG2, TOPK("axis = 2"), ak, "axis 2 is out of range for rank 2"},
      {SIG1, UN("Softmax", "axis = 2"), &a, "op 'Softmax': axis 2 is out of range for rank 2"},
      {SIG2, EIN2("ij,j->i"), ab, "label 'j' has sizes 3 and 4"},
      {SIG2, EIN2("ij->i"), aa, "equation 'ij->i' has fewer terms than the 2 operands"},
      {SIG2, EIN2("ijk,ij->i"), aa, "operand #0 has rank 2 but its term names 3 dims"},
      {SIG2, EIN2("ij,ij->k"), aa, "output label 'k' names no input dim"},
      {SIG2, EIN2("ij,i1->i"), aa, "unexpected character '1' in the equation"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(a);
  tensor_free(b);
  tensor_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_softmax), cmocka_unit_test(test_top_k),
                                     cmocka_unit_test(test_einsum), cmocka_unit_test(test_misc_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
