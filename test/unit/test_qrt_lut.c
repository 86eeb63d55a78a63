/* Unit tests of runtime/qrt_lut.c: byte-table lookups (the VBMI path where
 * the CPU has it, against a plain loop, at every length and offset around
 * the 64-byte steps, in place too) and the GlobalAveragePool of
 * dequantized codes, whose lane-wise sum must equal a sequential double sum
 * bit for bit for any scale (the exactness argument in qrt_lut.h). */
#include "../../runtime/qrt_pool.c"
#include "../../runtime/qrt_lut.c"
#include "qrt_path_skip.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint32_t rng = 12345;
static uint32_t next(void) {
  rng = rng * 1664525u + 1013904223u;
  return rng >> 8;
}

static void test_lut_lengths(void **state) {
  (void)state;
  uint8_t lut[256], x[300], y[300], want[300];
  for (int i = 0; i < 256; i++) lut[i] = (uint8_t)(next() & 0xff);
  for (int i = 0; i < 300; i++) x[i] = (uint8_t)(next() & 0xff);
  for (int off = 0; off < 3; off++)
    for (int n = 0; n + off <= 300; n++) {
      memset(y, 0xA5, sizeof y);
      qrt_lut_u8(y + off, x + off, n, lut);
      for (int i = 0; i < 300; i++) want[i] = (i >= off && i < off + n) ? lut[x[i]] : 0xA5;
      assert_memory_equal(y, want, sizeof y); /* nothing outside [off, off + n) written */
    }
  /* in place */
  memcpy(y, x, sizeof x);
  qrt_lut_u8(y, y, 300, lut);
  for (int i = 0; i < 300; i++) assert_int_equal(y[i], lut[x[i]]);
}

/* The interpreter's order: one double accumulator, element by element. */
static float gap_ref(const uint8_t *x, int sgn, float s, int32_t zp, int64_t hw) {
  double acc = 0;
  for (int64_t i = 0; i < hw; i++) {
    int32_t q = sgn ? (int32_t)(int8_t)x[i] : (int32_t)x[i];
    acc += (double)((float)(q - zp) * s);
  }
  return (float)(acc / (double)hw);
}

static void test_dq_gap_exact(void **state) {
  (void)state;
  const float scales[] = {1e-30f, 3.3e-7f, 0.0078125f, 0.013f, 1.0f, 7.9686275f, 1234.5f, 3e30f};
  const int64_t sizes[] = {1, 7, 8, 9, 100, 1152, 4099, 65536};
  uint8_t *x = malloc(65536 * 3);
  for (int64_t i = 0; i < 65536 * 3; i++) x[i] = (uint8_t)(next() & 0xff);
  for (size_t si = 0; si < sizeof scales / sizeof *scales; si++)
    for (size_t ni = 0; ni < sizeof sizes / sizeof *sizes; ni++)
      for (int sgn = 0; sgn < 2; sgn++) {
        int64_t hw = sizes[ni];
        int32_t zp = sgn ? -7 : 131;
        float y[3], r;
        qrt_dq_global_avg(x, sgn, scales[si], zp, 3, hw, y, NULL);
        for (int p = 0; p < 3; p++) {
          r = gap_ref(x + p * hw, sgn, scales[si], zp, hw);
          assert_memory_equal(&y[p], &r, sizeof r);
        }
      }
  free(x);
}

int main(void) {
  if (qrt_path_skip()) return 77;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lut_lengths),
      cmocka_unit_test(test_dq_gap_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
