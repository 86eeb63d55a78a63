/* The generated drivers' main (qrt_main.h): loads inputs and weights,
 * runs the model, writes outputs, times runs. Allocation happens here,
 * before the first inference; the inference itself allocates nothing. */
#include "qrt_main.h"
#include "qrt_prof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int usage(const qrt_model_desc *m) {
  fprintf(stderr,
          "usage: %s_main [--threads T] [--bench N] [--profile] [--out DIR] [--weights FILE] INPUT...\n"
          "  INPUT: .npy or TensorProto .pb, one per input in order (%d), or a test_data_set folder\n",
          m->name, m->ninputs);
  return 2;
}

static void *alloc64(size_t n) {
  void *p = NULL;
  n = (n + 63) / 64 * 64;
  if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
  memset(p, 0, n ? n : 64);
  return p;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int qrt_main(const qrt_model_desc *m, int argc, char **argv) {
  int threads = 1, bench = 0, nfiles = 0, profile = 0;
  const char *outdir = ".", *wfile = m->weights_file;
  const char *files[64];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "--threads") || !strcmp(a, "--bench") || !strcmp(a, "--out") || !strcmp(a, "--weights")) &&
        i + 1 >= argc)
      return usage(m);
    if (!strcmp(a, "--threads")) threads = atoi(argv[++i]);
    else if (!strcmp(a, "--bench")) bench = atoi(argv[++i]);
    else if (!strcmp(a, "--out")) outdir = argv[++i];
    else if (!strcmp(a, "--weights")) wfile = argv[++i];
    else if (!strcmp(a, "--profile")) profile = 1;
    else if (a[0] == '-') return usage(m);
    else if (nfiles < 64) files[nfiles++] = a;
  }
  if (threads < 1 || bench < 0) return usage(m);
  /* A folder stands for its input_K.pb files. */
  static char paths[64][4096];
  struct stat st;
  if (nfiles == 1 && stat(files[0], &st) == 0 && S_ISDIR(st.st_mode)) {
    const char *dir = files[0];
    nfiles = 0;
    for (int k = 0; k < m->ninputs && k < 64; k++) {
      snprintf(paths[k], sizeof paths[k], "%s/input_%d.pb", dir, k);
      files[nfiles++] = paths[k];
    }
  }
  if (nfiles != m->ninputs) {
    fprintf(stderr, "%s_main: %d input files given, the model has %d inputs\n", m->name, nfiles, m->ninputs);
    return 2;
  }
  int rc = 1;
  void *in[64] = {0}, *out[64] = {0}, *arena = alloc64(m->arena_bytes), *wbuf = NULL;
  const void *weights = m->weights;
  qrt_pool *pool = NULL;
  char err[512];
  if (!weights) {
    /* The default weights file sits beside the driver. */
    static char wpath[4096];
    const char *slash = strrchr(argv[0], '/');
    if (wfile == m->weights_file && slash && (size_t)(slash - argv[0]) + strlen(wfile) + 2 < sizeof wpath) {
      snprintf(wpath, sizeof wpath, "%.*s/%s", (int)(slash - argv[0]), argv[0], wfile);
      wfile = wpath;
    }
    FILE *f = fopen(wfile, "rb");
    wbuf = alloc64(m->weights_bytes);
    if (!f || !wbuf || fread(wbuf, 1, m->weights_bytes, f) != m->weights_bytes) {
      fprintf(stderr, "%s_main: cannot read %zu bytes of weights from %s\n", m->name, m->weights_bytes, wfile);
      if (f) fclose(f);
      goto done;
    }
    fclose(f);
    weights = wbuf;
  }
  for (int k = 0; k < m->ninputs; k++) {
    in[k] = alloc64((size_t)qrt_info_numel(&m->inputs[k]) * qrt_elem_size(m->inputs[k].elem));
    if (!in[k] || qrt_load_tensor(files[k], &m->inputs[k], in[k], err, sizeof err)) {
      fprintf(stderr, "%s_main: %s\n", m->name, in[k] ? err : "out of memory");
      goto done;
    }
  }
  for (int k = 0; k < m->noutputs; k++)
    if (!(out[k] = alloc64((size_t)qrt_info_numel(&m->outputs[k]) * qrt_elem_size(m->outputs[k].elem)))) goto done;
  if (!arena) goto done;
  if (threads > 1 && !(pool = qrt_pool_create(threads))) {
    fprintf(stderr, "%s_main: cannot start %d threads\n", m->name, threads);
    goto done;
  }
  if (m->run(weights, arena, pool, (const void *const *)in, out)) goto done;
  if (bench > 0) {
    double *t = malloc((size_t)bench * sizeof *t);
    if (!t) goto done;
    for (int r = 0; r < bench; r++) {
      double t0 = qrt_now();
      m->run(weights, arena, pool, (const void *const *)in, out);
      t[r] = (qrt_now() - t0) * 1e3;
    }
    qsort(t, (size_t)bench, sizeof *t, cmp_double);
    double med = bench % 2 ? t[bench / 2] : (t[bench / 2 - 1] + t[bench / 2]) / 2;
    printf("%s: %d runs, %d thread%s: median %.3f ms, best %.3f ms\n", m->name, bench, threads, threads > 1 ? "s" : "",
           med, t[0]);
    free(t);
  }
  if (profile && qrt_prof_report(stdout, bench + 1) != 0)
    fprintf(stderr, "%s_main: no profile recorded: rebuild with make OPT=\"-O3 -DQRT_PROFILE\"\n", m->name);
  for (int k = 0; k < m->noutputs; k++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/output_%d.npy", outdir, k);
    if (qrt_save_npy(p, &m->outputs[k], out[k])) {
      fprintf(stderr, "%s_main: cannot write %s: %s\n", m->name, p, strerror(errno));
      goto done;
    }
  }
  rc = 0;
done:
  for (int k = 0; k < 64; k++) free(in[k]), free(out[k]);
  free(arena);
  free(wbuf);
  if (pool) qrt_pool_destroy(pool);
  return rc;
}
