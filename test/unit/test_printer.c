/* Unit tests for the .qir printer (compiler/ir/printer.c): modules built
 * through the ir.h API, checked against hand-written text for every
 * element type, quantized form, attribute kind, regions, locations, names
 * that need quotes, unnamed and duplicate values, the hex fallback and
 * weights externalization. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/text.h"

static const IrType *stype(IrModule *m, IrElem e, int32_t rank, int64_t d0, int64_t d1) {
  int64_t dims[2] = {d0, d1};
  return ir_type_static(m, e, rank, dims);
}

static void check_module(const IrModule *m, const char *want) {
  char *got = ir_print_to_string(m);
  if (strcmp(got, want) != 0) fprintf(stderr, "--- got:\n%s--- want:\n%s", got, want);
  assert_string_equal(got, want);
  free(got);
}

static void check_type(const IrType *t, const char *want) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print_type(f, t);
  fclose(f);
  assert_string_equal(buf, want);
  free(buf);
}

static void check_attr(const IrAttr *a, const char *want) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print_attr_value(f, a);
  fclose(f);
  assert_string_equal(buf, want);
  free(buf);
}

/* A pool constant of n elements of e from raw little-endian containers. */
static void add_const(IrModule *m, const char *name, IrElem e, const void *data, int64_t n) {
  ir_const_create(m, name, stype(m, e, 1, n, 0), data, (size_t)n * (size_t)ir_elem_bytes(e), false);
}

static void test_empty_modules(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  check_module(m, "module {\n}\n");
  ir_module_destroy(m);
  m = ir_module_create("m");
  IrAttr a = {.name = "producer", .kind = IR_ATTR_STRING, .u.s = "hand"};
  ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &a);
  IrAttr b = {.name = "opset", .kind = IR_ATTR_INT, .u.i = 17};
  ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &b);
  check_module(m, "module @m attributes {opset = 17, producer = \"hand\"} {\n}\n");
  ir_module_destroy(m);
}

static void test_types(void **state) {
  (void)state;
  IrModule *m = ir_module_create("t");
  IrDim dims[3] = {{1, NULL}, {-1, NULL}, {-1, "batch"}};
  check_type(ir_type_tensor(m, IR_ELEM_F32, 3, dims), "tensor<1x?x[batch]xf32>");
  check_type(ir_type_tensor(m, IR_ELEM_BF16, -1, NULL), "tensor<*xbf16>");
  check_type(ir_type_tensor(m, IR_ELEM_F32, 0, NULL), "tensor<f32>");
  check_type(stype(m, IR_ELEM_U2, 2, 0, 7), "tensor<0x7xu2>");
  check_type(stype(m, IR_ELEM_F8E4M3FNUZ, 1, 3, 0), "tensor<3xf8E4M3FNUZ>");

  float s1[1] = {0.5f};
  int64_t z1[1] = {-3};
  IrQuant q = {IR_ELEM_I8, IR_ELEM_F32, IR_QUANT_PER_TENSOR, 0, 0, 1, s1, z1};
  IrDim d48[2] = {{4, NULL}, {8, NULL}};
  check_type(ir_type_quant(m, &q, 2, d48), "tensor<4x8x!quant<i8:f32, 0.5:-3>>");

  float s2[2] = {0.5f, 0.25f};
  int64_t z2[2] = {0, 1};
  IrQuant qa = {IR_ELEM_U8, IR_ELEM_F16, IR_QUANT_PER_AXIS, 0, 0, 2, s2, z2};
  IrDim d28[2] = {{2, NULL}, {8, NULL}};
  check_type(ir_type_quant(m, &qa, 2, d28), "tensor<2x8x!quant<u8:f16:axis=0, {0.5:0, 0.25:1}>>");

  float s4[4] = {0.5f, 0.25f, 0.5f, 1.0f};
  int64_t z4[4] = {0, 0, 0, 0};
  IrQuant qb = {IR_ELEM_I4, IR_ELEM_F32, IR_QUANT_PER_BLOCK, 1, 32, 4, s4, z4};
  IrDim d264[2] = {{2, NULL}, {64, NULL}};
  check_type(ir_type_quant(m, &qb, 2, d264),
             "tensor<2x64x!quant<i4:f32:axis=1:block=32, {0.5:0, 0.25:0, 0.5:0, 1.0:0}>>");

  /* A per-axis scheme with one scale still uses braces; scales print as the
   * shortest float. */
  float s0[1] = {0.1f};
  int64_t z0[1] = {0};
  IrQuant q1 = {IR_ELEM_F8E4M3FN, IR_ELEM_BF16, IR_QUANT_PER_AXIS, 0, 0, 1, s0, z0};
  IrDim d1[1] = {{1, NULL}};
  check_type(ir_type_quant(m, &q1, 1, d1), "tensor<1x!quant<f8E4M3FN:bf16:axis=0, {0.1:0}>>");
  ir_module_destroy(m);
}

static void test_integer_and_bool_elements(void **state) {
  (void)state;
  IrModule *m = ir_module_create("e");
  const unsigned char b[3] = {1, 0, 1};
  add_const(m, "b", IR_ELEM_BOOL, b, 3);
  const unsigned char i2[4] = {0xFE, 0xFF, 0x00, 0x01}; /* -2 -1 0 1 */
  add_const(m, "i2", IR_ELEM_I2, i2, 4);
  const unsigned char u2[2] = {0, 3};
  add_const(m, "u2", IR_ELEM_U2, u2, 2);
  const unsigned char i4[2] = {0xF8, 0x07};
  add_const(m, "i4", IR_ELEM_I4, i4, 2);
  const unsigned char u4[2] = {15, 0};
  add_const(m, "u4", IR_ELEM_U4, u4, 2);
  const int8_t i8[2] = {-128, 127};
  add_const(m, "i8", IR_ELEM_I8, i8, 2);
  const uint8_t u8[1] = {255};
  add_const(m, "u8", IR_ELEM_U8, u8, 1);
  const int16_t i16[2] = {-32768, 32767};
  add_const(m, "i16", IR_ELEM_I16, i16, 2);
  const uint16_t u16[1] = {65535};
  add_const(m, "u16", IR_ELEM_U16, u16, 1);
  const int32_t i32[2] = {INT32_MIN, 42};
  add_const(m, "i32", IR_ELEM_I32, i32, 2);
  const uint32_t u32[1] = {UINT32_MAX};
  add_const(m, "u32", IR_ELEM_U32, u32, 1);
  const int64_t i64[2] = {INT64_MIN, INT64_MAX};
  add_const(m, "i64", IR_ELEM_I64, i64, 2);
  const uint64_t u64[1] = {UINT64_MAX};
  add_const(m, "u64", IR_ELEM_U64, u64, 1);
  check_module(m, "module @e {\n"
                  "  const @b : tensor<3xbool> = dense<[true, false, true]>\n"
                  "  const @i2 : tensor<4xi2> = dense<[-2, -1, 0, 1]>\n"
                  "  const @u2 : tensor<2xu2> = dense<[0, 3]>\n"
                  "  const @i4 : tensor<2xi4> = dense<[-8, 7]>\n"
                  "  const @u4 : tensor<2xu4> = dense<[15, 0]>\n"
                  "  const @i8 : tensor<2xi8> = dense<[-128, 127]>\n"
                  "  const @u8 : tensor<1xu8> = dense<[255]>\n"
                  "  const @i16 : tensor<2xi16> = dense<[-32768, 32767]>\n"
                  "  const @u16 : tensor<1xu16> = dense<[65535]>\n"
                  "  const @i32 : tensor<2xi32> = dense<[-2147483648, 42]>\n"
                  "  const @u32 : tensor<1xu32> = dense<[4294967295]>\n"
                  "  const @i64 : tensor<2xi64> = dense<[-9223372036854775808, 9223372036854775807]>\n"
                  "  const @u64 : tensor<1xu64> = dense<[18446744073709551615]>\n"
                  "}\n");
  ir_module_destroy(m);
}

static void test_float_elements(void **state) {
  (void)state;
  IrModule *m = ir_module_create("f");
  const float f32[4] = {0.1f, -0.0f, 1e20f, 3.0f};
  add_const(m, "f32", IR_ELEM_F32, f32, 4);
  const double f64[2] = {0.1, (double)0.1f};
  add_const(m, "f64", IR_ELEM_F64, f64, 2);
  /* 1, inf, -inf, canonical NaN, NaN payload, -0, smallest subnormal */
  const uint16_t f16[7] = {0x3C00, 0x7C00, 0xFC00, 0x7E00, 0x7E01, 0x8000, 0x0001};
  add_const(m, "f16", IR_ELEM_F16, f16, 7);
  const uint16_t bf16[3] = {0x4049, 0x7FC0, 0xFFC0};
  add_const(m, "bf16", IR_ELEM_BF16, bf16, 3);
  const uint8_t e4m3fn[5] = {0x7E, 0x01, 0x7F, 0xFF, 0x80};
  add_const(m, "a", IR_ELEM_F8E4M3FN, e4m3fn, 5);
  const uint8_t e4m3fnuz[3] = {0x7F, 0x80, 0x40};
  add_const(m, "b", IR_ELEM_F8E4M3FNUZ, e4m3fnuz, 3);
  const uint8_t e5m2[4] = {0x7B, 0x7C, 0x7D, 0x7F};
  add_const(m, "c", IR_ELEM_F8E5M2, e5m2, 4);
  const uint8_t e5m2fnuz[2] = {0x7F, 0x80};
  add_const(m, "d", IR_ELEM_F8E5M2FNUZ, e5m2fnuz, 2);
  const uint8_t e3m2[3] = {0x1F, 0x3F, 0x01};
  add_const(m, "e", IR_ELEM_F6E3M2, e3m2, 3);
  const uint8_t e2m3[2] = {0x1F, 0x01};
  add_const(m, "g", IR_ELEM_F6E2M3, e2m3, 2);
  const uint8_t e2m1[4] = {0x7, 0xF, 0x1, 0x5};
  add_const(m, "h", IR_ELEM_F4E2M1, e2m1, 4);
  const uint8_t e8m0[4] = {0x7F, 0xFF, 0x00, 0x80};
  add_const(m, "k", IR_ELEM_E8M0, e8m0, 4);
  check_module(m, "module @f {\n"
                  "  const @f32 : tensor<4xf32> = dense<[0.1, -0.0, 1e+20, 3.0]>\n"
                  "  const @f64 : tensor<2xf64> = dense<[0.1, 0.10000000149011612]>\n"
                  "  const @f16 : tensor<7xf16> = dense<[1.0, inf, -inf, nan, 0x7E01, -0.0, 5.9604645e-08]>\n"
                  "  const @bf16 : tensor<3xbf16> = dense<[3.140625, nan, 0xFFC0]>\n"
                  "  const @a : tensor<5xf8E4M3FN> = dense<[448.0, 0.001953125, nan, 0xFF, -0.0]>\n"
                  "  const @b : tensor<3xf8E4M3FNUZ> = dense<[240.0, nan, 1.0]>\n"
                  "  const @c : tensor<4xf8E5M2> = dense<[57344.0, inf, 0x7D, nan]>\n"
                  "  const @d : tensor<2xf8E5M2FNUZ> = dense<[57344.0, nan]>\n"
                  "  const @e : tensor<3xf6E3M2> = dense<[28.0, -28.0, 0.0625]>\n"
                  "  const @g : tensor<2xf6E2M3> = dense<[7.5, 0.125]>\n"
                  "  const @h : tensor<4xf4E2M1> = dense<[6.0, -6.0, 0.5, 3.0]>\n"
                  "  const @k : tensor<4xe8m0> = dense<[1.0, nan, 5.877472e-39, 2.0]>\n"
                  "}\n");
  ir_module_destroy(m);
}

static void test_splat_and_empty(void **state) {
  (void)state;
  IrModule *m = ir_module_create("s");
  const float half = 0.5f;
  ir_const_create(m, "s", stype(m, IR_ELEM_F32, 2, 2, 3), &half, 4, true);
  ir_const_create(m, "e", stype(m, IR_ELEM_F32, 1, 0, 0), NULL, 0, false);
  const int8_t q[2] = {5, -5};
  float sc[1] = {0.05f};
  int64_t zp[1] = {-3};
  IrQuant qq = {IR_ELEM_I8, IR_ELEM_F32, IR_QUANT_PER_TENSOR, 0, 0, 1, sc, zp};
  IrDim d[1] = {{2, NULL}};
  ir_const_create(m, "q", ir_type_quant(m, &qq, 1, d), q, 2, false);
  check_module(m, "module @s {\n"
                  "  const @s : tensor<2x3xf32> = dense<0.5>\n"
                  "  const @e : tensor<0xf32> = dense<[]>\n"
                  "  const @q : tensor<2x!quant<i8:f32, 0.05:-3>> = dense<[5, -5]>\n"
                  "}\n");
  ir_module_destroy(m);
}

static void test_attribute_kinds(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrAttr a;
  a = (IrAttr){.name = "x", .kind = IR_ATTR_INT, .u.i = -7};
  check_attr(&a, "-7");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_FLOAT, .u.f = 2.0f};
  check_attr(&a, "2.0");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_FLOAT, .u.f = 1e-7f};
  check_attr(&a, "1e-07");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_STRING, .u.s = "q\"b\\n\nt\t\x01\xC3\xA9~"};
  check_attr(&a, "\"q\\\"b\\\\n\\nt\\t\\x01\\xC3\\xA9~\"");
  const int64_t ints[3] = {1, -2, 3};
  a = (IrAttr){.name = "x", .kind = IR_ATTR_INTS, .u.ints = {ints, 3}};
  check_attr(&a, "[1, -2, 3]");
  const float floats[3] = {1.0f, 2.5f, -0.0f};
  a = (IrAttr){.name = "x", .kind = IR_ATTR_FLOATS, .u.floats = {floats, 3}};
  check_attr(&a, "[1.0, 2.5, -0.0]");
  const char *strs[2] = {"a", ""};
  a = (IrAttr){.name = "x", .kind = IR_ATTR_STRINGS, .u.strings = {strs, 2}};
  check_attr(&a, "[\"a\", \"\"]");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_INTS};
  check_attr(&a, "[] : ints");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_FLOATS};
  check_attr(&a, "[] : floats");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_STRINGS};
  check_attr(&a, "[] : strings");
  const int64_t two[2] = {3, 4};
  IrConst *inl = ir_const_create(m, NULL, stype(m, IR_ELEM_I64, 1, 2, 0), two, 16, false);
  a = (IrAttr){.name = "x", .kind = IR_ATTR_TENSOR, .u.tensor = inl};
  check_attr(&a, "dense<[3, 4]> : tensor<2xi64>");
  IrConst *pooled = ir_const_create(m, "w.0", stype(m, IR_ELEM_I64, 1, 2, 0), two, 16, false);
  a = (IrAttr){.name = "x", .kind = IR_ATTR_TENSOR, .u.tensor = pooled};
  check_attr(&a, "@w.0");
  IrConst *odd = ir_const_create(m, "my weight", stype(m, IR_ELEM_I64, 1, 2, 0), two, 16, false);
  a = (IrAttr){.name = "x", .kind = IR_ATTR_TENSOR, .u.tensor = odd};
  check_attr(&a, "@\"my weight\"");
  a = (IrAttr){.name = "x", .kind = IR_ATTR_TYPE, .u.type = ir_type_tensor(m, IR_ELEM_F16, -1, NULL)};
  check_attr(&a, "tensor<*xf16>");
  ir_module_destroy(m);
}

/* The docs/ir.md example, built by hand: functions, an If with two
 * regions, a pool constant, locations, attributes in name order. */
static void test_function_with_regions(void **state) {
  (void)state;
  IrModule *m = ir_module_create("tiny");
  IrAttr prod = {.name = "producer", .kind = IR_ATTR_STRING, .u.s = "hand"};
  ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &prod);
  const float w[4] = {1.0f, -2.0f, 0.5f, 4.0f};
  IrConst *cw = ir_const_create(m, "w", stype(m, IR_ELEM_F32, 2, 2, 2), w, sizeof w, false);
  IrDim bd[2] = {{-1, "batch"}, {2, NULL}};
  const IrType *bt = ir_type_tensor(m, IR_ELEM_F32, 2, bd);
  const IrType *wt = cw->type, *boolt = ir_type_tensor(m, IR_ELEM_BOOL, 0, NULL);

  IrFunc *f = ir_func_create(m, "main");
  IrValue *x = ir_region_add_arg(m, f->body, "x", bt);
  IrValue *c = ir_region_add_arg(m, f->body, "c", boolt);
  ir_func_set_results(f, &bt, 1);
  IrOp *k = ir_op_create(m, IR_OP_CONSTANT, NULL, 0, &wt, 1, 0);
  IrAttr va = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = cw};
  ir_op_set_attr(m, k, &va);
  ir_value_set_name(m, k->results[0], "w");
  ir_region_append(f->body, k);
  IrValue *ops2[2] = {x, k->results[0]};
  IrOp *mm = ir_op_create(m, IR_OP_MATMUL, ops2, 2, &bt, 1, 0);
  ir_value_set_name(m, mm->results[0], "y");
  mm->src_name = "fc1";
  mm->src = diag_loc("tiny.onnx", 3, 1);
  ir_region_append(f->body, mm);
  IrOp *iff = ir_op_create(m, IR_OP_IF, &c, 1, &bt, 1, 2);
  ir_value_set_name(m, iff->results[0], "z");
  ir_region_append(f->body, iff);
  IrValue *y = mm->results[0];
  IrOp *relu = ir_op_create(m, IR_OP_RELU, &y, 1, &bt, 1, 0);
  ir_value_set_name(m, relu->results[0], "r");
  ir_region_append(iff->regions[0], relu);
  IrValue *r = relu->results[0];
  ir_region_append(iff->regions[0], ir_op_create(m, IR_OP_RETURN, &r, 1, NULL, 0, 0));
  ir_region_append(iff->regions[1], ir_op_create(m, IR_OP_RETURN, &y, 1, NULL, 0, 0));
  IrValue *z = iff->results[0];
  ir_region_append(f->body, ir_op_create(m, IR_OP_RETURN, &z, 1, NULL, 0, 0));

  /* A second function: no arguments, no results, an empty return (whose
   * location is not printed: the grammar has none for return), a location
   * with only a file and one with only a name. */
  IrFunc *g = ir_func_create(m, "g");
  IrOp *ret = ir_op_create(m, IR_OP_RETURN, NULL, 0, NULL, 0, 0);
  ret->src = diag_loc("g.onnx", 10, 2);
  ir_region_append(g->body, ret);
  IrFunc *h = ir_func_create(m, "h.1");
  IrValue *a = ir_region_add_arg(m, h->body, "a", boolt);
  ir_func_set_results(h, &boolt, 1);
  IrOp *id = ir_op_create(m, IR_OP_IDENTITY, &a, 1, &boolt, 1, 0);
  id->src_name = "node \"1\"";
  ir_region_append(h->body, id);
  IrOp *id2 = ir_op_create(m, IR_OP_IDENTITY, &id->results[0], 1, &boolt, 1, 0);
  id2->src = diag_loc("h.onnx", 7, 3);
  ir_region_append(h->body, id2);
  IrValue *idr = id2->results[0];
  ir_region_append(h->body, ir_op_create(m, IR_OP_RETURN, &idr, 1, NULL, 0, 0));

  check_module(m, "module @tiny attributes {producer = \"hand\"} {\n"
                  "  const @w : tensor<2x2xf32> = dense<[1.0, -2.0, 0.5, 4.0]>\n"
                  "\n"
                  "  func @main(%x: tensor<[batch]x2xf32>, %c: tensor<bool>) -> (tensor<[batch]x2xf32>) {\n"
                  "    %w = Constant() {value = @w} : tensor<2x2xf32>\n"
                  "    %y = MatMul(%x, %w) : tensor<[batch]x2xf32> loc(\"fc1\" at \"tiny.onnx\":3:1)\n"
                  "    %z = If(%c) : tensor<[batch]x2xf32> {\n"
                  "    ^then_branch:\n"
                  "      %r = Relu(%y) : tensor<[batch]x2xf32>\n"
                  "      return %r\n"
                  "    ^else_branch:\n"
                  "      return %y\n"
                  "    }\n"
                  "    return %z\n"
                  "  }\n"
                  "\n"
                  "  func @g() -> () {\n"
                  "    return\n"
                  "  }\n"
                  "\n"
                  "  func @h.1(%a: tensor<bool>) -> (tensor<bool>) {\n"
                  "    %0 = Identity(%a) : tensor<bool> loc(\"node \\\"1\\\"\")\n"
                  "    %1 = Identity(%0) : tensor<bool> loc(\"h.onnx\":7:3)\n"
                  "    return %1\n"
                  "  }\n"
                  "}\n");
  ir_module_destroy(m);
}

/* Loop with region arguments, nested two deep; several results; absent
 * operands; attributes of several kinds on one op, one needing quotes. */
static void test_nested_regions_and_attrs(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  const IrType *i64 = ir_type_tensor(m, IR_ELEM_I64, 0, NULL);
  const IrType *bl = ir_type_tensor(m, IR_ELEM_BOOL, 0, NULL);
  const IrType *ft = stype(m, IR_ELEM_F32, 1, 4, 0);
  IrFunc *f = ir_func_create(m, "loop");
  IrValue *n = ir_region_add_arg(m, f->body, "n", i64);
  IrValue *c = ir_region_add_arg(m, f->body, "cond", bl);
  IrValue *v = ir_region_add_arg(m, f->body, "v", ft);
  const IrType *rts[2] = {ft, ft};
  ir_func_set_results(f, rts, 2);
  IrValue *lops[3] = {n, c, v};
  IrOp *loop = ir_op_create(m, IR_OP_LOOP, lops, 3, rts, 2, 1);
  ir_value_set_name(m, loop->results[0], "out");
  ir_value_set_name(m, loop->results[1], "scan");
  ir_region_append(f->body, loop);
  IrRegion *body = loop->regions[0];
  IrValue *it = ir_region_add_arg(m, body, "i", i64);
  IrValue *bc = ir_region_add_arg(m, body, "c", bl);
  IrValue *acc = ir_region_add_arg(m, body, "acc", ft);
  (void)it;
  IrOp *inner = ir_op_create(m, IR_OP_IF, &bc, 1, &ft, 1, 2);
  ir_region_append(body, inner);
  IrValue *clip_in[3] = {acc, NULL, v};
  IrOp *clip = ir_op_create(m, IR_OP_CLIP, clip_in, 3, &ft, 1, 0);
  ir_region_append(inner->regions[0], clip);
  IrValue *cr = clip->results[0];
  ir_region_append(inner->regions[0], ir_op_create(m, IR_OP_RETURN, &cr, 1, NULL, 0, 0));
  ir_region_append(inner->regions[1], ir_op_create(m, IR_OP_RETURN, &acc, 1, NULL, 0, 0));
  IrValue *ir0 = inner->results[0];
  IrValue *bret[3] = {bc, ir0, ir0};
  ir_region_append(body, ir_op_create(m, IR_OP_RETURN, bret, 3, NULL, 0, 0));
  IrValue *fret[2] = {loop->results[0], loop->results[1]};
  ir_region_append(f->body, ir_op_create(m, IR_OP_RETURN, fret, 2, NULL, 0, 0));

  const int64_t pads[2] = {0, 1};
  IrAttr at[] = {
      {.name = "pads", .kind = IR_ATTR_INTS, .u.ints = {pads, 2}},
      {.name = "auto_pad", .kind = IR_ATTR_STRING, .u.s = "SAME_UPPER"},
      {.name = "alpha", .kind = IR_ATTR_FLOAT, .u.f = 0.25f},
      {.name = "weird name", .kind = IR_ATTR_INT, .u.i = 1},
      {.name = "to", .kind = IR_ATTR_TYPE, .u.type = i64},
  };
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) ir_op_set_attr(m, clip, &at[i]);

  check_module(m, "module {\n"
                  "  func @loop(%n: tensor<i64>, %cond: tensor<bool>, %v: tensor<4xf32>) -> (tensor<4xf32>, "
                  "tensor<4xf32>) {\n"
                  "    %out, %scan = Loop(%n, %cond, %v) : tensor<4xf32>, tensor<4xf32> {\n"
                  "    ^body(%i: tensor<i64>, %c: tensor<bool>, %acc: tensor<4xf32>):\n"
                  "      %0 = If(%c) : tensor<4xf32> {\n"
                  "      ^then_branch:\n"
                  "        %1 = Clip(%acc, none, %v) {alpha = 0.25, auto_pad = \"SAME_UPPER\", pads = [0, 1], "
                  "to = tensor<i64>, \"weird name\" = 1} : tensor<4xf32>\n"
                  "        return %1\n"
                  "      ^else_branch:\n"
                  "        return %acc\n"
                  "      }\n"
                  "      return %c, %0, %0\n"
                  "    }\n"
                  "    return %out, %scan\n"
                  "  }\n"
                  "}\n");
  ir_module_destroy(m);
}

/* Quoted names, unnamed values numbered around taken numbers, duplicate
 * names made unique without clashing with later names. */
static void test_value_names(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  const IrType *t = ir_type_tensor(m, IR_ELEM_F32, 0, NULL);
  IrFunc *f = ir_func_create(m, "\xC3\xA9t\xC3\xA9");
  IrValue *x = ir_region_add_arg(m, f->body, "/conv1/Conv_output_0", t);
  IrValue *y = ir_region_add_arg(m, f->body, "input.1", t);
  ir_func_set_results(f, &t, 1);
  IrValue *prev = x;
  /* names: NULL, "1", NULL, "a", "a", "a_1", NULL, "", "a b" */
  const char *names[] = {NULL, "1", NULL, "a", "a", "a_1", NULL, "", "a b"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    IrValue *ins[2] = {prev, y};
    IrOp *op = ir_op_create(m, IR_OP_ADD, ins, 2, &t, 1, 0);
    if (names[i]) ir_value_set_name(m, op->results[0], names[i]);
    ir_region_append(f->body, op);
    prev = op->results[0];
  }
  ir_region_append(f->body, ir_op_create(m, IR_OP_RETURN, &prev, 1, NULL, 0, 0));
  check_module(m, "module {\n"
                  "  func @\"\\xC3\\xA9t\\xC3\\xA9\"(%\"/conv1/Conv_output_0\": tensor<f32>, %input.1: tensor<f32>) "
                  "-> (tensor<f32>) {\n"
                  "    %0 = Add(%\"/conv1/Conv_output_0\", %input.1) : tensor<f32>\n"
                  "    %1 = Add(%0, %input.1) : tensor<f32>\n"
                  "    %2 = Add(%1, %input.1) : tensor<f32>\n"
                  "    %a = Add(%2, %input.1) : tensor<f32>\n"
                  "    %a_2 = Add(%a, %input.1) : tensor<f32>\n"
                  "    %a_1 = Add(%a_2, %input.1) : tensor<f32>\n"
                  "    %3 = Add(%a_1, %input.1) : tensor<f32>\n"
                  "    %4 = Add(%3, %input.1) : tensor<f32>\n"
                  "    %\"a b\" = Add(%4, %input.1) : tensor<f32>\n"
                  "    return %\"a b\"\n"
                  "  }\n"
                  "}\n");
  ir_module_destroy(m);
}

/* Many values with one name: suffixes count up (and stay fast). */
static void test_many_duplicate_names(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  const IrType *t = ir_type_tensor(m, IR_ELEM_F32, 0, NULL);
  IrFunc *f = ir_func_create(m, "f");
  IrValue *prev = ir_region_add_arg(m, f->body, "v", t);
  ir_func_set_results(f, &t, 1);
  for (int i = 0; i < 20000; i++) {
    IrOp *op = ir_op_create(m, IR_OP_RELU, &prev, 1, &t, 1, 0);
    ir_value_set_name(m, op->results[0], i == 2 ? "v_3" : "v");
    ir_region_append(f->body, op);
    prev = op->results[0];
  }
  ir_region_append(f->body, ir_op_create(m, IR_OP_RETURN, &prev, 1, NULL, 0, 0));
  char *s = ir_print_to_string(m);
  assert_non_null(strstr(s, "    %v_1 = Relu(%v) : tensor<f32>\n"));
  assert_non_null(strstr(s, "    %v_2 = Relu(%v_1) : tensor<f32>\n"));
  assert_non_null(strstr(s, "    %v_3 = Relu(%v_2) : tensor<f32>\n")); /* its own name */
  assert_non_null(strstr(s, "    %v_4 = Relu(%v_3) : tensor<f32>\n")); /* v_3 is taken */
  assert_non_null(strstr(s, "    return %v_20000\n"));
  free(s);
  ir_module_destroy(m);
}

static char tmpdir[512];

static void test_weights_externalization(void **state) {
  (void)state;
  const char *base = getenv("QUENCH_TEST_TMP");
  snprintf(tmpdir, sizeof tmpdir, "%s/printerXXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(tmpdir));
  char path[600];
  snprintf(path, sizeof path, "%s/m.qir.weights", tmpdir);

  IrModule *m = ir_module_create("w");
  const float big[4] = {1, 2, 3, 4}, small[1] = {5};
  ir_const_create(m, "big", stype(m, IR_ELEM_F32, 1, 4, 0), big, 16, false);
  ir_const_create(m, "small", stype(m, IR_ELEM_F32, 1, 1, 0), small, 4, false);
  ir_const_create(m, "splat", stype(m, IR_ELEM_F32, 1, 100, 0), small, 4, true);
  ir_const_create(m, "big2", stype(m, IR_ELEM_F32, 1, 4, 0), big, 16, false);

  Diag d;
  diag_init(&d, stderr);
  WeightsWriter *w = weights_writer_open(path, "m.qir.weights", &d);
  assert_non_null(w);
  IrPrintOptions o = {.inline_limit = 4, .weights = w};
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_true(ir_print_module(out, m, &o, &d));
  fclose(out);
  assert_true(weights_writer_commit(w));
  weights_writer_free(w);
  assert_string_equal(buf, "module @w {\n"
                           "  const @big : tensor<4xf32> = external<\"m.qir.weights\", 64, 16>\n"
                           "  const @small : tensor<1xf32> = dense<[5.0]>\n"
                           "  const @splat : tensor<100xf32> = dense<5.0>\n"
                           "  const @big2 : tensor<4xf32> = external<\"m.qir.weights\", 128, 16>\n"
                           "}\n");
  free(buf);

  WeightsFile *wf = weights_file_load(path, &d, diag_loc(NULL, 0, 0));
  assert_non_null(wf);
  assert_memory_equal(weights_file_slice(wf, 64, 16), big, 16);
  assert_memory_equal(weights_file_slice(wf, 128, 16), big, 16);
  weights_file_free(wf);
  /* Without options everything stays inline. */
  char *s = ir_print_to_string(m);
  assert_non_null(strstr(s, "const @big : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>\n"));
  free(s);
  ir_module_destroy(m);
  remove(path);
  rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_modules),
      cmocka_unit_test(test_types),
      cmocka_unit_test(test_integer_and_bool_elements),
      cmocka_unit_test(test_float_elements),
      cmocka_unit_test(test_splat_and_empty),
      cmocka_unit_test(test_attribute_kinds),
      cmocka_unit_test(test_function_with_regions),
      cmocka_unit_test(test_nested_regions_and_attrs),
      cmocka_unit_test(test_value_names),
      cmocka_unit_test(test_many_duplicate_names),
      cmocka_unit_test(test_weights_externalization),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
