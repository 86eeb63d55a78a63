/* The fast path of compiler/interp/k_qlinear.c (u8/i8 operands, int16
 * operands + exact int32 GEMM in gemm_i32.c, im2col for convolutions)
 * against an independent reference written here from the ONNX formulas:
 *   MatMulInteger: y[.., i, j] = sum_p (A[.., i, p] - a_zp[i]) (B[.., p, j] - b_zp[j])
 *   ConvInteger:   y[n, m, o] = sum_{c in group, taps} (x[n, c, o*s + t*d - pb] - x_zp)
 *                                 (w[m, c, t] - w_zp[m]), taps in the padding skipped
 * computed with plain int64 loops. Shapes and values come from a seeded
 * LCG: K = 1, K not a multiple of the 32-column panel or the 256 k block,
 * batch dims with broadcasting, groups, depthwise, pads/strides/dilations,
 * 1-D/2-D/3-D convolutions, per-channel zero points and every u8/i8 mix.
 * Plus one long dot (K = 40000) whose exact sum exceeds int32, through
 * QLinearMatMul, worked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"

static uint32_t rng = 20261123u;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform-ish in [lo, hi] */
  rng = rng * 1664525u + 1013904223u;
  return lo + (int64_t)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static IrElem pick8(void) { return rnd(0, 1) ? IR_ELEM_U8 : IR_ELEM_I8; }
static const char *ename(IrElem e) { return e == IR_ELEM_U8 ? "u8" : "i8"; }

/* A tensor of e with random values over the type's whole range. */
static Tensor *rand_t(IrElem e, int32_t rank, const int64_t *dims) {
  Tensor *t = tensor_new(e, rank, dims);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_i64(t, i, e == IR_ELEM_U8 ? rnd(0, 255) : rnd(-128, 127));
  return t;
}

static int64_t get(const Tensor *t, int64_t i) { return tensor_get_i64(t, i); }

static void expect_i32(const Tensor *y, int32_t rank, const int64_t *dims, const int64_t *want, const char *what) {
  assert_non_null(y);
  assert_int_equal(y->elem, IR_ELEM_I32);
  assert_int_equal(y->rank, rank);
  for (int32_t i = 0; i < rank; i++) assert_int_equal(y->dims[i], dims[i]);
  for (int64_t i = 0; i < y->numel; i++)
    if (get(y, i) != want[i])
      fail_msg("%s: element %lld: got %lld, want %lld", what, (long long)i, (long long)get(y, i), (long long)want[i]);
}

/* One MatMulInteger case: A [ba.., m, k] x B [bb.., k, n] with batch dims
 * ba/bb (each 0 or 1 dims, broadcasting), zero points per row/column or
 * scalar. */
static void matmul_case_z(int64_t m, int64_t k, int64_t n, int64_t ba, int64_t bb, bool per_axis, int32_t zp_rank) {
  IrElem ea = pick8(), eb = pick8();
  int64_t ad[3], bd[3];
  int32_t ar = 0, br = 0;
  if (ba) ad[ar++] = ba;
  ad[ar++] = m, ad[ar++] = k;
  if (bb) bd[br++] = bb;
  bd[br++] = k, bd[br++] = n;
  /* zero points: scalar, 1-D per row / column, or (zp_rank 2) [m, 1] and
   * [1, n], which broadcast through the generic shift. */
  int32_t zr = per_axis ? zp_rank : 0;
  int64_t azd[2] = {m, 1}, bzd[2] = {zr == 2 ? 1 : n, n};
  Tensor *in[4] = {rand_t(ea, ar, ad), rand_t(eb, br, bd), rand_t(ea, zr, azd),
                   rand_t(eb, zr, zr == 2 ? bzd : bzd + 1)};
  int64_t nb = ba > bb ? ba : bb;
  if (nb == 0) nb = 1;
  int64_t *want = malloc((size_t)(nb * m * n) * sizeof *want);
  for (int64_t t = 0; t < nb; t++)
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        int64_t s = 0, ao = (ba > 1 ? t : 0) * m * k, bo = (bb > 1 ? t : 0) * k * n;
        for (int64_t p = 0; p < k; p++)
          s += (get(in[0], ao + i * k + p) - get(in[2], per_axis ? i : 0)) *
               (get(in[1], bo + p * n + j) - get(in[3], per_axis ? j : 0));
        want[(t * m + i) * n + j] = s;
      }
  char sig[256];
  snprintf(sig, sizeof sig, "%%a: tensor<*x%s>, %%b: tensor<*x%s>, %%az: tensor<*x%s>, %%bz: tensor<*x%s>",
           ename(ea), ename(eb), ename(ea), ename(eb));
  KtRun r = kt_run(sig, "%y = MatMulInteger(%a, %b, %az, %bz) : tensor<*xi32>\nreturn %y", in);
  if (!r.ok) fail_msg("%s", r.err);
  int64_t yd[3];
  int32_t yr = 0;
  if (ba || bb) yd[yr++] = nb;
  yd[yr++] = m, yd[yr++] = n;
  char what[128];
  snprintf(what, sizeof what, "matmul %s x %s m=%lld k=%lld n=%lld", ename(ea), ename(eb), (long long)m,
           (long long)k, (long long)n);
  expect_i32(r.out[0], yr, yd, want, what);
  kt_free(&r);
  free(want);
  for (int i = 0; i < 4; i++) tensor_free(in[i]);
}

static void matmul_case(int64_t m, int64_t k, int64_t n, int64_t ba, int64_t bb, bool per_axis) {
  matmul_case_z(m, k, n, ba, bb, per_axis, 1);
}

static void test_matmul_fixed_shapes(void **state) {
  (void)state;
  matmul_case(1, 1, 1, 0, 0, false);
  matmul_case(3, 1, 5, 0, 0, true);  /* K = 1 */
  matmul_case(5, 7, 3, 0, 0, true);  /* rows not a multiple of 4 */
  matmul_case(4, 64, 64, 0, 0, false);
  matmul_case(9, 65, 130, 0, 0, true); /* partial panel */
  matmul_case(6, 300, 70, 0, 0, true); /* K crosses the 256 block */
  matmul_case(2, 600, 3, 0, 0, false);
  matmul_case(3, 20, 5, 3, 3, true); /* batch */
  matmul_case(3, 20, 5, 2, 0, false); /* B broadcast */
  matmul_case(3, 20, 5, 0, 2, true); /* A broadcast */
  matmul_case(3, 20, 5, 1, 4, false);
  matmul_case_z(6, 70, 9, 0, 0, true, 2); /* [m, 1] / [1, n] zero points */
  matmul_case_z(5, 33, 40, 2, 2, true, 2);
}

static void test_matmul_random(void **state) {
  (void)state;
  for (int it = 0; it < 40; it++) {
    int64_t ba = rnd(0, 3), bb = rnd(0, 1) ? (ba > 1 ? (rnd(0, 1) ? ba : 1) : rnd(0, 3)) : 0;
    if (ba > 1 && bb > 1 && ba != bb) bb = ba;
    matmul_case(rnd(1, 13), rnd(1, 300), rnd(1, 100), ba, bb, rnd(0, 1));
  }
}

/* One ConvInteger case, nsp spatial dims. */
typedef struct CCase {
  int nsp;
  int64_t n, group, cg, mg, in[3], k[3], s[3], d[3], pb[3], pe[3];
  bool per_channel, no_zp;
} CCase;

static void conv_case(const CCase *c) {
  IrElem ex = pick8(), ew = pick8();
  int64_t ch = c->cg * c->group, mo = c->mg * c->group, out[3] = {1, 1, 1}, in3[3] = {1, 1, 1}, k3[3] = {1, 1, 1};
  int64_t s3[3] = {1, 1, 1}, d3[3] = {1, 1, 1}, p3[3] = {0, 0, 0};
  int64_t xd[5] = {c->n, ch}, wd[5] = {mo, c->cg}, yd[5] = {c->n, mo};
  for (int i = 0; i < c->nsp; i++) {
    int j = 3 - c->nsp + i;
    in3[j] = c->in[i], k3[j] = c->k[i], s3[j] = c->s[i], d3[j] = c->d[i], p3[j] = c->pb[i];
    out[j] = (c->in[i] + c->pb[i] + c->pe[i] - ((c->k[i] - 1) * c->d[i] + 1)) / c->s[i] + 1;
    xd[2 + i] = c->in[i], wd[2 + i] = c->k[i], yd[2 + i] = out[j];
  }
  int64_t wz_n = mo;
  Tensor *in[4] = {rand_t(ex, 2 + c->nsp, xd), rand_t(ew, 2 + c->nsp, wd), rand_t(ex, 0, NULL),
                   rand_t(ew, c->per_channel, &wz_n)};
  int64_t osp = out[0] * out[1] * out[2], isp = in3[0] * in3[1] * in3[2], ksz = k3[0] * k3[1] * k3[2];
  int64_t *want = malloc((size_t)(c->n * mo * osp) * sizeof *want);
  for (int64_t b = 0; b < c->n; b++)
    for (int64_t m = 0; m < mo; m++)
      for (int64_t o0 = 0; o0 < out[0]; o0++)
        for (int64_t o1 = 0; o1 < out[1]; o1++)
          for (int64_t o2 = 0; o2 < out[2]; o2++) {
            int64_t s = 0, xz = c->no_zp ? 0 : get(in[2], 0), wz = c->no_zp ? 0 : get(in[3], c->per_channel ? m : 0);
            for (int64_t ci = 0; ci < c->cg; ci++)
              for (int64_t t0 = 0; t0 < k3[0]; t0++)
                for (int64_t t1 = 0; t1 < k3[1]; t1++)
                  for (int64_t t2 = 0; t2 < k3[2]; t2++) {
                    int64_t i0 = o0 * s3[0] + t0 * d3[0] - p3[0], i1 = o1 * s3[1] + t1 * d3[1] - p3[1];
                    int64_t i2 = o2 * s3[2] + t2 * d3[2] - p3[2];
                    if (i0 < 0 || i0 >= in3[0] || i1 < 0 || i1 >= in3[1] || i2 < 0 || i2 >= in3[2]) continue;
                    int64_t xc = b * ch + m / c->mg * c->cg + ci;
                    int64_t xv = get(in[0], xc * isp + (i0 * in3[1] + i1) * in3[2] + i2);
                    int64_t wv = get(in[1], (m * c->cg + ci) * ksz + (t0 * k3[1] + t1) * k3[2] + t2);
                    s += (xv - xz) * (wv - wz);
                  }
            want[((b * mo + m) * out[0] + o0) * out[1] * out[2] + o1 * out[2] + o2] = s;
          }
  char sig[256], body[512], l[4][64] = {"", "", "", ""};
  const char *key[3] = {"dilations", "pads", "strides"};
  for (int a = 0; a < 3; a++) {
    const int64_t *v = a == 0 ? c->d : a == 2 ? c->s : NULL;
    char *p = l[a];
    p += sprintf(p, "%s = [", key[a]);
    for (int i = 0; i < (a == 1 ? 2 : 1) * c->nsp; i++)
      p += sprintf(p, "%s%lld", i ? ", " : "",
                   (long long)(v ? v[i] : i < c->nsp ? c->pb[i] : c->pe[i - c->nsp]));
    sprintf(p, "]");
  }
  snprintf(sig, sizeof sig, "%%x: tensor<*x%s>, %%w: tensor<*x%s>, %%xz: tensor<*x%s>, %%wz: tensor<*x%s>",
           ename(ex), ename(ew), ename(ex), ename(ew));
  snprintf(body, sizeof body, "%%y = ConvInteger(%%x, %%w%s) {%s, group = %lld, %s, %s} : tensor<*xi32>\nreturn %%y",
           c->no_zp ? "" : ", %xz, %wz", l[0], (long long)c->group, l[1], l[2]);
  KtRun r = kt_run(sig, body, in);
  if (!r.ok) fail_msg("%s\n%s", r.err, body);
  char what[600];
  snprintf(what, sizeof what, "conv %s x %s n=%lld cg=%lld mg=%lld: %s", ename(ex), ename(ew), (long long)c->n,
           (long long)c->cg, (long long)c->mg, body);
  expect_i32(r.out[0], 2 + c->nsp, yd, want, what);
  kt_free(&r);
  free(want);
  for (int i = 0; i < 4; i++) tensor_free(in[i]);
}

static void test_conv_fixed_shapes(void **state) {
  (void)state;
  /* pointwise 1x1 (no im2col) */
  conv_case(&(CCase){2, 1, 1, 5, 7, {4, 3}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true, false});
  /* 3x3 pad 1 stride 2, per-channel w zp */
  conv_case(&(CCase){2, 2, 1, 3, 6, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, false});
  /* depthwise 3x3, 8 channels */
  conv_case(&(CCase){2, 1, 8, 1, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true, false});
  /* depthwise multiplier 2, dilation 2, asymmetric pads */
  conv_case(&(CCase){2, 1, 3, 1, 2, {6, 7}, {3, 2}, {1, 2}, {2, 1}, {2, 0}, {1, 1}, false, false});
  /* groups 2, no zero points */
  conv_case(&(CCase){2, 2, 2, 3, 2, {5, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 1}, {1, 0}, false, true});
  /* 1-D with a long reduction (K = 40 * 9 = 360 > 256) */
  conv_case(&(CCase){1, 1, 1, 40, 5, {30}, {9}, {3}, {1}, {4}, {4}, true, false});
  /* 3-D */
  conv_case(&(CCase){3, 1, 2, 2, 3, {3, 4, 5}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 1, 0}, {0, 1, 1}, true, false});
}

static void test_conv_random(void **state) {
  (void)state;
  for (int it = 0; it < 40; it++) {
    CCase c = {.nsp = (int)rnd(1, 3), .n = rnd(1, 2), .group = rnd(1, 4)};
    c.per_channel = rnd(0, 1), c.no_zp = !rnd(0, 5);
    bool dw = !rnd(0, 3);
    c.cg = dw ? 1 : rnd(1, 6), c.mg = dw ? 1 : rnd(1, 6);
    for (int i = 0; i < c.nsp; i++) {
      c.k[i] = rnd(1, 3), c.d[i] = rnd(1, 2), c.s[i] = rnd(1, 3), c.pb[i] = rnd(0, 2), c.pe[i] = rnd(0, 2);
      int64_t span = (c.k[i] - 1) * c.d[i] + 1;
      c.in[i] = rnd(span, span + (c.nsp == 3 ? 4 : 9));
    }
    conv_case(&c);
  }
}

/* QLinearMatMul, A [1, 40000] of u8 255 (zp 0), B [40000, 1] of i8 -128
 * with zp 127 (so w - zp = -255), every scale 1 except y_scale 2^25:
 *   acc = 40000 * 255 * -255 = -2601000000 (below -2^31, needs int64)
 *   acc * 2^-25 = -77.515..., rint -78, + y_zp 100 = 22 (u8).
 * A wrapped int32 sum (1693967296) would give 100 + 50.48 -> 150. */
static void test_qlinear_matmul_long_dot(void **state) {
  (void)state;
  const int64_t k = 40000, ad[2] = {1, 40000}, bd[2] = {40000, 1};
  Tensor *in[8] = {tensor_new(IR_ELEM_U8, 2, ad), tensor_new(IR_ELEM_F32, 0, NULL), tensor_new(IR_ELEM_U8, 0, NULL),
                   tensor_new(IR_ELEM_I8, 2, bd), tensor_new(IR_ELEM_F32, 0, NULL), tensor_new(IR_ELEM_I8, 0, NULL),
                   tensor_new(IR_ELEM_F32, 0, NULL), tensor_new(IR_ELEM_U8, 0, NULL)};
  for (int64_t i = 0; i < k; i++) tensor_set_i64(in[0], i, 255), tensor_set_i64(in[3], i, -128);
  tensor_set_f64(in[1], 0, 1.0), tensor_set_i64(in[2], 0, 0), tensor_set_f64(in[4], 0, 1.0);
  tensor_set_i64(in[5], 0, 127), tensor_set_f64(in[6], 0, 33554432.0), tensor_set_i64(in[7], 0, 100);
  KtRun r = kt_run("%a: tensor<*xu8>, %as: tensor<*xf32>, %az: tensor<*xu8>, %b: tensor<*xi8>, %bs: tensor<*xf32>, "
                   "%bz: tensor<*xi8>, %ys: tensor<*xf32>, %yz: tensor<*xu8>",
                   "%y = QLinearMatMul(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : tensor<*xu8>\nreturn %y", in);
  if (!r.ok) fail_msg("%s", r.err);
  assert_int_equal(r.out[0]->numel, 1);
  assert_int_equal(get(r.out[0], 0), 22);
  kt_free(&r);
  for (int i = 0; i < 8; i++) tensor_free(in[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matmul_fixed_shapes), cmocka_unit_test(test_matmul_random),
      cmocka_unit_test(test_conv_fixed_shapes),   cmocka_unit_test(test_conv_random),
      cmocka_unit_test(test_qlinear_matmul_long_dot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
