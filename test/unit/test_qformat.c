/* Unit tests for the format table (compiler/quant/qformat.c): the table's
 * rows, every code of every format round-tripping, hand-worked rounding and
 * saturation cases, and MXFP4, MXFP8, MXINT8 and NVFP4 blocks worked out by
 * hand in the comments (OCP MX v1.0 §6.3; NVFP4 two-level scale). Expected
 * values are derived from the specs' grids, never from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/floatfmt.h"
#include "quant/qformat.h"

static const QFormat *fmt(const char *name) {
  const QFormat *f = q_format_find(name);
  if (!f) fail_msg("format %s missing", name);
  return f;
}

static void test_table_rows(void **state) {
  (void)state;
  int n = 0;
  const QFormat *t = q_format_table(&n);
  assert_int_equal(n, 28);
  /* The name list is the table, in order. */
  char buf[512] = "";
  for (int i = 0; i < n; i++) {
    if (i) strcat(buf, ", ");
    strcat(buf, t[i].name);
    assert_ptr_equal(q_format_find(t[i].name), &t[i]);
  }
  assert_string_equal(buf, q_format_names());
  assert_null(q_format_find("I8")); /* case-sensitive */
  assert_null(q_format_find("int8"));
  assert_null(q_format_find(""));

  const QFormat *f = fmt("i3");
  assert_int_equal(f->kind, Q_FMT_INT);
  assert_int_equal(f->bits, 3);
  assert_int_equal(f->elem, IR_ELEM_I8);
  assert_int_equal(f->qmin, -4);
  assert_int_equal(f->qmax, 3);
  f = fmt("u7");
  assert_int_equal(f->elem, IR_ELEM_U8);
  assert_int_equal(f->qmin, 0);
  assert_int_equal(f->qmax, 127);
  assert_int_equal(fmt("i4")->elem, IR_ELEM_I4);
  assert_int_equal(fmt("u2")->elem, IR_ELEM_U2);
  assert_int_equal(fmt("i16")->qmin, -32768);
  assert_int_equal(fmt("f6E2M3")->kind, Q_FMT_FLOAT);
  assert_int_equal(fmt("f6E2M3")->bits, 6);

  f = fmt("mxfp4");
  assert_int_equal(f->kind, Q_FMT_BLOCK);
  assert_int_equal(f->block, 32);
  assert_int_equal(f->elem, IR_ELEM_F4E2M1);
  assert_int_equal(f->scale_elem, IR_ELEM_E8M0);
  assert_int_equal(f->emax_elem, 2);
  assert_false(f->tensor_scale);
  assert_int_equal(fmt("mxfp8_e4m3")->emax_elem, 8);
  assert_int_equal(fmt("mxfp8_e5m2")->emax_elem, 15);
  assert_int_equal(fmt("mxfp6_e3m2")->emax_elem, 4);
  assert_int_equal(fmt("mxfp6_e2m3")->emax_elem, 2);
  f = fmt("mxint8");
  assert_int_equal(f->elem, IR_ELEM_I8);
  assert_int_equal(f->emax_elem, 0);
  assert_int_equal(f->qmin, -127);
  assert_int_equal(f->qmax, 127);
  f = fmt("nvfp4");
  assert_int_equal(f->block, 16);
  assert_int_equal(f->bits, 4);
  assert_int_equal(f->elem, IR_ELEM_F4E2M1);
  assert_int_equal(f->scale_elem, IR_ELEM_F8E4M3FN);
  assert_true(f->tensor_scale);
}

/* Largest magnitudes from ALGORITHMS.md §13 and OCP MX v1.0 §5.3. */
static void test_format_max(void **state) {
  (void)state;
  static const struct {
    const char *name;
    double max;
  } cases[] = {{"i2", 2},          {"i3", 4},        {"i8", 128},         {"u3", 7},           {"u8", 255},
               {"i16", 32768},     {"f8E4M3FN", 448}, {"f8E5M2", 57344},  {"f6E3M2", 28},      {"f6E2M3", 7.5},
               {"f4E2M1", 6},      {"e8m0", 0x1p127}, {"mxfp4", 6},       {"mxfp8_e4m3", 448}, {"mxfp6_e2m3", 7.5},
               {"mxint8", 1.984375}, {"nvfp4", 6}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (q_format_max(fmt(cases[i].name)) != cases[i].max)
      fail_msg("%s: max %.17g, want %.17g", cases[i].name, q_format_max(fmt(cases[i].name)), cases[i].max);
}

/* Every valid code of every format of at most 8 storage bits (and i16's
 * range) decodes and re-encodes to itself; NaN codes go to the canonical NaN.
 * -0 keeps its sign: float formats with a -0 code round-trip it. E5M2's
 * ±Inf codes are not valid (encode saturates, so never produces them). */
static void test_every_code_round_trips(void **state) {
  (void)state;
  int n = 0;
  const QFormat *t = q_format_table(&n);
  for (int i = 0; i < n; i++) {
    const QFormat *f = &t[i];
    int sbits = ir_elem_bits(f->elem);
    uint64_t ncodes = (uint64_t)1 << sbits, valid = 0, nans = 0;
    for (uint64_t c = 0; c < ncodes; c++) {
      if (!q_format_code_valid(f, c)) continue;
      valid++;
      double v = q_format_decode(f, c);
      uint64_t back = q_format_encode(f, v);
      if (isnan(v)) {
        nans++;
        uint64_t canon;
        assert_true(q_float_canonical_nan(f->elem, &canon));
        if (back != canon) fail_msg("%s: NaN code 0x%llx encodes to 0x%llx", f->name, (unsigned long long)c,
                                    (unsigned long long)back);
        continue;
      }
      if (back != c)
        fail_msg("%s: code 0x%llx (%.17g) encodes back to 0x%llx", f->name, (unsigned long long)c, v,
                 (unsigned long long)back);
    }
    /* Codes outside the storage width are never valid. */
    assert_false(q_format_code_valid(f, ncodes));
    /* Count of valid codes: the range for integers, every pattern for
     * floats; NaN counts from the OFP8 spec (E4M3FN: 2, E5M2: 6, e8m0: 1). */
    uint64_t want_valid = f->kind == Q_FMT_INT || f->elem == IR_ELEM_I8 ? (uint64_t)(f->qmax - f->qmin + 1) : ncodes;
    if (f->elem == IR_ELEM_F8E5M2) want_valid -= 2; /* 0x7C, 0xFC: ±Inf */
    assert_int_equal(valid, want_valid);
    uint64_t want_nans = f->elem == IR_ELEM_F8E4M3FN ? 2 : f->elem == IR_ELEM_F8E5M2 ? 6 : f->elem == IR_ELEM_E8M0 ? 1 : 0;
    assert_int_equal(nans, want_nans);
  }
}

/* For integer formats, every value in [qmin, qmax] is one code, and a code
 * stored in the storage element type loads back as the value (the decision
 * in qformat.c: codes are two's complement in the storage width). */
static void test_int_codes_store(void **state) {
  (void)state;
  int n = 0;
  const QFormat *t = q_format_table(&n);
  for (int i = 0; i < n; i++) {
    const QFormat *f = &t[i];
    if (f->kind != Q_FMT_INT) continue;
    for (int64_t q = f->qmin; q <= f->qmax; q++) {
      uint64_t c = q_format_encode(f, (double)q);
      assert_true(q_format_code_valid(f, c));
      assert_true(q_format_decode(f, c) == (double)q);
      unsigned char buf[8] = {0};
      ir_elem_store_bits(f->elem, buf, 0, c);
      assert_int_equal(ir_elem_load_int(f->elem, buf, 0), q);
    }
  }
  /* By hand: -1 is 0xF in i4, 0x3 in i2, 0xFF in i3 (stored in i8), 0xFFFF in i16. */
  assert_int_equal(q_format_encode(fmt("i4"), -1), 0xF);
  assert_int_equal(q_format_encode(fmt("i4"), -8), 0x8);
  assert_int_equal(q_format_encode(fmt("i2"), -1), 0x3);
  assert_int_equal(q_format_encode(fmt("i2"), -2), 0x2);
  assert_int_equal(q_format_encode(fmt("i3"), -1), 0xFF);
  assert_int_equal(q_format_encode(fmt("i16"), -1), 0xFFFF);
  /* Validity: i3 is -4..3, u5 0..31, mxint8 -127..127 (0x80 = -128 unused). */
  assert_true(q_format_code_valid(fmt("i3"), 0x03));
  assert_false(q_format_code_valid(fmt("i3"), 0x04));
  assert_true(q_format_code_valid(fmt("i3"), 0xFC));
  assert_false(q_format_code_valid(fmt("i3"), 0xFB));
  assert_false(q_format_code_valid(fmt("i3"), 0x100));
  assert_true(q_format_code_valid(fmt("u5"), 31));
  assert_false(q_format_code_valid(fmt("u5"), 32));
  assert_false(q_format_code_valid(fmt("mxint8"), 0x80));
  assert_true(q_format_code_valid(fmt("mxint8"), 0x81));
  assert_false(q_format_code_valid(fmt("f4E2M1"), 0x10));
  assert_false(q_format_code_valid(fmt("f6E3M2"), 0x40));
  assert_false(q_format_code_valid(fmt("f8E5M2"), 0x7C)); /* +Inf */
  assert_false(q_format_code_valid(fmt("mxfp8_e5m2"), 0xFC)); /* -Inf */
  assert_true(q_format_code_valid(fmt("f8E5M2"), 0x7D));  /* NaN */
  assert_true(q_format_code_valid(fmt("f8E5M2"), 0x7B));  /* 57344 */
}

/* Integers: half to even, saturation, NaN -> 0. */
static void test_int_rounding(void **state) {
  (void)state;
  const QFormat *i8 = fmt("i8"), *i3 = fmt("i3"), *u5 = fmt("u5"), *u2 = fmt("u2"), *i2 = fmt("i2");
  assert_int_equal(q_format_encode(i8, 2.5), 2);
  assert_int_equal(q_format_encode(i8, 3.5), 4);
  assert_int_equal(q_format_encode(i8, -2.5), 0xFE); /* -2 */
  assert_int_equal(q_format_encode(i8, -3.5), 0xFC); /* -4 */
  assert_int_equal(q_format_encode(i8, 0.5), 0);
  assert_int_equal(q_format_encode(i8, -0.5), 0);
  assert_int_equal(q_format_encode(i8, 2.5000001), 3);
  assert_int_equal(q_format_encode(i8, 127.5), 127);
  assert_int_equal(q_format_encode(i8, 1e300), 127);
  assert_int_equal(q_format_encode(i8, -INFINITY), 0x80);
  assert_int_equal(q_format_encode(i8, NAN), 0);
  assert_int_equal(q_format_encode(i3, 3.6), 3);
  assert_int_equal(q_format_encode(i3, 100), 3);
  assert_int_equal(q_format_encode(i3, -4.5), 0xFC); /* -4: the tie goes to even -4 anyway */
  assert_int_equal(q_format_encode(i3, -100), 0xFC);
  assert_int_equal(q_format_encode(u5, 31.4), 31);
  assert_int_equal(q_format_encode(u5, 40), 31);
  assert_int_equal(q_format_encode(u5, -3), 0);
  assert_int_equal(q_format_encode(u5, 30.5), 30);
  assert_int_equal(q_format_encode(u5, NAN), 0);
  assert_int_equal(q_format_encode(u2, 2.5), 2);
  assert_int_equal(q_format_encode(u2, 3.5), 3);
  assert_int_equal(q_format_encode(i2, 1.5), 1); /* saturates at 1, not rounded to 2 */
  assert_int_equal(q_format_encode(i2, -2.5), 0x2);
  assert_int_equal(q_format_encode(fmt("i16"), 40000), 0x7FFF);
  assert_int_equal(q_format_encode(fmt("i16"), -40000), 0x8000);
}

/* f4E2M1 grid ±{0, .5, 1, 1.5, 2, 3, 4, 6}, codes 0..7 (sign 0x8). RNE
 * bounds .25 .75 1.25 1.75 2.5 3.5 5: the tie goes to the even code, so
 * .75 (codes 1|2), 1.75 (3|4), 3.5 (5|6) go up and .25 (0|1), 1.25 (2|3),
 * 2.5 (4|5), 5 (6|7) go down. */
static void test_f4_ties_and_saturation(void **state) {
  (void)state;
  const QFormat *f = fmt("f4E2M1");
  static const struct {
    double v;
    uint64_t code;
  } cases[] = {{0.25, 0x0}, {0.75, 0x2}, {1.25, 0x2}, {1.75, 0x4}, {2.5, 0x4},  {3.5, 0x6},  {5, 0x6},
               {0.26, 0x1}, {5.01, 0x7}, {7, 0x7},    {1000, 0x7}, {-7, 0xF},   {-0.75, 0xA}, {-5, 0xE},
               {-0.0, 0x8}, {0, 0x0},    {INFINITY, 0x7}, {NAN, 0x0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (q_format_encode(f, cases[i].v) != cases[i].code)
      fail_msg("f4E2M1 %g: code 0x%llx, want 0x%llx", cases[i].v, (unsigned long long)q_format_encode(f, cases[i].v),
               (unsigned long long)cases[i].code);
  assert_true(q_format_decode(f, 0x7) == 6);
  assert_true(q_format_decode(f, 0xD) == -3);
  assert_true(signbit(q_format_decode(f, 0x8)));
}

/* Other floats, by hand from the OFP8 / MX tables: saturation to ±max,
 * Inf clamps, NaN to the canonical NaN (0 where there is none), -0 kept. */
static void test_float_saturation(void **state) {
  (void)state;
  const QFormat *e4 = fmt("f8E4M3FN"), *e5 = fmt("f8E5M2");
  assert_int_equal(q_format_encode(e4, 1000), 0x7E); /* 448 = 1.75 * 2^8: S.1111.110 */
  assert_true(q_format_decode(e4, 0x7E) == 448);
  assert_int_equal(q_format_encode(e4, -1000), 0xFE);
  assert_int_equal(q_format_encode(e4, INFINITY), 0x7E);
  assert_int_equal(q_format_encode(e4, NAN), 0x7F);
  assert_int_equal(q_format_encode(e4, -0.0), 0x80);
  assert_true(signbit(q_format_decode(e4, 0x80)));
  /* 0.3: between 0.28125 and 0.3125 (step 1/32 in [.25, .5)), nearer 0.3125 = 2^-2 * 1.25: 0.0101.010 */
  assert_int_equal(q_format_encode(e4, 0.3), 0x2A);
  assert_int_equal(q_format_encode(e5, 1e6), 0x7B); /* 57344 = 1.75 * 2^15: 0.11110.11 */
  assert_int_equal(q_format_encode(e5, -INFINITY), 0xFB);
  assert_int_equal(q_format_encode(fmt("f6E3M2"), 100), 0x1F); /* 28 = 1.75 * 2^4: 0.111.11 */
  assert_int_equal(q_format_encode(fmt("f6E2M3"), 100), 0x1F); /* 7.5 = 1.875 * 2^2: 0.11.111 */
  assert_int_equal(q_format_encode(fmt("f6E2M3"), NAN), 0);
  const QFormat *e8 = fmt("e8m0");
  assert_int_equal(q_format_encode(e8, 1.0), 0x7F);
  assert_int_equal(q_format_encode(e8, 0.25), 0x7D);
  assert_int_equal(q_format_encode(e8, 0.0), 0x00); /* no zero: the smallest, 2^-127 */
  assert_int_equal(q_format_encode(e8, NAN), 0xFF);
}

/* ---- blocks -------------------------------------------------------------- */

static void expect_codes(const char *what, const uint64_t *got, const uint64_t *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("%s element %d: code 0x%llx, want 0x%llx", what, i, (unsigned long long)got[i],
               (unsigned long long)want[i]);
}

static void expect_values(const char *what, const float *got, const double *want, int n) {
  for (int i = 0; i < n; i++)
    if ((double)got[i] != want[i]) fail_msg("%s element %d: value %.9g, want %.9g", what, i, (double)got[i], want[i]);
}

/* MXFP4, 32 elements: 16 values and their negations.
 * amax = 2.9, floor(log2 2.9) = 1, emax(E2M1) = 2: X = 2^(1-2) = 0.5, e8m0
 * code 127 - 1 = 0x7E. Element i is e2m1(x / 0.5) = e2m1(2x):
 *   x      2x    e2m1  code  value (e2m1 * .5)
 *   2.9    5.8   6     7     3        (above the bound 5: up to the top; no clip)
 *   0.1    0.2   0     0     0
 *   0.125  0.25  0     0     0        tie 0|.5 -> even code 0
 *   0.375  0.75  1     2     0.5      tie .5|1 -> code 2
 *   0.625  1.25  1     2     0.5      tie 1|1.5 -> code 2
 *   0.875  1.75  2     4     1        tie 1.5|2 -> code 4
 *   1.25   2.5   2     4     1        tie 2|3 -> code 4
 *   1.75   3.5   4     6     2        tie 3|4 -> code 6
 *   2.5    5     4     6     2        tie 4|6 -> code 6
 *   0.7    1.4   1.5   3     0.75
 *   1.1    2.2   2     4     1
 *   1.6    3.2   3     5     1.5
 *   0.3    0.6   0.5   1     0.25
 *   0      0     0     0     0
 *   2.2    4.4   4     6     2
 *   1.0    2     2     4     1
 * Negations: the same code with the sign bit 0x8 (zeros become -0, 0x8). */
static void test_mxfp4_block(void **state) {
  (void)state;
  static const float xs[16] = {2.9f, 0.1f, 0.125f, 0.375f, 0.625f, 0.875f, 1.25f, 1.75f,
                               2.5f, 0.7f, 1.1f,   1.6f,   0.3f,   0.0f,   2.2f,  1.0f};
  static const uint64_t cs[16] = {7, 0, 0, 2, 2, 4, 4, 6, 6, 3, 4, 5, 1, 0, 6, 4};
  static const double vs[16] = {3, 0, 0, 0.5, 0.5, 1, 1, 2, 2, 0.75, 1, 1.5, 0.25, 0, 2, 1};
  float x[32], out[32];
  uint64_t want[32], codes[32], scale = 0;
  double wantv[32];
  for (int i = 0; i < 16; i++) {
    x[i] = xs[i], x[16 + i] = -xs[i];
    want[i] = cs[i], want[16 + i] = cs[i] | 0x8;
    wantv[i] = vs[i], wantv[16 + i] = -vs[i];
  }
  const QFormat *f = fmt("mxfp4");
  q_block_quantize(f, x, 32, 0, &scale, codes);
  assert_int_equal(scale, 0x7E);
  assert_true(q_block_scale_value(f, scale, 0) == 0.5);
  expect_codes("mxfp4", codes, want, 32);
  q_block_dequantize(f, scale, 0, codes, 32, out);
  expect_values("mxfp4", out, wantv, 32);
}

/* MXFP8 (E4M3), 32 elements: 8 values then 24 zeros.
 * amax = 800, floor(log2 800) = 9, emax(E4M3) = 8: X = 2^1 = 2, e8m0 code
 * 127 + 1 = 0x80. E4M3 value = 2^(E-7) (1 + M/8), subnormals M * 2^-9.
 *   x           x/2        rounding                         code  value (*2)
 *   800         400        [256,512) step 32: 384|416 tie,  0x7C  768
 *                          even M=4 (384 = 1.5 * 2^8, E=15)
 *   -3          -1.5       1.5 * 2^0: E=7 M=4               0xBC  -3
 *   1           0.5        2^-1: E=6 M=0                    0x30  1
 *   0.01        0.005      subnormal, 0.005 / 2^-9 = 2.56   0x03  3 * 2^-9 * 2 = 0.01171875
 *                          -> M=3
 *   100         50         [32,64) step 4: 48|52 tie,       0x64  96
 *                          even M=4 (48 = 1.5 * 2^5, E=12)
 *   0.001       0.0005     0.256 quanta -> 0                0x00  0
 *   -3 * 2^-9   -3 * 2^-10 1.5 quanta, tie 1|2 -> 2         0x82  -2 * 2^-9 * 2 = -2^-7
 *   448         224        1.75 * 2^7: E=14 M=6             0x76  448 */
static void test_mxfp8_block(void **state) {
  (void)state;
  static const float xs[8] = {800.0f, -3.0f, 1.0f, 0.01f, 100.0f, 0.001f, -0x3p-9f, 448.0f};
  static const uint64_t cs[8] = {0x7C, 0xBC, 0x30, 0x03, 0x64, 0x00, 0x82, 0x76};
  static const double vs[8] = {768, -3, 1, 0.01171875, 96, 0, -0x1p-7, 448};
  float x[32] = {0}, out[32];
  uint64_t want[32] = {0}, codes[32], scale = 0;
  double wantv[32] = {0};
  memcpy(x, xs, sizeof xs);
  memcpy(want, cs, sizeof cs);
  memcpy(wantv, vs, sizeof vs);
  const QFormat *f = fmt("mxfp8_e4m3");
  q_block_quantize(f, x, 32, 0, &scale, codes);
  assert_int_equal(scale, 0x80);
  expect_codes("mxfp8", codes, want, 32);
  q_block_dequantize(f, scale, 0, codes, 32, out);
  expect_values("mxfp8", out, wantv, 32);
}

/* MXINT8: amax = 1.999, floor(log2) = 0, emax 0: X = 1 (code 0x7F). Element
 * = rne(x * 64) saturated to -127..127:
 *   1.999 -> 127.94 -> 127 (0x7F, 1.984375: the top clips slightly)
 *   -1.999 -> -127.94 -> -128 -> saturates to -127 (0x81; -128 is unused)
 *   0.5078125 = 32.5/64 -> tie 32|33 -> 32 (0x20, 0.5)
 *   -0.01 -> -0.64 -> -1 (0xFF, -1/64) */
static void test_mxint8_block(void **state) {
  (void)state;
  const float x[4] = {1.999f, -1.999f, 0.5078125f, -0.01f};
  const uint64_t want[4] = {0x7F, 0x81, 0x20, 0xFF};
  const double wantv[4] = {1.984375, -1.984375, 0.5, -0.015625};
  uint64_t codes[4], scale = 0;
  float out[4];
  const QFormat *f = fmt("mxint8");
  q_block_quantize(f, x, 4, 0, &scale, codes);
  assert_int_equal(scale, 0x7F);
  expect_codes("mxint8", codes, want, 4);
  q_block_dequantize(f, scale, 0, codes, 4, out);
  expect_values("mxint8", out, wantv, 4);
  assert_true(q_format_decode(f, 0x80) == -2.0); /* decodable, but never produced */
}

/* NVFP4, 16 elements. Tensor amax 5376: s_t = 5376 / (6 * 448) = 2.
 * Block amax 40: 40 / (6 * 2) = 3.333, E4M3 step 0.25 in [2, 4): 3.25|3.5,
 * nearer 3.25 = 1.625 * 2^1 (E=8 M=5): s_b code 0x45. s_b * s_t = 6.5.
 *   x      x/6.5   e2m1   code  value (* 6.5)
 *   40     6.154   6 (saturated: s_b rounded down)  0x7  39
 *   -13    -2      2      0xC   -13
 *   3.25   0.5     0.5    0x1   3.25
 *   1.625  0.25    0      0x0   0      tie -> even
 *   4.875  0.75    1      0x2   6.5    tie -> even
 *   16.25  2.5     2      0x4   13     tie -> even
 *   22.75  3.5     4      0x6   26     tie -> even
 *   -32.5  -5      -4     0xE   -26    tie -> even
 *   10     1.538   1.5    0x3   9.75
 *   0      0       0      0x0   0
 *   30     4.615   4      0x6   26
 *   -1     -0.154  -0     0x8   -0
 *   7      1.077   1      0x2   6.5
 *   20     3.077   3      0x5   19.5
 *   12     1.846   2      0x4   13
 *   -6.5   -1      -1     0xA   -6.5 */
static void test_nvfp4_block(void **state) {
  (void)state;
  const QFormat *f = fmt("nvfp4");
  float st = q_nvfp4_tensor_scale(5376.0);
  assert_true(st == 2.0f);
  const float x[16] = {40, -13, 3.25f, 1.625f, 4.875f, 16.25f, 22.75f, -32.5f, 10, 0, 30, -1, 7, 20, 12, -6.5f};
  const uint64_t want[16] = {0x7, 0xC, 0x1, 0x0, 0x2, 0x4, 0x6, 0xE, 0x3, 0x0, 0x6, 0x8, 0x2, 0x5, 0x4, 0xA};
  const double wantv[16] = {39, -13, 3.25, 0, 6.5, 13, 26, -26, 9.75, 0, 26, 0, 6.5, 19.5, 13, -6.5};
  uint64_t codes[16], scale = 0;
  float out[16];
  q_block_quantize(f, x, 16, st, &scale, codes);
  assert_int_equal(scale, 0x45);
  assert_true(q_block_scale_value(f, scale, st) == 6.5);
  expect_codes("nvfp4", codes, want, 16);
  q_block_dequantize(f, scale, st, codes, 16, out);
  expect_values("nvfp4", out, wantv, 16);

  /* Tensor scale: 0 and non-finite amax give 1; 2688 = 6 * 448 gives 1. */
  assert_true(q_nvfp4_tensor_scale(0) == 1.0f);
  assert_true(q_nvfp4_tensor_scale(INFINITY) == 1.0f);
  assert_true(q_nvfp4_tensor_scale(NAN) == 1.0f);
  assert_true(q_nvfp4_tensor_scale(2688) == 1.0f);
  assert_true(q_nvfp4_tensor_scale(1344) == 0.5f);
}

/* All-zero blocks: MX gives the smallest scale 2^-127 (code 0x00) and zero
 * codes; NVFP4's block scale 0 becomes 1.0 (E4M3 0x38: E=7 M=0). */
static void test_zero_blocks(void **state) {
  (void)state;
  float x[32] = {0}, out[32];
  uint64_t codes[32], scale = 99;
  const uint64_t zeros[32] = {0};
  const double zv[32] = {0};
  const char *mx[] = {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8"};
  for (size_t i = 0; i < sizeof mx / sizeof mx[0]; i++) {
    const QFormat *f = fmt(mx[i]);
    q_block_quantize(f, x, 32, 0, &scale, codes);
    assert_int_equal(scale, 0x00);
    assert_true(q_block_scale_value(f, scale, 0) == 0x1p-127);
    expect_codes(mx[i], codes, zeros, 32);
    q_block_dequantize(f, scale, 0, codes, 32, out);
    expect_values(mx[i], out, zv, 32);
  }
  const QFormat *nv = fmt("nvfp4");
  q_block_quantize(nv, x, 16, q_nvfp4_tensor_scale(0), &scale, codes);
  assert_int_equal(scale, 0x38);
  expect_codes("nvfp4", codes, zeros, 16);
  /* A block far smaller than the tensor: 1e-3 / (6 * 1) rounds to E4M3 0,
   * so s_b = 1 and the codes are 0. */
  float tiny[16] = {1e-3f, -1e-3f};
  q_block_quantize(nv, tiny, 16, 1.0f, &scale, codes);
  assert_int_equal(scale, 0x38);
  const uint64_t tc[16] = {0x0, 0x8};
  expect_codes("nvfp4 tiny", codes, tc, 16);
}

/* The OCP rule clips the top of a block: amax = 7.5, floor(log2 7.5) = 2,
 * X = 2^(2-2) = 1 (code 0x7F); 7.5 saturates to 6 (code 7), an error of
 * 1.5. (ModelOpt's ceil(log2(7.5/6)) = 1 would give X = 2 and 7.5/2 = 3.75
 * -> 4 (code 6), value 8: no clip, coarser elsewhere.) 3.0 -> code 5, and
 * 0.25 -> tie 0|.5 -> 0. A short block (n = 3) is allowed. */
static void test_mx_top_clips(void **state) {
  (void)state;
  const float x[3] = {7.5f, 3.0f, 0.25f};
  const uint64_t want[3] = {0x7, 0x5, 0x0};
  const double wantv[3] = {6, 3, 0};
  uint64_t codes[3], scale = 0;
  float out[3];
  const QFormat *f = fmt("mxfp4");
  q_block_quantize(f, x, 3, 0, &scale, codes);
  assert_int_equal(scale, 0x7F);
  expect_codes("mxfp4 clip", codes, want, 3);
  q_block_dequantize(f, scale, 0, codes, 3, out);
  expect_values("mxfp4 clip", out, wantv, 3);
  /* Scale clamps: amax 2^-140 wants X = 2^-142, below e8m0's 2^-127. */
  const float small[1] = {0x1p-140f};
  q_block_quantize(f, small, 1, 0, &scale, codes);
  assert_int_equal(scale, 0x00);
  assert_int_equal(codes[0], 0); /* 2^-13 of the smallest scale: rounds to 0 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_rows),       cmocka_unit_test(test_format_max),
      cmocka_unit_test(test_every_code_round_trips), cmocka_unit_test(test_int_codes_store),
      cmocka_unit_test(test_int_rounding),     cmocka_unit_test(test_f4_ties_and_saturation),
      cmocka_unit_test(test_float_saturation), cmocka_unit_test(test_mxfp4_block),
      cmocka_unit_test(test_mxfp8_block),      cmocka_unit_test(test_mxint8_block),
      cmocka_unit_test(test_nvfp4_block),      cmocka_unit_test(test_zero_blocks),
      cmocka_unit_test(test_mx_top_clips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
