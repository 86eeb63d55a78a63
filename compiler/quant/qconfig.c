/* Quantization configuration: presets, the config file parser and the
 * resolution of settings for one op and value. The file format is
 * documented in docs/quant-config.md: one rule a line,
 *   SELECTOR KEY=VALUE ...      with SELECTOR '*', 'op TYPE', 'node NAME'
 *                               or 'tensor NAME', and '#' comments.
 * Rules apply by precedence '*' < op < node < tensor so a rule about one
 * tensor beats a rule about its op whatever the order of the lines.
 * Test: test/unit/test_qconfig.c, test/lit/quant/quantize-config*.qir. */
#include "quant/qconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "support/fileio.h"

/* ---- presets ------------------------------------------------------------ */

typedef struct Preset {
  const char *name;
  const char *w, *a; /* format names; a NULL: float activations */
  QGranularity gran;
  int64_t group;
  bool a_sym;
  QWClip clip;    /* measured, docs/passes/quantize.md */
  bool bias_corr; /* measured, docs/passes/quantize.md */
  QActMode a_mode;
} Preset;

static const Preset presets[] = {
    {"w8a8", "i8", "u8", Q_GRAN_CHANNEL, 0, false, Q_WCLIP_NONE, false, Q_ACT_STATIC},
    {"w8a8-sym", "i8", "i8", Q_GRAN_CHANNEL, 0, true, Q_WCLIP_NONE, false, Q_ACT_STATIC},
    {"w4a16", "i4", NULL, Q_GRAN_GROUP, 128, false, Q_WCLIP_MSE, true, Q_ACT_STATIC},
    {"w4a8", "i4", "u8", Q_GRAN_GROUP, 128, false, Q_WCLIP_MSE, true, Q_ACT_STATIC},
    /* Static per-tensor i4 activations keep 16 levels for a whole tensor;
     * per-token dynamic scales (QuaRot's W4A4, Ashkboos et al. 2024) adapt to
     * each row. docs/quantization.md. */
    {"w4a4", "i4", "i4", Q_GRAN_CHANNEL, 0, true, Q_WCLIP_MSE, true, Q_ACT_DYNAMIC},
    {"fp8", "f8E4M3FN", "f8E4M3FN", Q_GRAN_CHANNEL, 0, true, Q_WCLIP_NONE, false, Q_ACT_STATIC},
    {"mxfp4", "mxfp4", NULL, Q_GRAN_GROUP, 32, false, Q_WCLIP_NONE, true, Q_ACT_STATIC},
    {"nvfp4", "nvfp4", NULL, Q_GRAN_GROUP, 16, false, Q_WCLIP_NONE, true, Q_ACT_STATIC},
};

static const Preset *find_preset(const char *name) {
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(presets[i].name, name) == 0) return &presets[i];
  return NULL;
}

QWClip q_preset_wclip(const char *name) {
  const Preset *p = find_preset(name);
  return p ? p->clip : Q_WCLIP_NONE;
}

bool q_preset_bias_correction(const char *name) {
  const Preset *p = find_preset(name);
  return p && p->bias_corr;
}

const char *q_preset_names(void) { return "w8a8, w8a8-sym, w4a16, w4a8, w4a4, fp8, mxfp4, nvfp4"; }

bool q_preset_get(const char *name, const QCalibOptions *calib, QOpCfg *out) {
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
    const Preset *p = &presets[i];
    if (strcmp(p->name, name) != 0) continue;
    *out = (QOpCfg){0};
    out->w.fmt = q_format_find(p->w);
    out->w.gran = p->gran;
    out->w.group = p->group;
    out->w.axis = -1;
    out->w.symmetric = true;
    out->w.rounding = Q_ROUND_AUTO; /* GPTQ where Gram statistics exist: measured better, docs/passes/quantize.md */
    out->w.clip = p->clip;
    out->w.bias_correction = p->bias_corr;
    out->a.fmt = p->a ? q_format_find(p->a) : NULL;
    out->a.symmetric = p->a_sym;
    out->a.mode = p->a_mode;
    out->a.calib = *calib;
    return out->w.fmt != NULL;
  }
  return false;
}

bool q_rounding_from_name(const char *name, QRounding *out) {
  for (QRounding r = Q_ROUND_RTN; r <= Q_ROUND_AUTO; r++)
    if (strcmp(name, q_rounding_name(r)) == 0) return *out = r, true;
  return false;
}

const char *q_rounding_name(QRounding r) {
  switch (r) {
  case Q_ROUND_RTN: return "rtn";
  case Q_ROUND_GPTQ: return "gptq";
  case Q_ROUND_AUTO: return "auto";
  }
  return "?";
}

QCalibMethod q_preset_calibrator(const char *name) {
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(presets[i].name, name) == 0 && presets[i].a) {
      const QFormat *f = q_format_find(presets[i].a);
      return f && f->kind == Q_FMT_INT ? Q_CALIB_MSE : Q_CALIB_MINMAX;
    }
  return Q_CALIB_MINMAX;
}

/* ---- rules ---------------------------------------------------------------- */

void q_config_init(QConfig *c, const QOpCfg *base) {
  *c = (QConfig){0};
  c->base = *base;
}

void q_config_free(QConfig *c) {
  for (int i = 0; i < c->n; i++) free(c->rules[i].name);
  free(c->rules);
  free(c->path);
  *c = (QConfig){0};
}

static void apply(QOpCfg *o, const QRule *r) {
  unsigned s = r->set;
  if (s & Q_SET_FLOAT) o->keep_float = r->v.keep_float;
  if (s & Q_SET_W_FMT) o->w.fmt = r->v.w.fmt;
  if (s & Q_SET_W_GRAN) {
    o->w.gran = r->v.w.gran;
    o->w.group = r->v.w.group;
    o->w.group_line = r->v.w.group_line;
  }
  if (s & Q_SET_W_AXIS) o->w.axis = r->v.w.axis, o->w.axis_line = r->v.w.axis_line;
  if (s & Q_SET_W_SYM) o->w.symmetric = r->v.w.symmetric;
  if (s & Q_SET_W_ROUND) o->w.rounding = r->v.w.rounding;
  if (s & Q_SET_W_CLIP) o->w.clip = r->v.w.clip;
  if (s & Q_SET_BIAS_CORR) o->w.bias_correction = r->v.w.bias_correction;
  if (s & Q_SET_A_FMT) o->a.fmt = r->v.a.fmt;
  if (s & Q_SET_A_SYM) o->a.symmetric = r->v.a.symmetric;
  if (s & Q_SET_A_MODE) o->a.mode = r->v.a.mode;
  if (s & Q_SET_CALIB) o->a.calib.method = r->v.a.calib.method;
  if (s & Q_SET_PERCENTILE) o->a.calib.percentile = r->v.a.calib.percentile;
}

static bool matches(const QRule *r, const char *op_type, const char *node, const char *tensor) {
  switch (r->sel) {
  case Q_SEL_ALL: return true;
  case Q_SEL_OP: return op_type && strcmp(r->name, op_type) == 0;
  case Q_SEL_NODE: return node && strcmp(r->name, node) == 0;
  case Q_SEL_TENSOR: return tensor && strcmp(r->name, tensor) == 0;
  }
  return false;
}

void q_config_resolve(const QConfig *c, const char *op_type, const char *node, const char *tensor, QOpCfg *out) {
  *out = c->base;
  for (int level = Q_SEL_ALL; level <= Q_SEL_TENSOR; level++)
    for (int i = 0; i < c->n; i++)
      if ((int)c->rules[i].sel == level && matches(&c->rules[i], op_type, node, tensor)) apply(out, &c->rules[i]);
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct Parser {
  QConfig *c;
  const char *path;
  Diag *d;
  int line;
  const char *bol; /* start of the current line */
} Parser;

static bool perr(Parser *p, const char *at, const char *fmt, const char *a, const char *b) {
  int col = (int)(at - p->bol) + 1;
  if (b)
    diag_error(p->d, diag_loc(p->path, p->line, col), fmt, a, b);
  else
    diag_error(p->d, diag_loc(p->path, p->line, col), fmt, a);
  return false;
}

static bool parse_bool(const char *v, bool *out) {
  if (strcmp(v, "true") == 0) return *out = true, true;
  if (strcmp(v, "false") == 0) return *out = false, true;
  return false;
}

/* A format name or "float" (fmt NULL). */
static bool parse_format(Parser *p, const char *v, const char *at, bool act, const QFormat **out) {
  if (strcmp(v, "float") == 0) return *out = NULL, true;
  const QFormat *f = q_format_find(v);
  if (!f) return perr(p, at, "unknown format '%s' (valid: float, %s)", v, q_format_names());
  if (act && f->kind == Q_FMT_BLOCK)
    return perr(p, at, "block format '%s' quantizes weights only, not activations (%s)", v,
                "see docs/quantization.md");
  *out = f;
  return true;
}

static bool parse_int(const char *v, int64_t lo, int64_t *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (end == v || *end || errno || x < lo) return false;
  *out = x;
  return true;
}

static const char *const valid_keys =
    "float, w, w-granularity, w-axis, w-symmetric, w-rounding, w-clip, bias-correction, a, a-symmetric, a-mode, "
    "calibrator, percentile";

/* One KEY[=VALUE] item of a rule. */
static bool parse_item(Parser *p, QRule *r, char *item, const char *at) {
  char *eq = strchr(item, '=');
  const char *v = eq ? eq + 1 : NULL;
  if (eq) *eq = 0;
  const char *k = item;
  if (strcmp(k, "float") == 0) {
    bool b = true;
    if (v && !parse_bool(v, &b)) return perr(p, at, "float takes true or false, got '%s'%s", v, "");
    r->set |= Q_SET_FLOAT, r->v.keep_float = b;
    return true;
  }
  if (!v) {
    bool known = strstr(valid_keys, k) && strcmp(k, "w") != 0 && strcmp(k, "a") != 0;
    if (known) return perr(p, at, "'%s' needs a value (%s=...)", k, k);
    return perr(p, at, "unknown key '%s' (valid keys: %s)", k, valid_keys);
  }
  if (strcmp(k, "w") == 0) {
    r->set |= Q_SET_W_FMT;
    return parse_format(p, v, at, false, &r->v.w.fmt);
  }
  if (strcmp(k, "a") == 0) {
    r->set |= Q_SET_A_FMT;
    return parse_format(p, v, at, true, &r->v.a.fmt);
  }
  if (strcmp(k, "w-granularity") == 0) {
    r->set |= Q_SET_W_GRAN;
    r->v.w.group_line = p->line;
    if (strcmp(v, "tensor") == 0) return r->v.w.gran = Q_GRAN_TENSOR, true;
    if (strcmp(v, "channel") == 0) return r->v.w.gran = Q_GRAN_CHANNEL, true;
    if (strncmp(v, "group:", 6) == 0 && parse_int(v + 6, 1, &r->v.w.group)) return r->v.w.gran = Q_GRAN_GROUP, true;
    return perr(p, at, "w-granularity must be tensor, channel or group:G with G >= 1, got '%s'%s", v, "");
  }
  if (strcmp(k, "w-axis") == 0) {
    int64_t a;
    if (!parse_int(v, -64, &a) || a > 64) return perr(p, at, "w-axis must be an integer, got '%s'%s", v, "");
    r->set |= Q_SET_W_AXIS, r->v.w.axis = (int32_t)a, r->v.w.axis_line = p->line;
    return true;
  }
  if (strcmp(k, "w-symmetric") == 0 || strcmp(k, "a-symmetric") == 0) {
    bool b;
    if (!parse_bool(v, &b)) return perr(p, at, "%s takes true or false, got '%s'", k, v);
    if (k[0] == 'w') r->set |= Q_SET_W_SYM, r->v.w.symmetric = b;
    else r->set |= Q_SET_A_SYM, r->v.a.symmetric = b;
    return true;
  }
  if (strcmp(k, "w-rounding") == 0) {
    r->set |= Q_SET_W_ROUND;
    if (q_rounding_from_name(v, &r->v.w.rounding)) return true;
    return perr(p, at, "w-rounding must be rtn, gptq or auto, got '%s'%s", v, "");
  }
  if (strcmp(k, "w-clip") == 0) {
    r->set |= Q_SET_W_CLIP;
    if (q_wclip_from_name(v, &r->v.w.clip)) return true;
    return perr(p, at, "w-clip must be none or mse, got '%s'%s", v, "");
  }
  if (strcmp(k, "bias-correction") == 0) {
    if (!parse_bool(v, &r->v.w.bias_correction))
      return perr(p, at, "bias-correction takes true or false, got '%s'%s", v, "");
    r->set |= Q_SET_BIAS_CORR;
    return true;
  }
  if (strcmp(k, "a-mode") == 0) {
    r->set |= Q_SET_A_MODE;
    if (strcmp(v, "static") == 0) return r->v.a.mode = Q_ACT_STATIC, true;
    if (strcmp(v, "dynamic") == 0) return r->v.a.mode = Q_ACT_DYNAMIC, true;
    return perr(p, at, "a-mode must be static or dynamic, got '%s'%s", v, "");
  }
  if (strcmp(k, "calibrator") == 0) {
    r->set |= Q_SET_CALIB;
    if (q_calib_method_from_name(v, &r->v.a.calib.method)) return true;
    return perr(p, at, "unknown calibrator '%s' (valid: %s)", v, "minmax, percentile, entropy, mse");
  }
  if (strcmp(k, "percentile") == 0) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x > 0 && x <= 100))
      return perr(p, at, "percentile must be a number in (0, 100], got '%s'%s", v, "");
    r->set |= Q_SET_PERCENTILE, r->v.a.calib.percentile = x;
    return true;
  }
  return perr(p, at, "unknown key '%s' (valid keys: %s)", k, valid_keys);
}

static char *next_word(char **s) {
  char *p = *s;
  while (*p == ' ' || *p == '\t') p++;
  if (!*p) return *s = p, NULL;
  char *w = p;
  while (*p && *p != ' ' && *p != '\t') p++;
  if (*p) *p++ = 0;
  *s = p;
  return w;
}

static bool push_rule(QConfig *c, const QRule *r) {
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 16;
    QRule *nr = realloc(c->rules, (size_t)cap * sizeof *nr);
    if (!nr) return false;
    c->rules = nr, c->cap = cap;
  }
  c->rules[c->n++] = *r;
  return true;
}

void q_config_add_float_tensor(QConfig *c, const char *tensor) {
  size_t n = strlen(tensor) + 1;
  QRule r = {.sel = Q_SEL_TENSOR, .name = malloc(n), .set = Q_SET_FLOAT, .v = {.keep_float = true}};
  memcpy(r.name, tensor, n);
  if (!push_rule(c, &r)) free(r.name);
}

/* Parses one line (a NUL-terminated copy `buf` of the text at p->bol). */
static bool parse_line(Parser *p, char *buf) {
  char *hash = strchr(buf, '#');
  if (hash) *hash = 0;
  char *s = buf;
  char *w = next_word(&s);
  if (!w) return true;
#define AT(ptr) (p->bol + ((ptr) - buf))
  QRule r = {.line = p->line};
  if (strcmp(w, "*") == 0) {
    r.sel = Q_SEL_ALL;
  } else if (strcmp(w, "op") == 0 || strcmp(w, "node") == 0 || strcmp(w, "tensor") == 0) {
    r.sel = w[0] == 'o' ? Q_SEL_OP : w[0] == 'n' ? Q_SEL_NODE : Q_SEL_TENSOR;
    char *name = next_word(&s);
    if (!name) return perr(p, AT(w), "'%s' needs a name%s", w, "");
    IrOpKind k;
    if (r.sel == Q_SEL_OP && !ops_lookup(name, (int)strlen(name), &k))
      return perr(p, AT(name), "unknown op type '%s'%s", name, "");
    r.name_col = (int)(name - buf) + 1;
    r.name = strdup(name);
  } else {
    return perr(p, AT(w), "malformed line: expected '*', 'op TYPE', 'node NAME' or 'tensor NAME', got '%s'%s", w,
                "");
  }
  bool ok = true;
  for (char *item; ok && (item = next_word(&s));) ok = parse_item(p, &r, item, AT(item));
#undef AT
  if (ok && !r.set) ok = perr(p, p->bol, "malformed line: a rule needs at least one KEY=VALUE (%s)%s", valid_keys, "");
  if (!ok || !push_rule(p->c, &r)) {
    free(r.name);
    return false;
  }
  return true;
}

bool q_config_parse(QConfig *c, const char *text, size_t len, const char *path, Diag *d) {
  free(c->path);
  c->path = strdup(path);
  Parser p = {.c = c, .path = c->path, .d = d, .line = 0};
  size_t i = 0;
  bool ok = true;
  while (i < len && ok) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    p.line++;
    p.bol = text + i;
    char *buf = malloc(j - i + 1);
    if (!buf) return false;
    memcpy(buf, text + i, j - i);
    buf[j - i] = 0;
    if (j > i && buf[j - i - 1] == '\r') buf[j - i - 1] = 0;
    ok = parse_line(&p, buf);
    free(buf);
    i = j + 1;
  }
  return ok;
}

bool q_config_parse_file(QConfig *c, const char *path, Diag *d) {
  size_t len;
  char *text = fileio_read_path(path, "quantization config", &len, d, diag_loc(NULL, 0, 0));
  if (!text) return false;
  diag_add_source(d, path, text, len, 0);
  bool ok = q_config_parse(c, text, len, path, d);
  /* The text is freed here and `path` may be a pipeline option's string,
   * freed with the pipeline: the Diag must keep neither. */
  diag_remove_source(d, path);
  free(text);
  return ok;
}
