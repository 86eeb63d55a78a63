/* x86 kernels of the int8 GEMM (qrt_gemm.h): AMX int8 (tdpbusd, form A),
 * AVX-512 VNNI (vpdpbusd) and
 * AVX2 (vpmaddubsw made exact by splitting the u8 operand, see below).
 * Compiled on every target; only the path qrt.h picked is built.
 * docs/backends/gemm.md explains the blocking. Test: test/unit/qrt/. */
/* syscall() for the AMX permission request (glibc declares it only with
 * _DEFAULT_SOURCE; the build defines _POSIX_C_SOURCE). */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE
#endif
#include "qrt_gemm_internal.h"

#if defined(QRT_PATH_AVX512VNNI) || defined(QRT_PATH_AVX2)
#include <immintrin.h>
#include <string.h>
#if defined(QRT_PATH_AMX)
#include <cpuid.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define QRT_INLINE static inline __attribute__((always_inline))

QRT_INLINE int32_t ld32(const void *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* 4 bytes of A at p (only the first n < 4 valid when n < 4; the rest 0). */
QRT_INLINE int32_t load4(const uint8_t *p, int64_t n) {
  uint8_t b[4] = {0, 0, 0, 0};
  memcpy(b, p, (size_t)(n < 4 ? n : 4));
  int32_t v;
  memcpy(&v, b, 4);
  return v;
}
#endif

/* ============================ AVX-512 VNNI =================================== */
#if defined(QRT_PATH_AVX512VNNI)
#include "qrt_x86_epilogue.h"

/* Form A micro-kernel: R rows x NR panels of 16 columns (R in 8/4/2/1, NR
 * in 3/2/1, so the last rows and columns and small M compute nothing they
 * throw away), up to 24 zmm accumulators named one by one (GCC keeps an
 * array of vectors in memory). Per k-group: NR loads of B, R broadcasts of
 * A, R*NR vpdpbusd. Rows past mr (< R) recompute row mr-1 (A is not padded)
 * and are not stored. B comes from the packed panels (zero beyond K), A 4
 * bytes at a time, broadcast; the K%4 tail group reads only the valid bytes
 * of A. */
/* Loop order switch and B super-block size (docs/backends/gemm.md). */
#define QRT_A_SMALL (512 * 1024)
#define QRT_B_SUPER (1024 * 1024)
#define AMR 8
#define A_ROW(i, av)                                                                                                   \
  do {                                                                                                                 \
    if (R > i) {                                                                                                       \
      __m512i v_ = (av);                                                                                               \
      c##i##0 = dpbusd(c##i##0, v_, b0);                                                                               \
      if (NR > 1) c##i##1 = dpbusd(c##i##1, v_, b1);                                                                   \
      if (NR > 2) c##i##2 = dpbusd(c##i##2, v_, b2);                                                                   \
    }                                                                                                                  \
  } while (0)
#define A_BCAST(i) _mm512_set1_epi32(ld32(a##i + g * 4))
#define A_STORE(i)                                                                                                     \
  do {                                                                                                                 \
    if (R > i && i < mr) {                                                                                             \
      store_cols(e, c##i##0, colmask(ncols), row0 + i, col0, C, ldc);                                                  \
      if (NR > 1) store_cols(e, c##i##1, colmask(ncols - 16), row0 + i, col0 + 16, C, ldc);                            \
      if (NR > 2) store_cols(e, c##i##2, colmask(ncols - 32), row0 + i, col0 + 32, C, ldc);                            \
    }                                                                                                                  \
  } while (0)

QRT_INLINE void ka_avx512(int R, int NR, int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B,
                          int64_t ps, const ep512 *e, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {
#define A_PTR(i) *a##i = A + (mr > i ? i : mr - 1) * lda
  const uint8_t A_PTR(0), A_PTR(1), A_PTR(2), A_PTR(3), A_PTR(4), A_PTR(5), A_PTR(6), A_PTR(7);
  const int8_t *p0 = B, *p1 = B + (NR > 1 ? 1 : 0) * ps, *p2 = B + (NR > 2 ? 2 : 0) * ps;
  __m512i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51, c52, c60, c61, c62, c70,
      c71, c72;
  c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm512_setzero_si512();
  c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = _mm512_setzero_si512();
  int64_t kg = K / 4, g = 0;
  for (; g < kg; g++) {
    __m512i b0 = _mm512_loadu_si512(p0 + g * 64), b1 = b0, b2 = b0;
    if (NR > 1) b1 = _mm512_loadu_si512(p1 + g * 64);
    if (NR > 2) b2 = _mm512_loadu_si512(p2 + g * 64);
    A_ROW(0, A_BCAST(0));
    A_ROW(1, A_BCAST(1));
    A_ROW(2, A_BCAST(2));
    A_ROW(3, A_BCAST(3));
    A_ROW(4, A_BCAST(4));
    A_ROW(5, A_BCAST(5));
    A_ROW(6, A_BCAST(6));
    A_ROW(7, A_BCAST(7));
  }
  if (K % 4) {
    __m512i b0 = _mm512_loadu_si512(p0 + g * 64), b1 = b0, b2 = b0;
    if (NR > 1) b1 = _mm512_loadu_si512(p1 + g * 64);
    if (NR > 2) b2 = _mm512_loadu_si512(p2 + g * 64);
    A_ROW(0, _mm512_set1_epi32(load4(a0 + g * 4, K % 4)));
    A_ROW(1, _mm512_set1_epi32(load4(a1 + g * 4, K % 4)));
    A_ROW(2, _mm512_set1_epi32(load4(a2 + g * 4, K % 4)));
    A_ROW(3, _mm512_set1_epi32(load4(a3 + g * 4, K % 4)));
    A_ROW(4, _mm512_set1_epi32(load4(a4 + g * 4, K % 4)));
    A_ROW(5, _mm512_set1_epi32(load4(a5 + g * 4, K % 4)));
    A_ROW(6, _mm512_set1_epi32(load4(a6 + g * 4, K % 4)));
    A_ROW(7, _mm512_set1_epi32(load4(a7 + g * 4, K % 4)));
  }
  A_STORE(0);
  A_STORE(1);
  A_STORE(2);
  A_STORE(3);
  A_STORE(4);
  A_STORE(5);
  A_STORE(6);
  A_STORE(7);
}

/* One instance per rows R in {8, 4, 2, 1} and panels NR in {3, 2, 1}, so
 * that the last rows and the last columns compute nothing they throw away. */
typedef void (*ka_fn)(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, int64_t ps, const ep512 *e,
                      int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc);
#define A_KERNEL(R, NR)                                                                                                \
  static void ka_avx512_##R##_##NR(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, int64_t ps,  \
                                   const ep512 *e, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {  \
    ka_avx512(R, NR, mr, K, A, lda, B, ps, e, row0, col0, ncols, C, ldc);                                              \
  }
A_KERNEL(8, 3)
A_KERNEL(8, 2)
A_KERNEL(8, 1)
A_KERNEL(4, 3)
A_KERNEL(4, 2)
A_KERNEL(4, 1)
A_KERNEL(2, 3)
A_KERNEL(2, 2)
A_KERNEL(2, 1)
A_KERNEL(1, 3)
A_KERNEL(1, 2)
A_KERNEL(1, 1)
static const ka_fn ka_table[4][3] = {{ka_avx512_8_1, ka_avx512_8_2, ka_avx512_8_3},
                                     {ka_avx512_4_1, ka_avx512_4_2, ka_avx512_4_3},
                                     {ka_avx512_2_1, ka_avx512_2_2, ka_avx512_2_3},
                                     {ka_avx512_1_1, ka_avx512_1_2, ka_avx512_1_3}};

/* Rows [r0, r0+8) (clipped to M) x columns [c0, c0+nc) through the
 * instance that fits. */
static void ka_block(int64_t r0, int64_t M, int64_t c0, int64_t nc, int64_t K, const uint8_t *A, int64_t lda,
                     const int8_t *Bp, int64_t ps, const ep512 *e, void *C, int64_t ldc) {
  int64_t mr = M - r0 < AMR ? M - r0 : AMR;
  int rsel = mr > 4 ? 0 : mr > 2 ? 1 : mr > 1 ? 2 : 3;
  ka_table[rsel][(nc + 15) / 16 - 1](mr, K, A + r0 * lda, lda, Bp + (c0 / 16) * ps, ps, e, r0, c0, nc, C, ldc);
}

#if defined(QRT_PATH_AMX)
/* ---- AMX int8, form A ---------------------------------------------------------
 * Eight tiles: tmm0..3 the C block (2 row tiles x 2 column tiles of 16x16
 * int32; C(r,c) in tmm r*2+c), tmm4/5 the two A tiles (16 rows x 64 bytes,
 * loaded straight from A with stride lda), tmm6/7 the two B tiles. 16
 * consecutive k-groups of a packed panel (1024 bytes, stride 64) are exactly
 * the AMX B tile (K = 64, N = 16), so B needs no other layout. One k step of
 * 64: 4 tile loads, 4 tdpbusd (u8 x s8). The K % 64 tail goes through
 * zero-padded copies (A: only the valid bytes of each row are read; B: the
 * panel's last groups), so the tile shape never changes inside a block
 * (ldtilecfg zeroes the tiles). Fewer than 32 rows left: the tiles are
 * configured with fewer rows, so A is never read past row M-1. Column tails
 * and the requantizing epilogue: the C tile goes to a stack buffer and
 * through amx_store_buf, the VNNI path's requant16 (bit-exact with
 * qrt_requant1), deferred to overlap the next block (amx_out).
 * docs/backends/gemm.md, section AMX. */

/* Linux keeps the tile state off until a process asks (ARCH_REQ_XCOMP_PERM
 * for XFEATURE_XTILEDATA); asked once, the answer holds for every thread.
 * CPUID leaf 7: EDX bit 24 AMX-TILE, bit 25 AMX-INT8. */
static int amx_ok;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static void amx_init(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return;
  amx_ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
}

int qrt_gemm_amx_usable(void) {
  pthread_once(&amx_once, amx_init);
  return amx_ok;
}

/* GCC's tile intrinsics are asm statements without a memory operand: this
 * orders the stack copies and the tile loads and stores around them. */
#define AMX_BARRIER() __asm__ volatile("" ::: "memory")

typedef struct amx_cfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} amx_cfg;

/* r0, r1: rows of the first and second row tile (1..16). */
static void amx_config(int r0, int r1) {
  _Alignas(64) amx_cfg c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int t = 0; t < 8; t++)
    c.colsb[t] = 64;
  c.rows[0] = c.rows[1] = c.rows[4] = (uint8_t)r0;
  c.rows[2] = c.rows[3] = c.rows[5] = (uint8_t)r1;
  c.rows[6] = c.rows[7] = 16;
  AMX_BARRIER();
  _tile_loadconfig(&c);
}

/* r rows of a 16-column C tile in buf (stride 16) to C at (row, col), nc
 * valid columns: store_cols' epilogue with the column's bias, m0 and shift
 * vectors loaded once for the r rows instead of once per row. */
static void amx_store_buf(const ep512 *e, const int32_t *buf, int64_t r, int64_t nc, int64_t row, int64_t col, void *C,
                          int64_t ldc) {
  const qrt_requant *rq = e->rq;
  __mmask16 k = colmask(nc);
  if (!rq) {
    for (int64_t i = 0; i < r; i++)
      _mm512_mask_storeu_epi32((int32_t *)C + (row + i) * ldc + col, k, _mm512_loadu_si512(buf + i * 16));
    return;
  }
  __m512i bias = rq->bias ? _mm512_maskz_loadu_epi32(k, rq->bias + col) : _mm512_setzero_si512(), m0 = e->m0;
  shift512 sh = e->sh;
  if (rq->per_channel) {
    sh = shift512_make(_mm512_mask_loadu_epi32(_mm512_set1_epi32(32), k, rq->shift + col));
    m0 = _mm512_maskz_loadu_epi32(k, rq->m0 + col);
  }
  for (int64_t i = 0; i < r; i++) {
    __m512i acc = _mm512_add_epi32(_mm512_loadu_si512(buf + i * 16), bias);
    store16_u8((uint8_t *)C + (row + i) * ldc + col, k, requant16(acc, m0, &sh, e));
  }
}

/* Where finished C tiles go. Tiles that need the epilogue (or are column
 * tails) are stored to buf, and their epilogue runs only after the next
 * block's tdpbusd are issued (amx_flush): the AVX-512 work then overlaps the
 * tile unit's instead of waiting on it. Full int32 tiles go straight to C. */
typedef struct amx_out {
  const ep512 *e;
  void *C;
  int64_t ldc;
  int pend; /* buf holds the pending block below */
  int64_t prow, pcol, pmr, pnc;
  _Alignas(64) int32_t buf[4][16 * 16]; /* C(r,c) tile in buf[r*2+c] */
} amx_out;

QRT_INLINE int amx_direct(const amx_out *o, int64_t nc) { return !o->e->rq && nc >= 16; }

static void amx_flush(amx_out *o) {
  if (!o->pend) return;
  AMX_BARRIER();
  for (int t = 0; t < 4; t++) {
    int64_t rows = t < 2 ? (o->pmr < 16 ? o->pmr : 16) : o->pmr - 16, nc = o->pnc - (t & 1) * 16;
    if (rows <= 0 || nc <= 0 || amx_direct(o, nc)) continue;
    amx_store_buf(o->e, o->buf[t], rows, nc < 16 ? nc : 16, o->prow + (t >> 1) * 16, o->pcol + (t & 1) * 16, o->C,
                  o->ldc);
  }
  o->pend = 0;
  AMX_BARRIER();
}

#define AMX_STORE(t, rowoff, coloff)                                                                                   \
  do {                                                                                                                 \
    if (amx_direct(o, ncols - (coloff)))                                                                               \
      _tile_stored(t, (int32_t *)o->C + (row0 + (rowoff)) * o->ldc + col0 + (coloff), o->ldc * 4);                     \
    else                                                                                                               \
      _tile_stored(t, o->buf[t], 64);                                                                                  \
  } while (0)

/* One C block: RT row tiles (mr rows, mr > 16 iff RT = 2) x CT column tiles
 * (ncols columns). at: the rows' K tail (64-byte rows, zero beyond K); bt:
 * 2 x 1024 bytes, zero beyond the copied groups. */
QRT_INLINE void amx_block(int RT, int CT, int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B,
                          int64_t ps, const uint8_t *at, int8_t *bt, amx_out *o, int64_t row0, int64_t col0,
                          int64_t ncols) {
  int64_t kf = K / 64 * 64, Kp = qrt_round_up(K, 4);
  _tile_zero(0);
  if (CT > 1) _tile_zero(1);
  if (RT > 1) _tile_zero(2);
  if (RT > 1 && CT > 1) _tile_zero(3);
  for (int64_t k = 0; k < kf; k += 64) {
    _tile_loadd(6, B + k * 16, 64);
    if (CT > 1) _tile_loadd(7, B + ps + k * 16, 64);
    _tile_loadd(4, A + k, lda);
    _tile_dpbusd(0, 4, 6);
    if (CT > 1) _tile_dpbusd(1, 4, 7);
    if (RT > 1) {
      _tile_loadd(5, A + 16 * lda + k, lda);
      _tile_dpbusd(2, 5, 6);
      if (CT > 1) _tile_dpbusd(3, 5, 7);
    }
  }
  if (kf < K) {
    memcpy(bt, B + kf * 16, (size_t)((Kp - kf) * 16));
    if (CT > 1) memcpy(bt + 1024, B + ps + kf * 16, (size_t)((Kp - kf) * 16));
    AMX_BARRIER();
    _tile_loadd(6, bt, 64);
    if (CT > 1) _tile_loadd(7, bt + 1024, 64);
    _tile_loadd(4, at, 64);
    _tile_dpbusd(0, 4, 6);
    if (CT > 1) _tile_dpbusd(1, 4, 7);
    if (RT > 1) {
      _tile_loadd(5, at + 16 * 64, 64);
      _tile_dpbusd(2, 5, 6);
      if (CT > 1) _tile_dpbusd(3, 5, 7);
    }
  }
  amx_flush(o); /* the previous block's epilogue, while these tdpbusd run */
  AMX_STORE(0, 0, 0);
  if (CT > 1) AMX_STORE(1, 0, 16);
  if (RT > 1) AMX_STORE(2, 16, 0);
  if (RT > 1 && CT > 1) AMX_STORE(3, 16, 16);
  AMX_BARRIER();
  o->pend = 1, o->prow = row0, o->pcol = col0, o->pmr = mr, o->pnc = ncols;
}

typedef void (*amx_fn)(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, int64_t ps,
                       const uint8_t *at, int8_t *bt, amx_out *o, int64_t row0, int64_t col0, int64_t ncols);
#define AMX_KERNEL(RT, CT)                                                                                             \
  static void amx_block_##RT##_##CT(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, int64_t ps, \
                                    const uint8_t *at, int8_t *bt, amx_out *o, int64_t row0, int64_t col0,             \
                                    int64_t ncols) {                                                                   \
    amx_block(RT, CT, mr, K, A, lda, B, ps, at, bt, o, row0, col0, ncols);                                             \
  }
AMX_KERNEL(1, 1)
AMX_KERNEL(1, 2)
AMX_KERNEL(2, 1)
AMX_KERNEL(2, 2)
static const amx_fn amx_table[2][2] = {{amx_block_1_1, amx_block_1_2}, {amx_block_2_1, amx_block_2_2}};

/* Blocks of 32 rows x 32 columns. B in super-blocks of QRT_B_SUPER bytes
 * (kept in L2); for each, every row block (32 rows of A) runs across all its
 * column blocks. The tile shape changes only for the last row block. */
static void gemm_u8s8_amx(int64_t M, int64_t K, const uint8_t *A, int64_t lda, const int8_t *Bp, int64_t n0, int64_t n1,
                          const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t Kp = qrt_round_up(K, 4), ps = Kp * 16, kf = K / 64 * 64;
  ep512 e = ep512_make(rq);
  amx_out o;
  o.e = &e, o.C = C, o.ldc = ldc, o.pend = 0;
  _Alignas(64) uint8_t at[32 * 64];
  _Alignas(64) int8_t bt[2 * 1024];
  if (kf < K) { /* the tail tiles' padding; copies overwrite the same bytes each time */
    memset(at, 0, sizeof at);
    memset(bt, 0, sizeof bt);
  }
  int cfg = -1; /* rows of the loaded configuration (first tile * 32 + second) */
  int64_t ncb = QRT_B_SUPER / (Kp > 0 ? Kp : 4) / 32 * 32;
  if (ncb < 32) ncb = 32;
  for (int64_t s0 = n0; s0 < n1; s0 += ncb) {
    int64_t s1 = n1 - s0 < ncb ? n1 : s0 + ncb;
    for (int64_t r0 = 0; r0 < M; r0 += 32) {
      int64_t mr = M - r0 < 32 ? M - r0 : 32;
      int ra = mr < 16 ? (int)mr : 16, rb = mr > 16 ? (int)mr - 16 : ra;
      if (ra * 32 + rb != cfg) {
        amx_config(ra, rb);
        cfg = ra * 32 + rb;
      }
      const uint8_t *a = A + r0 * lda;
      if (kf < K)
        for (int64_t i = 0; i < mr; i++)
          memcpy(at + i * 64, a + i * lda + kf, (size_t)(K - kf));
      const amx_fn *row = amx_table[mr > 16];
      for (int64_t c0 = s0; c0 < s1; c0 += 32) {
        int64_t nc = s1 - c0 < 32 ? s1 - c0 : 32;
        row[nc > 16](mr, K, a, lda, Bp + (c0 / 16) * ps, ps, at, bt, &o, r0, c0, nc);
      }
    }
  }
  amx_flush(&o);
  _tile_release();
  AMX_BARRIER();
}
#endif

void qrt_gemm_u8s8_simd(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                        int64_t n1, const qrt_requant *rq, void *C, int64_t ldc) {
  (void)N;
#if defined(QRT_PATH_AMX)
  /* A GEMV-sized product pays more for the tile configuration than the
   * tiles save (mnist8's 1x256x10 layer: 1.1 us on tiles, 0.2 us on VNNI). */
  if (M * K * (n1 - n0) >= 64 * 1024 && qrt_gemm_amx_usable()) {
    gemm_u8s8_amx(M, K, A, lda, Bpacked, n0, n1, rq, C, ldc);
    return;
  }
#endif
  int64_t Kp = qrt_round_up(K, 4), ps = Kp * 16;
  const int8_t *Bp = Bpacked;
  ep512 e = ep512_make(rq);
  int64_t nrow_blocks = (M + AMR - 1) / AMR;
  if (M * K <= QRT_A_SMALL) {
    /* Small A (it stays in L2): column blocks of 48 outside, so B is read
     * from memory once and its slice (Kp*48 bytes) stays in L1/L2 while the
     * row blocks pass. */
    for (int64_t c0 = n0; c0 < n1; c0 += 48) {
      int64_t nc = n1 - c0 < 48 ? n1 - c0 : 48;
      for (int64_t rb = 0; rb < nrow_blocks; rb++)
        ka_block(rb * AMR, M, c0, nc, K, A, lda, Bp, ps, &e, C, ldc);
    }
    return;
  }
  /* Large A: B in super-blocks of QRT_B_SUPER bytes (kept in L2); for each,
   * every row block (8 rows of A, in L1) runs across all its column blocks. */
  int64_t ncb = QRT_B_SUPER / (Kp > 0 ? Kp : 4) / 48 * 48;
  if (ncb < 48) ncb = 48;
  for (int64_t s0 = n0; s0 < n1; s0 += ncb) {
    int64_t s1 = n1 - s0 < ncb ? n1 : s0 + ncb;
    for (int64_t rb = 0; rb < nrow_blocks; rb++)
      for (int64_t c0 = s0; c0 < s1; c0 += 48)
        ka_block(rb * AMR, M, c0, s1 - c0 < 48 ? s1 - c0 : 48, K, A, lda, Bp, ps, &e, C, ldc);
  }
}

/* Form B micro-kernel: the 8 rows of a packed W block x 3 panels, 24 named
 * accumulators. The panel is the u8 operand, the weights' 4 bytes,
 * broadcast, the s8 one. Padded rows (zero weights) are computed and not
 * stored. One instance per panel count NR in {3, 2, 1}. */
#define BMR QRT_PACK_A_MR
#define B_ROW(i)                                                                                                       \
  do {                                                                                                                 \
    __m512i w_ = _mm512_set1_epi32(ld32(W + (g * BMR + i) * 4));                                                       \
    c##i##0 = dpbusd(c##i##0, q0, w_);                                                                                 \
    if (NR > 1) c##i##1 = dpbusd(c##i##1, q1, w_);                                                                     \
    if (NR > 2) c##i##2 = dpbusd(c##i##2, q2, w_);                                                                     \
  } while (0)
#define B_STORE(i)                                                                                                     \
  do {                                                                                                                 \
    if (i < mr) {                                                                                                      \
      store16_ep(e, &re[i], c##i##0, colmask(ncols), C, (row0 + i) * ldc + col0);                                        \
      if (NR > 1) store16_ep(e, &re[i], c##i##1, colmask(ncols - 16), C, (row0 + i) * ldc + col0 + 16);                  \
      if (NR > 2) store16_ep(e, &re[i], c##i##2, colmask(ncols - 32), C, (row0 + i) * ldc + col0 + 32);                  \
    }                                                                                                                  \
  } while (0)


QRT_INLINE void kb_avx512(int NR, int64_t mr, int64_t Kp, const int8_t *W, const uint8_t *P, int64_t ps, const ep512 *e,
                          const row_ep *re, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {
  const uint8_t *p0 = P, *p1 = P + (NR > 1 ? 1 : 0) * ps, *p2 = P + (NR > 2 ? 2 : 0) * ps;
  __m512i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51, c52, c60, c61, c62, c70,
      c71, c72;
  c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm512_setzero_si512();
  c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = _mm512_setzero_si512();
  for (int64_t g = 0; g < Kp / 4; g++) {
    __m512i q0 = _mm512_loadu_si512(p0 + g * 64), q1 = q0, q2 = q0;
    if (NR > 1) q1 = _mm512_loadu_si512(p1 + g * 64);
    if (NR > 2) q2 = _mm512_loadu_si512(p2 + g * 64);
    B_ROW(0);
    B_ROW(1);
    B_ROW(2);
    B_ROW(3);
    B_ROW(4);
    B_ROW(5);
    B_ROW(6);
    B_ROW(7);
  }
  B_STORE(0);
  B_STORE(1);
  B_STORE(2);
  B_STORE(3);
  B_STORE(4);
  B_STORE(5);
  B_STORE(6);
  B_STORE(7);
}

#define B_KERNEL(NR)                                                                                                   \
  static void kb_avx512_##NR(int64_t mr, int64_t Kp, const int8_t *W, const uint8_t *P, int64_t ps, const ep512 *e,    \
                             const row_ep *re, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {      \
    kb_avx512(NR, mr, Kp, W, P, ps, e, re, row0, col0, ncols, C, ldc);                                                 \
  }
B_KERNEL(3)
B_KERNEL(2)
B_KERNEL(1)

void qrt_gemm_s8u8_simd(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel,
                        const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t Kp = qrt_round_up(K, 4), ps = Kp * 16;
  const int8_t *Ap = Apacked;
  ep512 e = ep512_make(rq);
  /* The panel (at most a few hundred KB) is the small operand: row blocks
   * outside, so each block of W is read once from memory. */
  for (int64_t r0 = 0; r0 < M; r0 += BMR) {
    int64_t mr = M - r0 < BMR ? M - r0 : BMR;
    const int8_t *W = Ap + r0 * Kp;
    row_ep re[BMR];
    row_ep_make(&e, r0, mr, re);
    for (int64_t c0 = 0; c0 < N; c0 += 48) {
      int64_t nc = N - c0 < 48 ? N - c0 : 48;
      const uint8_t *P = panel + (c0 / 16) * ps;
      if (nc > 32)
        kb_avx512_3(mr, Kp, W, P, ps, &e, re, r0, c0, nc, C, ldc);
      else if (nc > 16)
        kb_avx512_2(mr, Kp, W, P, ps, &e, re, r0, c0, nc, C, ldc);
      else
        kb_avx512_1(mr, Kp, W, P, ps, &e, re, r0, c0, nc, C, ldc);
    }
  }
}

/* ================================ AVX2 ======================================= */
#elif defined(QRT_PATH_AVX2)

/* vpmaddubsw adds two u8 x s8 products into a saturating int16; 255*127*2
 * does not fit. Exact instead: x = (x & 0x7f) + 128 * (x >> 7). With the low
 * part a pair is at most 127*128*2 = 32512; the high bit's pair is at most
 * 2*128. vpmaddwd then widens: low pairs x 1, high pairs x 128 (exact in
 * int32). acc += madd(maddubs(lo, w), 1) + madd(maddubs(hi, w), 128). */
typedef struct split8 {
  __m256i lo, hi;
} split8;

QRT_INLINE split8 split_u8(__m256i x) {
  split8 s;
  s.lo = _mm256_and_si256(x, _mm256_set1_epi8(0x7f));
  s.hi = _mm256_and_si256(_mm256_srli_epi16(x, 7), _mm256_set1_epi8(1));
  return s;
}

QRT_INLINE __m256i dot_split(__m256i acc, split8 u, __m256i s) {
  const __m256i one = _mm256_set1_epi16(1), c128 = _mm256_set1_epi16(128);
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u.lo, s), one));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u.hi, s), c128));
}

/* Requantizes 8 int32 accumulators (bias added) with per-lane m0 and
 * shift, bit-identical to qrt_requant1: vpmuldq on even and odd lanes, then
 * the 64-bit rounding shift. AVX2 has no 64-bit arithmetic shift; with s =
 * the sign mask of x, x >> n (arithmetic) = ((x ^ s) >>> n) ^ s (for x < 0,
 * x ^ s = -x-1 >= 0 and floor(x/2^n) = -floor((-x-1)/2^n) - 1). */
QRT_INLINE __m256i sra64(__m256i x, __m256i n) {
  __m256i sgn = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sgn), n), sgn);
}

QRT_INLINE __m256i requant_half(__m256i p, __m256i sh, __m256i zp, __m256i lo, __m256i hi) {
  const __m256i one = _mm256_set1_epi64x(1);
  __m256i y = _mm256_add_epi64(sra64(_mm256_add_epi64(p, _mm256_sllv_epi64(one, _mm256_sub_epi64(sh, one))), sh), zp);
  /* y < lo ? lo : y > hi ? hi : y */
  y = _mm256_blendv_epi8(y, hi, _mm256_cmpgt_epi64(y, hi));
  return _mm256_blendv_epi8(y, lo, _mm256_cmpgt_epi64(lo, y));
}

QRT_INLINE __m256i requant8(__m256i acc, __m256i m0, __m256i sh, __m256i zp, __m256i lo, __m256i hi) {
  const __m256i lo32 = _mm256_set1_epi64x(0xffffffff);
  __m256i pe = _mm256_mul_epi32(acc, m0);
  __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(m0, 32));
  pe = requant_half(pe, _mm256_and_si256(sh, lo32), zp, lo, hi);
  po = requant_half(po, _mm256_srli_epi64(sh, 32), zp, lo, hi);
  return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

/* qrt_gemm_store_tile with the requantization of full groups of 8 columns
 * vectorized (int32 stores and partial groups take the shared scalar code). */
static void store_tile_avx2(const int32_t *t, int64_t mr, int64_t nc, int64_t row0, int64_t col0, const qrt_requant *rq,
                            int chan_is_row, void *C, int64_t ldc) {
  if (!rq) {
    qrt_gemm_store_tile(t, 16, mr, nc, row0, col0, rq, chan_is_row, C, ldc);
    return;
  }
  const __m256i zp = _mm256_set1_epi64x(rq->zp), lo = _mm256_set1_epi64x(rq->lo), hi = _mm256_set1_epi64x(rq->hi);
  for (int64_t i = 0; i < mr; i++) {
    int64_t m = row0 + i, j = 0;
    for (; j + 8 <= nc; j += 8) {
      int64_t col = col0 + j;
      __m256i acc = _mm256_loadu_si256((const __m256i *)(const void *)(t + i * 16 + j)), m0, sh;
      if (chan_is_row) {
        int64_t ci = rq->per_channel ? m : 0;
        if (rq->bias) acc = _mm256_add_epi32(acc, _mm256_set1_epi32(rq->bias[m]));
        m0 = _mm256_set1_epi32(rq->m0[ci]);
        sh = _mm256_set1_epi32(rq->shift[ci]);
      } else {
        if (rq->bias) acc = _mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)(const void *)(rq->bias + col)));
        if (rq->per_channel) {
          m0 = _mm256_loadu_si256((const __m256i *)(const void *)(rq->m0 + col));
          sh = _mm256_loadu_si256((const __m256i *)(const void *)(rq->shift + col));
        } else {
          m0 = _mm256_set1_epi32(rq->m0[0]);
          sh = _mm256_set1_epi32(rq->shift[0]);
        }
      }
      __m256i r = requant8(acc, m0, sh, zp, lo, hi);
      /* values lie in [lo, hi] within [-128, 255]: the int16 pack is exact,
       * the byte pack saturates as the byte type needs */
      __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      __m128i r8 = rq->out_signed ? _mm_packs_epi16(r16, r16) : _mm_packus_epi16(r16, r16);
      _mm_storel_epi64((__m128i *)(void *)((uint8_t *)C + m * ldc + col), r8);
    }
    if (j < nc) qrt_gemm_store_tile(t + i * 16 + j, 16, 1, nc - j, m, col0 + j, rq, chan_is_row, C, ldc);
  }
}

/* Form A: 4 rows x one 16-column panel (2 ymm of 8 columns), 8 named
 * accumulators. The broadcast A word is split in a general register. Rows
 * past mr repeat row mr-1 and are not stored; the K%4 tail group goes
 * through a zero-padded copy of the rows' last bytes. */
#define AMR2 4
#define A2_ROW(i, word)                                                                                                \
  do {                                                                                                                 \
    uint32_t w_ = (word);                                                                                              \
    split8 s_ = {_mm256_set1_epi32((int32_t)(w_ & 0x7f7f7f7fu)),                                                       \
                 _mm256_set1_epi32((int32_t)((w_ >> 7) & 0x01010101u))};                                               \
    c##i##0 = dot_split(c##i##0, s_, b0);                                                                              \
    c##i##1 = dot_split(c##i##1, s_, b1);                                                                              \
  } while (0)

static void ka_avx2(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, const qrt_requant *rq,
                    int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {
  const uint8_t *a0 = A, *a1 = A + (mr > 1 ? 1 : 0) * lda, *a2 = A + (mr > 2 ? 2 : mr - 1) * lda,
                *a3 = A + (mr > 3 ? 3 : mr - 1) * lda;
  __m256i c00, c01, c10, c11, c20, c21, c30, c31;
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_si256();
  int64_t kg = K / 4, g = 0;
  for (; g < kg; g++) {
    __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(B + g * 64));
    __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(B + g * 64 + 32));
    A2_ROW(0, (uint32_t)ld32(a0 + g * 4));
    A2_ROW(1, (uint32_t)ld32(a1 + g * 4));
    A2_ROW(2, (uint32_t)ld32(a2 + g * 4));
    A2_ROW(3, (uint32_t)ld32(a3 + g * 4));
  }
  if (K % 4) {
    __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(B + g * 64));
    __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(B + g * 64 + 32));
    A2_ROW(0, (uint32_t)load4(a0 + g * 4, K % 4));
    A2_ROW(1, (uint32_t)load4(a1 + g * 4, K % 4));
    A2_ROW(2, (uint32_t)load4(a2 + g * 4, K % 4));
    A2_ROW(3, (uint32_t)load4(a3 + g * 4, K % 4));
  }
  int32_t t[AMR2 * 16];
  _mm256_storeu_si256((__m256i *)(void *)(t + 0), c00);
  _mm256_storeu_si256((__m256i *)(void *)(t + 8), c01);
  _mm256_storeu_si256((__m256i *)(void *)(t + 16), c10);
  _mm256_storeu_si256((__m256i *)(void *)(t + 24), c11);
  _mm256_storeu_si256((__m256i *)(void *)(t + 32), c20);
  _mm256_storeu_si256((__m256i *)(void *)(t + 40), c21);
  _mm256_storeu_si256((__m256i *)(void *)(t + 48), c30);
  _mm256_storeu_si256((__m256i *)(void *)(t + 56), c31);
  store_tile_avx2(t, mr, ncols, row0, col0, rq, 0, C, ldc);
}

void qrt_gemm_u8s8_simd(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                        int64_t n1, const qrt_requant *rq, void *C, int64_t ldc) {
  (void)N;
  int64_t ps = qrt_round_up(K, 4) * 16;
  const int8_t *Bp = Bpacked;
  for (int64_t c0 = n0; c0 < n1; c0 += 16) {
    int64_t nc = n1 - c0 < 16 ? n1 - c0 : 16;
    for (int64_t r0 = 0; r0 < M; r0 += AMR2) {
      int64_t mr = M - r0 < AMR2 ? M - r0 : AMR2;
      ka_avx2(mr, K, A + r0 * lda, lda, Bp + (c0 / 16) * ps, rq, r0, c0, nc, C, ldc);
    }
  }
}

/* Form B: 4 rows (half a packed block of 8) x one panel; the panel is split
 * once per k-group and reused for the 4 rows. */
static void kb_avx2(int64_t mr, int64_t Kp, const int8_t *W, const uint8_t *P, const qrt_requant *rq, int64_t row0,
                    int64_t col0, int64_t ncols, void *C, int64_t ldc) {
  __m256i acc[4][2];
  for (int i = 0; i < 4; i++)
    acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  for (int64_t g = 0; g < Kp / 4; g++) {
    split8 p0 = split_u8(_mm256_loadu_si256((const __m256i *)(const void *)(P + g * 64)));
    split8 p1 = split_u8(_mm256_loadu_si256((const __m256i *)(const void *)(P + g * 64 + 32)));
    for (int i = 0; i < 4; i++) {
      int32_t w;
      memcpy(&w, W + (g * QRT_PACK_A_MR + i) * 4, 4);
      __m256i wv = _mm256_set1_epi32(w);
      acc[i][0] = dot_split(acc[i][0], p0, wv);
      acc[i][1] = dot_split(acc[i][1], p1, wv);
    }
  }
  int32_t t[4 * 16];
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_si256((__m256i *)(void *)(t + i * 16), acc[i][0]);
    _mm256_storeu_si256((__m256i *)(void *)(t + i * 16 + 8), acc[i][1]);
  }
  store_tile_avx2(t, mr, ncols, row0, col0, rq, 1, C, ldc);
}

void qrt_gemm_s8u8_simd(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel,
                        const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t Kp = qrt_round_up(K, 4), ps = Kp * 16;
  const int8_t *Ap = Apacked;
  for (int64_t r0 = 0; r0 < M; r0 += 4) {
    int64_t mr = M - r0 < 4 ? M - r0 : 4;
    /* row r0 sits in block r0/8 at slot r0%8 (0 or 4) */
    const int8_t *W = Ap + (r0 / QRT_PACK_A_MR) * Kp * QRT_PACK_A_MR + (r0 % QRT_PACK_A_MR) * 4;
    for (int64_t c0 = 0; c0 < N; c0 += 16) {
      int64_t nc = N - c0 < 16 ? N - c0 : 16;
      kb_avx2(mr, Kp, W, panel + (c0 / 16) * ps, rq, r0, c0, nc, C, ldc);
    }
  }
}

#else
typedef int qrt_gemm_x86_unused; /* ISO C wants a non-empty translation unit */
#endif
