/* Unit tests for tensor files (compiler/interp/tensor_io.c and
 * compiler/onnx/tensor_proto.c): .npy headers of versions 1-3 built by hand
 * from numpy/lib/format.py's description, every supported dtype through a
 * round trip, refusals (Fortran order, unknown dtype, truncation, bad
 * magic), TensorProto raw_data packing of sub-byte types, typed-field
 * decoding, names, and files written without leftovers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <onnx.pb-c.h>

#include "interp/tensor_io.h"
#include "onnx/tensor_proto.h"

static Diag quiet(void) {
  Diag d;
  diag_init(&d, NULL);
  return d;
}

/* A .npy file: magic, version, little-endian header length (2 bytes for
 * version 1, 4 otherwise), the dict, then `data`. */
static size_t make_npy(uint8_t *out, int major, const char *dict, const void *data, size_t n) {
  size_t hl = strlen(dict), at = 0;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (uint8_t)major;
  out[7] = 0;
  at = 8;
  out[at++] = (uint8_t)hl;
  out[at++] = (uint8_t)(hl >> 8);
  if (major > 1) out[at++] = 0, out[at++] = 0;
  memcpy(out + at, dict, hl);
  memcpy(out + at + hl, data, n);
  return at + hl + n;
}

static void test_npy_versions(void **state) {
  (void)state;
  const int32_t v[6] = {1, -2, 3, -4, 5, 2147483647};
  uint8_t buf[512];
  for (int major = 1; major <= 3; major++) {
    size_t n = make_npy(buf, major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }  \n", v, sizeof v);
    Diag d = quiet();
    Tensor *t = tensor_npy_decode(buf, n, "x.npy", &d);
    assert_non_null(t);
    assert_int_equal(t->elem, IR_ELEM_I32);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 3);
    assert_memory_equal(t->data, v, sizeof v);
    tensor_free(t);
  }
  /* Keys in another order, double quotes, a scalar shape. */
  const double x = 2.5;
  size_t n = make_npy(buf, 1, "{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f8\"}\n", &x, 8);
  Diag d = quiet();
  Tensor *t = tensor_npy_decode(buf, n, "s.npy", &d);
  assert_non_null(t);
  assert_int_equal(t->rank, 0);
  assert_int_equal(t->numel, 1);
  assert_float_equal(tensor_get_f64(t, 0), 2.5, 0);
  tensor_free(t);
}

static void test_npy_big_endian_and_bool(void **state) {
  (void)state;
  const uint8_t be[4] = {0x00, 0x00, 0x01, 0x02}; /* >i4 258 */
  uint8_t buf[256];
  size_t n = make_npy(buf, 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }\n", be, 4);
  Diag d = quiet();
  Tensor *t = tensor_npy_decode(buf, n, "b.npy", &d);
  assert_non_null(t);
  assert_int_equal(tensor_get_i64(t, 0), 258);
  tensor_free(t);
  const uint8_t bits[3] = {0, 1, 7}; /* any nonzero byte is True */
  n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", bits, 3);
  t = tensor_npy_decode(buf, n, "b.npy", &d);
  assert_non_null(t);
  assert_int_equal(t->elem, IR_ELEM_BOOL);
  assert_int_equal(((uint8_t *)t->data)[2], 1);
  tensor_free(t);
}

static void test_npy_refusals(void **state) {
  (void)state;
  const float v[4] = {1, 2, 3, 4};
  uint8_t buf[256];
  struct {
    const char *dict;
    size_t data;
  } bad[] = {
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 16},  /* Fortran order */
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", 16},   /* complex */
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }\n", 12},   /* strings */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 12}, /* truncated data */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 16 - 16}, /* no data */
      {"{'descr': '<f4', 'shape': (4,), }\n", 16},                           /* missing key */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }\n", 16},  /* negative dim */
      {"['descr', '<f4']\n", 16},                                             /* not a dict */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = make_npy(buf, 1, bad[i].dict, v, bad[i].data);
    Diag d = quiet();
    assert_null(tensor_npy_decode(buf, n, "bad.npy", &d));
    assert_int_equal(d.errors, 1);
  }
  Diag d = quiet();
  assert_null(tensor_npy_decode("\x93NUMPZ\x01\x00\x00\x00", 10, "m.npy", &d));
  size_t n = make_npy(buf, 4, "{}", v, 0);
  assert_null(tensor_npy_decode(buf, n, "v.npy", &d));
  /* Header length beyond the file. */
  n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", v, 0);
  assert_null(tensor_npy_decode(buf, n - 10, "t.npy", &d));
  assert_int_equal(d.errors, 3);
}

/* Every .npy dtype survives encode -> decode; the header is 64-aligned and
 * ends in a newline, as numpy writes it. */
static void test_npy_round_trip(void **state) {
  (void)state;
  const IrElem elems[] = {IR_ELEM_F16, IR_ELEM_F32, IR_ELEM_F64, IR_ELEM_I8,  IR_ELEM_U8,  IR_ELEM_I16,
                          IR_ELEM_U16, IR_ELEM_I32, IR_ELEM_U32, IR_ELEM_I64, IR_ELEM_U64, IR_ELEM_BOOL};
  const int64_t dims[3] = {2, 1, 3};
  for (size_t k = 0; k < sizeof elems / sizeof elems[0]; k++) {
    Tensor *t = tensor_new(elems[k], 3, dims);
    for (int64_t i = 0; i < t->numel; i++)
      tensor_set_f64(t, i, elems[k] == IR_ELEM_BOOL ? (double)(i & 1) : (double)(i * 3 % 7));
    Diag d = quiet();
    size_t n;
    uint8_t *buf = tensor_npy_encode(t, &n, &d);
    assert_non_null(buf);
    size_t hl = (size_t)buf[8] | (size_t)buf[9] << 8;
    assert_int_equal((10 + hl) % 64, 0);
    assert_int_equal(buf[10 + hl - 1], '\n');
    Tensor *r = tensor_npy_decode(buf, n, "rt.npy", &d);
    assert_non_null(r);
    assert_int_equal(r->elem, t->elem);
    assert_true(tensor_same_shape(r, t));
    assert_memory_equal(r->data, t->data, t->nbytes);
    tensor_free(r);
    tensor_free(t);
    free(buf);
  }
  int64_t one = 1;
  Tensor *t = tensor_new(IR_ELEM_BF16, 1, &one);
  Diag d = quiet();
  size_t n;
  assert_null(tensor_npy_encode(t, &n, &d));
  assert_int_equal(d.errors, 1);
  tensor_free(t);
}

/* i4 values [1, -2, 7] pack low nibble first: bytes 0xE1, 0x07. */
static void test_pb_subbyte_packing(void **state) {
  (void)state;
  int64_t n3 = 3;
  Tensor *t = tensor_new(IR_ELEM_I4, 1, &n3);
  tensor_set_i64(t, 0, 1);
  tensor_set_i64(t, 1, -2);
  tensor_set_i64(t, 2, 7);
  Diag d = quiet();
  size_t len;
  uint8_t *buf = onnx_tensor_encode(t, "q", &len, &d);
  assert_non_null(buf);
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
  assert_non_null(tp);
  assert_int_equal(tp->data_type, 22); /* INT4 in onnx.proto 1.16+ */
  assert_int_equal(tp->raw_data.len, 2);
  assert_int_equal(tp->raw_data.data[0], 0xE1);
  assert_int_equal(tp->raw_data.data[1], 0x07);
  assert_string_equal(tp->name, "q");
  onnx__tensor_proto__free_unpacked(tp, NULL);
  char *name;
  Tensor *r = onnx_tensor_decode(buf, len, NULL, &name, &d);
  assert_non_null(r);
  assert_string_equal(name, "q");
  assert_int_equal(tensor_get_i64(r, 1), -2);
  assert_int_equal(tensor_get_i64(r, 2), 7);
  free(name);
  free(buf);
  tensor_free(r);
  tensor_free(t);
}

/* float_data (the typed field) decodes like raw_data; malformed bytes and
 * string tensors are refused. */
static void test_pb_typed_and_refusals(void **state) {
  (void)state;
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[2] = {1, 2};
  float vals[2] = {0.25f, -8};
  tp.n_dims = 2;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.n_float_data = 2;
  tp.float_data = vals;
  uint8_t buf[128];
  size_t len = onnx__tensor_proto__pack(&tp, buf);
  Diag d = quiet();
  char *name = (char *)1;
  Tensor *t = onnx_tensor_decode(buf, len, NULL, &name, &d);
  assert_non_null(t);
  assert_null(name);
  assert_int_equal(t->rank, 2);
  assert_float_equal(tensor_get_f64(t, 1), -8, 0);
  tensor_free(t);
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
  len = onnx__tensor_proto__pack(&tp, buf);
  assert_null(onnx_tensor_decode(buf, len, NULL, NULL, &d));
  assert_null(onnx_tensor_decode("\xff\xff\xff", 3, NULL, NULL, &d));
  assert_int_equal(d.errors, 2);
  int64_t one = 1;
  Tensor *f6 = tensor_new(IR_ELEM_F6E3M2, 1, &one);
  assert_null(onnx_tensor_encode(f6, NULL, &len, &d));
  assert_int_equal(d.errors, 3);
  tensor_free(f6);
}

static void test_files(void **state) {
  (void)state;
  const int64_t dims[2] = {3, 2};
  Tensor *t = tensor_new(IR_ELEM_F32, 2, dims);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, (double)i - 2.5);
  /* A private folder, removed at the end: rmdir fails if a file is left. */
  const char *base = getenv("QUENCH_TEST_TMP");
  char tmpdir[512], pb[600], npy[600], missing[600];
  snprintf(tmpdir, sizeof tmpdir, "%s/tensorioXXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(tmpdir));
  snprintf(pb, sizeof pb, "%s/x.pb", tmpdir);
  snprintf(npy, sizeof npy, "%s/x.npy", tmpdir);
  snprintf(missing, sizeof missing, "%s/none.npy", tmpdir);
  assert_int_equal(tensor_file_format(npy), TENSOR_FILE_NPY);
  assert_int_equal(tensor_file_format(pb), TENSOR_FILE_PB);
  Diag d = quiet();
  assert_true(tensor_write_file(pb, t, "x", TENSOR_FILE_PB, &d));
  assert_true(tensor_write_file(npy, t, "x", TENSOR_FILE_NPY, &d));
  for (int k = 0; k < 2; k++) {
    char *name;
    Tensor *r = tensor_read_file(k ? npy : pb, &name, &d);
    assert_non_null(r);
    assert_memory_equal(r->data, t->data, t->nbytes);
    if (k) assert_null(name);
    else assert_string_equal(name, "x");
    free(name);
    tensor_free(r);
  }
  assert_null(tensor_read_file(missing, NULL, &d));
  assert_int_equal(d.errors, 1);
  assert_int_equal(unlink(pb), 0);
  assert_int_equal(unlink(npy), 0);
  assert_int_equal(rmdir(tmpdir), 0);
  tensor_free(t);
}

static void test_fits_type(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrDim dims[2] = {{-1, "N"}, {3, NULL}};
  const IrType *ty = ir_type_tensor(m, IR_ELEM_F32, 2, dims);
  const int64_t good[2] = {5, 3}, wrong[2] = {5, 4};
  Tensor *a = tensor_new(IR_ELEM_F32, 2, good), *b = tensor_new(IR_ELEM_F32, 2, wrong);
  Tensor *c = tensor_new(IR_ELEM_F64, 2, good);
  char why[256];
  assert_true(tensor_fits_type(a, ty, why, sizeof why));
  assert_false(tensor_fits_type(b, ty, why, sizeof why));
  assert_string_equal(why, "shape f32[5x4] does not match the model's f32[[N]x3]");
  assert_false(tensor_fits_type(c, ty, why, sizeof why));
  assert_string_equal(why, "element type f64, the model expects f32[[N]x3]");
  tensor_free(a);
  tensor_free(b);
  tensor_free(c);
  ir_module_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_npy_versions),       cmocka_unit_test(test_npy_big_endian_and_bool),
      cmocka_unit_test(test_npy_refusals),       cmocka_unit_test(test_npy_round_trip),
      cmocka_unit_test(test_pb_subbyte_packing), cmocka_unit_test(test_pb_typed_and_refusals),
      cmocka_unit_test(test_files),              cmocka_unit_test(test_fits_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
