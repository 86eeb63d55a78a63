/* Kernels: the fused ops the raising passes create that have no other home.
 * RMSNormalization (ONNX opset 23) and Swish (opset 24). Like the other
 * normalization kernels they compute in double on exactly read values and
 * round once, which is at least as accurate as the spec's float32
 * stash_type reference. */
#include <math.h>
#include <stdlib.h>

#include "interp/dense_util.h"

static bool float_in_out(KernelCtx *k, const Tensor *x) {
  if (!ir_elem_is_float(x->elem)) return kernel_fail(k, "type %s is not supported", ir_elem_name(x->elem));
  if (kernel_result_elem(k, 0) != x->elem)
    return kernel_fail(k, "result type %s differs from the input's %s", ir_elem_name(kernel_result_elem(k, 0)),
                       ir_elem_name(x->elem));
  return true;
}

/* Y = X / sqrt(mean(X^2 over dims [axis, rank)) + epsilon) * scale, scale
 * broadcast to X's shape (ONNX RMSNormalization-23). */
static bool k_rms_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *sc = kernel_in(k, 1);
  if (!float_in_out(k, x)) return false;
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", -1), x->rank, false, &axis)) return false;
  const Tensor *ops[2] = {x, sc};
  int32_t r;
  int64_t bd[TENSOR_MAX_RANK], ss[TENSOR_MAX_RANK];
  if (!kernel_broadcast_shape(k, ops, 2, &r, bd)) return false;
  for (int32_t i = 0; i < r; i++)
    if (r != x->rank || bd[i] != x->dims[i]) return kernel_fail(k, "scale must broadcast to the input's shape");
  kernel_broadcast_strides(sc, r, bd, ss);
  double eps = ir_op_attr_float(k->op, "epsilon", 1e-5f);
  int64_t outer = dense_span(x, 0, axis), len = dense_span(x, axis, x->rank);
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  if (!y) return false;
  double *xd = dense_to_f64(k, x);
  if (!xd) return false;
  int64_t idx[TENSOR_MAX_RANK] = {0};
  for (int64_t o = 0; o < outer; o++) {
    const double *p = xd + o * len;
    double q = 0;
    for (int64_t j = 0; j < len; j++) q += p[j] * p[j];
    double inv = 1.0 / sqrt(q / (double)len + eps);
    for (int64_t j = 0; j < len; j++) {
      int64_t so = 0;
      for (int32_t i = 0; i < r; i++) so += idx[i] * ss[i];
      tensor_set_f64(y, o * len + j, p[j] * inv * tensor_get_f64(sc, so));
      for (int32_t i = r - 1; i >= 0 && ++idx[i] == bd[i]; i--) idx[i] = 0;
    }
  }
  free(xd);
  return true;
}

/* Y = X * sigmoid(alpha * X) (ONNX Swish-24, alpha default 1: SiLU). */
static bool k_swish(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (!float_in_out(k, x)) return false;
  double alpha = ir_op_attr_float(k->op, "alpha", 1.0f);
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  if (!y) return false;
  for (int64_t i = 0; i < x->numel; i++) {
    double v = tensor_get_f64(x, i);
    tensor_set_f64(y, i, v / (1.0 + exp(-alpha * v)));
  }
  return true;
}

void kernels_register_fused(KernelFn *table) {
  table[IR_OP_RMS_NORM] = k_rms_norm;
  table[IR_OP_SWISH] = k_swish;
}
