/* The typed fast paths of the elementwise and copy kernels: i32/i64
 * Add/Sub/Mul (wrapping), i32/i64 comparisons under broadcasting, Cast
 * between the plain types, and Slice/Transpose through unit dims and
 * negative steps. Expected values are the numpy expressions in the
 * comments, evaluated with /usr/bin/python3. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define I32 IR_ELEM_I32
#define I64 IR_ELEM_I64
#define SIG2(t) "%a0: tensor<*x" t ">, %a1: tensor<*x" t ">"
#define BIN(op, rt) "%y0 = " op "(%a0, %a1) : tensor<*x" rt ">\nreturn %y0"
#define CAST(from, to, rt) "%a0: tensor<*x" from ">", "%y0 = Cast(%a0) {to = " to "} : tensor<*x" rt ">\nreturn %y0"
#define WRAP_A {I32, 1, {3}, V(2147483647, -2147483648.0, 5)}
#define IA {I32, 2, {2, 1}, V(1, 2)}
#define IB {I32, 2, {1, 3}, V(1, 2, 3)}
#define LA {I64, 1, {3}, V(-1, 5, 7)}
#define LS {I64, 0, {0}, V(5)}
#define SL_SIG "%a0: tensor<*xf32>, %a1: tensor<*xi64>, %a2: tensor<*xi64>, %a3: tensor<*xi64>, %a4: tensor<*xi64>"

static const NodeCase CASES[] = {
    /* np.int32 [2147483647,-2147483648,5] + [1,-1,-7] (wraps) */
    {"add_i32", SIG2("i32"), BIN("Add", "i32"), 2, {WRAP_A, {I32, 1, {3}, V(1, -1, -7)}}, 1,
     {{1, {3}, V(-2147483648.0, 2147483647, -2)}}},
    /* ... - [-1,1,7] */
    {"sub_i32", SIG2("i32"), BIN("Sub", "i32"), 2, {WRAP_A, {I32, 1, {3}, V(-1, 1, 7)}}, 1,
     {{1, {3}, V(-2147483648.0, 2147483647, -2)}}},
    /* np.int32 [65536,3,-4] * [65536,-5,7] */
    {"mul_i32", SIG2("i32"), BIN("Mul", "i32"), 2,
     {{I32, 1, {3}, V(65536, 3, -4)}, {I32, 1, {3}, V(65536, -5, 7)}}, 1, {{1, {3}, V(0, -15, -28)}}},
    /* np.int64 [3e9,-5] + [4e9,2]; [3e9,-5] * np.int64(3) */
    {"add_i64", SIG2("i64"), BIN("Add", "i64"), 2,
     {{I64, 1, {2}, V(3000000000.0, -5)}, {I64, 1, {2}, V(4000000000.0, 2)}}, 1, {{1, {2}, V(7000000000.0, -3)}}},
    {"mul_i64_scalar", SIG2("i64"), BIN("Mul", "i64"), 2, {{I64, 1, {2}, V(3000000000.0, -5)}, {I64, 0, {0}, V(3)}},
     1, {{1, {2}, V(9000000000.0, -15)}}},
    /* a = np.int32 [[1],[2]], b = [[1,2,3]]: a == b, a < b */
    {"eq_i32", SIG2("i32"), BIN("Equal", "bool"), 2, {IA, IB}, 1, {{2, {2, 3}, V(1, 0, 0, 0, 1, 0)}}},
    {"lt_i32", SIG2("i32"), BIN("Less", "bool"), 2, {IA, IB}, 1, {{2, {2, 3}, V(0, 1, 1, 0, 0, 1)}}},
    /* np.int64 [-1,5,7] >= 5; 5 > [-1,5,7] */
    {"ge_i64", SIG2("i64"), BIN("GreaterOrEqual", "bool"), 2, {LA, LS}, 1, {{1, {3}, V(0, 1, 1)}}},
    {"gt_i64", SIG2("i64"), BIN("Greater", "bool"), 2, {LS, LA}, 1, {{1, {3}, V(1, 0, 0)}}},
    /* np.float32 [-2.7,3.99,-0.5].astype(np.int64) */
    {"cast_f32_i64", CAST("f32", "7", "i64"), 1, {{IR_ELEM_F32, 1, {3}, V(-2.7, 3.99, -0.5)}}, 1,
     {{1, {3}, V(-2, 3, 0)}}},
    /* np.int64 [4294967297,-1,2147483648].astype(np.int32) */
    {"cast_i64_i32", CAST("i64", "6", "i32"), 1, {{I64, 1, {3}, V(4294967297.0, -1, 2147483648.0)}}, 1,
     {{1, {3}, V(1, -1, -2147483648.0)}}},
    /* np.int32 [300,-1].astype(np.uint8); np.uint8 [255,0,7].astype(np.int64) */
    {"cast_i32_u8", CAST("i32", "2", "u8"), 1, {{I32, 1, {2}, V(300, -1)}}, 1, {{1, {2}, V(44, 255)}}},
    {"cast_u8_i64", CAST("u8", "7", "i64"), 1, {{IR_ELEM_U8, 1, {3}, V(255, 0, 7)}}, 1, {{1, {3}, V(255, 0, 7)}}},
    /* np.array([True,False,True]).astype(np.float32); np.float64 [-2.5,0,7].astype(np.float32) */
    {"cast_bool_f32", CAST("bool", "1", "f32"), 1, {{IR_ELEM_BOOL, 1, {3}, V(1, 0, 1)}}, 1, {{1, {3}, V(1, 0, 1)}}},
    {"cast_f64_f32", CAST("f64", "1", "f32"), 1, {{IR_ELEM_F64, 1, {3}, V(-2.5, 0, 7)}}, 1, {{1, {3}, V(-2.5, 0, 7)}}},
    /* x = np.arange(6, dtype=np.float32).reshape(2,3,1): x[:, 2::-1, :] */
    {"slice_unit_dim", SL_SIG, "%y0 = Slice(%a0, %a1, %a2, %a3, %a4) : tensor<*xf32>\nreturn %y0", 5,
     {{IR_ELEM_F32, 3, {2, 3, 1}, V(0, 1, 2, 3, 4, 5)}, {I64, 1, {1}, V(2)}, {I64, 1, {1}, V(-4)},
      {I64, 1, {1}, V(1)}, {I64, 1, {1}, V(-1)}},
     1, {{3, {2, 3, 1}, V(2, 1, 0, 5, 4, 3)}}},
    /* x.transpose(1, 0, 2) */
    {"transpose_unit_dim", "%a0: tensor<*xf32>", "%y0 = Transpose(%a0) {perm = [1, 0, 2]} : tensor<*xf32>\nreturn %y0",
     1, {{IR_ELEM_F32, 3, {2, 3, 1}, V(0, 1, 2, 3, 4, 5)}}, 1, {{3, {3, 2, 1}, V(0, 3, 1, 4, 2, 5)}}},
};

static void test_typed_rows(void **state) {
  (void)state;
  kt_cases(CASES, KT_COUNT(CASES), 0);
}

static void test_typed_errors(void **state) {
  (void)state;
  int64_t d3 = 3;
  Tensor *a = tensor_new(I32, 1, &d3), *b = tensor_new(I64, 1, &d3);
  Tensor *mixed[2] = {a, b};
  const KtErrCase errs[] = {
      {"%a0: tensor<*xi32>, %a1: tensor<*xi64>", BIN("Add", "i32"), mixed, "operands are i32 and i64"},
      {"%a0: tensor<*xi32>, %a1: tensor<*xi64>", BIN("Equal", "bool"), mixed, "operands are i32 and i64"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(a);
  tensor_free(b);
}

KT_MAIN(test_typed_rows, test_typed_errors)
