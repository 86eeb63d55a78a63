/* The weights file (docs/ir.md, "Constants"): a 16-byte header, then blobs
 * at 64-byte aligned offsets. The writer goes through an OutFile
 * (support/fileio.h: a temporary renamed into place) and leaves nothing
 * behind on error; the reader loads the file whole and bounds-checks every
 * slice. */
#include "ir/weights.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/arena.h"
#include "support/fileio.h"

struct WeightsWriter {
  char *path, *ref_name;
  OutFile out;
  FILE *f;       /* out.f while open */
  uint64_t size; /* bytes written so far */
  bool done;     /* committed or aborted: the temporary is gone */
  Diag *diag;
};

static void put_u32le(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static DiagLoc path_loc(const char *path) { return diag_loc(path, 0, 0); }

WeightsWriter *weights_writer_open(const char *path, const char *ref_name, Diag *d) {
  WeightsWriter *w = xcalloc(1, sizeof *w);
  w->path = xstrdup(path);
  w->ref_name = xstrdup(ref_name);
  w->diag = d;
  if (!outfile_open(&w->out, path, "weights file", d)) {
    w->done = true;
    weights_writer_free(w);
    return NULL;
  }
  w->f = w->out.f;
  unsigned char hdr[WEIGHTS_HEADER_SIZE];
  memcpy(hdr, WEIGHTS_MAGIC, 8);
  put_u32le(hdr + 8, WEIGHTS_VERSION);
  put_u32le(hdr + 12, 0);
  if (fwrite(hdr, 1, sizeof hdr, w->f) != sizeof hdr) {
    diag_error(d, path_loc(path), "cannot write weights file: %s", strerror(errno));
    weights_writer_abort(w);
    weights_writer_free(w);
    return NULL;
  }
  w->size = sizeof hdr;
  return w;
}

const char *weights_writer_ref_name(const WeightsWriter *w) { return w->ref_name; }

int64_t weights_writer_add(WeightsWriter *w, const void *data, size_t n) {
  static const unsigned char zeros[WEIGHTS_ALIGN];
  if (w->done || !w->f) return -1;
  uint64_t off = (w->size + WEIGHTS_ALIGN - 1) / WEIGHTS_ALIGN * WEIGHTS_ALIGN;
  size_t pad = (size_t)(off - w->size);
  if ((pad && fwrite(zeros, 1, pad, w->f) != pad) || (n && fwrite(data, 1, n, w->f) != n)) {
    diag_error(w->diag, path_loc(w->path), "cannot write weights file: %s", strerror(errno));
    return -1;
  }
  w->size = off + n;
  return (int64_t)off;
}

bool weights_writer_commit(WeightsWriter *w) {
  if (w->done) return false;
  w->done = true;
  w->f = NULL;
  return outfile_commit(&w->out, w->diag);
}

void weights_writer_abort(WeightsWriter *w) {
  if (w->done) return;
  outfile_abort(&w->out);
  w->f = NULL;
  w->done = true;
}

void weights_writer_free(WeightsWriter *w) {
  if (!w) return;
  weights_writer_abort(w); /* a writer freed without commit leaves nothing */
  free(w->path);
  free(w->ref_name);
  free(w);
}

/* ---- reader --------------------------------------------------------- */

WeightsFile *weights_file_load(const char *path, Diag *d, DiagLoc loc) {
  size_t n;
  unsigned char *buf = (unsigned char *)fileio_read_path(path, "weights file", &n, d, loc);
  if (!buf) return NULL;
  char why[64] = "";
  if (n < WEIGHTS_HEADER_SIZE)
    snprintf(why, sizeof why, "file too short for the header");
  else if (memcmp(buf, WEIGHTS_MAGIC, 8) != 0)
    snprintf(why, sizeof why, "bad magic (expected %s)", WEIGHTS_MAGIC);
  else if (get_u32le(buf + 8) != WEIGHTS_VERSION)
    snprintf(why, sizeof why, "unsupported version %u", (unsigned)get_u32le(buf + 8));
  else if (get_u32le(buf + 12) != 0)
    snprintf(why, sizeof why, "reserved header field is not 0");
  if (why[0]) {
    diag_error(d, loc, "invalid weights file '%s': %s", path, why);
    free(buf);
    return NULL;
  }
  WeightsFile *w = xcalloc(1, sizeof *w);
  w->path = xstrdup(path);
  w->data = buf;
  w->size = n;
  return w;
}

const void *weights_file_slice(const WeightsFile *f, int64_t offset, int64_t n) {
  if (offset < (int64_t)WEIGHTS_HEADER_SIZE || n < 0) return NULL;
  /* offset <= size first, so size - offset cannot wrap. */
  if ((uint64_t)offset > f->size || (uint64_t)n > f->size - (uint64_t)offset) return NULL;
  return f->data + offset;
}

void weights_file_free(WeightsFile *f) {
  if (!f) return;
  free(f->data);
  free(f->path);
  free(f);
}
