/* TensorProto files <-> runtime tensors. Decoding goes through the
 * importer's onnx_tensor_to_const (one definition of what a TensorProto
 * means) into a scratch module, then into a Tensor. Encoding always writes
 * raw_data, little-endian, packed the way ONNX packs sub-byte types. */
/* realpath() is an XSI interface. */
#define _XOPEN_SOURCE 700

#include "onnx/tensor_proto.h"

#include <stdlib.h>
#include <string.h>

#include "onnx/import_internal.h"
#include "support/fileio.h"

/* Real path of the folder holding `path` (external data is confined to it),
 * or NULL when it cannot be resolved (then external data is refused). */
static char *file_dir(const char *path) {
  char *real = realpath(path, NULL);
  if (!real) return NULL;
  char *slash = strrchr(real, '/');
  if (slash == real) slash[1] = '\0';
  else if (slash) *slash = '\0';
  return real;
}

static Tensor *decode(const void *buf, size_t len, const char *path, char *dir, char **name, Diag *d) {
  static const OnnxImportOptions defaults = {0};
  const char *where = path ? path : "<tensor>";
  if (name) *name = NULL;
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
  if (!tp) {
    diag_error(d, diag_loc(where, 0, 0), "not a valid TensorProto (the protobuf data is truncated or malformed)");
    return NULL;
  }
  OnnxCtx c = {.d = d, .path = where, .dir = dir, .opts = &defaults};
  c.m = ir_module_create(NULL);
  char what[300];
  if (tp->name && *tp->name) snprintf(what, sizeof what, "tensor '%s'", tp->name);
  else snprintf(what, sizeof what, "tensor");
  IrConst *k = onnx_tensor_to_const(&c, tp, NULL, what);
  Tensor *t = NULL;
  if (k) {
    t = tensor_from_const(k);
    if (!t)
      diag_error(d, diag_loc(where, 0, 0), "%s: rank %d, %lld elements of %s is beyond the interpreter's limits",
                 what, (int)k->type->rank, (long long)ir_type_numel(k->type), ir_elem_name(k->type->elem));
  }
  if (t && name && tp->name && *tp->name) *name = xstrdup(tp->name);
  ir_module_destroy(c.m);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return t;
}

Tensor *onnx_tensor_decode(const void *buf, size_t len, const char *path, char **name, Diag *d) {
  char *dir = path ? file_dir(path) : NULL;
  Tensor *t = decode(buf, len, path, dir, name, d);
  free(dir);
  return t;
}

Tensor *onnx_tensor_read(const char *path, char **name, Diag *d) {
  if (name) *name = NULL;
  size_t len;
  char *buf = fileio_read_path(path, "tensor file", &len, d, diag_loc(path, 0, 0));
  if (!buf) return NULL;
  Tensor *t = onnx_tensor_decode(buf, len, path, name, d);
  free(buf);
  return t;
}

/* Packs t's containers into ONNX's raw_data layout: whole containers for
 * byte-sized and larger types, 2 (4-bit) or 4 (2-bit) elements per byte,
 * low bits first, for sub-byte integer and float types. */
static uint8_t *pack_raw(const Tensor *t, size_t *n) {
  int bits = ir_elem_bits(t->elem);
  int per = t->elem != IR_ELEM_BOOL && bits == 4 ? 2 : t->elem != IR_ELEM_BOOL && bits == 2 ? 4 : 1;
  if (per == 1) {
    *n = t->nbytes;
    uint8_t *raw = xmalloc(*n ? *n : 1);
    if (*n) memcpy(raw, t->data, *n); /* little-endian host */
    return raw;
  }
  *n = (size_t)((t->numel + per - 1) / per);
  uint8_t *raw = xcalloc(*n ? *n : 1, 1);
  int w = 8 / per;
  for (int64_t i = 0; i < t->numel; i++) {
    uint64_t field = tensor_get_bits(t, i) & ((1u << w) - 1);
    raw[i / per] |= (uint8_t)(field << (w * (int)(i % per)));
  }
  return raw;
}

void *onnx_tensor_encode(const Tensor *t, const char *name, size_t *len, Diag *d) {
  int dt = ir_elem_info[t->elem].onnx;
  if (dt == 0) {
    diag_error(d, diag_loc(name ? name : "<tensor>", 0, 0), "ONNX has no data type for %s tensors",
               ir_elem_name(t->elem));
    return NULL;
  }
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[TENSOR_MAX_RANK];
  for (int32_t i = 0; i < t->rank; i++) dims[i] = t->dims[i];
  tp.n_dims = (size_t)t->rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = dt;
  tp.name = (char *)name; /* NULL: no name field */
  size_t nraw;
  uint8_t *raw = pack_raw(t, &nraw);
  tp.has_raw_data = 1;
  tp.raw_data.len = nraw;
  tp.raw_data.data = raw;
  *len = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *out = xmalloc(*len ? *len : 1);
  onnx__tensor_proto__pack(&tp, out);
  free(raw);
  return out;
}
