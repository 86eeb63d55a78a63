/* Kernels: MatMul (numpy matmul: 1-D operands promoted then squeezed,
 * batch dims broadcast) and Gemm (transA/transB, alpha, beta, C broadcast
 * to M x N). f32 runs on the blocked GEMM (gemm_f32.c); other types run a
 * naive loop: floats accumulate in double, integers wrap like numpy. */
#include <stdlib.h>

#include "interp/dense_util.h"
#include "interp/gemm_f32.h"

/* Y[yoff + i*n + j] = sum_p A[aoff + i*ars + p*acs] * B[boff + p*brs + j*bcs]. */
static void mm_generic(const Tensor *a, int64_t aoff, int64_t ars, int64_t acs, const Tensor *b, int64_t boff,
                       int64_t brs, int64_t bcs, Tensor *y, int64_t yoff, int64_t m, int64_t n, int64_t kk) {
  bool is_int = !ir_elem_is_float(y->elem);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      uint64_t si = 0; /* unsigned: wrap-around without overflow UB */
      for (int64_t p = 0; p < kk; p++) {
        int64_t ia = aoff + i * ars + p * acs, ib = boff + p * brs + j * bcs;
        if (is_int)
          si += (uint64_t)tensor_get_i64(a, ia) * (uint64_t)tensor_get_i64(b, ib);
        else
          s += tensor_get_f64(a, ia) * tensor_get_f64(b, ib);
      }
      if (is_int)
        tensor_set_i64(y, yoff + i * n + j, (int64_t)si);
      else
        tensor_set_f64(y, yoff + i * n + j, s);
    }
}

static bool mm_block(KernelCtx *k, const Tensor *a, int64_t aoff, int64_t ars, int64_t acs, const Tensor *b,
                     int64_t boff, int64_t brs, int64_t bcs, Tensor *y, int64_t yoff, int64_t m, int64_t n,
                     int64_t kk) {
  if (y->elem == IR_ELEM_F32 && a->elem == IR_ELEM_F32 && b->elem == IR_ELEM_F32) {
    GemmMat ma = {(const float *)a->data + aoff, ars, acs}, mb = {(const float *)b->data + boff, brs, bcs};
    if (!gemm_f32(m, n, kk, ma, mb, (float *)y->data + yoff, n, false)) return kernel_fail(k, "out of memory");
    return true;
  }
  mm_generic(a, aoff, ars, acs, b, boff, brs, bcs, y, yoff, m, n, kk);
  return true;
}

static bool check_types(KernelCtx *k, const Tensor *a, const Tensor *b, IrElem ye) {
  if (a->elem != ye || b->elem != ye)
    return kernel_fail(k, "operands are %s and %s, result %s: they must agree", ir_elem_name(a->elem),
                       ir_elem_name(b->elem), ir_elem_name(ye));
  if (ye == IR_ELEM_BOOL) return kernel_fail(k, "bool operands are not supported");
  return true;
}

static bool k_matmul(KernelCtx *k) {
  const Tensor *a = kernel_in(k, 0), *b = kernel_in(k, 1);
  IrElem ye = kernel_result_elem(k, 0);
  if (!check_types(k, a, b, ye)) return false;
  if (a->rank < 1 || b->rank < 1) return kernel_fail(k, "operands must have rank >= 1");
  /* Operands as [batch..., m, kk] and [batch..., kk, n]. */
  int64_t m = a->rank == 1 ? 1 : a->dims[a->rank - 2], kk = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2], n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (kk != kb) {
    char b1[128], b2[128];
    return kernel_fail(k, "inner dimensions differ: %s x %s", tensor_describe(a, b1, sizeof b1),
                       tensor_describe(b, b2, sizeof b2));
  }
  Tensor ab = {.rank = a->rank > 2 ? a->rank - 2 : 0}, bb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
  for (int32_t i = 0; i < ab.rank; i++) ab.dims[i] = a->dims[i];
  for (int32_t i = 0; i < bb.rank; i++) bb.dims[i] = b->dims[i];
  const Tensor *bt[2] = {&ab, &bb};
  int32_t nb;
  int64_t dims[TENSOR_MAX_RANK + 2];
  if (!kernel_broadcast_shape(k, bt, 2, &nb, dims)) return false;
  int64_t as[TENSOR_MAX_RANK], bs[TENSOR_MAX_RANK];
  kernel_broadcast_strides(&ab, nb, dims, as);
  kernel_broadcast_strides(&bb, nb, dims, bs);
  int32_t yr = nb;
  if (a->rank > 1) dims[yr++] = m;
  if (b->rank > 1) dims[yr++] = n;
  Tensor *y = kernel_output(k, 0, ye, yr, dims);
  if (!y) return false;
  int64_t batches = 1, idx[TENSOR_MAX_RANK] = {0};
  for (int32_t i = 0; i < nb; i++) batches *= dims[i];
  int64_t amat = m * kk, bmat = kk * n;
  for (int64_t t = 0; t < batches; t++) {
    int64_t ao = 0, bo = 0;
    for (int32_t i = 0; i < nb; i++) ao += idx[i] * as[i], bo += idx[i] * bs[i];
    if (!mm_block(k, a, ao * amat, kk, 1, b, bo * bmat, n, 1, y, t * m * n, m, n, kk)) return false;
    for (int32_t i = nb - 1; i >= 0 && ++idx[i] == dims[i]; i--) idx[i] = 0;
  }
  return true;
}

static bool k_gemm(KernelCtx *k) {
  const Tensor *a = kernel_in(k, 0), *b = kernel_in(k, 1), *c = kernel_in(k, 2);
  IrElem ye = kernel_result_elem(k, 0);
  if (!check_types(k, a, b, ye)) return false;
  if (a->rank != 2 || b->rank != 2) return kernel_fail(k, "A and B must be 2-D (got rank %d and %d)", a->rank, b->rank);
  bool ta = ir_op_attr_int(k->op, "transA", 0) != 0, tb = ir_op_attr_int(k->op, "transB", 0) != 0;
  double alpha = ir_op_attr_float(k->op, "alpha", 1.0f), beta = ir_op_attr_float(k->op, "beta", 1.0f);
  int64_t m = ta ? a->dims[1] : a->dims[0], kk = ta ? a->dims[0] : a->dims[1];
  int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
  if (kk != kb) {
    char b1[128], b2[128];
    return kernel_fail(k, "inner dimensions differ: A %s%s, B %s%s", tensor_describe(a, b1, sizeof b1),
                       ta ? " (transposed)" : "", tensor_describe(b, b2, sizeof b2), tb ? " (transposed)" : "");
  }
  int64_t dims[2] = {m, n}, cs[2] = {0, 0};
  if (c) {
    if (c->elem != ye) return kernel_fail(k, "C is %s, expected %s", ir_elem_name(c->elem), ir_elem_name(ye));
    bool ok = c->rank <= 2;
    for (int32_t i = 0; ok && i < c->rank; i++) {
      int64_t want = dims[2 - c->rank + i];
      ok = c->dims[i] == 1 || c->dims[i] == want;
    }
    if (!ok) {
      char b1[128];
      return kernel_fail(k, "C of shape %s does not broadcast to %lldx%lld", tensor_describe(c, b1, sizeof b1),
                         (long long)m, (long long)n);
    }
    kernel_broadcast_strides(c, 2, dims, cs);
  }
  Tensor *y = kernel_output(k, 0, ye, 2, dims);
  if (!y) return false;
  int64_t ars = ta ? 1 : a->dims[1], acs = ta ? a->dims[1] : 1, brs = tb ? 1 : b->dims[1], bcs = tb ? b->dims[1] : 1;
  if (!mm_block(k, a, 0, ars, acs, b, 0, brs, bcs, y, 0, m, n, kk)) return false;
  if (alpha == 1.0 && !c) return true;
  /* Y = alpha * (A B) + beta * C, rounded as the reference does it in the
   * operands' type: each product, then the sum. */
  if (ye == IR_ELEM_F32) {
    float *yp = y->data, fa = (float)alpha, fb = (float)beta;
    const float *cp = c ? c->data : NULL;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        float v = fa * yp[i * n + j];
        yp[i * n + j] = cp ? v + fb * cp[i * cs[0] + j * cs[1]] : v;
      }
    return true;
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double v = alpha * tensor_get_f64(y, i * n + j);
      if (c) v += beta * tensor_get_f64(c, i * cs[0] + j * cs[1]);
      tensor_set_f64(y, i * n + j, v);
    }
  return true;
}

void kernels_register_linalg(KernelFn *table) {
  table[IR_OP_MATMUL] = k_matmul;
  table[IR_OP_GEMM] = k_gemm;
}
