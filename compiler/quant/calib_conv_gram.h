/* Gram statistics of Conv inputs, for GPTQ on convolution weights (the
 * GPTQ paper's unfold of a convolution into a matrix product). For group
 * gi of a Conv, the tokens are the input patches its kernel sees (im2col:
 * C/group x kernel extent values per output position, zeros over the
 * padding), so H = (2/n) sum p p^T is K x K with K = C/group * prod(kernel)
 * and the same GPTQ (compiler/quant/gptq.h) applies to the group's weights
 * as a K x M/group matrix. One QGram per group, named
 * "conv:<weight value name>:<group>", in the same set and .qstats `gram`
 * blocks as the MatMul/Gemm ones. Tests: test/unit/test_conv_gram.c (against
 * the interpreter's Conv), test/lit/quant/calibrate-conv-gram.qir,
 * quantize-gptq-conv.qir. */
#ifndef QUENCH_QUANT_CALIB_CONV_GRAM_H
#define QUENCH_QUANT_CALIB_CONV_GRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/tensor.h"
#include "ir/ir.h"
#include "quant/calib_gram.h"

/* Per-group input dims above this get no statistics: the rank-1 updates
 * cost K^2/2 per output position and calibration must stay quick. */
#define Q_CONV_GRAM_MAX_K 1024

typedef struct QConvGram {
  const IrOp *op;     /* the Conv */
  const IrValue *x;   /* its input, whose observations feed the Grams */
  int64_t groups, cg; /* group count, input channels per group */
  int64_t kern[3];    /* kernel extent per spatial dim (weight dims 2..) */
  int32_t nsp;        /* spatial dims: 1 to 3 */
  QGram **g;          /* one per group */
} QConvGram;

typedef struct QConvGramSet {
  QConvGram *c;
  int n, cap;
} QConvGramSet;

void q_conv_gram_set_free(QConvGramSet *s);

/* The Gram name of group gi of the Conv whose weight value is `wname`. */
void q_conv_gram_name(char *buf, size_t n, const char *wname, int64_t gi);

/* Registers Conv op (operand 0 the observed input x, operand 1 its
 * constant weight w of rank 3 to 5 with static dims, named) with one Gram
 * per group in grams. Returns 1 when registered, 0 when the op does not
 * qualify (not a Conv, unnamed or non-constant weight), -1 when K is over
 * Q_CONV_GRAM_MAX_K. The caller checks that w is a float constant. */
int q_conv_gram_add(QConvGramSet *s, QGramSet *grams, const IrOp *op);

/* Adds the patches of every image of t (the observed value of c->x, an
 * f32 N x C x spatial tensor) to each group's Gram. False with `why` when
 * t does not fit the Conv (channels, rank, attributes); other element
 * types are left out (true). */
bool q_conv_gram_observe(const QConvGram *c, const Tensor *t, Diag *d, char *why, size_t nwhy);

#endif
