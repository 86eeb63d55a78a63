/* ONNX export (compiler/onnx/export.c): the bytes written for sub-byte
 * constants, checked against packings worked out by hand from onnx.proto
 * (raw_data: 4-bit types two per byte and 2-bit types four per byte, low
 * bits first), the opset and IR version those types raise the model to, and
 * the refusals (a quench.* op, a type ONNX lacks) that must leave no file.
 * The written model is read back with the protobuf-c bindings, not with the
 * importer, so the test does not trust the code it checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <onnx.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/text.h"
#include "onnx/export.h"
#include "support/fileio.h"

static char out_path[512];

static IrModule *parse(const char *text) {
  Diag d;
  diag_init(&d, stderr);
  IrModule *m = ir_parse(&d, "<test>", text, strlen(text), NULL);
  assert_non_null(m);
  return m;
}

static Onnx__ModelProto *export_and_read(IrModule *m) {
  Diag d;
  diag_init(&d, stderr);
  assert_true(onnx_export(m, out_path, &d));
  size_t len;
  char *buf = fileio_read_path(out_path, "model", &len, &d, diag_loc(out_path, 0, 0));
  assert_non_null(buf);
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf);
  free(buf);
  assert_non_null(mp);
  return mp;
}

static const Onnx__TensorProto *init_named(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (strcmp(g->initializer[i]->name, name) == 0) return g->initializer[i];
  fail_msg("no initializer '%s'", name);
  return NULL;
}

static void check_raw(const Onnx__TensorProto *t, int dtype, const uint8_t *want, size_t n) {
  assert_int_equal(t->data_type, dtype);
  assert_true(t->has_raw_data);
  assert_int_equal(t->raw_data.len, n);
  assert_memory_equal(t->raw_data.data, want, n);
}

static int64_t default_opset(const Onnx__ModelProto *mp) {
  for (size_t i = 0; i < mp->n_opset_import; i++)
    if (!mp->opset_import[i]->domain || !*mp->opset_import[i]->domain) return mp->opset_import[i]->version;
  return -1;
}

/* int4 [-8, 7, -1, 0, 3]: nibbles 8 7 F 0 3 -> 0x78 0x0F 0x03 (the odd last
 * byte's high nibble is 0). uint4 [15, 0, 9]: 0x0F 0x09. int4 and a blocked
 * DequantizeLinear need opset 21 and IR 10. */
static void test_int4_bytes(void **state) {
  (void)state;
  IrModule *m = parse("module @m attributes {onnx.ir_version = 7, opset.ai.onnx = 13} {\n"
                      "  const @a : tensor<5xi4> = dense<[-8, 7, -1, 0, 3]>\n"
                      "  const @b : tensor<3xu4> = dense<[15, 0, 9]>\n"
                      "  func @main() -> (tensor<5xi4>, tensor<3xu4>) {\n"
                      "    %a = Constant() {value = @a} : tensor<5xi4>\n"
                      "    %b = Constant() {value = @b} : tensor<3xu4>\n"
                      "    return %a, %b\n"
                      "  }\n"
                      "}\n");
  Onnx__ModelProto *mp = export_and_read(m);
  static const uint8_t a[] = {0x78, 0x0F, 0x03}, b[] = {0x0F, 0x09};
  check_raw(init_named(mp->graph, "a"), 22, a, sizeof a);
  check_raw(init_named(mp->graph, "b"), 21, b, sizeof b);
  assert_int_equal(default_opset(mp), 21);
  assert_int_equal(mp->ir_version, 10);
  onnx__model_proto__free_unpacked(mp, NULL);
  ir_module_destroy(m);
}

/* f4E2M1 [1.0, -6.0, 0.5] = codes 0x2, 0xF, 0x1 -> 0xF2 0x01 (opset 23,
 * IR 11). int2 [-2, 1, -1, 0, 1] = fields 2 1 3 0 1 -> 0x36 0x01 (opset 25,
 * IR 13). A splat is written in full: u4 splat 5 over 3 -> 0x55 0x05. */
static void test_f4_i2_splat_bytes(void **state) {
  (void)state;
  IrModule *m = parse("module @m attributes {opset.ai.onnx = 17} {\n"
                      "  const @f : tensor<3xf4E2M1> = dense<[1.0, -6.0, 0.5]>\n"
                      "  const @i : tensor<5xi2> = dense<[-2, 1, -1, 0, 1]>\n"
                      "  const @s : tensor<3xu4> = dense<5>\n"
                      "  func @main() -> (tensor<3xf4E2M1>, tensor<5xi2>, tensor<3xu4>) {\n"
                      "    %f = Constant() {value = @f} : tensor<3xf4E2M1>\n"
                      "    %i = Constant() {value = @i} : tensor<5xi2>\n"
                      "    %s = Constant() {value = @s} : tensor<3xu4>\n"
                      "    return %f, %i, %s\n"
                      "  }\n"
                      "}\n");
  Onnx__ModelProto *mp = export_and_read(m);
  static const uint8_t f[] = {0xF2, 0x01}, i[] = {0x36, 0x01}, s[] = {0x55, 0x05};
  check_raw(init_named(mp->graph, "f"), 23, f, sizeof f);
  check_raw(init_named(mp->graph, "i"), 26, i, sizeof i);
  check_raw(init_named(mp->graph, "s"), 21, s, sizeof s);
  assert_int_equal(default_opset(mp), 25);
  assert_int_equal(mp->ir_version, 13);
  onnx__model_proto__free_unpacked(mp, NULL);
  ir_module_destroy(m);
}

/* A refused module writes nothing, not even over an existing file. */
static void expect_refused(const char *text, const char *needle) {
  IrModule *m = parse(text);
  FILE *f = fopen(out_path, "wb");
  assert_non_null(f);
  fputs("old", f);
  fclose(f);
  char msg[4096] = {0};
  FILE *err = fmemopen(msg, sizeof msg - 1, "w");
  Diag d;
  diag_init(&d, err);
  assert_false(onnx_export(m, out_path, &d));
  fclose(err);
  assert_non_null(strstr(msg, needle));
  size_t len;
  Diag quiet;
  diag_init(&quiet, NULL);
  char *buf = fileio_read_path(out_path, "model", &len, &quiet, diag_loc(out_path, 0, 0));
  assert_non_null(buf);
  assert_string_equal(buf, "old");
  free(buf);
  ir_module_destroy(m);
}

static void test_refusals(void **state) {
  (void)state;
  expect_refused("module {\n  func @main(%x: tensor<4xi32>) -> (tensor<4xi8>) {\n"
                 "    %y = quench.Requantize(%x) {multiplier = [1073741824], shift = [31]} : tensor<4xi8>\n"
                 "    return %y\n  }\n}\n",
                 "op 'quench.Requantize': 'quench.Requantize' is a quench op with no ONNX form");
  expect_refused("module {\n  func @main(%x: tensor<4xf6E2M3>) -> (tensor<4xf6E2M3>) {\n"
                 "    %y = Identity(%x) : tensor<4xf6E2M3>\n    return %y\n  }\n}\n",
                 "function argument 'x' has type f6E2M3, which ONNX cannot hold");
}

int main(void) {
  const char *tmp = getenv("QUENCH_TEST_TMP");
  snprintf(out_path, sizeof out_path, "%s/test_export_%ld.onnx", tmp ? tmp : "/tmp", (long)getpid());
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_int4_bytes),
      cmocka_unit_test(test_f4_i2_splat_bytes),
      cmocka_unit_test(test_refusals),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  remove(out_path);
  return rc;
}
