/* Matching shared by the outlier passes that fold per-channel factors into
 * a value's producer and its MatMul/Gemm consumers (passes/smoothquant.c,
 * passes/osplus.c; its constant checks also serve rotate.c and split.c, its
 * statistics-file lookup noisyquant.c; the constant rewriter osplus.c and
 * reparam.c):
 * constant checks, the consumer pattern and the
 * consumers' weights as one K x N matrix. Tested through those passes'
 * lit tests (test/lit/quant/smoothquant*.qir, osplus*.qir). */
#ifndef QUENCH_PASSES_OUTLIER_UTIL_H
#define QUENCH_PASSES_OUTLIER_UTIL_H

#include "pm/pass_manager.h"

/* A constant operand to rescale per channel: element e belongs to channel
 * (first ? e / (numel / K) : e % K). */
typedef struct OutlierTarget {
  IrOp *op;
  uint32_t idx;
  bool first;
} OutlierTarget;

/* The statistics file of a pass with a `stats` option: the option, else
 * the module attribute quench.calib_stats (set by calibrate). NULL, after
 * reporting "no calibration statistics...", when neither is set. */
const char *outlier_stats_path(PassContext *ctx, const IrModule *m);

/* v is a non-quantized float Constant (NULL: false). */
bool outlier_float_const(const IrValue *v);

/* Constant ops referring to pool constant c. */
int outlier_const_refs(IrModule *m, const IrConst *c);

/* v is a float constant read only by `user` (once) whose pool tensor no
 * other Constant op refers to: rewriting it cannot change another op. */
bool outlier_exclusive(IrModule *m, const IrValue *v, const IrOp *user);

/* Use u of x (K = x's last dim) is MatMul(x, B[K, N]) or Gemm(x, B) with
 * transA = 0, B a float constant of rank 2 and x's element type; *t gets B
 * (first: K is B's first dim). */
bool outlier_match_consumer(const IrUse *u, const IrValue *x, int64_t k, OutlierTarget *t);

/* A normalization op over the last axis of x (axis attribute -1 or rank-1). */
bool outlier_last_axis_norm(const IrOp *op, const IrValue *x);

/* Some user of x is a MatMul/Gemm reading it as input A with a float
 * constant weight: only then can there be anything to rewrite. */
bool outlier_candidate(const IrValue *x);

/* The weights of cons[0..ncons) side by side as a K x N matrix (row j:
 * input channel j), malloc'ed; *n gets N, cols[i] (when cols is not NULL)
 * consumer i's column count. */
double *outlier_consumer_matrix(const OutlierTarget *cons, int ncons, int64_t k, int64_t *n, int64_t *cols);

/* ---- rewriting constants -------------------------------------------------- */

/* A bias constant c with k values along its last dim (any leading dims). */
bool outlier_channel_bias(const IrValue *c, int64_t k);

/* The constant rewrites of one pass run (osplus, reparam): a replaced
 * operand becomes a new constant BASE.SUFFIX (BASE the old constant's name,
 * else the value's, else `fallback`), and pool constants it replaced are
 * removed by outlier_rewriter_finish once nothing refers to them. */
typedef struct OutlierRewriter {
  PassContext *ctx;
  IrModule *m;
  const char *suffix;      /* new constants: BASE.SUFFIX ("osp", "rep") */
  const char *bias_suffix; /* a new bias constant after a consumer: Y.BIAS_SUFFIX */
  const char *orig_suffix; /* ... whose own result is renamed Y.ORIG_SUFFIX */
  const char *fallback;    /* the base for unnamed constants */
  const IrConst **dropped;
  int ndropped;
} OutlierRewriter;

/* Operand idx of op becomes a new constant holding w (before op). */
void outlier_replace_operand(OutlierRewriter *r, IrOp *op, uint32_t idx, const Tensor *w);
/* Adds corr[0..n) along the last axis of consumer op's result: into a
 * Gemm's C (beta 1) or the constant of an Add the result alone feeds, else
 * through a new Add after op that takes the result's name (statistics and
 * `quench report` pairs keep matching); counts "biases-added". */
void outlier_add_bias(OutlierRewriter *r, IrOp *op, int64_t n, const double *corr);
/* Removes the replaced pool constants nothing refers to any more. */
void outlier_rewriter_finish(OutlierRewriter *r);

#endif
