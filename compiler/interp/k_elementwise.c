/* Elementwise plumbing: the row walk shared by the binary, variadic, unary
 * and reduction kernels, and the registration of every elementwise file. */
#include "interp/k_elementwise.h"

#include <string.h>

void ew_contig_strides(int32_t rank, const int64_t *dims, int64_t *st) {
  int64_t s = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    st[d] = s;
    s *= dims[d];
  }
}

bool ew_walk(int32_t rank, const int64_t *dims, uint32_t nops, int64_t (*st)[TENSOR_MAX_RANK], EwRowFn fn,
             void *ctx) {
  /* Coalesce from the innermost dim outwards: dim d folds into the group
   * inside it when every operand steps over that group exactly. */
  int64_t cd[TENSOR_MAX_RANK], cs[EW_MAX_OPS][TENSOR_MAX_RANK];
  int32_t r = 0; /* groups, innermost first */
  for (int32_t d = rank - 1; d >= 0; d--) {
    if (dims[d] == 0) return true;
    if (dims[d] == 1) continue;
    bool merge = r > 0;
    for (uint32_t i = 0; merge && i < nops; i++) merge = st[i][d] == cs[i][r - 1] * cd[r - 1];
    if (merge) {
      cd[r - 1] *= dims[d];
      continue;
    }
    cd[r] = dims[d];
    for (uint32_t i = 0; i < nops; i++) cs[i][r] = st[i][d];
    r++;
  }
  int64_t off[EW_MAX_OPS] = {0}, in_st[EW_MAX_OPS];
  if (r == 0) { /* a single element */
    for (uint32_t i = 0; i < nops; i++) in_st[i] = 0;
    return fn(ctx, off, in_st, 1);
  }
  for (uint32_t i = 0; i < nops; i++) in_st[i] = cs[i][0];
  int64_t idx[TENSOR_MAX_RANK] = {0};
  for (;;) {
    if (!fn(ctx, off, in_st, cd[0])) return false;
    int32_t g = 1;
    for (; g < r; g++) {
      for (uint32_t i = 0; i < nops; i++) off[i] += cs[i][g];
      if (++idx[g] < cd[g]) break;
      for (uint32_t i = 0; i < nops; i++) off[i] -= cs[i][g] * cd[g];
      idx[g] = 0;
    }
    if (g == r) return true;
  }
}

typedef struct CopyCtx {
  char *y;
  const char *x;
  int64_t eb;
} CopyCtx;

#define STRIDED_ROW(T)                                       \
  do {                                                       \
    const T *s_ = (const T *)x;                              \
    T *o_ = (T *)y;                                          \
    for (int64_t i = 0; i < n; i++) o_[i] = s_[i * st[1]];   \
  } while (0)

/* Contiguous source rows are one memcpy; strided ones a typed gather. */
static bool copy_row(void *vc, const int64_t *off, const int64_t *st, int64_t n) {
  CopyCtx *c = vc;
  char *y = c->y + off[0] * c->eb;
  const char *x = c->x + off[1] * c->eb;
  if (st[1] == 1)
    memcpy(y, x, (size_t)(n * c->eb));
  else if (c->eb == 1)
    STRIDED_ROW(uint8_t);
  else if (c->eb == 2)
    STRIDED_ROW(uint16_t);
  else if (c->eb == 4)
    STRIDED_ROW(uint32_t);
  else if (c->eb == 8)
    STRIDED_ROW(uint64_t);
  else
    for (int64_t i = 0; i < n; i++) memcpy(y + i * c->eb, x + i * st[1] * c->eb, (size_t)c->eb);
  return true;
}

void ew_strided_copy(void *dst, const void *src, size_t eb, int32_t rank, const int64_t *dims,
                     const int64_t *src_strides) {
  int64_t st[2][TENSOR_MAX_RANK];
  ew_contig_strides(rank, dims, st[0]);
  if (rank) memcpy(st[1], src_strides, (size_t)rank * sizeof *src_strides);
  CopyCtx c = {dst, src, (int64_t)eb};
  ew_walk(rank, dims, 2, st, copy_row, &c);
}

void ew_broadcast_copy(Tensor *y, const Tensor *src) {
  int64_t st[TENSOR_MAX_RANK];
  kernel_broadcast_strides(src, y->rank, y->dims, st);
  ew_strided_copy(y->data, src->data, (size_t)ir_elem_bytes(y->elem), y->rank, y->dims, st);
}

bool ew_check_elem(KernelCtx *k, uint32_t i, IrElem e) {
  const Tensor *t = kernel_in(k, i);
  if (t && t->elem != e)
    return kernel_fail(k, "operand #%u is %s, expected %s", i, ir_elem_name(t->elem), ir_elem_name(e));
  return true;
}

void kernels_register_elementwise(KernelFn *table) {
  kernels_register_binary(table);
  kernels_register_unary(table);
  kernels_register_activation(table);
  kernels_register_cast(table);
}
