/* Seeded random tensors for inputs nobody supplied: quench-run --seed and
 * quench-opt --verify-equivalence (docs/quench-run.md, docs/pass-manager.md).
 * xorshift64*, so a seed gives the same values on every platform. Tested
 * through test/lit/run/qir-func.qir and test/unit/test_equivalence.c. */
#ifndef QUENCH_INTERP_TENSOR_RANDOM_H
#define QUENCH_INTERP_TENSOR_RANDOM_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/tensor.h"
#include "ir/ir.h"

/* The generator state for a user-given seed (any value, 0 included). */
uint64_t tensor_random_state(uint64_t seed);
/* The next 64 random bits; advances *state. */
uint64_t tensor_random_next(uint64_t *state);

/* True when ty is ranked and every dim is a static size. */
bool tensor_type_is_static(const IrType *ty);

/* A new tensor of type ty's element type and static shape: floats uniform
 * in [-1, 1), integers in [0, 16) (index-like inputs such as token ids stay
 * small), bools 0/1. NULL when ty is not static or the shape is refused
 * (tensor_new); the caller reports. */
Tensor *tensor_random(const IrType *ty, uint64_t *state);

#endif
