/* interp_eval_op: one op on given operands, outside any function (constant
 * folding, kernel unit tests). */
#include <stdlib.h>

#include "interp/kernel.h"


bool interp_eval_op(const IrOp *op, Tensor *const *inputs, Tensor **outputs, Diag *d) {
  for (uint32_t i = 0; i < op->nresults; i++) outputs[i] = NULL;
  KernelCtx k = {.op = op, .in = inputs, .nin = op->noperands, .out = outputs, .nout = op->nresults, .d = d};
  if (op->nregions) return kernel_fail(&k, "ops with regions are not evaluated on their own");
  KernelFn fn = op->kind < IR_OP_COUNT ? interp_kernel_table()[op->kind] : NULL;
  if (!fn) return kernel_fail(&k, "the interpreter has no kernel for this op");
  bool ok = fn(&k);
  for (uint32_t i = 0; ok && i < op->nresults; i++)
    if (!outputs[i]) ok = kernel_fail(&k, "kernel produced no result #%u", i);
  if (!ok)
    for (uint32_t i = 0; i < op->nresults; i++) {
      tensor_free(outputs[i]);
      outputs[i] = NULL;
    }
  return ok;
}
