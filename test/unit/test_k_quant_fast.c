/* The fast paths of QuantizeLinear and DequantizeLinear (k_quant.c): f32
 * input and scale to i2..u16 and f8E4M3FN codes, integer codes to f32; per
 * tensor, per axis and blocked (block_size, short last block), every axis.
 * Seeded random inputs with exact ties (k + 0.5) * s, values beyond
 * saturation, NaN, +-Inf, -0 and subnormals; each element is compared with a
 * reference written here from the ONNX formula (quantize: q = saturate(
 * rint(x / s in f32) + zp), NaN -> zp; dequantize: (q - zp) * s in f32, in
 * double for 32-bit codes as docs/interpreter.md says), with the element's
 * parameter found from its coordinates; integer codes are also compared with
 * q_quantize_int (compiler/quant/qmath.h). f8E4M3FN codes are compared with the
 * float codec of record (q_float_encode, the spec's Cast table). The last
 * tests force the generic loops (f64 input, i64 codes) on the same values
 * and require bit-identical results. */
#include <float.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"
#include "quant/floatfmt.h"
#include "quant/qmath.h"

/* xorshift64*: reproducible on every platform. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}
static int64_t rng_int(int64_t lo, int64_t hi) { return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1)); }
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1p-53; }

/* One parameter layout: per tensor (axis < 0), per axis (block 0), blocked. */
typedef struct Layout {
  int32_t rank;
  int64_t dims[4];
  int32_t axis; /* -1: per tensor */
  int64_t block;
} Layout;

/* The parameter tensor's shape for layout l. */
static int32_t param_shape(const Layout *l, int64_t *pd) {
  if (l->axis < 0) return 0;
  if (l->block == 0) {
    pd[0] = l->dims[l->axis];
    return 1;
  }
  for (int32_t i = 0; i < l->rank; i++) pd[i] = i == l->axis ? (l->dims[i] + l->block - 1) / l->block : l->dims[i];
  return l->rank;
}

/* Element i's parameter index, from its coordinates (written independently
 * of the kernel's walk). */
static int64_t param_of(const Layout *l, int64_t i) {
  if (l->axis < 0) return 0;
  int64_t c[4];
  for (int32_t j = l->rank - 1; j >= 0; j--) {
    c[j] = i % l->dims[j];
    i /= l->dims[j];
  }
  if (l->block == 0) return c[l->axis];
  int64_t p = 0;
  for (int32_t j = 0; j < l->rank; j++) {
    int64_t pd = j == l->axis ? (l->dims[j] + l->block - 1) / l->block : l->dims[j];
    p = p * pd + (j == l->axis ? c[j] / l->block : c[j]);
  }
  return p;
}

/* The attribute text of layout l ("" per tensor). */
static const char *layout_attrs(const Layout *l, char *buf, size_t n) {
  if (l->axis < 0)
    snprintf(buf, n, " ");
  else if (l->block == 0)
    snprintf(buf, n, " {axis = %d} ", l->axis);
  else
    snprintf(buf, n, " {axis = %d, block_size = %lld} ", l->axis, (long long)l->block);
  return buf;
}

/* The layouts every case runs: the rank-3 shapes make runs shorter and
 * longer than the kernel's 16-element chunks and blocks that do and do not
 * divide the axis. */
static const Layout layouts[] = {
    {3, {2, 19, 40}, -1, 0}, {3, {2, 19, 40}, 0, 0}, {3, {2, 19, 40}, 1, 0}, {3, {2, 19, 40}, 2, 0},
    {3, {3, 37, 5}, 1, 0},   {3, {2, 19, 40}, 2, 8}, {3, {2, 19, 40}, 2, 7}, {3, {2, 19, 40}, 1, 4},
    {3, {3, 37, 5}, 1, 5},   {3, {2, 19, 40}, 0, 1}, {3, {2, 19, 40}, 0, 2}, {1, {45}, 0, 0},
    {1, {45}, 0, 16},        {2, {33, 17}, 1, 0},    {2, {33, 17}, 0, 32},
};
#define NLAYOUTS (sizeof layouts / sizeof layouts[0])

/* Scales: mostly random in [2^-12, 2), some powers of two (so (k + 0.5) * s
 * is an exact tie), one each of 1, a huge, a tiny (subnormal quotients) and,
 * where allowed, zero and negative. */
static float rand_scale(bool special) {
  int64_t c = rng_int(0, 19);
  if (c < 6) return ldexpf(1.0f, (int)rng_int(-10, 2));
  if (c == 6) return 1.0f;
  if (special && c == 7) return 0.0f;
  if (special && c == 8) return -0.375f;
  if (special && c == 9) return 3e37f;
  return (float)(ldexp(1.0 + rng_unit(), (int)rng_int(-12, 0)));
}

/* An input value for scale s and zero point z with codes in [lo, hi]. */
static float rand_x(float s, int64_t z, int64_t lo, int64_t hi) {
  int64_t c = rng_int(0, 99);
  double span = (double)(hi - lo) + 4;
  if (c < 35) return (float)((rng_unit() * 2 - 1) * span * 0.8 * s);
  if (c < 60) return (float)(((double)rng_int(lo - z - 3, hi - z + 3) + 0.5) * s); /* ties */
  if (c < 70) return (float)((double)rng_int(lo - z - 3, hi - z + 3) * s);          /* exact codes */
  if (c < 75) return (float)((rng_unit() * 2 - 1) * span * 1000 * s);               /* far beyond */
  static const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, -0.0f, 0.0f, FLT_MAX, -FLT_MAX,
                                   1e-40f, -1e-40f, FLT_MIN, 3e38f};
  if (c < 90) return specials[rng_int(0, (int64_t)(sizeof specials / sizeof specials[0]) - 1)];
  return (float)(ldexp(rng_unit() * 2 - 1, (int)rng_int(-140, 10)));
}

/* The reference: ONNX QuantizeLinear in f32, then rint and saturation done
 * in double (no overflow below 2^53). */
static int64_t ref_quantize(float x, float s, int64_t z, int64_t lo, int64_t hi) {
  volatile float v = x / s; /* one f32 division, as the spec's f32 computation */
  if (isnan(v)) return z;
  double r = nearbyint((double)v) + (double)z;
  return r < (double)lo ? lo : r > (double)hi ? hi : (int64_t)r;
}

static const char *elem_text(IrElem e) { return ir_elem_name(e); }

/* Runs QuantizeLinear of f32 values to type qe on layout l (with or without
 * a zero point) and checks every element against ref_quantize. */
static void check_quantize_int(IrElem qe, const Layout *l, bool with_zp, bool special_scales) {
  int64_t lo, hi, pd[4];
  ir_elem_int_range(qe, &lo, &hi);
  int32_t pr = param_shape(l, pd);
  Tensor *s = tensor_new(IR_ELEM_F32, pr, pd), *z = with_zp ? tensor_new(qe, pr, pd) : NULL;
  Tensor *x = tensor_new(IR_ELEM_F32, l->rank, l->dims);
  float *sv = s->data, *xv = x->data;
  for (int64_t p = 0; p < s->numel; p++) {
    sv[p] = rand_scale(special_scales);
    if (z) tensor_set_i64(z, p, rng_int(lo, hi));
  }
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t p = param_of(l, i);
    xv[i] = rand_x(sv[p], z ? tensor_get_i64(z, p) : 0, lo, hi);
  }
  char sig[160], body[256], at[64];
  snprintf(sig, sizeof sig, "%%x: tensor<*xf32>, %%s: tensor<*xf32>%s%s%s", z ? ", %z: tensor<*x" : "",
           z ? elem_text(qe) : "", z ? ">" : "");
  snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s%s)%s: tensor<*x%s>\nreturn %%y", z ? ", %z" : "",
           layout_attrs(l, at, sizeof at), elem_text(qe));
  Tensor *in[3] = {x, s, z};
  KtRun r = kt_run(sig, body, in);
  if (!r.ok) fail_msg("%s: %s", body, r.err);
  assert_int_equal(r.out[0]->elem, qe);
  assert_int_equal(r.out[0]->numel, x->numel);
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t p = param_of(l, i), zp = z ? tensor_get_i64(z, p) : 0;
    int64_t want = ref_quantize(xv[i], sv[p], zp, lo, hi), got = tensor_get_i64(r.out[0], i);
    if (got != want)
      fail_msg("%s %s: element %lld: x %a s %a z %lld: got %lld, want %lld", elem_text(qe), body, (long long)i,
               (double)xv[i], (double)sv[p], (long long)zp, (long long)got, (long long)want);
    assert_int_equal(q_quantize_int(xv[i], sv[p], zp, lo, hi), want); /* the arithmetic of record agrees */
  }
  kt_free(&r);
  tensor_free(x);
  tensor_free(s);
  tensor_free(z);
}

static const IrElem quant_types[] = {IR_ELEM_I8, IR_ELEM_U8, IR_ELEM_I16, IR_ELEM_U16,
                                     IR_ELEM_I4, IR_ELEM_U4, IR_ELEM_I2,  IR_ELEM_U2};
#define NQTYPES (sizeof quant_types / sizeof quant_types[0])

static void test_quantize_int(void **state) {
  (void)state;
  rng_state = 0x9E3779B97F4A7C15u;
  for (size_t t = 0; t < NQTYPES; t++)
    for (size_t li = 0; li < NLAYOUTS; li++)
      for (int rep = 0; rep < 3; rep++) check_quantize_int(quant_types[t], &layouts[li], rep != 1, rep == 2);
}

/* Every tie k + 0.5 for k in [-300, 300] at scale 1 and 0.25 (exact), per
 * tensor: halves go to the even neighbour, both signs. Expected by hand:
 * k + 0.5 rounds to k when k is even, else k + 1. */
static void test_quantize_ties(void **state) {
  (void)state;
  int64_t d[1] = {1202};
  Tensor *x = tensor_new(IR_ELEM_F32, 1, d);
  float *xv = x->data;
  for (int64_t i = 0; i < 601; i++) {
    xv[2 * i] = (float)(i - 300) + 0.5f;
    xv[2 * i + 1] = -xv[2 * i];
  }
  static const float scales[] = {1.0f, 0.25f};
  for (int si = 0; si < 2; si++) {
    Tensor *s = tensor_new(IR_ELEM_F32, 0, NULL);
    *(float *)s->data = scales[si];
    Tensor *xs = tensor_clone(x);
    for (int64_t i = 0; i < xs->numel; i++) ((float *)xs->data)[i] *= scales[si];
    Tensor *in[2] = {xs, s};
    KtRun r = kt_run("%x: tensor<*xf32>, %s: tensor<*xf32>", "%y = QuantizeLinear(%x, %s) : tensor<*xi16>\nreturn %y",
                     in);
    assert_true(r.ok);
    for (int64_t i = 0; i < x->numel; i++) {
      int64_t k = (int64_t)floor(xv[i]); /* the tie lies between k and k + 1 */
      int64_t want = (k % 2 == 0) ? k : k + 1;
      assert_int_equal(tensor_get_i64(r.out[0], i), want);
    }
    kt_free(&r);
    tensor_free(xs);
    tensor_free(s);
  }
  tensor_free(x);
}

/* f8E4M3FN: the codes q_float_encode gives for the f32 quotient, with
 * saturate 1 and 0, on the random layouts and on a sweep of f32 bit
 * patterns (every 4099th pattern, and each code's midpoints to its
 * neighbours +-1 ulp). */
static void check_quantize_f8(const Tensor *x, const Tensor *s, const Layout *l, bool saturate) {
  char body[256], at[96];
  if (l->axis < 0)
    snprintf(at, sizeof at, "{saturate = %d}", saturate);
  else if (l->block == 0)
    snprintf(at, sizeof at, "{axis = %d, saturate = %d}", l->axis, saturate);
  else
    snprintf(at, sizeof at, "{axis = %d, block_size = %lld, saturate = %d}", l->axis, (long long)l->block, saturate);
  snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s) %s : tensor<*xf8E4M3FN>\nreturn %%y", at);
  Tensor *in[2] = {(Tensor *)x, (Tensor *)s};
  KtRun r = kt_run("%x: tensor<*xf32>, %s: tensor<*xf32>", body, in);
  if (!r.ok) fail_msg("%s: %s", body, r.err);
  const float *xv = x->data, *sv = s->data;
  for (int64_t i = 0; i < x->numel; i++) {
    float sc = sv[param_of(l, i)];
    volatile float v = xv[i] / sc;
    uint64_t want = 0;
    assert_true(q_float_encode(IR_ELEM_F8E4M3FN, v, saturate ? Q_OVERFLOW_SATURATE : Q_OVERFLOW_INF, &want));
    uint64_t got = tensor_get_bits(r.out[0], i);
    if (got != want)
      fail_msg("element %lld: x %a / s %a = %a: got 0x%02llx, want 0x%02llx (saturate %d)", (long long)i,
               (double)xv[i], (double)sc, (double)v, (unsigned long long)got, (unsigned long long)want, saturate);
  }
  kt_free(&r);
}

static void test_quantize_f8(void **state) {
  (void)state;
  rng_state = 0x51ED270B2A6F9C3Du;
  for (size_t li = 0; li < NLAYOUTS; li++) {
    const Layout *l = &layouts[li];
    int64_t pd[4];
    Tensor *s = tensor_new(IR_ELEM_F32, param_shape(l, pd), pd), *x = tensor_new(IR_ELEM_F32, l->rank, l->dims);
    for (int64_t p = 0; p < s->numel; p++) ((float *)s->data)[p] = rand_scale(true);
    for (int64_t i = 0; i < x->numel; i++)
      ((float *)x->data)[i] = rand_x(((float *)s->data)[param_of(l, i)], 0, -500, 500);
    check_quantize_f8(x, s, l, true);
    check_quantize_f8(x, s, l, false);
    tensor_free(x);
    tensor_free(s);
  }
  /* The sweep, per tensor with scale 1. */
  int64_t n = (int64_t)(UINT64_C(0x100000000) / 4099) + 1 + 127 * 6;
  Tensor *x = tensor_new(IR_ELEM_F32, 1, &n), *s = tensor_new(IR_ELEM_F32, 0, NULL);
  *(float *)s->data = 1.0f;
  float *xv = x->data;
  int64_t k = 0;
  for (uint64_t u = 0; u < UINT64_C(0x100000000); u += 4099) {
    uint32_t b = (uint32_t)u;
    memcpy(&xv[k++], &b, sizeof b);
  }
  for (uint64_t c = 0; c < 127; c++) { /* magnitudes: c and c + 1 (0x7F, NaN, stands for 480) */
    double a = q_float_decode(IR_ELEM_F8E4M3FN, c), b = c == 126 ? 480.0 : q_float_decode(IR_ELEM_F8E4M3FN, c + 1);
    float mid = (float)((a + b) / 2); /* exact: at most 5 significant bits */
    float m3[3] = {nextafterf(mid, 0), mid, nextafterf(mid, INFINITY)};
    for (int j = 0; j < 3; j++) {
      xv[k++] = m3[j];
      xv[k++] = -m3[j];
    }
  }
  assert_int_equal(k, n);
  Layout pt = {1, {n}, -1, 0};
  check_quantize_f8(x, s, &pt, true);
  check_quantize_f8(x, s, &pt, false);
  tensor_free(x);
  tensor_free(s);
}

/* The reference: ONNX DequantizeLinear, (q - zp) * s in f32 (exact
 * subtraction below 2^24); for 32-bit codes the product of the exact
 * difference in double, rounded to f32 (the interpreter's documented rule). */
static float ref_dequantize(int64_t q, int64_t z, float s, int bits) {
  if (bits >= 32) return (float)((double)(q - z) * (double)s);
  volatile float d = (float)q - (float)z;
  return d * s;
}

static void check_dequantize(IrElem qe, const Layout *l, bool with_zp, bool special_scales) {
  int64_t lo, hi, pd[4];
  ir_elem_int_range(qe, &lo, &hi);
  int32_t pr = param_shape(l, pd);
  Tensor *s = tensor_new(IR_ELEM_F32, pr, pd), *z = with_zp ? tensor_new(qe, pr, pd) : NULL;
  Tensor *x = tensor_new(qe, l->rank, l->dims);
  float *sv = s->data;
  for (int64_t p = 0; p < s->numel; p++) {
    sv[p] = rand_scale(special_scales);
    if (special_scales && rng_int(0, 9) == 0) sv[p] = rng_int(0, 1) ? NAN : -INFINITY;
    if (z) tensor_set_i64(z, p, rng_int(0, 3) == 0 ? (rng_int(0, 1) ? lo : hi) : rng_int(lo, hi));
  }
  for (int64_t i = 0; i < x->numel; i++)
    tensor_set_i64(x, i, rng_int(0, 4) == 0 ? (rng_int(0, 1) ? lo : hi) : rng_int(lo, hi));
  char sig[160], body[256], at[64];
  snprintf(sig, sizeof sig, "%%x: tensor<*x%s>, %%s: tensor<*xf32>%s%s%s", elem_text(qe), z ? ", %z: tensor<*x" : "",
           z ? elem_text(qe) : "", z ? ">" : "");
  snprintf(body, sizeof body, "%%y = DequantizeLinear(%%x, %%s%s)%s: tensor<*xf32>\nreturn %%y", z ? ", %z" : "",
           layout_attrs(l, at, sizeof at));
  Tensor *in[3] = {x, s, z};
  KtRun r = kt_run(sig, body, in);
  if (!r.ok) fail_msg("%s: %s", body, r.err);
  assert_int_equal(r.out[0]->elem, IR_ELEM_F32);
  const float *y = r.out[0]->data;
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t p = param_of(l, i), zp = z ? tensor_get_i64(z, p) : 0, q = tensor_get_i64(x, i);
    float want = ref_dequantize(q, zp, sv[p], ir_elem_bits(qe));
    if (memcmp(&want, &y[i], sizeof want) != 0 && !(isnan(want) && isnan(y[i])))
      fail_msg("%s %s: element %lld: q %lld z %lld s %a: got %a, want %a", elem_text(qe), body, (long long)i,
               (long long)q, (long long)zp, (double)sv[p], (double)y[i], (double)want);
  }
  kt_free(&r);
  tensor_free(x);
  tensor_free(s);
  tensor_free(z);
}

static const IrElem dequant_types[] = {IR_ELEM_I8, IR_ELEM_U8, IR_ELEM_I16, IR_ELEM_U16, IR_ELEM_I4,
                                       IR_ELEM_U4, IR_ELEM_I2, IR_ELEM_U2,  IR_ELEM_I32, IR_ELEM_U32};
#define NDQTYPES (sizeof dequant_types / sizeof dequant_types[0])

static void test_dequantize_int(void **state) {
  (void)state;
  rng_state = 0xD1B54A32D192ED03u;
  for (size_t t = 0; t < NDQTYPES; t++)
    for (size_t li = 0; li < NLAYOUTS; li++)
      for (int rep = 0; rep < 3; rep++) check_dequantize(dequant_types[t], &layouts[li], rep != 1, rep == 2);
}

/* Hand-checked dequantize values: i32 codes whose difference is beyond
 * 2^24 (f32 would round it first), i4 sign extension, u8 zero point 255.
 * (2^31 - 1) - (-2^31) = 2^32 - 1, times 1 in double, rounds to 2^32;
 * i4 codes -8, 7 with zp -8, s 0.5: 0, 7.5; u8 0 with zp 255, s 2: -510. */
static void test_dequantize_hand(void **state) {
  (void)state;
  int64_t d1[1] = {1};
  Tensor *x = tensor_new(IR_ELEM_I32, 1, d1), *s = tensor_new(IR_ELEM_F32, 0, NULL);
  Tensor *z = tensor_new(IR_ELEM_I32, 0, NULL);
  tensor_set_i64(x, 0, INT32_MAX);
  tensor_set_i64(z, 0, INT32_MIN);
  *(float *)s->data = 1.0f;
  Tensor *in[3] = {x, s, z};
  KtRun r = kt_run("%x: tensor<*xi32>, %s: tensor<*xf32>, %z: tensor<*xi32>",
                   "%y = DequantizeLinear(%x, %s, %z) : tensor<*xf32>\nreturn %y", in);
  assert_true(r.ok);
  assert_true(((float *)r.out[0]->data)[0] == 0x1p32f);
  kt_free(&r);
  tensor_free(x);
  tensor_free(z);
  int64_t d2[1] = {2};
  x = tensor_new(IR_ELEM_I4, 1, d2);
  z = tensor_new(IR_ELEM_I4, 0, NULL);
  tensor_set_i64(x, 0, -8);
  tensor_set_i64(x, 1, 7);
  tensor_set_i64(z, 0, -8);
  *(float *)s->data = 0.5f;
  Tensor *in2[3] = {x, s, z};
  r = kt_run("%x: tensor<*xi4>, %s: tensor<*xf32>, %z: tensor<*xi4>",
             "%y = DequantizeLinear(%x, %s, %z) : tensor<*xf32>\nreturn %y", in2);
  assert_true(r.ok);
  assert_true(((float *)r.out[0]->data)[0] == 0.0f && ((float *)r.out[0]->data)[1] == 7.5f);
  kt_free(&r);
  tensor_free(x);
  tensor_free(z);
  x = tensor_new(IR_ELEM_U8, 1, d1);
  z = tensor_new(IR_ELEM_U8, 0, NULL);
  tensor_set_i64(z, 0, 255);
  *(float *)s->data = 2.0f;
  Tensor *in3[3] = {x, s, z};
  r = kt_run("%x: tensor<*xu8>, %s: tensor<*xf32>, %z: tensor<*xu8>",
             "%y = DequantizeLinear(%x, %s, %z) : tensor<*xf32>\nreturn %y", in3);
  assert_true(r.ok);
  assert_true(((float *)r.out[0]->data)[0] == -510.0f);
  kt_free(&r);
  tensor_free(x);
  tensor_free(z);
  tensor_free(s);
}

/* Runs body twice, on in_fast and on in_slow (the same values in a type the
 * fast path does not take), and requires identical result bits. */
static void expect_same(const char *sig_fast, const char *sig_slow, const char *body, Tensor **in_fast,
                        Tensor **in_slow) {
  KtRun a = kt_run(sig_fast, body, in_fast), b = kt_run(sig_slow, body, in_slow);
  if (!a.ok || !b.ok) fail_msg("%s: %s %s", body, a.err, b.err);
  assert_int_equal(a.out[0]->elem, b.out[0]->elem);
  assert_int_equal(a.out[0]->numel, b.out[0]->numel);
  for (int64_t i = 0; i < a.out[0]->numel; i++)
    if (tensor_get_bits(a.out[0], i) != tensor_get_bits(b.out[0], i))
      fail_msg("%s: element %lld: fast 0x%llx, generic 0x%llx", body, (long long)i,
               (unsigned long long)tensor_get_bits(a.out[0], i), (unsigned long long)tensor_get_bits(b.out[0], i));
  kt_free(&a);
  kt_free(&b);
}

/* QuantizeLinear with x as f64 (exactly the f32 values) takes the generic
 * loop; the fast path on the f32 values must agree bit for bit. Likewise
 * DequantizeLinear with i64 codes and zero points holding the same values. */
static void test_fast_equals_generic(void **state) {
  (void)state;
  rng_state = 0x2545F4914F6CDD1Du;
  static const IrElem qt[] = {IR_ELEM_I8, IR_ELEM_U8, IR_ELEM_I4, IR_ELEM_U16, IR_ELEM_F8E4M3FN};
  for (size_t t = 0; t < sizeof qt / sizeof qt[0]; t++)
    for (size_t li = 0; li < NLAYOUTS; li++) {
      const Layout *l = &layouts[li];
      IrElem qe = qt[t];
      bool f8 = qe == IR_ELEM_F8E4M3FN;
      int64_t lo = -500, hi = 500, pd[4];
      if (!f8) ir_elem_int_range(qe, &lo, &hi);
      int32_t pr = param_shape(l, pd);
      Tensor *s = tensor_new(IR_ELEM_F32, pr, pd), *z = f8 ? NULL : tensor_new(qe, pr, pd);
      Tensor *x = tensor_new(IR_ELEM_F32, l->rank, l->dims), *x64 = tensor_new(IR_ELEM_F64, l->rank, l->dims);
      for (int64_t p = 0; p < s->numel; p++) {
        ((float *)s->data)[p] = rand_scale(true);
        if (z) tensor_set_i64(z, p, rng_int(lo, hi));
      }
      for (int64_t i = 0; i < x->numel; i++) {
        int64_t p = param_of(l, i);
        ((float *)x->data)[i] = rand_x(((float *)s->data)[p], z ? tensor_get_i64(z, p) : 0, lo, hi);
        ((double *)x64->data)[i] = ((float *)x->data)[i];
      }
      char sf[160], ss[160], body[256], at[64];
      const char *zs = z ? ", %z: tensor<*x" : "", *zn = z ? elem_text(qe) : "", *zc = z ? ">" : "";
      snprintf(sf, sizeof sf, "%%x: tensor<*xf32>, %%s: tensor<*xf32>%s%s%s", zs, zn, zc);
      snprintf(ss, sizeof ss, "%%x: tensor<*xf64>, %%s: tensor<*xf32>%s%s%s", zs, zn, zc);
      snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s%s)%s: tensor<*x%s>\nreturn %%y", z ? ", %z" : "",
               layout_attrs(l, at, sizeof at), elem_text(qe));
      Tensor *inf[3] = {x, s, z}, *ins[3] = {x64, s, z};
      expect_same(sf, ss, body, inf, ins);
      if (!f8) { /* dequantize the codes: i64 takes the generic loop */
        KtRun q = kt_run(sf, body, inf);
        assert_true(q.ok);
        Tensor *c64 = tensor_new(IR_ELEM_I64, l->rank, l->dims), *z64 = tensor_new(IR_ELEM_I64, pr, pd);
        for (int64_t i = 0; i < c64->numel; i++) tensor_set_i64(c64, i, tensor_get_i64(q.out[0], i));
        for (int64_t p = 0; p < z64->numel; p++) tensor_set_i64(z64, p, tensor_get_i64(z, p));
        snprintf(sf, sizeof sf, "%%x: tensor<*x%s>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", zn, zn);
        snprintf(ss, sizeof ss, "%%x: tensor<*xi64>, %%s: tensor<*xf32>, %%z: tensor<*xi64>");
        snprintf(body, sizeof body, "%%y = DequantizeLinear(%%x, %%s, %%z)%s: tensor<*xf32>\nreturn %%y",
                 layout_attrs(l, at, sizeof at));
        Tensor *df[3] = {q.out[0], s, z}, *ds[3] = {c64, s, z64};
        expect_same(sf, ss, body, df, ds);
        kt_free(&q);
        tensor_free(c64);
        tensor_free(z64);
      }
      tensor_free(x);
      tensor_free(x64);
      tensor_free(s);
      tensor_free(z);
    }
}

/* A precision attribute other than f32 is outside the fast path: x and s
 * are rounded to bf16 (8 significant bits) first. By hand: 2049 -> 2048,
 * 301 (a tie between 300 and 302) -> 300; without the attribute the f32
 * path keeps 2049 and 301. */
static void test_precision_bf16(void **state) {
  (void)state;
  int64_t d[1] = {2};
  for (int bf = 0; bf < 2; bf++) {
    Tensor *x = tensor_new(IR_ELEM_F32, 1, d), *s = tensor_new(IR_ELEM_F32, 0, NULL);
    ((float *)x->data)[0] = 2049.0f;
    ((float *)x->data)[1] = 301.0f;
    *(float *)s->data = 1.0f;
    Tensor *in[2] = {x, s};
    KtRun r = kt_run("%x: tensor<*xf32>, %s: tensor<*xf32>",
                     bf ? "%y = QuantizeLinear(%x, %s) {precision = 16} : tensor<*xi16>\nreturn %y"
                        : "%y = QuantizeLinear(%x, %s) : tensor<*xi16>\nreturn %y",
                     in);
    if (!r.ok) fail_msg("%s", r.err);
    assert_int_equal(tensor_get_i64(r.out[0], 0), bf ? 2048 : 2049);
    assert_int_equal(tensor_get_i64(r.out[0], 1), bf ? 300 : 301);
    kt_free(&r);
    tensor_free(x);
    tensor_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_int),    cmocka_unit_test(test_quantize_ties),
      cmocka_unit_test(test_quantize_f8),     cmocka_unit_test(test_dequantize_int),
      cmocka_unit_test(test_dequantize_hand), cmocka_unit_test(test_fast_equals_generic),
      cmocka_unit_test(test_precision_bf16),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
