/* MSE-optimal clipping of weight ranges: for one quantization group
 * (a tensor, an output channel or a group of G inputs), the scale is
 * r * amax / qmax (symmetric) or r * [min, max] (asymmetric) with the clip
 * ratio r searched on a grid, keeping the r that minimizes
 * sum |w - Q(w)|^p. Cutting a few outliers makes the step finer for all
 * the other weights; at 4 bits that is worth several dB. The grid and the
 * norm are the GPTQ reference's (IST-DASLab/gptq `quant.py` find_params
 * with mse=True: norm 2.4, grid 100, maxshrink 0.8, i.e. r = 1.00, 0.99,
 * ..., 0.21; ../shared/ALGORITHMS.md section 9). Integer formats only: the
 * block formats (MX, NVFP4) fix their scales by rule and float formats
 * keep amax / max. Test: test/unit/test_wclip.c. */
#ifndef QUENCH_QUANT_WCLIP_H
#define QUENCH_QUANT_WCLIP_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/qformat.h"

typedef enum { Q_WCLIP_NONE, Q_WCLIP_MSE } QWClip;

#define Q_WCLIP_NORM 2.4     /* the error norm p */
#define Q_WCLIP_GRID 100     /* r steps of 1 / GRID ... */
#define Q_WCLIP_MAXSHRINK 0.8 /* ... down to 1 - MAXSHRINK + 1 / GRID */

/* "none", "mse" <-> QWClip; false for another name. */
bool q_wclip_from_name(const char *name, QWClip *out);
const char *q_wclip_name(QWClip c);

/* sum over the finite v[i] of |v[i] - (q - z) s|^norm, q = q_quantize_int
 * (v[i], s, z) in f's integer range: the error the graph will make. */
double q_wclip_error(const QFormat *f, const double *v, int64_t n, float s, int64_t z, double norm);

/* Scale and zero point of the n values v (non-finite ones ignored) for the
 * integer format f: q_choose_params on [r lo, r hi], [lo, hi] the values'
 * range, with r = 1 for Q_WCLIP_NONE or another format kind, else the grid
 * ratio of least error (the largest r among ties). Returns r. */
double q_wclip_params(const QFormat *f, const double *v, int64_t n, bool symmetric, QWClip c, float *s, int64_t *z);

#endif
