/* Test of the convolutions on whichever path this build compiled: the
 * direct ones, depthwise (runtime/qrt_dwconv.c, qrt_dwconv_q8) and few
 * channels per group (runtime/qrt_dconv.c, qrt_conv_direct_q8, on depthwise
 * shapes too), and the GEMM one (runtime/qrt_conv.c, qrt_conv_q8: padded
 * copies, column phases, panel packing) on the same shapes:
 * random shapes, groups, strides, dilations and paddings (small images
 * under large kernels, where the VNNI kernels skip padding rows; KW 1 to 9
 * across the four-tap groups and column phases; rows not a multiple of 16;
 * more output channels than one 16-channel pass; shapes outside
 * qrt_conv_direct_fits), u8 and s8 (x_xor) activations, int32 and requantized
 * outputs (per tensor and per channel, with and without bias, with a fused
 * byte table), against an int64 reference written here; the bytes around
 * the output are checked untouched. Each case runs serially and on a pool
 * of 3 threads. Exit 0: all passed; 1: a mismatch; 77: the CPU lacks the
 * path (ctest SKIP_RETURN_CODE). Built by runtime/CMakeLists.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrt_conv.h"
#include "qrt_gemm.h"
#include "qrt_test_util.h"

#define SENT 0xA5
#define GUARD 64

static long checks, failures;

typedef struct dw_case {
  qrt_conv c;
  int direct; /* 0 qrt_dwconv_q8, 1 qrt_conv_direct_q8, 2 qrt_conv_q8 (through the GEMM) */
  int64_t PB, PR; /* bottom and right padding (implied in qrt_conv by OH, OW) */
} dw_case;

static void report(const dw_case *d, const char *what, int64_t at, int64_t got, int64_t want) {
  const qrt_conv *c = &d->c;
  if (failures++ < 20)
    fprintf(stderr,
            "FAIL %s %s: N=%lld C=%lld M=%lld group=%lld H=%lld W=%lld K=%lldx%lld S=%lld,%lld D=%lld,%lld "
            "pad=%lld,%lld xor=%d rq=%s lut=%s at %lld: got %lld want %lld\n",
            d->direct == 2 ? "gemm" : d->direct ? "direct" : "depthwise", what, (long long)c->N, (long long)c->C, (long long)c->M,
            (long long)c->group, (long long)c->H, (long long)c->W, (long long)c->KH,
            (long long)c->KW, (long long)c->SH, (long long)c->SW, (long long)c->DH, (long long)c->DW,
            (long long)c->PT, (long long)c->PL, c->x_xor, c->rq ? (c->rq->per_channel ? "per-channel" : "per-tensor")
                                                                 : "none",
            c->lut ? "yes" : "no", (long long)at, (long long)got, (long long)want);
}

/* acc[n][m][oh][ow] = sum over the group's input channels and taps of
 * (x ^ xor, or the padding byte) * w, in int64 */
static void reference(const qrt_conv *c, const uint8_t *x, const int8_t *w, int64_t *acc) {
  int64_t Cg = c->C / c->group, Mg = c->M / c->group;
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t m = 0; m < c->M; m++)
      for (int64_t oh = 0; oh < c->OH; oh++)
        for (int64_t ow = 0; ow < c->OW; ow++) {
          int64_t s = 0;
          for (int64_t ci = 0; ci < Cg; ci++)
            for (int64_t kh = 0; kh < c->KH; kh++)
              for (int64_t kw = 0; kw < c->KW; kw++) {
                int64_t ih = oh * c->SH + kh * c->DH - c->PT, iw = ow * c->SW + kw * c->DW - c->PL;
                int64_t ch = m / Mg * Cg + ci;
                int64_t v = ih >= 0 && ih < c->H && iw >= 0 && iw < c->W
                                ? (uint8_t)(x[((n * c->C + ch) * c->H + ih) * c->W + iw] ^ c->x_xor)
                                : c->pad;
                s += v * w[((m * Cg + ci) * c->KH + kh) * c->KW + kw];
              }
          acc[((n * c->M + m) * c->OH + oh) * c->OW + ow] = s;
        }
}

static void run_case(dw_case *d, int rq_mode, int with_lut, qrt_pool *pool3) {
  qrt_conv *c = &d->c;
  int64_t xin = c->N * c->C * c->H * c->W, nw = c->M * (c->C / c->group) * c->KH * c->KW, P = c->OH * c->OW,
          nout = c->N * c->M * P;
  uint8_t *x = xmalloc(xin);
  int8_t *w = xmalloc(nw);
  int64_t *acc = xmalloc(nout * 8), *amax = xmalloc(c->M * 8);
  fill_u8(x, xin, 0);
  fill_s8(w, nw, 0);
  if (rnd() % 8 == 0) /* the extremes */
    for (int64_t i = 0; i < nw; i++) w[i] = rnd() % 2 ? 127 : -128;
  reference(c, x, w, acc);
  for (int64_t ch = 0; ch < c->M; ch++) amax[ch] = 0;
  for (int64_t i = 0; i < nout; i++) {
    int64_t ch = i / P % c->M, a = acc[i] < 0 ? -acc[i] : acc[i];
    if (a > amax[ch]) amax[ch] = a;
  }
  rq_case rc;
  uint8_t lut[256];
  c->rq = NULL;
  c->lut = NULL;
  if (rq_mode) {
    rq_make(&rc, c->M, amax, rq_mode == 2, rnd() % 2, rnd() % 2);
    c->rq = &rc.rq;
    if (with_lut) {
      for (int i = 0; i < 256; i++) lut[i] = (uint8_t)rnd();
      c->lut = lut;
    }
  }
  int64_t es = rq_mode ? 1 : 4, ybytes = nout * es;
  uint8_t *ybuf = xmalloc(ybytes + 2 * GUARD), *scratch = xmalloc(qrt_conv_scratch_bytes(c));
  c->scratch = scratch;
  void *wpacked = NULL;
  if (d->direct == 0) {
    wpacked = xmalloc(qrt_dwconv_weights_bytes(c));
    qrt_dwconv_pack(c, w, wpacked);
  } else if (d->direct == 1) {
    wpacked = xmalloc(qrt_conv_direct_packed_bytes(c));
    qrt_conv_direct_pack(c, w, wpacked);
  } else if (d->direct == 2) { /* qrt_pack_a per group, 64-byte aligned groups */
    int64_t Mg = c->M / c->group, K = c->C / c->group * c->KH * c->KW;
    c->w_group_bytes = ((int64_t)qrt_pack_a_size(Mg, K) + 63) / 64 * 64;
    wpacked = xmalloc(c->w_group_bytes * c->group);
    for (int64_t g = 0; g < c->group; g++)
      qrt_pack_a(w + g * Mg * K, Mg, K, (uint8_t *)wpacked + g * c->w_group_bytes);
    c->w = wpacked;
  }
  for (int run = 0; run < 2; run++) {
    memset(ybuf, SENT, (size_t)(ybytes + 2 * GUARD));
    if (d->direct == 2)
      qrt_conv_q8(c, x, ybuf + GUARD, run ? pool3 : NULL);
    else if (d->direct)
      qrt_conv_direct_q8(c, wpacked, x, ybuf + GUARD, run ? pool3 : NULL);
    else
      qrt_dwconv_q8(c, wpacked, x, ybuf + GUARD, run ? pool3 : NULL);
    for (int64_t i = 0; i < GUARD; i++) {
      checks += 2;
      if (ybuf[i] != SENT) report(d, "byte before the output written", i - GUARD, ybuf[i], SENT);
      if (ybuf[GUARD + ybytes + i] != SENT) report(d, "byte after the output written", ybytes + i, ybuf[i], SENT);
    }
    for (int64_t i = 0; i < nout; i++) {
      int64_t got, want;
      if (!rq_mode) {
        int32_t v;
        memcpy(&v, ybuf + GUARD + i * 4, 4);
        got = v, want = acc[i];
      } else {
        int64_t ch = i / P % c->M;
        int32_t r = rq_want(&rc, acc[i], ch);
        uint8_t b = (uint8_t)(c->rq->out_signed ? (uint8_t)(int8_t)r : (uint8_t)r);
        want = with_lut ? lut[b] : b;
        got = ybuf[GUARD + i];
      }
      checks++;
      if (got != want) report(d, run ? "output (3 threads)" : "output", i, got, want);
    }
  }
  if (rq_mode) rq_free(&rc);
  free(x), free(w), free(wpacked), free(acc), free(amax), free(ybuf), free(scratch);
}

/* A random case; small images under large kernels are common on purpose.
 * direct (1, or 2 for the GEMM): groups of 1-6 input and 1-40 output
 * channels (a third of them depthwise shapes), else depthwise. */
static int make_case(dw_case *d, int direct) {
  qrt_conv *c = &d->c;
  memset(d, 0, sizeof *d);
  d->direct = direct;
  c->N = rnd_in(1, 2);
  c->C = rnd_in(1, 19);
  c->M = c->group = c->C;
  if (direct && rnd() % 3) {
    c->group = rnd_in(1, 3);
    c->C = c->group * rnd_in(1, 6);
    c->M = c->group * (rnd() % 2 ? rnd_in(1, 8) : rnd_in(9, 40));
  }
  c->KH = rnd_in(1, 7);
  c->KW = rnd_in(1, 9);
  c->H = rnd_in(1, 9);
  c->W = rnd() % 4 ? rnd_in(1, 40) : rnd_in(41, 140);
  c->SH = rnd() % 3 ? 1 : rnd_in(2, 3);
  c->SW = rnd() % 3 ? 1 : rnd_in(2, 3);
  c->DH = rnd() % 4 ? 1 : 2;
  c->DW = rnd() % 4 ? 1 : 2;
  c->PT = rnd_in(0, 3);
  c->PL = rnd_in(0, 3);
  d->PB = rnd_in(0, 3);
  d->PR = rnd_in(0, 3);
  int64_t eh = (c->KH - 1) * c->DH + 1, ew = (c->KW - 1) * c->DW + 1;
  if (c->H + c->PT + d->PB < eh || c->W + c->PL + d->PR < ew) return 0;
  c->OH = (c->H + c->PT + d->PB - eh) / c->SH + 1;
  c->OW = (c->W + c->PL + d->PR - ew) / c->SW + 1;
  c->x_xor = rnd() % 2 ? 0x80 : 0;
  c->pad = (uint8_t)rnd();
  return 1;
}

int main(void) {
  int rc = qrt_test_path_check();
  if (rc != 0) return rc;
  qrt_pool *pool3 = qrt_pool_create(3);
  if (!pool3) {
    fprintf(stderr, "could not start a pool of 3 threads\n");
    return 1;
  }
  int cases = 0;
  while (cases < 4500) {
    dw_case d;
    if (!make_case(&d, cases % 3)) continue;
    int mode = cases / 3 % 3; /* int32, per tensor, per channel */
    run_case(&d, mode, mode && cases / 9 % 2, pool3);
    cases++;
  }
  /* the dev models' shapes: ppocr_cls's depthwise 5x5 on 2 and 3 rows of
   * 96, 3x3 at stride 2, its stem (3 -> 8, 3x3, stride 2); mnist8's 5x5
   * convolutions (1 -> 8 on 28x28, 8 -> 16 on 14x14) */
  static const int64_t dev[][10] = {{200, 200, 2, 96, 5, 5, 1, 1, 2, 0}, {88, 88, 3, 96, 5, 5, 1, 1, 2, 0},
                                    {104, 104, 3, 96, 5, 5, 2, 1, 2, 0}, {8, 8, 24, 96, 3, 3, 2, 1, 1, 0},
                                    {3, 8, 48, 192, 3, 3, 2, 2, 1, 1},   {1, 8, 28, 28, 5, 5, 1, 1, 2, 1},
                                    {8, 16, 14, 14, 5, 5, 1, 1, 2, 1}};
  for (size_t i = 0; i < sizeof dev / sizeof *dev; i++)
    for (int mode = 0; mode < 3; mode++) {
      dw_case d;
      memset(&d, 0, sizeof d);
      qrt_conv *c = &d.c;
      c->N = 1, c->C = dev[i][0], c->M = dev[i][1], c->H = dev[i][2], c->W = dev[i][3];
      c->group = dev[i][9] ? 1 : c->C;
      c->KH = dev[i][4], c->KW = dev[i][5], c->SH = dev[i][6], c->SW = dev[i][7], c->DH = c->DW = 1;
      c->PT = c->PL = d.PB = d.PR = dev[i][8];
      c->OH = (c->H + 2 * c->PT - c->KH) / c->SH + 1, c->OW = (c->W + 2 * c->PL - c->KW) / c->SW + 1;
      c->pad = (uint8_t)rnd();
      c->x_xor = mode == 1 ? 0x80 : 0;
      for (d.direct = dev[i][9]; d.direct < 3; d.direct++) {
        run_case(&d, mode, mode == 2, pool3);
        cases++;
      }
    }
  qrt_pool_destroy(pool3);
  printf("qrt_dwconv/qrt_conv_direct/qrt_conv_q8 path %s: %d cases (random shapes, groups, strides, dilations, paddings; u8/s8; "
         "int32, per-tensor, per-channel, byte table; 1 and 3 threads): %ld values checked, %ld mismatches\n",
         QRT_PATH_NAME, cases, checks, failures);
  return failures ? 1 : 0;
}
