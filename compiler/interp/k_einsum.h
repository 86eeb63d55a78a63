/* Einsum (k_einsum.c), registered by kernels_register_misc. */
#ifndef QUENCH_INTERP_K_EINSUM_H
#define QUENCH_INTERP_K_EINSUM_H

#include "interp/kernel.h"

void kernels_register_einsum(KernelFn *table);

#endif
