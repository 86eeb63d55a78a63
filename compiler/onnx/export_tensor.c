/* ONNX export of constants and types: IR constants (one element per
 * container, sub-byte types unpacked) become TensorProto raw_data packed the
 * way onnx.proto says (the inverse of import_tensor.c's unpack_bytes); IR
 * tensor types become TypeProto.Tensor with static, symbolic (dim_param)
 * and unknown dims. Tested by test/unit/test_export.c (hand-packed int4,
 * uint4, f4E2M1 and int2 bytes) and test/lit/onnx/export-*.qir. */
#include <string.h>

#include "onnx/export_internal.h"

/* Elements per byte in raw_data (bool is a whole byte). */
static int per_byte(IrElem e) {
  if (e == IR_ELEM_BOOL) return 1;
  int bits = ir_elem_bits(e);
  return bits == 4 ? 2 : bits == 2 ? 4 : 1;
}

uint8_t *onnx_export_pack(Arena *a, const IrConst *k, size_t *len) {
  IrElem e = k->type->elem;
  int64_t numel = ir_type_numel(k->type);
  int per = per_byte(e);
  size_t bytes = (size_t)ir_elem_bytes(e);
  if (numel <= 0) {
    *len = 0;
    return arena_alloc(a, 1);
  }
  if (per == 1) {
    *len = (size_t)numel * bytes;
    uint8_t *raw = arena_alloc(a, *len);
    if (!k->splat) {
      memcpy(raw, k->data, *len); /* little-endian host, like the importer */
    } else {
      for (int64_t i = 0; i < numel; i++) memcpy(raw + (size_t)i * bytes, k->data, bytes);
    }
    if (e == IR_ELEM_BOOL)
      for (size_t i = 0; i < *len; i++) raw[i] = raw[i] != 0;
    return raw;
  }
  int w = 8 / per;
  uint64_t mask = ((uint64_t)1 << w) - 1;
  *len = (size_t)((numel + per - 1) / per);
  uint8_t *raw = arena_alloc(a, *len); /* zeroed: the unused high field of an odd count stays 0 */
  for (int64_t i = 0; i < numel; i++) {
    /* Signed containers are sign-extended; the field is their low w bits. */
    uint64_t field = ir_const_bits(k, i) & mask;
    raw[i / per] |= (uint8_t)(field << (w * (int)(i % per)));
  }
  return raw;
}

Onnx__TensorProto *onnx_export_tensor(Arena *a, const IrConst *k, const char *name) {
  Onnx__TensorProto *t = arena_alloc(a, sizeof *t);
  onnx__tensor_proto__init(t);
  const IrType *ty = k->type;
  t->n_dims = ty->rank > 0 ? (size_t)ty->rank : 0;
  t->dims = arena_calloc(a, t->n_dims + 1, sizeof *t->dims);
  for (size_t i = 0; i < t->n_dims; i++) t->dims[i] = ty->dims[i].size;
  t->has_data_type = 1;
  t->data_type = ir_elem_info[ty->elem].onnx;
  if (name) t->name = arena_strdup(a, name);
  size_t n;
  t->raw_data.data = onnx_export_pack(a, k, &n);
  t->raw_data.len = n;
  t->has_raw_data = 1;
  return t;
}

Onnx__TypeProto *onnx_export_type(Arena *a, const IrType *t) {
  Onnx__TypeProto *tp = arena_alloc(a, sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = arena_alloc(a, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = ir_elem_info[t->elem].onnx;
  if (t->rank >= 0) {
    Onnx__TensorShapeProto *sh = arena_alloc(a, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)t->rank;
    sh->dim = arena_calloc(a, sh->n_dim + 1, sizeof *sh->dim);
    for (int32_t i = 0; i < t->rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = arena_alloc(a, sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      if (t->dims[i].size >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = t->dims[i].size;
      } else if (t->dims[i].sym) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = arena_strdup(a, t->dims[i].sym);
      }
      sh->dim[i] = d;
    }
    tt->shape = sh;
  }
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  return tp;
}
