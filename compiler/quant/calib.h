/* Calibration statistics, streamed in bounded memory: per tensor min, max,
 * sum and count, per-channel min/max/sum along one axis, and a histogram of
 * magnitudes (separately for positive and negative values) of a fixed number
 * of bins whose range doubles, merging bin pairs, when a larger value
 * arrives. Calibrators turn the statistics into a clipping range: min-max,
 * percentile, entropy (KL divergence, TensorRT style) and MSE-optimal
 * clipping. Statistics are saved to and loaded from a text side file (the
 * .qstats format, docs/calibration.md) so re-runs need not calibrate again. */
#ifndef QUENCH_QUANT_CALIB_H
#define QUENCH_QUANT_CALIB_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/tensor.h"
#include "quant/qformat.h"
#include "support/diag.h"
#include "support/strmap.h"

#define Q_HIST_BINS 2048
/* Per-channel statistics are kept for at most this many channels. */
#define Q_MAX_CHANNELS 65536

/* Bin i of pos counts values v >= 0 with i*width <= v < (i+1)*width (the
 * last bin also takes v == range); neg the same for -v of negative values.
 * width 0: nothing non-zero seen yet (zeros are counted in pos[0]). */
typedef struct QHist {
  double width;
  uint64_t pos[Q_HIST_BINS];
  uint64_t neg[Q_HIST_BINS];
} QHist;

typedef struct QTensorStats {
  char *name;         /* the IR value's name (malloc'ed) */
  int64_t count;      /* finite elements seen */
  int64_t nonfinite;  /* NaN and Inf elements seen (never in min/max) */
  double min, max, sum;
  int32_t ch_axis;    /* -1: no per-channel statistics */
  int64_t nch;
  double *ch_min, *ch_max, *ch_sum; /* nch each */
  int64_t ch_count;   /* elements per channel seen */
  QHist hist;
} QTensorStats;

typedef struct QStats {
  QTensorStats **t; /* in the order first seen */
  int n, cap;
  StrMap by_name;
  int64_t samples;  /* calibration runs observed */
} QStats;

void q_stats_init(QStats *s);
void q_stats_free(QStats *s);
/* The entry for `name`, created (with per-channel statistics along ch_axis
 * over nch channels when ch_axis >= 0 and nch <= Q_MAX_CHANNELS) if new. */
QTensorStats *q_stats_get(QStats *s, const char *name, int32_t ch_axis, int64_t nch);
const QTensorStats *q_stats_find(const QStats *s, const char *name);

/* Adds a float tensor's elements (any float element type). Returns false,
 * writing why to `why`, if its channel count disagrees with the entry's. */
bool q_stats_observe(QTensorStats *ts, const Tensor *x, char *why, size_t nwhy);

/* Writes the .qstats text file through a temporary renamed into place. */
bool q_stats_write(const QStats *s, const char *path, Diag *d);
/* Reads a .qstats file into an initialized, empty s; errors name
 * PATH:LINE and leave s empty. */
bool q_stats_read(QStats *s, const char *path, Diag *d);

typedef enum { Q_CALIB_MINMAX, Q_CALIB_PERCENTILE, Q_CALIB_ENTROPY, Q_CALIB_MSE } QCalibMethod;

bool q_calib_method_from_name(const char *name, QCalibMethod *m);
const char *q_calib_method_name(QCalibMethod m);

typedef struct QCalibOptions {
  QCalibMethod method;
  double percentile; /* Q_CALIB_PERCENTILE: e.g. 99.99 (per side) */
} QCalibOptions;

/* The clipping range [*lo, *hi] for quantizing the tensor to f, symmetric
 * or not: min-max gives [min, max]; percentile clips each side at the given
 * percentile of its magnitudes; entropy picks the threshold minimizing the
 * KL divergence between the histogram and its quantized form; MSE the one
 * minimizing the expected squared error of quantize-dequantize under f.
 * Symmetric ranges come back as [-t, t]. */
void q_calib_range(const QTensorStats *ts, const QCalibOptions *o, const QFormat *f, bool symmetric, double *lo,
                   double *hi);

#endif
