/* Unit tests for the .qir parser: the IR structures it builds (types, dims,
 * quantization parameters, attributes, constants, regions, forward
 * references, source positions) and its failure behaviour (one error, NULL,
 * no crash on truncated or NUL-laden input). Expected values come from
 * docs/ir.md and hand computation, never from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/text.h"
#include "ir/weights.h"

static IrModule *parse(const char *text, Diag *d) {
  diag_init(d, NULL);
  return ir_parse(d, "t.qir", text, strlen(text), NULL);
}

/* Parses text that must fail; returns the diagnostics' error count. */
static int parse_errors(const char *text, size_t len) {
  Diag d;
  diag_init(&d, NULL);
  IrModule *m = ir_parse(&d, "t.qir", text, len, NULL);
  assert_null(m);
  return d.errors;
}

static IrOp *nth_op(IrRegion *r, int n) {
  IrOp *op = r->first;
  while (op && n-- > 0) op = op->next;
  assert_non_null(op);
  return op;
}

static void test_types(void **state) {
  (void)state;
  Diag d;
  IrModule *m = parse("module {\n"
                      "  func @f(%a: tensor<2x?x[batch]xf32>, %b: tensor<*xi8>, %c: tensor<bool>,\n"
                      "          %d: tensor< 3 x 4 x f8E5M2 >) -> (tensor<f64>) {\n"
                      "    return\n"
                      "  }\n"
                      "}\n",
                      &d);
  assert_non_null(m);
  assert_int_equal(d.errors, 0);
  assert_null(m->name);
  IrFunc *f = m->funcs[0];
  assert_string_equal(f->name, "f");
  assert_int_equal(f->body->nargs, 4);
  const IrType *a = f->body->args[0]->type;
  assert_int_equal(a->elem, IR_ELEM_F32);
  assert_int_equal(a->rank, 3);
  assert_int_equal(a->dims[0].size, 2);
  assert_null(a->dims[0].sym);
  assert_true(a->dims[1].size < 0);
  assert_null(a->dims[1].sym);
  assert_true(a->dims[2].size < 0);
  assert_string_equal(a->dims[2].sym, "batch");
  assert_null(a->quant);
  const IrType *b = f->body->args[1]->type;
  assert_int_equal(b->elem, IR_ELEM_I8);
  assert_int_equal(b->rank, -1);
  const IrType *c = f->body->args[2]->type;
  assert_int_equal(c->elem, IR_ELEM_BOOL);
  assert_int_equal(c->rank, 0);
  const IrType *dt = f->body->args[3]->type;
  assert_int_equal(dt->elem, IR_ELEM_F8E5M2);
  assert_int_equal(dt->rank, 2);
  assert_int_equal(dt->dims[0].size, 3);
  assert_int_equal(dt->dims[1].size, 4);
  assert_int_equal(f->nresults, 1);
  assert_int_equal(f->result_types[0]->elem, IR_ELEM_F64);
  assert_int_equal(f->result_types[0]->rank, 0);
  ir_module_destroy(m);
}

static void test_quant_types(void **state) {
  (void)state;
  Diag d;
  IrModule *m = parse("module @q {\n"
                      "  func @f(%a: tensor<4x8x!quant<i8:f32, 0.05:-3>>,\n"
                      "          %b: tensor<3x8x!quant<u8:f16:axis=0, {0.5, 0.25:128, 0.125:7}>>,\n"
                      "          %c: tensor<2x64x!quant<i4:bf16:axis=1:block=32, {0.5:0, 0.25:1, 2.0:-2, 1.0}>>)"
                      " -> () {\n"
                      "    return\n"
                      "  }\n"
                      "}\n",
                      &d);
  assert_non_null(m);
  assert_string_equal(m->name, "q");
  IrRegion *body = m->funcs[0]->body;
  const IrQuant *qa = body->args[0]->type->quant;
  assert_non_null(qa);
  assert_int_equal(body->args[0]->type->elem, IR_ELEM_I8); /* the storage type */
  assert_int_equal(qa->storage, IR_ELEM_I8);
  assert_int_equal(qa->expressed, IR_ELEM_F32);
  assert_int_equal(qa->kind, IR_QUANT_PER_TENSOR);
  assert_int_equal(qa->num, 1);
  assert_true(qa->scales[0] == 0.05f);
  assert_int_equal(qa->zero_points[0], -3);

  const IrQuant *qb = body->args[1]->type->quant;
  assert_int_equal(qb->kind, IR_QUANT_PER_AXIS);
  assert_int_equal(qb->storage, IR_ELEM_U8);
  assert_int_equal(qb->expressed, IR_ELEM_F16);
  assert_int_equal(qb->axis, 0);
  assert_int_equal(qb->num, 3);
  assert_true(qb->scales[0] == 0.5f && qb->scales[1] == 0.25f && qb->scales[2] == 0.125f);
  assert_int_equal(qb->zero_points[0], 0); /* omitted: 0 */
  assert_int_equal(qb->zero_points[1], 128);
  assert_int_equal(qb->zero_points[2], 7);

  const IrQuant *qc = body->args[2]->type->quant;
  assert_int_equal(qc->kind, IR_QUANT_PER_BLOCK);
  assert_int_equal(qc->storage, IR_ELEM_I4);
  assert_int_equal(qc->expressed, IR_ELEM_BF16);
  assert_int_equal(qc->axis, 1);
  assert_int_equal(qc->block_size, 32);
  assert_int_equal(qc->num, 4);
  assert_int_equal(qc->zero_points[2], -2);
  assert_true(qc->scales[2] == 2.0f);
  ir_module_destroy(m);
}

static void test_constants(void **state) {
  (void)state;
  Diag d;
  IrModule *m = parse("module {\n"
                      "  const @a : tensor<3xi4> = dense<[-3, 7, -8]>\n"
                      "  const @b : tensor<2xf16> = dense<[1.5, -inf]>\n"
                      "  const @c : tensor<1000x1000xf32> = dense<0.5>\n"
                      "  const @d : tensor<2xbool> = dense<[true, 0]>\n"
                      "  const @e : tensor<i16> = dense<-2>\n"
                      "}\n",
                      &d);
  assert_non_null(m);
  assert_int_equal(m->nconsts, 5);
  const IrConst *a = m->consts[0];
  assert_string_equal(a->name, "a");
  assert_false(a->splat);
  assert_int_equal(a->nbytes, 3);
  const unsigned char *ab = a->data;
  /* One byte per i4, the value sign-extended in its container. */
  assert_int_equal(ab[0], 0xFD);
  assert_int_equal(ab[1], 0x07);
  assert_int_equal(ab[2], 0xF8);
  const IrConst *b = m->consts[1];
  assert_int_equal(b->nbytes, 4);
  /* f16: 1.5 = 0x3E00, -inf = 0xFC00. */
  assert_int_equal(ir_const_bits(b, 0), 0x3E00);
  assert_int_equal(ir_const_bits(b, 1), 0xFC00);
  const IrConst *c = m->consts[2];
  assert_true(c->splat);
  assert_int_equal(c->nbytes, 4);
  assert_int_equal(ir_const_bits(c, 999999), 0x3F000000); /* 0.5f */
  const IrConst *dc = m->consts[3];
  assert_int_equal(ir_const_bits(dc, 0), 1);
  assert_int_equal(ir_const_bits(dc, 1), 0);
  const IrConst *e = m->consts[4];
  assert_true(e->splat); /* dense<x> is a splat, rank 0 included */
  assert_int_equal(ir_const_bits(e, 0), 0xFFFE);
  ir_module_destroy(m);
}

static void test_attributes(void **state) {
  (void)state;
  Diag d;
  IrModule *m = parse("module attributes {z = \"last\", a = 1} {\n"
                      "  const @w : tensor<2xi64> = dense<[5, 6]>\n"
                      "  func @f() -> (tensor<2xi64>) {\n"
                      "    %x = Constant() {value = @w, f = 0.1, fs = [1, 2.5], is = [3, -4], ss = [\"p\", \"q\\x41\"],\n"
                      "                     e = [] : floats, ty = tensor<2xi8>, t = dense<7> : tensor<i32>} : tensor<2xi64>\n"
                      "    return %x\n"
                      "  }\n"
                      "}\n",
                      &d);
  assert_non_null(m);
  assert_int_equal(m->nattrs, 2);
  assert_string_equal(m->attrs[0].name, "a");
  assert_int_equal(m->attrs[0].kind, IR_ATTR_INT);
  assert_int_equal(m->attrs[0].u.i, 1);
  assert_string_equal(m->attrs[1].name, "z");
  assert_string_equal(m->attrs[1].u.s, "last");

  IrOp *op = nth_op(m->funcs[0]->body, 0);
  assert_int_equal(op->kind, IR_OP_CONSTANT);
  assert_int_equal(op->nattrs, 8);
  /* Sorted by name. */
  const char *order[] = {"e", "f", "fs", "is", "ss", "t", "ty", "value"};
  for (int i = 0; i < 8; i++) assert_string_equal(op->attrs[i].name, order[i]);
  const IrAttr *e = ir_op_attr(op, "e");
  assert_int_equal(e->kind, IR_ATTR_FLOATS);
  assert_int_equal(e->u.floats.n, 0);
  const IrAttr *f = ir_op_attr(op, "f");
  assert_int_equal(f->kind, IR_ATTR_FLOAT);
  assert_true(f->u.f == 0.1f);
  const IrAttr *fs = ir_op_attr(op, "fs");
  assert_int_equal(fs->kind, IR_ATTR_FLOATS); /* one float literal makes the list floats */
  assert_int_equal(fs->u.floats.n, 2);
  assert_true(fs->u.floats.v[0] == 1.0f && fs->u.floats.v[1] == 2.5f);
  const IrAttr *is = ir_op_attr(op, "is");
  assert_int_equal(is->kind, IR_ATTR_INTS);
  assert_int_equal(is->u.ints.v[1], -4);
  const IrAttr *ss = ir_op_attr(op, "ss");
  assert_int_equal(ss->kind, IR_ATTR_STRINGS);
  assert_string_equal(ss->u.strings.v[1], "qA");
  const IrAttr *t = ir_op_attr(op, "t");
  assert_int_equal(t->kind, IR_ATTR_TENSOR);
  assert_null(t->u.tensor->name);
  assert_int_equal(t->u.tensor->type->elem, IR_ELEM_I32);
  assert_int_equal(ir_const_bits(t->u.tensor, 0), 7);
  const IrAttr *ty = ir_op_attr(op, "ty");
  assert_int_equal(ty->kind, IR_ATTR_TYPE);
  assert_int_equal(ty->u.type->elem, IR_ELEM_I8);
  assert_int_equal(ty->u.type->dims[0].size, 2);
  const IrAttr *v = ir_op_attr(op, "value");
  assert_int_equal(v->kind, IR_ATTR_TENSOR);
  assert_ptr_equal(v->u.tensor, m->consts[0]);
  ir_module_destroy(m);
}

static void test_regions_and_forward_refs(void **state) {
  (void)state;
  Diag d;
  IrModule *m = parse("module {\n"
                      "  func @f(%x: tensor<2xf32>, %c: tensor<bool>, %n: tensor<i64>) -> (tensor<2xf32>) {\n"
                      "    %b = Relu(%a) : tensor<2xf32>\n"
                      "    %a = Neg(%x) : tensor<2xf32>\n"
                      "    %r = If(%c) : tensor<2xf32> {\n"
                      "    ^else_branch:\n"
                      "      return %b\n"
                      "    ^then_branch:\n"
                      "      %in = Abs(%a) : tensor<2xf32>\n"
                      "      return %in\n"
                      "    }\n"
                      "    %l = Loop(%n, %c, %r) : tensor<2xf32> {\n"
                      "    ^body(%i: tensor<i64>, %cond: tensor<bool>, %acc: tensor<2xf32>):\n"
                      "      %s = Add(%acc, %x) : tensor<2xf32>\n"
                      "      return %cond, %s\n"
                      "    }\n"
                      "    return %l\n"
                      "  }\n"
                      "}\n",
                      &d);
  assert_non_null(m);
  IrRegion *body = m->funcs[0]->body;
  IrOp *relu = nth_op(body, 0), *neg = nth_op(body, 1), *iff = nth_op(body, 2), *loop = nth_op(body, 3);
  /* The forward use resolves to Neg's result, which has that one use. */
  assert_ptr_equal(ir_op_operand(relu, 0), neg->results[0]);
  assert_string_equal(neg->results[0]->name, "a");
  assert_int_equal(ir_value_num_uses(neg->results[0]), 2); /* Relu and Abs */
  /* Regions sit in the op table's order whatever the text order. */
  assert_int_equal(iff->nregions, 2);
  assert_string_equal(iff->regions[0]->name, "then_branch");
  assert_string_equal(iff->regions[1]->name, "else_branch");
  IrOp *abs = iff->regions[0]->first;
  assert_int_equal(abs->kind, IR_OP_ABS);
  assert_ptr_equal(ir_op_operand(abs, 0), neg->results[0]);
  IrOp *ret_else = iff->regions[1]->first;
  assert_int_equal(ret_else->kind, IR_OP_RETURN);
  assert_ptr_equal(ir_op_operand(ret_else, 0), relu->results[0]);
  assert_ptr_equal(iff->regions[0]->parent_op, iff);
  assert_ptr_equal(iff->regions[0]->func, m->funcs[0]);
  /* Region arguments. */
  IrRegion *lb = loop->regions[0];
  assert_int_equal(lb->nargs, 3);
  assert_string_equal(lb->args[2]->name, "acc");
  assert_int_equal(lb->args[2]->kind, IR_VALUE_ARG);
  IrOp *add = lb->first;
  assert_ptr_equal(ir_op_operand(add, 0), lb->args[2]);
  assert_ptr_equal(ir_op_operand(add, 1), body->args[0]); /* outer capture */
  IrOp *ret = body->last;
  assert_int_equal(ret->kind, IR_OP_RETURN);
  assert_ptr_equal(ir_op_operand(ret, 0), loop->results[0]);
  ir_module_destroy(m);
}

static void test_positions_and_locs(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, NULL);
  const char *text = "module {\n"
                     "  func @f(%x: tensor<f32>) -> () {\n"
                     "    %y = Relu(%x) : tensor<f32> loc(\"relu\" at \"m.onnx\":7:3)\n"
                     "    Identity(none) loc(\"only.onnx\":1:2)\n"
                     "    return\n"
                     "  }\n"
                     "}\n";
  IrParseOptions po = {NULL, 100};
  IrModule *m = ir_parse(&d, "t.qir", text, strlen(text), &po);
  assert_non_null(m);
  IrFunc *f = m->funcs[0];
  assert_int_equal(f->pos.line, 102);
  assert_int_equal(f->pos.col, 3);
  IrOp *relu = nth_op(f->body, 0);
  assert_string_equal(relu->pos.file, "t.qir");
  assert_int_equal(relu->pos.line, 103);
  assert_int_equal(relu->pos.col, 5);
  assert_int_equal(relu->results[0]->loc.line, 103);
  assert_int_equal(relu->results[0]->loc.col, 5);
  assert_int_equal(f->body->args[0]->loc.col, 11);
  assert_string_equal(relu->src_name, "relu");
  assert_string_equal(relu->src.file, "m.onnx");
  assert_int_equal(relu->src.line, 7);
  assert_int_equal(relu->src.col, 3);
  IrOp *id = nth_op(f->body, 1);
  assert_null(id->src_name);
  assert_string_equal(id->src.file, "only.onnx");
  assert_int_equal(id->noperands, 1);
  assert_null(ir_op_operand(id, 0));
  assert_int_equal(id->nresults, 0);
  ir_module_destroy(m);
}

static void test_errors_return_null(void **state) {
  (void)state;
  static const char *bad[] = {
      "module { func @f() -> () { %y = Foo() : tensor<f32>\n return } }",
      "module { func @f(%x: tensor<2xf33>) -> () { return } }",
      "module { func @f() -> () { return %q } }",
      "module { const @c : tensor<2xi8> = dense<[1, 128]> }",
      "module { const @c : tensor<2xi8> = dense<[1]> }",
      "module { const @c : tensor<2xi8> = external<\"../x\", 0, 2> }",
      "module attributes {a = 1, a = 2} { }",
      "module { func @f() -> () { return } func @f() -> () { return } }",
      "module { \"unterminated }",
      "module { } trailing",
      "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(parse_errors(bad[i], strlen(bad[i])), 1);
  /* An embedded NUL byte is an error character, not the end of input. */
  static const char nul[] = "module {\0}";
  assert_int_equal(parse_errors(nul, sizeof nul - 1), 1);
  /* The text need not be NUL-terminated: a length that stops short is the end. */
  const char *full = "module { }";
  assert_int_equal(parse_errors(full, strlen(full) - 1), 1);
}

/* Every strict prefix of a valid module is an error (its closing brace is
 * missing), and none may crash or leak. */
static void test_every_prefix_fails_cleanly(void **state) {
  (void)state;
  const char *text = "module @m attributes {p = [\"a\"], q = [] : ints} {\n"
                     "  const @w : tensor<2xf16> = dense<[1.5, 0x7E01]>\n"
                     "  func @f(%x: tensor<2x!quant<i8:f32:axis=0, {0.5:1, 0.25}>>, %c: tensor<bool>) -> (tensor<2xf16>) {\n"
                     "    %k = Constant() {value = @w, t = dense<[1, 2]> : tensor<2xi8>} : tensor<2xf16>\n"
                     "    %r = If(%c) : tensor<2xf16> loc(\"n\" at \"f\":1:2) {\n"
                     "    ^then_branch:\n"
                     "      return %k\n"
                     "    ^else_branch:\n"
                     "      %\"q 1\" = Neg(%k) : tensor<2xf16>\n"
                     "      return %\"q 1\"\n"
                     "    }\n"
                     "    return %r\n"
                     "  }\n"
                     "}\n";
  size_t n = strlen(text);
  Diag d;
  diag_init(&d, NULL);
  IrModule *m = ir_parse(&d, "t.qir", text, n, NULL);
  assert_non_null(m);
  ir_module_destroy(m);
  size_t close = strrchr(text, '}') - text;
  for (size_t len = 0; len <= close; len++) assert_int_equal(parse_errors(text, len), 1);
}

static void test_external_weights(void **state) {
  (void)state;
  const char *tmp = getenv("QUENCH_TEST_TMP");
  if (!tmp) tmp = "/tmp";
  char path[512];
  snprintf(path, sizeof path, "%s/test_parser.weights", tmp);
  Diag d;
  diag_init(&d, NULL);
  WeightsWriter *w = weights_writer_open(path, "test_parser.weights", &d);
  assert_non_null(w);
  const int16_t vals[3] = {-1, 2, 300};
  int64_t off = weights_writer_add(w, vals, sizeof vals);
  assert_true(off >= 16);
  assert_true(weights_writer_commit(w));
  weights_writer_free(w);

  char text[512];
  snprintf(text, sizeof text,
           "module {\n"
           "  const @a : tensor<3xi16> = external<\"test_parser.weights\", %lld, 6>\n"
           "  const @b : tensor<3xi16> = external<\"./test_parser.weights\", %lld, 6>\n"
           "}\n",
           (long long)off, (long long)off);
  IrParseOptions po = {tmp, 0};
  IrModule *m = ir_parse(&d, "t.qir", text, strlen(text), &po);
  assert_non_null(m);
  assert_int_equal(m->nconsts, 2);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(m->consts[i]->nbytes, 6);
    assert_memory_equal(m->consts[i]->data, vals, 6);
  }
  ir_module_destroy(m);

  /* Past the end of the file. */
  snprintf(text, sizeof text, "module {\n  const @a : tensor<3xi16> = external<\"test_parser.weights\", %lld, 6>\n}\n",
           (long long)off + 4096);
  diag_init(&d, NULL);
  assert_null(ir_parse(&d, "t.qir", text, strlen(text), &po));
  assert_int_equal(d.errors, 1);
  remove(path);
}

static void test_parse_file(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, NULL);
  char *text = (char *)1;
  assert_null(ir_parse_file(&d, "/nonexistent-dir/x.qir", &text));
  assert_null(text);
  assert_int_equal(d.errors, 1);

  const char *tmp = getenv("QUENCH_TEST_TMP");
  if (!tmp) tmp = "/tmp";
  char path[512];
  snprintf(path, sizeof path, "%s/test_parser_file.qir", tmp);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("module @from_file {\n}\n", f);
  fclose(f);
  diag_init(&d, NULL);
  IrModule *m = ir_parse_file(&d, path, &text);
  assert_non_null(m);
  assert_string_equal(m->name, "from_file");
  assert_non_null(text);
  assert_int_equal(d.nsources, 1);
  ir_module_destroy(m);
  free(text);
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_types),
      cmocka_unit_test(test_quant_types),
      cmocka_unit_test(test_constants),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_regions_and_forward_refs),
      cmocka_unit_test(test_positions_and_locs),
      cmocka_unit_test(test_errors_return_null),
      cmocka_unit_test(test_every_prefix_fails_cleanly),
      cmocka_unit_test(test_external_weights),
      cmocka_unit_test(test_parse_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
