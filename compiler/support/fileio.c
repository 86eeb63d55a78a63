#include "support/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/arena.h"

char *fileio_read_stream(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
    size_t r = fread(buf + n, 1, cap - 1 - n, f);
    if (r == 0) break;
    n += r;
  }
  if (ferror(f)) {
    int e = errno ? errno : EIO;
    free(buf);
    errno = e;
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

char *fileio_read_path(const char *path, const char *what, size_t *len, Diag *d, DiagLoc loc) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    diag_error(d, loc, "cannot open %s '%s': %s", what, path, strerror(errno));
    return NULL;
  }
  char *buf = fileio_read_stream(f, len);
  int e = errno;
  fclose(f);
  if (!buf) diag_error(d, loc, "cannot read %s '%s': %s", what, path, strerror(e));
  return buf;
}

int outfile_mkstemp(char *tmpl) {
  int fd = mkstemp(tmpl);
  if (fd < 0) return -1;
  mode_t mask = umask(0);
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) != 0) {
    close(fd);
    unlink(tmpl);
    return -1;
  }
  return fd;
}
