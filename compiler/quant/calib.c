/* Calibration statistics and calibrators (calib.h).
 *
 * Statistics are streamed: per tensor min, max, sum and counts, per-channel
 * min/max/sum along one axis, and a magnitude histogram (positive and
 * negative values apart) of Q_HIST_BINS bins. The bin width is a power of
 * two chosen so the first non-zero value fits; a larger value later doubles
 * it, merging bin pairs, which keeps every count in the bin its value
 * belongs to (with power-of-two widths the bin edges of the coarse histogram
 * are edges of the fine one). Memory per tensor is fixed, whatever the
 * number of samples.
 *
 * Calibrators (q_calib_range): min-max; percentile per side; entropy, the
 * TensorRT threshold search (Migacz, "8-bit Inference with TensorRT", GTC
 * 2017; the reference code is MXNet's / ONNX Runtime's
 * _get_optimal_threshold): the threshold minimizing KL(P || Q) between the
 * clipped histogram P and its quantized-and-expanded form Q; MSE: the
 * threshold minimizing the expected squared quantize-dequantize error of the
 * histogram's values under the target format (Banner et al. 2019, "Post
 * training 4-bit quantization", choose-by-MSE clipping). docs/calibration.md
 * describes each. Tests: test/unit/test_calib.c. */
#include "quant/calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/qmath.h"
#include "support/arena.h"

/* ---- the statistics table ------------------------------------------------ */

void q_stats_init(QStats *s) {
  memset(s, 0, sizeof *s);
  strmap_init(&s->by_name);
}

static void tensor_stats_free(QTensorStats *ts) {
  free(ts->name);
  free(ts->ch_min);
  free(ts->ch_max);
  free(ts->ch_sum);
  free(ts);
}

void q_stats_free(QStats *s) {
  for (int i = 0; i < s->n; i++) tensor_stats_free(s->t[i]);
  free(s->t);
  strmap_free(&s->by_name);
  q_stats_init(s);
}

QTensorStats *q_stats_get(QStats *s, const char *name, int32_t ch_axis, int64_t nch) {
  QTensorStats *ts = strmap_get(&s->by_name, name);
  if (ts) return ts;
  ts = xcalloc(1, sizeof *ts);
  ts->name = xstrdup(name);
  ts->min = INFINITY;
  ts->max = -INFINITY;
  ts->ch_axis = -1;
  if (ch_axis >= 0 && nch > 0 && nch <= Q_MAX_CHANNELS) {
    ts->ch_axis = ch_axis;
    ts->nch = nch;
    ts->ch_min = xmalloc((size_t)nch * sizeof *ts->ch_min);
    ts->ch_max = xmalloc((size_t)nch * sizeof *ts->ch_max);
    ts->ch_sum = xcalloc((size_t)nch, sizeof *ts->ch_sum);
    for (int64_t c = 0; c < nch; c++) ts->ch_min[c] = INFINITY, ts->ch_max[c] = -INFINITY;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->t = xrealloc(s->t, (size_t)s->cap * sizeof *s->t);
  }
  s->t[s->n++] = ts;
  strmap_put(&s->by_name, ts->name, ts);
  return ts;
}

const QTensorStats *q_stats_find(const QStats *s, const char *name) { return strmap_get(&s->by_name, name); }

/* ---- the histogram ------------------------------------------------------- */

/* The smallest power of two w with a < Q_HIST_BINS * w (a > 0 finite);
 * never below 2^-1022 so that 1 / w stays finite. */
static double initial_width(double a) {
  int e;
  frexp(a, &e); /* a = m * 2^e, m in [0.5, 1): a < 2^e */
  int bits = 0;
  while ((1 << bits) < Q_HIST_BINS) bits++;
  int k = e - bits;
  if (k < -1022) k = -1022;
  return ldexp(1.0, k);
}

/* Doubles the width: bin i takes old bins 2i and 2i+1. */
static void hist_double(QHist *h) {
  for (int i = 0; i < Q_HIST_BINS / 2; i++) {
    h->pos[i] = h->pos[2 * i] + h->pos[2 * i + 1];
    h->neg[i] = h->neg[2 * i] + h->neg[2 * i + 1];
  }
  memset(h->pos + Q_HIST_BINS / 2, 0, Q_HIST_BINS / 2 * sizeof h->pos[0]);
  memset(h->neg + Q_HIST_BINS / 2, 0, Q_HIST_BINS / 2 * sizeof h->neg[0]);
  h->width *= 2;
}

/* Makes magnitude a (finite, >= 0) fall inside the histogram's range. */
static void hist_fit(QHist *h, double a) {
  if (a == 0) return;
  if (h->width == 0) h->width = initial_width(a);
  while (a >= h->width * Q_HIST_BINS && isfinite(h->width * 2 * Q_HIST_BINS)) hist_double(h);
}

static inline void hist_add(QHist *h, double v, double inv_width) {
  double a = fabs(v);
  int64_t i = h->width > 0 ? (int64_t)(a * inv_width) : 0;
  if (i >= Q_HIST_BINS) i = Q_HIST_BINS - 1;
  if (v < 0) h->neg[i]++;
  else h->pos[i]++;
}

/* ---- observing a tensor -------------------------------------------------- */

#define CHUNK 1024

/* Elements [i0, i0 + n) of x as doubles. */
static void read_chunk(const Tensor *x, int64_t i0, int n, double *out) {
  if (x->elem == IR_ELEM_F32) {
    const float *p = (const float *)x->data + i0;
    for (int j = 0; j < n; j++) out[j] = p[j];
  } else if (x->elem == IR_ELEM_F64) {
    memcpy(out, (const double *)x->data + i0, (size_t)n * sizeof *out);
  } else {
    for (int j = 0; j < n; j++) out[j] = tensor_get_f64(x, i0 + j);
  }
}

bool q_stats_observe(QTensorStats *ts, const Tensor *x, char *why, size_t nwhy) {
  bool perch = ts->ch_axis >= 0 && ts->ch_min;
  int64_t inner = 1;
  if (perch) {
    if (ts->ch_axis >= x->rank || x->dims[ts->ch_axis] != ts->nch) {
      if (ts->ch_axis >= x->rank)
        snprintf(why, nwhy, "expected %lld channels along axis %d, got a tensor of rank %d", (long long)ts->nch,
                 (int)ts->ch_axis, (int)x->rank);
      else
        snprintf(why, nwhy, "expected %lld channels along axis %d, got %lld", (long long)ts->nch, (int)ts->ch_axis,
                 (long long)x->dims[ts->ch_axis]);
      return false;
    }
    for (int32_t d = ts->ch_axis + 1; d < x->rank; d++) inner *= x->dims[d];
  }
  if (x->numel == 0) return true;
  /* The histogram range must cover the tensor before binning: find its
   * magnitude first (one pass), then bin (second pass) with a fixed width. */
  double buf[CHUNK];
  double mn = ts->min, mx = ts->max, sum = 0, amax = 0;
  int64_t count = 0, nonfinite = 0, c = 0, k = 0;
  for (int64_t i0 = 0; i0 < x->numel; i0 += CHUNK) {
    int n = (int)(x->numel - i0 < CHUNK ? x->numel - i0 : CHUNK);
    read_chunk(x, i0, n, buf);
    for (int j = 0; j < n; j++) {
      double v = buf[j];
      if (isfinite(v)) {
        count++;
        sum += v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        if (fabs(v) > amax) amax = fabs(v);
        if (perch) {
          if (v < ts->ch_min[c]) ts->ch_min[c] = v;
          if (v > ts->ch_max[c]) ts->ch_max[c] = v;
          ts->ch_sum[c] += v;
        }
      } else {
        nonfinite++;
      }
      if (perch && ++k == inner) {
        k = 0;
        if (++c == ts->nch) c = 0;
      }
    }
  }
  ts->min = mn;
  ts->max = mx;
  ts->sum += sum;
  ts->count += count;
  ts->nonfinite += nonfinite;
  if (perch) ts->ch_count += x->numel / ts->nch;
  QHist *h = &ts->hist;
  hist_fit(h, amax);
  double inv = h->width > 0 ? 1.0 / h->width : 0;
  for (int64_t i0 = 0; i0 < x->numel; i0 += CHUNK) {
    int n = (int)(x->numel - i0 < CHUNK ? x->numel - i0 : CHUNK);
    read_chunk(x, i0, n, buf);
    for (int j = 0; j < n; j++)
      if (isfinite(buf[j])) hist_add(h, buf[j], inv);
  }
  return true;
}

/* ---- calibrators --------------------------------------------------------- */

static const char *const method_names[] = {"minmax", "percentile", "entropy", "mse"};

bool q_calib_method_from_name(const char *name, QCalibMethod *m) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, method_names[i]) == 0) {
      *m = (QCalibMethod)i;
      return true;
    }
  }
  if (strcmp(name, "min-max") == 0 || strcmp(name, "max") == 0) {
    *m = Q_CALIB_MINMAX;
    return true;
  }
  return false;
}

const char *q_calib_method_name(QCalibMethod m) {
  return (unsigned)m < 4 ? method_names[m] : "?";
}

/* The magnitude at which `pct` percent of a side's values lie below,
 * interpolated linearly inside the bin, at most side_max. */
static double side_percentile(const uint64_t *h, double width, double pct, double side_max) {
  double total = 0;
  for (int i = 0; i < Q_HIST_BINS; i++) total += (double)h[i];
  if (total == 0 || width == 0) return side_max;
  double target = pct / 100.0 * total, cum = 0;
  for (int i = 0; i < Q_HIST_BINS; i++) {
    if (h[i] && cum + (double)h[i] >= target) {
      double frac = (target - cum) / (double)h[i];
      return fmin(side_max, ((double)i + frac) * width);
    }
    cum += (double)h[i];
  }
  return side_max;
}

/* One past the last non-empty bin of pos + neg. */
static int hist_used(const QHist *h) {
  int n = Q_HIST_BINS;
  while (n > 0 && !h->pos[n - 1] && !h->neg[n - 1]) n--;
  return n;
}

/* The number of quantization levels covering the magnitudes [0, t] when
 * the tensor is quantized to f with the range threshold t gives: the grid
 * step of that range (as q_choose_params makes it) divides [0, t] into
 * floor(t / step) steps, one level more. Symmetric integer grids: n / 2
 * (128 for 8 bits, TensorRT's count); an asymmetric grid of a one-signed
 * tensor spends all n levels on [0, t]; one of a two-signed tensor shares
 * them between [max(min, -t), 0] and [0, min(max, t)], so a lopsided tensor
 * (HardSwish: min -0.375) gets nearly all of them on its long side. Float
 * formats: 2^(bits - 1), an approximation (their levels are not uniform). */
static int entropy_levels(const QTensorStats *ts, const QFormat *f, bool symmetric, double t) {
  if (f->kind != Q_FMT_INT) return 1 << (f->bits - 1);
  int64_t n = f->qmax - f->qmin + 1;
  if (symmetric) return (int)(n / 2);
  double lo = fmin(fmax(ts->min, -t), 0), hi = fmax(fmin(ts->max, t), 0);
  double steps = t / ((hi - lo) / (double)(n - 1));
  /* Round first: t / step is an integer up to rounding when t is a bound. */
  int64_t l = (int64_t)floor(steps + 1e-9) + 1;
  return (int)(l < 2 ? 2 : l > n ? n : l);
}

/* MXNet's _smooth_distribution: moves eps of mass onto every empty bin,
 * taken evenly from the non-empty ones (skipped when that would empty one),
 * then normalizes. False if p is all zero. */
static bool smooth(double *p, int n) {
  const double eps = 1e-4;
  int nz = 0;
  double minnz = INFINITY, total = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] == 0) nz++;
    else minnz = fmin(minnz, p[i]);
  }
  if (nz == n) return false;
  double eps1 = eps * nz / (double)(n - nz);
  if (eps1 >= minnz) eps1 = 0;
  for (int i = 0; i < n; i++) {
    p[i] = p[i] == 0 ? eps : p[i] - eps1;
    total += p[i];
  }
  for (int i = 0; i < n; i++) p[i] /= total;
  return true;
}

/* TensorRT's search over the magnitude histogram m[0 .. used) of ts: for
 * each candidate of i bins (from the level count up), P = m[0 .. i) with
 * the mass beyond folded into its last bin, Q = m[0 .. i) merged into L(i)
 * groups of i / L(i) bins as even as integers allow (group g: bins
 * [floor(g i / L), floor((g + 1) i / L)), the short groups first, near
 * zero; NVIDIA's pytorch-quantization splits as evenly, the long groups
 * first; MXNet's last group takes the remainder, up to L - 1 extra bins,
 * which blurs the tail) and
 * spread back evenly over the bins where P is non-zero; the i minimizing KL(P || Q) gives the threshold i * width.
 * Two departures from TensorRT, both for small or spiky calibration sets
 * (docs/calibration.md): bin 0 is first lowered to m[1], since exact zeros
 * (ReLU outputs, padding) land there, every grid represents them exactly,
 * and a spike of them merged with its neighbours makes every wider
 * candidate look worse; and the KL of each candidate is corrected for the
 * plug-in estimator's bias (Miller-Madow): with N values, sampling noise
 * alone gives KL(P || Q) about df / (2N), df the number of non-zero bins of
 * P less one per non-empty group, which grows with i and would otherwise
 * pull sparse histograms to small thresholds. m is modified. */
static double entropy_threshold(const QTensorStats *ts, const QFormat *f, bool symmetric, double *m, int used) {
  double width = ts->hist.width;
  if (used > 1 && m[0] > m[1]) m[0] = m[1];
  double *p = xmalloc((size_t)used * sizeof *p), *q = xmalloc((size_t)used * sizeof *q);
  double *suffix = xmalloc(((size_t)used + 1) * sizeof *suffix);
  suffix[used] = 0;
  for (int i = used - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + m[i];
  double best = INFINITY;
  int best_i = used;
  for (int i = 2; i <= used; i++) {
    int levels = entropy_levels(ts, f, symmetric, i * width);
    if (levels > i) continue; /* more levels than bins: nothing is merged */
    for (int j = 0; j < i; j++) p[j] = m[j];
    p[i - 1] += suffix[i];
    double df = 0;
    for (int g = 0; g < levels; g++) {
      int start = (int)((int64_t)g * i / levels), stop = (int)((int64_t)(g + 1) * i / levels);
      double mass = 0;
      int nonzero = 0;
      for (int j = start; j < stop; j++) {
        mass += m[j];
        nonzero += p[j] != 0;
      }
      for (int j = start; j < stop; j++) q[j] = p[j] != 0 ? mass / nonzero : 0;
      if (nonzero > 1) df += nonzero - 1;
    }
    if (!smooth(p, i) || !smooth(q, i)) continue;
    double kl = 0;
    for (int j = 0; j < i; j++) kl += p[j] * log(p[j] / q[j]);
    kl -= df / (2 * suffix[0]);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  free(p);
  free(q);
  free(suffix);
  return best_i * width;
}

/* The clipping range for magnitude threshold t. */
static void clip_range(const QTensorStats *ts, bool symmetric, double t, double *lo, double *hi) {
  if (symmetric) {
    *lo = -t;
    *hi = t;
  } else {
    *lo = fmax(ts->min, -t);
    *hi = fmin(ts->max, t);
  }
}

/* Quantize-dequantize of x under f with scale s and zero point z. */
static double qdq(const QFormat *f, double x, double s, double z) {
  if (f->kind == Q_FMT_INT) {
    double q = nearbyint(x / s) + z; /* default rounding mode: half to even */
    q = fmin(fmax(q, (double)f->qmin), (double)f->qmax);
    return (q - z) * s;
  }
  return q_format_decode(f, q_format_encode(f, x / s)) * s;
}

#define MSE_SUBPOINTS 16 /* at most, for bins wider than a step */
#define MSE_COARSE 128

/* Expected squared error of quantize-dequantize of the histogram's values
 * with the range of threshold t, each bin's values taken as spread evenly
 * over it: s^2 / 12 for wide unsaturated bins of integer grids, else the
 * mean over MSE_SUBPOINTS points inside the bin (kept within [min, max]). */
static double mse_error(const QTensorStats *ts, const QFormat *f, bool symmetric, double t, int used) {
  double lo, hi;
  clip_range(ts, symmetric, t, &lo, &hi);
  float s;
  int64_t z;
  q_choose_params(f, lo, hi, symmetric, &s, &z);
  const QHist *h = &ts->hist;
  /* Integer grids: a bin at least one step wide and inside the
   * representable range (no saturation) has the uniform rounding error
   * s^2 / 12; sampling it at a few points would alias with the grid. */
  bool grid = f->kind == Q_FMT_INT && h->width >= (double)s;
  double rmin = ((double)f->qmin - (double)z - 0.5) * (double)s, rmax = ((double)f->qmax - (double)z + 0.5) * (double)s;
  /* Points per bin: a bin much narrower than a step holds a smooth piece
   * of the error curve and a few points suffice. Float grids have steps of
   * every size: a fixed 8. */
  int npts = 8;
  if (f->kind == Q_FMT_INT) {
    double r = ceil(8 * h->width / (double)s);
    npts = r < 2 ? 2 : r > MSE_SUBPOINTS ? MSE_SUBPOINTS : (int)r;
  }
  double err = 0;
  for (int i = 0; i < used; i++) {
    for (int side = 0; side < 2; side++) {
      uint64_t n = side ? h->neg[i] : h->pos[i];
      if (!n) continue;
      double top = (i + 1) * h->width;
      if (grid && (side ? -top >= rmin : top <= rmax)) {
        err += (double)n * (double)s * (double)s / 12;
        continue;
      }
      double e = 0;
      for (int k = 0; k < npts; k++) {
        double a = ((double)i + (k + 0.5) / npts) * h->width;
        double x = side ? fmax(-a, ts->min) : fmin(a, ts->max);
        double d = x - qdq(f, x, (double)s, (double)z);
        e += d * d;
      }
      err += (double)n * e / npts;
    }
  }
  return err;
}

/* Threshold minimizing mse_error over the bin edges j * width (j = 1 ..
 * used): every stride-th edge first, then every edge around the best. */
static double mse_threshold(const QTensorStats *ts, const QFormat *f, bool symmetric, int used, double amax) {
  double w = ts->hist.width;
  int stride = (used + MSE_COARSE - 1) / MSE_COARSE;
  double best = INFINITY;
  int best_j = used;
  for (int j = stride; j < used + stride; j += stride) {
    int jj = j > used ? used : j;
    double e = mse_error(ts, f, symmetric, fmin(jj * w, amax), used);
    if (e < best) best = e, best_j = jj;
  }
  int from = best_j - stride + 1 < 1 ? 1 : best_j - stride + 1;
  int to = best_j + stride - 1 > used ? used : best_j + stride - 1;
  int center = best_j;
  for (int j = from; j <= to; j++) {
    if (j == center) continue;
    double e = mse_error(ts, f, symmetric, fmin(j * w, amax), used);
    if (e < best) best = e, best_j = j;
  }
  return fmin(best_j * w, amax);
}

void q_calib_range(const QTensorStats *ts, const QCalibOptions *o, const QFormat *f, bool symmetric, double *lo,
                   double *hi) {
  if (ts->count == 0) {
    *lo = *hi = 0;
    return;
  }
  double amax = fmax(fabs(ts->min), fabs(ts->max));
  const QHist *h = &ts->hist;
  int used = hist_used(h);
  double t = amax;
  switch (o->method) {
  case Q_CALIB_MINMAX:
    if (!symmetric) {
      *lo = ts->min;
      *hi = ts->max;
      return;
    }
    break;
  case Q_CALIB_PERCENTILE: {
    double p = o->percentile > 0 && o->percentile <= 100 ? o->percentile : 99.99;
    double h_hi = ts->max > 0 ? side_percentile(h->pos, h->width, p, ts->max) : ts->max;
    double h_lo = ts->min < 0 ? -side_percentile(h->neg, h->width, p, -ts->min) : ts->min;
    if (!symmetric) {
      *lo = h_lo;
      *hi = h_hi;
      return;
    }
    t = fmax(fabs(h_lo), fabs(h_hi));
    break;
  }
  case Q_CALIB_ENTROPY:
    if (h->width > 0 && used > 1) {
      double *m = xmalloc((size_t)used * sizeof *m);
      for (int i = 0; i < used; i++) m[i] = (double)h->pos[i] + (double)h->neg[i];
      t = fmin(amax, entropy_threshold(ts, f, symmetric, m, used));
      free(m);
    }
    break;
  case Q_CALIB_MSE:
    if (h->width > 0 && used > 0) t = mse_threshold(ts, f, symmetric, used, amax);
    break;
  }
  clip_range(ts, symmetric, t, lo, hi);
}
