/* Matching shared by the outlier passes that fold per-channel factors into
 * a value's producer and its MatMul/Gemm consumers (passes/smoothquant.c,
 * passes/osplus.c; its constant checks also serve rotate.c and split.c, its
 * statistics-file lookup noisyquant.c):
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

#endif
