/* Unit tests for the float element codecs (compiler/quant/floatfmt.c):
 * hand-worked values from the IEEE, OCP OFP8 / MX and ONNX tables, code
 * round trips, ties to even (also into subnormals and at the overflow
 * boundary), every QOverflow mode, and a brute-force nearest-value
 * reference for the 8-bit-and-smaller formats. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "quant/floatfmt.h"

static const IrElem small_formats[] = {IR_ELEM_F8E4M3FN, IR_ELEM_F8E4M3FNUZ, IR_ELEM_F8E5M2, IR_ELEM_F8E5M2FNUZ,
                                       IR_ELEM_F6E3M2,   IR_ELEM_F6E2M3,     IR_ELEM_F4E2M1, IR_ELEM_E8M0};
#define NSMALL (sizeof small_formats / sizeof small_formats[0])

static uint64_t enc(IrElem e, double v, QOverflow ov) {
  uint64_t b = 0xDEAD;
  assert_true(q_float_encode(e, v, ov, &b));
  return b;
}

static void assert_enc_fails(IrElem e, double v, QOverflow ov) {
  uint64_t b;
  assert_false(q_float_encode(e, v, ov, &b));
}

static void assert_dec(IrElem e, uint64_t bits, double want) {
  double got = q_float_decode(e, bits);
  assert_true(memcmp(&got, &want, sizeof got) == 0 || got == want);
  assert_int_equal(signbit(got) != 0, signbit(want) != 0);
}

static void test_f8e4m3fn_values(void **state) {
  (void)state;
  IrElem e = IR_ELEM_F8E4M3FN;
  assert_dec(e, 0x7E, 448.0);
  assert_dec(e, 0xFE, -448.0);
  assert_dec(e, 0x01, ldexp(1, -9)); /* smallest subnormal */
  assert_dec(e, 0x07, 7 * ldexp(1, -9));
  assert_dec(e, 0x08, ldexp(1, -6)); /* smallest normal */
  assert_dec(e, 0x38, 1.0);
  assert_dec(e, 0x39, 1.125);
  assert_dec(e, 0x80, -0.0);
  assert_true(isnan(q_float_decode(e, 0x7F)));
  assert_true(isnan(q_float_decode(e, 0xFF)));
  assert_false(isnan(q_float_decode(e, 0x78))); /* 1.0 * 2^8: no Inf in FN */
  assert_dec(e, 0x78, 256.0);
  assert_true(q_float_max(e) == 448.0);
  assert_int_equal(enc(e, 1.0, Q_OVERFLOW_ERROR), 0x38);
  assert_int_equal(enc(e, -0.0, Q_OVERFLOW_ERROR), 0x80);
  assert_int_equal(enc(e, NAN, Q_OVERFLOW_ERROR), 0x7F);
  assert_int_equal(enc(e, -NAN, Q_OVERFLOW_ERROR), 0x7F);
  uint64_t n;
  assert_true(q_float_canonical_nan(e, &n));
  assert_int_equal(n, 0x7F);
}

static void test_f8e4m3fnuz_values(void **state) {
  (void)state;
  IrElem e = IR_ELEM_F8E4M3FNUZ;
  assert_dec(e, 0x7F, 240.0); /* 1.875 * 2^(15-8) */
  assert_dec(e, 0x40, 1.0);
  assert_dec(e, 0x01, ldexp(1, -10));
  assert_dec(e, 0xC0, -1.0);
  assert_true(isnan(q_float_decode(e, 0x80)));
  assert_int_equal(enc(e, -0.0, Q_OVERFLOW_ERROR), 0x00); /* no -0 */
  assert_int_equal(enc(e, -1e-30, Q_OVERFLOW_ERROR), 0x00);
  assert_int_equal(enc(e, NAN, Q_OVERFLOW_ERROR), 0x80);
  assert_true(q_float_max(e) == 240.0);
}

static void test_f8e5m2_values(void **state) {
  (void)state;
  IrElem e = IR_ELEM_F8E5M2;
  assert_dec(e, 0x7B, 57344.0);
  assert_dec(e, 0x3C, 1.0);
  assert_dec(e, 0x01, ldexp(1, -16));
  assert_dec(e, 0x7C, INFINITY);
  assert_dec(e, 0xFC, -INFINITY);
  assert_true(isnan(q_float_decode(e, 0x7D)));
  assert_true(isnan(q_float_decode(e, 0x7E)));
  assert_true(isnan(q_float_decode(e, 0xFF)));
  assert_int_equal(enc(e, INFINITY, Q_OVERFLOW_INF), 0x7C);
  /* Inf is exact in E5M2: not an overflow, except when saturating. */
  assert_int_equal(enc(e, -INFINITY, Q_OVERFLOW_ERROR), 0xFC);
  assert_int_equal(enc(e, INFINITY, Q_OVERFLOW_SATURATE), 0x7B);
  assert_int_equal(enc(e, -INFINITY, Q_OVERFLOW_INF), 0xFC);
  assert_int_equal(enc(e, NAN, Q_OVERFLOW_INF), 0x7F);
  assert_true(q_float_max(e) == 57344.0);
}

static void test_f8e5m2fnuz_values(void **state) {
  (void)state;
  IrElem e = IR_ELEM_F8E5M2FNUZ;
  assert_dec(e, 0x7F, 57344.0); /* 1.75 * 2^(31-16) */
  assert_dec(e, 0x40, 1.0);
  assert_dec(e, 0x01, ldexp(1, -17));
  assert_true(isnan(q_float_decode(e, 0x80)));
  assert_false(isinf(q_float_decode(e, 0x7C)));
  assert_dec(e, 0x7C, 32768.0);
  assert_int_equal(enc(e, -0.0, Q_OVERFLOW_ERROR), 0x00);
}

static void test_mx_small_values(void **state) {
  (void)state;
  /* f6E3M2: bias 3, max 1.75 * 2^4 = 28. */
  assert_dec(IR_ELEM_F6E3M2, 0x1F, 28.0);
  assert_dec(IR_ELEM_F6E3M2, 0x3F, -28.0);
  assert_dec(IR_ELEM_F6E3M2, 0x0C, 1.0);
  assert_dec(IR_ELEM_F6E3M2, 0x01, 0.0625);
  assert_dec(IR_ELEM_F6E3M2, 0x20, -0.0);
  /* f6E2M3: bias 1, max 1.875 * 2^2 = 7.5. */
  assert_dec(IR_ELEM_F6E2M3, 0x1F, 7.5);
  assert_dec(IR_ELEM_F6E2M3, 0x08, 1.0);
  assert_dec(IR_ELEM_F6E2M3, 0x01, 0.125);
  assert_true(q_float_max(IR_ELEM_F6E2M3) == 7.5);
  assert_true(q_float_max(IR_ELEM_F6E3M2) == 28.0);
  /* f4E2M1: the eight magnitudes of the OCP MX table. */
  static const double e2m1[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int c = 0; c < 8; c++) {
    assert_dec(IR_ELEM_F4E2M1, (uint64_t)c, e2m1[c]);
    assert_dec(IR_ELEM_F4E2M1, (uint64_t)c | 8, -e2m1[c]);
  }
  assert_true(q_float_max(IR_ELEM_F4E2M1) == 6.0);
  uint64_t n;
  assert_false(q_float_canonical_nan(IR_ELEM_F4E2M1, &n));
  assert_false(q_float_canonical_nan(IR_ELEM_F6E3M2, &n));
  assert_enc_fails(IR_ELEM_F4E2M1, NAN, Q_OVERFLOW_SATURATE);
  assert_enc_fails(IR_ELEM_F6E2M3, NAN, Q_OVERFLOW_INF);
}

static void test_e8m0_values(void **state) {
  (void)state;
  IrElem e = IR_ELEM_E8M0;
  assert_dec(e, 0x7F, 1.0);
  assert_dec(e, 0x80, 2.0);
  assert_dec(e, 0x7E, 0.5);
  assert_dec(e, 0x00, ldexp(1, -127));
  assert_dec(e, 0xFE, ldexp(1, 127));
  assert_true(isnan(q_float_decode(e, 0xFF)));
  assert_int_equal(enc(e, 1.0, Q_OVERFLOW_ERROR), 0x7F);
  assert_int_equal(enc(e, 1.49, Q_OVERFLOW_ERROR), 0x7F);
  assert_int_equal(enc(e, 1.51, Q_OVERFLOW_ERROR), 0x80);
  /* Ties (1.5 * 2^k) go to the even code. */
  assert_int_equal(enc(e, 1.5, Q_OVERFLOW_ERROR), 0x80);  /* 127 odd -> 128 */
  assert_int_equal(enc(e, 3.0, Q_OVERFLOW_ERROR), 0x80);  /* 128 even stays */
  assert_int_equal(enc(e, 0.75, Q_OVERFLOW_ERROR), 0x7E); /* 126 even stays */
  assert_int_equal(enc(e, 1e-300, Q_OVERFLOW_ERROR), 0x00);
  assert_int_equal(enc(e, NAN, Q_OVERFLOW_ERROR), 0xFF);
  /* No zero and no sign. */
  assert_enc_fails(e, 0.0, Q_OVERFLOW_ERROR);
  assert_enc_fails(e, -1.0, Q_OVERFLOW_INF);
  assert_int_equal(enc(e, 0.0, Q_OVERFLOW_SATURATE), 0x00);
  assert_int_equal(enc(e, -4.0, Q_OVERFLOW_SATURATE), 0x00);
  /* Overflow: 1.5 * 2^127 ties to 0xFE (even); 1.75 * 2^127 rounds past. */
  assert_int_equal(enc(e, ldexp(1.5, 127), Q_OVERFLOW_ERROR), 0xFE);
  assert_enc_fails(e, ldexp(1.75, 127), Q_OVERFLOW_ERROR);
  assert_int_equal(enc(e, ldexp(1.75, 127), Q_OVERFLOW_SATURATE), 0xFE);
  assert_int_equal(enc(e, INFINITY, Q_OVERFLOW_INF), 0xFF);
  assert_int_equal(enc(e, INFINITY, Q_OVERFLOW_SATURATE), 0xFE);
  assert_enc_fails(e, INFINITY, Q_OVERFLOW_ERROR);
}

static void test_f16_bf16_f32_f64_values(void **state) {
  (void)state;
  assert_dec(IR_ELEM_F16, 0x3C00, 1.0);
  assert_dec(IR_ELEM_F16, 0x7BFF, 65504.0);
  assert_dec(IR_ELEM_F16, 0x0001, ldexp(1, -24));
  assert_dec(IR_ELEM_F16, 0x0400, ldexp(1, -14));
  assert_dec(IR_ELEM_F16, 0xC000, -2.0);
  assert_dec(IR_ELEM_F16, 0x7C00, INFINITY);
  assert_true(isnan(q_float_decode(IR_ELEM_F16, 0x7E01)));
  assert_int_equal(enc(IR_ELEM_F16, 1.0 / 3.0, Q_OVERFLOW_ERROR), 0x3555);
  assert_int_equal(enc(IR_ELEM_F16, 0.1, Q_OVERFLOW_ERROR), 0x2E66);
  assert_int_equal(enc(IR_ELEM_F16, NAN, Q_OVERFLOW_ERROR), 0x7E00);
  /* 65520 is halfway between 65504 (0x7BFF, odd) and 2^16: Inf in IEEE. */
  assert_int_equal(enc(IR_ELEM_F16, 65520.0, Q_OVERFLOW_INF), 0x7C00);
  assert_enc_fails(IR_ELEM_F16, 65520.0, Q_OVERFLOW_ERROR);
  assert_int_equal(enc(IR_ELEM_F16, INFINITY, Q_OVERFLOW_ERROR), 0x7C00);
  assert_int_equal(enc(IR_ELEM_F16, -INFINITY, Q_OVERFLOW_SATURATE), 0xFBFF);
  assert_int_equal(enc(IR_ELEM_F16, 65519.99, Q_OVERFLOW_ERROR), 0x7BFF);
  assert_int_equal(enc(IR_ELEM_F16, ldexp(1, -25), Q_OVERFLOW_ERROR), 0x0000); /* tie to 0 */
  assert_int_equal(enc(IR_ELEM_F16, 3 * ldexp(1, -25), Q_OVERFLOW_ERROR), 0x0002);

  assert_dec(IR_ELEM_BF16, 0x3F80, 1.0);
  assert_dec(IR_ELEM_BF16, 0x4049, 3.140625);
  assert_dec(IR_ELEM_BF16, 0x7F80, INFINITY);
  assert_int_equal(enc(IR_ELEM_BF16, 3.14159265358979, Q_OVERFLOW_ERROR), 0x4049);
  assert_int_equal(enc(IR_ELEM_BF16, NAN, Q_OVERFLOW_ERROR), 0x7FC0);
  assert_true(q_float_max(IR_ELEM_BF16) == ldexp(255, 120)); /* 0x7F7F */

  assert_dec(IR_ELEM_F32, 0x3DCCCCCD, (double)0.1f);
  assert_int_equal(enc(IR_ELEM_F32, 0.1, Q_OVERFLOW_ERROR), 0x3DCCCCCD);
  assert_int_equal(enc(IR_ELEM_F32, FLT_MAX, Q_OVERFLOW_ERROR), 0x7F7FFFFF);
  assert_int_equal(enc(IR_ELEM_F32, ldexp(1, -149), Q_OVERFLOW_ERROR), 0x00000001);
  assert_int_equal(enc(IR_ELEM_F32, -0.0, Q_OVERFLOW_ERROR), 0x80000000);
  /* Halfway between FLT_MAX and 2^128 rounds past the top. */
  double mid = ldexp(16777215.5, 104);
  assert_enc_fails(IR_ELEM_F32, mid, Q_OVERFLOW_ERROR);
  assert_int_equal(enc(IR_ELEM_F32, nextafter(mid, 0), Q_OVERFLOW_ERROR), 0x7F7FFFFF);
  assert_int_equal(enc(IR_ELEM_F32, mid, Q_OVERFLOW_INF), 0x7F800000);
  assert_int_equal(enc(IR_ELEM_F32, -1e300, Q_OVERFLOW_SATURATE), 0xFF7FFFFF);
  assert_true(q_float_max(IR_ELEM_F32) == FLT_MAX);

  assert_int_equal(enc(IR_ELEM_F64, 1.0, Q_OVERFLOW_ERROR), UINT64_C(0x3FF0000000000000));
  assert_int_equal(enc(IR_ELEM_F64, NAN, Q_OVERFLOW_ERROR), UINT64_C(0x7FF8000000000000));
  assert_int_equal(enc(IR_ELEM_F64, INFINITY, Q_OVERFLOW_ERROR), UINT64_C(0x7FF0000000000000));
  assert_int_equal(enc(IR_ELEM_F64, -INFINITY, Q_OVERFLOW_SATURATE), UINT64_C(0xFFEFFFFFFFFFFFFF));
  assert_int_equal(enc(IR_ELEM_F64, -INFINITY, Q_OVERFLOW_INF), UINT64_C(0xFFF0000000000000));
  assert_dec(IR_ELEM_F64, UINT64_C(0x4000000000000000), 2.0);
  assert_true(q_float_max(IR_ELEM_F64) == DBL_MAX);
}

static void test_ties_to_even(void **state) {
  (void)state;
  IrElem e = IR_ELEM_F8E4M3FN;
  assert_int_equal(enc(e, 1.0625, Q_OVERFLOW_ERROR), 0x38); /* 1.0 | 1.125 */
  assert_int_equal(enc(e, 1.1875, Q_OVERFLOW_ERROR), 0x3A); /* 1.125 | 1.25 */
  assert_int_equal(enc(e, 1.0626, Q_OVERFLOW_ERROR), 0x39);
  /* Into subnormals: quanta of 2^-9. */
  assert_int_equal(enc(e, ldexp(1, -10), Q_OVERFLOW_ERROR), 0x00);
  assert_int_equal(enc(e, ldexp(1.0001, -10), Q_OVERFLOW_ERROR), 0x01);
  assert_int_equal(enc(e, ldexp(3, -10), Q_OVERFLOW_ERROR), 0x02);
  assert_int_equal(enc(e, -ldexp(3, -10), Q_OVERFLOW_ERROR), 0x82);
  assert_int_equal(enc(e, ldexp(15, -10), Q_OVERFLOW_ERROR), 0x08); /* 7.5 quanta -> min normal */
  /* f4E2M1 ties. */
  IrElem f4 = IR_ELEM_F4E2M1;
  assert_int_equal(enc(f4, 0.25, Q_OVERFLOW_ERROR), 0x0);
  assert_int_equal(enc(f4, 0.75, Q_OVERFLOW_ERROR), 0x2);
  assert_int_equal(enc(f4, 1.25, Q_OVERFLOW_ERROR), 0x2);
  assert_int_equal(enc(f4, 2.5, Q_OVERFLOW_ERROR), 0x4);
  assert_int_equal(enc(f4, 3.5, Q_OVERFLOW_ERROR), 0x6);
  assert_int_equal(enc(f4, 5.0, Q_OVERFLOW_ERROR), 0x6);
  assert_int_equal(enc(f4, -5.0, Q_OVERFLOW_ERROR), 0xE);
  assert_int_equal(enc(f4, -0.1, Q_OVERFLOW_ERROR), 0x8); /* -0 */
}

static void test_overflow_modes(void **state) {
  (void)state;
  /* E4M3FN: 464 ties between 448 (0x7E, even) and the missing 480: 448. */
  assert_int_equal(enc(IR_ELEM_F8E4M3FN, 464.0, Q_OVERFLOW_ERROR), 0x7E);
  assert_enc_fails(IR_ELEM_F8E4M3FN, 464.5, Q_OVERFLOW_ERROR);
  assert_int_equal(enc(IR_ELEM_F8E4M3FN, 464.5, Q_OVERFLOW_SATURATE), 0x7E);
  assert_int_equal(enc(IR_ELEM_F8E4M3FN, -1000.0, Q_OVERFLOW_SATURATE), 0xFE);
  assert_int_equal(enc(IR_ELEM_F8E4M3FN, 1000.0, Q_OVERFLOW_INF), 0x7F); /* no Inf: NaN */
  assert_int_equal(enc(IR_ELEM_F8E4M3FN, -INFINITY, Q_OVERFLOW_SATURATE), 0xFE);
  assert_enc_fails(IR_ELEM_F8E4M3FN, INFINITY, Q_OVERFLOW_ERROR);
  /* E5M2: 61440 ties between 57344 (0x7B, odd) and 65536: rounds past. */
  assert_enc_fails(IR_ELEM_F8E5M2, 61440.0, Q_OVERFLOW_ERROR);
  assert_int_equal(enc(IR_ELEM_F8E5M2, 61439.0, Q_OVERFLOW_ERROR), 0x7B);
  assert_int_equal(enc(IR_ELEM_F8E5M2, 61440.0, Q_OVERFLOW_SATURATE), 0x7B);
  assert_int_equal(enc(IR_ELEM_F8E5M2, -61440.0, Q_OVERFLOW_INF), 0xFC);
  assert_int_equal(enc(IR_ELEM_F8E5M2, -61439.0, Q_OVERFLOW_INF), 0xFB);
  assert_int_equal(enc(IR_ELEM_F8E5M2, 1e300, Q_OVERFLOW_INF), 0x7C);
  /* FNUZ: no Inf, NaN 0x80. */
  assert_int_equal(enc(IR_ELEM_F8E4M3FNUZ, 1e6, Q_OVERFLOW_INF), 0x80);
  assert_int_equal(enc(IR_ELEM_F8E4M3FNUZ, -1e6, Q_OVERFLOW_SATURATE), 0xFF);
  assert_int_equal(enc(IR_ELEM_F8E5M2FNUZ, INFINITY, Q_OVERFLOW_SATURATE), 0x7F);
  assert_int_equal(enc(IR_ELEM_F8E5M2FNUZ, -INFINITY, Q_OVERFLOW_INF), 0x80);
  assert_enc_fails(IR_ELEM_F8E5M2FNUZ, 1e6, Q_OVERFLOW_ERROR);
  /* f6/f4: neither Inf nor NaN, so the INF mode fails too. */
  assert_int_equal(enc(IR_ELEM_F4E2M1, 6.99, Q_OVERFLOW_ERROR), 0x7);
  assert_enc_fails(IR_ELEM_F4E2M1, 7.0, Q_OVERFLOW_ERROR); /* ties past 6 (odd code 7) */
  assert_enc_fails(IR_ELEM_F4E2M1, 7.0, Q_OVERFLOW_INF);
  assert_int_equal(enc(IR_ELEM_F4E2M1, -7.0, Q_OVERFLOW_SATURATE), 0xF);
  assert_int_equal(enc(IR_ELEM_F6E2M3, 100.0, Q_OVERFLOW_SATURATE), 0x1F);
  assert_int_equal(enc(IR_ELEM_F6E3M2, -INFINITY, Q_OVERFLOW_SATURATE), 0x3F);
  assert_enc_fails(IR_ELEM_F6E3M2, 30.0, Q_OVERFLOW_ERROR); /* 30 ties 28 (odd) | 32 */
  assert_int_equal(enc(IR_ELEM_F6E3M2, 29.9, Q_OVERFLOW_ERROR), 0x1F);
}

/* Every code of every small format decodes and encodes back to itself;
 * NaN codes come back as the canonical NaN. */
static void test_small_codes_round_trip(void **state) {
  (void)state;
  for (size_t k = 0; k < NSMALL; k++) {
    IrElem e = small_formats[k];
    uint64_t ncodes = (uint64_t)1 << ir_elem_bits(e);
    uint64_t canon = 0;
    bool has_nan = q_float_canonical_nan(e, &canon);
    for (uint64_t c = 0; c < ncodes; c++) {
      double v = q_float_decode(e, c);
      uint64_t back = 0;
      assert_true(q_float_encode(e, v, Q_OVERFLOW_INF, &back));
      if (isnan(v)) {
        assert_true(has_nan);
        assert_int_equal(back, canon);
      } else {
        assert_int_equal(back, c);
      }
    }
  }
}

static void test_f16_bf16_codes_round_trip(void **state) {
  (void)state;
  const IrElem fmts[2] = {IR_ELEM_F16, IR_ELEM_BF16};
  for (int k = 0; k < 2; k++) {
    uint64_t canon;
    assert_true(q_float_canonical_nan(fmts[k], &canon));
    for (uint64_t c = 0; c < 65536; c++) {
      double v = q_float_decode(fmts[k], c);
      uint64_t back = enc(fmts[k], v, Q_OVERFLOW_INF);
      assert_int_equal(back, isnan(v) ? canon : c);
    }
  }
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* bf16 against the classic f32 bit trick (an independent rounding). */
static void test_bf16_matches_bit_trick(void **state) {
  (void)state;
  for (int i = 0; i < 200000; i++) {
    uint32_t b = (uint32_t)rng();
    if ((b & 0x7F800000u) == 0x7F800000u) continue; /* Inf/NaN */
    if ((b & 0x7FFFFFFFu) >= 0x7F7F8000u) continue; /* rounds to Inf */
    float f;
    memcpy(&f, &b, 4);
    uint32_t want = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    assert_int_equal(enc(IR_ELEM_BF16, f, Q_OVERFLOW_ERROR), want);
  }
}

/* f32 against the C conversion (round to nearest under the default mode). */
static void test_f32_matches_cast(void **state) {
  (void)state;
  for (int i = 0; i < 200000; i++) {
    uint64_t b = rng();
    double d;
    memcpy(&d, &b, 8);
    if (isnan(d) || fabs(d) > FLT_MAX) continue;
    float f = (float)d;
    uint32_t want;
    memcpy(&want, &f, 4);
    if (isinf(f)) continue;
    assert_int_equal(enc(IR_ELEM_F32, d, Q_OVERFLOW_ERROR), want);
  }
}

/* Reference: scan every code for the nearest finite value of v's sign (or
 * a zero), ties to the even code. */
static uint64_t brute_nearest(IrElem e, double v) {
  uint64_t ncodes = (uint64_t)1 << ir_elem_bits(e), best = UINT64_MAX;
  double bestd = INFINITY;
  for (uint64_t c = 0; c < ncodes; c++) {
    double x = q_float_decode(e, c);
    if (isnan(x) || isinf(x)) continue;
    if (x != 0 && (signbit(x) != 0) != (signbit(v) != 0)) continue;
    if (x == 0 && signbit(x) != signbit(v)) {
      /* The other zero only counts if the format lacks this one. */
      uint64_t z;
      if (q_float_encode(e, signbit(v) ? -0.0 : 0.0, Q_OVERFLOW_ERROR, &z) && z != c) continue;
    }
    double d = fabs(x - v);
    if (d < bestd || (d == bestd && (c & 1) == 0)) {
      bestd = d;
      best = c;
    }
  }
  return best;
}

static void test_small_formats_match_brute_force(void **state) {
  (void)state;
  for (size_t k = 0; k < NSMALL; k++) {
    IrElem e = small_formats[k];
    bool is_e8m0 = e == IR_ELEM_E8M0;
    double max = q_float_max(e);
    int lo = is_e8m0 ? -127 : -20;
    for (int i = 0; i < 20000; i++) {
      /* log-uniform magnitudes to reach subnormals, within range */
      double m = ldexp(1.0 + (double)(rng() >> 11) * 0x1p-53, lo + (int)(rng() % (uint64_t)(ilogb(max) - lo + 1)));
      if (m > max) m = max;
      double v = (!is_e8m0 && (rng() & 1)) ? -m : m;
      assert_int_equal(enc(e, v, Q_OVERFLOW_ERROR), brute_nearest(e, v));
    }
    /* Exact midpoints between neighbouring finite codes. */
    uint64_t ncodes = (uint64_t)1 << ir_elem_bits(e);
    for (uint64_t c = 0; c + 1 < ncodes; c++) {
      double a = q_float_decode(e, c), b = q_float_decode(e, c + 1);
      if (isnan(a) || isnan(b) || isinf(a) || isinf(b) || (signbit(a) != signbit(b))) continue;
      double mid = (a + b) / 2;
      if (mid == 0) continue;
      uint64_t want = (c & 1) ? c + 1 : c;
      assert_int_equal(enc(e, mid, Q_OVERFLOW_ERROR), want);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f8e4m3fn_values),
      cmocka_unit_test(test_f8e4m3fnuz_values),
      cmocka_unit_test(test_f8e5m2_values),
      cmocka_unit_test(test_f8e5m2fnuz_values),
      cmocka_unit_test(test_mx_small_values),
      cmocka_unit_test(test_e8m0_values),
      cmocka_unit_test(test_f16_bf16_f32_f64_values),
      cmocka_unit_test(test_ties_to_even),
      cmocka_unit_test(test_overflow_modes),
      cmocka_unit_test(test_small_codes_round_trip),
      cmocka_unit_test(test_f16_bf16_codes_round_trip),
      cmocka_unit_test(test_bf16_matches_bit_trick),
      cmocka_unit_test(test_f32_matches_cast),
      cmocka_unit_test(test_small_formats_match_brute_force),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
