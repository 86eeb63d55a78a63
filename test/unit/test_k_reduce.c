/* Reduction kernels (k_reduce.c) on small cases. Each expected array comes
 * from the numpy expression in the comment above it (np.float32 unless
 * said, evaluated with /usr/bin/python3, printed to 9 digits); none comes
 * from the kernels or the ONNX node tests. Plus empty reductions and error
 * cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define F32 IR_ELEM_F32
#define I64 IR_ELEM_I64
#define SIG1 "%a0: tensor<*xf32>"
#define SIG2 "%a0: tensor<*xf32>, %a1: tensor<*xi64>"
#define R1(op, attrs, rt) "%y0 = " op "(%a0) {" attrs "} : tensor<*x" rt ">\nreturn %y0"
#define R2(op, attrs, rt) "%y0 = " op "(%a0, %a1) {" attrs "} : tensor<*x" rt ">\nreturn %y0"
/* x = np.float32([1,-2,3,4,.5,-6,2,2,-1,7,3,-.25]).reshape(2,3,2) */
#define X {F32, 3, {2, 3, 2}, V(1, -2, 3, 4, 0.5, -6, 2, 2, -1, 7, 3, -0.25)}
/* np.abs(x) */
#define XABS {F32, 3, {2, 3, 2}, V(1, 2, 3, 4, 0.5, 6, 2, 2, 1, 7, 3, 0.25)}
#define AXES(...) {I64, 1, {KT_COUNT(V(__VA_ARGS__))}, V(__VA_ARGS__)}
/* xi = np.int32([5,-3,7,2,-8,1]).reshape(2,3) */
#define XI {IR_ELEM_I32, 2, {2, 3}, V(5, -3, 7, 2, -8, 1)}
#define SIGI "%a0: tensor<*xi32>, %a1: tensor<*xi64>"

static const NodeCase REDUCE_CASES[] = {
    /* x.sum(axis=1, keepdims=True) */
    {"sum_axis1", SIG2, R2("ReduceSum", "", "f32"), 2, {X, AXES(1)}, 1, {{3, {2, 1, 2}, V(4.5, -4, 4, 8.75)}}},
    /* x.sum(keepdims=True): no axes reduces everything */
    {"sum_all", SIG1, R1("ReduceSum", "", "f32"), 1, {X}, 1, {{3, {1, 1, 1}, V(13.25)}}},
    /* empty axes with noop_with_empty_axes=1: x itself */
    {"sum_noop", SIG2, R2("ReduceSum", "noop_with_empty_axes = 1", "f32"), 2, {X, {I64, 1, {0}, V(0)}}, 1,
     {{3, {2, 3, 2}, V(1, -2, 3, 4, 0.5, -6, 2, 2, -1, 7, 3, -0.25)}}},
    /* x.mean(axis=(0,2)) (axes as an attribute) */
    {"mean_attr", SIG1, R1("ReduceMean", "axes = [0, 2], keepdims = 0", "f32"), 1, {X}, 1,
     {{1, {3}, V(0.75, 3.25, -0.6875)}}},
    /* x.max(axis=-1, keepdims=True) */
    {"max_neg_axis", SIG2, R2("ReduceMax", "", "f32"), 2, {X, AXES(-1)}, 1, {{3, {2, 3, 1}, V(1, 4, 0.5, 2, 7, 3)}}},
    /* x.min(axis=0) */
    {"min_axis0", SIG2, R2("ReduceMin", "keepdims = 0", "f32"), 2, {X, AXES(0)}, 1,
     {{2, {3, 2}, V(1, -2, -1, 4, 0.5, -6)}}},
    /* x.prod(axis=2) */
    {"prod", SIG2, R2("ReduceProd", "keepdims = 0", "f32"), 2, {X, AXES(2)}, 1,
     {{2, {2, 3}, V(-2, 12, -3, 4, -7, -0.75)}}},
    /* (x * x).sum(axis=1) */
    {"sum_square", SIG2, R2("ReduceSumSquare", "keepdims = 0", "f32"), 2, {X, AXES(1)}, 1,
     {{2, {2, 2}, V(10.25, 56, 14, 53.0625)}}},
    /* np.abs(x).sum(axis=2) */
    {"l1", SIG2, R2("ReduceL1", "keepdims = 0", "f32"), 2, {X, AXES(2)}, 1, {{2, {2, 3}, V(3, 7, 6.5, 4, 8, 3.25)}}},
    /* np.sqrt((x * x).sum(axis=0)) */
    {"l2", SIG2, R2("ReduceL2", "keepdims = 0", "f32"), 2, {X, AXES(0)}, 1,
     {{2, {3, 2}, V(2.23606801, 2.82842708, 3.1622777, 8.06225777, 3.04138136, 6.00520611)}}},
    /* np.log(np.abs(x).sum(axis=1)) */
    {"log_sum", SIG2, R2("ReduceLogSum", "keepdims = 0", "f32"), 2, {XABS, AXES(1)}, 1,
     {{2, {2, 2}, V(1.50407743, 2.48490667, 1.79175949, 2.22462368)}}},
    /* np.log(np.exp(x.astype(np.float64)).sum(axis=2)) */
    {"log_sum_exp", SIG2, R2("ReduceLogSumExp", "keepdims = 0", "f32"), 2, {X, AXES(2)}, 1,
     {{2, {2, 3}, V(1.04858732, 4.31326151, 0.501502335, 2.69314718, 7.00033522, 3.03804135)}}},
    /* b = [[1000,1001],[-1000,-1001]]: m + np.log(np.exp(b - m).sum(1)) with m = b.max(1) in float64
     * (exp(1000) overflows: the kernel must subtract the max) */
    {"log_sum_exp_big", SIG2, R2("ReduceLogSumExp", "keepdims = 0", "f32"), 2,
     {{F32, 2, {2, 2}, V(1000, 1001, -1000, -1001)}, AXES(1)}, 1, {{1, {2}, V(1001.31323, -999.686768)}}},
    /* xi.sum(axis=1), xi.max(axis=0), np.trunc(xi.mean(axis=1)), xi.prod(axis=0) (int32) */
    {"sum_i32", SIGI, R2("ReduceSum", "keepdims = 0", "i32"), 2, {XI, AXES(1)}, 1, {{1, {2}, V(9, -5)}}},
    {"max_i32", SIGI, R2("ReduceMax", "keepdims = 0", "i32"), 2, {XI, AXES(0)}, 1, {{1, {3}, V(5, -3, 7)}}},
    {"mean_i32", SIGI, R2("ReduceMean", "keepdims = 0", "i32"), 2, {XI, AXES(1)}, 1, {{1, {2}, V(3, -1)}}},
    {"prod_i32", SIGI, R2("ReduceProd", "keepdims = 0", "i32"), 2, {XI, AXES(0)}, 1, {{1, {3}, V(10, 24, 7)}}},
    /* np.argmax(x, axis=1, keepdims=True), np.argmin(x, axis=2) */
    {"argmax", SIG1, R1("ArgMax", "axis = 1", "i64"), 1, {X}, 1, {{3, {2, 1, 2}, V(1, 1, 2, 1)}}},
    {"argmin", SIG1, R1("ArgMin", "axis = -1, keepdims = 0", "i64"), 1, {X}, 1, {{2, {2, 3}, V(1, 0, 1, 0, 0, 1)}}},
    /* t = [[2,5,5,1],[3,3,0,3]]: np.argmax(t, 1) (first of ties);
     * last index: 3 - np.argmax(t[:, ::-1], 1) and 3 - np.argmin(t[:, ::-1], 1) */
#define T24 {F32, 2, {2, 4}, V(2, 5, 5, 1, 3, 3, 0, 3)}
    {"argmax_first", SIG1, R1("ArgMax", "axis = 1, keepdims = 0", "i64"), 1, {T24}, 1, {{1, {2}, V(1, 0)}}},
    {"argmax_last", SIG1, R1("ArgMax", "axis = 1, keepdims = 0, select_last_index = 1", "i64"), 1, {T24}, 1,
     {{1, {2}, V(2, 3)}}},
    {"argmin_last", SIG1, R1("ArgMin", "axis = 1, keepdims = 0, select_last_index = 1", "i64"), 1, {T24}, 1,
     {{1, {2}, V(3, 2)}}},
};

static void test_reduce(void **state) {
  (void)state;
  kt_cases(REDUCE_CASES, KT_COUNT(REDUCE_CASES), 1e-6);
}

/* Reductions over an empty axis give the identity (ONNX 18+ spec):
 * x of shape [2, 0] reduced over axis 1 -> Sum 0, Prod 1, Max -inf,
 * Min +inf, LogSumExp -inf; int32 Max gives INT32_MIN. */
static void test_reduce_empty(void **state) {
  (void)state;
  int64_t d[2] = {2, 0}, one = 1;
  Tensor *x = tensor_new(F32, 2, d), *ax = tensor_new(I64, 1, &one), *xi = tensor_new(IR_ELEM_I32, 2, d);
  tensor_set_i64(ax, 0, 1);
  Tensor *in[2] = {x, ax}, *ini[2] = {xi, ax};
  struct {
    const char *op;
    double want;
  } cases[] = {{"ReduceSum", 0}, {"ReduceProd", 1}, {"ReduceMax", -INFINITY}, {"ReduceMin", INFINITY},
               {"ReduceLogSumExp", -INFINITY}, {"ReduceL2", 0}};
  char body[256];
  for (size_t i = 0; i < KT_COUNT(cases); i++) {
    snprintf(body, sizeof body, "%%y0 = %s(%%a0, %%a1) {keepdims = 0} : tensor<*xf32>\nreturn %%y0", cases[i].op);
    KtRun r = kt_run(SIG2, body, in);
    if (!r.ok) fail_msg("%s: %s", cases[i].op, r.err);
    assert_int_equal(r.out[0]->rank, 1);
    assert_int_equal(r.out[0]->dims[0], 2);
    for (int j = 0; j < 2; j++)
      if (tensor_get_f64(r.out[0], j) != cases[i].want)
        fail_msg("%s: got %g, want %g", cases[i].op, tensor_get_f64(r.out[0], j), cases[i].want);
    kt_free(&r);
  }
  KtRun r = kt_run(SIGI, R2("ReduceMax", "keepdims = 0", "i32"), ini);
  assert_true(r.ok);
  assert_int_equal(tensor_get_i64(r.out[0], 0), INT32_MIN);
  kt_free(&r);
  tensor_free(x);
  tensor_free(xi);
  tensor_free(ax);
}

static void test_reduce_errors(void **state) {
  (void)state;
  int64_t d[3] = {2, 3, 2}, two = 2, zero[2] = {2, 0};
  Tensor *x = kt_f32(3, d, NULL), *a3 = tensor_new(I64, 1, &two), *fa = kt_f32(1, &two, NULL);
  Tensor *e = tensor_new(F32, 2, zero);
  tensor_set_i64(a3, 0, 3); /* a3 = [3, 0] */
  Tensor *in_range[2] = {x, a3}, *in_float[2] = {x, fa};
  const KtErrCase errs[] = {
      {SIG2, R2("ReduceSum", "", "f32"), in_range, "op 'ReduceSum': axis 3 is out of range for rank 3"},
      {SIG2, R2("ReduceSum", "", "f32"), in_float, "axes must be integers, got f32"},
      {SIG1, R1("ReduceMean", "axes = [1, -2]", "f32"), &x, "axis -2 is repeated"},
      {SIG1, R1("ArgMax", "axis = -4", "i64"), &x, "op 'ArgMax': axis -4 is out of range for rank 3"},
      {SIG1, R1("ArgMin", "axis = 1", "i64"), &e, "cannot take the arg-extreme of an empty axis 1"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(x);
  tensor_free(a3);
  tensor_free(fa);
  tensor_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_reduce), cmocka_unit_test(test_reduce_empty),
                                     cmocka_unit_test(test_reduce_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
