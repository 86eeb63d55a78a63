/* Deterministic 1-D k-means (compiler/quant/kmeans.h): quantile-chunk
 * initialization and Lloyd iterations on sorted data. Used by the split
 * pass (SplitQuant, ../shared/ALGORITHMS.md section 5); test:
 * test/unit/test_kmeans.c. */
#include "quant/kmeans.h"

#include <stdlib.h>
#include <string.h>

#define KMEANS_MAX_ITERS 300

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int q_kmeans_1d_group(const double *c, int m, double v) {
  if (m <= 1) return 0;
  if (v >= (c[m - 2] + c[m - 1]) / 2) return m - 1;
  for (int i = 0; i < m - 1; i++)
    if (v <= (c[i] + c[i + 1]) / 2) return i;
  return m - 1;
}

/* The first index of sorted s[0..n) whose group is above g (groups are
 * non-decreasing along sorted data). */
static int64_t group_end(const double *s, int64_t n, const double *c, int m, int g) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (q_kmeans_1d_group(c, m, s[mid]) <= g)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Means of the non-empty runs s[ends[i-1]..ends[i]) into c; returns how
 * many. Runs of sorted data never share a value, so the means increase. */
static int run_means(const double *pre, const int64_t *ends, int nruns, double *c) {
  int m = 0;
  int64_t b = 0;
  for (int i = 0; i < nruns; i++) {
    int64_t e = ends[i];
    if (e > b) {
      double mean = (pre[e] - pre[b]) / (double)(e - b);
      if (m == 0 || mean > c[m - 1]) c[m++] = mean;
    }
    b = e;
  }
  return m;
}

int q_kmeans_1d(const double *x, int64_t n, int k, double *c) {
  if (n <= 0 || k < 1) return 0;
  double *s = malloc((size_t)n * sizeof *s), *pre = malloc((size_t)(n + 1) * sizeof *pre);
  int64_t *ends = malloc((size_t)k * sizeof *ends), *prev = malloc((size_t)k * sizeof *prev);
  memcpy(s, x, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  pre[0] = 0;
  for (int64_t i = 0; i < n; i++) pre[i + 1] = pre[i] + s[i];
  /* Start: k equal-count chunks of the sorted data. Equal values can land
   * in two chunks; run_means keeps one centroid per distinct mean. */
  for (int i = 0; i < k; i++) ends[i] = (int64_t)((i + 1) * (double)n / k);
  ends[k - 1] = n;
  int m = run_means(pre, ends, k, c);
  for (int it = 0; it < KMEANS_MAX_ITERS && m > 1; it++) {
    for (int g = 0; g < m; g++) ends[g] = group_end(s, n, c, m, g);
    if (it > 0 && memcmp(ends, prev, (size_t)m * sizeof *ends) == 0) break;
    memcpy(prev, ends, (size_t)m * sizeof *ends);
    m = run_means(pre, ends, m, c);
  }
  free(s), free(pre), free(ends), free(prev);
  return m;
}
