/* Helpers shared by the shape and data-movement kernels (k_shape.c,
 * k_gather.c, k_layout.c, k_unique.c). Data moves as whole element
 * containers (memcpy of ir_elem_bytes), so every element type works the
 * same way. Not a public header. */
#ifndef QUENCH_INTERP_K_SHAPE_H
#define QUENCH_INTERP_K_SHAPE_H

#include "interp/kernel.h"

/* The integer contents of operand i (any integer type) into out (at most
 * max elements); `what` names it in errors. */
bool ks_ints(KernelCtx *k, uint32_t i, const char *what, int64_t *out, int64_t max, int64_t *n);
/* An axis in [-rank, rank) normalized into [0, rank). */
bool ks_axis(KernelCtx *k, int64_t axis, int32_t rank, const char *what, int32_t *out);
/* An index in [-dim, dim) normalized into [0, dim). */
bool ks_index(KernelCtx *k, int64_t idx, int64_t dim, const char *what, int64_t *out);
/* Copies the elements of src seen through (rank, dims, element strides,
 * element offset) in row-major order into dst. */
void ks_strided_copy(void *dst, const Tensor *src, int32_t rank, const int64_t *dims, const int64_t *strides,
                     int64_t offset);
/* Result i with src's element type and the given shape, holding src's
 * data (same element count) when copy is set. */
Tensor *ks_output(KernelCtx *k, uint32_t i, const Tensor *src, int32_t rank, const int64_t *dims, bool copy);
/* Advances a row-major coordinate of shape (rank, dims); false past the end. */
bool ks_next(int64_t *idx, int32_t rank, const int64_t *dims);

void kernels_register_gather(KernelFn *table);
void kernels_register_layout(KernelFn *table);
void kernels_register_unique(KernelFn *table);

#endif
