/* Test of the int8 GEMM micro-kernels (runtime/qrt_gemm.h) on whichever path
 * this build compiled (scalar, avx2, avx512vnni, amx, aarch64-dotprod): both forms
 * against a naive int64 reference written here, requantized outputs against
 * this file's own formula (floor division written out, not qrt_requant1),
 * packed sums against sums taken here, untouched bytes around every store.
 * Plain C, no cmocka: it is also cross-compiled and run under qemu-aarch64.
 * Exit 0: all passed; 1: a mismatch (printed); 77: the CPU lacks the path's
 * instructions (ctest SKIP_RETURN_CODE). Built by runtime/CMakeLists.txt. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, for the guard-page test */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrt_gemm.h"
#include "qrt_test_util.h"
#if defined(QRT_PATH_AMX)
#include "qrt_gemm_internal.h" /* qrt_gemm_amx_usable */
#include <sys/mman.h>
#include <unistd.h>
#endif

static long checks, failures;
static const char *where = "";

static void fail(const char *what, int64_t M, int64_t N, int64_t K, int64_t m, int64_t n, int64_t got, int64_t want) {
  if (failures++ < 20)
    fprintf(stderr, "FAIL %s %s M=%lld N=%lld K=%lld at (%lld,%lld): got %lld want %lld\n", where, what, (long long)M,
            (long long)N, (long long)K, (long long)m, (long long)n, (long long)got, (long long)want);
}

#define SENT 0xA5

/* Checks C (element size es, row stride ldc) over M x [0, ldc): inside
 * [n0,n1) against want(), elsewhere the sentinel. */
static void check_out(const char *what, const uint8_t *C, int es, int64_t M, int64_t N, int64_t K, int64_t ldc,
                      int64_t n0, int64_t n1, const int64_t *dot, const rq_case *rc, int chan_is_row) {
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < ldc; n++) {
      const uint8_t *p = C + (m * ldc + n) * es;
      checks++;
      if (n < n0 || n >= n1) {
        for (int b = 0; b < es; b++)
          if (p[b] != SENT) {
            fail(what, M, N, K, m, n, p[b], SENT);
            break;
          }
        continue;
      }
      int64_t d = dot[m * N + n];
      if (!rc) {
        int32_t got;
        memcpy(&got, p, 4);
        if (got != d) fail(what, M, N, K, m, n, got, d);
      } else {
        int32_t want = rq_want(rc, d, chan_is_row ? m : n);
        int32_t got = rc->rq.out_signed ? (int32_t)(int8_t)p[0] : (int32_t)p[0];
        if (got != want) fail(what, M, N, K, m, n, got, want);
      }
    }
}

/* Form A on one shape: B source laid out normal or transposed, full and a
 * sub-range of columns, int32 and requantized (u8 per tensor, s8 per channel). */
static void test_form_a(int64_t M, int64_t N, int64_t K, int fill) {
  int64_t lda = K + (int64_t)(rnd() % 5), ldc = N + (int64_t)(rnd() % 3);
  /* A is exactly as long as its last row needs: reads past it are caught by ASan */
  int64_t asz = (M - 1) * lda + K;
  uint8_t *A = xmalloc(asz);
  int8_t *B = xmalloc(K * N);
  fill_u8(A, asz, fill);
  fill_s8(B, K * N, fill);
  int trans = rnd() % 2;
  int64_t sk = trans ? 1 : N, sn = trans ? K : 1;
  void *bp = xmalloc((int64_t)qrt_pack_b_size(K, N));
  qrt_pack_b(B, sk, sn, K, N, bp);
  int64_t *dot = calloc((size_t)(M * N), sizeof *dot), *amax = calloc((size_t)N, sizeof *amax);
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; k++)
        s += (int64_t)A[m * lda + k] * B[k * sk + n * sn];
      dot[m * N + n] = s;
      if ((s < 0 ? -s : s) > amax[n]) amax[n] = s < 0 ? -s : s;
    }
  const int32_t *cs = qrt_packed_b_colsum(bp, K, N);
  for (int64_t n = 0; n < qrt_round_up(N, 16); n++) {
    int64_t s = 0;
    for (int64_t k = 0; n < N && k < K; k++)
      s += B[k * sk + n * sn];
    checks++;
    if (cs[n] != s) fail("colsum", 1, N, K, 0, n, cs[n], s);
  }
  uint8_t *C = xmalloc(M * ldc * 4);
  for (int r = 0; r < 4; r++) {
    int64_t n0 = 0, n1 = N;
    if (r % 2 && N > 1) { /* a sub-range as a thread would get */
      n0 = (int64_t)(rnd() % (uint32_t)((N + 15) / 16)) * 16;
      n1 = n0 + 1 + (int64_t)(rnd() % (uint32_t)(N - n0));
    }
    rq_case rc;
    int use_rq = r >= 2;
    if (use_rq) rq_make(&rc, N, amax, r == 3, r == 3, rnd() % 4 != 0);
    memset(C, SENT, (size_t)(M * ldc * 4));
    qrt_gemm_u8s8(M, N, K, A, lda, bp, n0, n1, use_rq ? &rc.rq : NULL, C, ldc);
    check_out(use_rq ? (r == 3 ? "formA s8 per-channel" : "formA u8 per-tensor") : "formA int32", C, use_rq ? 1 : 4, M,
              N, K, ldc, n0, n1, dot, use_rq ? &rc : NULL, 0);
    if (use_rq) rq_free(&rc);
  }
  free(A), free(B), free(bp), free(dot), free(amax), free(C);
}

/* Form B on one shape: W packed, the panel built here from P [K][N] by the
 * header's rule (XOR QRT_PANEL_XOR, padding QRT_PANEL_XOR). */
static void test_form_b(int64_t M, int64_t N, int64_t K, int fill) {
  int64_t Kp = qrt_round_up(K, 4), Np = qrt_round_up(N, 16), ldc = N + (int64_t)(rnd() % 3);
  int8_t *W = xmalloc(M * K);
  uint8_t *P = xmalloc(K * N);
  fill_s8(W, M * K, fill);
  fill_u8(P, K * N, fill);
  void *wp = xmalloc((int64_t)qrt_pack_a_size(M, K));
  qrt_pack_a(W, M, K, wp);
  uint8_t *panel = xmalloc(Kp * Np);
  memset(panel, QRT_PANEL_XOR, (size_t)(Kp * Np));
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++)
      panel[(n / 16) * Kp * 16 + (k / 4) * 64 + (n % 16) * 4 + k % 4] = P[k * N + n] ^ QRT_PANEL_XOR;
  int64_t *dot = calloc((size_t)(M * N), sizeof *dot), *amax = calloc((size_t)M, sizeof *amax);
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; k++)
        s += (int64_t)W[m * K + k] * P[k * N + n];
      dot[m * N + n] = s;
      if ((s < 0 ? -s : s) > amax[m]) amax[m] = s < 0 ? -s : s;
    }
  const int32_t *rs = qrt_packed_a_rowsum(wp, M, K);
  for (int64_t m = 0; m < M; m++) {
    int64_t s = 0;
    for (int64_t k = 0; k < K; k++)
      s += W[m * K + k];
    checks++;
    if (rs[m] != s) fail("rowsum", M, 1, K, m, 0, rs[m], s);
  }
  uint8_t *C = xmalloc(M * ldc * 4);
  for (int r = 0; r < 3; r++) {
    rq_case rc;
    int use_rq = r >= 1;
    if (use_rq) rq_make(&rc, M, amax, r == 2, r == 1, rnd() % 4 != 0);
    memset(C, SENT, (size_t)(M * ldc * 4));
    qrt_gemm_s8u8(M, N, K, wp, panel, use_rq ? &rc.rq : NULL, C, ldc);
    check_out(use_rq ? (r == 2 ? "formB u8 per-channel" : "formB s8 per-tensor") : "formB int32", C, use_rq ? 1 : 4, M,
              N, K, ldc, 0, N, dot, use_rq ? &rc : NULL, 1);
    if (use_rq) rq_free(&rc);
  }
  free(W), free(P), free(wp), free(panel), free(dot), free(amax), free(C);
}

/* The requantizing epilogue at its edges, in full SIMD groups and in tails:
 * K = 1 so dot = a * w; channels cycle through m0 in {1, 3, 2^30, 2^31-1, -5}
 * and shift in {1, 2, 31, 45, 62} (ties with m0 = 1 or 3 and shift 1 or 2,
 * both signs; saturation at shift 1; everything to zp at 62); biases up to
 * 2^20; u8 and s8 outputs; form A (channel = column) and B (channel = row). */
static void test_epilogue_edges(void) {
  static const int32_t m0s[] = {1, 3, 1 << 30, 0x7fffffff, -5};
  static const int32_t shs[] = {1, 2, 31, 45, 62};
  enum { NCH = 100, NOTHER = 19 };
  int32_t bias[NCH], m0[NCH], sh[NCH];
  int8_t w[NCH];
  for (int c = 0; c < NCH; c++) {
    m0[c] = m0s[c % 5];
    sh[c] = shs[(c / 5) % 5];
    bias[c] = rnd_in(-(1 << 20), 1 << 20);
    if (c % 3 == 0) bias[c] = rnd_in(-3, 3);
    w[c] = (int8_t)(c * 37 % 256 - 128);
  }
  if (qrt_pack_b_size(1, NCH) > 4 * 112 + 112 * 4 || qrt_pack_a_size(NCH, 1) > 104 * 4 + 104 * 4 + 64) {
    fail("edge buffers too small for the packed sizes", NCH, NCH, 1, 0, 0, 0, 0);
    return;
  }
  uint8_t a[NOTHER];
  for (int i = 0; i < NOTHER; i++)
    a[i] = (uint8_t)(i == 0 ? 255 : i == 1 ? 0 : i == 2 ? 128 : rnd());
  for (int out_signed = 0; out_signed <= 1; out_signed++) {
    rq_case rc = {{bias, m0, sh, 1, 0, 0, 0, out_signed}, bias, m0, sh};
    if (out_signed)
      rc.rq.zp = -3, rc.rq.lo = -128, rc.rq.hi = 127;
    else
      rc.rq.zp = 7, rc.rq.lo = 0, rc.rq.hi = 255;
    /* form A: M = NOTHER rows of A, N = NCH columns */
    _Alignas(64) unsigned char bp[4 * 112 + 112 * 4];
    qrt_pack_b(w, NCH, 1, 1, NCH, bp);
    int64_t dot[NOTHER * NCH];
    for (int m = 0; m < NOTHER; m++)
      for (int n = 0; n < NCH; n++)
        dot[m * NCH + n] = (int64_t)a[m] * w[n];
    uint8_t C[NOTHER * NCH];
    memset(C, SENT, sizeof C);
    qrt_gemm_u8s8(NOTHER, NCH, 1, a, 1, bp, 0, NCH, &rc.rq, C, NCH);
    check_out("formA epilogue", C, 1, NOTHER, NCH, 1, NCH, 0, NCH, dot, &rc, 0);
    /* form B: M = NCH rows of W, N = NOTHER columns of the panel */
    _Alignas(64) unsigned char wp[104 * 4 + 104 * 4 + 64];
    qrt_pack_a(w, NCH, 1, wp);
    _Alignas(64) uint8_t panel[2 * 64];
    memset(panel, QRT_PANEL_XOR, sizeof panel);
    for (int n = 0; n < NOTHER; n++)
      panel[(n / 16) * 64 + (n % 16) * 4] = a[n] ^ QRT_PANEL_XOR;
    int64_t dotb[NCH * NOTHER];
    for (int m = 0; m < NCH; m++)
      for (int n = 0; n < NOTHER; n++)
        dotb[m * NOTHER + n] = (int64_t)w[m] * a[n];
    uint8_t Cb[NCH * NOTHER];
    memset(Cb, SENT, sizeof Cb);
    qrt_gemm_s8u8(NCH, NOTHER, 1, wp, panel, &rc.rq, Cb, NOTHER);
    check_out("formB epilogue", Cb, 1, NCH, NOTHER, 1, NOTHER, 0, NOTHER, dotb, &rc, 1);
  }
}

#if defined(QRT_PATH_AMX)
/* ASan does not see tile loads: here A ends exactly where an unmapped page
 * begins, so a tile reading past row M-1 or past K faults. Row and K tails
 * of every kind (M % 16, M % 32, K % 64, K % 4). */
static void test_guard_page(void) {
  static const int64_t shapes[][3] = {{17, 33, 100}, {1, 16, 1}, {31, 40, 63}, {33, 17, 130}, {16, 32, 64}, {5, 7, 67}};
  long pg = sysconf(_SC_PAGESIZE);
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], asz = M * K;
    size_t span = (size_t)((asz + pg - 1) / pg * pg);
    uint8_t *map = mmap(NULL, span + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map + span, (size_t)pg, PROT_NONE) != 0) {
      fail("guard page: mmap", M, N, K, 0, 0, 0, 0);
      return;
    }
    uint8_t *A = map + span - asz;
    int8_t *B = xmalloc(K * N);
    fill_u8(A, asz, 0);
    fill_s8(B, K * N, 0);
    void *bp = xmalloc((int64_t)qrt_pack_b_size(K, N));
    qrt_pack_b(B, N, 1, K, N, bp);
    int32_t *C = xmalloc(M * N * 4);
    qrt_gemm_u8s8(M, N, K, A, K, bp, 0, N, NULL, C, N);
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++) {
        int64_t want = 0;
        for (int64_t k = 0; k < K; k++)
          want += (int64_t)A[m * K + k] * B[k * N + n];
        checks++;
        if (C[m * N + n] != want) fail("guard page", M, N, K, m, n, C[m * N + n], want);
      }
    munmap(map, span + (size_t)pg);
    free(B), free(bp), free(C);
  }
}
#endif

int main(void) {
  int rc = qrt_test_path_check();
  if (rc != 0) return rc;
#if defined(QRT_PATH_AMX)
  /* Else form A would quietly run on VNNI and this test check nothing new. */
  if (!qrt_gemm_amx_usable()) {
    printf("skipped: this CPU lacks AMX int8, or the kernel refused the tile state\n");
    return 77;
  }
#endif
  static const int64_t sz[] = {1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257};
  const int ns = (int)(sizeof sz / sizeof *sz);
  int shapes = 0;
  /* Every small combination, and one in 7 of the others (fixed seed). */
  for (int i = 0; i < ns; i++)
    for (int j = 0; j < ns; j++)
      for (int k = 0; k < ns; k++) {
        int64_t M = sz[i], N = sz[j], K = sz[k];
        if (M * N * K > 40000 && (i * 225 + j * 15 + k) % 7 != 0) continue;
        where = "random";
        test_form_a(M, N, K, 0);
        test_form_b(M, N, K, 0);
        shapes++;
      }
  /* vpmaddubsw's saturation case (a = 255, w = 127 or -128 everywhere) and
   * the longest K the header promises exact (65536). */
  static const int64_t worst[][3] = {{3, 17, 257}, {5, 33, 64}, {17, 65, 100}, {2, 16, 65536}, {9, 3, 65533}};
  for (size_t i = 0; i < sizeof worst / sizeof *worst; i++)
    for (int fill = 1; fill <= 2; fill++) {
      where = fill == 1 ? "a=255,w=127" : "a=255,w=-128";
      test_form_a(worst[i][0], worst[i][1], worst[i][2], fill);
      test_form_b(worst[i][0], worst[i][1], worst[i][2], fill);
      shapes++;
    }
  /* A larger than the AVX-512 path's small-A bound (512 KiB), K large enough
   * that its B super-blocks hold one column block: the other loop order. */
  where = "large A";
  test_form_a(33, 100, 20001, 0);
  test_form_b(33, 100, 20001, 0);
  shapes++;
  where = "edges";
  test_epilogue_edges();
#if defined(QRT_PATH_AMX)
  where = "guard page";
  test_guard_page();
#endif
  printf("qrt_gemm path %s: %d shapes (random, a=255 x w=127/-128 up to K=65536, large A) x (form A: int32 "
         "full/sub-range, u8 per-tensor, s8 per-channel; form B: int32, s8 per-tensor, u8 per-channel) + epilogue "
         "edges: %ld values checked, %ld mismatches\n",
         QRT_PATH_NAME, shapes, checks, failures);
  return failures ? 1 : 0;
}
