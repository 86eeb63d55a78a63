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

static void outfile_release(OutFile *o) {
  free(o->path);
  free(o->tmp);
  *o = (OutFile){0};
}

bool outfile_open(OutFile *o, const char *path, const char *what, Diag *d) {
  *o = (OutFile){.path = xstrdup(path), .what = what};
  struct stat st;
  int fd;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    o->f = fopen(path, "wb");
  } else {
    size_t n = strlen(path) + 16;
    o->tmp = xmalloc(n);
    snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
    fd = outfile_mkstemp(o->tmp);
    if (fd >= 0 && !(o->f = fdopen(fd, "wb"))) {
      int e = errno;
      close(fd);
      unlink(o->tmp);
      errno = e;
    }
  }
  if (o->f) return true;
  diag_error(d, diag_loc(path, 0, 0), "cannot write %s: %s", what, strerror(errno));
  outfile_release(o);
  return false;
}

bool outfile_commit(OutFile *o, Diag *d) {
  int e = 0;
  if (ferror(o->f)) e = errno ? errno : EIO;
  if (fclose(o->f) != 0 && !e) e = errno ? errno : EIO;
  o->f = NULL;
  if (!e && o->tmp && rename(o->tmp, o->path) != 0) e = errno;
  if (e) {
    diag_error(d, diag_loc(o->path, 0, 0), "cannot write %s: %s", o->what, strerror(e));
    if (o->tmp) unlink(o->tmp);
  }
  outfile_release(o);
  return e == 0;
}

void outfile_abort(OutFile *o) {
  if (o->f) fclose(o->f);
  if (o->tmp) unlink(o->tmp);
  outfile_release(o);
}

bool outfile_write_all(const char *path, const void *buf, size_t len, const char *what, Diag *d) {
  OutFile o;
  if (!outfile_open(&o, path, what, d)) return false;
  if (len && fwrite(buf, 1, len, o.f) != len) {
    diag_error(d, diag_loc(path, 0, 0), "cannot write %s: %s", what, strerror(errno ? errno : EIO));
    outfile_abort(&o);
    return false;
  }
  return outfile_commit(&o, d);
}
