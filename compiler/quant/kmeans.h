/* Deterministic 1-D k-means for SplitQuant (passes/split.c; Song & Lin
 * 2025, ../shared/ALGORITHMS.md section 5). No seed: the data are sorted,
 * the centroids start at the means of k equal-count quantile chunks, and
 * Lloyd iterations run on the sorted data with prefix sums (each one is
 * O(k log n): a cluster of sorted 1-D data is a contiguous run, found by
 * binary search for the midpoints between centroids). Test:
 * test/unit/test_kmeans.c. */
#ifndef QUENCH_QUANT_KMEANS_H
#define QUENCH_QUANT_KMEANS_H

#include <stdint.h>

/* Clusters x[0..n) (any order, finite) into at most k groups: c[0..k) gets
 * the distinct centroids in increasing order; returns how many there are
 * (1 for constant data, fewer than k when there are fewer distinct values
 * or clusters come out empty or equal; 0 when n == 0). k >= 1. */
int q_kmeans_1d(const double *x, int64_t n, int k, double *c);

/* The group of v for m sorted centroids c[0..m): with boundaries
 * t_i = (c_i + c_{i+1}) / 2, group 0 is v <= t_0, group m-1 is
 * v >= t_{m-2}, and group i between is t_{i-1} < v <= t_i (for m = 3 the
 * paper's W<=t1, t1<W<t2, W>=t2). */
int q_kmeans_1d_group(const double *c, int m, double v);

#endif
