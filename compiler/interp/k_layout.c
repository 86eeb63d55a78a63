/* Kernels: reorderings and masks (Pad, DepthToSpace, SpaceToDepth,
 * ReverseSequence, Trilu, CumSum, CumProd), ONNX operator spec semantics.
 * Pad modes follow numpy.pad (reflect, edge, wrap) as the ONNX reference
 * does. Cumulative ops compute in the input's type: integers wrap, floats
 * are rounded to the type after every step, as a loop in that type would. */
#include <string.h>

#include "interp/k_shape.h"

/* ---- Pad ------------------------------------------------------------------- */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;

/* Source index along a dim of size n for output position i (before the
 * begin pad removed); -1: outside (constant mode). */
static int64_t pad_source(int64_t i, int64_t n, PadMode m) {
  if (i >= 0 && i < n) return i;
  switch (m) {
  case PAD_CONSTANT: return -1;
  case PAD_EDGE: return i < 0 ? 0 : n - 1;
  case PAD_WRAP: return ((i % n) + n) % n;
  case PAD_REFLECT: {
    if (n == 1) return 0;
    int64_t p = 2 * (n - 1);
    i = ((i % p) + p) % p;
    return i >= n ? p - i : i;
  }
  }
  return -1;
}

static bool k_pad(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *cv = kernel_in(k, 2);
  const char *ms = ir_op_attr_string(k->op, "mode", "constant");
  PadMode mode;
  if (strcmp(ms, "constant") == 0)
    mode = PAD_CONSTANT;
  else if (strcmp(ms, "reflect") == 0)
    mode = PAD_REFLECT;
  else if (strcmp(ms, "edge") == 0)
    mode = PAD_EDGE;
  else if (strcmp(ms, "wrap") == 0)
    mode = PAD_WRAP;
  else
    return kernel_fail(k, "unknown mode '%s'", ms);
  int64_t pads[2 * TENSOR_MAX_RANK], np, axes[TENSOR_MAX_RANK], na = x->rank;
  if (!ks_ints(k, 1, "pads", pads, 2 * TENSOR_MAX_RANK, &np)) return false;
  for (int32_t i = 0; i < x->rank; i++) axes[i] = i;
  if (kernel_in(k, 3) && !ks_ints(k, 3, "axes", axes, TENSOR_MAX_RANK, &na)) return false;
  if (np != 2 * na) return kernel_fail(k, "pads has %lld entries for %lld axes", (long long)np, (long long)na);
  int64_t begin[TENSOR_MAX_RANK] = {0}, d[TENSOR_MAX_RANK];
  for (int64_t i = 0; i < na; i++) {
    int32_t a;
    if (!ks_axis(k, axes[i], x->rank, "axis", &a)) return false;
    begin[a] = pads[i];
    d[a] = pads[i] + pads[na + i];
  }
  for (int32_t a = 0; a < x->rank; a++) {
    bool listed = false;
    for (int64_t i = 0; i < na; i++) listed |= axes[i] == a || axes[i] + x->rank == a;
    if (!listed) d[a] = 0;
    d[a] += x->dims[a];
    if (d[a] < 0) return kernel_fail(k, "axis %d would have size %lld", a, (long long)d[a]);
    if (mode != PAD_CONSTANT && x->dims[a] == 0 && d[a] > 0)
      return kernel_fail(k, "cannot pad empty axis %d in mode '%s'", a, ms);
  }
  if (cv && cv->numel > 1) return kernel_fail(k, "constant_value must be a scalar");
  if (cv && cv->elem != x->elem) return kernel_fail(k, "constant_value and data have different element types");
  Tensor *t = ks_output(k, 0, x, x->rank, d, false);
  if (!t || !t->numel) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(x->elem);
  int64_t st[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0}, o = 0;
  tensor_strides(x, st);
  do {
    int64_t p = 0;
    for (int32_t a = 0; a < x->rank && p >= 0; a++) {
      int64_t s = pad_source(idx[a] - begin[a], x->dims[a], mode);
      p = s < 0 ? -1 : p + s * st[a];
    }
    char *dst = (char *)t->data + (size_t)o * eb;
    if (p >= 0)
      memcpy(dst, (const char *)x->data + (size_t)p * eb, eb);
    else if (cv && cv->numel)
      memcpy(dst, cv->data, eb);
    o++;
  } while (ks_next(idx, x->rank, d));
  return true;
}

/* ---- DepthToSpace, SpaceToDepth ------------------------------------------- */

/* out (4-D, dims od) = x viewed as the 6-D shape v, permuted by perm. */
static bool permute6(KernelCtx *k, const Tensor *x, const int64_t *v, const int *perm, const int64_t *od) {
  int64_t vs[6], pd[6], ps[6];
  vs[5] = 1;
  for (int i = 4; i >= 0; i--) vs[i] = vs[i + 1] * v[i + 1];
  for (int i = 0; i < 6; i++) {
    pd[i] = v[perm[i]];
    ps[i] = vs[perm[i]];
  }
  Tensor *t = ks_output(k, 0, x, 4, od, false);
  if (!t) return false;
  ks_strided_copy(t->data, x, 6, pd, ps, 0);
  return true;
}

static bool k_depth_to_space(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t b = ir_op_attr_int(k->op, "blocksize", 0);
  const char *mode = ir_op_attr_string(k->op, "mode", "DCR");
  if (x->rank != 4) return kernel_fail(k, "the input must have rank 4, not %d", x->rank);
  if (b <= 0 || x->dims[1] % (b * b))
    return kernel_fail(k, "blocksize %lld does not divide %lld channels into blocks", (long long)b,
                       (long long)x->dims[1]);
  int64_t n = x->dims[0], c = x->dims[1] / (b * b), h = x->dims[2], w = x->dims[3];
  int64_t od[4] = {n, c, h * b, w * b};
  if (strcmp(mode, "DCR") == 0) {
    static const int perm[6] = {0, 3, 4, 1, 5, 2};
    return permute6(k, x, (const int64_t[6]){n, b, b, c, h, w}, perm, od);
  }
  if (strcmp(mode, "CRD") == 0) {
    static const int perm[6] = {0, 1, 4, 2, 5, 3};
    return permute6(k, x, (const int64_t[6]){n, c, b, b, h, w}, perm, od);
  }
  return kernel_fail(k, "unknown mode '%s'", mode);
}

static bool k_space_to_depth(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t b = ir_op_attr_int(k->op, "blocksize", 0);
  if (x->rank != 4) return kernel_fail(k, "the input must have rank 4, not %d", x->rank);
  if (b <= 0 || x->dims[2] % b || x->dims[3] % b)
    return kernel_fail(k, "blocksize %lld does not divide the spatial dims %lldx%lld", (long long)b,
                       (long long)x->dims[2], (long long)x->dims[3]);
  int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2] / b, w = x->dims[3] / b;
  static const int perm[6] = {0, 3, 5, 1, 2, 4};
  return permute6(k, x, (const int64_t[6]){n, c, h, b, w, b}, perm, (const int64_t[4]){n, c * b * b, h, w});
}

/* ---- ReverseSequence, Trilu ------------------------------------------------ */

static bool k_reverse_sequence(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *sl = kernel_in(k, 1);
  int32_t ba, ta;
  if (x->rank < 2) return kernel_fail(k, "the input must have rank >= 2");
  if (!ks_axis(k, ir_op_attr_int(k->op, "batch_axis", 1), x->rank, "batch_axis", &ba) ||
      !ks_axis(k, ir_op_attr_int(k->op, "time_axis", 0), x->rank, "time_axis", &ta))
    return false;
  if (ba == ta) return kernel_fail(k, "batch_axis and time_axis are both %d", ba);
  if (sl->rank != 1 || sl->dims[0] != x->dims[ba])
    return kernel_fail(k, "sequence_lens must have one entry per batch (%lld)", (long long)x->dims[ba]);
  for (int64_t i = 0; i < sl->numel; i++) {
    int64_t l = tensor_get_i64(sl, i);
    if (l < 0 || l > x->dims[ta])
      return kernel_fail(k, "sequence_lens[%lld] = %lld is out of range [0, %lld]", (long long)i, (long long)l,
                         (long long)x->dims[ta]);
  }
  Tensor *t = ks_output(k, 0, x, x->rank, x->dims, true);
  if (!t || !t->numel) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(x->elem);
  int64_t st[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0}, o = 0;
  tensor_strides(x, st);
  do {
    int64_t l = tensor_get_i64(sl, idx[ba]), tt = idx[ta];
    if (tt < l) {
      int64_t p = o + (l - 1 - 2 * tt) * st[ta];
      memcpy((char *)t->data + (size_t)o * eb, (const char *)x->data + (size_t)p * eb, eb);
    }
    o++;
  } while (ks_next(idx, x->rank, x->dims));
  return true;
}

static bool k_trilu(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (x->rank < 2) return kernel_fail(k, "the input must have rank >= 2");
  int64_t kk = 0;
  if (kernel_in(k, 1)) {
    if (kernel_in(k, 1)->numel != 1) return kernel_fail(k, "k must hold one element");
    kk = tensor_get_i64(kernel_in(k, 1), 0);
  }
  bool upper = ir_op_attr_int(k->op, "upper", 1) != 0;
  Tensor *t = ks_output(k, 0, x, x->rank, x->dims, true);
  if (!t || !t->numel) return t != NULL;
  int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1], mats = x->numel / (rows * cols);
  size_t eb = (size_t)ir_elem_bytes(x->elem);
  for (int64_t m = 0; m < mats; m++)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) {
        bool keep = upper ? j - i >= kk : j - i <= kk;
        if (!keep) memset((char *)t->data + (size_t)((m * rows + i) * cols + j) * eb, 0, eb);
      }
  return true;
}

/* ---- CumSum, CumProd --------------------------------------------------------- */

/* v rounded to element type e (floats), as a computation in e would. */
static double round_to(IrElem e, double v) {
  uint64_t buf = 0;
  Tensor one = {.elem = e, .numel = 1, .nbytes = (size_t)ir_elem_bytes(e), .data = &buf};
  tensor_set_f64(&one, 0, v);
  return tensor_get_f64(&one, 0);
}

static bool cumulative(KernelCtx *k, bool product) {
  const Tensor *x = kernel_in(k, 0), *at = kernel_in(k, 1);
  if (!at || at->numel != 1 || !ir_elem_is_int(at->elem)) return kernel_fail(k, "axis must be one integer");
  int32_t a;
  if (!ks_axis(k, tensor_get_i64(at, 0), x->rank, "axis", &a)) return false;
  bool excl = ir_op_attr_int(k->op, "exclusive", 0) != 0, rev = ir_op_attr_int(k->op, "reverse", 0) != 0;
  Tensor *t = ks_output(k, 0, x, x->rank, x->dims, false);
  if (!t || !t->numel) return t != NULL;
  int64_t n = x->dims[a], inner = 1, outer = 1;
  for (int32_t i = 0; i < a; i++) outer *= x->dims[i];
  for (int32_t i = a + 1; i < x->rank; i++) inner *= x->dims[i];
  bool fl = ir_elem_is_float(x->elem);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      double facc = product ? 1 : 0;
      uint64_t iacc = product ? 1 : 0; /* integers wrap: modular arithmetic */
      for (int64_t s = 0; s < n; s++) {
        int64_t p = (o * n + (rev ? n - 1 - s : s)) * inner + in;
        bool store_before = excl;
        if (store_before) {
          if (fl)
            tensor_set_f64(t, p, facc);
          else
            tensor_set_i64(t, p, (int64_t)iacc);
        }
        if (fl) {
          double v = tensor_get_f64(x, p);
          facc = round_to(x->elem, product ? facc * v : facc + v);
        } else {
          uint64_t v = (uint64_t)tensor_get_i64(x, p);
          iacc = product ? iacc * v : iacc + v;
        }
        if (!store_before) {
          if (fl)
            tensor_set_f64(t, p, facc);
          else
            tensor_set_i64(t, p, (int64_t)iacc);
        }
      }
    }
  return true;
}

static bool k_cum_sum(KernelCtx *k) { return cumulative(k, false); }
static bool k_cum_prod(KernelCtx *k) { return cumulative(k, true); }

void kernels_register_layout(KernelFn *table) {
  table[IR_OP_PAD] = k_pad;
  table[IR_OP_DEPTH_TO_SPACE] = k_depth_to_space;
  table[IR_OP_SPACE_TO_DEPTH] = k_space_to_depth;
  table[IR_OP_REVERSE_SEQUENCE] = k_reverse_sequence;
  table[IR_OP_TRILU] = k_trilu;
  table[IR_OP_CUM_SUM] = k_cum_sum;
  table[IR_OP_CUM_PROD] = k_cum_prod;
}
