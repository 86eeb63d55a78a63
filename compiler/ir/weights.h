/* The weights file next to a .qir file (docs/ir.md, "Constants"): a 16-byte
 * header "QNCHWTS1" u32 version u32 0, then blobs at 64-byte aligned offsets.
 * One reader and one writer, used by the printer and the parser. */
#ifndef QUENCH_IR_WEIGHTS_H
#define QUENCH_IR_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "support/diag.h"

#define WEIGHTS_MAGIC "QNCHWTS1"
#define WEIGHTS_VERSION 1u
#define WEIGHTS_HEADER_SIZE 16u
#define WEIGHTS_ALIGN 64u

typedef struct WeightsWriter WeightsWriter;

/* Opens `path` for writing through a temporary file; nothing appears at
 * `path` until weights_writer_commit. `ref_name` is the name printed in
 * external<"..."> (normally the file name relative to the .qir folder). */
WeightsWriter *weights_writer_open(const char *path, const char *ref_name, Diag *d);
const char *weights_writer_ref_name(const WeightsWriter *w);
/* Appends a blob; returns its offset, or -1 on a write error (reported). */
int64_t weights_writer_add(WeightsWriter *w, const void *data, size_t n);
/* Renames the temporary into place. Returns false on error (reported). */
bool weights_writer_commit(WeightsWriter *w);
/* Removes the temporary; for error paths. */
void weights_writer_abort(WeightsWriter *w);
void weights_writer_free(WeightsWriter *w);

/* A read-only weights file loaded whole. */
typedef struct WeightsFile {
  char *path;
  unsigned char *data;
  size_t size;
} WeightsFile;

/* Loads and checks the header; on error reports at `loc` and returns NULL. */
WeightsFile *weights_file_load(const char *path, Diag *d, DiagLoc loc);
/* Checks that [offset, offset+n) lies in the file past the header. */
const void *weights_file_slice(const WeightsFile *f, int64_t offset, int64_t n);
void weights_file_free(WeightsFile *f);

#endif
