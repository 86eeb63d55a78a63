/* Shared helpers of the shape-inference rules (infer.c, infer_shape.c,
 * infer_nn.c). Not a public header. */
#ifndef QUENCH_OPS_INFER_INTERNAL_H
#define QUENCH_OPS_INFER_INTERNAL_H

#include "ops/infer.h"

#define INFER_MAX_RANK 64

typedef struct InferCtx {
  IrModule *m;
  IrOp *op;
  Diag *d;
} InferCtx;

/* A shape under construction; rank -1: unranked. Dynamic dims have size -1
 * and no sym. */
typedef struct Shape {
  int32_t rank;
  IrDim d[INFER_MAX_RANK];
} Shape;

/* One element of an integer tensor whose value is (partly) known at
 * compile time, such as a shape computed by Shape/Gather/Concat: a known
 * integer, a symbolic dim's name, or unknown. */
typedef struct SVal {
  int64_t v;
  const char *sym;
  bool known;
} SVal;

#define INFER_MAX_SV 64

/* Reports "node 'n' (op 'X'): message" (or "op 'X': ...") at the op. */
bool infer_fail(InferCtx *c, const char *fmt, ...) DIAG_PRINTF(2, 3);

static inline IrDim infer_dyn(void) { return (IrDim){-1, NULL}; }
static inline IrDim infer_static(int64_t n) { return (IrDim){n, NULL}; }
static inline bool dim_known(IrDim d) { return d.size >= 0; }

/* Type of operand i, NULL when absent. */
const IrType *infer_in(const InferCtx *c, uint32_t i);
/* Shape of a type (unranked: rank -1). */
void infer_shape_of(const IrType *t, Shape *s);
/* Shape of operand i; false when absent. */
bool infer_in_shape(const InferCtx *c, uint32_t i, Shape *s);
/* Sets result i's type. */
void infer_set(InferCtx *c, uint32_t i, IrElem e, const Shape *s);
/* Sets every result to operand 0's type. */
void infer_same_as_in0(InferCtx *c);
/* Normalizes a possibly negative axis into [0, rank); reports if out of
 * range. */
bool infer_axis(InferCtx *c, int64_t axis, int32_t rank, int32_t *out, const char *what);

/* Fully known integer contents of operand i (at most max elements). */
bool infer_const_ints(const InferCtx *c, uint32_t i, int64_t *out, int *n, int max);
/* Fully known float contents of operand i. */
bool infer_const_floats(const InferCtx *c, uint32_t i, double *out, int *n, int max);
/* Partly known contents of an integer 0-D/1-D value (shape arithmetic). */
bool infer_shape_value(const IrValue *v, SVal *out, int *n, int depth);
/* Number of elements of a shape when every dim is static; -1 otherwise. */
int64_t infer_numel(const Shape *s);

/* Rule families, dispatched from infer.c; each sets every result. */
bool infer_matmul(InferCtx *c);
bool infer_gemm(InferCtx *c);
bool infer_conv_pool(InferCtx *c);
bool infer_global_pool(InferCtx *c);
bool infer_reduce(InferCtx *c);
bool infer_arg_reduce(InferCtx *c);
bool infer_recurrent(InferCtx *c);
bool infer_norm(InferCtx *c);
bool infer_quant(InferCtx *c);
bool infer_control(InferCtx *c);
bool infer_einsum(InferCtx *c);
/* quench integer ops (infer_qint.c). */
bool infer_qint(InferCtx *c);
/* quench transforms: quench.Hadamard (infer_transform.c). */
bool infer_transform(InferCtx *c);

bool infer_reshape(InferCtx *c);
bool infer_transpose(InferCtx *c);
bool infer_concat(InferCtx *c);
bool infer_flatten(InferCtx *c);
bool infer_squeeze(InferCtx *c);
bool infer_unsqueeze(InferCtx *c);
bool infer_shape_op(InferCtx *c);
bool infer_gather(InferCtx *c);
bool infer_slice(InferCtx *c);
bool infer_split(InferCtx *c);
bool infer_expand(InferCtx *c);
bool infer_pad(InferCtx *c);
bool infer_resize(InferCtx *c);
bool infer_tile(InferCtx *c);
bool infer_range(InferCtx *c);
bool infer_constant_of_shape(InferCtx *c);
bool infer_misc_data(InferCtx *c);

#endif
