/* File reading and writing shared by the parser, the ONNX importer, the
 * weights file and the tools. Output files are written to a temporary beside
 * the target and renamed into place only when complete, so a failure never
 * leaves a partial file. */
#ifndef QUENCH_SUPPORT_FILEIO_H
#define QUENCH_SUPPORT_FILEIO_H

#include <stdbool.h>
#include <stdio.h>

#include "support/diag.h"

/* Reads f to end of file into a malloc'd buffer with a NUL after the last
 * byte (not counted in *len). Returns NULL on a read error (errno is set). */
char *fileio_read_stream(FILE *f, size_t *len);

/* Opens and reads `path`. On failure reports "cannot open WHAT 'PATH': why"
 * or "cannot read WHAT 'PATH': why" at loc and returns NULL. */
char *fileio_read_path(const char *path, const char *what, size_t *len, Diag *d, DiagLoc loc);

/* mkstemp(tmpl), then the permissions an ordinary fopen would have given
 * (0666 less the umask) rather than mkstemp's 0600. Returns the fd or -1. */
int outfile_mkstemp(char *tmpl);

/* An output file written atomically: into a temporary beside the target,
 * renamed into place by outfile_commit, so a failure never leaves a partial
 * file. A target that exists and is not a regular file (/dev/null,
 * /dev/stdout, a FIFO) is written directly: renaming over it would replace
 * the device node (as root, /dev/null itself). Every tool writes through
 * this; `what` names the file in messages ("weights file"). */
typedef struct OutFile {
  FILE *f;
  char *path;
  char *tmp; /* NULL when written directly */
  const char *what;
} OutFile;

/* Opens `path` for writing (binary). On failure reports "PATH: error:
 * cannot write WHAT: why" and returns false with nothing left behind. */
bool outfile_open(OutFile *o, const char *path, const char *what, Diag *d);
/* Flushes, closes and renames into place. On failure reports, removes the
 * temporary and returns false. Either way o is released. */
bool outfile_commit(OutFile *o, Diag *d);
/* Closes and removes the temporary (a failed write); o is released. */
void outfile_abort(OutFile *o);
/* outfile_open + one write of len bytes + outfile_commit. */
bool outfile_write_all(const char *path, const void *buf, size_t len, const char *what, Diag *d);

#endif
