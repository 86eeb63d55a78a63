/* ONNX TensorProto decoding: element types, dims, raw_data, the typed data
 * fields (float_data, int32_data, int64_data, double_data, uint64_data) and
 * external data files confined to the model's folder. Produces IR constants
 * with one element per container (sub-byte types unpacked, low nibble
 * first, signed types sign-extended), as compiler/ir/ir.h requires. */
/* realpath() is an XSI interface. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx/import_internal.h"

DiagLoc onnx_loc(const OnnxCtx *c) { return diag_loc(c->path, 0, 0); }

bool onnx_elem(OnnxCtx *c, int32_t dt, IrElem *out, const char *what) {
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__STRING) {
    diag_error(c->d, onnx_loc(c), "%s: string tensors are not supported", what);
    return false;
  }
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64 || dt == ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128) {
    diag_error(c->d, onnx_loc(c), "%s: complex tensors are not supported", what);
    return false;
  }
  for (int e = 0; e < IR_ELEM_COUNT; e++) {
    if (dt != 0 && ir_elem_info[e].onnx == dt) {
      *out = (IrElem)e;
      return true;
    }
  }
  diag_error(c->d, onnx_loc(c), "%s: unknown data type %d", what, (int)dt);
  return false;
}

/* Elements per byte in ONNX's packed encodings (raw_data and int32_data). */
static int per_byte(IrElem e) {
  int bits = ir_elem_bits(e);
  if (e == IR_ELEM_BOOL) return 1;
  return bits == 4 ? 2 : bits == 2 ? 4 : 1;
}

/* Stores element i from an unsigned bit field of the given width, sign
 * extending signed integer types to their container. */
static void store_field(IrElem e, void *data, int64_t i, uint64_t field) {
  int bits = ir_elem_bits(e);
  if (bits < 8 && ir_elem_is_signed(e) && (field >> (bits - 1)) & 1) field |= ~(uint64_t)0 << bits;
  ir_elem_store_bits(e, data, i, field);
}

/* Unpacks `nbytes` of ONNX-packed little-endian bytes into containers. */
static void unpack_bytes(IrElem e, const uint8_t *src, int64_t numel, void *dst) {
  if (numel == 0) return; /* empty raw_data arrives as (NULL, 0) */
  int k = per_byte(e);
  if (k == 1) {
    if (e == IR_ELEM_BOOL) {
      for (int64_t i = 0; i < numel; i++) ((uint8_t *)dst)[i] = src[i] != 0;
    } else {
      memcpy(dst, src, (size_t)numel * (size_t)ir_elem_bytes(e)); /* little-endian host */
    }
    return;
  }
  int bits = 8 / k;
  for (int64_t i = 0; i < numel; i++) {
    uint8_t byte = src[i / k];
    store_field(e, dst, i, (uint64_t)(byte >> (bits * (int)(i % k))) & ((1u << bits) - 1));
  }
}

/* Resolves `location` inside the model folder; refuses absolute paths, `..`
 * components and links that lead outside. Returns a malloc'ed real path. */
static char *resolve_external(OnnxCtx *c, const char *loc, const char *what) {
  if (!c->dir) {
    diag_error(c->d, onnx_loc(c), "%s: external data '%s' needs a model file on disk", what, loc);
    return NULL;
  }
  if (loc[0] == '/' || loc[0] == '\0') {
    diag_error(c->d, onnx_loc(c), "%s: external data path '%s' must be relative to the model's folder", what,
               loc);
    return NULL;
  }
  for (const char *p = loc; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      diag_error(c->d, onnx_loc(c), "%s: external data path '%s' leaves the model's folder", what, loc);
      return NULL;
    }
    p += n;
    if (*p == '/') p++;
  }
  size_t len = strlen(c->dir) + strlen(loc) + 2;
  char *joined = xmalloc(len);
  snprintf(joined, len, "%s/%s", c->dir, loc);
  char *real = realpath(joined, NULL);
  free(joined);
  if (!real) {
    diag_error(c->d, onnx_loc(c), "%s: cannot open external data '%s': %s", what, loc, strerror(errno));
    return NULL;
  }
  size_t dl = strlen(c->dir);
  if (strncmp(real, c->dir, dl) != 0 || (real[dl] != '/' && strcmp(c->dir, "/") != 0)) {
    diag_error(c->d, onnx_loc(c), "%s: external data path '%s' leads outside the model's folder", what, loc);
    free(real);
    return NULL;
  }
  return real;
}

static bool parse_i64(const char *s, int64_t *out) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 0) return false;
  *out = (int64_t)v;
  return true;
}

/* Reads `need` bytes of external data into a malloc'ed buffer. */
static uint8_t *read_external(OnnxCtx *c, const Onnx__TensorProto *t, size_t need, const char *what) {
  const char *loc = NULL;
  int64_t offset = 0, length = -1;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *kv = t->external_data[i];
    if (!kv->key) continue;
    if (strcmp(kv->key, "location") == 0) {
      loc = kv->value;
    } else if (strcmp(kv->key, "offset") == 0) {
      if (!parse_i64(kv->value, &offset)) {
        diag_error(c->d, onnx_loc(c), "%s: bad external data offset '%s'", what, kv->value ? kv->value : "");
        return NULL;
      }
    } else if (strcmp(kv->key, "length") == 0) {
      if (!parse_i64(kv->value, &length)) {
        diag_error(c->d, onnx_loc(c), "%s: bad external data length '%s'", what, kv->value ? kv->value : "");
        return NULL;
      }
    }
  }
  if (!loc) {
    diag_error(c->d, onnx_loc(c), "%s: external data without a location", what);
    return NULL;
  }
  if (length >= 0 && (uint64_t)length != need) {
    diag_error(c->d, onnx_loc(c), "%s: external data length %lld disagrees with its dims and type (%zu bytes)",
               what, (long long)length, need);
    return NULL;
  }
  char *real = resolve_external(c, loc, what);
  if (!real) return NULL;
  FILE *f = fopen(real, "rb");
  free(real);
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    diag_error(c->d, onnx_loc(c), "%s: cannot read external data '%s'", what, loc);
    if (f) fclose(f);
    return NULL;
  }
  if ((uint64_t)offset > (uint64_t)st.st_size || need > (uint64_t)st.st_size - (uint64_t)offset) {
    diag_error(c->d, onnx_loc(c), "%s: external data [%lld, +%zu) lies past the end of '%s' (%lld bytes)", what,
               (long long)offset, need, loc, (long long)st.st_size);
    fclose(f);
    return NULL;
  }
  uint8_t *buf = xmalloc(need ? need : 1);
  bool ok = fseeko(f, (off_t)offset, SEEK_SET) == 0 && fread(buf, 1, need, f) == need;
  fclose(f);
  if (!ok) {
    diag_error(c->d, onnx_loc(c), "%s: cannot read external data '%s'", what, loc);
    free(buf);
    return NULL;
  }
  return buf;
}

/* How many entries the typed field for e holds (*want: how many it should,
 * *field: its name). */
static size_t typed_count(const Onnx__TensorProto *t, IrElem e, int64_t numel, size_t *want, const char **field) {
  *want = (size_t)numel;
  switch (e) {
  case IR_ELEM_F32: *field = "float_data"; return t->n_float_data;
  case IR_ELEM_I64: *field = "int64_data"; return t->n_int64_data;
  case IR_ELEM_F64: *field = "double_data"; return t->n_double_data;
  case IR_ELEM_U32:
  case IR_ELEM_U64: *field = "uint64_data"; return t->n_uint64_data;
  default: {
    int k = per_byte(e);
    *want = (size_t)((numel + k - 1) / k);
    *field = "int32_data";
    return t->n_int32_data;
  }
  }
}

/* Allocates *dstp and fills it from the typed field that holds this data
 * type. Returns false (reported) when the count is wrong. *present says
 * whether any typed field held data. */
static bool decode_typed(OnnxCtx *c, const Onnx__TensorProto *t, IrElem e, int64_t numel, void **dstp,
                         size_t nbytes, bool *present, const char *what) {
  size_t want;
  const char *field;
  size_t n = typed_count(t, e, numel, &want, &field);
  *present = true;
  if (n == 0 && want != 0) {
    *present = false;
    return true;
  }
  if (n != want) {
    diag_error(c->d, onnx_loc(c), "%s: %s has %zu entries, its dims and type %s need %zu", what, field, n,
               ir_elem_name(e), want);
    return false;
  }
  void *dst = *dstp = arena_alloc(&c->m->arena, nbytes ? nbytes : 1);
  if (want == 0) return true; /* empty tensor: the field pointer may be NULL */
  switch (e) {
  case IR_ELEM_F32: memcpy(dst, t->float_data, want * 4); break;
  case IR_ELEM_I64: memcpy(dst, t->int64_data, want * 8); break;
  case IR_ELEM_F64: memcpy(dst, t->double_data, want * 8); break;
  case IR_ELEM_U32:
  case IR_ELEM_U64:
    for (size_t i = 0; i < n; i++) ir_elem_store_bits(e, dst, (int64_t)i, t->uint64_data[i]);
    break;
  default: {
    /* int32_data: one element (or one packed byte of sub-byte elements) per
     * entry; float types as their bit patterns. */
    int k = per_byte(e);
    if (k == 1) {
      for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)(int64_t)t->int32_data[i];
        if (e == IR_ELEM_BOOL) v = v != 0;
        ir_elem_store_bits(e, dst, (int64_t)i, v);
      }
    } else {
      int bits = 8 / k;
      for (int64_t i = 0; i < numel; i++) {
        uint32_t byte = (uint32_t)t->int32_data[i / k] & 0xFF;
        store_field(e, dst, i, (byte >> (bits * (int)(i % k))) & ((1u << bits) - 1));
      }
    }
    break;
  }
  }
  return true;
}

IrConst *onnx_tensor_to_const(OnnxCtx *c, const Onnx__TensorProto *t, const char *pool_name, const char *what) {
  IrElem e;
  if (!t->has_data_type) {
    diag_error(c->d, onnx_loc(c), "%s: tensor without a data type", what);
    return NULL;
  }
  if (!onnx_elem(c, t->data_type, &e, what)) return NULL;
  if (t->segment) {
    diag_error(c->d, onnx_loc(c), "%s: segmented tensors are not supported", what);
    return NULL;
  }
  if (t->n_dims > 64) {
    diag_error(c->d, onnx_loc(c), "%s: rank %zu is too large", what, t->n_dims);
    return NULL;
  }
  int64_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    int64_t dim = t->dims[i];
    if (dim < 0) {
      diag_error(c->d, onnx_loc(c), "%s: dim %zu is negative (%lld)", what, i, (long long)dim);
      return NULL;
    }
    if (dim != 0 && numel > INT64_MAX / dim) {
      diag_error(c->d, onnx_loc(c), "%s: the product of its dims overflows", what);
      return NULL;
    }
    numel *= dim;
  }
  int bytes = ir_elem_bytes(e);
  /* Containers must be addressable; anything near this is not a real model. */
  if (numel > (int64_t)(SIZE_MAX / 16) / bytes || numel > ((int64_t)1 << 40)) {
    diag_error(c->d, onnx_loc(c), "%s: %lld elements is too large", what, (long long)numel);
    return NULL;
  }
  int k = per_byte(e);
  size_t packed = e == IR_ELEM_BOOL || k == 1 ? (size_t)numel * (size_t)(e == IR_ELEM_BOOL ? 1 : bytes)
                                              : (size_t)((numel + k - 1) / k);
  size_t nbytes = (size_t)numel * (size_t)bytes;
  /* The buffer is allocated only once the source is known to hold that much
   * data: dims alone (a few bytes of protobuf) must not size an allocation. */
  void *data = NULL;

  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    uint8_t *buf = read_external(c, t, packed, what);
    if (!buf) return NULL;
    data = arena_alloc(&c->m->arena, nbytes ? nbytes : 1);
    unpack_bytes(e, buf, numel, data);
    free(buf);
  } else if (t->has_raw_data) {
    if (t->raw_data.len != packed) {
      diag_error(c->d, onnx_loc(c), "%s: raw_data has %zu bytes, its dims and type %s need %zu", what,
                 t->raw_data.len, ir_elem_name(e), packed);
      return NULL;
    }
    data = arena_alloc(&c->m->arena, nbytes ? nbytes : 1);
    unpack_bytes(e, t->raw_data.data, numel, data);
  } else {
    bool present;
    if (!decode_typed(c, t, e, numel, &data, nbytes, &present, what)) return NULL;
    if (!present) {
      diag_error(c->d, onnx_loc(c), "%s: tensor has no data (%lld elements expected)", what, (long long)numel);
      return NULL;
    }
  }

  int64_t dims[64];
  for (size_t i = 0; i < t->n_dims; i++) dims[i] = t->dims[i];
  IrConst *k_const = arena_alloc(&c->m->arena, sizeof *k_const);
  k_const->name = pool_name;
  k_const->type = ir_type_static(c->m, e, (int32_t)t->n_dims, dims);
  k_const->splat = false;
  k_const->data = data;
  k_const->nbytes = nbytes;
  k_const->loc = onnx_loc(c);
  if (pool_name) ir_module_add_const(c->m, k_const);
  return k_const;
}

const char *onnx_pool_name(OnnxCtx *c, const char *want) {
  if (!want || !*want) want = "cst";
  const char *name = want;
  char *tmp = NULL;
  for (int n = 1; strmap_get(&c->pool_names, name); n++) {
    size_t len = strlen(want) + 24;
    free(tmp);
    tmp = xmalloc(len);
    snprintf(tmp, len, "%s_%d", want, n);
    name = tmp;
  }
  char *kept = arena_strdup(&c->m->arena, name);
  free(tmp);
  strmap_put(&c->pool_names, kept, kept);
  return kept;
}
