/* The pass registry: built-in and plugin passes by name, each descriptor
 * validated once at registration (names, option defaults parsed as user
 * input would be), typo suggestions, and the pass list of --help. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pass_manager.h"

/* ---- option values ----------------------------------------------------- */

static const char *const kind_names[] = {"bool", "int", "float", "string"};

const char *pass_option_kind_name(QOptionKind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }

static bool text_is(const char *text, size_t len, const char *word) {
  return strlen(word) == len && memcmp(text, word, len) == 0;
}

PassOptionStatus pass_option_parse(const PassOption *o, const char *text, size_t len, PassOptionValue *out) {
  char buf[64];
  switch (o->kind) {
  case Q_OPT_BOOL:
    if (text_is(text, len, "true") || text_is(text, len, "1")) {
      out->b = true;
      return PASS_OPT_OK;
    }
    if (text_is(text, len, "false") || text_is(text, len, "0")) {
      out->b = false;
      return PASS_OPT_OK;
    }
    return PASS_OPT_BAD_SYNTAX;
  case Q_OPT_INT: {
    /* Decimal only: "-12", not "0x10" or " 5". */
    size_t i = (len > 0 && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    if (i == len || len >= sizeof buf) return len >= sizeof buf ? PASS_OPT_OUT_OF_RANGE : PASS_OPT_BAD_SYNTAX;
    for (size_t k = i; k < len; k++)
      if (text[k] < '0' || text[k] > '9') return PASS_OPT_BAD_SYNTAX;
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE) return PASS_OPT_OUT_OF_RANGE;
    if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max)) return PASS_OPT_OUT_OF_RANGE;
    out->i = v;
    return PASS_OPT_OK;
  }
  case Q_OPT_FLOAT: {
    if (len == 0 || len >= sizeof buf) return PASS_OPT_BAD_SYNTAX;
    /* strtod also takes hex, "inf" and "nan"; a pass option wants a plain
     * finite decimal. */
    for (size_t k = 0; k < len; k++)
      if (!strchr("0123456789+-.eE", text[k])) return PASS_OPT_BAD_SYNTAX;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len) return PASS_OPT_BAD_SYNTAX;
    if (errno == ERANGE || !isfinite(v)) return PASS_OPT_OUT_OF_RANGE;
    out->f = v;
    return PASS_OPT_OK;
  }
  case Q_OPT_STRING:
    out->s = text;
    return PASS_OPT_OK;
  }
  return PASS_OPT_BAD_SYNTAX;
}

/* Strings print quoted when they would not read back bare. */
void pass_option_print(FILE *out, const PassOption *o, PassOptionValue v) {
  switch (o->kind) {
  case Q_OPT_BOOL: fputs(v.b ? "true" : "false", out); break;
  case Q_OPT_INT: fprintf(out, "%" PRId64, v.i); break;
  case Q_OPT_FLOAT: {
    /* The shortest %g spelling that reads back to the same double. */
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(buf, sizeof buf, "%.*g", prec, v.f);
      if (strtod(buf, NULL) == v.f) break;
    }
    fputs(buf, out);
    break;
  }
  case Q_OPT_STRING: {
    bool bare = v.s[0] != '\0' && !strpbrk(v.s, ",{}=\"' \t\\");
    if (bare) {
      fputs(v.s, out);
      break;
    }
    fputc('"', out);
    for (const char *p = v.s; *p; p++) {
      if (*p == '"' || *p == '\\') fputc('\\', out);
      fputc(*p, out);
    }
    fputc('"', out);
    break;
  }
  }
}

/* ---- suggestions ---------------------------------------------------------- */

/* Edit distance between a (la bytes) and b counting insertions, deletions,
 * substitutions and swaps of neighbours (optimal string alignment), so
 * `alhpa` is one edit from `alpha`. Long words are never close. */
static size_t edit_distance(const char *a, size_t la, const char *b) {
  size_t lb = strlen(b);
  if (la > 64 || lb > 64) return SIZE_MAX;
  static size_t d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[la][lb];
}

const char *pass_suggest(const char *const *names, int n, const char *word, size_t len) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  /* A third of the word's length, at least 1 and at most 3 edits: close
   * enough to be a typo, not so loose that `x` suggests `dce`. */
  size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
  for (int i = 0; i < n; i++) {
    size_t dist = edit_distance(word, len, names[i]);
    if (dist <= limit && dist < best_d) {
      best = names[i];
      best_d = dist;
    }
  }
  return best;
}

const char *pass_registry_suggest(const PassRegistry *r, const char *word, size_t len) {
  const char **names = xcalloc((size_t)r->n + 1, sizeof *names);
  for (int i = 0; i < r->n; i++) names[i] = r->passes[i]->pass->name;
  const char *s = pass_suggest(names, r->n, word, len);
  free(names);
  return s;
}

/* ---- registry ------------------------------------------------------------ */

void pass_registry_init(PassRegistry *r) {
  memset(r, 0, sizeof *r);
  strmap_init(&r->by_name);
}

const PassInfo *pass_registry_find(const PassRegistry *r, const char *name) {
  return strmap_get(&r->by_name, name);
}

int pass_info_option_index(const PassInfo *pi, const char *name, size_t len) {
  for (int i = 0; i < pi->nopts; i++)
    if (text_is(name, len, pi->pass->options[i].name)) return i;
  return -1;
}

/* Pass and option names: what the pipeline parser reads as a name. */
static bool valid_name(const char *s) {
  if (!s || !*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
          *s == '_' || *s == '.'))
      return false;
  return true;
}

static const char *origin_text(const char *origin, char *buf, size_t n) {
  if (!origin) return "built-in";
  snprintf(buf, n, "by plugin '%s'", origin);
  return buf;
}

/* Checks what the rest of the pass manager relies on; a plugin's mistakes
 * become diagnostics rather than crashes later. */
static bool validate(const Pass *p, const char *who, Diag *d, DiagLoc where, int *nopts, int *nstats) {
  if (!valid_name(p->name)) {
    diag_error(d, where, "%s registers a pass with an invalid name '%s'", who, p->name ? p->name : "(null)");
    return false;
  }
  if (!p->run || !p->summary) {
    diag_error(d, where, "pass '%s' (%s) has no %s", p->name, who, p->run ? "summary" : "run function");
    return false;
  }
  int no = 0, ns = 0;
  for (const PassOption *o = p->options; o && o->name; o++, no++) {
    if (!valid_name(o->name) || (unsigned)o->kind > Q_OPT_STRING || !o->dflt || o->min > o->max) {
      diag_error(d, where, "pass '%s' (%s) declares a malformed option '%s'", p->name, who, o->name);
      return false;
    }
    for (const PassOption *q = p->options; q != o; q++) {
      if (strcmp(q->name, o->name) == 0) {
        diag_error(d, where, "pass '%s' (%s) declares option '%s' twice", p->name, who, o->name);
        return false;
      }
    }
    PassOptionValue v;
    if (pass_option_parse(o, o->dflt, strlen(o->dflt), &v) != PASS_OPT_OK) {
      diag_error(d, where, "pass '%s' (%s): default '%s' of option '%s' is not a valid %s", p->name, who, o->dflt,
                 o->name, pass_option_kind_name(o->kind));
      return false;
    }
  }
  for (const PassStat *s = p->stats; s && s->name; s++, ns++) {
    for (const PassStat *t = p->stats; t != s; t++) {
      if (strcmp(t->name, s->name) == 0) {
        diag_error(d, where, "pass '%s' (%s) declares statistic '%s' twice", p->name, who, s->name);
        return false;
      }
    }
  }
  *nopts = no;
  *nstats = ns;
  return true;
}

bool pass_registry_add(PassRegistry *r, const Pass *p, const char *origin, Diag *d, DiagLoc where) {
  char who[512], prev[512];
  if (origin)
    snprintf(who, sizeof who, "plugin '%s'", origin);
  else
    snprintf(who, sizeof who, "built-in");
  int nopts, nstats;
  if (!validate(p, who, d, where, &nopts, &nstats)) return false;
  const PassInfo *old = pass_registry_find(r, p->name);
  if (old) {
    if (origin)
      diag_error(d, where, "pass '%s' registered by plugin '%s' is already registered (%s)", p->name, origin,
                 origin_text(old->origin, prev, sizeof prev));
    else
      diag_error(d, where, "built-in pass '%s' is already registered (%s)", p->name,
                 origin_text(old->origin, prev, sizeof prev));
    return false;
  }
  PassInfo *pi = xcalloc(1, sizeof *pi);
  pi->pass = p;
  pi->origin = origin ? xstrdup(origin) : NULL;
  pi->nopts = nopts;
  pi->nstats = nstats;
  pi->defaults = xcalloc((size_t)nopts + 1, sizeof *pi->defaults);
  for (int i = 0; i < nopts; i++) {
    const PassOption *o = &p->options[i];
    PassOptionStatus st = pass_option_parse(o, o->dflt, strlen(o->dflt), &pi->defaults[i]);
    assert(st == PASS_OPT_OK);
    (void)st;
  }
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->passes = xrealloc(r->passes, (size_t)r->cap * sizeof *r->passes);
  }
  r->passes[r->n++] = pi;
  strmap_put(&r->by_name, p->name, pi);
  return true;
}

bool pass_registry_add_builtins(PassRegistry *r, Diag *d, DiagLoc where) {
  int n;
  const Pass *const *list = pass_builtins(&n);
  for (int i = 0; i < n; i++)
    if (!pass_registry_add(r, list[i], NULL, d, where)) return false;
  return true;
}

void pass_registry_print_help(FILE *out, const PassRegistry *r) {
  for (int i = 0; i < r->n; i++) {
    const PassInfo *pi = r->passes[i];
    fprintf(out, "  %-24s %s", pi->pass->name, pi->pass->summary);
    if (pi->origin) fprintf(out, " (plugin %s)", pi->origin);
    fputc('\n', out);
    for (int k = 0; k < pi->nopts; k++) {
      const PassOption *o = &pi->pass->options[k];
      fprintf(out, "      %-20s %s, default %s", o->name, pass_option_kind_name(o->kind), o->dflt);
      if (o->kind == Q_OPT_INT && (o->min != 0 || o->max != 0))
        fprintf(out, ", in [%" PRId64 ", %" PRId64 "]", o->min, o->max);
      fprintf(out, ": %s\n", o->help ? o->help : "");
    }
  }
}

void pass_registry_free(PassRegistry *r) {
  for (int i = 0; i < r->n; i++) {
    free(r->passes[i]->defaults);
    free((char *)r->passes[i]->origin);
    free(r->passes[i]);
  }
  free(r->passes);
  strmap_free(&r->by_name);
  /* Plugin handles are closed last: descriptors above point into them. */
  pass_plugin_close_all(r);
}
