#include "interp/tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/floatfmt.h"
#include "support/arena.h"

static size_t max_bytes = TENSOR_MAX_BYTES;
size_t tensor_max_bytes(void) { return max_bytes; }
void tensor_set_max_bytes(size_t n) { max_bytes = n; }

int64_t tensor_shape_numel(IrElem e, int32_t rank, const int64_t *dims) {
  if (rank < 0 || rank > TENSOR_MAX_RANK) return -1;
  uint64_t limit = max_bytes / (uint64_t)ir_elem_bytes(e), n = 1;
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] == 0) n = 0;
  }
  if (n == 0) return 0;
  for (int32_t i = 0; i < rank; i++) {
    /* n * dims[i] > limit, checked without overflowing. */
    if ((uint64_t)dims[i] > limit / n) return -1;
    n *= (uint64_t)dims[i];
  }
  return (int64_t)n;
}

Tensor *tensor_new(IrElem e, int32_t rank, const int64_t *dims) {
  int64_t n = tensor_shape_numel(e, rank, dims);
  if (n < 0) return NULL;
  Tensor *t = xcalloc(1, sizeof *t);
  t->elem = e;
  t->rank = rank;
  if (rank) memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->numel = n;
  t->nbytes = (size_t)n * (size_t)ir_elem_bytes(e);
  t->data = n ? xcalloc((size_t)n, (size_t)ir_elem_bytes(e)) : NULL;
  return t;
}

Tensor *tensor_clone(const Tensor *t) {
  Tensor *c = tensor_new(t->elem, t->rank, t->dims);
  if (c && t->nbytes) memcpy(c->data, t->data, t->nbytes);
  return c;
}

void tensor_free(Tensor *t) {
  if (!t) return;
  free(t->data);
  free(t);
}

Tensor *tensor_from_const(const IrConst *c) {
  const IrType *ty = c->type;
  int64_t dims[TENSOR_MAX_RANK];
  if (ty->rank < 0 || ty->rank > TENSOR_MAX_RANK) return NULL;
  for (int32_t i = 0; i < ty->rank; i++) dims[i] = ty->dims[i].size;
  Tensor *t = tensor_new(ty->elem, ty->rank, dims);
  if (!t || !t->numel) return t;
  size_t eb = (size_t)ir_elem_bytes(ty->elem);
  if (c->splat) {
    for (int64_t i = 0; i < t->numel; i++) memcpy((char *)t->data + (size_t)i * eb, c->data, eb);
  } else {
    if (c->nbytes != t->nbytes) {
      tensor_free(t);
      return NULL;
    }
    memcpy(t->data, c->data, t->nbytes);
  }
  return t;
}

IrConst *tensor_to_const(IrModule *m, const Tensor *t) {
  const IrType *ty = ir_type_static(m, t->elem, t->rank, t->dims);
  return ir_const_create(m, NULL, ty, t->data, t->nbytes, false);
}

uint64_t tensor_get_bits(const Tensor *t, int64_t i) { return ir_elem_load_bits(t->elem, t->data, i); }
void tensor_set_bits(Tensor *t, int64_t i, uint64_t bits) { ir_elem_store_bits(t->elem, t->data, i, bits); }

double tensor_get_f64(const Tensor *t, int64_t i) {
  switch (t->elem) {
  case IR_ELEM_F32: return ((const float *)t->data)[i];
  case IR_ELEM_F64: return ((const double *)t->data)[i];
  case IR_ELEM_U64: return (double)((const uint64_t *)t->data)[i];
  default: break;
  }
  if (ir_elem_is_float(t->elem)) return q_float_decode(t->elem, tensor_get_bits(t, i));
  return (double)ir_elem_load_int(t->elem, t->data, i);
}

int64_t tensor_f64_to_i64(double v) {
  if (isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

void tensor_set_f64(Tensor *t, int64_t i, double v) {
  switch (t->elem) {
  case IR_ELEM_F32: ((float *)t->data)[i] = (float)v; return;
  case IR_ELEM_F64: ((double *)t->data)[i] = v; return;
  case IR_ELEM_BOOL: ((uint8_t *)t->data)[i] = v != 0; return;
  case IR_ELEM_U64:
    ((uint64_t *)t->data)[i] = isnan(v) || v <= 0 ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
    return;
  default: break;
  }
  if (ir_elem_is_float(t->elem)) {
    uint64_t bits = 0;
    if (!q_float_encode(t->elem, v, Q_OVERFLOW_INF, &bits)) q_float_encode(t->elem, v, Q_OVERFLOW_SATURATE, &bits);
    tensor_set_bits(t, i, bits);
    return;
  }
  tensor_set_i64(t, i, tensor_f64_to_i64(v));
}

int64_t tensor_get_i64(const Tensor *t, int64_t i) {
  if (ir_elem_is_float(t->elem)) return tensor_f64_to_i64(tensor_get_f64(t, i));
  return ir_elem_load_int(t->elem, t->data, i);
}

void tensor_set_i64(Tensor *t, int64_t i, int64_t v) {
  if (t->elem == IR_ELEM_BOOL) {
    ((uint8_t *)t->data)[i] = v != 0;
  } else if (ir_elem_is_float(t->elem)) {
    tensor_set_f64(t, i, (double)v);
  } else {
    int bits = ir_elem_bits(t->elem);
    uint64_t b = (uint64_t)v;
    if (bits < 64) b &= ((uint64_t)1 << bits) - 1; /* wrap, as a C cast would */
    tensor_set_bits(t, i, b);
  }
}

void tensor_strides(const Tensor *t, int64_t *strides) {
  int64_t s = 1;
  for (int32_t i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t->dims[i];
  }
}

bool tensor_same_shape(const Tensor *a, const Tensor *b) {
  if (a->rank != b->rank) return false;
  for (int32_t i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

const char *tensor_describe(const Tensor *t, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "%s[", ir_elem_name(t->elem));
  for (int32_t i = 0; i < t->rank && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}
