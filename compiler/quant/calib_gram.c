/* Gram statistics H = (2/n) sum x x^T of layer inputs, for GPTQ
 * (compiler/quant/gptq.c; ../shared/ALGORITHMS.md section 9). Accumulated
 * in double as a running mean, as the reference (IST-DASLab/gptq
 * `add_batch`) does: each batch of m tokens scales H by n/(n+m) and adds
 * (2/(n+m)) X^T X. Only the upper triangle is summed, then mirrored.
 * Tokens holding Inf or NaN are left out (counted). The file sections are
 * in calib_io.c. Test: test/unit/test_gptq.c. */
#include "quant/calib_gram.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/arena.h"

void q_gram_set_init(QGramSet *s) {
  memset(s, 0, sizeof *s);
  strmap_init(&s->by_name);
}

void q_gram_set_free(QGramSet *s) {
  for (int i = 0; i < s->n; i++) {
    free(s->g[i]->name);
    free(s->g[i]->h);
    free(s->g[i]);
  }
  free(s->g);
  strmap_free(&s->by_name);
  q_gram_set_init(s);
}

QGram *q_gram_get(QGramSet *s, const char *name, int64_t k, bool first_dim) {
  QGram *g = strmap_get(&s->by_name, name);
  if (g) return g;
  if (k < 1 || k > Q_GRAM_MAX_K) return NULL;
  g = xcalloc(1, sizeof *g);
  g->name = xstrdup(name);
  g->k = k;
  g->first_dim = first_dim;
  g->h = xcalloc((size_t)(k * k), sizeof *g->h);
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->g = xrealloc(s->g, (size_t)s->cap * sizeof *s->g);
  }
  s->g[s->n++] = g;
  strmap_put(&s->by_name, g->name, g);
  return g;
}

const QGram *q_gram_find(const QGramSet *s, const char *name) { return strmap_get(&s->by_name, name); }

bool q_gram_observe(QGram *g, const Tensor *x, char *why, size_t nwhy) {
  int64_t k = g->k;
  if (x->rank < 1 || x->dims[g->first_dim ? 0 : x->rank - 1] != k) {
    snprintf(why, nwhy, "input dim %lld, expected %lld", x->rank < 1 ? 0LL : (long long)x->dims[g->first_dim ? 0 : x->rank - 1],
             (long long)k);
    return false;
  }
  int64_t m = x->numel / k;
  if (m == 0) return true;
  /* Element (token t, input c) sits at t*k + c, or c*m + t when K is the
   * first dim (Gemm transA: a [K, M] operand). */
  int64_t ts = g->first_dim ? 1 : k, cs = g->first_dim ? m : 1;
  double *s = xcalloc((size_t)(k * k), sizeof *s), *row = xmalloc((size_t)k * sizeof *row);
  int64_t used = 0;
  for (int64_t t = 0; t < m; t++) {
    bool finite = true;
    for (int64_t c = 0; c < k; c++) {
      row[c] = tensor_get_f64(x, t * ts + c * cs);
      finite &= isfinite(row[c]) != 0;
    }
    if (!finite) {
      g->skipped++;
      continue;
    }
    used++;
    for (int64_t a = 0; a < k; a++) {
      double xa = row[a];
      if (xa == 0) continue;
      double *sa = s + a * k;
      for (int64_t b = a; b < k; b++) sa[b] += xa * row[b];
    }
  }
  if (used > 0) {
    double keep = (double)g->n / (double)(g->n + used), add = 2.0 / (double)(g->n + used);
    for (int64_t a = 0; a < k; a++)
      for (int64_t b = a; b < k; b++) {
        double v = g->h[a * k + b] * keep + s[a * k + b] * add;
        g->h[a * k + b] = v;
        g->h[b * k + a] = v;
      }
    g->n += used;
  }
  free(s);
  free(row);
  return true;
}
