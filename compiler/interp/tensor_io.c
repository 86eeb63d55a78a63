/* Tensor files: .npy (NumPy format, documented in numpy/lib/format.py:
 * magic "\x93NUMPY", version, header length, a Python dict literal
 * {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the raw data)
 * and TensorProto .pb through compiler/onnx/tensor_proto.c. */
#include "interp/tensor_io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/tensor_proto.h"
#include "support/arena.h"
#include "support/fileio.h"

/* NumPy dtype codes (without byte order) of the element types .npy holds. */
static const struct {
  const char *code;
  IrElem elem;
} npy_types[] = {
    {"f2", IR_ELEM_F16}, {"f4", IR_ELEM_F32}, {"f8", IR_ELEM_F64}, {"i1", IR_ELEM_I8},  {"u1", IR_ELEM_U8},
    {"i2", IR_ELEM_I16}, {"u2", IR_ELEM_U16}, {"i4", IR_ELEM_I32}, {"u4", IR_ELEM_U32}, {"i8", IR_ELEM_I64},
    {"u8", IR_ELEM_U64}, {"b1", IR_ELEM_BOOL},
};

TensorFileFormat tensor_file_format(const char *path) {
  size_t n = strlen(path);
  return n >= 4 && strcmp(path + n - 4, ".npy") == 0 ? TENSOR_FILE_NPY : TENSOR_FILE_PB;
}

/* ---- .npy header parsing ------------------------------------------------ */

typedef struct NpyHeader {
  char descr[16];
  int fortran; /* -1: missing */
  int rank;    /* -1: missing */
  int64_t dims[TENSOR_MAX_RANK];
} NpyHeader;

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && isspace((unsigned char)*p)) p++;
  return p;
}

/* A quoted Python string ('...' or "...") into out; NULL if malformed. */
static const char *parse_str(const char *p, const char *end, char *out, size_t cap) {
  if (p >= end || (*p != '\'' && *p != '"')) return NULL;
  char q = *p++;
  size_t n = 0;
  while (p < end && *p != q) {
    if (n + 1 >= cap) return NULL;
    out[n++] = *p++;
  }
  if (p >= end) return NULL;
  out[n] = '\0';
  return p + 1;
}

/* (d0, d1, ...) with an optional trailing comma; () is a scalar. */
static const char *parse_shape(const char *p, const char *end, NpyHeader *h) {
  if (p >= end || *p != '(') return NULL;
  p = skip_ws(p + 1, end);
  h->rank = 0;
  while (p < end && *p != ')') {
    if (h->rank == TENSOR_MAX_RANK || !isdigit((unsigned char)*p)) return NULL;
    int64_t v = 0;
    while (p < end && isdigit((unsigned char)*p)) {
      if (v > (INT64_MAX - 9) / 10) return NULL;
      v = v * 10 + (*p++ - '0');
    }
    if (p < end && *p == 'L') p++; /* Python 2 long suffix */
    h->dims[h->rank++] = v;
    p = skip_ws(p, end);
    if (p < end && *p == ',') p = skip_ws(p + 1, end);
    else if (p < end && *p != ')') return NULL;
  }
  return p < end ? p + 1 : NULL;
}

static bool parse_header(const char *p, const char *end, NpyHeader *h) {
  h->descr[0] = '\0';
  h->fortran = h->rank = -1;
  p = skip_ws(p, end);
  if (p >= end || *p != '{') return false;
  p = skip_ws(p + 1, end);
  while (p < end && *p != '}') {
    char key[32];
    if (!(p = parse_str(p, end, key, sizeof key))) return false;
    p = skip_ws(p, end);
    if (p >= end || *p != ':') return false;
    p = skip_ws(p + 1, end);
    if (strcmp(key, "descr") == 0) {
      if (!(p = parse_str(p, end, h->descr, sizeof h->descr))) return false;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (end - p >= 4 && memcmp(p, "True", 4) == 0) h->fortran = 1, p += 4;
      else if (end - p >= 5 && memcmp(p, "False", 5) == 0) h->fortran = 0, p += 5;
      else return false;
    } else if (strcmp(key, "shape") == 0) {
      if (!(p = parse_shape(p, end, h))) return false;
    } else {
      return false; /* format.py allows exactly these three keys */
    }
    p = skip_ws(p, end);
    if (p < end && *p == ',') p = skip_ws(p + 1, end);
  }
  return p < end && h->descr[0] && h->fortran >= 0 && h->rank >= 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }

/* Element type of a dtype descr; *swap: big-endian data. */
static bool npy_elem(const char *descr, IrElem *e, bool *swap) {
  char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return false;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
    if (strcmp(descr + 1, npy_types[i].code) == 0) {
      *e = npy_types[i].elem;
      *swap = order == '>' && ir_elem_bytes(*e) > 1;
      return true;
    }
  }
  return false;
}

Tensor *tensor_npy_decode(const void *buf, size_t len, const char *path, Diag *d) {
  const uint8_t *b = buf;
  DiagLoc loc = diag_loc(path ? path : "<npy>", 0, 0);
  if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
    diag_error(d, loc, "not a NumPy .npy file (no \\x93NUMPY magic)");
    return NULL;
  }
  int major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = rd16(b + 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) {
      diag_error(d, loc, "truncated .npy header");
      return NULL;
    }
    hlen = rd32(b + 8);
    hstart = 12;
  } else {
    diag_error(d, loc, ".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", major, b[7]);
    return NULL;
  }
  if (hlen > len - hstart) {
    diag_error(d, loc, "truncated .npy header (%zu bytes announced, %zu present)", hlen, len - hstart);
    return NULL;
  }
  NpyHeader h;
  const char *hs = (const char *)b + hstart;
  if (!parse_header(hs, hs + hlen, &h)) {
    diag_error(d, loc, "malformed .npy header '%.*s'", (int)(hlen > 200 ? 200 : hlen), hs);
    return NULL;
  }
  IrElem e;
  bool swap;
  if (!npy_elem(h.descr, &e, &swap)) {
    diag_error(d, loc, ".npy dtype '%s' is not supported (f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1 are)", h.descr);
    return NULL;
  }
  if (h.fortran) {
    diag_error(d, loc, ".npy data in Fortran order is not supported; save a C-ordered array "
                       "(numpy.ascontiguousarray)");
    return NULL;
  }
  if (tensor_shape_numel(e, h.rank, h.dims) < 0) {
    diag_error(d, loc, ".npy shape is too large for the interpreter");
    return NULL;
  }
  size_t data_len = len - hstart - hlen;
  Tensor *t = tensor_new(e, h.rank, h.dims);
  if (!t) {
    diag_error(d, loc, "out of memory for the .npy data");
    return NULL;
  }
  if (data_len != t->nbytes) {
    diag_error(d, loc, ".npy data has %zu bytes, its shape and dtype '%s' need %zu", data_len, h.descr, t->nbytes);
    tensor_free(t);
    return NULL;
  }
  if (t->nbytes) memcpy(t->data, b + hstart + hlen, t->nbytes);
  size_t w = (size_t)ir_elem_bytes(e);
  for (int64_t i = 0; swap && i < t->numel; i++) {
    uint8_t *p = (uint8_t *)t->data + (size_t)i * w;
    for (size_t j = 0; j < w / 2; j++) {
      uint8_t x = p[j];
      p[j] = p[w - 1 - j];
      p[w - 1 - j] = x;
    }
  }
  if (e == IR_ELEM_BOOL)
    for (int64_t i = 0; i < t->numel; i++) ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
  return t;
}

void *tensor_npy_encode(const Tensor *t, size_t *len, Diag *d) {
  const char *code = NULL;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (npy_types[i].elem == t->elem) code = npy_types[i].code;
  if (!code) {
    diag_error(d, diag_loc("<npy>", 0, 0), "NumPy has no dtype for %s tensors; write a TensorProto (.pb) instead",
               ir_elem_name(t->elem));
    return NULL;
  }
  char dict[512];
  int n = snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                   ir_elem_bytes(t->elem) == 1 ? '|' : '<', code);
  for (int32_t i = 0; i < t->rank; i++)
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)t->dims[i], i + 1 < t->rank ? " " : "");
  if (t->rank > 1) n--; /* (2, 3) but (2,) */
  n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
  /* magic(6) + version(2) + length(2) + dict + padding + '\n', 64-aligned. */
  size_t hlen = (size_t)n + 1;
  size_t total = 10 + hlen;
  size_t pad = (64 - total % 64) % 64;
  hlen += pad;
  *len = 10 + hlen + t->nbytes;
  uint8_t *out = xmalloc(*len);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (uint8_t)(hlen & 0xFF);
  out[9] = (uint8_t)(hlen >> 8);
  memcpy(out + 10, dict, (size_t)n);
  memset(out + 10 + n, ' ', pad);
  out[10 + hlen - 1] = '\n';
  if (t->nbytes) memcpy(out + 10 + hlen, t->data, t->nbytes);
  return out;
}

/* ---- binding to IR types -------------------------------------------------- */

const char *tensor_type_describe(const IrType *ty, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "%s[", ir_elem_name(ty->elem));
  if (ty->rank < 0) k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "*");
  for (int32_t i = 0; i < ty->rank; i++) {
    const IrDim *dm = &ty->dims[i];
    const char *sep = i ? "x" : "";
    size_t at = k < n ? k : n, room = k < n ? n - k : 0;
    if (dm->size >= 0) k += (size_t)snprintf(buf + at, room, "%s%lld", sep, (long long)dm->size);
    else if (dm->sym) k += (size_t)snprintf(buf + at, room, "%s[%s]", sep, dm->sym);
    else k += (size_t)snprintf(buf + at, room, "%s?", sep);
  }
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

bool tensor_fits_type(const Tensor *t, const IrType *ty, char *why, size_t n) {
  char have[256], want[256];
  bool ok = t->elem == ty->elem && (ty->rank < 0 || ty->rank == t->rank);
  for (int32_t i = 0; ok && ty->rank >= 0 && i < t->rank; i++)
    ok = ty->dims[i].size < 0 || ty->dims[i].size == t->dims[i];
  if (ok) return true;
  tensor_type_describe(ty, want, sizeof want);
  if (t->elem != ty->elem)
    snprintf(why, n, "element type %s, the model expects %s", ir_elem_name(t->elem), want);
  else
    snprintf(why, n, "shape %s does not match the model's %s", tensor_describe(t, have, sizeof have), want);
  return false;
}

/* ---- files --------------------------------------------------------------- */

Tensor *tensor_read_file(const char *path, char **name, Diag *d) {
  if (name) *name = NULL;
  if (tensor_file_format(path) == TENSOR_FILE_PB) return onnx_tensor_read(path, name, d);
  size_t len;
  char *buf = fileio_read_path(path, "tensor file", &len, d, diag_loc(path, 0, 0));
  if (!buf) return NULL;
  Tensor *t = tensor_npy_decode(buf, len, path, d);
  free(buf);
  return t;
}

bool tensor_write_file(const char *path, const Tensor *t, const char *name, TensorFileFormat fmt, Diag *d) {
  size_t len;
  void *buf = fmt == TENSOR_FILE_NPY ? tensor_npy_encode(t, &len, d) : onnx_tensor_encode(t, name, &len, d);
  if (!buf) return false;
  bool ok = outfile_write_all(path, buf, len, "tensor file", d);
  free(buf);
  return ok;
}

Tensor **tensor_read_numbered(const char *dir, const char *prefix, uint32_t *n, char ***paths, Diag *d) {
  Tensor **ts = xcalloc(1, sizeof *ts);
  char **ps = xcalloc(1, sizeof *ps);
  for (*n = 0;; (*n)++) {
    size_t len = strlen(dir) + strlen(prefix) + 32;
    char *path = xmalloc(len);
    snprintf(path, len, "%s/%s_%u.pb", dir, prefix, *n);
    struct stat st;
    if (stat(path, &st) != 0) {
      free(path);
      break;
    }
    ts = xrealloc(ts, (*n + 1) * sizeof *ts);
    ps = xrealloc(ps, (*n + 1) * sizeof *ps);
    ts[*n] = tensor_read_file(path, NULL, d);
    ps[*n] = path;
  }
  if (paths) *paths = ps;
  else tensor_free_numbered(NULL, ps, *n);
  return ts;
}

void tensor_free_numbered(Tensor **ts, char **paths, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (ts) tensor_free(ts[i]);
    if (paths) free(paths[i]);
  }
  free(ts);
  free(paths);
}
