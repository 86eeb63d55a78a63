/* Calibration and evaluation samples (calib_data.h): which files in a data
 * folder make up each sample, in natural name order (test_data_set_2 before
 * test_data_set_10), and loading one sample's tensors checked against the
 * function's argument types. Nothing is read until a sample is loaded, so
 * listing a folder of thousands of samples costs only their paths. The
 * layouts are documented in docs/calibration.md; tests are the lit tests
 * test/lit/quant/calibrate*.qir. */
#include "quant/calib_data.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interp/tensor_io.h"
#include "support/arena.h"

/* Natural order: runs of digits compare by value, the rest bytewise. */
static int natural_cmp(const char *a, const char *b) {
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (*a == '0' && isdigit((unsigned char)a[1])) a++;
      while (*b == '0' && isdigit((unsigned char)b[1])) b++;
      size_t na = 0, nb = 0;
      while (isdigit((unsigned char)a[na])) na++;
      while (isdigit((unsigned char)b[nb])) nb++;
      if (na != nb) return na < nb ? -1 : 1;
      int c = strncmp(a, b, na);
      if (c) return c;
      a += na;
      b += nb;
    } else {
      if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
      a++;
      b++;
    }
  }
  return *a ? 1 : *b ? -1 : 0;
}

static int cmp_paths(const void *x, const void *y) {
  const char *a = *(const char *const *)x, *b = *(const char *const *)y;
  int c = natural_cmp(a, b);
  return c ? c : strcmp(a, b);
}

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *s = xmalloc(n);
  snprintf(s, n, "%s/%s", dir, name);
  return s;
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool tensor_file_name(const char *name) {
  size_t n = strlen(name);
  return (n > 3 && strcmp(name + n - 3, ".pb") == 0) || (n > 4 && strcmp(name + n - 4, ".npy") == 0);
}

/* A name usable as a file name: not empty, no '/', not "." or "..". */
static bool plain_name(const char *s) {
  return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* The file holding argument k in sample folder `dir`, malloc'ed, or NULL:
 * input_K.pb, input_K.npy, NAME.pb, NAME.npy, the first that exists. */
static char *find_input(const char *dir, const IrFunc *f, uint32_t k) {
  char buf[64];
  const char *name = f->body->args[k]->name;
  for (int i = 0; i < 4; i++) {
    if (i < 2) snprintf(buf, sizeof buf, "input_%u%s", k, i == 0 ? ".pb" : ".npy");
    else if (!plain_name(name)) break;
    char *p;
    if (i < 2) {
      p = join(dir, buf);
    } else {
      size_t n = strlen(name) + 8;
      char *file = xmalloc(n);
      snprintf(file, n, "%s%s", name, i == 2 ? ".pb" : ".npy");
      p = join(dir, file);
      free(file);
    }
    if (is_file(p)) return p;
    free(p);
  }
  return NULL;
}

static void add_path(QSampleSet *s, int *cap, char *p) {
  if (s->n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    s->paths = xrealloc(s->paths, (size_t)*cap * sizeof *s->paths);
  }
  s->paths[s->n++] = p;
}

bool q_samples_find(const char *dir, const IrFunc *f, QSampleSet *s, Diag *d) {
  memset(s, 0, sizeof *s);
  DiagLoc loc = diag_loc(dir, 0, 0);
  DIR *dh = opendir(dir);
  if (!dh) {
    diag_error(d, loc, "cannot read the calibration data folder: %s", strerror(errno));
    return false;
  }
  s->dir = xstrdup(dir);
  uint32_t nargs = f->body->nargs;
  /* DIR itself holds the inputs: one sample. */
  char *first = nargs ? find_input(dir, f, 0) : NULL;
  int cap = 0;
  if (first) {
    free(first);
    add_path(s, &cap, xstrdup(dir));
    closedir(dh);
    return true;
  }
  char **files = NULL;
  int nfiles = 0, fcap = 0;
  struct dirent *e;
  while ((e = readdir(dh))) {
    if (e->d_name[0] == '.') continue;
    char *p = join(dir, e->d_name);
    if (is_dir(p)) {
      add_path(s, &cap, p);
    } else if (tensor_file_name(e->d_name) && is_file(p)) {
      if (nfiles == fcap) {
        fcap = fcap ? fcap * 2 : 64;
        files = xrealloc(files, (size_t)fcap * sizeof *files);
      }
      files[nfiles++] = p;
    } else {
      free(p);
    }
  }
  closedir(dh);
  if (s->n == 0 && nargs == 1 && nfiles > 0) {
    /* One input: every tensor file is a sample. */
    free(s->paths);
    s->paths = files;
    s->n = nfiles;
    s->files = true;
    files = NULL;
    nfiles = 0;
  }
  for (int i = 0; i < nfiles; i++) free(files[i]);
  free(files);
  if (s->n == 0) {
    if (nargs == 1)
      diag_error(d, loc, "no calibration sample here: expected sample folders, input_0.pb/.npy, or .pb/.npy files "
                         "(docs/calibration.md)");
    else
      diag_error(d, loc, "no calibration sample here: expected sample folders holding input_K.pb/.npy files for "
                         "the model's %u inputs (docs/calibration.md)", nargs);
    q_samples_free(s);
    return false;
  }
  qsort(s->paths, (size_t)s->n, sizeof *s->paths, cmp_paths);
  return true;
}

void q_samples_free(QSampleSet *s) {
  for (int i = 0; i < s->n; i++) free(s->paths[i]);
  free(s->paths);
  free(s->dir);
  memset(s, 0, sizeof *s);
}

bool q_sample_load(const QSampleSet *s, int i, const IrFunc *f, Tensor **inputs, Diag *d) {
  uint32_t nargs = f->body->nargs;
  for (uint32_t k = 0; k < nargs; k++) inputs[k] = NULL;
  const char *sample = s->paths[i];
  for (uint32_t k = 0; k < nargs; k++) {
    const IrValue *arg = f->body->args[k];
    const char *name = arg->name ? arg->name : "?";
    char *path = s->files ? xstrdup(sample) : find_input(sample, f, k);
    if (!path) {
      if (plain_name(arg->name))
        diag_error(d, diag_loc(sample, 0, 0),
                   "no file for input '%s' (looked for input_%u.pb, input_%u.npy, %s.pb, %s.npy)", name, k, k, name,
                   name);
      else
        diag_error(d, diag_loc(sample, 0, 0), "no file for input '%s' (looked for input_%u.pb, input_%u.npy)", name,
                   k, k);
      goto fail;
    }
    Tensor *t = tensor_read_file(path, NULL, d);
    if (!t) {
      free(path);
      goto fail;
    }
    char why[256];
    if (!tensor_fits_type(t, arg->type, why, sizeof why)) {
      char want[128], got[128];
      diag_error(d, diag_loc(path, 0, 0), "input '%s' expects %s, got %s", name,
                 tensor_type_describe(arg->type, want, sizeof want), tensor_describe(t, got, sizeof got));
      tensor_free(t);
      free(path);
      goto fail;
    }
    free(path);
    inputs[k] = t;
  }
  return true;
fail:
  for (uint32_t k = 0; k < nargs; k++) {
    tensor_free(inputs[k]);
    inputs[k] = NULL;
  }
  return false;
}
