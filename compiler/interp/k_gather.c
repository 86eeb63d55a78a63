/* Kernels: indexed reads and writes (Gather, GatherElements, GatherND,
 * Scatter, ScatterElements, ScatterND, TensorScatter, Compress, NonZero,
 * OneHot), ONNX operator spec semantics. Indices may be any integer type and negative (counted
 * from the end); an index out of range is an error naming it. Scatter
 * reductions compute in the data's type: integers wrap, floats are
 * computed exactly in double and rounded once to the type. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/k_shape.h"

/* Reads every index of operand i, checked against dim (normalized). */
static int64_t *read_indices(KernelCtx *k, uint32_t i, int64_t dim) {
  const Tensor *t = kernel_in(k, i);
  if (!ir_elem_is_int(t->elem)) {
    kernel_fail(k, "indices must be an integer tensor, not %s", ir_elem_name(t->elem));
    return NULL;
  }
  int64_t *v = xmalloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
  for (int64_t j = 0; j < t->numel; j++) {
    char what[64];
    snprintf(what, sizeof what, "index #%lld", (long long)j);
    if (!ks_index(k, tensor_get_i64(t, j), dim, what, &v[j])) {
      free(v);
      return NULL;
    }
  }
  return v;
}

static int64_t prod(const int64_t *d, int32_t from, int32_t to) {
  int64_t p = 1;
  for (int32_t i = from; i < to; i++) p *= d[i];
  return p;
}

/* ---- Gather, GatherElements, GatherND ------------------------------------- */

/* The indices of GatherElements/ScatterElements (operand 1): the data's
 * rank, no dim beyond the data's off the axis, each index checked along
 * axis a. */
static int64_t *elements_indices(KernelCtx *k, const Tensor *x, const Tensor *ind, int32_t a) {
  if (ind->rank != x->rank) {
    kernel_fail(k, "indices have rank %d, the data %d", ind->rank, x->rank);
    return NULL;
  }
  for (int32_t i = 0; i < x->rank; i++)
    if (i != a && ind->dims[i] > x->dims[i]) {
      kernel_fail(k, "indices dim %d is %lld, beyond the data's %lld", i, (long long)ind->dims[i],
                  (long long)x->dims[i]);
      return NULL;
    }
  return read_indices(k, 1, x->dims[a]);
}

static bool k_gather(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ind = kernel_in(k, 1);
  int32_t a;
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", 0), x->rank, "axis", &a)) return false;
  int32_t r = x->rank - 1 + ind->rank;
  if (r > TENSOR_MAX_RANK) return kernel_fail(k, "the result would have rank %d", r);
  int64_t d[TENSOR_MAX_RANK];
  for (int32_t i = 0, j = 0; i < x->rank; i++) {
    if (i != a)
      d[j++] = x->dims[i];
    else
      for (int32_t q = 0; q < ind->rank; q++) d[j++] = ind->dims[q];
  }
  int64_t *iv = read_indices(k, 1, x->dims[a]);
  if (!iv) return false;
  Tensor *t = ks_output(k, 0, x, r, d, false);
  if (t && t->numel) {
    size_t chunk = (size_t)prod(x->dims, a + 1, x->rank) * (size_t)ir_elem_bytes(x->elem);
    int64_t outer = prod(x->dims, 0, a), n = ind->numel;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t j = 0; j < n; j++)
        memcpy((char *)t->data + (size_t)(o * n + j) * chunk,
               (const char *)x->data + (size_t)(o * x->dims[a] + iv[j]) * chunk, chunk);
  }
  free(iv);
  return t != NULL;
}

static bool k_gather_elements(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ind = kernel_in(k, 1);
  int32_t a;
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", 0), x->rank, "axis", &a)) return false;
  int64_t *iv = elements_indices(k, x, ind, a);
  if (!iv) return false;
  Tensor *t = ks_output(k, 0, x, ind->rank, ind->dims, false);
  if (t && t->numel) {
    int64_t st[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0}, j = 0;
    size_t eb = (size_t)ir_elem_bytes(x->elem);
    tensor_strides(x, st);
    do {
      int64_t p = 0;
      for (int32_t i = 0; i < x->rank; i++) p += (i == a ? iv[j] : idx[i]) * st[i];
      memcpy((char *)t->data + (size_t)j * eb, (const char *)x->data + (size_t)p * eb, eb);
      j++;
    } while (ks_next(idx, ind->rank, ind->dims));
  }
  free(iv);
  return t != NULL;
}

/* The data offsets (in elements) addressed by the index tuples of a
 * GatherND/ScatterND indices tensor: nt tuples of length kk over data dims
 * b..b+kk, each batch (the first b dims) offset into its own slice. */
static int64_t *nd_offsets(KernelCtx *k, const Tensor *x, const Tensor *ind, int32_t b, int64_t *nt) {
  int32_t q = ind->rank;
  int64_t kk = ind->dims[q - 1], st[TENSOR_MAX_RANK];
  tensor_strides(x, st);
  int64_t tuples = prod(ind->dims, 0, q - 1), per_batch = prod(ind->dims, b, q - 1);
  int64_t *off = xmalloc((size_t)(tuples ? tuples : 1) * sizeof *off);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t batch = per_batch ? t / per_batch : 0, p = batch * (b ? st[b - 1] : 0);
    for (int64_t j = 0; j < kk; j++) {
      int64_t v = tensor_get_i64(ind, t * kk + j), dim = x->dims[b + j];
      char what[64];
      snprintf(what, sizeof what, "index #%lld", (long long)(t * kk + j));
      if (!ks_index(k, v, dim, what, &v)) {
        free(off);
        return NULL;
      }
      p += v * st[b + j];
    }
    off[t] = p;
  }
  *nt = tuples;
  return off;
}

/* Shared checks of GatherND/ScatterND; *kk the tuple length. */
static bool nd_check(KernelCtx *k, const Tensor *x, const Tensor *ind, int32_t b, int64_t *kk) {
  if (!ir_elem_is_int(ind->elem)) return kernel_fail(k, "indices must be an integer tensor");
  if (ind->rank < 1 || x->rank < 1) return kernel_fail(k, "data and indices need rank >= 1");
  if (b < 0 || b >= ind->rank || b >= x->rank) return kernel_fail(k, "batch_dims %d is out of range", b);
  for (int32_t i = 0; i < b; i++)
    if (ind->dims[i] != x->dims[i])
      return kernel_fail(k, "batch dim %d differs: %lld vs %lld", i, (long long)ind->dims[i], (long long)x->dims[i]);
  *kk = ind->dims[ind->rank - 1];
  if (*kk < 1 || *kk > x->rank - b)
    return kernel_fail(k, "index tuples of length %lld into rank %d", (long long)*kk, x->rank - b);
  return true;
}

static bool k_gather_nd(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ind = kernel_in(k, 1);
  int32_t b = (int32_t)ir_op_attr_int(k->op, "batch_dims", 0);
  int64_t kk = 0, nt, d[TENSOR_MAX_RANK]; /* = 0: gcc -O3 cannot see nd_check set it */
  if (!nd_check(k, x, ind, b, &kk)) return false;
  int32_t r = 0;
  for (int32_t i = 0; i < ind->rank - 1; i++) d[r++] = ind->dims[i];
  for (int32_t i = b + (int32_t)kk; i < x->rank; i++) {
    if (r == TENSOR_MAX_RANK) return kernel_fail(k, "the result rank is over %d", TENSOR_MAX_RANK);
    d[r++] = x->dims[i];
  }
  int64_t *off = nd_offsets(k, x, ind, b, &nt);
  if (!off) return false;
  Tensor *t = ks_output(k, 0, x, r, d, false);
  if (t && t->numel) {
    size_t eb = (size_t)ir_elem_bytes(x->elem), chunk = (size_t)prod(x->dims, b + (int32_t)kk, x->rank) * eb;
    for (int64_t i = 0; i < nt; i++)
      memcpy((char *)t->data + (size_t)i * chunk, (const char *)x->data + (size_t)off[i] * eb, chunk);
  }
  free(off);
  return t != NULL;
}

/* ---- ScatterElements, ScatterND ------------------------------------------- */

typedef enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } Reduction;

static bool read_reduction(KernelCtx *k, Reduction *r) {
  const char *s = ir_op_attr_string(k->op, "reduction", "none");
  static const char *names[] = {"none", "add", "mul", "max", "min"};
  for (int i = 0; i < 5; i++)
    if (strcmp(s, names[i]) == 0) {
      *r = (Reduction)i;
      return true;
    }
  return kernel_fail(k, "unknown reduction '%s'", s);
}

/* out[di] = reduce(out[di], u[ui]), in the element type of out. */
static void scatter_apply(Tensor *out, int64_t di, const Tensor *u, int64_t ui, Reduction r) {
  size_t eb = (size_t)ir_elem_bytes(out->elem);
  if (r == RED_NONE) {
    memcpy((char *)out->data + (size_t)di * eb, (const char *)u->data + (size_t)ui * eb, eb);
  } else if (ir_elem_is_float(out->elem)) {
    double a = tensor_get_f64(out, di), b = tensor_get_f64(u, ui), v;
    if (r == RED_ADD)
      v = a + b;
    else if (r == RED_MUL)
      v = a * b;
    else if (isnan(a) || isnan(b))
      v = NAN;
    else
      v = r == RED_MAX ? (a > b ? a : b) : (a < b ? a : b);
    tensor_set_f64(out, di, v);
  } else if (out->elem == IR_ELEM_U64) {
    uint64_t a = tensor_get_bits(out, di), b = tensor_get_bits(u, ui);
    uint64_t v = r == RED_ADD ? a + b : r == RED_MUL ? a * b : r == RED_MAX ? (a > b ? a : b) : (a < b ? a : b);
    tensor_set_bits(out, di, v);
  } else {
    int64_t a = tensor_get_i64(out, di), b = tensor_get_i64(u, ui);
    int64_t v = r == RED_ADD   ? (int64_t)((uint64_t)a + (uint64_t)b)
                : r == RED_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                : r == RED_MAX ? (a > b ? a : b)
                               : (a < b ? a : b);
    tensor_set_i64(out, di, v);
  }
}

static bool k_scatter_elements(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ind = kernel_in(k, 1), *u = kernel_in(k, 2);
  int32_t a;
  Reduction red = RED_NONE;
  if (!read_reduction(k, &red) || !ks_axis(k, ir_op_attr_int(k->op, "axis", 0), x->rank, "axis", &a)) return false;
  if (!tensor_same_shape(ind, u)) return kernel_fail(k, "indices and updates must have one shape");
  if (u->elem != x->elem) return kernel_fail(k, "updates and data have different element types");
  int64_t *iv = elements_indices(k, x, ind, a);
  if (!iv) return false;
  Tensor *t = ks_output(k, 0, x, x->rank, x->dims, true);
  if (t && u->numel) {
    int64_t st[TENSOR_MAX_RANK], idx[TENSOR_MAX_RANK] = {0}, j = 0;
    tensor_strides(x, st);
    do {
      int64_t p = 0;
      for (int32_t i = 0; i < x->rank; i++) p += (i == a ? iv[j] : idx[i]) * st[i];
      scatter_apply(t, p, u, j, red);
      j++;
    } while (ks_next(idx, u->rank, u->dims));
  }
  free(iv);
  return t != NULL;
}

static bool k_scatter_nd(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *ind = kernel_in(k, 1), *u = kernel_in(k, 2);
  Reduction red = RED_NONE;
  int64_t kk = 0, nt;
  if (!read_reduction(k, &red) || !nd_check(k, x, ind, 0, &kk)) return false;
  if (u->elem != x->elem) return kernel_fail(k, "updates and data have different element types");
  /* updates: indices.shape[:-1] + data.shape[kk:] */
  bool ok = u->rank == ind->rank - 1 + x->rank - (int32_t)kk;
  for (int32_t i = 0; ok && i < u->rank; i++)
    ok = u->dims[i] == (i < ind->rank - 1 ? ind->dims[i] : x->dims[i - (ind->rank - 1) + kk]);
  if (!ok) {
    char b1[128];
    return kernel_fail(k, "updates have shape %s, not indices.shape[:-1] + data.shape[%lld:]",
                       tensor_describe(u, b1, sizeof b1), (long long)kk);
  }
  int64_t *off = nd_offsets(k, x, ind, 0, &nt);
  if (!off) return false;
  Tensor *t = ks_output(k, 0, x, x->rank, x->dims, true);
  int64_t slice = prod(x->dims, (int32_t)kk, x->rank);
  for (int64_t i = 0; t && i < nt; i++)
    for (int64_t e = 0; e < slice; e++) scatter_apply(t, off[i] + e, u, i * slice + e, red);
  free(off);
  return t != NULL;
}

/* TensorScatter (opset 24): the KV-cache update. update replaces rows
 * write_indices[b] .. + sequence_length along `axis` of each batch b of
 * past_cache (modulo the cache length in circular mode). */
static bool k_tensor_scatter(KernelCtx *k) {
  const Tensor *past = kernel_in(k, 0), *upd = kernel_in(k, 1), *wi = kernel_in(k, 2);
  const char *mode = ir_op_attr_string(k->op, "mode", "linear");
  bool circular = strcmp(mode, "circular") == 0;
  if (!circular && strcmp(mode, "linear") != 0) return kernel_fail(k, "unknown mode '%s'", mode);
  int32_t a;
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", -2), past->rank, "axis", &a)) return false;
  if (a == 0) return kernel_fail(k, "axis 0 is the batch axis, not a sequence axis");
  bool ok = upd->rank == past->rank && upd->elem == past->elem && upd->dims[a] <= past->dims[a];
  for (int32_t i = 0; ok && i < past->rank; i++) ok = i == a || upd->dims[i] == past->dims[i];
  if (!ok) {
    char b1[128], b2[128];
    return kernel_fail(k, "update %s does not fit past_cache %s along axis %d", tensor_describe(upd, b1, sizeof b1),
                       tensor_describe(past, b2, sizeof b2), a);
  }
  if (wi && (wi->numel != past->dims[0] || !ir_elem_is_int(wi->elem)))
    return kernel_fail(k, "write_indices must hold one integer per batch (%lld)", (long long)past->dims[0]);
  Tensor *t = ks_output(k, 0, past, past->rank, past->dims, true);
  if (!t || !upd->numel) return t != NULL;
  int64_t max = past->dims[a], seq = upd->dims[a], outer = prod(past->dims, 0, a), per_batch = prod(past->dims, 1, a);
  size_t chunk = (size_t)prod(past->dims, a + 1, past->rank) * (size_t)ir_elem_bytes(past->elem);
  for (int64_t o = 0; o < outer; o++) {
    int64_t w = wi ? tensor_get_i64(wi, per_batch ? o / per_batch : 0) : 0;
    for (int64_t s = 0; s < seq; s++) {
      int64_t p = w + s;
      if (circular)
        p = ((p % max) + max) % max;
      else if (p < 0 || p >= max)
        return kernel_fail(k, "write index %lld + %lld is outside the cache length %lld", (long long)w, (long long)s,
                           (long long)max);
      memcpy((char *)t->data + (size_t)(o * max + p) * chunk, (const char *)upd->data + (size_t)(o * seq + s) * chunk,
             chunk);
    }
  }
  return true;
}

/* ---- Compress, NonZero, OneHot --------------------------------------------- */

static bool k_compress(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *c = kernel_in(k, 1);
  const IrAttr *aa = ir_op_attr(k->op, "axis");
  Tensor flat = *x;
  if (!aa) {
    flat.rank = 1;
    flat.dims[0] = x->numel;
  }
  int32_t a = 0;
  if (aa && !ks_axis(k, aa->u.i, x->rank, "axis", &a)) return false;
  if (c->rank != 1) return kernel_fail(k, "the condition must have rank 1");
  int64_t dim = flat.dims[a], cnt = 0;
  for (int64_t i = 0; i < c->numel; i++) {
    bool on = tensor_get_bits(c, i) != 0;
    if (on && i >= dim)
      return kernel_fail(k, "condition entry %lld is true beyond axis size %lld", (long long)i, (long long)dim);
    cnt += on;
  }
  int64_t d[TENSOR_MAX_RANK];
  memcpy(d, flat.dims, sizeof d);
  d[a] = cnt;
  Tensor *t = ks_output(k, 0, x, flat.rank, d, false);
  if (!t || !t->numel) return t != NULL;
  size_t chunk = (size_t)prod(flat.dims, a + 1, flat.rank) * (size_t)ir_elem_bytes(x->elem);
  char *o = t->data;
  for (int64_t r = 0; r < prod(flat.dims, 0, a); r++)
    for (int64_t i = 0; i < c->numel && i < dim; i++)
      if (tensor_get_bits(c, i)) {
        memcpy(o, (const char *)x->data + (size_t)(r * dim + i) * chunk, chunk);
        o += chunk;
      }
  return true;
}

static bool nonzero_at(const Tensor *x, int64_t i) {
  return ir_elem_is_float(x->elem) ? tensor_get_f64(x, i) != 0 : tensor_get_bits(x, i) != 0;
}

static bool k_non_zero(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  int64_t n = 0;
  for (int64_t i = 0; i < x->numel; i++) n += nonzero_at(x, i);
  /* numpy reads a scalar as a 1-element vector. */
  int32_t r = x->rank ? x->rank : 1;
  int64_t d[2] = {r, n}, idx[TENSOR_MAX_RANK] = {0}, j = 0;
  Tensor *t = kernel_output(k, 0, kernel_result_elem(k, 0), 2, d);
  if (!t || !x->numel) return t != NULL;
  for (int64_t i = 0; i < x->numel; i++) {
    if (nonzero_at(x, i)) {
      for (int32_t q = 0; q < x->rank; q++) tensor_set_i64(t, q * n + j, idx[q]);
      j++;
    }
    ks_next(idx, x->rank, x->dims);
  }
  return true;
}

static bool k_one_hot(KernelCtx *k) {
  const Tensor *ind = kernel_in(k, 0), *dep = kernel_in(k, 1), *val = kernel_in(k, 2);
  if (dep->numel != 1) return kernel_fail(k, "depth must hold one element");
  if (val->numel != 2) return kernel_fail(k, "values must hold two elements (off, on)");
  double dd = tensor_get_f64(dep, 0);
  if (!(dd >= 1 && dd < 1e12)) return kernel_fail(k, "depth %g is out of range", dd);
  int64_t depth = (int64_t)dd;
  int32_t r = ind->rank + 1, a;
  if (r > TENSOR_MAX_RANK) return kernel_fail(k, "the result would have rank %d", r);
  if (!ks_axis(k, ir_op_attr_int(k->op, "axis", -1), r, "axis", &a)) return false;
  int64_t d[TENSOR_MAX_RANK];
  for (int32_t i = 0, j = 0; i < r; i++) d[i] = i == a ? depth : ind->dims[j++];
  Tensor *t = ks_output(k, 0, val, r, d, false);
  if (!t || !t->numel) return t != NULL;
  size_t eb = (size_t)ir_elem_bytes(val->elem);
  for (int64_t i = 0; i < t->numel; i++) memcpy((char *)t->data + (size_t)i * eb, val->data, eb);
  int64_t outer = prod(ind->dims, 0, a), inner = prod(ind->dims, a, ind->rank);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double v = trunc(tensor_get_f64(ind, o * inner + i));
      if (v < 0) v += (double)depth;
      if (v >= 0 && v < (double)depth)
        memcpy((char *)t->data + (size_t)((o * depth + (int64_t)v) * inner + i) * eb, (const char *)val->data + eb, eb);
    }
  return true;
}

void kernels_register_gather(KernelFn *table) {
  table[IR_OP_GATHER] = k_gather;
  table[IR_OP_GATHER_ELEMENTS] = k_gather_elements;
  table[IR_OP_GATHER_ND] = k_gather_nd;
  table[IR_OP_SCATTER] = k_scatter_elements; /* opset 9-10 name, no reduction */
  table[IR_OP_SCATTER_ELEMENTS] = k_scatter_elements;
  table[IR_OP_SCATTER_ND] = k_scatter_nd;
  table[IR_OP_TENSOR_SCATTER] = k_tensor_scatter;
  table[IR_OP_COMPRESS] = k_compress;
  table[IR_OP_NON_ZERO] = k_non_zero;
  table[IR_OP_ONE_HOT] = k_one_hot;
}
