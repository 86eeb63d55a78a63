/* .npy and TensorProto .pb tensor files for the generated drivers (see
 * qrt_io.h). Little-endian hosts only, which every quench target is. */
#include "qrt_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t qrt_info_numel(const qrt_tensor_info *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

double qrt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *npy_descr(qrt_elem e) {
  switch (e) {
  case QRT_F32: return "<f4";
  case QRT_U8: return "|u1";
  case QRT_S8: return "|i1";
  case QRT_I32: return "<i4";
  case QRT_I64: return "<i8";
  default: return "|b1";
  }
}

static unsigned char *read_file(const char *path, size_t *n, char *err, size_t errn) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errn, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *b = malloc(cap);
  for (size_t k; b && (k = fread(b + len, 1, cap - len, f)) > 0;) {
    len += k;
    if (len == cap) {
      unsigned char *nb = realloc(b, cap *= 2);
      if (!nb) free(b);
      b = nb;
    }
  }
  fclose(f);
  if (!b) snprintf(err, errn, "%s: out of memory", path);
  *n = len;
  return b;
}

/* Element count of the file's data must equal want's; the types must match. */
static int check(const char *path, const qrt_tensor_info *want, qrt_elem e, int64_t numel, char *err, size_t errn) {
  if (e != want->elem) {
    snprintf(err, errn, "%s: element type %s, but input '%s' is %s", path, npy_descr(e), want->name,
             npy_descr(want->elem));
    return -1;
  }
  if (numel != qrt_info_numel(want)) {
    snprintf(err, errn, "%s: %lld elements, but input '%s' has %lld", path, (long long)numel, want->name,
             (long long)qrt_info_numel(want));
    return -1;
  }
  return 0;
}

static int load_npy(const char *path, const unsigned char *b, size_t n, const qrt_tensor_info *want, void *dst,
                    char *err, size_t errn) {
  if (n < 10 || b[6] < 1 || b[6] > 3) {
    snprintf(err, errn, "%s: not a .npy file (version)", path);
    return -1;
  }
  size_t hl = b[6] == 1 ? (size_t)(b[8] | b[9] << 8) : 12 <= n ? (size_t)(b[8] | b[9] << 8 | b[10] << 16 | (size_t)b[11] << 24) : n;
  size_t start = (b[6] == 1 ? 10 : 12) + hl;
  if (start > n) {
    snprintf(err, errn, "%s: truncated .npy header", path);
    return -1;
  }
  char hdr[1024];
  size_t hn = hl < sizeof hdr - 1 ? hl : sizeof hdr - 1;
  memcpy(hdr, b + (b[6] == 1 ? 10 : 12), hn);
  hdr[hn] = 0;
  if (strstr(hdr, "'fortran_order': True")) {
    snprintf(err, errn, "%s: Fortran-ordered arrays are not read", path);
    return -1;
  }
  const char *d = strstr(hdr, "'descr':");
  qrt_elem e = (qrt_elem)-1;
  const qrt_elem all[] = {QRT_F32, QRT_U8, QRT_S8, QRT_I32, QRT_I64, QRT_BOOL};
  for (int i = 0; d && i < 6; i++)
    if (strstr(d, npy_descr(all[i])) && strstr(d, npy_descr(all[i])) < d + 16) e = all[i];
  if ((int)e < 0) {
    snprintf(err, errn, "%s: unsupported dtype in header %s", path, hdr);
    return -1;
  }
  const char *s = strstr(hdr, "'shape':");
  int64_t numel = 1;
  if (!s || !(s = strchr(s, '('))) {
    snprintf(err, errn, "%s: no shape in header", path);
    return -1;
  }
  for (s++; *s && *s != ')';) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s) {
      s++;
      continue;
    }
    numel *= v;
    s = end;
  }
  if (check(path, want, e, numel, err, errn)) return -1;
  size_t bytes = (size_t)numel * qrt_elem_size(e);
  if (start + bytes > n) {
    snprintf(err, errn, "%s: truncated data", path);
    return -1;
  }
  memcpy(dst, b + start, bytes);
  return 0;
}

static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  *v = 0;
  for (int sh = 0; *p < end && sh < 64; sh += 7) {
    unsigned char c = *(*p)++;
    *v |= (uint64_t)(c & 0x7f) << sh;
    if (!(c & 0x80)) return 0;
  }
  return -1;
}

/* ONNX TensorProto: dims (1), data_type (2), float_data (4), int32_data
 * (5), int64_data (7), raw_data (9); other fields are skipped. */
static int load_pb(const char *path, const unsigned char *b, size_t n, const qrt_tensor_info *want, void *dst,
                   char *err, size_t errn) {
  const unsigned char *p = b, *end = b + n, *raw = NULL, *typed = NULL;
  size_t raw_n = 0, typed_n = 0;
  int typed_field = 0;
  int64_t numel = 1;
  uint64_t dtype = 0;
  while (p < end) {
    uint64_t key, v;
    if (varint(&p, end, &key)) goto bad;
    int field = (int)(key >> 3), wt = (int)(key & 7);
    if (wt == 0) {
      if (varint(&p, end, &v)) goto bad;
      if (field == 1) numel *= (int64_t)v;
      if (field == 2) dtype = v;
    } else if (wt == 2) {
      if (varint(&p, end, &v) || v > (uint64_t)(end - p)) goto bad;
      if (field == 1) {
        const unsigned char *q = p;
        while (q < p + v) {
          uint64_t dv;
          if (varint(&q, p + v, &dv)) goto bad;
          numel *= (int64_t)dv;
        }
      } else if (field == 9) {
        raw = p, raw_n = (size_t)v;
      } else if (field == 4 || field == 5 || field == 7) {
        typed = p, typed_n = (size_t)v, typed_field = field;
      }
      p += v;
    } else if (wt == 5) {
      if (end - p < 4) goto bad;
      p += 4;
    } else if (wt == 1) {
      if (end - p < 8) goto bad;
      p += 8;
    } else {
      goto bad;
    }
  }
  qrt_elem e;
  switch (dtype) {
  case 1: e = QRT_F32; break;
  case 2: e = QRT_U8; break;
  case 3: e = QRT_S8; break;
  case 6: e = QRT_I32; break;
  case 7: e = QRT_I64; break;
  case 9: e = QRT_BOOL; break;
  default: snprintf(err, errn, "%s: TensorProto data_type %llu is not read", path, (unsigned long long)dtype); return -1;
  }
  if (check(path, want, e, numel, err, errn)) return -1;
  size_t es = qrt_elem_size(e), bytes = (size_t)numel * es;
  if (raw) {
    if (raw_n != bytes) {
      snprintf(err, errn, "%s: raw_data holds %zu bytes, the dims need %zu", path, raw_n, bytes);
      return -1;
    }
    memcpy(dst, raw, bytes);
    return 0;
  }
  if (typed_field == 4) {
    if (typed_n != bytes || e != QRT_F32) goto bad;
    memcpy(dst, typed, bytes);
    return 0;
  }
  const unsigned char *q = typed, *qe = typed ? typed + typed_n : NULL;
  for (int64_t i = 0; i < numel; i++) {
    uint64_t v;
    if (!q || varint(&q, qe, &v)) goto bad;
    int64_t s = (int64_t)v;
    switch (e) {
    case QRT_U8: case QRT_BOOL: ((uint8_t *)dst)[i] = (uint8_t)s; break;
    case QRT_S8: ((int8_t *)dst)[i] = (int8_t)s; break;
    case QRT_I32: ((int32_t *)dst)[i] = (int32_t)s; break;
    case QRT_I64: ((int64_t *)dst)[i] = s; break;
    default: goto bad;
    }
  }
  (void)typed_field;
  return 0;
bad:
  snprintf(err, errn, "%s: malformed TensorProto", path);
  return -1;
}

int qrt_load_tensor(const char *path, const qrt_tensor_info *want, void *dst, char *err, size_t errn) {
  size_t n;
  unsigned char *b = read_file(path, &n, err, errn);
  if (!b) return -1;
  int rc = n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0 ? load_npy(path, b, n, want, dst, err, errn)
                                                    : load_pb(path, b, n, want, dst, err, errn);
  free(b);
  return rc;
}

int qrt_save_npy(const char *path, const qrt_tensor_info *t, const void *data) {
  char hdr[256];
  int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", npy_descr(t->elem));
  for (int i = 0; i < t->rank; i++) k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%lld,%s", (long long)t->dims[i], i + 1 < t->rank ? " " : "");
  k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
  /* pad with spaces so the data starts on a 64-byte boundary, end with \n */
  int total = 10 + k + 1;
  int pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  int hl = k + pad + 1;
  pre[8] = (unsigned char)(hl & 0xff);
  pre[9] = (unsigned char)(hl >> 8);
  size_t bytes = (size_t)qrt_info_numel(t) * qrt_elem_size(t->elem);
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)k, f) == (size_t)k;
  for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF && fwrite(data, 1, bytes, f) == bytes;
  if (fclose(f) != 0) ok = 0;
  if (!ok) remove(path);
  return ok ? 0 : -1;
}
