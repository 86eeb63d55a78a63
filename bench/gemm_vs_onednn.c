/* int8 GEMM benchmark: libquench_rt's qrt_gemm_u8s8 (AVX-512 VNNI path, or
 * AMX when built with -mamx-tile -mamx-int8) against oneDNN's matmul, one
 * thread, same process, same data.
 * u8 A [M,K] row-major, s8 B [K,N], s32 C [M,N]. quench: B prepacked by
 * qrt_pack_b before timing; oneDNN: weights memory format "any", reordered
 * once before timing. Both outputs are compared element for element (and a
 * sample against a naive sum): a mismatch fails the bench (exit 1).
 * Prints per shape median/best GOPS of each, the ratio of medians and the
 * share of the physical peak = 2 vpdpbusd/cycle x 64 MACs x 2 ops x the
 * clock measured in this run (a chain of dependent adds); the AMX build
 * also prints the share of the AMX peak = 1024 MACs x 2 ops x the clock
 * (tdpbusd: 16x16x64 MACs per 16 cycles). Build and run:
 * bench/gemm.sh; bench/README.md explains the columns. */
#define _GNU_SOURCE
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qrt_gemm.h"
#if defined(QRT_PATH_AMX)
#include "qrt_gemm_internal.h" /* qrt_gemm_amx_usable */
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GHz from a chain of dependent register-register adds (20 per loop trip;
 * the loop counter runs beside it): the core clock while this thread runs.
 * Not add-immediate: Golden Cove folds those at rename and the chain then
 * takes no cycles. */
static double measure_ghz(void) {
  double best = 0;
  for (int rep = 0; rep < 40; rep++) { /* short trips, best of many: another process may take the core */
    long iters = 1000000, x = 0, n = iters, one = 1;
    double t0 = now();
    __asm__ volatile("1:\n\t.rept 20\n\tadd %2, %0\n\t.endr\n\tdec %1\n\tjnz 1b\n" : "+r"(x), "+r"(n) : "r"(one));
    double ghz = (double)iters * 20 / (now() - t0) / 1e9;
    if (ghz > best) best = ghz;
  }
  return best;
}

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    dnnl_status_t st_ = (call);                                                                                        \
    if (st_ != dnnl_success) {                                                                                         \
      fprintf(stderr, "oneDNN: %s failed (status %d)\n", #call, (int)st_);                                             \
      exit(2);                                                                                                         \
    }                                                                                                                  \
  } while (0)

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct stats {
  double median, best; /* seconds */
} stats;

static stats summarize(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  stats s = {n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2, t[0]};
  return s;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 24);
}

/* One shape; returns 0 when both agree. */
static int bench_shape(dnnl_engine_t eng, dnnl_stream_t strm, int64_t M, int64_t K, int64_t N) {
  uint8_t *A = aligned_alloc(64, (size_t)qrt_round_up(M * K, 64));
  int8_t *B = aligned_alloc(64, (size_t)qrt_round_up(K * N, 64));
  int32_t *Cq = aligned_alloc(64, (size_t)qrt_round_up(M * N * 4, 64));
  int32_t *Cd = aligned_alloc(64, (size_t)qrt_round_up(M * N * 4, 64));
  for (int64_t i = 0; i < M * K; i++)
    A[i] = (uint8_t)rnd();
  for (int64_t i = 0; i < K * N; i++)
    B[i] = (int8_t)rnd();
  void *bp = aligned_alloc(64, qrt_round_up((int64_t)qrt_pack_b_size(K, N), 64));
  qrt_pack_b(B, N, 1, K, N, bp);

  /* oneDNN matmul, weights in the layout it picks. */
  dnnl_memory_desc_t a_md, b_md, b_any, c_md;
  dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N};
  CHECK(dnnl_memory_desc_init_by_tag(&a_md, 2, ad, dnnl_u8, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&b_md, 2, bd, dnnl_s8, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&b_any, 2, bd, dnnl_s8, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&c_md, 2, cd, dnnl_s32, dnnl_ab));
  dnnl_matmul_desc_t mmd;
  CHECK(dnnl_matmul_desc_init(&mmd, &a_md, &b_any, NULL, &c_md));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &mmd, NULL, eng, NULL));
  const dnnl_memory_desc_t *w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const char *impl = NULL;
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  dnnl_memory_t am, bm_plain, bm, cm;
  CHECK(dnnl_memory_create(&am, &a_md, eng, A));
  CHECK(dnnl_memory_create(&bm_plain, &b_md, eng, B));
  CHECK(dnnl_memory_create(&bm, w_md, eng, DNNL_MEMORY_ALLOCATE));
  CHECK(dnnl_memory_create(&cm, &c_md, eng, Cd));
  dnnl_primitive_desc_t rpd;
  CHECK(dnnl_reorder_primitive_desc_create(&rpd, &b_md, eng, w_md, eng, NULL));
  dnnl_primitive_t reorder, mm;
  CHECK(dnnl_primitive_create(&reorder, rpd));
  CHECK(dnnl_primitive_create(&mm, pd));
  dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, bm_plain}, {DNNL_ARG_TO, bm}};
  CHECK(dnnl_primitive_execute(reorder, strm, 2, rargs));
  CHECK(dnnl_stream_wait(strm));
  dnnl_exec_arg_t margs[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};

  double ops = 2.0 * (double)M * (double)N * (double)K;
  double ghz_before = measure_ghz();
  /* warm-up, and enough runs for half a second (at least 20) */
  double t0 = now();
  qrt_gemm_u8s8(M, N, K, A, K, bp, 0, N, NULL, Cq, N);
  CHECK(dnnl_primitive_execute(mm, strm, 3, margs));
  CHECK(dnnl_stream_wait(strm));
  double once = now() - t0;
  int runs = (int)(1.0 / (once > 1e-9 ? once : 1e-9));
  runs = runs < 20 ? 20 : runs > 2000 ? 2000 : runs;
  double *tq = malloc(sizeof(double) * (size_t)runs), *td = malloc(sizeof(double) * (size_t)runs);
  for (int r = 0; r < runs; r++) { /* interleaved, so both see the same clock and cache state */
    t0 = now();
    qrt_gemm_u8s8(M, N, K, A, K, bp, 0, N, NULL, Cq, N);
    tq[r] = now() - t0;
    t0 = now();
    CHECK(dnnl_primitive_execute(mm, strm, 3, margs));
    CHECK(dnnl_stream_wait(strm));
    td[r] = now() - t0;
  }
  stats sq = summarize(tq, runs), sd = summarize(td, runs);

  int bad = 0;
  for (int64_t i = 0; i < M * N; i++)
    if (Cq[i] != Cd[i]) {
      if (bad++ < 5)
        fprintf(stderr, "MISMATCH %lldx%lldx%lld at (%lld,%lld): quench %d oneDNN %d\n", (long long)M, (long long)K,
                (long long)N, (long long)(i / N), (long long)(i % N), Cq[i], Cd[i]);
    }
  for (int s = 0; s < 64; s++) { /* and both against the definition */
    int64_t m = rnd() % M, n = rnd() % N, want = 0;
    for (int64_t k = 0; k < K; k++)
      want += (int64_t)A[m * K + k] * B[k * N + n];
    if (Cq[m * N + n] != want) {
      if (bad++ < 5)
        fprintf(stderr, "WRONG at (%lld,%lld): %d, want %lld\n", (long long)m, (long long)n, Cq[m * N + n],
                (long long)want);
    }
  }
  /* the clock just before and after the timed runs */
  double ghz_after = measure_ghz(), ghz = ghz_before > ghz_after ? ghz_before : ghz_after;
  double peak = 2.0 * 64 * 2 * ghz;
  double gq = ops / sq.median / 1e9, gd = ops / sd.median / 1e9;
  printf("M%-5lld K%-5lld N%-5lld %5d | %7.1f %7.1f | %7.1f %7.1f | %5.2f | %4.2f %5.0f | %5.1f%% %5.1f%% | ",
         (long long)M, (long long)K, (long long)N, runs, gq, ops / sq.best / 1e9, gd, ops / sd.best / 1e9, gq / gd, ghz,
         peak, 100 * gq / peak, 100 * gd / peak);
#if defined(QRT_PATH_AMX)
  double apeak = 1024.0 * 2 * ghz;
  printf("%5.0f %5.1f%% %5.1f%% | ", apeak, 100 * gq / apeak, 100 * gd / apeak);
#endif
  printf("%s%s\n", bad ? "MISMATCH " : "", impl);
  fflush(stdout);

  dnnl_primitive_destroy(reorder), dnnl_primitive_destroy(mm);
  dnnl_primitive_desc_destroy(rpd), dnnl_primitive_desc_destroy(pd);
  dnnl_memory_destroy(am), dnnl_memory_destroy(bm_plain), dnnl_memory_destroy(bm), dnnl_memory_destroy(cm);
  free(A), free(B), free(Cq), free(Cd), free(bp), free(tq), free(td);
  return bad != 0;
}

int main(int argc, char **argv) {
  setenv("OMP_NUM_THREADS", "1", 1); /* before oneDNN starts OpenMP */
  static const int64_t shapes[][3] = {
      {1024, 1024, 1024}, {2048, 2048, 2048}, {128, 768, 3072}, {128, 3072, 768}, {1, 4096, 4096}};
  int only = argc > 1 ? atoi(argv[1]) : -1;
  dnnl_engine_t eng;
  dnnl_stream_t strm;
  CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
  const dnnl_version_t *v = dnnl_version();
  const char *cap = getenv("DNNL_MAX_CPU_ISA");
  printf("int8 GEMM, u8 x s8 -> s32, 1 thread; quench path %s, oneDNN %d.%d.%d (%s, DNNL_MAX_CPU_ISA=%s)\n",
         QRT_PATH_NAME, v->major, v->minor, v->patch, v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime",
         cap ? cap : "unset");
  printf("peak = 2 vpdpbusd zmm/cycle x 64 MACs x 2 ops x GHz; GHz = the best of short chains of dependent adds\n"
         "run just before and just after each shape\n");
#if defined(QRT_PATH_AMX)
  printf("AMX peak = 1024 int8 MACs/cycle (tdpbusd) x 2 ops x GHz; form A on AMX tiles: %s\n",
         qrt_gemm_amx_usable() ? "yes" : "NO (refused by the CPU or kernel: VNNI fallback)");
  printf("%-20s %5s | %-15s | %-15s | %5s | %-10s | %-13s | %-19s | %s\n", "shape", "runs", "quench GOPS", "oneDNN GOPS",
         "q/d", "clock", "% of peak", "% of AMX peak", "oneDNN impl");
  printf("%-20s %5s | %7s %7s | %7s %7s | %5s | %4s %5s | %6s %6s | %5s %6s %6s |\n", "", "", "median", "best", "median",
         "best", "med", "GHz", "peak", "quench", "oneDNN", "peak", "quench", "oneDNN");
#else
  printf("%-20s %5s | %-15s | %-15s | %5s | %-10s | %-13s | %s\n", "shape", "runs", "quench GOPS", "oneDNN GOPS", "q/d",
         "clock", "% of peak", "oneDNN impl");
  printf("%-20s %5s | %7s %7s | %7s %7s | %5s | %4s %5s | %6s %6s |\n", "", "", "median", "best", "median", "best",
         "med", "GHz", "peak", "quench", "oneDNN");
#endif
  int bad = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    if (only < 0 || (size_t)only == i) bad |= bench_shape(eng, strm, shapes[i][0], shapes[i][1], shapes[i][2]);
  dnnl_stream_destroy(strm);
  dnnl_engine_destroy(eng);
  return bad;
}
