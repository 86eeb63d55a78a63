/* Pipeline strings: `dce,remove-identity,foo{alpha=0.5,name="a b"}`.
 *
 *   pipeline ::= (entry (',' entry)*)?
 *   entry    ::= pass-name ('{' (option (',' option)*)? '}')?
 *   option   ::= name ('=' value)?        // no value: a bool option set true
 *   value    ::= bare | '"' ... '"' | '\'' ... '\''   // \" \' \\ escape in quotes
 *
 * Spaces around tokens are ignored. Every error names the offending token
 * and points at its column, so the driver can quote the string with a caret. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pass_manager.h"

typedef struct Cursor {
  const char *text, *p;
  const char *src;
  Diag *d;
} Cursor;

static int col_of(const Cursor *c, const char *at) { return (int)(at - c->text) + 1; }

static void skip_ws(Cursor *c) {
  while (*c->p == ' ' || *c->p == '\t') c->p++;
}

static bool is_name_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
         ch == '_' || ch == '.';
}

static size_t name_len(const char *p) {
  size_t n = 0;
  while (is_name_char(p[n])) n++;
  return n;
}

static bool fail(Cursor *c, const char *at, const char *fmt, ...) DIAG_PRINTF(3, 4);
static bool fail(Cursor *c, const char *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(c->d, DIAG_ERROR, diag_loc(c->src, 1, col_of(c, at)), fmt, ap);
  va_end(ap);
  return false;
}

/* Describes the next character for "expected X, got Y" messages. */
static const char *got(const char *p, char *buf, size_t n) {
  if (!*p) return "end of string";
  snprintf(buf, n, "'%c'", *p);
  return buf;
}

void pipeline_init(Pipeline *p) {
  memset(p, 0, sizeof *p);
  arena_init(&p->arena);
}

void pipeline_free(Pipeline *p) {
  free(p->entries);
  arena_release(&p->arena);
  memset(p, 0, sizeof *p);
}

/* Reads a value (bare or quoted) into an arena string; *at is its start. */
static bool read_value(Cursor *c, Arena *a, char **out, const char **at) {
  skip_ws(c);
  *at = c->p;
  char q = *c->p;
  if (q == '"' || q == '\'') {
    const char *start = c->p++;
    size_t n = 0;
    char *buf = arena_alloc(a, strlen(c->p) + 1);
    while (*c->p && *c->p != q) {
      if (*c->p == '\\' && (c->p[1] == q || c->p[1] == '\\' || c->p[1] == '"' || c->p[1] == '\'')) c->p++;
      buf[n++] = *c->p++;
    }
    if (!*c->p) return fail(c, start, "unterminated quoted value");
    c->p++;
    buf[n] = '\0';
    *out = buf;
    return true;
  }
  const char *start = c->p;
  while (*c->p && *c->p != ',' && *c->p != '}') c->p++;
  const char *end = c->p;
  while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
  *out = arena_strndup(a, start, (size_t)(end - start));
  return true;
}

static bool check_value(Cursor *c, const PassInfo *pi, int k, const char *text, const char *at,
                        PassOptionValue *out) {
  const PassOption *o = &pi->pass->options[k];
  switch (pass_option_parse(o, text, strlen(text), out)) {
  case PASS_OPT_OK: return true;
  case PASS_OPT_BAD_SYNTAX:
    return fail(c, at, "option '%s' expects %s %s, got '%s'", o->name, o->kind == Q_OPT_INT ? "an" : "a",
                pass_option_kind_name(o->kind), text);
  case PASS_OPT_OUT_OF_RANGE:
    if (o->kind == Q_OPT_FLOAT) return fail(c, at, "option '%s' expects a finite float, got '%s'", o->name, text);
    if (o->min != 0 || o->max != 0)
      return fail(c, at, "option '%s' expects an int in [%" PRId64 ", %" PRId64 "], got '%s'", o->name, o->min,
                  o->max, text);
    return fail(c, at, "option '%s' expects a 64-bit int, got '%s'", o->name, text);
  }
  return false;
}

static bool parse_options(Cursor *c, Arena *a, const PassInfo *pi, PassOptionValue *values) {
  const char *pname = pi->pass->name;
  bool *seen = arena_calloc(a, (size_t)pi->nopts + 1, sizeof *seen);
  const char *open = c->p++;
  skip_ws(c);
  if (*c->p == '}') {
    c->p++;
    return true;
  }
  char gbuf[8];
  for (;;) {
    skip_ws(c);
    const char *nat = c->p;
    size_t n = name_len(c->p);
    if (n == 0) return fail(c, nat, "expected an option name for pass '%s', got %s", pname, got(nat, gbuf, sizeof gbuf));
    c->p += n;
    int k = pass_info_option_index(pi, nat, n);
    if (k < 0) {
      const char **names = arena_calloc(a, (size_t)pi->nopts + 1, sizeof *names);
      for (int i = 0; i < pi->nopts; i++) names[i] = pi->pass->options[i].name;
      const char *s = pass_suggest(names, pi->nopts, nat, n);
      if (s) return fail(c, nat, "unknown option '%.*s' for pass '%s'; did you mean '%s'?", (int)n, nat, pname, s);
      return fail(c, nat, "unknown option '%.*s' for pass '%s'", (int)n, nat, pname);
    }
    const PassOption *o = &pi->pass->options[k];
    if (seen[k]) return fail(c, nat, "option '%s' is given twice for pass '%s'", o->name, pname);
    seen[k] = true;
    skip_ws(c);
    if (*c->p == '=') {
      c->p++;
      char *text = NULL;
      const char *vat = c->p;
      if (!read_value(c, a, &text, &vat)) return false;
      if (!check_value(c, pi, k, text, vat, &values[k])) return false;
      if (o->kind == Q_OPT_STRING) values[k].s = text;
    } else if (o->kind == Q_OPT_BOOL && (*c->p == ',' || *c->p == '}')) {
      values[k].b = true; /* `pass{flag}` */
    } else if (!*c->p) {
      return fail(c, open, "unclosed '{' in the options of pass '%s'", pname);
    } else {
      return fail(c, c->p, "expected '=' and a value after option '%s', got %s", o->name, got(c->p, gbuf, sizeof gbuf));
    }
    skip_ws(c);
    if (*c->p == ',') {
      c->p++;
      continue;
    }
    if (*c->p == '}') {
      c->p++;
      return true;
    }
    if (!*c->p) return fail(c, open, "unclosed '{' in the options of pass '%s'", pname);
    return fail(c, c->p, "expected ',' or '}' after option '%s', got %s", o->name, got(c->p, gbuf, sizeof gbuf));
  }
}

bool pipeline_parse(Pipeline *pl, const PassRegistry *r, const char *text, const char *srcname, Diag *d) {
  Cursor c = {text, text, srcname, d};
  char gbuf[8];
  skip_ws(&c);
  if (!*c.p) return true;
  for (;;) {
    skip_ws(&c);
    const char *at = c.p;
    size_t n = name_len(c.p);
    if (n == 0) return fail(&c, at, "expected a pass name, got %s", got(at, gbuf, sizeof gbuf));
    c.p += n;
    char *name = arena_strndup(&pl->arena, at, n);
    const PassInfo *pi = pass_registry_find(r, name);
    if (!pi) {
      const char *s = pass_registry_suggest(r, at, n);
      if (s) return fail(&c, at, "unknown pass '%s'; did you mean '%s'?", name, s);
      return fail(&c, at, "unknown pass '%s' (quench-opt --help lists the passes)", name);
    }
    PassOptionValue *values = arena_calloc(&pl->arena, (size_t)pi->nopts + 1, sizeof *values);
    memcpy(values, pi->defaults, (size_t)pi->nopts * sizeof *values);
    skip_ws(&c);
    if (*c.p == '{' && !parse_options(&c, &pl->arena, pi, values)) return false;
    if (pl->n == pl->cap) {
      pl->cap = pl->cap ? pl->cap * 2 : 8;
      pl->entries = xrealloc(pl->entries, (size_t)pl->cap * sizeof *pl->entries);
    }
    pl->entries[pl->n++] = (PipelineEntry){pi, values, col_of(&c, at)};
    skip_ws(&c);
    if (!*c.p) return true;
    if (*c.p != ',') return fail(&c, c.p, "expected ',' between passes, got %s", got(c.p, gbuf, sizeof gbuf));
    c.p++;
  }
}

void pipeline_print(FILE *out, const Pipeline *pl) {
  for (int i = 0; i < pl->n; i++) {
    const PipelineEntry *e = &pl->entries[i];
    if (i) fputc(',', out);
    fputs(e->info->pass->name, out);
    if (e->info->nopts == 0) continue;
    fputc('{', out);
    for (int k = 0; k < e->info->nopts; k++) {
      const PassOption *o = &e->info->pass->options[k];
      fprintf(out, "%s%s=", k ? "," : "", o->name);
      pass_option_print(out, o, e->values[k]);
    }
    fputc('}', out);
  }
}
