/* Seeded random input tensors (tensor_random.h), moved out of quench-run so
 * quench-opt's equivalence check fills inputs the same way. */
#include "interp/tensor_random.h"

uint64_t tensor_random_state(uint64_t seed) {
  /* Golden-ratio spread plus one: never the all-zero state xorshift keeps. */
  return seed * 0x9E3779B97F4A7C15ULL + 1;
}

uint64_t tensor_random_next(uint64_t *s) {
  /* xorshift64*: reproducible across platforms. */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

bool tensor_type_is_static(const IrType *ty) {
  if (ty->rank < 0 || ty->rank > TENSOR_MAX_RANK) return false;
  for (int32_t i = 0; i < ty->rank; i++)
    if (ty->dims[i].size < 0) return false;
  return true;
}

Tensor *tensor_random(const IrType *ty, uint64_t *state) {
  if (!tensor_type_is_static(ty)) return NULL;
  int64_t dims[TENSOR_MAX_RANK];
  for (int32_t i = 0; i < ty->rank; i++) dims[i] = ty->dims[i].size;
  Tensor *t = tensor_new(ty->elem, ty->rank, dims);
  if (!t) return NULL;
  for (int64_t i = 0; i < t->numel; i++) {
    uint64_t r = tensor_random_next(state);
    if (ir_elem_is_float(t->elem)) tensor_set_f64(t, i, (double)(r >> 11) * 0x1.0p-52 - 1.0);
    else tensor_set_i64(t, i, (int64_t)(r >> 60) & (t->elem == IR_ELEM_BOOL ? 1 : 15));
  }
  return t;
}
