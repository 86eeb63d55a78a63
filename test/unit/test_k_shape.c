/* Shape and data-movement kernels (k_shape.c, k_gather.c, k_layout.c),
 * each run through the interpreter on a one-op function. Expected arrays
 * come from numpy (np.pad, np.take, np.take_along_axis, np.tile, np.tril,
 * np.cumsum, reshape/transpose formulas of the ONNX spec) or from the
 * examples in the ONNX operator spec, computed outside this code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "interp_test.h"

#define V(...) ((const double[]){__VA_ARGS__})
#define F32 IR_ELEM_F32
#define I64 IR_ELEM_I64
#define A6 V(0, 1, 2, 3, 4, 5)
#define A12 V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)

static void test_reshape(void **state) {
  (void)state;
  Tensor *in[2] = {T(F32, "6", A6), T(I64, "2", V(3, -1))}, *out[1];
  assert_true(run("%x: tensor<6xf32>, %s: tensor<2xi64>", "tensor<3x2xf32>",
                  "%y = Reshape(%x, %s) : tensor<3x2xf32>\nreturn %y", in, 2, out));
  expect(out[0], F32, "3x2", A6);
  tensor_free(out[0]);
  /* 0 copies the input dim (allowzero unset). */
  Tensor *in2[2] = {T(F32, "2x3", A6), T(I64, "2", V(0, -1))};
  assert_true(run("%x: tensor<2x3xf32>, %s: tensor<2xi64>", "tensor<2x3xf32>",
                  "%y = Reshape(%x, %s) : tensor<2x3xf32>\nreturn %y", in2, 2, out));
  expect(out[0], F32, "2x3", A6);
  tensor_free(out[0]);
  /* allowzero: 0 is a real zero dim. */
  Tensor *in3[2] = {T(F32, "0x3", NULL), T(I64, "2", V(3, 0))};
  assert_true(run("%x: tensor<0x3xf32>, %s: tensor<2xi64>", "tensor<3x0xf32>",
                  "%y = Reshape(%x, %s) {allowzero = 1} : tensor<3x0xf32>\nreturn %y", in3, 2, out));
  expect(out[0], F32, "3x0", NULL);
  tensor_free(out[0]);
  Tensor *in4[2] = {T(F32, "6", A6), T(I64, "2", V(-1, -1))};
  run_fails("%x: tensor<6xf32>, %s: tensor<2xi64>", "tensor<?x?xf32>",
            "%y = Reshape(%x, %s) : tensor<?x?xf32>\nreturn %y", in4, 2,
            "op 'Reshape': the shape has more than one -1");
}

static void test_transpose_flatten(void **state) {
  (void)state;
  Tensor *in[1] = {T(IR_ELEM_I8, "2x3x2", A12)}, *out[2];
  assert_true(run("%x: tensor<2x3x2xi8>", "tensor<3x2x2xi8>, tensor<2x3x2xi8>",
                  "%y = Transpose(%x) {perm = [1, 0, 2]} : tensor<3x2x2xi8>\n"
                  "%z = Transpose(%x) : tensor<2x3x2xi8>\nreturn %y, %z",
                  in, 1, out));
  /* np.arange(12).reshape(2,3,2).transpose(1,0,2) and .T */
  expect(out[0], IR_ELEM_I8, "3x2x2", V(0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11));
  expect(out[1], IR_ELEM_I8, "2x3x2", V(0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11));
  free_all(out, 2);
  Tensor *in2[1] = {T(F32, "2x3x2", A12)};
  assert_true(run("%x: tensor<2x3x2xf32>", "tensor<1x12xf32>, tensor<6x2xf32>",
                  "%y = Flatten(%x) {axis = 0} : tensor<1x12xf32>\n%z = Flatten(%x) {axis = -1} : tensor<6x2xf32>\n"
                  "return %y, %z",
                  in2, 1, out));
  expect(out[0], F32, "1x12", A12);
  expect(out[1], F32, "6x2", A12);
  free_all(out, 2);
  Tensor *in3[1] = {T(F32, "2x3", A6)};
  run_fails("%x: tensor<2x3xf32>", "tensor<3x2xf32>", "%y = Transpose(%x) {perm = [0, 0]} : tensor<3x2xf32>\nreturn %y",
            in3, 1, "perm is not a permutation");
}

static void test_squeeze_unsqueeze(void **state) {
  (void)state;
  Tensor *in[2] = {T(F32, "1x3x1", V(1, 2, 3)), T(I64, "1", V(-1))}, *out[2];
  assert_true(run("%x: tensor<1x3x1xf32>, %a: tensor<1xi64>", "tensor<1x3xf32>, tensor<3xf32>",
                  "%y = Squeeze(%x, %a) : tensor<1x3xf32>\n%z = Squeeze(%x, none) : tensor<3xf32>\nreturn %y, %z", in,
                  2, out));
  expect(out[0], F32, "1x3", V(1, 2, 3));
  expect(out[1], F32, "3", V(1, 2, 3));
  free_all(out, 2);
  Tensor *in2[2] = {T(F32, "2x3", A6), T(I64, "2", V(0, -1))};
  assert_true(run("%x: tensor<2x3xf32>, %a: tensor<2xi64>", "tensor<1x2x3x1xf32>",
                  "%y = Unsqueeze(%x, %a) : tensor<1x2x3x1xf32>\nreturn %y", in2, 2, out));
  expect(out[0], F32, "1x2x3x1", A6);
  tensor_free(out[0]);
  Tensor *in3[2] = {T(F32, "1x3x1", V(1, 2, 3)), T(I64, "1", V(1))};
  run_fails("%x: tensor<1x3x1xf32>, %a: tensor<1xi64>", "tensor<?xf32>",
            "%y = Squeeze(%x, %a) : tensor<?xf32>\nreturn %y", in3, 2, "cannot squeeze axis 1 of size 3");
}

static void test_shape_size(void **state) {
  (void)state;
  Tensor *in[1] = {T(F32, "2x3x4", NULL)}, *out[3];
  assert_true(run("%x: tensor<2x3x4xf32>", "tensor<2xi64>, tensor<i64>, tensor<1xi64>",
                  "%s = Shape(%x) {start = -2} : tensor<2xi64>\n%n = Size(%x) : tensor<i64>\n"
                  "%t = Shape(%x) {end = 1, start = -10} : tensor<1xi64>\nreturn %s, %n, %t",
                  in, 1, out));
  expect(out[0], I64, "2", V(3, 4));
  expect(out[1], I64, "", V(24));
  expect(out[2], I64, "1", V(2));
  free_all(out, 3);
}

static void test_concat_split(void **state) {
  (void)state;
  Tensor *in[2] = {T(IR_ELEM_I16, "2x1", V(1, 2)), T(IR_ELEM_I16, "2x2", V(3, 4, 5, 6))}, *out[3];
  assert_true(run("%a: tensor<2x1xi16>, %b: tensor<2x2xi16>", "tensor<2x3xi16>",
                  "%y = Concat(%a, %b) {axis = -1} : tensor<2x3xi16>\nreturn %y", in, 2, out));
  expect(out[0], IR_ELEM_I16, "2x3", V(1, 3, 4, 2, 5, 6));
  tensor_free(out[0]);
  /* num_outputs: ceil(7/3) = 3, the last part smaller. */
  Tensor *in2[1] = {T(F32, "7", V(0, 1, 2, 3, 4, 5, 6))};
  assert_true(run("%x: tensor<7xf32>", "tensor<3xf32>, tensor<3xf32>, tensor<1xf32>",
                  "%a, %b, %c = Split(%x) {num_outputs = 3} : tensor<3xf32>, tensor<3xf32>, tensor<1xf32>\n"
                  "return %a, %b, %c",
                  in2, 1, out));
  expect(out[0], F32, "3", V(0, 1, 2));
  expect(out[1], F32, "3", V(3, 4, 5));
  expect(out[2], F32, "1", V(6));
  free_all(out, 3);
  Tensor *in3[2] = {T(F32, "2x3", A6), T(I64, "2", V(1, 2))};
  assert_true(run("%x: tensor<2x3xf32>, %s: tensor<2xi64>", "tensor<2x1xf32>, tensor<2x2xf32>",
                  "%a, %b = Split(%x, %s) {axis = 1} : tensor<2x1xf32>, tensor<2x2xf32>\nreturn %a, %b", in3, 2, out));
  expect(out[0], F32, "2x1", V(0, 3));
  expect(out[1], F32, "2x2", V(1, 2, 4, 5));
  free_all(out, 2);
  Tensor *in4[1] = {T(F32, "7", V(0, 1, 2, 3, 4, 5, 6))};
  run_fails("%x: tensor<7xf32>", "tensor<?xf32>, tensor<?xf32>",
            "%a, %b = Split(%x) : tensor<?xf32>, tensor<?xf32>\nreturn %a, %b", in4, 1,
            "does not split evenly into 2 parts");
}

static void test_slice(void **state) {
  (void)state;
  /* np.arange(10)[9::-3]: start -1, end INT64_MIN, step -3. */
  Tensor *in[4] = {T(I64, "10", V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)), T(I64, "1", V(-1)),
                   tensor_new(I64, 1, (int64_t[]){1}), T(I64, "1", V(-3))},
         *out[1];
  tensor_set_i64(in[2], 0, INT64_MIN);
  assert_true(run("%x: tensor<10xi64>, %s: tensor<1xi64>, %e: tensor<1xi64>, %st: tensor<1xi64>", "tensor<4xi64>",
                  "%y = Slice(%x, %s, %e, none, %st) : tensor<4xi64>\nreturn %y", in, 4, out));
  expect(out[0], I64, "4", V(9, 6, 3, 0));
  tensor_free(out[0]);
  /* np.arange(12).reshape(3,4)[0::2, 3:0:-1] with ends INT64_MAX and 0. */
  Tensor *in2[5] = {T(F32, "3x4", A12), T(I64, "2", V(0, 3)), tensor_new(I64, 1, (int64_t[]){2}), T(I64, "2", V(0, -1)),
                    T(I64, "2", V(2, -1))};
  tensor_set_i64(in2[2], 0, INT64_MAX);
  tensor_set_i64(in2[2], 1, 0);
  assert_true(run("%x: tensor<3x4xf32>, %s: tensor<2xi64>, %e: tensor<2xi64>, %a: tensor<2xi64>, %st: tensor<2xi64>",
                  "tensor<2x3xf32>", "%y = Slice(%x, %s, %e, %a, %st) : tensor<2x3xf32>\nreturn %y", in2, 5, out));
  expect(out[0], F32, "2x3", V(3, 2, 1, 11, 10, 9));
  tensor_free(out[0]);
  /* Start past the end: an empty result. */
  Tensor *in3[3] = {T(F32, "6", A6), T(I64, "1", V(7)), T(I64, "1", V(9))};
  assert_true(run("%x: tensor<6xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>", "tensor<0xf32>",
                  "%y = Slice(%x, %s, %e) : tensor<0xf32>\nreturn %y", in3, 3, out));
  expect(out[0], F32, "0", NULL);
  tensor_free(out[0]);
  Tensor *in4[5] = {T(F32, "6", A6), T(I64, "1", V(0)), T(I64, "1", V(3)), T(I64, "1", V(0)), T(I64, "1", V(0))};
  run_fails("%x: tensor<6xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %st: tensor<1xi64>",
            "tensor<?xf32>", "%y = Slice(%x, %s, %e, %a, %st) : tensor<?xf32>\nreturn %y", in4, 5, "step 0 on axis 0");
}

static void test_gather(void **state) {
  (void)state;
  /* np.take(np.arange(12).reshape(3,4), [[-1,0],[1,1]], axis=1) */
  Tensor *in[2] = {T(F32, "3x4", A12), T(IR_ELEM_I32, "2x2", V(-1, 0, 1, 1))}, *out[1];
  assert_true(run("%x: tensor<3x4xf32>, %i: tensor<2x2xi32>", "tensor<3x2x2xf32>",
                  "%y = Gather(%x, %i) {axis = 1} : tensor<3x2x2xf32>\nreturn %y", in, 2, out));
  expect(out[0], F32, "3x2x2", V(3, 0, 1, 1, 7, 4, 5, 5, 11, 8, 9, 9));
  tensor_free(out[0]);
  Tensor *in2[2] = {T(F32, "3x4", A12), T(I64, "1", V(3))};
  run_fails("%x: tensor<3x4xf32>, %i: tensor<1xi64>", "tensor<1x4xf32>",
            "%y = Gather(%x, %i) : tensor<1x4xf32> loc(\"g\")\nreturn %y", in2, 2,
            "node 'g' (op 'Gather'): index #0 3 is out of range [-3, 3)");
  /* np.take_along_axis(x, [[0,2,1,0],[2,2,0,1]] with -1 for 2, axis=0) */
  Tensor *in3[2] = {T(F32, "3x4", A12), T(I64, "2x4", V(0, -1, 1, 0, 2, 2, 0, 1))};
  assert_true(run("%x: tensor<3x4xf32>, %i: tensor<2x4xi64>", "tensor<2x4xf32>",
                  "%y = GatherElements(%x, %i) : tensor<2x4xf32>\nreturn %y", in3, 2, out));
  expect(out[0], F32, "2x4", V(0, 9, 6, 3, 8, 9, 2, 7));
  tensor_free(out[0]);
  /* GatherND spec example, batch_dims = 1. */
  Tensor *in4[2] = {T(IR_ELEM_I32, "2x2x2", V(0, 1, 2, 3, 4, 5, 6, 7)), T(I64, "2x1", V(1, 0))};
  assert_true(run("%x: tensor<2x2x2xi32>, %i: tensor<2x1xi64>", "tensor<2x2xi32>",
                  "%y = GatherND(%x, %i) {batch_dims = 1} : tensor<2x2xi32>\nreturn %y", in4, 2, out));
  expect(out[0], IR_ELEM_I32, "2x2", V(2, 3, 4, 5));
  tensor_free(out[0]);
  /* GatherND spec example 2 (no batch dims), with a negative index. */
  Tensor *in5[2] = {T(IR_ELEM_I32, "2x2", V(0, 1, 2, 3)), T(I64, "2x2", V(0, 0, -1, 1))};
  assert_true(run("%x: tensor<2x2xi32>, %i: tensor<2x2xi64>", "tensor<2xi32>",
                  "%y = GatherND(%x, %i) : tensor<2xi32>\nreturn %y", in5, 2, out));
  expect(out[0], IR_ELEM_I32, "2", V(0, 3));
  tensor_free(out[0]);
}

static void test_scatter(void **state) {
  (void)state;
  /* ScatterElements spec example (axis 0). */
  Tensor *in[3] = {T(F32, "3x3", V(0, 0, 0, 0, 0, 0, 0, 0, 0)), T(I64, "2x3", V(1, 0, 2, 0, 2, 1)),
                   T(F32, "2x3", V(1.0, 1.1, 1.2, 2.0, 2.1, 2.2))},
         *out[1];
  assert_true(run("%x: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>", "tensor<3x3xf32>",
                  "%y = ScatterElements(%x, %i, %u) : tensor<3x3xf32>\nreturn %y", in, 3, out));
  expect(out[0], F32, "3x3", V(2.0, (float)1.1, 0.0, 1.0, 0.0, (float)2.2, 0.0, (float)2.1, (float)1.2));
  tensor_free(out[0]);
  /* Duplicate indices (1 and -4 on a dim of 5) with add and mul. */
  Tensor *in2[3] = {T(IR_ELEM_I32, "1x5", V(1, 2, 3, 4, 5)), T(I64, "1x2", V(1, -4)), T(IR_ELEM_I32, "1x2", V(10, 20))};
  assert_true(run("%x: tensor<1x5xi32>, %i: tensor<1x2xi64>, %u: tensor<1x2xi32>", "tensor<1x5xi32>",
                  "%y = ScatterElements(%x, %i, %u) {axis = 1, reduction = \"add\"} : tensor<1x5xi32>\nreturn %y", in2,
                  3, out));
  expect(out[0], IR_ELEM_I32, "1x5", V(1, 32, 3, 4, 5));
  tensor_free(out[0]);
  /* ScatterND spec example 1. */
  Tensor *in3[3] = {T(F32, "8", V(1, 2, 3, 4, 5, 6, 7, 8)), T(I64, "4x1", V(4, 3, 1, 7)),
                    T(F32, "4", V(9, 10, 11, 12))};
  assert_true(run("%x: tensor<8xf32>, %i: tensor<4x1xi64>, %u: tensor<4xf32>", "tensor<8xf32>",
                  "%y = ScatterND(%x, %i, %u) : tensor<8xf32>\nreturn %y", in3, 3, out));
  expect(out[0], F32, "8", V(1, 11, 3, 10, 9, 6, 7, 12));
  tensor_free(out[0]);
  /* Slices with reduction mul: row 0 times (2,3) then (4,5). */
  Tensor *in4[3] = {T(I64, "2x2", V(1, 2, 3, 4)), T(I64, "2x1", V(0, 0)), T(I64, "2x2", V(2, 3, 4, 5))};
  assert_true(run("%x: tensor<2x2xi64>, %i: tensor<2x1xi64>, %u: tensor<2x2xi64>", "tensor<2x2xi64>",
                  "%y = ScatterND(%x, %i, %u) {reduction = \"mul\"} : tensor<2x2xi64>\nreturn %y", in4, 3, out));
  expect(out[0], I64, "2x2", V(8, 30, 3, 4));
  tensor_free(out[0]);
  Tensor *in5[3] = {T(F32, "8", V(1, 2, 3, 4, 5, 6, 7, 8)), T(I64, "1x1", V(8)), T(F32, "1", V(9))};
  run_fails("%x: tensor<8xf32>, %i: tensor<1x1xi64>, %u: tensor<1xf32>", "tensor<8xf32>",
            "%y = ScatterND(%x, %i, %u) : tensor<8xf32>\nreturn %y", in5, 3, "index #0 8 is out of range [-8, 8)");
}

static void test_expand_tile(void **state) {
  (void)state;
  Tensor *in[2] = {T(F32, "3x1", V(0, 1, 2)), T(I64, "3", V(2, 1, 4))}, *out[1];
  assert_true(run("%x: tensor<3x1xf32>, %s: tensor<3xi64>", "tensor<2x3x4xf32>",
                  "%y = Expand(%x, %s) : tensor<2x3x4xf32>\nreturn %y", in, 2, out));
  expect(out[0], F32, "2x3x4", V(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2));
  tensor_free(out[0]);
  Tensor *in2[2] = {T(IR_ELEM_U8, "2x2", V(1, 2, 3, 4)), T(I64, "2", V(2, 3))};
  assert_true(run("%x: tensor<2x2xu8>, %r: tensor<2xi64>", "tensor<4x6xu8>",
                  "%y = Tile(%x, %r) : tensor<4x6xu8>\nreturn %y", in2, 2, out));
  expect(out[0], IR_ELEM_U8, "4x6", V(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4));
  tensor_free(out[0]);
  Tensor *in3[2] = {T(F32, "3x2", A6), T(I64, "2", V(2, 4))};
  run_fails("%x: tensor<3x2xf32>, %s: tensor<2xi64>", "tensor<?x?xf32>",
            "%y = Expand(%x, %s) : tensor<?x?xf32>\nreturn %y", in3, 2, "cannot broadcast");
}

static void test_pad(void **state) {
  (void)state;
  /* np.pad(np.arange(6).reshape(2,3), ((1,1),(2,2)), 'reflect') */
  Tensor *in[2] = {T(F32, "2x3", A6), T(I64, "4", V(1, 2, 1, 2))}, *out[1];
  assert_true(run("%x: tensor<2x3xf32>, %p: tensor<4xi64>", "tensor<4x7xf32>",
                  "%y = Pad(%x, %p) {mode = \"reflect\"} : tensor<4x7xf32>\nreturn %y", in, 2, out));
  expect(out[0], F32, "4x7", V(5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0, 5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0));
  tensor_free(out[0]);
  /* ((0,1),(1,0)) edge */
  Tensor *in2[2] = {T(F32, "2x3", A6), T(I64, "4", V(0, 1, 1, 0))};
  assert_true(run("%x: tensor<2x3xf32>, %p: tensor<4xi64>", "tensor<3x4xf32>",
                  "%y = Pad(%x, %p) {mode = \"edge\"} : tensor<3x4xf32>\nreturn %y", in2, 2, out));
  expect(out[0], F32, "3x4", V(0, 0, 1, 2, 3, 3, 4, 5, 3, 3, 4, 5));
  tensor_free(out[0]);
  /* ((1,0),(0,4)) wrap */
  Tensor *in3[2] = {T(F32, "2x3", A6), T(I64, "4", V(1, 0, 0, 4))};
  assert_true(run("%x: tensor<2x3xf32>, %p: tensor<4xi64>", "tensor<3x7xf32>",
                  "%y = Pad(%x, %p) {mode = \"wrap\"} : tensor<3x7xf32>\nreturn %y", in3, 2, out));
  expect(out[0], F32, "3x7", V(3, 4, 5, 3, 4, 5, 3, 0, 1, 2, 0, 1, 2, 0, 3, 4, 5, 3, 4, 5, 3));
  tensor_free(out[0]);
  /* Constant 9 on axis 1 only: one in front, one cropped at the end. */
  Tensor *in4[4] = {T(F32, "2x3", A6), T(I64, "2", V(1, -1)), T(F32, "", V(9)), T(I64, "1", V(-1))};
  assert_true(run("%x: tensor<2x3xf32>, %p: tensor<2xi64>, %v: tensor<f32>, %a: tensor<1xi64>", "tensor<2x3xf32>",
                  "%y = Pad(%x, %p, %v, %a) : tensor<2x3xf32>\nreturn %y", in4, 4, out));
  expect(out[0], F32, "2x3", V(9, 0, 1, 9, 3, 4));
  tensor_free(out[0]);
  Tensor *in5[2] = {T(F32, "2x3", A6), T(I64, "4", V(0, -4, 0, 0))};
  run_fails("%x: tensor<2x3xf32>, %p: tensor<4xi64>", "tensor<?x?xf32>",
            "%y = Pad(%x, %p) : tensor<?x?xf32>\nreturn %y", in5, 2, "axis 1 would have size -1");
}

static void test_constant_of_shape_range_eye(void **state) {
  (void)state;
  Tensor *in[1] = {T(I64, "2", V(2, 3))}, *out[4];
  assert_true(run("%s: tensor<2xi64>", "tensor<2x3xi32>",
                  "%y = ConstantOfShape(%s) {value = dense<[7]> : tensor<1xi32>} : tensor<2x3xi32>\nreturn %y", in, 1,
                  out));
  expect(out[0], IR_ELEM_I32, "2x3", V(7, 7, 7, 7, 7, 7));
  tensor_free(out[0]);
  Tensor *in2[1] = {T(I64, "0", NULL)};
  assert_true(
      run("%s: tensor<0xi64>", "tensor<f32>", "%y = ConstantOfShape(%s) : tensor<f32>\nreturn %y", in2, 1, out));
  expect(out[0], F32, "", V(0));
  tensor_free(out[0]);
  /* np.arange(10, 4, -3) and np.arange(1.0, 2.5, 0.5) */
  Tensor *in3[6] = {T(IR_ELEM_I32, "", V(10)), T(IR_ELEM_I32, "", V(4)), T(IR_ELEM_I32, "", V(-3)),
                    T(F32, "", V(1)),          T(F32, "", V(2.5)),       T(F32, "", V(0.5))};
  assert_true(run(
      "%a: tensor<i32>, %b: tensor<i32>, %c: tensor<i32>, %d: tensor<f32>, %e: tensor<f32>, %f: tensor<f32>",
      "tensor<2xi32>, tensor<3xf32>",
      "%y = Range(%a, %b, %c) : tensor<2xi32>\n%z = Range(%d, %e, %f) : tensor<3xf32>\nreturn %y, %z", in3, 6, out));
  expect(out[0], IR_ELEM_I32, "2", V(10, 7));
  expect(out[1], F32, "3", V(1, 1.5, 2));
  free_all(out, 2);
  /* np.eye(3, 4, k=1) */
  Tensor *in4[1] = {T(IR_ELEM_I32, "3x4", A12)};
  assert_true(run("%x: tensor<3x4xi32>", "tensor<3x4xf32>",
                  "%y = EyeLike(%x) {dtype = 1, k = 1} : tensor<3x4xf32>\nreturn %y", in4, 1, out));
  expect(out[0], F32, "3x4", V(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1));
  tensor_free(out[0]);
  Tensor *in5[3] = {T(I64, "", V(0)), T(I64, "", V(4)), T(I64, "", V(0))};
  run_fails("%a: tensor<i64>, %b: tensor<i64>, %c: tensor<i64>", "tensor<?xi64>",
            "%y = Range(%a, %b, %c) : tensor<?xi64>\nreturn %y", in5, 3, "delta must be non-zero");
}

static void test_onehot_nonzero_compress(void **state) {
  (void)state;
  Tensor *in[3] = {T(I64, "4", V(1, -1, 5, 0)), T(F32, "", V(4)), T(F32, "2", V(0, 3))}, *out[2];
  assert_true(run("%i: tensor<4xi64>, %d: tensor<f32>, %v: tensor<2xf32>", "tensor<4x4xf32>, tensor<4x4xf32>",
                  "%y = OneHot(%i, %d, %v) : tensor<4x4xf32>\n%z = OneHot(%i, %d, %v) {axis = 0} : tensor<4x4xf32>\n"
                  "return %y, %z",
                  in, 3, out));
  expect(out[0], F32, "4x4", V(0, 3, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0));
  expect(out[1], F32, "4x4", V(0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0));
  free_all(out, 2);
  /* np.array(np.nonzero([[1,0,2],[0,3,0]])) */
  Tensor *in2[1] = {T(F32, "2x3", V(1, 0, 2, 0, 3, -0.0))};
  assert_true(
      run("%x: tensor<2x3xf32>", "tensor<2x3xi64>", "%y = NonZero(%x) : tensor<2x3xi64>\nreturn %y", in2, 1, out));
  expect(out[0], I64, "2x3", V(0, 0, 1, 0, 2, 1));
  tensor_free(out[0]);
  /* np.compress([F,T,T], x[:, :3], axis=1) and np.compress([1,0,0,1,1], x) */
  Tensor *in3[3] = {T(F32, "3x3", V(0, 1, 2, 4, 5, 6, 8, 9, 10)), T(IR_ELEM_BOOL, "3", V(0, 1, 1)),
                    T(IR_ELEM_BOOL, "5", V(1, 0, 0, 1, 1))};
  assert_true(run("%x: tensor<3x3xf32>, %c: tensor<3xbool>, %d: tensor<5xbool>", "tensor<3x2xf32>, tensor<3xf32>",
                  "%y = Compress(%x, %c) {axis = 1} : tensor<3x2xf32>\n%z = Compress(%x, %d) : tensor<3xf32>\n"
                  "return %y, %z",
                  in3, 3, out));
  expect(out[0], F32, "3x2", V(1, 2, 5, 6, 9, 10));
  expect(out[1], F32, "3", V(0, 4, 5));
  free_all(out, 2);
}

static void test_depth_space(void **state) {
  (void)state;
  double a16[16];
  for (int i = 0; i < 16; i++) a16[i] = i;
  Tensor *in[1] = {T(F32, "1x8x1x2", a16)}, *out[2];
  assert_true(run("%x: tensor<1x8x1x2xf32>", "tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>",
                  "%y = DepthToSpace(%x) {blocksize = 2} : tensor<1x2x2x4xf32>\n"
                  "%z = DepthToSpace(%x) {blocksize = 2, mode = \"CRD\"} : tensor<1x2x2x4xf32>\nreturn %y, %z",
                  in, 1, out));
  expect(out[0], F32, "1x2x2x4", V(0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15));
  expect(out[1], F32, "1x2x2x4", V(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15));
  free_all(out, 2);
  Tensor *in2[1] = {T(F32, "1x1x4x4", a16)};
  assert_true(run("%x: tensor<1x1x4x4xf32>", "tensor<1x4x2x2xf32>",
                  "%y = SpaceToDepth(%x) {blocksize = 2} : tensor<1x4x2x2xf32>\nreturn %y", in2, 1, out));
  expect(out[0], F32, "1x4x2x2", V(0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15));
  tensor_free(out[0]);
  Tensor *in3[1] = {T(F32, "1x1x4x4", a16)};
  run_fails("%x: tensor<1x1x4x4xf32>", "tensor<?x?x?x?xf32>",
            "%y = DepthToSpace(%x) {blocksize = 2} : tensor<?x?x?x?xf32>\nreturn %y", in3, 1,
            "does not divide 1 channels");
}

static void test_reverse_trilu_cumsum(void **state) {
  (void)state;
  double a16[16];
  for (int i = 0; i < 16; i++) a16[i] = i;
  /* ReverseSequence spec example (batch_axis 1, time_axis 0). */
  Tensor *in[2] = {T(F32, "4x4", a16), T(I64, "4", V(4, 3, 2, 1))}, *out[2];
  assert_true(run("%x: tensor<4x4xf32>, %l: tensor<4xi64>", "tensor<4x4xf32>",
                  "%y = ReverseSequence(%x, %l) {batch_axis = 1, time_axis = 0} : tensor<4x4xf32>\nreturn %y", in, 2,
                  out));
  expect(out[0], F32, "4x4", V(12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15));
  tensor_free(out[0]);
  /* np.tril(x, -1) and np.triu(x, 1) of np.arange(12).reshape(3,4) */
  Tensor *in2[2] = {T(IR_ELEM_I32, "3x4", A12), T(I64, "", V(-1))};
  assert_true(run("%x: tensor<3x4xi32>, %k: tensor<i64>", "tensor<3x4xi32>",
                  "%y = Trilu(%x, %k) {upper = 0} : tensor<3x4xi32>\nreturn %y", in2, 2, out));
  expect(out[0], IR_ELEM_I32, "3x4", V(0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0));
  tensor_free(out[0]);
  Tensor *in3[2] = {T(IR_ELEM_I32, "3x4", A12), T(I64, "", V(1))};
  assert_true(run("%x: tensor<3x4xi32>, %k: tensor<i64>", "tensor<3x4xi32>",
                  "%y = Trilu(%x, %k) : tensor<3x4xi32>\nreturn %y", in3, 2, out));
  expect(out[0], IR_ELEM_I32, "3x4", V(0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11));
  tensor_free(out[0]);
  /* reversed exclusive cumsum of [1..5]: [14, 12, 9, 5, 0]; np.cumsum(x, axis=1) */
  Tensor *in4[4] = {T(F32, "5", V(1, 2, 3, 4, 5)), T(IR_ELEM_I32, "", V(0)),
                    T(IR_ELEM_I8, "2x3", V(1, 2, 3, 4, 5, 120)), T(I64, "", V(-1))};
  assert_true(run("%x: tensor<5xf32>, %a: tensor<i32>, %m: tensor<2x3xi8>, %b: tensor<i64>",
                  "tensor<5xf32>, tensor<2x3xi8>",
                  "%y = CumSum(%x, %a) {exclusive = 1, reverse = 1} : tensor<5xf32>\n"
                  "%z = CumSum(%m, %b) : tensor<2x3xi8>\nreturn %y, %z",
                  in4, 4, out));
  expect(out[0], F32, "5", V(14, 12, 9, 5, 0));
  /* 4+5+120 = 129 wraps to -127 in i8 */
  expect(out[1], IR_ELEM_I8, "2x3", V(1, 3, 6, 4, 9, -127));
  free_all(out, 2);
}

static void test_where_identity_dropout(void **state) {
  (void)state;
  Tensor *in[3] = {T(IR_ELEM_BOOL, "2x1", V(1, 0)), T(IR_ELEM_F16, "3", V(1, 2, 3)), T(IR_ELEM_F16, "", V(-1))},
         *out[3];
  assert_true(run("%c: tensor<2x1xbool>, %x: tensor<3xf16>, %y: tensor<f16>", "tensor<2x3xf16>",
                  "%w = Where(%c, %x, %y) : tensor<2x3xf16>\nreturn %w", in, 3, out));
  expect(out[0], IR_ELEM_F16, "2x3", V(1, 2, 3, -1, -1, -1));
  tensor_free(out[0]);
  Tensor *in2[1] = {T(IR_ELEM_BF16, "2", V(1.5, -2))};
  assert_true(run("%x: tensor<2xbf16>", "tensor<2xbf16>, tensor<2xbf16>, tensor<2xbool>",
                  "%a = Identity(%x) : tensor<2xbf16>\n%b, %m = Dropout(%x) : tensor<2xbf16>, tensor<2xbool>\n"
                  "return %a, %b, %m",
                  in2, 1, out));
  expect(out[0], IR_ELEM_BF16, "2", V(1.5, -2));
  expect(out[1], IR_ELEM_BF16, "2", V(1.5, -2));
  expect(out[2], IR_ELEM_BOOL, "2", V(1, 1));
  free_all(out, 3);
  Tensor *in3[3] = {T(F32, "2", V(1, 2)), T(F32, "", V(0.5)), T(IR_ELEM_BOOL, "", V(1))};
  run_fails("%x: tensor<2xf32>, %r: tensor<f32>, %t: tensor<bool>", "tensor<2xf32>",
            "%y = Dropout(%x, %r, %t) : tensor<2xf32>\nreturn %y", in3, 3, "training mode with ratio 0.5");
}

/* The Unique, CumProd and Scatter examples of the ONNX operator spec. */
static void test_unique_cumprod_scatter(void **state) {
  (void)state;
  Tensor *in[1] = {T(F32, "6", V(2, 1, 1, 3, 4, 3))}, *out[8];
  assert_true(
      run("%x: tensor<6xf32>",
          "tensor<4xf32>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>, tensor<4xf32>, "
          "tensor<4xi64>, tensor<6xi64>, tensor<4xi64>",
          "%y, %i, %v, %c = Unique(%x) {sorted = 0} : tensor<4xf32>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>\n"
          "%y2, %i2, %v2, %c2 = Unique(%x) : tensor<4xf32>, tensor<4xi64>, tensor<6xi64>, tensor<4xi64>\n"
          "return %y, %i, %v, %c, %y2, %i2, %v2, %c2",
          in, 1, out));
  expect(out[0], F32, "4", V(2, 1, 3, 4));
  expect(out[1], I64, "4", V(0, 1, 3, 4));
  expect(out[2], I64, "6", V(0, 1, 1, 2, 3, 2));
  expect(out[3], I64, "4", V(1, 2, 2, 1));
  expect(out[4], F32, "4", V(1, 2, 3, 4));
  expect(out[5], I64, "4", V(1, 0, 3, 4));
  expect(out[6], I64, "6", V(1, 0, 0, 2, 3, 2));
  expect(out[7], I64, "4", V(2, 1, 2, 1));
  free_all(out, 8);
  Tensor *in2[1] = {T(IR_ELEM_I32, "3x3", V(1, 0, 0, 1, 0, 0, 2, 3, 4))};
  assert_true(
      run("%x: tensor<3x3xi32>", "tensor<2x3xi32>, tensor<2xi64>, tensor<3xi64>, tensor<2xi64>",
          "%y, %i, %v, %c = Unique(%x) {axis = 0} : tensor<2x3xi32>, tensor<2xi64>, tensor<3xi64>, tensor<2xi64>\n"
          "return %y, %i, %v, %c",
          in2, 1, out));
  expect(out[0], IR_ELEM_I32, "2x3", V(1, 0, 0, 2, 3, 4));
  expect(out[1], I64, "2", V(0, 2));
  expect(out[2], I64, "3", V(0, 0, 1));
  expect(out[3], I64, "2", V(2, 1));
  free_all(out, 4);
  Tensor *in3[2] = {T(F32, "4", V(1, 2, 3, 4)), T(I64, "", V(0))};
  assert_true(run("%x: tensor<4xf32>, %a: tensor<i64>", "tensor<4xf32>, tensor<4xf32>",
                  "%y = CumProd(%x, %a) {exclusive = 1} : tensor<4xf32>\n"
                  "%z = CumProd(%x, %a) {reverse = 1} : tensor<4xf32>\nreturn %y, %z",
                  in3, 2, out));
  expect(out[0], F32, "4", V(1, 1, 2, 6));
  expect(out[1], F32, "4", V(24, 24, 12, 4));
  free_all(out, 2);
  Tensor *in4[3] = {T(F32, "1x5", V(1, 2, 3, 4, 5)), T(I64, "1x2", V(1, 3)), T(F32, "1x2", V(1.1, 2.1))};
  assert_true(run("%x: tensor<1x5xf32>, %i: tensor<1x2xi64>, %u: tensor<1x2xf32>", "tensor<1x5xf32>",
                  "%y = Scatter(%x, %i, %u) {axis = 1} : tensor<1x5xf32>\nreturn %y", in4, 3, out));
  expect(out[0], F32, "1x5", V(1, (float)1.1, 3, (float)2.1, 5));
  tensor_free(out[0]);
}

/* BitCast: bit patterns by hand (1.0f = 0x3F800000, -2.0f = 0xC0000000);
 * TensorScatter: the spec's pseudocode worked by hand. */
static void test_bitcast_tensor_scatter(void **state) {
  (void)state;
  Tensor *in[2] = {T(F32, "2", V(1, -2)), T(IR_ELEM_U8, "2", V(255, 7))}, *out[2];
  assert_true(run("%x: tensor<2xf32>, %b: tensor<2xu8>", "tensor<2xi32>, tensor<2xi8>",
                  "%y = BitCast(%x) {to = 6} : tensor<2xi32>\n%z = BitCast(%b) {to = 3} : tensor<2xi8>\nreturn %y, %z",
                  in, 2, out));
  expect(out[0], IR_ELEM_I32, "2", V(1065353216, -1073741824));
  expect(out[1], IR_ELEM_I8, "2", V(-1, 7));
  free_all(out, 2);
  Tensor *in2[1] = {T(F32, "2", V(1, -2))};
  run_fails("%x: tensor<2xf32>", "tensor<2xi16>", "%y = BitCast(%x) {to = 5} : tensor<2xi16>\nreturn %y", in2, 1,
            "cannot reinterpret 32-bit f32 as 16-bit i16");
  const char *sig = "%p: tensor<2x4x1xf32>, %u: tensor<2x2x1xf32>, %w: tensor<2xi64>";
  Tensor *in3[3] = {T(F32, "2x4x1", NULL), T(F32, "2x2x1", V(1, 2, 3, 4)), T(I64, "2", V(1, 3))};
  assert_true(run(sig, "tensor<2x4x1xf32>",
                  "%y = TensorScatter(%p, %u, %w) {mode = \"circular\"} : tensor<2x4x1xf32>\nreturn %y", in3, 3, out));
  expect(out[0], F32, "2x4x1", V(0, 1, 2, 0, 4, 0, 0, 3));
  tensor_free(out[0]);
  Tensor *in4[3] = {T(F32, "2x4x1", NULL), T(F32, "2x2x1", V(1, 2, 3, 4)), T(I64, "2", V(1, 2))};
  assert_true(
      run(sig, "tensor<2x4x1xf32>", "%y = TensorScatter(%p, %u, %w) : tensor<2x4x1xf32>\nreturn %y", in4, 3, out));
  expect(out[0], F32, "2x4x1", V(0, 1, 2, 0, 0, 0, 3, 4));
  tensor_free(out[0]);
  Tensor *in5[3] = {T(F32, "2x4x1", NULL), T(F32, "2x2x1", V(1, 2, 3, 4)), T(I64, "2", V(1, 3))};
  run_fails(sig, "tensor<2x4x1xf32>", "%y = TensorScatter(%p, %u, %w) : tensor<2x4x1xf32>\nreturn %y", in5, 3,
            "write index 3 + 1 is outside the cache length 4");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reshape, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_transpose_flatten, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_squeeze_unsqueeze, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_shape_size, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_concat_split, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_slice, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_gather, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_scatter, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_expand_tile, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_pad, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_constant_of_shape_range_eye, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_onehot_nonzero_compress, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_depth_space, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_reverse_trilu_cumsum, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_where_identity_dropout, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_unique_cumprod_scatter, it_setup, it_teardown),
      cmocka_unit_test_setup_teardown(test_bitcast_tensor_scatter, it_setup, it_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
