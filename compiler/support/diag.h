/* One diagnostics API for the whole compiler (cproc's habit): every user
 * error goes through diag_error with a location and prints as
 *   file:line:col: error: message
 *     <the offending source line>
 *          ^
 * Compiler bugs (broken invariants) are asserts, not diagnostics. */
#ifndef QUENCH_SUPPORT_DIAG_H
#define QUENCH_SUPPORT_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct DiagLoc {
  const char *file; /* NULL: no location known */
  int line, col;    /* 1-based; 0: unknown */
} DiagLoc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

#define DIAG_MAX_SOURCES 16

typedef struct DiagSource {
  const char *path;
  const char *text;
  size_t len;
  int line_offset; /* added to lines counted in text (split-input-file) */
} DiagSource;

typedef struct Diag {
  FILE *out; /* NULL: count but print nothing (fuzzing) */
  int errors, warnings;
  DiagSource sources[DIAG_MAX_SOURCES];
  int nsources;
} Diag;

void diag_init(Diag *d, FILE *out);
/* Registers source text so diagnostics in `path` can quote the line. The
 * text must outlive the Diag. A later registration for the same path
 * replaces the earlier one. */
void diag_add_source(Diag *d, const char *path, const char *text, size_t len, int line_offset);
/* Forgets `path` (its text is about to be freed, and `path` itself may
 * be: a pass option's string dies with its pipeline). */
void diag_remove_source(Diag *d, const char *path);

#if defined(__GNUC__)
#define DIAG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DIAG_PRINTF(a, b)
#endif

void diag_report(Diag *d, DiagLevel lvl, DiagLoc loc, const char *fmt, ...) DIAG_PRINTF(4, 5);
void diag_vreport(Diag *d, DiagLevel lvl, DiagLoc loc, const char *fmt, va_list ap);
#define diag_error(d, loc, ...) diag_report((d), DIAG_ERROR, (loc), __VA_ARGS__)
#define diag_warning(d, loc, ...) diag_report((d), DIAG_WARNING, (loc), __VA_ARGS__)
#define diag_note(d, loc, ...) diag_report((d), DIAG_NOTE, (loc), __VA_ARGS__)

static inline DiagLoc diag_loc(const char *file, int line, int col) {
  DiagLoc l = {file, line, col};
  return l;
}

#endif
