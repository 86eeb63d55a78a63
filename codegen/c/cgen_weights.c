/* The C backend's weight blob: every constant a kernel reads (raw tensors,
 * GEMM weights packed at compile time, fused epilogue parameters) at a
 * 64-byte aligned offset, written as an embedded array or a NAME.weights
 * file. */
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "passes/canon_util.h"
#include "support/arena.h"

int64_t cg_blob_add(Cg *cg, const void *data, int64_t n) {
  int64_t off = (cg->blob_n + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN;
  if (off + n > cg->blob_cap) {
    cg->blob_cap = (off + n) * 2 + 4096;
    cg->blob = xrealloc(cg->blob, (size_t)cg->blob_cap);
  }
  memset(cg->blob + cg->blob_n, 0, (size_t)(off - cg->blob_n));
  if (n) memcpy(cg->blob + off, data, (size_t)n);
  cg->blob_n = off + n;
  return off;
}

const IrConst *cg_const_of(const IrValue *v) { return canon_const(v); }

bool cg_weight(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val_add(cg, v);
  if (e->loc == CG_LOC_WEIGHT) return true;
  const IrConst *c = cg_const_of(v);
  if (!c) return false;
  int64_t n = ir_type_numel(c->type), eb = ir_elem_bytes(c->type->elem);
  if (c->splat) {
    /* A splat stores one element: expand it so kernels read a full tensor. */
    uint8_t *tmp = xmalloc((size_t)(n * eb > 0 ? n * eb : 1));
    for (int64_t i = 0; i < n; i++) memcpy(tmp + i * eb, c->data, (size_t)eb);
    e->off = cg_blob_add(cg, tmp, n * eb);
    free(tmp);
  } else {
    e->off = cg_blob_add(cg, c->data, n * eb);
  }
  e->loc = CG_LOC_WEIGHT;
  return true;
}
