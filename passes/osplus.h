/* Outlier Suppression+'s shift, scale rule and clipping-point search
 * (passes/osplus_search.c), shared by the pass (passes/osplus.c) and its
 * unit test (test/unit/test_osplus.c). Math: ../shared/ALGORITHMS.md
 * section 2, docs/passes/osplus.md. */
#ifndef QUENCH_PASSES_OSPLUS_H
#define QUENCH_PASSES_OSPLUS_H

#include <stdint.h>

/* The search's lowest clipping point, relative to T = max_j |X~_j| (the
 * reference's absolute floor of 1.0 is wrong for small tensors). */
#define OS_FLOOR 0.01

/* z_j = (lo_j + hi_j) / 2, j < k: the centre of channel j's range. */
void os_shift(int64_t k, const double *lo, const double *hi, double *z);

/* s_j = max(1, hi_j / t, lo_j / -t) for the (shifted) channel range
 * [lo_j, hi_j] and clipping point t > 0: only channels wider than t shrink. */
void os_scales(int64_t k, const double *lo, const double *hi, double t, double *s);

/* Searches t over `steps` (>= 2) equal steps from T = max_j max(|lo_j|,
 * |hi_j|) down to T * OS_FLOOR, minimizing sq_proxy_error (smoothquant.h)
 * of the consumers' K x N weights b with the activations' absmax
 * max(|lo_j|, |hi_j|) and mean squares ex2 (the first t on ties, so no
 * scaling unless it helps). s gets the chosen scales (all 1 when T is 0);
 * returns the chosen t (0 when T is 0); *best_err its error when not NULL. */
double os_search(int64_t k, int64_t n, const double *b, const double *lo, const double *hi, const double *ex2,
                 int steps, double *s, double *best_err);

#endif
