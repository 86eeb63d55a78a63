/* Shape and type inference rules (compiler/ops/infer.c): each case builds a
 * small function by hand, infers one op and compares the result type with a
 * shape derived by hand from the ONNX operator spec. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/text.h"
#include "ops/infer.h"

static IrModule *M;
static IrFunc *F;
static Diag D;
static char *diag_text;
static size_t diag_len;
static FILE *diag_out;

static int setup(void **state) {
  (void)state;
  M = ir_module_create("t");
  F = ir_func_create(M, "main");
  diag_out = open_memstream(&diag_text, &diag_len);
  diag_init(&D, diag_out);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ir_module_destroy(M);
  fclose(diag_out);
  free(diag_text);
  return 0;
}

/* A type from "2x?x[N]" (rank 0: "", unranked: "*"). */
static const IrType *ty(IrElem e, const char *spec) {
  if (strcmp(spec, "*") == 0) return ir_type_tensor(M, e, -1, NULL);
  IrDim dims[16];
  int32_t r = 0;
  for (const char *p = spec; *p;) {
    if (*p == '?') {
      dims[r++] = (IrDim){-1, NULL};
      p++;
    } else if (*p == '[') {
      const char *end = strchr(p, ']');
      dims[r++] = (IrDim){-1, arena_strndup(&M->arena, p + 1, (size_t)(end - p - 1))};
      p = end + 1;
    } else {
      char *end;
      dims[r++] = (IrDim){strtoll(p, &end, 10), NULL};
      p = end;
    }
    if (*p == 'x') p++;
  }
  return ir_type_tensor(M, e, r, dims);
}

static IrValue *arg(IrElem e, const char *spec) { return ir_region_add_arg(M, F->body, NULL, ty(e, spec)); }

/* A Constant op holding n i64 values (rank 1, or rank 0 when scalar). */
static IrValue *ints(const int64_t *v, int64_t n, bool scalar) {
  static int count;
  char name[32];
  snprintf(name, sizeof name, "c%d", count++);
  const IrType *t = ir_type_static(M, IR_ELEM_I64, scalar ? 0 : 1, &n);
  IrConst *k = ir_const_create(M, name, t, v, (size_t)n * 8, false);
  IrOp *op = ir_op_create(M, IR_OP_CONSTANT, NULL, 0, &t, 1, 0);
  IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = k};
  ir_op_set_attr(M, op, &a);
  ir_region_append(F->body, op);
  return op->results[0];
}

static IrValue *floats(const float *v, int64_t n) {
  static int count;
  char name[32];
  snprintf(name, sizeof name, "f%d", count++);
  const IrType *t = ir_type_static(M, IR_ELEM_F32, 1, &n);
  IrConst *k = ir_const_create(M, name, t, v, (size_t)n * 4, false);
  IrOp *op = ir_op_create(M, IR_OP_CONSTANT, NULL, 0, &t, 1, 0);
  IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = k};
  ir_op_set_attr(M, op, &a);
  ir_region_append(F->body, op);
  return op->results[0];
}

/* An op with placeholder (unranked f32) results, appended to the body. */
static IrOp *mk(IrOpKind k, IrValue **ins, uint32_t n, uint32_t nres) {
  const IrType *ph[8];
  for (uint32_t i = 0; i < nres; i++) ph[i] = ir_type_tensor(M, IR_ELEM_F32, -1, NULL);
  IrOp *op = ir_op_create(M, k, ins, n, ph, nres, (uint32_t)ops_info(k)->nregions);
  ir_region_append(F->body, op);
  return op;
}

static void set_int(IrOp *op, const char *name, int64_t v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INT, .u.i = v};
  ir_op_set_attr(M, op, &a);
}

static void set_ints(IrOp *op, const char *name, const int64_t *v, uint32_t n) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INTS, .u.ints = {v, n}};
  ir_op_set_attr(M, op, &a);
}

static void set_str(IrOp *op, const char *name, const char *s) {
  IrAttr a = {.name = name, .kind = IR_ATTR_STRING, .u.s = s};
  ir_op_set_attr(M, op, &a);
}

static char *type_text(const IrType *t) {
  char *buf;
  size_t len;
  FILE *f = open_memstream(&buf, &len);
  ir_print_type(f, t);
  fclose(f);
  return buf;
}

static void expect(const IrValue *v, const char *want) {
  char *got = type_text(v->type);
  assert_string_equal(got, want);
  free(got);
}

static void infer_ok(IrOp *op) {
  bool ok = ir_infer_op(M, op, &D);
  fflush(diag_out);
  if (!ok) fprintf(stderr, "unexpected error: %s\n", diag_text);
  assert_true(ok);
}

static void infer_fails(IrOp *op, const char *msg) {
  assert_false(ir_infer_op(M, op, &D));
  fflush(diag_out);
  assert_non_null(strstr(diag_text, msg));
}

/* ---- elementwise and broadcasting -------------------------------------- */

static void test_broadcast_static(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_F32, "3x1x5"), arg(IR_ELEM_F32, "4x1")};
  IrOp *op = mk(IR_OP_ADD, in, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<3x4x5xf32>");
}

static void test_broadcast_symbolic(void **state) {
  (void)state;
  IrValue *a[2] = {arg(IR_ELEM_F32, "[N]x1"), arg(IR_ELEM_F32, "1x[M]")};
  IrOp *op = mk(IR_OP_MUL, a, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x[M]xf32>");
  /* Equal names stay; different names or a dynamic dim are unknown. */
  IrValue *b[2] = {arg(IR_ELEM_F32, "[N]x[K]x?"), arg(IR_ELEM_F32, "[N]x[M]x[K]")};
  op = mk(IR_OP_SUB, b, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x?x?xf32>");
  /* A static dim > 1 decides against a symbol (which must be 1 or equal). */
  IrValue *c[2] = {arg(IR_ELEM_F32, "[N]"), arg(IR_ELEM_F32, "7")};
  op = mk(IR_OP_ADD, c, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<7xf32>");
}

static void test_broadcast_mismatch(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_F32, "2x3"), arg(IR_ELEM_F32, "4")};
  infer_fails(mk(IR_OP_ADD, in, 2, 1), "dim 1 is 3 vs 4");
}

static void test_compare_and_where(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_I64, "2x1"), arg(IR_ELEM_I64, "3")};
  IrOp *eq = mk(IR_OP_EQUAL, in, 2, 1);
  infer_ok(eq);
  expect(eq->results[0], "tensor<2x3xbool>");
  IrValue *w[3] = {arg(IR_ELEM_BOOL, "[N]x1"), arg(IR_ELEM_F16, "1x4"), arg(IR_ELEM_F16, "")};
  IrOp *op = mk(IR_OP_WHERE, w, 3, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x4xf16>");
}

static void test_cast(void **state) {
  (void)state;
  IrValue *x = arg(IR_ELEM_I64, "[N]x3");
  IrOp *op = mk(IR_OP_CAST, &x, 1, 1);
  set_int(op, "to", 1); /* FLOAT */
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x3xf32>");
}

/* ---- linear algebra ------------------------------------------------------ */

static void test_matmul(void **state) {
  (void)state;
  IrValue *a[2] = {arg(IR_ELEM_F32, "[B]x2x3"), arg(IR_ELEM_F32, "3x4")};
  IrOp *op = mk(IR_OP_MATMUL, a, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[B]x2x4xf32>");
  /* 1-D operands: [3] x [3,4] -> [4]; [2,3] x [3] -> [2]. */
  IrValue *b[2] = {arg(IR_ELEM_F32, "3"), arg(IR_ELEM_F32, "3x4")};
  op = mk(IR_OP_MATMUL, b, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<4xf32>");
  IrValue *c[2] = {arg(IR_ELEM_F32, "2x3"), arg(IR_ELEM_F32, "3")};
  op = mk(IR_OP_MATMUL, c, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<2xf32>");
}

static void test_matmul_mismatch(void **state) {
  (void)state;
  IrValue *a[2] = {arg(IR_ELEM_F32, "2x3"), arg(IR_ELEM_F32, "4x5")};
  infer_fails(mk(IR_OP_MATMUL, a, 2, 1), "op 'MatMul': inner dimensions differ (3 vs 4)");
}

static void test_gemm(void **state) {
  (void)state;
  IrValue *a[3] = {arg(IR_ELEM_F32, "4x3"), arg(IR_ELEM_F32, "5x3"), arg(IR_ELEM_F32, "5")};
  IrOp *op = mk(IR_OP_GEMM, a, 3, 1);
  set_int(op, "transB", 1);
  infer_ok(op);
  expect(op->results[0], "tensor<4x5xf32>");
}

static void test_einsum(void **state) {
  (void)state;
  IrValue *a[2] = {arg(IR_ELEM_F32, "2x3"), arg(IR_ELEM_F32, "3x5")};
  IrOp *op = mk(IR_OP_EINSUM, a, 2, 1);
  set_str(op, "equation", "ij,jk->ik");
  infer_ok(op);
  expect(op->results[0], "tensor<2x5xf32>");
}

/* ---- convolution and pooling --------------------------------------------- */

static void test_conv(void **state) {
  (void)state;
  /* (32 + 1 + 1 - 3) / 2 + 1 = 16 */
  IrValue *a[2] = {arg(IR_ELEM_F32, "1x3x32x32"), arg(IR_ELEM_F32, "8x3x3x3")};
  IrOp *op = mk(IR_OP_CONV, a, 2, 1);
  static const int64_t pads[] = {1, 1, 1, 1}, strides[] = {2, 2};
  set_ints(op, "pads", pads, 4);
  set_ints(op, "strides", strides, 2);
  infer_ok(op);
  expect(op->results[0], "tensor<1x8x16x16xf32>");
  /* SAME_UPPER: ceil(7 / 2) = 4; grouped: 4 input channels = 2 x group 2. */
  IrValue *b[2] = {arg(IR_ELEM_F32, "[N]x4x7x7"), arg(IR_ELEM_F32, "6x2x3x3")};
  op = mk(IR_OP_CONV, b, 2, 1);
  set_ints(op, "strides", strides, 2);
  set_int(op, "group", 2);
  set_str(op, "auto_pad", "SAME_UPPER");
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x6x4x4xf32>");
}

static void test_conv_channels_mismatch(void **state) {
  (void)state;
  IrValue *a[2] = {arg(IR_ELEM_F32, "1x3x8x8"), arg(IR_ELEM_F32, "8x4x3x3")};
  infer_fails(mk(IR_OP_CONV, a, 2, 1), "input channels 3 and weight channels 4 x group 1 differ");
}

static void test_conv_transpose(void **state) {
  (void)state;
  /* 2 * (5 - 1) + 3 = 11; channels = W dim 1 x group = 2. */
  IrValue *a[2] = {arg(IR_ELEM_F32, "1x4x5x5"), arg(IR_ELEM_F32, "4x2x3x3")};
  IrOp *op = mk(IR_OP_CONV_TRANSPOSE, a, 2, 1);
  static const int64_t strides[] = {2, 2};
  set_ints(op, "strides", strides, 2);
  infer_ok(op);
  expect(op->results[0], "tensor<1x2x11x11xf32>");
}

static void test_max_pool_ceil(void **state) {
  (void)state;
  static const int64_t k[] = {2, 2}, s[] = {2, 2};
  IrValue *x = arg(IR_ELEM_F32, "1x1x5x5");
  /* floor((5 - 2) / 2) + 1 = 2; with ceil_mode ceil(3 / 2) + 1 = 3. */
  IrOp *op = mk(IR_OP_MAX_POOL, &x, 1, 2);
  set_ints(op, "kernel_shape", k, 2);
  set_ints(op, "strides", s, 2);
  infer_ok(op);
  expect(op->results[0], "tensor<1x1x2x2xf32>");
  expect(op->results[1], "tensor<1x1x2x2xi64>");
  op = mk(IR_OP_MAX_POOL, &x, 1, 1);
  set_ints(op, "kernel_shape", k, 2);
  set_ints(op, "strides", s, 2);
  set_int(op, "ceil_mode", 1);
  infer_ok(op);
  expect(op->results[0], "tensor<1x1x3x3xf32>");
}

static void test_global_pool(void **state) {
  (void)state;
  IrValue *x = arg(IR_ELEM_F32, "[N]x16x?x?");
  IrOp *op = mk(IR_OP_GLOBAL_AVERAGE_POOL, &x, 1, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x16x1x1xf32>");
}

/* ---- reductions and normalization ---------------------------------------- */

static void test_reduce(void **state) {
  (void)state;
  static const int64_t axes[] = {1};
  IrValue *in[2] = {arg(IR_ELEM_F32, "2x3x4"), ints(axes, 1, false)};
  IrOp *op = mk(IR_OP_REDUCE_MEAN, in, 2, 1);
  set_int(op, "keepdims", 0);
  infer_ok(op);
  expect(op->results[0], "tensor<2x4xf32>");
  op = mk(IR_OP_REDUCE_SUM, in, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<2x1x4xf32>");
  /* No axes: every axis. */
  op = mk(IR_OP_REDUCE_MAX, in, 1, 1);
  set_int(op, "keepdims", 0);
  infer_ok(op);
  expect(op->results[0], "tensor<f32>");
  IrOp *am = mk(IR_OP_ARG_MAX, in, 1, 1);
  set_int(am, "axis", -1);
  infer_ok(am);
  expect(am->results[0], "tensor<2x3x1xi64>");
}

static void test_layer_norm(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_F16, "[B]x[T]x64"), arg(IR_ELEM_F16, "64")};
  IrOp *op = mk(IR_OP_LAYER_NORM, in, 2, 3);
  infer_ok(op);
  expect(op->results[0], "tensor<[B]x[T]x64xf16>");
  expect(op->results[1], "tensor<[B]x[T]x1xf32>");
}

static void test_lstm(void **state) {
  (void)state;
  /* seq 7, batch [N], input 10, hidden 5, bidirectional. */
  IrValue *in[3] = {arg(IR_ELEM_F32, "7x[N]x10"), arg(IR_ELEM_F32, "2x20x10"), arg(IR_ELEM_F32, "2x20x5")};
  IrOp *op = mk(IR_OP_LSTM, in, 3, 3);
  set_str(op, "direction", "bidirectional");
  infer_ok(op);
  expect(op->results[0], "tensor<7x2x[N]x5xf32>");
  expect(op->results[1], "tensor<2x[N]x5xf32>");
  expect(op->results[2], "tensor<2x[N]x5xf32>");
}

/* ---- shape and data movement --------------------------------------------- */

static void test_reshape(void **state) {
  (void)state;
  static const int64_t s1[] = {0, -1}, s2[] = {0, 4, 2, 3};
  IrValue *a[2] = {arg(IR_ELEM_F32, "2x3x4"), ints(s1, 2, false)};
  IrOp *op = mk(IR_OP_RESHAPE, a, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<2x12xf32>");
  IrValue *b[2] = {arg(IR_ELEM_F32, "[N]x4x6"), ints(s2, 4, false)};
  op = mk(IR_OP_RESHAPE, b, 2, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x4x2x3xf32>");
}

static void test_reshape_count_mismatch(void **state) {
  (void)state;
  static const int64_t s[] = {5, 5};
  IrValue *a[2] = {arg(IR_ELEM_F32, "2x3x4"), ints(s, 2, false)};
  infer_fails(mk(IR_OP_RESHAPE, a, 2, 1), "cannot reshape 24 elements into 25");
}

static void test_shape_arithmetic(void **state) {
  (void)state;
  /* Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [2], [-1])) of
   * x: [B, 6] is [B, 2, 3]. */
  static const int64_t zero = 0, two = 2, m1 = -1, ax0 = 0;
  IrValue *x = arg(IR_ELEM_F32, "[B]x6");
  IrOp *sh = mk(IR_OP_SHAPE, &x, 1, 1);
  infer_ok(sh);
  expect(sh->results[0], "tensor<2xi64>");
  IrValue *g_in[2] = {sh->results[0], ints(&zero, 1, true)};
  IrOp *g = mk(IR_OP_GATHER, g_in, 2, 1);
  infer_ok(g);
  expect(g->results[0], "tensor<i64>");
  IrValue *u_in[2] = {g->results[0], ints(&ax0, 1, false)};
  IrOp *u = mk(IR_OP_UNSQUEEZE, u_in, 2, 1);
  infer_ok(u);
  IrValue *c_in[3] = {u->results[0], ints(&two, 1, false), ints(&m1, 1, false)};
  IrOp *c = mk(IR_OP_CONCAT, c_in, 3, 1);
  set_int(c, "axis", 0);
  infer_ok(c);
  expect(c->results[0], "tensor<3xi64>");
  IrValue *r_in[2] = {x, c->results[0]};
  IrOp *r = mk(IR_OP_RESHAPE, r_in, 2, 1);
  infer_ok(r);
  expect(r->results[0], "tensor<[B]x2x3xf32>");
}

static void test_transpose_concat_flatten(void **state) {
  (void)state;
  IrValue *x = arg(IR_ELEM_F32, "2x3x4");
  IrOp *t = mk(IR_OP_TRANSPOSE, &x, 1, 1);
  infer_ok(t);
  expect(t->results[0], "tensor<4x3x2xf32>");
  IrValue *c_in[2] = {arg(IR_ELEM_F32, "2x3"), arg(IR_ELEM_F32, "2x5")};
  IrOp *c = mk(IR_OP_CONCAT, c_in, 2, 1);
  set_int(c, "axis", 1);
  infer_ok(c);
  expect(c->results[0], "tensor<2x8xf32>");
  IrValue *f_in = arg(IR_ELEM_F32, "2x3x4x5");
  IrOp *f = mk(IR_OP_FLATTEN, &f_in, 1, 1);
  set_int(f, "axis", 2);
  infer_ok(f);
  expect(f->results[0], "tensor<6x20xf32>");
}

static void test_squeeze_unsqueeze(void **state) {
  (void)state;
  static const int64_t a1[] = {1}, a2[] = {0, 3};
  IrValue *s_in[2] = {arg(IR_ELEM_F32, "2x1x3"), ints(a1, 1, false)};
  IrOp *s = mk(IR_OP_SQUEEZE, s_in, 2, 1);
  infer_ok(s);
  expect(s->results[0], "tensor<2x3xf32>");
  IrValue *u_in[2] = {arg(IR_ELEM_F32, "2x3"), ints(a2, 2, false)};
  IrOp *u = mk(IR_OP_UNSQUEEZE, u_in, 2, 1);
  infer_ok(u);
  expect(u->results[0], "tensor<1x2x3x1xf32>");
}

static void test_gather(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_F32, "5x6x7"), arg(IR_ELEM_I64, "2x3")};
  IrOp *op = mk(IR_OP_GATHER, in, 2, 1);
  set_int(op, "axis", 1);
  infer_ok(op);
  expect(op->results[0], "tensor<5x2x3x7xf32>");
}

static void test_slice(void **state) {
  (void)state;
  /* Axis 1 of size 20, [2, -1) step 3: 17 elements -> ceil(17 / 3) = 6. */
  static const int64_t st[] = {2}, en[] = {-1}, ax[] = {1}, sp[] = {3};
  IrValue *in[5] = {arg(IR_ELEM_F32, "10x20"), ints(st, 1, false), ints(en, 1, false), ints(ax, 1, false),
                    ints(sp, 1, false)};
  IrOp *op = mk(IR_OP_SLICE, in, 5, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<10x6xf32>");
  /* Reversal of the whole axis: start -1, end far below, step -1. */
  static const int64_t rst[] = {-1}, ren[] = {INT64_MIN}, rsp[] = {-1}, rax[] = {0};
  IrValue *rin[5] = {arg(IR_ELEM_F32, "10x[N]"), ints(rst, 1, false), ints(ren, 1, false), ints(rax, 1, false),
                     ints(rsp, 1, false)};
  op = mk(IR_OP_SLICE, rin, 5, 1);
  infer_ok(op);
  expect(op->results[0], "tensor<10x[N]xf32>");
}

static void test_split(void **state) {
  (void)state;
  IrValue *x = arg(IR_ELEM_F32, "6x4");
  IrOp *op = mk(IR_OP_SPLIT, &x, 1, 3);
  infer_ok(op);
  for (int i = 0; i < 3; i++) expect(op->results[i], "tensor<2x4xf32>");
  static const int64_t sizes[] = {1, 3};
  IrValue *in[2] = {arg(IR_ELEM_F32, "[N]x4"), ints(sizes, 2, false)};
  op = mk(IR_OP_SPLIT, in, 2, 2);
  set_int(op, "axis", 1);
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x1xf32>");
  expect(op->results[1], "tensor<[N]x3xf32>");
}

static void test_expand_tile_range(void **state) {
  (void)state;
  static const int64_t shape[] = {2, 1, 4}, reps[] = {2, 2}, r[] = {0, 10, 3};
  IrValue *e_in[2] = {arg(IR_ELEM_F32, "3x1"), ints(shape, 3, false)};
  IrOp *e = mk(IR_OP_EXPAND, e_in, 2, 1);
  infer_ok(e);
  expect(e->results[0], "tensor<2x3x4xf32>");
  IrValue *t_in[2] = {arg(IR_ELEM_F32, "2x3"), ints(reps, 2, false)};
  IrOp *t = mk(IR_OP_TILE, t_in, 2, 1);
  infer_ok(t);
  expect(t->results[0], "tensor<4x6xf32>");
  /* ceil((10 - 0) / 3) = 4 */
  IrValue *r_in[3] = {ints(&r[0], 1, true), ints(&r[1], 1, true), ints(&r[2], 1, true)};
  IrOp *rg = mk(IR_OP_RANGE, r_in, 3, 1);
  infer_ok(rg);
  expect(rg->results[0], "tensor<4xi64>");
}

static void test_pad_resize(void **state) {
  (void)state;
  static const int64_t pads[] = {1, 2, 3, 4};
  IrValue *p_in[2] = {arg(IR_ELEM_F32, "5x6"), ints(pads, 4, false)};
  IrOp *p = mk(IR_OP_PAD, p_in, 2, 1);
  infer_ok(p);
  expect(p->results[0], "tensor<9x12xf32>");
  static const float scales[] = {1.0f, 1.0f, 2.0f, 2.0f};
  IrValue *r_in[3] = {arg(IR_ELEM_F32, "1x3x5x5"), NULL, floats(scales, 4)};
  IrOp *r = mk(IR_OP_RESIZE, r_in, 3, 1);
  infer_ok(r);
  expect(r->results[0], "tensor<1x3x10x10xf32>");
}

static void test_constant_of_shape(void **state) {
  (void)state;
  static const int64_t shape[] = {2, 3};
  static const int32_t seven = 7;
  IrValue *s = ints(shape, 2, false);
  IrOp *op = mk(IR_OP_CONSTANT_OF_SHAPE, &s, 1, 1);
  int64_t one = 1;
  IrConst *k = ir_const_create(M, NULL, ir_type_static(M, IR_ELEM_I32, 1, &one), &seven, 4, false);
  IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = k};
  ir_op_set_attr(M, op, &a);
  infer_ok(op);
  expect(op->results[0], "tensor<2x3xi32>");
}

static void test_misc_data(void **state) {
  (void)state;
  static const int64_t k = 2;
  IrValue *t_in[2] = {arg(IR_ELEM_F32, "4x6"), ints(&k, 1, false)};
  IrOp *t = mk(IR_OP_TOP_K, t_in, 2, 2);
  infer_ok(t);
  expect(t->results[0], "tensor<4x2xf32>");
  expect(t->results[1], "tensor<4x2xi64>");
  IrValue *d_in = arg(IR_ELEM_F32, "1x8x3x3");
  IrOp *d = mk(IR_OP_DEPTH_TO_SPACE, &d_in, 1, 1);
  set_int(d, "blocksize", 2);
  infer_ok(d);
  expect(d->results[0], "tensor<1x2x6x6xf32>");
  IrValue *n_in = arg(IR_ELEM_F32, "3x4");
  IrOp *nz = mk(IR_OP_NON_ZERO, &n_in, 1, 1);
  infer_ok(nz);
  expect(nz->results[0], "tensor<2x?xi64>");
}

static void test_quant(void **state) {
  (void)state;
  IrValue *q_in[3] = {arg(IR_ELEM_F32, "[N]x8"), arg(IR_ELEM_F32, ""), arg(IR_ELEM_I8, "")};
  IrOp *q = mk(IR_OP_QUANTIZE_LINEAR, q_in, 3, 1);
  infer_ok(q);
  expect(q->results[0], "tensor<[N]x8xi8>");
  IrOp *dq_op;
  IrValue *dq_in[2] = {q->results[0], arg(IR_ELEM_F32, "")};
  dq_op = mk(IR_OP_DEQUANTIZE_LINEAR, dq_in, 2, 1);
  infer_ok(dq_op);
  expect(dq_op->results[0], "tensor<[N]x8xf32>");
  IrValue *x = arg(IR_ELEM_F32, "2x3");
  IrOp *dyn = mk(IR_OP_DYNAMIC_QUANTIZE_LINEAR, &x, 1, 3);
  infer_ok(dyn);
  expect(dyn->results[0], "tensor<2x3xu8>");
  expect(dyn->results[1], "tensor<f32>");
  expect(dyn->results[2], "tensor<u8>");
}

/* ---- control flow and whole modules ------------------------------------- */

static void test_if_join(void **state) {
  (void)state;
  IrValue *c = arg(IR_ELEM_BOOL, "");
  IrValue *a = arg(IR_ELEM_F32, "[N]x3"), *b = arg(IR_ELEM_F32, "[N]x4");
  IrOp *op = mk(IR_OP_IF, &c, 1, 1);
  ir_region_append(op->regions[0], ir_op_create(M, IR_OP_RETURN, &a, 1, NULL, 0, 0));
  ir_region_append(op->regions[1], ir_op_create(M, IR_OP_RETURN, &b, 1, NULL, 0, 0));
  infer_ok(op);
  expect(op->results[0], "tensor<[N]x?xf32>");
}

static void test_infer_module(void **state) {
  (void)state;
  IrValue *in[2] = {arg(IR_ELEM_F32, "[B]x3"), arg(IR_ELEM_F32, "3x2")};
  IrOp *mm = mk(IR_OP_MATMUL, in, 2, 1);
  IrOp *relu = mk(IR_OP_RELU, mm->results, 1, 1);
  ir_region_append(F->body, ir_op_create(M, IR_OP_RETURN, relu->results, 1, NULL, 0, 0));
  const IrType *unknown = ir_type_tensor(M, IR_ELEM_F32, -1, NULL);
  ir_func_set_results(F, &unknown, 1);
  assert_true(ir_infer_module(M, &D));
  expect(relu->results[0], "tensor<[B]x2xf32>");
  char *t = type_text(F->result_types[0]);
  assert_string_equal(t, "tensor<[B]x2xf32>");
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_broadcast_static, setup, teardown),
      cmocka_unit_test_setup_teardown(test_broadcast_symbolic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_broadcast_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_compare_and_where, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cast, setup, teardown),
      cmocka_unit_test_setup_teardown(test_matmul, setup, teardown),
      cmocka_unit_test_setup_teardown(test_matmul_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gemm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_einsum, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conv_channels_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conv_transpose, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_pool_ceil, setup, teardown),
      cmocka_unit_test_setup_teardown(test_global_pool, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reduce, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layer_norm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lstm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reshape_count_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shape_arithmetic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transpose_concat_flatten, setup, teardown),
      cmocka_unit_test_setup_teardown(test_squeeze_unsqueeze, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gather, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_split, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expand_tile_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pad_resize, setup, teardown),
      cmocka_unit_test_setup_teardown(test_constant_of_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_misc_data, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quant, setup, teardown),
      cmocka_unit_test_setup_teardown(test_if_join, setup, teardown),
      cmocka_unit_test_setup_teardown(test_infer_module, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
