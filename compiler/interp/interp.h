/* The reference interpreter: runs a function of an IR module on runtime
 * tensors, one op at a time, following the ONNX operator spec exactly. It is
 * the ground truth for calibration, equivalence checks and every backend;
 * fast enough to calibrate with (f32 Conv/MatMul/Gemm use blocked kernels),
 * never at the cost of exactness. docs/interpreter.md describes it. */
#ifndef QUENCH_INTERP_INTERP_H
#define QUENCH_INTERP_INTERP_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/tensor.h"
#include "ir/ir.h"

typedef struct Interp Interp;

/* Called after every op (function level and inside regions) with its
 * results, e.g. for calibration statistics. Returning false stops the run
 * with an error. */
typedef bool (*InterpObserver)(void *ctx, const IrOp *op, Tensor *const *results, uint32_t nresults);

/* How float ops round where the ONNX spec leaves it open (docs/interpreter.md).
 * EXACT: sums accumulate in double and round once, transcendental functions
 * come from libm; the ground truth for calibration and every backend.
 * ORT: ReduceSum/ReduceMean on f32 add in ONNX Runtime's CPU order and f32
 * Tanh and Sigmoid use its rational approximations, so outputs that ONNX
 * Runtime produced (most test_data_sets) are reproduced to the last bit
 * where a graph amplifies rounding; every other op is computed as under
 * EXACT. */
typedef enum { INTERP_NUMERICS_EXACT = 0, INTERP_NUMERICS_ORT } InterpNumerics;

typedef struct InterpOptions {
  InterpObserver observer;
  void *observer_ctx;
  InterpNumerics numerics;
} InterpOptions;

/* Prepares to run function `func` (NULL: "main", else the module's first
 * function). Reports unsupported ops (no kernel) up front, naming each, and
 * returns NULL. The module must stay alive and unchanged while `it` lives. */
Interp *interp_create(const IrModule *m, const char *func, const InterpOptions *opts, Diag *d);
void interp_destroy(Interp *it);
const IrFunc *interp_func(const Interp *it);

/* Runs the function once. inputs: one per function argument (element type
 * must match, static dims must match, symbolic dims must agree across
 * inputs). outputs: one per function result, new tensors the caller frees.
 * On error (bad input, a kernel error, a refused size) reports located
 * diagnostics naming the op and returns false with no outputs. */
bool interp_run(Interp *it, Tensor *const *inputs, uint32_t nin, Tensor **outputs);

/* Evaluates a single op on the given operands (NULL for absent optional
 * ones) without a function around it; for constant folding. outputs gets
 * op->nresults new tensors. Ops with regions are not evaluated here. */
bool interp_eval_op(const IrOp *op, Tensor *const *inputs, Tensor **outputs, Diag *d);

/* True if the interpreter has a kernel for op kind k. */
bool interp_has_kernel(IrOpKind k);

#endif
