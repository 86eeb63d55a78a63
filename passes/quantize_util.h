/* Shared state and helpers of the quantize pass (passes/quantize.c), its
 * weight rewriting (passes/quantize_weights.c) and bias correction
 * (passes/quantize_bias.c). */
#ifndef QUENCH_PASSES_QUANTIZE_UTIL_H
#define QUENCH_PASSES_QUANTIZE_UTIL_H

#include "interp/tensor.h"
#include "support/strmap.h"
#include "pm/pass_manager.h"
#include "quant/calib.h"
#include "quant/calib_gram.h"
#include "quant/qconfig.h"

typedef struct QzCtx {
  PassContext *ctx;
  IrModule *m;
  QConfig cfg;
  bool failed;
  const QGramSet *grams; /* Gram statistics for GPTQ; NULL: none */
  const QStats *stats;   /* calibration statistics (bias correction's E[x]); NULL: none */
  double gptq_damp;      /* GPTQ damping, a fraction of mean(diag H) */
  bool gptq_act_order;   /* GPTQ in descending H_ii order */
  StrMap taken;          /* value names in use: new names never collide (the verifier refuses duplicates) */
} QzCtx;

/* Fills q->taken with every value name of the module (qz_name keeps it
 * up to date); strmap_free(&q->taken) when done. */
void qz_names_init(QzCtx *q);

/* A Constant named after `name` (made unique in the pool) holding t,
 * inserted after *cursor (which then points at it), or before `before`
 * when cursor is NULL. Returns its value. */
IrValue *qz_const(QzCtx *q, IrOp **cursor, IrOp *before, const char *name, const Tensor *t);
/* A new op with one result of type ty named `name`, placed as qz_const. */
IrOp *qz_op(QzCtx *q, IrOp **cursor, IrOp *before, IrOpKind k, IrValue *const *ins, uint32_t nin, const IrType *ty,
            const char *name);
/* "BASE.SUFFIX" in the module arena, or "BASE.SUFFIX_N" with the smallest
 * N that no value of the module has taken; NULL when base is NULL. */
const char *qz_name(QzCtx *q, const char *base, const char *suffix);
void qz_set_int(QzCtx *q, IrOp *op, const char *name, int64_t v);

/* Reports an error located at line `line` of the config file. */
void qz_config_error(QzCtx *q, int line, const char *fmt, ...) QUENCH_PRINTF(3, 4);

/* The output-channel and input dims of operand 1 (the weights) of a
 * Conv/ConvTranspose/MatMul/Gemm of weight rank r; -1 where none. */
void qz_weight_axes(const IrOp *op, int32_t r, int32_t *oc, int32_t *ic);

/* Quantizes constant operand `idx` of op by w and returns the value that
 * stands for it (the last DequantizeLinear's result), inserted before op;
 * NULL after an error (reported) or when w keeps it float. */
IrValue *qz_weight(QzCtx *q, IrOp *op, uint32_t idx, const QWeightCfg *w);

/* Removes the Constant defining v when nothing reads v any more, and its
 * pool entry when no other Constant refers to it. */
void qz_drop_const(QzCtx *q, IrValue *v);

/* Empirical bias correction (ALGORITHMS.md section 10) of op, whose weight
 * operand t was quantized with error eps = W^ - W (t's layout): the bias
 * gets - E[x] . eps, E[x] the per-input-channel mean of op's input from the
 * calibration statistics. Declines (counted, false) where the statistics,
 * the op or its bias do not allow it. */
bool qz_bias_correct(QzCtx *q, IrOp *op, const Tensor *t, const double *eps);

#endif
