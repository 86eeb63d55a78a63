/* Table lookups (qrt_lut.h): plain byte-indexed loads, split over outer
 * rows for threads; each element is written by exactly one call. */
#include "qrt_lut.h"

#include <string.h>

typedef struct lut_job {
  const uint8_t *x;
  uint8_t *y;
  const uint8_t *table;
  int ebytes;
  int64_t ch, inner;
} lut_job;

static void lut_rows(void *ctx, int64_t begin, int64_t end) {
  const lut_job *j = ctx;
  int64_t row = j->ch * j->inner;
  for (int64_t o = begin; o < end; o++)
    for (int64_t c = 0; c < j->ch; c++) {
      const uint8_t *x = j->x + (o * row + c * j->inner);
      const uint8_t *t = j->table + c * 256 * j->ebytes;
      if (j->ebytes == 1) {
        uint8_t *restrict y = j->y + (o * row + c * j->inner);
        const int64_t inner = j->inner;
        for (int64_t i = 0; i < inner; i++) y[i] = t[x[i]];
      } else {
        float *y = (float *)(void *)(j->y + (o * row + c * j->inner) * 4);
        const float *tf = (const float *)(const void *)t;
        for (int64_t i = 0; i < j->inner; i++) y[i] = tf[x[i]];
      }
    }
}

/* Per-tensor: elements [begin, end) of the flat buffer. */
static void lut_flat(void *ctx, int64_t begin, int64_t end) {
  const lut_job *j = ctx;
  const uint8_t *restrict x = j->x;
  if (j->ebytes == 1) {
    uint8_t *restrict y = j->y;
    const uint8_t *restrict t = j->table;
    for (int64_t i = begin; i < end; i++) y[i] = t[x[i]];
  } else {
    float *y = (float *)(void *)j->y;
    const float *tf = (const float *)(const void *)j->table;
    for (int64_t i = begin; i < end; i++) y[i] = tf[x[i]];
  }
}

void qrt_lut8(const void *x, void *y, const void *table, int ebytes, int64_t outer, int64_t ch, int64_t inner,
              qrt_pool *pool) {
  lut_job j = {x, y, table, ebytes, ch, inner};
  /* A per-tensor table over a long buffer: split the buffer itself. */
  if (ch == 1) {
    qrt_parallel_for(pool, outer * inner, 4096, lut_flat, &j);
    return;
  }
  qrt_parallel_for(pool, outer, 1, lut_rows, &j);
}
