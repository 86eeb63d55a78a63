#include "support/diag.h"

#include <string.h>

void diag_init(Diag *d, FILE *out) {
  memset(d, 0, sizeof *d);
  d->out = out;
}

void diag_add_source(Diag *d, const char *path, const char *text, size_t len, int line_offset) {
  for (int i = 0; i < d->nsources; i++) {
    if (strcmp(d->sources[i].path, path) == 0) {
      d->sources[i] = (DiagSource){path, text, len, line_offset};
      return;
    }
  }
  if (d->nsources < DIAG_MAX_SOURCES) d->sources[d->nsources++] = (DiagSource){path, text, len, line_offset};
}

void diag_remove_source(Diag *d, const char *path) {
  for (int i = 0; i < d->nsources; i++)
    if (strcmp(d->sources[i].path, path) == 0) {
      d->sources[i] = d->sources[--d->nsources];
      return;
    }
}

static const DiagSource *find_source(const Diag *d, const char *path) {
  for (int i = 0; i < d->nsources; i++)
    if (strcmp(d->sources[i].path, path) == 0) return &d->sources[i];
  return NULL;
}

/* Prints the source line `line` and a caret under column `col`. Tabs are kept
 * in the caret line so the caret lines up in a terminal. */
static void quote_line(FILE *out, const DiagSource *s, int line, int col) {
  int want = line - s->line_offset;
  if (want < 1) return;
  const char *p = s->text, *end = s->text + s->len;
  for (int l = 1; l < want && p < end; p++)
    if (*p == '\n') l++;
  if (p >= end && want > 1) return;
  const char *e = p;
  while (e < end && *e != '\n') e++;
  fprintf(out, "  %.*s\n  ", (int)(e - p), p);
  for (int i = 1; i < col && p + i - 1 < e; i++) fputc(p[i - 1] == '\t' ? '\t' : ' ', out);
  fputs("^\n", out);
}

void diag_vreport(Diag *d, DiagLevel lvl, DiagLoc loc, const char *fmt, va_list ap) {
  if (lvl == DIAG_ERROR) d->errors++;
  if (lvl == DIAG_WARNING) d->warnings++;
  if (!d->out) return;
  static const char *const names[] = {"error", "warning", "note"};
  if (loc.file && loc.line > 0)
    fprintf(d->out, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col > 0 ? loc.col : 1, names[lvl]);
  else if (loc.file)
    fprintf(d->out, "%s: %s: ", loc.file, names[lvl]);
  else
    fprintf(d->out, "quench: %s: ", names[lvl]);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  if (loc.file && loc.line > 0) {
    const DiagSource *s = find_source(d, loc.file);
    if (s) quote_line(d->out, s, loc.line, loc.col);
  }
}

void diag_report(Diag *d, DiagLevel lvl, DiagLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(d, lvl, loc, fmt, ap);
  va_end(ap);
}
