/* Hadamard matrices, the fast Walsh-Hadamard transform and seeded random
 * orthogonal matrices (compiler/quant/hadamard.h) for the rotate pass.
 * Sylvester's rule H_2n = [[H, H], [H, -H]] from H_1 = [1]; the FWHT is its
 * butterfly form. Test: test/unit/test_hadamard.c. */
#include "quant/hadamard.h"

#include <math.h>
#include <stdlib.h>

bool q_hadamard_supported(int64_t n) { return n >= 1 && (n & (n - 1)) == 0; }

bool q_hadamard(int64_t n, double *h) {
  if (!q_hadamard_supported(n)) return false;
  /* H[i][j] = (-1)^popcount(i & j): Sylvester's matrix in closed form. */
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      uint64_t b = (uint64_t)(i & j);
      int par = 0;
      while (b) par ^= 1, b &= b - 1;
      h[i * n + j] = par ? -1.0 : 1.0;
    }
  return true;
}

bool q_fwht(int64_t n, double *x) {
  if (!q_hadamard_supported(n)) return false;
  for (int64_t len = 1; len < n; len <<= 1)
    for (int64_t i = 0; i < n; i += 2 * len)
      for (int64_t j = i; j < i + len; j++) {
        double a = x[j], b = x[j + len];
        x[j] = a + b, x[j + len] = a - b;
      }
  return true;
}

/* splitmix64: a small generator whose stream depends only on the seed. */
static uint64_t next_u64(uint64_t *st) {
  uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double next_unit(uint64_t *st) { return ((double)(next_u64(st) >> 11) + 0.5) / 9007199254740992.0; }

void q_random_signs(int64_t n, uint64_t seed, double *s) {
  uint64_t st = seed;
  for (int64_t i = 0; i < n; i++) s[i] = (next_u64(&st) >> 63) ? -1.0 : 1.0;
}

void q_random_orthogonal(int64_t n, uint64_t seed, double *q) {
  uint64_t st = seed;
  const double two_pi = 6.283185307179586;
  for (int64_t e = 0; e < n * n; e++) /* Box-Muller: the Gaussian makes the rows' span uniform */
    q[e] = sqrt(-2.0 * log(next_unit(&st))) * cos(two_pi * next_unit(&st));
  for (int64_t i = 0; i < n; i++) {
    double *r = q + i * n;
    /* Two passes of modified Gram-Schmidt keep the rows orthogonal to
     * rounding even when a draw is nearly dependent. */
    for (int pass = 0; pass < 2; pass++)
      for (int64_t k = 0; k < i; k++) {
        const double *p = q + k * n;
        double dot = 0;
        for (int64_t j = 0; j < n; j++) dot += r[j] * p[j];
        for (int64_t j = 0; j < n; j++) r[j] -= dot * p[j];
      }
    double norm = 0;
    for (int64_t j = 0; j < n; j++) norm += r[j] * r[j];
    norm = sqrt(norm);
    for (int64_t j = 0; j < n; j++) r[j] /= norm;
  }
}
