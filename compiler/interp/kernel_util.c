/* Shared kernel plumbing: errors, result allocation, broadcasting. */
#include <stdarg.h>
#include <stdio.h>

#include "interp/kernel.h"

bool kernel_fail(KernelCtx *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_op_verror(k->d, k->op, fmt, ap);
  va_end(ap);
  return false;
}

Tensor *kernel_output(KernelCtx *k, uint32_t i, IrElem e, int32_t rank, const int64_t *dims) {
  if (i >= k->nout) {
    kernel_fail(k, "result #%u does not exist", i);
    return NULL;
  }
  Tensor *t = tensor_new(e, rank, dims);
  if (!t) {
    char buf[256];
    Tensor shape = {.elem = e, .rank = rank > TENSOR_MAX_RANK ? TENSOR_MAX_RANK : rank};
    for (int32_t j = 0; j < shape.rank; j++) shape.dims[j] = dims[j];
    kernel_fail(k, "result #%u: refusing a tensor of shape %s%s (negative dim, rank over %d, or over %zu bytes)", i,
                tensor_describe(&shape, buf, sizeof buf), rank > TENSOR_MAX_RANK ? "..." : "", TENSOR_MAX_RANK,
                tensor_max_bytes());
    return NULL;
  }
  tensor_free(k->out[i]);
  k->out[i] = t;
  return t;
}

IrElem kernel_result_elem(const KernelCtx *k, uint32_t i) { return k->op->results[i]->type->elem; }

bool kernel_broadcast_shape(KernelCtx *k, const Tensor *const *ts, uint32_t n, int32_t *rank, int64_t *dims) {
  int32_t r = 0;
  for (uint32_t i = 0; i < n; i++)
    if (ts[i] && ts[i]->rank > r) r = ts[i]->rank;
  for (int32_t d = 0; d < r; d++) dims[d] = 1;
  for (uint32_t i = 0; i < n; i++) {
    if (!ts[i]) continue;
    int32_t off = r - ts[i]->rank;
    for (int32_t d = 0; d < ts[i]->rank; d++) {
      int64_t a = dims[off + d], b = ts[i]->dims[d];
      if (a == b || b == 1) continue;
      if (a == 1) {
        dims[off + d] = b;
        continue;
      }
      char b1[128], b2[128];
      Tensor s = {.rank = r};
      for (int32_t j = 0; j < r; j++) s.dims[j] = dims[j];
      s.elem = ts[i]->elem;
      return kernel_fail(k, "cannot broadcast operand #%u of shape %s with shape %s", i,
                         tensor_describe(ts[i], b1, sizeof b1), tensor_describe(&s, b2, sizeof b2));
    }
  }
  *rank = r;
  return true;
}

void kernel_broadcast_strides(const Tensor *t, int32_t rank, const int64_t *dims, int64_t *strides) {
  int64_t own[TENSOR_MAX_RANK];
  tensor_strides(t, own);
  int32_t off = rank - t->rank;
  for (int32_t d = 0; d < rank; d++) {
    int32_t td = d - off;
    strides[d] = td < 0 || t->dims[td] == 1 || dims[d] == 1 ? 0 : own[td];
  }
}
