/* The kernel interface: one function per op kind, registered by the kernel
 * files into the dispatch table (kernels.c). A kernel reads its operands,
 * attributes and result element types from the op, allocates its results
 * with kernel_output and reports errors with kernel_fail. */
#ifndef QUENCH_INTERP_KERNEL_H
#define QUENCH_INTERP_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/interp.h"

typedef struct KernelCtx KernelCtx;

struct KernelCtx {
  const IrOp *op;
  Tensor *const *in; /* op->noperands entries; NULL: absent optional operand */
  uint32_t nin;
  Tensor **out;      /* op->nresults entries, filled by kernel_output */
  uint32_t nout;
  Diag *d;
  Interp *interp;    /* NULL under interp_eval_op */
  void *frame;       /* the interpreter's value environment (regions) */
  InterpNumerics numerics; /* EXACT under interp_eval_op (constant folding) */
};

typedef bool (*KernelFn)(KernelCtx *k);

/* Reports "node 'NAME' (op 'Conv'): <message>" at the op's location;
 * returns false so kernels can `return kernel_fail(...)`. */
bool kernel_fail(KernelCtx *k, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Allocates result i (zero-filled). Refused shapes (negative dims, over
 * tensor_max_bytes()) are reported and give NULL. */
Tensor *kernel_output(KernelCtx *k, uint32_t i, IrElem e, int32_t rank, const int64_t *dims);
/* Result i's element type as the IR says (storage type when quantized). */
IrElem kernel_result_elem(const KernelCtx *k, uint32_t i);
/* Operand i or NULL when absent or out of range. */
static inline const Tensor *kernel_in(const KernelCtx *k, uint32_t i) { return i < k->nin ? k->in[i] : NULL; }

/* The numpy broadcast of the present tensors among ts[0..n) into
 * (*rank, dims); reports a clash and returns false. */
bool kernel_broadcast_shape(KernelCtx *k, const Tensor *const *ts, uint32_t n, int32_t *rank, int64_t *dims);
/* Element strides of t read as the broadcast shape (rank, dims): 0 along
 * broadcast dims, t's own strides elsewhere. */
void kernel_broadcast_strides(const Tensor *t, int32_t rank, const int64_t *dims, int64_t *strides);

/* Runs region r of the op (If branches, Loop/Scan bodies) with the given
 * arguments, in the enclosing value environment (bodies may use outer
 * values). results gets the region's returned values, new tensors. Only
 * valid when k->interp is set. */
bool kernel_run_region(KernelCtx *k, const IrRegion *r, Tensor *const *args, uint32_t nargs, Tensor **results,
                       uint32_t nresults);

/* The dispatch table (kernels.c), indexed by op kind; NULL: no kernel. */
const KernelFn *interp_kernel_table(void);

/* Each kernel file registers its kernels into the table; kernels.c calls
 * them all once. Add a line there for a new file. */
void kernels_register_elementwise(KernelFn *table);
void kernels_register_shape(KernelFn *table);
void kernels_register_reduce(KernelFn *table);
void kernels_register_control(KernelFn *table);
void kernels_register_linalg(KernelFn *table);
void kernels_register_conv(KernelFn *table);
void kernels_register_pool(KernelFn *table);
void kernels_register_norm(KernelFn *table);
void kernels_register_rnn(KernelFn *table);
void kernels_register_resize(KernelFn *table);
void kernels_register_quant(KernelFn *table);
/* QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger (k_qlinear.c),
 * called by kernels_register_quant. */
void kernels_register_qlinear(KernelFn *table);
void kernels_register_misc(KernelFn *table);
void kernels_register_fused(KernelFn *table);
/* quench.Requantize, QAdd, QMul, QAveragePool (k_qint.c), from lower-int. */
void kernels_register_qint(KernelFn *table);
/* quench.Hadamard (k_transform.c), from rotate. */
void kernels_register_transform(KernelFn *table);

#endif
