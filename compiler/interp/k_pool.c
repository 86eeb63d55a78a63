/* Kernels: MaxPool (with the Indices result, storage_order, dilations,
 * ceil_mode), AveragePool (count_include_pad, ceil_mode, dilations),
 * GlobalAveragePool and GlobalMaxPool, over 1 to 3 spatial dims. Values are
 * read as doubles (exact for every float type) and sums accumulate in
 * double; padding never wins a max. */
#include <math.h>
#include <stdlib.h>

#include "interp/dense_util.h"

typedef enum { POOL_MAX, POOL_AVG } PoolKind;

static bool pool_setup(KernelCtx *k, WinGeom *wg, G3 *g) {
  const Tensor *x = kernel_in(k, 0);
  IrElem ye = kernel_result_elem(k, 0);
  if (x->elem != ye) return kernel_fail(k, "input is %s, result %s", ir_elem_name(x->elem), ir_elem_name(ye));
  if (!ir_elem_is_float(ye) && !(ye == IR_ELEM_I8 || ye == IR_ELEM_U8))
    return kernel_fail(k, "element type %s is not supported", ir_elem_name(ye));
  if (x->rank < 3 || x->rank > 5)
    return kernel_fail(k, "input must be N x C x D1 [x D2 [x D3]] (rank 3 to 5), got rank %d", x->rank);
  int64_t kern[WIN_MAX_SPATIAL];
  if (!ir_op_attr(k->op, "kernel_shape")) return kernel_fail(k, "attribute 'kernel_shape' is required");
  if (!dense_attr_ints(k, "kernel_shape", x->rank - 2, 1, kern)) return false;
  if (!win_geom(k, x, kern, ir_op_attr_int(k->op, "ceil_mode", 0) != 0, wg)) return false;
  for (int32_t i = 0; i < wg->nsp; i++)
    if (wg->pad0[i] >= (kern[i] - 1) * wg->dil[i] + 1 || wg->pad1[i] >= (kern[i] - 1) * wg->dil[i] + 1)
      return kernel_fail(k, "pads must be smaller than the (dilated) kernel");
  g3_from(wg, g);
  return true;
}

static bool k_pool(KernelCtx *k, PoolKind kind) {
  const Tensor *x = kernel_in(k, 0);
  WinGeom wg;
  G3 g;
  if (!pool_setup(k, &wg, &g)) return false;
  int64_t dims[5] = {x->dims[0], x->dims[1]};
  for (int32_t i = 0; i < wg.nsp; i++) dims[2 + i] = wg.out[i];
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), x->rank, dims);
  Tensor *ind = y && kind == POOL_MAX && k->nout > 1 ? kernel_output(k, 1, IR_ELEM_I64, x->rank, dims) : NULL;
  if (!y || (kind == POOL_MAX && k->nout > 1 && !ind)) return false;
  bool col_major = ir_op_attr_int(k->op, "storage_order", 0) != 0;
  bool include_pad = ir_op_attr_int(k->op, "count_include_pad", 0) != 0;
  double *xd = dense_to_f64(k, x);
  if (!xd) return false;
  int64_t isp = prod3(g.in), planes = x->dims[0] * x->dims[1], at = 0;
  /* The padded extent a window may count (count_include_pad): the input
   * plus its pads, not the ceil_mode overhang beyond them. */
  int64_t lead = 3 - wg.nsp, hi_pad[3];
  for (int32_t i = 0; i < 3; i++) hi_pad[i] = g.in[i] + (i < lead ? 0 : wg.pad1[i - lead]);
  for (int64_t pl = 0; pl < planes; pl++) {
    const double *xp = xd + pl * isp;
    for (int64_t o0 = 0; o0 < g.out[0]; o0++)
      for (int64_t o1 = 0; o1 < g.out[1]; o1++)
        for (int64_t o2 = 0; o2 < g.out[2]; o2++, at++) {
          double best = -INFINITY, sum = 0;
          int64_t best_at = -1, count = 0, padded = 0;
          for (int64_t k0 = 0; k0 < g.k[0]; k0++) {
            int64_t i0 = o0 * g.s[0] + k0 * g.d[0] - g.p[0];
            for (int64_t k1 = 0; k1 < g.k[1]; k1++) {
              int64_t i1 = o1 * g.s[1] + k1 * g.d[1] - g.p[1];
              for (int64_t k2 = 0; k2 < g.k[2]; k2++) {
                int64_t i2 = o2 * g.s[2] + k2 * g.d[2] - g.p[2];
                if (i0 < hi_pad[0] && i1 < hi_pad[1] && i2 < hi_pad[2]) padded++;
                if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                int64_t idx = (i0 * g.in[1] + i1) * g.in[2] + i2;
                double v = xp[idx];
                count++;
                sum += v;
                if (v > best || best_at < 0) {
                  /* column-major index: the spatial dims reversed */
                  best = v;
                  best_at = col_major ? (i2 * g.in[1] + i1) * g.in[0] + i0 : idx;
                }
              }
            }
          }
          double v = kind == POOL_MAX ? best : sum / (double)(include_pad ? padded : count);
          if (y->elem == IR_ELEM_F32)
            ((float *)y->data)[at] = (float)v;
          else
            tensor_set_f64(y, at, kind == POOL_AVG && !ir_elem_is_float(y->elem) ? nearbyint(v) : v);
          if (ind) ((int64_t *)ind->data)[at] = pl * isp + best_at;
        }
  }
  free(xd);
  return true;
}

static bool k_max_pool(KernelCtx *k) { return k_pool(k, POOL_MAX); }
static bool k_average_pool(KernelCtx *k) { return k_pool(k, POOL_AVG); }

static bool k_global_pool(KernelCtx *k, PoolKind kind) {
  const Tensor *x = kernel_in(k, 0);
  IrElem ye = kernel_result_elem(k, 0);
  if (x->elem != ye || !ir_elem_is_float(ye))
    return kernel_fail(k, "input is %s, result %s: both must be the same float type", ir_elem_name(x->elem),
                       ir_elem_name(ye));
  if (x->rank < 2) return kernel_fail(k, "input must be N x C x spatial..., got rank %d", x->rank);
  int64_t dims[TENSOR_MAX_RANK];
  for (int32_t i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->dims[i] : 1;
  Tensor *y = kernel_output(k, 0, ye, x->rank, dims);
  if (!y) return false;
  int64_t sp = dense_span(x, 2, x->rank), planes = x->dims[0] * x->dims[1];
  for (int64_t pl = 0; pl < planes; pl++) {
    double acc = kind == POOL_MAX ? -INFINITY : 0;
    for (int64_t i = 0; i < sp; i++) {
      double v = x->elem == IR_ELEM_F32 ? ((const float *)x->data)[pl * sp + i] : tensor_get_f64(x, pl * sp + i);
      if (kind == POOL_AVG)
        acc += v;
      else if (v > acc || isnan(v))
        acc = isnan(acc) ? acc : v;
    }
    tensor_set_f64(y, pl, kind == POOL_AVG ? acc / (double)sp : acc);
  }
  return true;
}

static bool k_global_average_pool(KernelCtx *k) { return k_global_pool(k, POOL_AVG); }
static bool k_global_max_pool(KernelCtx *k) { return k_global_pool(k, POOL_MAX); }

void kernels_register_pool(KernelFn *table) {
  table[IR_OP_MAX_POOL] = k_max_pool;
  table[IR_OP_AVERAGE_POOL] = k_average_pool;
  table[IR_OP_GLOBAL_AVERAGE_POOL] = k_global_average_pool;
  table[IR_OP_GLOBAL_MAX_POOL] = k_global_max_pool;
}
