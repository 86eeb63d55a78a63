/* File reading and writing shared by the parser, the ONNX importer, the
 * weights file and the tools. Output files are written to a temporary beside
 * the target and renamed into place only when complete, so a failure never
 * leaves a partial file. */
#ifndef QUENCH_SUPPORT_FILEIO_H
#define QUENCH_SUPPORT_FILEIO_H

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

#endif
