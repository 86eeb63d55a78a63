/* Kernels: BatchNormalization (inference and training mode),
 * LayerNormalization (with the Mean and InvStdDev results),
 * InstanceNormalization, GroupNormalization (opset 18: scale and bias per
 * group; opset 21: per channel — told apart by their length), LRN,
 * LpNormalization, MeanVarianceNormalization. All compute in double on the
 * values read exactly and round once. */
#include <math.h>
#include <stdlib.h>

#include "interp/dense_util.h"

/* mean[i] and 1/sqrt(var[i] + eps) of chunk i (n chunks of len values). */
static void chunk_stats(const double *v, int64_t n, int64_t len, double eps, double *mean, double *inv) {
  for (int64_t i = 0; i < n; i++) {
    const double *p = v + i * len;
    double s = 0, q = 0;
    for (int64_t j = 0; j < len; j++) s += p[j];
    double m = s / (double)len;
    for (int64_t j = 0; j < len; j++) q += (p[j] - m) * (p[j] - m);
    mean[i] = m;
    inv[i] = 1.0 / sqrt(q / (double)len + eps);
  }
}

static bool same_float_type(KernelCtx *k, const Tensor *x) {
  IrElem ye = kernel_result_elem(k, 0);
  if (x->elem != ye || !ir_elem_is_float(ye))
    return kernel_fail(k, "input is %s, result %s: both must be the same float type", ir_elem_name(x->elem),
                       ir_elem_name(ye));
  return true;
}

/* A per-channel operand (scale, bias, mean, var) of length c. */
static bool channel_vec(KernelCtx *k, uint32_t i, const char *what, int64_t c) {
  const Tensor *t = kernel_in(k, i);
  if (t->numel != c || t->rank != 1)
    return kernel_fail(k, "%s must have shape [%lld], got %lld elements in rank %d", what, (long long)c,
                       (long long)t->numel, t->rank);
  return true;
}

/* Per channel of x (N x C x ...): the population mean and variance over
 * all axes but 1, as training mode's batch statistics. */
static bool channel_stats(KernelCtx *k, const Tensor *x, double *mean, double *var) {
  int64_t c = x->dims[1], inner = dense_span(x, 2, x->rank), outer = x->dims[0], cnt = outer * inner;
  double *xd = dense_to_f64(k, x);
  if (!xd) return false;
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0, q = 0;
    for (int64_t n = 0; n < outer; n++)
      for (int64_t i = 0; i < inner; i++) s += xd[(n * c + ch) * inner + i];
    double m = cnt ? s / (double)cnt : 0;
    for (int64_t n = 0; n < outer; n++)
      for (int64_t i = 0; i < inner; i++) {
        double dv = xd[(n * c + ch) * inner + i] - m;
        q += dv * dv;
      }
    mean[ch] = m;
    var[ch] = cnt ? q / (double)cnt : 0;
  }
  free(xd);
  return true;
}

/* Inference: y = (x - input_mean) / sqrt(input_var + eps) * scale + B.
 * Training (training_mode = 1, opset 14+): the same with the batch mean and
 * population variance, and the optional results running_mean/var =
 * input * momentum + batch * (1 - momentum), as the ONNX reference does. */
static bool k_batch_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  bool training = ir_op_attr_int(k->op, "training_mode", 0) != 0;
  if (!training && k->nout > 1)
    return kernel_fail(k, "running_mean and running_var results need training_mode = 1");
  if (!same_float_type(k, x)) return false;
  if (x->rank < 2) return kernel_fail(k, "input must be N x C x ..., got rank %d", x->rank);
  int64_t c = x->dims[1], inner = dense_span(x, 2, x->rank), outer = x->dims[0];
  static const char *names[] = {"", "scale", "bias", "mean", "var"};
  for (uint32_t i = 1; i < 5; i++)
    if (!channel_vec(k, i, names[i], c)) return false;
  double eps = ir_op_attr_float(k->op, "epsilon", 1e-5f), mom = ir_op_attr_float(k->op, "momentum", 0.9f);
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  Tensor *rm = y && k->nout > 1 ? kernel_output(k, 1, kernel_result_elem(k, 1), 1, &c) : NULL;
  Tensor *rv = rm && k->nout > 2 ? kernel_output(k, 2, kernel_result_elem(k, 2), 1, &c) : NULL;
  if (!y || (k->nout > 1 && !rm) || (k->nout > 2 && !rv)) return false;
  /* st: the mean and variance y is normalized with, per channel */
  double *st = malloc((size_t)(2 * (c ? c : 1)) * sizeof *st);
  if (!st) return kernel_fail(k, "out of memory");
  if (training && !channel_stats(k, x, st, st + c)) {
    free(st);
    return false;
  }
  for (int64_t ch = 0; ch < c; ch++) {
    double im = tensor_get_f64(kernel_in(k, 3), ch), iv = tensor_get_f64(kernel_in(k, 4), ch);
    if (!training) st[ch] = im, st[c + ch] = iv;
    if (rm) tensor_set_f64(rm, ch, im * mom + st[ch] * (1 - mom));
    if (rv) tensor_set_f64(rv, ch, iv * mom + st[c + ch] * (1 - mom));
  }
  for (int64_t ch = 0; ch < c; ch++) {
    double sc = tensor_get_f64(kernel_in(k, 1), ch), b = tensor_get_f64(kernel_in(k, 2), ch);
    double m = st[ch], den = sqrt(st[c + ch] + eps);
    for (int64_t n = 0; inner && n < outer; n++) { /* an empty x has NULL data */
      int64_t base = (n * c + ch) * inner;
      if (x->elem == IR_ELEM_F32) {
        const float *xp = (const float *)x->data + base;
        float *yp = (float *)y->data + base;
        for (int64_t i = 0; i < inner; i++) yp[i] = (float)((xp[i] - m) / den * sc + b);
      } else {
        for (int64_t i = 0; i < inner; i++) tensor_set_f64(y, base + i, (tensor_get_f64(x, base + i) - m) / den * sc + b);
      }
    }
  }
  free(st);
  return true;
}

static bool k_layer_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *sc = kernel_in(k, 1), *b = kernel_in(k, 2);
  if (!same_float_type(k, x)) return false;
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", -1), x->rank, false, &axis)) return false;
  const Tensor *ops[3] = {x, sc, b};
  int32_t r;
  int64_t bd[TENSOR_MAX_RANK], ss[TENSOR_MAX_RANK], bs[TENSOR_MAX_RANK];
  if (!kernel_broadcast_shape(k, ops, 3, &r, bd)) return false;
  for (int32_t i = 0; i < r; i++)
    if (r != x->rank || bd[i] != x->dims[i]) return kernel_fail(k, "scale and bias must broadcast to the input's shape");
  kernel_broadcast_strides(sc, r, bd, ss);
  if (b) kernel_broadcast_strides(b, r, bd, bs);
  double eps = ir_op_attr_float(k->op, "epsilon", 1e-5f);
  int64_t outer = dense_span(x, 0, axis), len = dense_span(x, axis, x->rank);
  int64_t sdims[TENSOR_MAX_RANK];
  for (int32_t i = 0; i < x->rank; i++) sdims[i] = i < axis ? x->dims[i] : 1;
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  Tensor *mt = y && k->nout > 1 ? kernel_output(k, 1, kernel_result_elem(k, 1), x->rank, sdims) : NULL;
  Tensor *it = mt && k->nout > 2 ? kernel_output(k, 2, kernel_result_elem(k, 2), x->rank, sdims) : NULL;
  if (!y || (k->nout > 1 && !mt) || (k->nout > 2 && !it)) return false;
  double *xd = dense_to_f64(k, x), *st = xd ? malloc((size_t)(2 * (outer ? outer : 1)) * sizeof *st) : NULL;
  if (!st) {
    free(xd);
    return xd ? kernel_fail(k, "out of memory") : false;
  }
  chunk_stats(xd, outer, len, eps, st, st + outer);
  int64_t idx[TENSOR_MAX_RANK] = {0};
  for (int64_t e = 0; e < x->numel; e++) {
    int64_t so = 0, bo = 0;
    for (int32_t i = 0; i < r; i++) so += idx[i] * ss[i], bo += b ? idx[i] * bs[i] : 0;
    int64_t ch = e / (len ? len : 1);
    double v = (xd[e] - st[ch]) * st[outer + ch] * tensor_get_f64(sc, so) + (b ? tensor_get_f64(b, bo) : 0);
    tensor_set_f64(y, e, v);
    for (int32_t i = r - 1; i >= 0 && ++idx[i] == bd[i]; i--) idx[i] = 0;
  }
  for (int64_t i = 0; i < outer; i++) {
    if (mt) tensor_set_f64(mt, i, st[i]);
    if (it) tensor_set_f64(it, i, st[outer + i]);
  }
  free(xd);
  free(st);
  return true;
}

/* Instance and group normalization: chunks of `len` values normalized,
 * then y = xn * scale[ch] + bias[ch] with ch the channel (per_channel) or
 * the chunk's group. */
static bool norm_chunks(KernelCtx *k, int64_t groups, bool per_channel) {
  const Tensor *x = kernel_in(k, 0), *sc = kernel_in(k, 1), *b = kernel_in(k, 2);
  if (!same_float_type(k, x)) return false;
  if (x->rank < 2) return kernel_fail(k, "input must be N x C x ..., got rank %d", x->rank);
  int64_t c = x->dims[1], sp = dense_span(x, 2, x->rank);
  if (groups < 1 || c % groups)
    return kernel_fail(k, "num_groups %lld must divide the %lld channels", (long long)groups, (long long)c);
  int64_t nvec = per_channel ? c : groups;
  if (!channel_vec(k, 1, "scale", nvec) || !channel_vec(k, 2, "bias", nvec)) return false;
  int64_t n = x->dims[0] * groups, len = c / groups * sp;
  double eps = ir_op_attr_float(k->op, "epsilon", 1e-5f);
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  if (!y) return false;
  double *xd = dense_to_f64(k, x), *st = xd ? malloc((size_t)(2 * (n ? n : 1)) * sizeof *st) : NULL;
  if (!st) {
    free(xd);
    return xd ? kernel_fail(k, "out of memory") : false;
  }
  chunk_stats(xd, n, len, eps, st, st + n);
  for (int64_t e = 0; e < x->numel; e++) {
    int64_t chunk = e / len, ch = e / sp % c, vi = per_channel ? ch : chunk % groups;
    tensor_set_f64(y, e, (xd[e] - st[chunk]) * st[n + chunk] * tensor_get_f64(sc, vi) + tensor_get_f64(b, vi));
  }
  free(xd);
  free(st);
  return true;
}

static bool k_instance_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  return norm_chunks(k, x->rank >= 2 ? x->dims[1] : 1, true);
}

static bool k_group_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t g = ir_op_attr_int(k->op, "num_groups", 0), c = x->rank >= 2 ? x->dims[1] : 0;
  /* Opset 21 scale/bias have C entries, opset 18 num_groups. */
  return norm_chunks(k, g, kernel_in(k, 1)->numel == c);
}

static bool k_lrn(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (!same_float_type(k, x)) return false;
  if (x->rank < 2) return kernel_fail(k, "input must be N x C x ..., got rank %d", x->rank);
  int64_t size = ir_op_attr_int(k->op, "size", 0);
  if (size < 1) return kernel_fail(k, "size must be positive, got %lld", (long long)size);
  double alpha = ir_op_attr_float(k->op, "alpha", 1e-4f), beta = ir_op_attr_float(k->op, "beta", 0.75f);
  double bias = ir_op_attr_float(k->op, "bias", 1.0f);
  int64_t c = x->dims[1], sp = dense_span(x, 2, x->rank), lo = (size - 1) / 2, hi = size - 1 - lo;
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  double *xd = y ? dense_to_f64(k, x) : NULL;
  if (!xd) return false;
  for (int64_t e = 0; e < x->numel; e++) {
    int64_t ch = e / sp % c, base = e - ch * sp;
    double sq = 0;
    for (int64_t j = ch - lo; j <= ch + hi; j++)
      if (j >= 0 && j < c) sq += xd[base + j * sp] * xd[base + j * sp];
    tensor_set_f64(y, e, xd[e] / pow(bias + alpha / (double)size * sq, beta));
  }
  free(xd);
  return true;
}

static bool k_lp_norm(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (!same_float_type(k, x)) return false;
  int32_t axis;
  int64_t p = ir_op_attr_int(k->op, "p", 2);
  if (p != 1 && p != 2) return kernel_fail(k, "p must be 1 or 2, got %lld", (long long)p);
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", -1), x->rank, false, &axis)) return false;
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  double *xd = y ? dense_to_f64(k, x) : NULL;
  if (!xd) return false;
  int64_t n = x->dims[axis], inner = dense_span(x, axis + 1, x->rank), outer = dense_span(x, 0, axis);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const double *p0 = xd + o * n * inner + i;
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += p == 1 ? fabs(p0[j * inner]) : p0[j * inner] * p0[j * inner];
      /* a zero vector stays zero, as in the reference */
      double norm = s == 0 ? 1 : p == 1 ? s : sqrt(s);
      for (int64_t j = 0; j < n; j++) tensor_set_f64(y, o * n * inner + i + j * inner, p0[j * inner] / norm);
    }
  free(xd);
  return true;
}

/* (x - E[x]) / (sqrt(E[(x - E[x])^2]) + 1e-9) over `axes` (the ONNX
 * function body adds 1e-9 after the square root). */
static bool k_mvn(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (!same_float_type(k, x)) return false;
  bool reduced[TENSOR_MAX_RANK] = {false};
  const IrAttr *a = ir_op_attr(k->op, "axes");
  static const int64_t dflt[3] = {0, 2, 3};
  uint32_t na = a ? a->u.ints.n : 3;
  for (uint32_t i = 0; i < na; i++) {
    int32_t ax;
    if (!dense_axis(k, a ? a->u.ints.v[i] : dflt[i], x->rank, false, &ax)) return false;
    reduced[ax] = true;
  }
  /* Each element's group: its linear index over the kept dims. */
  int64_t ngroups = 1, idx[TENSOR_MAX_RANK] = {0};
  for (int32_t i = 0; i < x->rank; i++) ngroups *= reduced[i] ? 1 : x->dims[i];
  Tensor *y = kernel_output(k, 0, x->elem, x->rank, x->dims);
  double *xd = y ? dense_to_f64(k, x) : NULL;
  double *acc = xd ? calloc((size_t)(3 * ngroups), sizeof *acc) : NULL;
  int64_t *grp = acc ? malloc((size_t)(x->numel ? x->numel : 1) * sizeof *grp) : NULL;
  if (!grp) {
    free(xd);
    free(acc);
    return y && xd ? kernel_fail(k, "out of memory") : false;
  }
  for (int64_t e = 0; e < x->numel; e++) {
    int64_t gi = 0;
    for (int32_t i = 0; i < x->rank; i++)
      if (!reduced[i]) gi = gi * x->dims[i] + idx[i];
    grp[e] = gi;
    acc[gi] += xd[e], acc[2 * ngroups + gi] += 1;
    for (int32_t i = x->rank - 1; i >= 0 && ++idx[i] == x->dims[i]; i--) idx[i] = 0;
  }
  for (int64_t g = 0; g < ngroups; g++) acc[g] /= acc[2 * ngroups + g];
  for (int64_t e = 0; e < x->numel; e++) acc[ngroups + grp[e]] += (xd[e] - acc[grp[e]]) * (xd[e] - acc[grp[e]]);
  for (int64_t e = 0; e < x->numel; e++) {
    int64_t g = grp[e];
    tensor_set_f64(y, e, (xd[e] - acc[g]) / (sqrt(acc[ngroups + g] / acc[2 * ngroups + g]) + 1e-9));
  }
  free(xd);
  free(acc);
  free(grp);
  return true;
}

void kernels_register_norm(KernelFn *table) {
  table[IR_OP_BATCH_NORM] = k_batch_norm;
  table[IR_OP_LAYER_NORM] = k_layer_norm;
  table[IR_OP_INSTANCE_NORM] = k_instance_norm;
  table[IR_OP_GROUP_NORM] = k_group_norm;
  table[IR_OP_LRN] = k_lrn;
  table[IR_OP_LP_NORM] = k_lp_norm;
  table[IR_OP_MVN] = k_mvn;
}
