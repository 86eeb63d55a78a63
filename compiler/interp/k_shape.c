/* Kernels: shape and data movement (Identity, Dropout, Reshape, Flatten,
 * Squeeze, Unsqueeze, Shape, Size, Transpose, Concat, Split, Slice, Expand,
 * Tile, ConstantOfShape, Range, EyeLike, Where, BitCast) and the helpers of
 * k_shape.h. Gathers and scatters live in k_gather.c, reorderings (Pad,
 * DepthToSpace, CumSum, ...) in k_layout.c. ONNX operator spec semantics. */
#include "interp/k_shape.h"
#include "interp/k_elementwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------- */

bool ks_ints(KernelCtx *k, uint32_t i, const char *what, int64_t *out, int64_t max, int64_t *n) {
  const Tensor *t = kernel_in(k, i);
  if (!t) return kernel_fail(k, "%s is missing", what);
  if (!ir_elem_is_int(t->elem))
    return kernel_fail(k, "%s must be an integer tensor, not %s", what, ir_elem_name(t->elem));
  if (t->numel > max)
    return kernel_fail(k, "%s has %lld elements, at most %lld allowed", what, (long long)t->numel, (long long)max);
  for (int64_t j = 0; j < t->numel; j++) out[j] = tensor_get_i64(t, j);
  *n = t->numel;
  return true;
}

bool ks_axis(KernelCtx *k, int64_t axis, int32_t rank, const char *what, int32_t *out) {
  if (axis < -(int64_t)rank || axis >= rank)
    return kernel_fail(k, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
  *out = (int32_t)(axis < 0 ? axis + rank : axis);
  return true;
}

bool ks_index(KernelCtx *k, int64_t idx, int64_t dim, const char *what, int64_t *out) {
  if (idx < -dim || idx >= dim)
    return kernel_fail(k, "%s %lld is out of range [%lld, %lld)", what, (long long)idx, (long long)-dim,
                       (long long)dim);
  *out = idx < 0 ? idx + dim : idx;
  return true;
}

bool ks_next(int64_t *idx, int32_t rank, const int64_t *dims) {
  for (int32_t d = rank - 1; d >= 0; d--) {
    if (++idx[d] < dims[d]) return true;
    idx[d] = 0;
  }
  return false;
}

void ks_strided_copy(void *dst, const Tensor *src, int32_t rank, const int64_t *dims, const int64_t *strides,
                     int64_t offset) {
  size_t eb = (size_t)ir_elem_bytes(src->elem);
  for (int32_t d = 0; d < rank; d++)
    if (dims[d] == 0) return;
  ew_strided_copy(dst, (const char *)src->data + (size_t)offset * eb, eb, rank, dims, strides);
}

Tensor *ks_output(KernelCtx *k, uint32_t i, const Tensor *src, int32_t rank, const int64_t *dims, bool copy) {
  Tensor *t = kernel_output(k, i, src->elem, rank, dims);
  if (t && copy && t->nbytes == src->nbytes && t->nbytes) memcpy(t->data, src->data, t->nbytes);
  return t;
}

/* ---- Identity, Dropout --------------------------------------------------- */

static bool k_identity(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  return ks_output(k, 0, x, x->rank, x->dims, true) != NULL;
}

static bool k_dropout(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ratio = kernel_in(k, 1), *train = kernel_in(k, 2);
  if (train && train->numel == 1 && tensor_get_f64(train, 0) != 0) {
    double r = ratio && ratio->numel == 1 ? tensor_get_f64(ratio, 0) : 0.5;
    if (r != 0)
      return kernel_fail(k, "training mode with ratio %g drops values at random; only inference is supported", r);
  }
  if (!ks_output(k, 0, x, x->rank, x->dims, true)) return false;
  if (k->nout > 1) {
    Tensor *mask = kernel_output(k, 1, IR_ELEM_BOOL, x->rank, x->dims);
    if (!mask) return false;
    if (mask->nbytes) memset(mask->data, 1, mask->nbytes);
  }
  return true;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze -------------------------------- */

static bool k_reshape(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t s[TENSOR_MAX_RANK], n;
  if (!ks_ints(k, 1, "the shape", s, TENSOR_MAX_RANK, &n)) return false;
  bool allowzero = ir_op_attr_int(k->op, "allowzero", 0) != 0;
  int64_t known = 1, infer = -1;
  for (int64_t i = 0; i < n; i++) {
    if (s[i] == 0 && !allowzero) {
      if (i >= x->rank) return kernel_fail(k, "shape entry %lld is 0 but the input has rank %d", (long long)i, x->rank);
      s[i] = x->dims[i];
    }
    if (s[i] == -1) {
      if (infer >= 0) return kernel_fail(k, "the shape has more than one -1");
      infer = i;
    } else if (s[i] < 0) {
      return kernel_fail(k, "shape entry %lld is %lld", (long long)i, (long long)s[i]);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x->numel % known)
      return kernel_fail(k, "cannot infer the -1 entry: %lld elements into blocks of %lld", (long long)x->numel,
                         (long long)known);
    s[infer] = x->numel / known;
  } else if (known != x->numel) {
    return kernel_fail(k, "the shape holds %lld elements, the input %lld", (long long)known, (long long)x->numel);
  }
  return ks_output(k, 0, x, (int32_t)n, s, true) != NULL;
}

static bool k_flatten(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t axis = ir_op_attr_int(k->op, "axis", 1);
  if (axis < -(int64_t)x->rank || axis > x->rank)
    return kernel_fail(k, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
  if (axis < 0) axis += x->rank;
  int64_t d[2] = {1, 1};
  for (int32_t i = 0; i < x->rank; i++) d[i < axis ? 0 : 1] *= x->dims[i];
  return ks_output(k, 0, x, 2, d, true) != NULL;
}

static bool k_squeeze(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  bool drop[TENSOR_MAX_RANK] = {false};
  if (kernel_in(k, 1)) {
    int64_t axes[TENSOR_MAX_RANK], n;
    if (!ks_ints(k, 1, "axes", axes, TENSOR_MAX_RANK, &n)) return false;
    for (int64_t i = 0; i < n; i++) {
      int32_t a;
      if (!ks_axis(k, axes[i], x->rank, "axis", &a)) return false;
      if (x->dims[a] != 1) return kernel_fail(k, "cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
      drop[a] = true;
    }
  } else {
    for (int32_t i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
  }
  int64_t d[TENSOR_MAX_RANK];
  int32_t r = 0;
  for (int32_t i = 0; i < x->rank; i++)
    if (!drop[i]) d[r++] = x->dims[i];
  return ks_output(k, 0, x, r, d, true) != NULL;
}

static bool k_unsqueeze(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t axes[TENSOR_MAX_RANK], n;
  if (!ks_ints(k, 1, "axes", axes, TENSOR_MAX_RANK, &n)) return false;
  int32_t r = x->rank + (int32_t)n;
  if (r > TENSOR_MAX_RANK) return kernel_fail(k, "the result would have rank %d, over %d", r, TENSOR_MAX_RANK);
  bool ins[TENSOR_MAX_RANK] = {false};
  for (int64_t i = 0; i < n; i++) {
    int32_t a;
    if (!ks_axis(k, axes[i], r, "axis", &a)) return false;
    if (ins[a]) return kernel_fail(k, "axis %d is given twice", a);
    ins[a] = true;
  }
  int64_t d[TENSOR_MAX_RANK];
  for (int32_t i = 0, j = 0; i < r; i++) d[i] = ins[i] ? 1 : x->dims[j++];
  return ks_output(k, 0, x, r, d, true) != NULL;
}

/* ---- Shape, Size ------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static bool k_shape(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t start = ir_op_attr_int(k->op, "start", 0), end = ir_op_attr_int(k->op, "end", x->rank);
  if (start < 0) start += x->rank;
  if (end < 0) end += x->rank;
  start = clamp64(start, 0, x->rank);
  end = clamp64(end, 0, x->rank);
  int64_t n = end > start ? end - start : 0;
  Tensor *t = kernel_output(k, 0, kernel_result_elem(k, 0), 1, &n);
  if (!t) return false;
  for (int64_t i = 0; i < n; i++) tensor_set_i64(t, i, x->dims[start + i]);
  return true;
}

static bool k_size(KernelCtx *k) {
  Tensor *t = kernel_output(k, 0, kernel_result_elem(k, 0), 0, NULL);
  if (!t) return false;
  tensor_set_i64(t, 0, kernel_in(k, 0)->numel);
  return true;
}

/* ---- Transpose, Concat, Split -------------------------------------------- */

static bool k_transpose(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  const IrAttr *pa = ir_op_attr(k->op, "perm");
  int64_t st[TENSOR_MAX_RANK], d[TENSOR_MAX_RANK], s[TENSOR_MAX_RANK];
  bool seen[TENSOR_MAX_RANK] = {false};
  if (pa && pa->u.ints.n != (uint32_t)x->rank)
    return kernel_fail(k, "perm has %u entries for rank %d", pa->u.ints.n, x->rank);
  tensor_strides(x, st);
  for (int32_t i = 0; i < x->rank; i++) {
    int64_t p = pa ? pa->u.ints.v[i] : x->rank - 1 - i;
    if (p < 0 || p >= x->rank || seen[p]) return kernel_fail(k, "perm is not a permutation of 0..%d", x->rank - 1);
    seen[p] = true;
    d[i] = x->dims[p];
    s[i] = st[p];
  }
  Tensor *t = ks_output(k, 0, x, x->rank, d, false);
  if (!t) return false;
  ks_strided_copy(t->data, x, x->rank, d, s, 0);
  return true;
}

static bool k_concat(KernelCtx *k) {
  const Tensor *x0 = kernel_in(k, 0);
  int32_t a;
  if (!x0 || x0->rank == 0) return kernel_fail(k, "inputs must be present with rank >= 1");
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", 0), x0->rank, "axis", &a)) return false;
  int64_t d[TENSOR_MAX_RANK];
  memcpy(d, x0->dims, sizeof d);
  d[a] = 0;
  char b1[128], b2[128];
  for (uint32_t i = 0; i < k->nin; i++) {
    const Tensor *x = kernel_in(k, i);
    if (!x) return kernel_fail(k, "input #%u is absent", i);
    bool ok = x->rank == x0->rank && x->elem == x0->elem;
    for (int32_t j = 0; ok && j < x->rank; j++) ok = j == a || x->dims[j] == x0->dims[j];
    if (!ok)
      return kernel_fail(k, "input #%u is %s, input #0 %s: they differ outside axis %d", i,
                         tensor_describe(x, b1, sizeof b1), tensor_describe(x0, b2, sizeof b2), a);
    d[a] += x->dims[a];
  }
  Tensor *t = ks_output(k, 0, x0, x0->rank, d, false);
  if (!t || !t->numel) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(x0->elem);
  int64_t outer = 1, inner = 1;
  for (int32_t j = 0; j < a; j++) outer *= x0->dims[j];
  for (int32_t j = a + 1; j < x0->rank; j++) inner *= x0->dims[j];
  char *o = t->data;
  for (int64_t r = 0; r < outer; r++)
    for (uint32_t i = 0; i < k->nin; i++) {
      const Tensor *x = kernel_in(k, i);
      size_t chunk = (size_t)(x->dims[a] * inner) * eb;
      if (chunk) memcpy(o, (const char *)x->data + (size_t)r * chunk, chunk);
      o += chunk;
    }
  return true;
}

static bool k_split(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int32_t a;
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", 0), x->rank, "axis", &a)) return false;
  int64_t dim = x->dims[a], n = k->nout, *sizes = xcalloc((size_t)n, sizeof *sizes), got = 0;
  bool ok = true;
  if (kernel_in(k, 1)) {
    ok = ks_ints(k, 1, "split", sizes, n, &got);
    if (ok && got != n) ok = kernel_fail(k, "split has %lld entries for %lld results", (long long)got, (long long)n);
  } else if (ir_op_attr(k->op, "num_outputs")) {
    int64_t no = ir_op_attr_int(k->op, "num_outputs", n), chunk = (dim + n - 1) / n;
    if (no != n) ok = kernel_fail(k, "num_outputs is %lld for %lld results", (long long)no, (long long)n);
    for (int64_t i = 0; i < n; i++) sizes[i] = i < n - 1 ? chunk : dim - chunk * (n - 1);
  } else {
    if (dim % n)
      ok =
          kernel_fail(k, "axis %d of size %lld does not split evenly into %lld parts", a, (long long)dim, (long long)n);
    for (int64_t i = 0; i < n; i++) sizes[i] = dim / n;
  }
  int64_t sum = 0;
  for (int64_t i = 0; ok && i < n; i++) {
    if (sizes[i] < 0) ok = kernel_fail(k, "part %lld would have size %lld", (long long)i, (long long)sizes[i]);
    sum += sizes[i];
  }
  if (ok && sum != dim)
    ok = kernel_fail(k, "the parts add up to %lld, axis %d has %lld", (long long)sum, a, (long long)dim);
  int64_t st[TENSOR_MAX_RANK], off = 0;
  tensor_strides(x, st);
  for (int64_t i = 0; ok && i < n; i++) {
    int64_t d[TENSOR_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    d[a] = sizes[i];
    Tensor *t = ks_output(k, (uint32_t)i, x, x->rank, d, false);
    if (!(ok = t != NULL)) break;
    ks_strided_copy(t->data, x, x->rank, d, st, off * st[a]);
    off += sizes[i];
  }
  free(sizes);
  return ok;
}

/* ---- Slice --------------------------------------------------------------- */

static bool k_slice(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t starts[TENSOR_MAX_RANK], ends[TENSOR_MAX_RANK], axes[TENSOR_MAX_RANK], steps[TENSOR_MAX_RANK];
  int64_t ns, ne, na, nst;
  if (!ks_ints(k, 1, "starts", starts, TENSOR_MAX_RANK, &ns) || !ks_ints(k, 2, "ends", ends, TENSOR_MAX_RANK, &ne))
    return false;
  na = nst = ns;
  for (int64_t i = 0; i < ns; i++) {
    axes[i] = i;
    steps[i] = 1;
  }
  if (kernel_in(k, 3) && !ks_ints(k, 3, "axes", axes, TENSOR_MAX_RANK, &na)) return false;
  if (kernel_in(k, 4) && !ks_ints(k, 4, "steps", steps, TENSOR_MAX_RANK, &nst)) return false;
  if (ne != ns || na != ns || nst != ns)
    return kernel_fail(k, "starts, ends, axes and steps have %lld, %lld, %lld and %lld entries", (long long)ns,
                       (long long)ne, (long long)na, (long long)nst);
  int64_t d[TENSOR_MAX_RANK], st[TENSOR_MAX_RANK], s[TENSOR_MAX_RANK], off = 0;
  bool seen[TENSOR_MAX_RANK] = {false};
  tensor_strides(x, st);
  memcpy(d, x->dims, sizeof d);
  memcpy(s, st, sizeof s);
  for (int64_t i = 0; i < ns; i++) {
    int32_t a;
    if (!ks_axis(k, axes[i], x->rank, "axis", &a)) return false;
    if (seen[a]) return kernel_fail(k, "axis %d is given twice", a);
    seen[a] = true;
    int64_t dim = x->dims[a], b = starts[i], e = ends[i], step = steps[i], n;
    if (step == 0) return kernel_fail(k, "step 0 on axis %d", a);
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      b = clamp64(b, 0, dim);
      e = clamp64(e, 0, dim);
      n = e > b ? (int64_t)(((uint64_t)(e - b) - 1) / (uint64_t)step) + 1 : 0;
    } else {
      b = clamp64(b, 0, dim - 1);
      e = clamp64(e, -1, dim - 1);
      uint64_t us = (uint64_t)(-(step + 1)) + 1;
      n = b > e ? (int64_t)(((uint64_t)(b - e) - 1) / us) + 1 : 0;
    }
    d[a] = n;
    if (n > 0) off += b * st[a];
    s[a] = n > 1 ? st[a] * step : 0;
  }
  Tensor *t = ks_output(k, 0, x, x->rank, d, false);
  if (!t) return false;
  ks_strided_copy(t->data, x, x->rank, d, s, off);
  return true;
}

/* ---- Expand, Tile --------------------------------------------------------- */

static bool k_expand(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  Tensor shape = {.elem = x->elem};
  int64_t n;
  if (!ks_ints(k, 1, "the shape", shape.dims, TENSOR_MAX_RANK, &n)) return false;
  shape.rank = (int32_t)n;
  for (int64_t i = 0; i < n; i++)
    if (shape.dims[i] < 0) return kernel_fail(k, "shape entry %lld is %lld", (long long)i, (long long)shape.dims[i]);
  const Tensor *ts[2] = {x, &shape};
  int64_t d[TENSOR_MAX_RANK], s[TENSOR_MAX_RANK];
  int32_t r;
  if (!kernel_broadcast_shape(k, ts, 2, &r, d)) return false;
  Tensor *t = ks_output(k, 0, x, r, d, false);
  if (!t) return false;
  kernel_broadcast_strides(x, r, d, s);
  ks_strided_copy(t->data, x, r, d, s, 0);
  return true;
}

/* Fills dst (dims out, byte strides ost) from src (byte strides ist) along
 * dims d..: copy one tile, then replicate it. */
static void tile_fill(const Tensor *x, const int64_t *reps, int32_t d, const char *src, char *dst, const size_t *ist,
                      const size_t *ost) {
  size_t block = (size_t)x->dims[d] * ost[d];
  if (d == x->rank - 1)
    memcpy(dst, src, block);
  else
    for (int64_t i = 0; i < x->dims[d]; i++)
      tile_fill(x, reps, d + 1, src + (size_t)i * ist[d], dst + (size_t)i * ost[d], ist, ost);
  for (int64_t r = 1; r < reps[d]; r++) memcpy(dst + (size_t)r * block, dst, block);
}

static bool k_tile(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t reps[TENSOR_MAX_RANK], n, d[TENSOR_MAX_RANK];
  if (!ks_ints(k, 1, "repeats", reps, TENSOR_MAX_RANK, &n)) return false;
  if (n != x->rank) return kernel_fail(k, "repeats has %lld entries for rank %d", (long long)n, x->rank);
  for (int32_t i = 0; i < x->rank; i++) {
    if (reps[i] < 0) return kernel_fail(k, "repeats[%d] is %lld", i, (long long)reps[i]);
    d[i] = x->dims[i] * reps[i];
  }
  Tensor *t = ks_output(k, 0, x, x->rank, d, x->rank == 0);
  if (!t || !t->numel || x->rank == 0) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(x->elem), ist[TENSOR_MAX_RANK], ost[TENSOR_MAX_RANK];
  for (int32_t i = x->rank - 1; i >= 0; i--) {
    ist[i] = i == x->rank - 1 ? eb : ist[i + 1] * (size_t)x->dims[i + 1];
    ost[i] = i == x->rank - 1 ? eb : ost[i + 1] * (size_t)d[i + 1];
  }
  tile_fill(x, reps, 0, x->data, t->data, ist, ost);
  return true;
}

/* ---- ConstantOfShape, Range, EyeLike --------------------------------------- */

static bool k_constant_of_shape(KernelCtx *k) {
  int64_t d[TENSOR_MAX_RANK], n;
  if (!ks_ints(k, 0, "the shape", d, TENSOR_MAX_RANK, &n)) return false;
  IrElem e = kernel_result_elem(k, 0);
  Tensor *t = kernel_output(k, 0, e, (int32_t)n, d);
  if (!t) return false;
  const IrAttr *a = ir_op_attr(k->op, "value");
  if (!a || a->kind != IR_ATTR_TENSOR || !t->numel) return true;
  const IrConst *c = a->u.tensor;
  if (c->type->elem != e || ir_type_numel(c->type) != 1)
    return kernel_fail(k, "value must be one %s element", ir_elem_name(e));
  size_t eb = (size_t)ir_elem_bytes(e);
  for (int64_t i = 0; i < t->numel; i++) memcpy((char *)t->data + (size_t)i * eb, c->data, eb);
  return true;
}

static bool k_range(KernelCtx *k) {
  const Tensor *s = kernel_in(k, 0), *l = kernel_in(k, 1), *dl = kernel_in(k, 2);
  if (s->numel != 1 || l->numel != 1 || dl->numel != 1) return kernel_fail(k, "start, limit and delta must be scalars");
  IrElem e = kernel_result_elem(k, 0);
  int64_t n;
  Tensor *t;
  if (ir_elem_is_float(e)) {
    double b = tensor_get_f64(s, 0), lim = tensor_get_f64(l, 0), st = tensor_get_f64(dl, 0);
    if (st == 0 || isnan(st)) return kernel_fail(k, "delta must be non-zero");
    double c = ceil((lim - b) / st);
    if (!(c < 1e15)) return kernel_fail(k, "the range would have %g elements", c);
    n = c > 0 ? (int64_t)c : 0;
    if (!(t = kernel_output(k, 0, e, 1, &n))) return false;
    for (int64_t i = 0; i < n; i++) tensor_set_f64(t, i, b + (double)i * st);
    return true;
  }
  int64_t b = tensor_get_i64(s, 0), lim = tensor_get_i64(l, 0), st = tensor_get_i64(dl, 0);
  if (st == 0) return kernel_fail(k, "delta must be non-zero");
  if (st > 0)
    n = lim > b ? (int64_t)(((uint64_t)lim - (uint64_t)b - 1) / (uint64_t)st) + 1 : 0;
  else
    n = b > lim ? (int64_t)(((uint64_t)b - (uint64_t)lim - 1) / ((uint64_t)(-(st + 1)) + 1)) + 1 : 0;
  if (!(t = kernel_output(k, 0, e, 1, &n))) return false;
  for (int64_t i = 0; i < n; i++) tensor_set_i64(t, i, (int64_t)((uint64_t)b + (uint64_t)i * (uint64_t)st));
  return true;
}

static bool k_eye_like(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (x->rank != 2) return kernel_fail(k, "the input must have rank 2, not %d", x->rank);
  Tensor *t = kernel_output(k, 0, kernel_result_elem(k, 0), 2, x->dims);
  if (!t) return false;
  int64_t off = ir_op_attr_int(k->op, "k", 0);
  for (int64_t i = 0; i < x->dims[0]; i++) {
    if (off > x->dims[1] || off < -x->dims[0]) break;
    int64_t j = i + off;
    if (j >= 0 && j < x->dims[1]) tensor_set_i64(t, i * x->dims[1] + j, 1);
  }
  return true;
}

/* ---- BitCast --------------------------------------------------------------- */

/* Bit width as ONNX counts it: sub-byte types their bits, every other type
 * (bool included) its whole container. */
static int onnx_width(IrElem e) {
  int b = ir_elem_bits(e);
  return b < 8 && e != IR_ELEM_BOOL ? b : 8 * ir_elem_bytes(e);
}

static bool k_bit_cast(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  IrElem e = kernel_result_elem(k, 0);
  if (onnx_width(e) != onnx_width(x->elem))
    return kernel_fail(k, "cannot reinterpret %d-bit %s as %d-bit %s", onnx_width(x->elem), ir_elem_name(x->elem),
                       onnx_width(e), ir_elem_name(e));
  Tensor *t = kernel_output(k, 0, e, x->rank, x->dims);
  if (!t) return false;
  for (int64_t i = 0; i < x->numel; i++) tensor_set_bits(t, i, tensor_get_bits(x, i));
  return true;
}

/* ---- Where ----------------------------------------------------------------- */

static bool k_where(KernelCtx *k) {
  const Tensor *ts[3] = {kernel_in(k, 0), kernel_in(k, 1), kernel_in(k, 2)};
  if (ts[1]->elem != ts[2]->elem) return kernel_fail(k, "X and Y have different element types");
  int64_t d[TENSOR_MAX_RANK], s[3][TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0};
  int32_t r;
  if (!kernel_broadcast_shape(k, ts, 3, &r, d)) return false;
  Tensor *t = ks_output(k, 0, ts[1], r, d, false);
  if (!t || !t->numel) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(t->elem);
  if (ts[0]->numel == t->numel && ts[1]->numel == t->numel && ts[2]->numel == t->numel) {
    for (int64_t i = 0; i < t->numel; i++) /* no broadcasting: one linear pass */
      memcpy((char *)t->data + (size_t)i * eb,
             (const char *)(tensor_get_bits(ts[0], i) ? ts[1] : ts[2])->data + (size_t)i * eb, eb);
    return true;
  }
  for (int i = 0; i < 3; i++) kernel_broadcast_strides(ts[i], r, d, s[i]);
  int64_t i = 0;
  do {
    int64_t p[3] = {0, 0, 0};
    for (int32_t j = 0; j < r; j++)
      for (int q = 0; q < 3; q++) p[q] += idx[j] * s[q][j];
    const Tensor *src = tensor_get_bits(ts[0], p[0]) ? ts[1] : ts[2];
    memcpy((char *)t->data + (size_t)i * eb, (const char *)src->data + (size_t)p[src == ts[1] ? 1 : 2] * eb, eb);
    i++;
  } while (ks_next(idx, r, d));
  return true;
}

void kernels_register_shape(KernelFn *table) {
  table[IR_OP_IDENTITY] = k_identity;
  table[IR_OP_DROPOUT] = k_dropout;
  table[IR_OP_RESHAPE] = k_reshape;
  table[IR_OP_FLATTEN] = k_flatten;
  table[IR_OP_SQUEEZE] = k_squeeze;
  table[IR_OP_UNSQUEEZE] = k_unsqueeze;
  table[IR_OP_SHAPE] = k_shape;
  table[IR_OP_SIZE] = k_size;
  table[IR_OP_TRANSPOSE] = k_transpose;
  table[IR_OP_CONCAT] = k_concat;
  table[IR_OP_SPLIT] = k_split;
  table[IR_OP_SLICE] = k_slice;
  table[IR_OP_EXPAND] = k_expand;
  table[IR_OP_TILE] = k_tile;
  table[IR_OP_CONSTANT_OF_SHAPE] = k_constant_of_shape;
  table[IR_OP_RANGE] = k_range;
  table[IR_OP_EYE_LIKE] = k_eye_like;
  table[IR_OP_WHERE] = k_where;
  table[IR_OP_BIT_CAST] = k_bit_cast;
  kernels_register_gather(table);
  kernels_register_layout(table);
  kernels_register_unique(table);
}
