/* Stable merge sort of index arrays (sort_util.h). */
#include "interp/sort_util.h"

#include <string.h>

void index_sort_stable(int64_t *idx, int64_t *tmp, int64_t n, IndexBefore before, const void *ctx) {
  if (n < 2) return;
  int64_t h = n / 2;
  index_sort_stable(idx, tmp, h, before, ctx);
  index_sort_stable(idx + h, tmp, n - h, before, ctx);
  int64_t i = 0, j = h, o = 0;
  /* take from the right half only when strictly before: ties stay in order */
  while (i < h && j < n) tmp[o++] = before(ctx, idx[j], idx[i]) ? idx[j++] : idx[i++];
  while (i < h) tmp[o++] = idx[i++];
  while (j < n) tmp[o++] = idx[j++];
  memcpy(idx, tmp, (size_t)n * sizeof *idx);
}
