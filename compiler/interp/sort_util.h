/* A stable merge sort of index arrays by a caller's ordering, for kernels
 * that must break ties by position (TopK, Unique). */
#ifndef QUENCH_INTERP_SORT_UTIL_H
#define QUENCH_INTERP_SORT_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* True when item a must come before item b. */
typedef bool (*IndexBefore)(const void *ctx, int64_t a, int64_t b);

/* Sorts idx[0..n) so that before() holds between neighbours where it
 * decides; equal items keep their order. tmp: scratch of n entries. */
void index_sort_stable(int64_t *idx, int64_t *tmp, int64_t n, IndexBefore before, const void *ctx);

#endif
