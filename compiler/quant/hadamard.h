/* Orthogonal matrices for the rotate pass (passes/rotate.c; QuaRot,
 * Ashkboos et al. 2024, spcl/QuaRot hadamard_utils.py; SpinQuant;
 * ../shared/ALGORITHMS.md section 4): Sylvester Hadamard matrices, the
 * fast Walsh-Hadamard transform, seeded random signs and seeded random
 * orthogonal matrices. Everything is in double; callers round to the
 * model's type once. Test: test/unit/test_hadamard.c. */
#ifndef QUENCH_QUANT_HADAMARD_H
#define QUENCH_QUANT_HADAMARD_H

#include <stdbool.h>
#include <stdint.h>

/* Whether q_hadamard can build H_n: n = K * 2^m for a stored H_K. Only
 * K = 1 (Sylvester, n a power of two, n >= 1) is stored; other sizes
 * (QuaRot's K in {12, 20, 28, ..., 172}) are refused. */
bool q_hadamard_supported(int64_t n);

/* The n x n Sylvester Hadamard matrix (entries +-1, H H^T = n I,
 * symmetric), row-major into h[n*n]. False, h untouched, when
 * !q_hadamard_supported(n). */
bool q_hadamard(int64_t n, double *h);

/* In-place unnormalized fast Walsh-Hadamard transform of x[0..n): x <- x H_n
 * (log2 n butterfly stages (a+b, a-b)); n must be a power of two, else
 * false and x untouched. Divide by sqrt(n) for the orthonormal transform. */
bool q_fwht(int64_t n, double *x);

/* n signs +-1 drawn from a generator seeded by `seed` (the same on every
 * platform). */
void q_random_signs(int64_t n, uint64_t seed, double *s);

/* An n x n orthogonal matrix (Q Q^T = I), row-major: Gram-Schmidt
 * (modified, twice) on the rows of a seeded Gaussian matrix. */
void q_random_orthogonal(int64_t n, uint64_t seed, double *q);

#endif
