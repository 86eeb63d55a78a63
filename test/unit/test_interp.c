/* The reference interpreter (compiler/interp/interp.c, k_control.c): small
 * modules parsed from .qir text run through interp_run. Expected values are
 * worked out by hand from the ONNX spec (the ops used only move data). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "interp_test.h"
#include "interp/kernel.h"

static IrModule *M;

static int setup(void **state) {
  M = NULL;
  return it_setup(state);
}

static int teardown(void **state) {
  ir_module_destroy(M);
  return it_teardown(state);
}

/* Parses and verifies `text`, then prepares its main function. */
static Interp *load(const char *text, const InterpOptions *opts) {
  M = parse_qir(text);
  return interp_create(M, NULL, opts, &D);
}

static Tensor *scalar(IrElem e, int64_t v) {
  Tensor *t = tensor_new(e, 0, NULL);
  tensor_set_i64(t, 0, v);
  return t;
}

/* Transpose then Reshape by a constant shape; the constant is returned
 * twice (cloned, not moved) and the input once. */
static const char *basic_qir =
    "module {\n"
    "  func @main(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<6xf32>, tensor<1xi64>, tensor<1xi64>, "
    "tensor<2x3xf32>) {\n"
    "    %t = Transpose(%x) : tensor<3x2xf32> loc(\"tr\")\n"
    "    %s = Constant() {value = dense<[6]> : tensor<1xi64>} : tensor<1xi64>\n"
    "    %r = Reshape(%t, %s) : tensor<6xf32>\n"
    "    return %t, %r, %s, %s, %x\n"
    "  }\n"
    "}\n";

static void test_basic(void **state) {
  (void)state;
  Interp *it = load(basic_qir, NULL);
  assert_non_null(it);
  double x[6] = {1, 2, 3, 4, 5, 6}, xt[6] = {1, 4, 2, 5, 3, 6};
  Tensor *in = T(IR_ELEM_F32, "2x3", x), *out[5];
  for (int rep = 0; rep < 2; rep++) { /* the second run uses the cached constant */
    assert_true(interp_run(it, &in, 1, out));
    expect(out[0], IR_ELEM_F32, "3x2", xt);
    expect(out[1], IR_ELEM_F32, "6", xt);
    for (int i = 2; i < 4; i++) {
      assert_int_equal(out[i]->elem, IR_ELEM_I64);
      assert_int_equal(tensor_get_i64(out[i], 0), 6);
    }
    assert_ptr_not_equal(out[2], out[3]);
    expect(out[4], IR_ELEM_F32, "2x3", x);
    assert_ptr_not_equal(out[4], in);
    free_all(out, 5);
  }
  tensor_free(in);
  interp_destroy(it);
}

static void test_input_errors(void **state) {
  (void)state;
  Interp *it = load("module {\n"
                    "  func @main(%a: tensor<[n]x2xf32>, %b: tensor<[n]xf32>) -> (tensor<[n]x2xf32>) {\n"
                    "    return %a\n"
                    "  }\n"
                    "}\n",
                    NULL);
  assert_non_null(it);
  double v[9] = {0};
  Tensor *a = T(IR_ELEM_F32, "3x2", v), *b = T(IR_ELEM_F32, "3", v), *bad, *out[1];
  Tensor *ins[2] = {a, b};
  assert_true(interp_run(it, ins, 2, out));
  tensor_free(out[0]);

  assert_false(interp_run(it, ins, 1, out));
  assert_non_null(strstr(diags(), "takes 2 inputs, given 1"));
  assert_null(out[0]);

  ins[1] = bad = T(IR_ELEM_I32, "3", NULL);
  assert_false(interp_run(it, ins, 2, out));
  assert_non_null(strstr(diags(), "input #1 (%b) is i32[3] but the function takes f32"));
  tensor_free(bad);

  ins[1] = bad = T(IR_ELEM_F32, "3x2", v);
  assert_false(interp_run(it, ins, 2, out));
  assert_non_null(strstr(diags(), "input #1 (%b) is f32[3x2] but the function takes rank 1"));
  tensor_free(bad);

  ins[0] = bad = T(IR_ELEM_F32, "3x3", v);
  ins[1] = b;
  assert_false(interp_run(it, ins, 2, out));
  assert_non_null(strstr(diags(), "input #0 (%a) is f32[3x3] but dim 1 must be 2"));
  tensor_free(bad);

  ins[0] = a;
  ins[1] = bad = T(IR_ELEM_F32, "4", v);
  assert_false(interp_run(it, ins, 2, out));
  assert_non_null(strstr(diags(), "input #1 (%b): dim 0 ([n]) is 4 but input #0 (%a) has [n] = 3"));
  assert_null(out[0]);
  tensor_free(bad);

  tensor_free(a);
  tensor_free(b);
  interp_destroy(it);
}

static void test_function_choice(void **state) {
  (void)state;
  M = ir_parse(&D, "t.qir", basic_qir, strlen(basic_qir), NULL);
  assert_non_null(M);
  assert_null(interp_create(M, "other", NULL, &D));
  assert_non_null(strstr(diags(), "no function 'other'"));
  Interp *it = interp_create(M, "main", NULL, &D);
  assert_non_null(it);
  assert_string_equal(interp_func(it)->name, "main");
  interp_destroy(it);
}

/* Every op kind without a kernel is named, not just the first. The test
 * hides the Tile and Size kernels for a moment to have such ops. */
static void test_missing_kernel(void **state) {
  (void)state;
  KernelFn *table = (KernelFn *)interp_kernel_table();
  KernelFn tile = table[IR_OP_TILE], size = table[IR_OP_SIZE];
  table[IR_OP_TILE] = NULL;
  table[IR_OP_SIZE] = NULL;
  Interp *it = load("module {\n"
                    "  func @main(%x: tensor<2xf32>, %r: tensor<1xi64>, %c: tensor<bool>) -> (tensor<?xf32>) {\n"
                    "    %y = If(%c) : tensor<?xf32> {\n"
                    "    ^then_branch:\n"
                    "      %t = Tile(%x, %r) : tensor<?xf32> loc(\"tiler\")\n"
                    "      return %t\n"
                    "    ^else_branch:\n"
                    "      return %x\n"
                    "    }\n"
                    "    %n = Size(%y) : tensor<i64>\n"
                    "    return %y\n"
                    "  }\n"
                    "}\n",
                    NULL);
  table[IR_OP_TILE] = tile;
  table[IR_OP_SIZE] = size;
  assert_null(it);
  assert_non_null(strstr(diags(), "node 'tiler' (op 'Tile'): the interpreter has no kernel for this op"));
  assert_non_null(strstr(diags(), "op 'Size': the interpreter has no kernel for this op"));
}

/* If: the branches use the outer %x. */
static const char *if_qir = "module {\n"
                            "  func @main(%x: tensor<2xf32>, %c: tensor<bool>) -> (tensor<?xf32>) {\n"
                            "    %y = If(%c) : tensor<?xf32> {\n"
                            "    ^then_branch:\n"
                            "      %t = Concat(%x, %x) {axis = 0} : tensor<4xf32>\n"
                            "      return %t\n"
                            "    ^else_branch:\n"
                            "      return %x\n"
                            "    }\n"
                            "    return %y\n"
                            "  }\n"
                            "}\n";

static void test_if(void **state) {
  (void)state;
  Interp *it = load(if_qir, NULL);
  assert_non_null(it);
  double x[2] = {1, 2}, xx[4] = {1, 2, 1, 2};
  Tensor *ins[2] = {T(IR_ELEM_F32, "2", x), scalar(IR_ELEM_BOOL, 1)}, *out[1];
  assert_true(interp_run(it, ins, 2, out));
  expect(out[0], IR_ELEM_F32, "4", xx);
  tensor_free(out[0]);
  tensor_set_i64(ins[1], 0, 0);
  assert_true(interp_run(it, ins, 2, out));
  expect(out[0], IR_ELEM_F32, "2", x);
  tensor_free(out[0]);
  free_all(ins, 2);
  interp_destroy(it);
}

/* Loop: %acc grows by the outer %x each iteration; the scan output stacks
 * the iteration numbers. */
static const char *loop_qir =
    "module {\n"
    "  func @main(%x: tensor<2xf32>, %n: tensor<i64>, %c: tensor<bool>) -> (tensor<?xf32>, tensor<?xi64>) {\n"
    "    %acc, %its = Loop(%n, %c, %x) : tensor<?xf32>, tensor<?xi64> {\n"
    "    ^body(%i: tensor<i64>, %cond: tensor<bool>, %a: tensor<?xf32>):\n"
    "      %a2 = Concat(%a, %x) {axis = 0} : tensor<?xf32>\n"
    "      %i2 = Identity(%i) : tensor<i64>\n"
    "      return %cond, %a2, %i2\n"
    "    }\n"
    "    return %acc, %its\n"
    "  }\n"
    "}\n";

static void test_loop(void **state) {
  (void)state;
  Interp *it = load(loop_qir, NULL);
  assert_non_null(it);
  double x[2] = {5, 6}, acc[8] = {5, 6, 5, 6, 5, 6, 5, 6};
  Tensor *ins[3] = {T(IR_ELEM_F32, "2", x), scalar(IR_ELEM_I64, 3), scalar(IR_ELEM_BOOL, 1)}, *out[2];
  assert_true(interp_run(it, ins, 3, out));
  expect(out[0], IR_ELEM_F32, "8", acc);
  assert_int_equal(out[1]->elem, IR_ELEM_I64);
  assert_int_equal(out[1]->rank, 1);
  assert_int_equal(out[1]->dims[0], 3);
  for (int i = 0; i < 3; i++) assert_int_equal(tensor_get_i64(out[1], i), i);
  free_all(out, 2);
  /* A false condition: no iteration, the initial value, an empty scan. */
  tensor_set_i64(ins[2], 0, 0);
  assert_true(interp_run(it, ins, 3, out));
  expect(out[0], IR_ELEM_F32, "2", x);
  assert_int_equal(out[1]->rank, 1);
  assert_int_equal(out[1]->dims[0], 0);
  free_all(out, 2);
  free_all(ins, 3);
  interp_destroy(it);
}

static void test_loop_without_bounds(void **state) {
  (void)state;
  Interp *it = load("module {\n"
                    "  func @main(%x: tensor<2xf32>) -> (tensor<2xf32>) {\n"
                    "    %r = Loop(none, none, %x) : tensor<2xf32> loc(\"forever\") {\n"
                    "    ^body(%i: tensor<i64>, %cond: tensor<bool>, %a: tensor<2xf32>):\n"
                    "      return %cond, %a\n"
                    "    }\n"
                    "    return %r\n"
                    "  }\n"
                    "}\n",
                    NULL);
  assert_non_null(it);
  double x[2] = {1, 2};
  Tensor *in = T(IR_ELEM_F32, "2", x), *out[1];
  assert_false(interp_run(it, &in, 1, out));
  assert_non_null(strstr(diags(), "node 'forever' (op 'Loop'): neither a trip count nor a condition"));
  assert_null(out[0]);
  tensor_free(in);
  interp_destroy(it);
}

/* Scan over the rows of %xs, last row first; the state becomes the row
 * seen, the scan output pairs (previous state, row) and stacks them along
 * axis 1. */
static void test_scan(void **state) {
  (void)state;
  Interp *it = load("module {\n"
                    "  func @main(%init: tensor<2xf32>, %xs: tensor<3x2xf32>) -> (tensor<2xf32>, tensor<4x3xf32>) {\n"
                    "    %fin, %ys = Scan(%init, %xs) {num_scan_inputs = 1, scan_input_directions = [1], "
                    "scan_output_axes = [1]} : tensor<2xf32>, tensor<4x3xf32> {\n"
                    "    ^body(%s: tensor<2xf32>, %row: tensor<2xf32>):\n"
                    "      %s2 = Identity(%row) : tensor<2xf32>\n"
                    "      %y = Concat(%s, %row) {axis = 0} : tensor<4xf32>\n"
                    "      return %s2, %y\n"
                    "    }\n"
                    "    return %fin, %ys\n"
                    "  }\n"
                    "}\n",
                    NULL);
  assert_non_null(it);
  double init[2] = {0, 0}, xs[6] = {1, 2, 3, 4, 5, 6}, fin[2] = {1, 2};
  /* iterations see rows 2, 1, 0: y_t = (s, row) = (0,0,5,6), (5,6,3,4),
   * (3,4,1,2), stacked as columns. */
  double ys[12] = {0, 5, 3, 0, 6, 4, 5, 3, 1, 6, 4, 2};
  Tensor *ins[2] = {T(IR_ELEM_F32, "2", init), T(IR_ELEM_F32, "3x2", xs)}, *out[2];
  assert_true(interp_run(it, ins, 2, out));
  expect(out[0], IR_ELEM_F32, "2", fin);
  expect(out[1], IR_ELEM_F32, "4x3", ys);
  free_all(out, 2);
  free_all(ins, 2);
  interp_destroy(it);
}

typedef struct Seen {
  int calls;
  IrOpKind kinds[16];
  int stop_at;
} Seen;

static bool observe(void *ctx, const IrOp *op, Tensor *const *results, uint32_t n) {
  Seen *s = ctx;
  assert_int_equal(n, op->nresults);
  for (uint32_t i = 0; i < n; i++) assert_non_null(results[i]);
  if (s->calls < 16) s->kinds[s->calls] = op->kind;
  return ++s->calls != s->stop_at;
}

static void test_observer(void **state) {
  (void)state;
  Seen seen = {0};
  InterpOptions opts = {.observer = observe, .observer_ctx = &seen};
  Interp *it = load(loop_qir, &opts);
  assert_non_null(it);
  double x[2] = {5, 6};
  Tensor *ins[3] = {T(IR_ELEM_F32, "2", x), scalar(IR_ELEM_I64, 2), scalar(IR_ELEM_BOOL, 1)}, *out[2];
  assert_true(interp_run(it, ins, 3, out));
  free_all(out, 2);
  /* Two iterations of (Concat, Identity), then the Loop itself. */
  assert_int_equal(seen.calls, 5);
  IrOpKind want[5] = {IR_OP_CONCAT, IR_OP_IDENTITY, IR_OP_CONCAT, IR_OP_IDENTITY, IR_OP_LOOP};
  for (int i = 0; i < 5; i++) assert_int_equal(seen.kinds[i], want[i]);
  seen = (Seen){.stop_at = 3};
  assert_false(interp_run(it, ins, 3, out));
  assert_null(out[0]);
  assert_non_null(strstr(diags(), "op 'Concat': the run was stopped by the observer"));
  free_all(ins, 3);
  interp_destroy(it);
}

static void test_kernel_error(void **state) {
  (void)state;
  Interp *it = load("module {\n"
                    "  func @main(%x: tensor<2x3xf32>, %s: tensor<2xi64>) -> (tensor<?x?xf32>) {\n"
                    "    %t = Transpose(%x) : tensor<3x2xf32>\n"
                    "    %r = Reshape(%t, %s) : tensor<?x?xf32> loc(\"reshape1\")\n"
                    "    return %r\n"
                    "  }\n"
                    "}\n",
                    NULL);
  assert_non_null(it);
  double x[6] = {0};
  Tensor *ins[2] = {T(IR_ELEM_F32, "2x3", x), T(IR_ELEM_I64, "2", NULL)}, *out[1];
  tensor_set_i64(ins[1], 0, 4);
  tensor_set_i64(ins[1], 1, 2);
  assert_false(interp_run(it, ins, 2, out));
  assert_null(out[0]);
  assert_non_null(strstr(diags(), "node 'reshape1' (op 'Reshape'): the shape holds 8 elements, the input 6"));
  free_all(ins, 2);
  interp_destroy(it);
}

/* A kernel result that contradicts the IR's static type is an error. */
static void test_result_type_checked(void **state) {
  (void)state;
  Interp *it = load("module {\n"
                    "  func @main(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>) {\n"
                    "    %t = Transpose(%x) {perm = [0, 1]} : tensor<2x3xf32> loc(\"tp\")\n"
                    "    return %t\n"
                    "  }\n"
                    "}\n",
                    NULL);
  assert_non_null(it);
  /* Patch the declared type after verification to a wrong one. */
  IrOp *tp = M->funcs[0]->body->first;
  int64_t wrong[2] = {3, 2};
  tp->results[0]->type = ir_type_static(M, IR_ELEM_F32, 2, wrong);
  double x[6] = {0};
  Tensor *in = T(IR_ELEM_F32, "2x3", x), *out[1];
  assert_false(interp_run(it, &in, 1, out));
  assert_non_null(strstr(diags(), "node 'tp' (op 'Transpose'): result #0 has shape f32[2x3] but the IR says f32[3x2]"));
  tensor_free(in);
  interp_destroy(it);
}

/* Regions are not run by interp_eval_op. */
static void test_eval_op_refuses_regions(void **state) {
  (void)state;
  M = ir_parse(&D, "t.qir", if_qir, strlen(if_qir), NULL);
  assert_non_null(M);
  const IrOp *op = M->funcs[0]->body->first;
  Tensor *ins[1] = {scalar(IR_ELEM_BOOL, 1)}, *out[1];
  assert_false(interp_eval_op(op, ins, out, &D));
  assert_non_null(strstr(diags(), "ops with regions are not evaluated on their own"));
  tensor_free(ins[0]);
}

/* A long chain of intermediates: each is freed after its last use (ASan's
 * leak check covers the frees; the values check the moves). */
static void test_chain(void **state) {
  (void)state;
  char text[4096];
  int n = snprintf(text, sizeof text,
                   "module {\n  func @main(%%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {\n"
                   "    %%v0 = Identity(%%x) : tensor<4xf32>\n");
  for (int i = 1; i < 40; i++)
    n += snprintf(text + n, sizeof text - (size_t)n, "    %%v%d = Identity(%%v%d) : tensor<4xf32>\n", i, i - 1);
  snprintf(text + n, sizeof text - (size_t)n,
           "    %%unused = Identity(%%v3) : tensor<4xf32>\n    return %%v39, %%v39\n  }\n}\n");
  Interp *it = load(text, NULL);
  assert_non_null(it);
  double x[4] = {1, 2, 3, 4};
  Tensor *in = T(IR_ELEM_F32, "4", x), *out[2];
  bool ok = interp_run(it, &in, 1, out);
  if (!ok) fprintf(stderr, "%s", diags());
  assert_true(ok);
  expect(out[0], IR_ELEM_F32, "4", x);
  expect(out[1], IR_ELEM_F32, "4", x);
  assert_ptr_not_equal(out[0], out[1]);
  free_all(out, 2);
  tensor_free(in);
  interp_destroy(it);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_input_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_function_choice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_kernel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_if, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_without_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_observer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kernel_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_result_type_checked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_eval_op_refuses_regions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
