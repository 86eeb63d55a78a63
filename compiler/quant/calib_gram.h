/* Gram statistics of layer inputs for GPTQ (Frantar et al. 2023,
 * ../shared/ALGORITHMS.md section 9): for an activation X that a MatMul or
 * Gemm multiplies by a constant weight, H = (2/n) sum over tokens of x x^T,
 * a K x K matrix with K the input dim, kept as a running mean over the n
 * tokens seen (rows of X with every leading dim flattened). Kept beside
 * the per-tensor statistics (QStats cannot grow) and saved as extra
 * sections of the same .qstats file (docs/calibration.md): optional
 * `gram` blocks after the tensor blocks, so files without them still read.
 * Memory: K*K doubles per tensor, K <= Q_GRAM_MAX_K. Test:
 * test/unit/test_gptq.c, test/lit/quant/quantize-gptq.qir. */
#ifndef QUENCH_QUANT_CALIB_GRAM_H
#define QUENCH_QUANT_CALIB_GRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/tensor.h"
#include "quant/calib.h"
#include "support/diag.h"
#include "support/strmap.h"

/* Larger input dims get no Gram matrix (K*K doubles: 128 MiB at 4096). */
#define Q_GRAM_MAX_K 4096

typedef struct QGram {
  char *name;      /* the activation's value name (malloc'ed) */
  int64_t k;       /* the input dim */
  bool first_dim;  /* tokens along the last dim, K the first (Gemm transA=1, rank 2) */
  int64_t n;       /* tokens seen */
  int64_t skipped; /* tokens left out because they held Inf or NaN */
  double *h;       /* k*k, row-major, symmetric: (2/n) sum x x^T */
} QGram;

typedef struct QGramSet {
  QGram **g; /* in the order first seen */
  int n, cap;
  StrMap by_name;
} QGramSet;

void q_gram_set_init(QGramSet *s);
void q_gram_set_free(QGramSet *s);
/* The entry for `name`, created with input dim k if new; NULL when k is
 * out of [1, Q_GRAM_MAX_K]. An existing entry is returned as it is. */
QGram *q_gram_get(QGramSet *s, const char *name, int64_t k, bool first_dim);
const QGram *q_gram_find(const QGramSet *s, const char *name);

/* Adds the tokens of a float tensor (any float element type) to the
 * running mean. Returns false, writing why to `why`, when its input dim is
 * not g->k. */
bool q_gram_observe(QGram *g, const Tensor *x, char *why, size_t nwhy);

/* The .qstats file with Gram sections (calib_io.c): the per-tensor blocks
 * of s, then one `gram` block per entry of g (g NULL or empty: exactly
 * what q_stats_write writes). */
bool q_stats_write_gram(const QStats *s, const QGramSet *g, const char *path, Diag *d);
/* Reads a .qstats file into initialized, empty s and g;
 * g NULL skips the Gram sections (still checked). Errors name PATH:LINE
 * and leave both empty. */
bool q_stats_read_gram(QStats *s, QGramSet *g, const char *path, Diag *d);

#endif
