/* Reference kernel of quench.Hadamard (ops.def's "quench transforms"):
 * every row along the last axis becomes (x H_n) * scale, scale defaulting
 * to 1/sqrt(n), by the fast Walsh-Hadamard transform in double
 * (compiler/quant/hadamard.c). Created by rotate{online=true}
 * (passes/rotate.c). Tests: test/lit/quant/rotate-online.qir (through the
 * equivalence check), test/unit/test_hadamard.c (the transform). */
#include <math.h>
#include <stdlib.h>

#include "interp/kernel.h"
#include "quant/hadamard.h"

static bool k_hadamard(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (x->rank < 1) return kernel_fail(k, "operand 0 must have rank 1 or more");
  int64_t n = x->dims[x->rank - 1];
  if (!q_hadamard_supported(n)) return kernel_fail(k, "the last dim (%lld) is not a power of two", (long long)n);
  double scale = 1.0 / sqrt((double)n);
  const IrAttr *a = ir_op_attr(k->op, "scale");
  if (a && a->kind == IR_ATTR_FLOAT) scale = a->u.f;
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), x->rank, x->dims);
  if (!y) return false;
  double *row = malloc((size_t)n * sizeof *row);
  for (int64_t r = 0; r < x->numel / n; r++) {
    for (int64_t j = 0; j < n; j++) row[j] = tensor_get_f64(x, r * n + j);
    q_fwht(n, row);
    for (int64_t j = 0; j < n; j++) tensor_set_f64(y, r * n + j, row[j] * scale);
  }
  free(row);
  return true;
}

void kernels_register_transform(KernelFn *table) { table[IR_OP_Q_HADAMARD] = k_hadamard; }
