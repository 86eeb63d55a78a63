/* Runtime tensors for the reference interpreter, quench-run and constant
 * folding: an element type, a static shape and a row-major buffer of
 * unpacked elements (one container of ir_elem_bytes per element, sub-byte
 * and low-bit float types as their bit patterns, exactly as IrConst holds
 * them). f32, f64 and the integer types can be used through typed pointers;
 * every type can be read and written through the generic accessors. */
#ifndef QUENCH_INTERP_TENSOR_H
#define QUENCH_INTERP_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

#define TENSOR_MAX_RANK 16

/* Tensors larger than the limit are refused (a clear error, not an OOM
 * kill): absurd shapes in a model or from data-dependent ops must not take
 * the machine down. The default is 16 GiB; tools and the fuzzers lower it. */
#define TENSOR_MAX_BYTES ((size_t)1 << 34)
size_t tensor_max_bytes(void);
void tensor_set_max_bytes(size_t n);

typedef struct Tensor {
  IrElem elem;
  int32_t rank;
  int64_t dims[TENSOR_MAX_RANK];
  int64_t numel;
  size_t nbytes;
  void *data; /* owned; NULL only when numel == 0 */
} Tensor;

/* Element count of a shape; -1 when a dim is negative, the rank is beyond
 * TENSOR_MAX_RANK or the count or byte size (for elem e) is beyond
 * tensor_max_bytes(). */
int64_t tensor_shape_numel(IrElem e, int32_t rank, const int64_t *dims);

/* A zero-filled tensor, or NULL when tensor_shape_numel refuses the shape
 * (the caller reports the error). */
Tensor *tensor_new(IrElem e, int32_t rank, const int64_t *dims);
Tensor *tensor_clone(const Tensor *t);
void tensor_free(Tensor *t);
/* A constant's value (splats expanded). NULL if its shape is refused. */
Tensor *tensor_from_const(const IrConst *c);
/* A pool-less constant in m holding t's data (for constant folding). */
IrConst *tensor_to_const(IrModule *m, const Tensor *t);

/* Generic element access for every element type. Floats go through double
 * (exact for every type up to f32; f64 is exact); writes round to nearest
 * even and follow the ONNX Cast rules (integers: truncation toward zero then
 * wrap-around to the type's width, floats: overflow to ±inf where the type
 * has it, else NaN, else saturation as for f6/f4). Bool reads as 0/1. */
double tensor_get_f64(const Tensor *t, int64_t i);
/* The float-to-integer rule of the setters: NaN gives 0, values beyond
 * int64 saturate, others truncate toward zero (callers wrap to the type). */
int64_t tensor_f64_to_i64(double v);
void tensor_set_f64(Tensor *t, int64_t i, double v);
int64_t tensor_get_i64(const Tensor *t, int64_t i);
void tensor_set_i64(Tensor *t, int64_t i, int64_t v);
uint64_t tensor_get_bits(const Tensor *t, int64_t i);
void tensor_set_bits(Tensor *t, int64_t i, uint64_t bits);

/* Row-major strides (in elements) of t's shape. */
void tensor_strides(const Tensor *t, int64_t *strides);
bool tensor_same_shape(const Tensor *a, const Tensor *b);
/* "f32[1x3x224x224]" into buf, for diagnostics. */
const char *tensor_describe(const Tensor *t, char *buf, size_t n);

#endif
