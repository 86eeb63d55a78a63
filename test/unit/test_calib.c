/* Unit tests for calibration statistics and calibrators
 * (compiler/quant/calib.c, calib_io.c): min/max/sum and non-finite counts,
 * per-channel statistics along axis 1 and the last axis, the histogram's
 * range doubling (counts kept, every value in the bin a direct computation
 * at the final width gives), percentile on a known distribution, entropy and
 * MSE clipping a heavy-tailed distribution, entropy on ReLU outputs (the
 * zeros must not move it), uniform data (the max), few samples and a
 * Gaussian (TensorRT's search written out from the slides), and the .qstats file: an exact
 * write -> read round trip and corrupt files refused with PATH:LINE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/calib.h"

#define TWO_PI 6.283185307179586

static Tensor *make_f32(int32_t rank, const int64_t *dims, const float *v) {
  Tensor *t = tensor_new(IR_ELEM_F32, rank, dims);
  assert_non_null(t);
  memcpy(t->data, v, (size_t)t->numel * sizeof(float));
  return t;
}

static Tensor *vec_f32(int64_t n, const float *v) { return make_f32(1, &n, v); }

static void observe(QTensorStats *ts, Tensor *t) {
  char why[160];
  assert_true(q_stats_observe(ts, t, why, sizeof why));
  tensor_free(t);
}

static uint64_t hist_total(const QHist *h) {
  uint64_t n = 0;
  for (int i = 0; i < Q_HIST_BINS; i++) n += h->pos[i] + h->neg[i];
  return n;
}

static void test_minmax_sum(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  QTensorStats *ts = q_stats_get(&s, "a", -1, 0);
  assert_ptr_equal(q_stats_get(&s, "a", 1, 4), ts); /* existing entry */
  assert_ptr_equal(q_stats_find(&s, "a"), ts);
  assert_null(q_stats_find(&s, "b"));
  float v1[] = {1.5f, -2.0f, 0.25f, NAN};
  float v2[] = {INFINITY, 3.0f, -0.5f};
  observe(ts, vec_f32(4, v1));
  observe(ts, vec_f32(3, v2));
  assert_int_equal(ts->count, 5);
  assert_int_equal(ts->nonfinite, 2);
  assert_true(ts->min == -2.0 && ts->max == 3.0);
  assert_true(ts->sum == 1.5 - 2.0 + 0.25 + 3.0 - 0.5);
  assert_int_equal(hist_total(&ts->hist), 5);
  assert_int_equal(ts->ch_axis, -1);
  /* f64 and f16 tensors go through the same statistics. */
  QTensorStats *t64 = q_stats_get(&s, "d", -1, 0);
  int64_t n = 3;
  Tensor *d = tensor_new(IR_ELEM_F64, 1, &n);
  ((double *)d->data)[0] = 0.1, ((double *)d->data)[1] = -7, ((double *)d->data)[2] = 2;
  observe(t64, d);
  assert_true(t64->min == -7 && t64->max == 2 && t64->sum == 0.1 - 7 + 2);
  QTensorStats *t16 = q_stats_get(&s, "h", -1, 0);
  Tensor *h = tensor_new(IR_ELEM_F16, 1, &n);
  tensor_set_f64(h, 0, 0.5), tensor_set_f64(h, 1, -4), tensor_set_f64(h, 2, 8);
  observe(t16, h);
  assert_true(t16->min == -4 && t16->max == 8 && t16->sum == 4.5);
  /* Entries keep the order they were first asked for. */
  assert_int_equal(s.n, 3);
  assert_string_equal(s.t[0]->name, "a");
  assert_string_equal(s.t[2]->name, "h");
  q_stats_free(&s);
  assert_int_equal(s.n, 0);
}

static void test_per_channel(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  /* [2, 3, 2] holding 0..11, channels along axis 1: element n*6 + c*2 + w,
   * so channel c holds 2c, 2c+1, 2c+6, 2c+7. */
  float v[12];
  for (int i = 0; i < 12; i++) v[i] = (float)i;
  int64_t d3[] = {2, 3, 2};
  QTensorStats *a1 = q_stats_get(&s, "nchw", 1, 3);
  observe(a1, make_f32(3, d3, v));
  assert_int_equal(a1->ch_count, 4);
  for (int c = 0; c < 3; c++) {
    assert_true(a1->ch_min[c] == 2 * c);
    assert_true(a1->ch_max[c] == 2 * c + 7);
    assert_true(a1->ch_sum[c] == 8 * c + 14);
  }
  /* [2, 2, 3], last axis: element i*3 + c, channel c holds c, c+3, c+6, c+9. */
  int64_t dl[] = {2, 2, 3};
  QTensorStats *al = q_stats_get(&s, "last", 2, 3);
  observe(al, make_f32(3, dl, v));
  observe(al, make_f32(3, dl, v));
  assert_int_equal(al->ch_count, 8);
  for (int c = 0; c < 3; c++) {
    assert_true(al->ch_min[c] == c);
    assert_true(al->ch_max[c] == c + 9);
    assert_true(al->ch_sum[c] == 2 * (4 * c + 18));
  }
  /* A different channel count is refused and changes nothing. */
  char why[160];
  Tensor *bad = make_f32(3, d3, v);
  assert_false(q_stats_observe(al, bad, why, sizeof why));
  assert_non_null(strstr(why, "expected 3 channels along axis 2, got 2"));
  assert_int_equal(al->count, 24);
  tensor_free(bad);
  /* Too many channels: no per-channel statistics. */
  QTensorStats *big = q_stats_get(&s, "big", 0, (int64_t)Q_MAX_CHANNELS + 1);
  assert_int_equal(big->ch_axis, -1);
  assert_null(big->ch_min);
  q_stats_free(&s);
}

static void test_hist_doubling(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  QTensorStats *ts = q_stats_get(&s, "h", -1, 0);
  float zeros[] = {0, 0};
  observe(ts, vec_f32(2, zeros));
  assert_true(ts->hist.width == 0);
  assert_int_equal(ts->hist.pos[0], 2);
  /* 1 < 2048 * 2^-10: width 2^-10, bin 1024. */
  float one = 1;
  observe(ts, vec_f32(1, &one));
  assert_true(ts->hist.width == 0x1p-10);
  assert_int_equal(ts->hist.pos[1024], 1);
  /* 3 >= 2048 * 2^-10 = 2: one doubling, 1 moves to bin 512, 3 in 1536. */
  float three = 3;
  observe(ts, vec_f32(1, &three));
  assert_true(ts->hist.width == 0x1p-9);
  assert_int_equal(ts->hist.pos[512], 1);
  assert_int_equal(ts->hist.pos[1536], 1);
  assert_int_equal(ts->hist.pos[0], 2);
  /* -1000 needs 2048 w > 1000: w = 0.5 (range 1024); 1 -> bin 2, 3 -> 6. */
  float m = -1000;
  observe(ts, vec_f32(1, &m));
  assert_true(ts->hist.width == 0.5);
  assert_int_equal(ts->hist.pos[0], 2);
  assert_int_equal(ts->hist.pos[2], 1);
  assert_int_equal(ts->hist.pos[6], 1);
  assert_int_equal(ts->hist.neg[2000], 1);
  assert_int_equal(hist_total(&ts->hist), 5);

  /* Many values of growing magnitudes, one tensor each (many doublings):
   * the result equals a histogram built directly at the final width. */
  QTensorStats *r = q_stats_get(&s, "r", -1, 0);
  enum { N = 5000 };
  static float vals[N];
  uint64_t x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(x >> 11) * 0x1p-53;
    double mag = ldexp(0.5 + u, -20 + (int)(30.0 * i / N));
    vals[i] = (float)((x >> 7) & 1 ? -mag : mag);
    observe(r, vec_f32(1, &vals[i]));
  }
  double w = r->hist.width;
  assert_true(w > 0 && w == ldexp(1, ilogb(w))); /* a power of two */
  double amax = fmax(fabs(r->min), fabs(r->max));
  assert_true(amax < w * Q_HIST_BINS && amax >= w * Q_HIST_BINS / 2);
  static uint64_t pos[Q_HIST_BINS], neg[Q_HIST_BINS];
  for (int i = 0; i < N; i++) {
    int b = (int)floor(fabs((double)vals[i]) / w);
    if (vals[i] < 0) neg[b]++;
    else pos[b]++;
  }
  assert_memory_equal(pos, r->hist.pos, sizeof pos);
  assert_memory_equal(neg, r->hist.neg, sizeof neg);
  q_stats_free(&s);
}

static const QFormat *fmt(const char *name) {
  const QFormat *f = q_format_find(name);
  assert_non_null(f);
  return f;
}

static void test_minmax_percentile(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  static float v[10000];
  for (int i = 0; i < 10000; i++) v[i] = (float)i;
  QTensorStats *p = q_stats_get(&s, "p", -1, 0);
  observe(p, vec_f32(10000, v));
  for (int i = 0; i < 10000; i++) v[i] = (float)-i;
  QTensorStats *n = q_stats_get(&s, "n", -1, 0);
  observe(n, vec_f32(10000, v));
  const QFormat *i8 = fmt("i8");
  double lo, hi;
  QCalibOptions mm = {Q_CALIB_MINMAX, 0};
  q_calib_range(p, &mm, i8, false, &lo, &hi);
  assert_true(lo == 0 && hi == 9999);
  q_calib_range(n, &mm, i8, true, &lo, &hi);
  assert_true(lo == -9999 && hi == 9999);
  /* 0..9999: width 8 (9999 < 2048 * 8); 99% of the values are below 9900,
   * so the threshold is 9900 within one bin. */
  QCalibOptions pc = {Q_CALIB_PERCENTILE, 99.0};
  q_calib_range(p, &pc, i8, false, &lo, &hi);
  assert_true(p->hist.width == 8);
  assert_true(lo == 0);
  assert_true(fabs(hi - 9900) <= 8);
  q_calib_range(n, &pc, i8, false, &lo, &hi);
  assert_true(fabs(lo + 9900) <= 8 && hi == 0);
  q_calib_range(n, &pc, i8, true, &lo, &hi);
  assert_true(fabs(hi - 9900) <= 8 && lo == -hi);
  /* 100th percentile: the extremes. */
  QCalibOptions all = {Q_CALIB_PERCENTILE, 100.0};
  q_calib_range(p, &all, i8, false, &lo, &hi);
  assert_true(hi == 9999);
  /* An empty entry gives [0, 0]. */
  QTensorStats *e = q_stats_get(&s, "e", -1, 0);
  q_calib_range(e, &pc, i8, false, &lo, &hi);
  assert_true(lo == 0 && hi == 0);
  q_stats_free(&s);
}

/* N(0, 1) samples (Box-Muller, fixed seed) in chunks, then one value of
 * 1000: the histogram width is 0.5 (1000 < 2048 * 0.5), the bulk in the
 * first ~11 bins. */
static QTensorStats *heavy_tail(QStats *s, int64_t n) {
  QTensorStats *ts = q_stats_get(s, "heavy", -1, 0);
  enum { CH = 1 << 16 };
  float *v = malloc(CH * sizeof *v);
  uint64_t x = 987654321;
  for (int64_t done = 0; done < n; done += CH) {
    for (int i = 0; i < CH; i += 2) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      double u1 = ((double)(x >> 11) + 1) * 0x1p-53;
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      double u2 = (double)(x >> 11) * 0x1p-53;
      double r = sqrt(-2 * log(u1));
      v[i] = (float)(r * cos(TWO_PI * u2));
      v[i + 1] = (float)(r * sin(TWO_PI * u2));
    }
    observe(ts, vec_f32(CH, v));
  }
  free(v);
  float out = 1000;
  observe(ts, vec_f32(1, &out));
  return ts;
}

static void test_entropy_mse_clip(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  QTensorStats *ts = heavy_tail(&s, (int64_t)1 << 22);
  assert_true(ts->max == 1000);
  assert_true(ts->hist.width == 0.5);
  /* The Gaussian bulk: |x| < 6 for all 4M samples (P(|x| > 6) ~ 2e-9). */
  assert_true(ts->min > -6);
  const QFormat *i8 = fmt("i8");
  double lo, hi;
  /* Entropy (128 levels for i8): candidates start at 128 bins (64). While
   * a level is one bin (i < 256) Q reproduces the bulk exactly and only
   * the outlier's folded mass costs (~1e-6 nats); from 256 bins on, levels
   * merge bulk bins of very different counts (~1e-3 nats). So the search
   * stops at 64: above the bulk, far below the outlier. */
  QCalibOptions en = {Q_CALIB_ENTROPY, 0};
  q_calib_range(ts, &en, i8, true, &lo, &hi);
  assert_true(lo == -hi);
  assert_true(hi > 6 && hi < 250);
  q_calib_range(ts, &en, fmt("u8"), false, &lo, &hi);
  assert_true(hi > 6 && hi < 250 && lo == ts->min);
  /* MSE: the error at threshold t is the outlier's (1000 - t)^2 plus the
   * bulk's rounding error N s^2 / 12. i8 symmetric: s = t / 127, so the
   * derivative N t / (6 * 127^2) - 2 (1000 - t) vanishes at
   * t = 2000 / (N / 96774 + 2) = 44.1 for N = 2^22. u8 over [min, t] with
   * min = -4.67: s = (t + 4.67) / 255, t = (2000 - 4.67 N / 390150) /
   * (N / 390150 + 2) = 153. The histogram (bins of 0.5) is coarse: allow a
   * factor of 2 either way. Both are far from 1000 and above the bulk. */
  QCalibOptions ms = {Q_CALIB_MSE, 0};
  q_calib_range(ts, &ms, i8, true, &lo, &hi);
  assert_true(lo == -hi);
  assert_true(hi > 22 && hi < 88);
  q_calib_range(ts, &ms, fmt("u8"), false, &lo, &hi);
  assert_true(lo == ts->min);
  assert_true(hi > 76 && hi < 306);
  /* Float targets too: f8E4M3FN has a wide dynamic range, yet keeping
   * 1000 (s = 1000 / 448) still loses the bulk's small values. */
  q_calib_range(ts, &ms, fmt("f8E4M3FN"), true, &lo, &hi);
  assert_true(hi > 2 && hi < 1000);
  /* Without the outlier there is nothing to clip for min-max. */
  QCalibOptions mm = {Q_CALIB_MINMAX, 0};
  q_calib_range(ts, &mm, i8, true, &lo, &hi);
  assert_true(hi == 1000);
  q_stats_free(&s);
}

/* Observes v[0 .. n) in chunks of at most 2^16 (the pass's tensors are
 * of that order) and frees v. */
static void observe_all(QTensorStats *ts, float *v, int64_t n) {
  for (int64_t i0 = 0; i0 < n; i0 += 1 << 16) {
    int64_t k = n - i0 < (1 << 16) ? n - i0 : 1 << 16;
    observe(ts, vec_f32(k, v + i0));
  }
  free(v);
}

/* n samples of N(0, 1) (Box-Muller, a fixed seed) into a new array. */
static float *gaussian(int64_t n, uint64_t seed) {
  float *v = malloc((size_t)n * sizeof *v);
  uint64_t x = seed;
  for (int64_t i = 0; i < n; i += 2) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((double)(x >> 11) + 1) * 0x1p-53;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = (double)(x >> 11) * 0x1p-53, r = sqrt(-2 * log(u1));
    v[i] = (float)(r * cos(TWO_PI * u2));
    if (i + 1 < n) v[i + 1] = (float)(r * sin(TWO_PI * u2));
  }
  return v;
}

/* ReLU(N(0, 1)), 2^22 samples: half exact zeros, in bin 0 with the
 * smallest positives. Every grid represents a zero exactly, so the zeros
 * must not move the threshold: it must be the one the positive values
 * alone get (within 2%), and for 256 levels on [0, t] well out in the tail
 * (P(x > 3.5) = 2e-4; the symmetric 128-level threshold of N(0, 1) is ~4.7,
 * test_entropy_gaussian). Merging the spike of zeros with bin 1 made every
 * candidate of more than one bin per level look worse: the search stopped
 * below 512 bins (2.0) before. */
static void test_entropy_relu(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  int64_t n = (int64_t)1 << 22, npos = 0;
  float *v = gaussian(n, 7), *pos = malloc((size_t)n * sizeof *pos);
  for (int64_t i = 0; i < n; i++) {
    if (v[i] > 0) pos[npos++] = v[i];
    else v[i] = 0;
  }
  QTensorStats *relu = q_stats_get(&s, "relu", -1, 0), *half = q_stats_get(&s, "half", -1, 0);
  observe_all(relu, v, n);
  observe_all(half, pos, npos);
  assert_true(relu->min == 0 && relu->hist.width == half->hist.width);
  assert_true(relu->hist.pos[0] > (uint64_t)n / 2);
  QCalibOptions en = {Q_CALIB_ENTROPY, 0};
  double lo, hi, lo2, hi2;
  q_calib_range(relu, &en, fmt("u8"), false, &lo, &hi);
  q_calib_range(half, &en, fmt("u8"), false, &lo2, &hi2);
  print_message("relu: %g, positives only: %g, max %g\n", hi, hi2, relu->max);
  assert_true(lo == 0 && fabs(hi - hi2) <= 0.02 * hi2);
  assert_true(hi > 3.5 && hi <= relu->max);
  /* Symmetric (128 levels on [0, t]): also out in the tail. */
  q_calib_range(relu, &en, fmt("i8"), true, &lo2, &hi2);
  assert_true(lo2 == -hi2 && hi2 > 3.5 && hi2 <= relu->max);
  q_stats_free(&s);
}

/* Uniform on (-1, 1): as above, the max, for both grids; and the same for
 * a lopsided two-signed tensor (-0.05, 1) on u8 (a HardSwish-like range,
 * 243 levels on [0, t]). */
static void test_entropy_uniform(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  enum { M = 1 << 21 };
  QTensorStats *ts = q_stats_get(&s, "u", -1, 0), *lop = q_stats_get(&s, "lop", -1, 0);
  float *v = malloc((size_t)M * sizeof *v);
  for (int j = 0; j < M; j++) v[j] = (float)(2 * (j + 0.5) / M - 1);
  observe_all(ts, v, M);
  v = malloc((size_t)M * sizeof *v);
  for (int j = 0; j < M; j++) v[j] = (float)(1.05 * (j + 0.5) / M - 0.05);
  observe_all(lop, v, M);
  QCalibOptions en = {Q_CALIB_ENTROPY, 0};
  double lo, hi;
  q_calib_range(ts, &en, fmt("i8"), true, &lo, &hi);
  assert_true(hi >= 1 - 2 * 0x1p-11 && lo == -hi);
  q_calib_range(ts, &en, fmt("u8"), false, &lo, &hi);
  assert_true(hi >= 1 - 2 * 0x1p-11 && lo <= -1 + 2 * 0x1p-11);
  q_calib_range(lop, &en, fmt("u8"), false, &lo, &hi);
  assert_true(hi >= 1 - 2 * 0x1p-11 && lo == lop->min);
  q_stats_free(&s);
}

/* Few values: |N(0, 1)| for 2^k samples, k = 12 .. 14 (a few calibration
 * samples of a small tensor: ~2 to 8 values a bin, many bins empty, where
 * the KL's sampling noise, ~df / 2N, is corrected for). The threshold must
 * stay in the tail, as for 2^22 samples (test_entropy_relu: 4.6): above 3
 * (P(|x| > 3) = 0.27%) and, for so few values, at most their max. */
static void test_entropy_sparse(void **state) {
  (void)state;
  for (int k = 12; k <= 14; k++) {
    QStats s;
    q_stats_init(&s);
    int64_t n = (int64_t)1 << k;
    float *v = gaussian(n, 99 + (uint64_t)k);
    for (int64_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    QTensorStats *ts = q_stats_get(&s, "sparse", -1, 0);
    observe_all(ts, v, n);
    QCalibOptions en = {Q_CALIB_ENTROPY, 0};
    double lo, hi;
    q_calib_range(ts, &en, fmt("u8"), false, &lo, &hi);
    print_message("sparse 2^%d: %g, max %g\n", k, hi, ts->max);
    assert_true(lo == ts->min && hi > 3 && hi <= ts->max);
    q_stats_free(&s);
  }
}

/* TensorRT's search as Migacz (GTC 2017) gives it, written out here from
 * the slides for the test: candidates i = L .. n bins, P = h[0 .. i) with
 * the rest added to its last bin, Q = h[0 .. i) merged into L levels (bin
 * j in level floor(j L / i), NVIDIA's pytorch-quantization's linspace
 * split), spread over the bins where P is non-zero, both smoothed (eps
 * 1e-4 onto zeros, MXNet) and normalized; the threshold is i * width for
 * the i with the least KL(P || Q). */
static double trt_threshold(const double *h, int n, int L, double width) {
  double best = INFINITY, *p = malloc((size_t)n * sizeof *p), *q = malloc((size_t)n * sizeof *q);
  int best_i = n;
  for (int i = L; i <= n; i++) {
    double tail = 0;
    for (int j = i; j < n; j++) tail += h[j];
    for (int j = 0; j < i; j++) p[j] = h[j];
    p[i - 1] += tail;
    double mass[256] = {0};
    int nz[256] = {0};
    for (int j = 0; j < i; j++) {
      int g = (int)((int64_t)j * L / i);
      mass[g] += h[j];
      nz[g] += p[j] > 0;
    }
    for (int j = 0; j < i; j++) {
      int g = (int)((int64_t)j * L / i);
      q[j] = p[j] > 0 ? mass[g] / nz[g] : 0;
    }
    double *d[2] = {p, q};
    for (int t = 0; t < 2; t++) {
      int zeros = 0;
      double sum = 0;
      for (int j = 0; j < i; j++) zeros += d[t][j] == 0;
      double e1 = 1e-4 * zeros / (i - zeros);
      for (int j = 0; j < i; j++) d[t][j] = d[t][j] == 0 ? 1e-4 : d[t][j] - e1, sum += d[t][j];
      for (int j = 0; j < i; j++) d[t][j] /= sum;
    }
    double kl = 0;
    for (int j = 0; j < i; j++) kl += p[j] * log(p[j] / q[j]);
    if (kl < best) best = kl, best_i = i;
  }
  free(p);
  free(q);
  return best_i * width;
}

/* 2^22 samples of N(0, 1) without outliers (amax ~5.3: bins of 2^-8,
 * ~1350 used): the threshold the slides' search gives on the same
 * histogram, to within 3% (our levels are as even as integers allow, bin 0
 * is capped at bin 1 and the KL is bias-corrected: all small here, where
 * every bin of the bulk holds thousands of values). It is well inside the
 * range (Gaussians get clipped at ~3-4 sigma for 8 bits). */
static void test_entropy_gaussian(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  QTensorStats *ts = q_stats_get(&s, "g", -1, 0);
  int64_t n = (int64_t)1 << 22;
  float *v = gaussian(n, 42);
  observe_all(ts, v, n);
  assert_true(ts->hist.width == 0x1p-8);
  int used = Q_HIST_BINS;
  while (!ts->hist.pos[used - 1] && !ts->hist.neg[used - 1]) used--;
  double *h = malloc((size_t)used * sizeof *h);
  for (int i = 0; i < used; i++) h[i] = (double)ts->hist.pos[i] + (double)ts->hist.neg[i];
  double ref = trt_threshold(h, used, 128, ts->hist.width);
  free(h);
  QCalibOptions en = {Q_CALIB_ENTROPY, 0};
  double lo, hi;
  q_calib_range(ts, &en, fmt("i8"), true, &lo, &hi);
  print_message("gaussian: TensorRT %g, ours %g, amax %g\n", ref, hi, fmax(-ts->min, ts->max));
  assert_true(fabs(hi - ref) <= 0.03 * ref);
  assert_true(hi > 2.5 && hi < 0.9 * fmax(-ts->min, ts->max));
  q_stats_free(&s);
}

/* ---- .qstats -------------------------------------------------------------- */

static char tmpdir[512];

static void tmp_path(char *out, size_t n, const char *name) {
  if (!tmpdir[0]) {
    const char *base = getenv("QUENCH_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/calibXXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
  }
  snprintf(out, n, "%s/%s", tmpdir, name);
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void test_qstats_round_trip(void **state) {
  (void)state;
  QStats s;
  q_stats_init(&s);
  s.samples = 12345678901LL;
  int64_t d[] = {2, 3};
  float v[] = {0.1f, -1e-30f, 3.4e38f, 1.0f / 3, -0.0f, 7};
  QTensorStats *a = q_stats_get(&s, "conv 1/out:0 \"q\"\\\n\t", 1, 3);
  observe(a, make_f32(2, d, v));
  a->sum = 0.1; /* a double that no float is */
  a->ch_sum[1] = 4.9e-324;
  q_stats_get(&s, "empty", -1, 0); /* min inf, max -inf, width 0 */
  QTensorStats *c = q_stats_get(&s, "c", 0, 2);
  observe(c, make_f32(2, d, v));
  c->hist.pos[Q_HIST_BINS - 1] = UINT64_MAX / 4; /* large counts survive */
  c->count += (int64_t)(UINT64_MAX / 4);
  char path[600];
  tmp_path(path, sizeof path, "rt.qstats");
  Diag dg;
  diag_init(&dg, stderr);
  assert_true(q_stats_write(&s, path, &dg));
  QStats r;
  q_stats_init(&r);
  assert_true(q_stats_read(&r, path, &dg));
  assert_int_equal(dg.errors, 0);
  assert_int_equal(r.n, s.n);
  assert_true(r.samples == s.samples);
  for (int i = 0; i < s.n; i++) {
    const QTensorStats *x = s.t[i], *y = r.t[i];
    assert_string_equal(x->name, y->name);
    assert_ptr_equal(q_stats_find(&r, x->name), y);
    assert_true(x->count == y->count && x->nonfinite == y->nonfinite);
    assert_true(same_double(x->min, y->min) && same_double(x->max, y->max) && same_double(x->sum, y->sum));
    assert_int_equal(x->ch_axis, y->ch_axis);
    assert_true(x->nch == y->nch && x->ch_count == y->ch_count);
    for (int64_t k = 0; x->ch_axis >= 0 && k < x->nch; k++) {
      assert_true(same_double(x->ch_min[k], y->ch_min[k]));
      assert_true(same_double(x->ch_max[k], y->ch_max[k]));
      assert_true(same_double(x->ch_sum[k], y->ch_sum[k]));
    }
    assert_true(same_double(x->hist.width, y->hist.width));
    assert_memory_equal(x->hist.pos, y->hist.pos, sizeof x->hist.pos);
    assert_memory_equal(x->hist.neg, y->hist.neg, sizeof x->hist.neg);
  }
  q_stats_free(&r);
  /* An unwritable path: false, and nothing written. */
  char bad[700];
  tmp_path(bad, sizeof bad, "no/such/dir/x.qstats");
  Diag quiet;
  diag_init(&quiet, NULL);
  assert_false(q_stats_write(&s, bad, &quiet));
  assert_int_equal(quiet.errors, 1);
  assert_int_not_equal(access(bad, F_OK), 0);
  q_stats_free(&s);
}

/* Writes `text` to a file and reads it: the read must fail with an error
 * naming `where` (":LINE:") and containing `msg`, leaving the table empty. */
static void expect_corrupt(const char *text, const char *where, const char *msg) {
  char path[600];
  tmp_path(path, sizeof path, "bad.qstats");
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  Diag d;
  diag_init(&d, out);
  QStats s;
  q_stats_init(&s);
  bool ok = q_stats_read(&s, path, &d);
  fclose(out);
  char want[700];
  snprintf(want, sizeof want, "%s%s", path, where);
  if (ok || !strstr(buf, want) || !strstr(buf, msg))
    fail_msg("for %s: expected '%s' and '%s', got: %s", text, want, msg, buf);
  assert_int_equal(s.n, 0);
  assert_null(q_stats_find(&s, "x"));
  free(buf);
  q_stats_free(&s);
}

#define HEAD "# c\nqstats 1\nsamples 2\n"
#define T0 "tensor \"x\"\ncount 3\nnonfinite 0\nmin -1.0\nmax 2.0\nsum 1.0\n"
#define H0 "width 0.5\npos 2:1 4:1\nneg 2:1\nend\n"

static void test_qstats_corrupt(void **state) {
  (void)state;
  /* The good file first, so the cases below fail for their own reason. */
  char path[600];
  tmp_path(path, sizeof path, "good.qstats");
  FILE *f = fopen(path, "wb");
  fputs(HEAD T0 H0 "\n# trailing comment\n", f);
  fclose(f);
  QStats s;
  q_stats_init(&s);
  Diag d;
  diag_init(&d, stderr);
  assert_true(q_stats_read(&s, path, &d));
  assert_int_equal(s.n, 1);
  assert_true(s.t[0]->hist.neg[2] == 1 && s.t[0]->hist.pos[4] == 1 && s.t[0]->hist.width == 0.5);
  q_stats_free(&s);

  expect_corrupt("", ":1:", "unexpected end of file, expected 'qstats'");
  expect_corrupt("qstatz 1\n", ":1:1:", "expected 'qstats'");
  expect_corrupt("qstats 2\nsamples 0\n", ":1:", "unsupported .qstats version 2");
  expect_corrupt("qstats 1\nsamples -3\n", ":2:9:", "expected an integer in range, got '-3'");
  expect_corrupt(HEAD T0, ":9:", "unexpected end of file, expected 'channels' or 'width'");
  expect_corrupt(HEAD T0 "width 0.5\npos 2:1 4:1\nneg 2:1\n", ":12:", "unexpected end of file, expected 'end'");
  expect_corrupt(HEAD "tensor \"x\"\ncount 3\nnonfinite 0\nmin -1.0x\n", ":7:5:", "expected a number, got '-1.0x'");
  expect_corrupt(HEAD T0 "width 0.5\npos 4:1 2:1\nneg 2:1\nend\n", ":11:9:", "bins increasing below 2048");
  expect_corrupt(HEAD T0 "width 0.5\npos 2:1 2048:1\nneg 2:1\nend\n", ":11:", "got '2048:1'");
  expect_corrupt(HEAD T0 "width 0.5\npos 2:1 4:0\nneg 2:1\nend\n", ":11:", "a positive count, got '4:0'");
  expect_corrupt(HEAD T0 "width 0.5\npos 2:1\nneg 2:1\nend\n", ":12:", "the histogram holds 2 values but count is 3");
  expect_corrupt(HEAD T0 "width -0.5\npos 2:1\nneg 2:1\nend\n", ":10:", "width must be finite and non-negative");
  expect_corrupt(HEAD T0 H0 T0 H0, ":14:", "tensor 'x' appears twice");
  expect_corrupt(HEAD T0 "channels 1 2 3\nch_min 1.0\n", ":11:", "expected a number, got 'end of line'");
  expect_corrupt(HEAD T0 "channels 1 2 3\nch_min 1.0 2.0 3.0\n", ":11:", "unexpected '3.0' at the end of the line");
  expect_corrupt(HEAD T0 "channels 1 0 3\n", ":10:", "expected an integer in range, got '0'");
  expect_corrupt(HEAD "tensor \"x\n", ":4:", "unterminated tensor name");
  expect_corrupt(HEAD "tensor x\n", ":4:8:", "expected a quoted tensor name");
  expect_corrupt(HEAD "tensor \"a\\q\"\n", ":4:", "bad escape in tensor name");
  expect_corrupt(HEAD "tenser \"x\"\n", ":4:1:", "expected 'tensor'");
  expect_corrupt(HEAD T0 "width 0.5 7\n", ":10:", "unexpected '7' at the end of the line");
  /* A missing file. */
  char missing[700];
  tmp_path(missing, sizeof missing, "missing.qstats");
  q_stats_init(&s);
  Diag quiet;
  diag_init(&quiet, NULL);
  assert_false(q_stats_read(&s, missing, &quiet));
  assert_int_equal(quiet.errors, 1);
  q_stats_free(&s);
}

static void test_method_names(void **state) {
  (void)state;
  QCalibMethod ms[] = {Q_CALIB_MINMAX, Q_CALIB_PERCENTILE, Q_CALIB_ENTROPY, Q_CALIB_MSE};
  for (int i = 0; i < 4; i++) {
    QCalibMethod m;
    assert_true(q_calib_method_from_name(q_calib_method_name(ms[i]), &m));
    assert_int_equal(m, ms[i]);
  }
  QCalibMethod m;
  assert_false(q_calib_method_from_name("kl", &m));
  assert_string_equal(q_calib_method_name(Q_CALIB_ENTROPY), "entropy");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minmax_sum),        cmocka_unit_test(test_per_channel),
      cmocka_unit_test(test_hist_doubling),     cmocka_unit_test(test_minmax_percentile),
      cmocka_unit_test(test_entropy_mse_clip),  cmocka_unit_test(test_qstats_round_trip),
      cmocka_unit_test(test_qstats_corrupt),    cmocka_unit_test(test_method_names),
      cmocka_unit_test(test_entropy_relu),      cmocka_unit_test(test_entropy_uniform),
      cmocka_unit_test(test_entropy_sparse),    cmocka_unit_test(test_entropy_gaussian),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
