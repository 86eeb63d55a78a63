/* The .qstats side file (docs/calibration.md): calibration statistics as
 * line-oriented text, so a later run can quantize without calibrating
 * again and a person can read the ranges. Floats are written as the
 * shortest decimal that reads back to the same double (numfmt_double), so a
 * write -> read round trip keeps every field exactly; histograms are sparse
 * `bin:count` lists. The writer goes through a temporary renamed into place
 * (no partial file on failure); the reader checks everything and reports
 * PATH:LINE:COL. Tests: test/unit/test_calib.c. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/numfmt.h"
#include "quant/calib.h"
#include "quant/calib_gram.h"
#include "support/arena.h"
#include "support/fileio.h"

/* `gram` sections (calib_gram.h) are optional blocks after the tensor
 * blocks of a version 1 file: files without them read as before. */
#define QSTATS_VERSION 1

/* ---- writing ------------------------------------------------------------- */

static void put_name(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f) fprintf(out, "\\x%02x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

static void put_doubles(FILE *out, const char *key, const double *v, int64_t n) {
  char buf[NUMFMT_BUFSZ];
  fputs(key, out);
  for (int64_t i = 0; i < n; i++) fprintf(out, " %s", numfmt_double(buf, v[i]));
  fputc('\n', out);
}

static void put_bins(FILE *out, const char *key, const uint64_t *h) {
  fputs(key, out);
  for (int i = 0; i < Q_HIST_BINS; i++)
    if (h[i]) fprintf(out, " %d:%llu", i, (unsigned long long)h[i]);
  fputc('\n', out);
}

static void put_tensor(FILE *out, const QTensorStats *ts) {
  char a[NUMFMT_BUFSZ], b[NUMFMT_BUFSZ], c[NUMFMT_BUFSZ];
  fputs("tensor ", out);
  put_name(out, ts->name);
  fprintf(out, "\ncount %lld\nnonfinite %lld\n", (long long)ts->count, (long long)ts->nonfinite);
  fprintf(out, "min %s\nmax %s\nsum %s\n", numfmt_double(a, ts->min), numfmt_double(b, ts->max),
          numfmt_double(c, ts->sum));
  if (ts->ch_axis >= 0) {
    fprintf(out, "channels %d %lld %lld\n", (int)ts->ch_axis, (long long)ts->nch, (long long)ts->ch_count);
    put_doubles(out, "ch_min", ts->ch_min, ts->nch);
    put_doubles(out, "ch_max", ts->ch_max, ts->nch);
    put_doubles(out, "ch_sum", ts->ch_sum, ts->nch);
  }
  fprintf(out, "width %s\n", numfmt_double(a, ts->hist.width));
  put_bins(out, "pos", ts->hist.pos);
  put_bins(out, "neg", ts->hist.neg);
  fputs("end\n", out);
}

/* The upper triangle, one line per row: `h H[i][i] ... H[i][k-1]`. */
static void put_gram(FILE *out, const QGram *g) {
  fputs("gram ", out);
  put_name(out, g->name);
  fprintf(out, "\nk %lld\nlayout %s\ntokens %lld\nskipped %lld\n", (long long)g->k, g->first_dim ? "first" : "last",
          (long long)g->n, (long long)g->skipped);
  for (int64_t i = 0; i < g->k; i++) put_doubles(out, "h", g->h + i * g->k + i, g->k - i);
  fputs("end\n", out);
}

bool q_stats_write_gram(const QStats *s, const QGramSet *g, const char *path, Diag *d) {
  OutFile o;
  if (!outfile_open(&o, path, "the statistics file", d)) return false;
  bool grams = g && g->n > 0;
  fprintf(o.f, "# quench calibration statistics (docs/calibration.md)\nqstats %d\nsamples %lld\n", QSTATS_VERSION,
          (long long)s->samples);
  for (int i = 0; i < s->n; i++) put_tensor(o.f, s->t[i]);
  for (int i = 0; grams && i < g->n; i++) put_gram(o.f, g->g[i]);
  return outfile_commit(&o, d);
}

bool q_stats_write(const QStats *s, const char *path, Diag *d) { return q_stats_write_gram(s, NULL, path, d); }

/* ---- reading ------------------------------------------------------------- */

typedef struct Reader {
  const char *path;
  char *line; /* the current line, NUL-terminated in place */
  char *p;    /* cursor in line */
  char *next; /* start of the following line */
  int lineno;
  Diag *d;
  bool failed;
} Reader;

static void rd_error(Reader *r, const char *fmt, ...) DIAG_PRINTF(2, 3);
static void rd_error(Reader *r, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  int col = r->line && r->p ? (int)(r->p - r->line) + 1 : 1;
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(r->d, DIAG_ERROR, diag_loc(r->path, r->lineno > 0 ? r->lineno : 1, col), fmt, ap);
  va_end(ap);
}

/* Advances to the next line that is neither blank nor a comment; false at
 * the end of the file. */
static bool rd_line(Reader *r) {
  while (r->next && *r->next) {
    r->line = r->next;
    r->lineno++;
    char *nl = strchr(r->line, '\n');
    if (nl) {
      *nl = '\0';
      r->next = nl + 1;
      if (nl > r->line && nl[-1] == '\r') nl[-1] = '\0';
    } else {
      r->next = NULL;
    }
    r->p = r->line;
    while (*r->p == ' ' || *r->p == '\t') r->p++;
    if (*r->p && *r->p != '#') return true;
  }
  r->p = r->line ? r->line + strlen(r->line) : NULL;
  return false;
}

static void skip_space(Reader *r) {
  while (*r->p == ' ' || *r->p == '\t') r->p++;
}

/* The next space-separated word (NUL-terminated in place), or "" at the
 * end of the line. */
static char *rd_word(Reader *r) {
  skip_space(r);
  char *w = r->p;
  while (*r->p && *r->p != ' ' && *r->p != '\t') r->p++;
  if (*r->p) *r->p++ = '\0';
  return w;
}

/* Starts the line with `key`: reads the next line and checks its first word. */
static bool rd_key(Reader *r, const char *key) {
  if (r->failed) return false;
  if (!rd_line(r)) {
    rd_error(r, "unexpected end of file, expected '%s'", key);
    return false;
  }
  char *start = r->p;
  char *w = rd_word(r);
  if (strcmp(w, key) != 0) {
    r->p = start;
    rd_error(r, "expected '%s'", key);
    return false;
  }
  return true;
}

static bool rd_end_of_line(Reader *r) {
  skip_space(r);
  if (r->failed) return false;
  if (*r->p) {
    rd_error(r, "unexpected '%s' at the end of the line", r->p);
    return false;
  }
  return true;
}

static bool rd_int(Reader *r, int64_t lo, int64_t hi, int64_t *out) {
  if (r->failed) return false;
  skip_space(r);
  char *start = r->p, *w = rd_word(r), *end;
  errno = 0;
  long long v = strtoll(w, &end, 10);
  if (!*w || *end || errno || v < lo || v > hi) {
    r->p = start;
    rd_error(r, "expected an integer in range, got '%s'", w);
    return false;
  }
  *out = v;
  return true;
}

static bool rd_double(Reader *r, double *out) {
  if (r->failed) return false;
  skip_space(r);
  char *start = r->p, *w = rd_word(r), *end;
  double v = strtod(w, &end);
  if (!*w || *end) {
    r->p = start;
    rd_error(r, "expected a number, got '%s'", *w ? w : "end of line");
    return false;
  }
  *out = v;
  return true;
}

static bool rd_doubles(Reader *r, const char *key, double *v, int64_t n) {
  if (!rd_key(r, key)) return false;
  for (int64_t i = 0; i < n; i++)
    if (!rd_double(r, &v[i])) return false;
  return rd_end_of_line(r);
}

/* A quoted name with the writer's escapes, malloc'ed. */
static char *rd_name(Reader *r) {
  skip_space(r);
  if (*r->p != '"') {
    rd_error(r, "expected a quoted tensor name");
    return NULL;
  }
  char *out = xmalloc(strlen(r->p) + 1), *o = out;
  for (r->p++; *r->p != '"'; r->p++) {
    if (!*r->p) {
      rd_error(r, "unterminated tensor name");
      free(out);
      return NULL;
    }
    if (*r->p != '\\') {
      *o++ = *r->p;
      continue;
    }
    r->p++;
    if (*r->p == '"' || *r->p == '\\') {
      *o++ = *r->p;
    } else if (*r->p == 'x' && strchr("0123456789abcdefABCDEF", r->p[1]) && r->p[1] &&
               strchr("0123456789abcdefABCDEF", r->p[2]) && r->p[2]) {
      char hex[3] = {r->p[1], r->p[2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      r->p += 2;
    } else {
      rd_error(r, "bad escape in tensor name");
      free(out);
      return NULL;
    }
  }
  r->p++;
  *o = '\0';
  if (!out[0] || strlen(out) != (size_t)(o - out)) {
    rd_error(r, "empty or NUL-holding tensor name");
    free(out);
    return NULL;
  }
  return out;
}

/* `key i:count ...` with strictly increasing bins; *total gets the sum. */
static bool rd_bins(Reader *r, const char *key, uint64_t *h, double *total) {
  if (!rd_key(r, key)) return false;
  int last = -1;
  for (;;) {
    skip_space(r);
    if (!*r->p) return true;
    char *start = r->p, *w = rd_word(r), *colon = strchr(w, ':'), *end;
    bool ok = colon != NULL;
    long bin = 0;
    unsigned long long n = 0;
    if (ok) {
      errno = 0;
      bin = strtol(w, &end, 10);
      ok = end == colon && end != w && !errno && bin > last && bin < Q_HIST_BINS;
    }
    if (ok) {
      errno = 0;
      n = strtoull(colon + 1, &end, 10);
      ok = !*end && end != colon + 1 && colon[1] != '-' && !errno && n > 0;
    }
    if (!ok) {
      r->p = start;
      rd_error(r, "expected BIN:COUNT with bins increasing below %d and a positive count, got '%s'", Q_HIST_BINS, w);
      return false;
    }
    h[bin] = n;
    *total += (double)n;
    last = (int)bin;
  }
}

static QTensorStats *rd_tensor(Reader *r, QStats *s) {
  char *name = rd_name(r);
  if (!name || !rd_end_of_line(r)) {
    free(name);
    return NULL;
  }
  if (q_stats_find(s, name)) {
    rd_error(r, "tensor '%s' appears twice", name);
    free(name);
    return NULL;
  }
  /* The channel layout comes later in the block: create without channels,
   * then attach them. */
  QTensorStats *ts = q_stats_get(s, name, -1, 0);
  free(name);
  int64_t v;
  if (!rd_key(r, "count") || !rd_int(r, 0, INT64_MAX, &ts->count) || !rd_end_of_line(r) ||
      !rd_key(r, "nonfinite") || !rd_int(r, 0, INT64_MAX, &ts->nonfinite) || !rd_end_of_line(r) ||
      !rd_doubles(r, "min", &ts->min, 1) || !rd_doubles(r, "max", &ts->max, 1) || !rd_doubles(r, "sum", &ts->sum, 1))
    return NULL;
  if (!rd_line(r)) {
    rd_error(r, "unexpected end of file, expected 'channels' or 'width'");
    return NULL;
  }
  char *start = r->p, *w = rd_word(r);
  if (strcmp(w, "channels") == 0) {
    int64_t axis, nch;
    if (!rd_int(r, 0, 15, &axis) || !rd_int(r, 1, Q_MAX_CHANNELS, &nch) || !rd_int(r, 0, INT64_MAX, &v) ||
        !rd_end_of_line(r))
      return NULL;
    ts->ch_axis = (int32_t)axis;
    ts->nch = nch;
    ts->ch_count = v;
    ts->ch_min = xmalloc((size_t)nch * sizeof *ts->ch_min);
    ts->ch_max = xmalloc((size_t)nch * sizeof *ts->ch_max);
    ts->ch_sum = xmalloc((size_t)nch * sizeof *ts->ch_sum);
    if (!rd_doubles(r, "ch_min", ts->ch_min, nch) || !rd_doubles(r, "ch_max", ts->ch_max, nch) ||
        !rd_doubles(r, "ch_sum", ts->ch_sum, nch) || !rd_key(r, "width"))
      return NULL;
  } else if (strcmp(w, "width") != 0) {
    r->p = start;
    rd_error(r, "expected 'channels' or 'width'");
    return NULL;
  }
  if (!rd_double(r, &ts->hist.width) || !rd_end_of_line(r)) return NULL;
  if (!(ts->hist.width >= 0) || !isfinite(ts->hist.width)) {
    rd_error(r, "the histogram width must be finite and non-negative");
    return NULL;
  }
  double total = 0;
  if (!rd_bins(r, "pos", ts->hist.pos, &total) || !rd_bins(r, "neg", ts->hist.neg, &total)) return NULL;
  if (total != (double)ts->count) {
    rd_error(r, "the histogram holds %.0f values but count is %lld", total, (long long)ts->count);
    return NULL;
  }
  if (!rd_key(r, "end") || !rd_end_of_line(r)) return NULL;
  return ts;
}

/* A `gram` block after its name line; into g unless g is NULL. */
static bool rd_gram(Reader *r, QGramSet *g) {
  char *name = rd_name(r);
  if (!name || !rd_end_of_line(r)) {
    free(name);
    return false;
  }
  QGramSet tmp;
  q_gram_set_init(&tmp);
  QGramSet *into = g ? g : &tmp;
  bool ok = false;
  int64_t k = 0, n = 0, skipped = 0;
  if (q_gram_find(into, name)) {
    rd_error(r, "Gram matrix '%s' appears twice", name);
    goto out;
  }
  if (!rd_key(r, "k") || !rd_int(r, 1, Q_GRAM_MAX_K, &k) || !rd_end_of_line(r) || !rd_key(r, "layout")) goto out;
  char *start = r->p, *w = rd_word(r);
  if (strcmp(w, "first") != 0 && strcmp(w, "last") != 0) {
    r->p = start;
    rd_error(r, "expected 'first' or 'last'");
    goto out;
  }
  bool first = w[0] == 'f';
  if (!rd_end_of_line(r) || !rd_key(r, "tokens") || !rd_int(r, 0, INT64_MAX, &n) || !rd_end_of_line(r) ||
      !rd_key(r, "skipped") || !rd_int(r, 0, INT64_MAX, &skipped) || !rd_end_of_line(r))
    goto out;
  QGram *e = q_gram_get(into, name, k, first);
  e->n = n, e->skipped = skipped;
  for (int64_t i = 0; i < k; i++) {
    double *row = e->h + i * k;
    if (!rd_doubles(r, "h", row + i, k - i)) goto out;
    for (int64_t j = i; j < k; j++) {
      if (!isfinite(row[j])) {
        rd_error(r, "the Gram matrix must be finite");
        goto out;
      }
      e->h[j * k + i] = row[j];
    }
  }
  ok = rd_key(r, "end") && rd_end_of_line(r);
out:
  free(name);
  q_gram_set_free(&tmp);
  return ok;
}

bool q_stats_read_gram(QStats *s, QGramSet *g, const char *path, Diag *d) {
  size_t len;
  char *text = fileio_read_path(path, "statistics file", &len, d, diag_loc(path, 0, 0));
  if (!text) return false;
  Reader r = {.path = path, .next = text, .d = d};
  int64_t version = 0;
  if (memchr(text, '\0', len)) {
    r.lineno = 1;
    rd_error(&r, "not a text file");
  } else if (rd_key(&r, "qstats") && rd_int(&r, 1, INT64_MAX, &version) && rd_end_of_line(&r) &&
             version != QSTATS_VERSION) {
    rd_error(&r, "unsupported .qstats version %lld (this quench reads version %d)", (long long)version,
             QSTATS_VERSION);
  }
  if (rd_key(&r, "samples") && rd_int(&r, 0, INT64_MAX, &s->samples)) rd_end_of_line(&r);
  while (!r.failed && rd_line(&r)) {
    char *start = r.p, *w = rd_word(&r);
    if (strcmp(w, "gram") == 0) {
      if (!rd_gram(&r, g)) break;
      continue;
    }
    if (strcmp(w, "tensor") != 0) {
      r.p = start;
      rd_error(&r, "expected 'tensor' or 'gram'");
      break;
    }
    if (!rd_tensor(&r, s)) break;
  }
  free(text);
  if (r.failed) {
    q_stats_free(s);
    if (g) q_gram_set_free(g);
  }
  return !r.failed;
}

bool q_stats_read(QStats *s, const char *path, Diag *d) { return q_stats_read_gram(s, NULL, path, d); }
