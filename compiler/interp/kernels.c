/* The kernel dispatch table, indexed by op kind and filled once by every
 * kernel file's register function. */
#include <stddef.h>

#include "interp/kernel.h"

static KernelFn table[IR_OP_COUNT];
static int filled;


const KernelFn *interp_kernel_table(void) {
  if (!filled) {
    kernels_register_elementwise(table);
    kernels_register_shape(table);
    kernels_register_reduce(table);
    kernels_register_control(table);
    kernels_register_linalg(table);
    kernels_register_conv(table);
    kernels_register_pool(table);
    kernels_register_norm(table);
    kernels_register_rnn(table);
    kernels_register_resize(table);
    kernels_register_quant(table);
    kernels_register_misc(table);
    kernels_register_fused(table);
    kernels_register_qint(table);
    kernels_register_transform(table);
    filled = 1;
  }
  return table;
}

bool interp_has_kernel(IrOpKind k) { return k < IR_OP_COUNT && interp_kernel_table()[k] != NULL; }
