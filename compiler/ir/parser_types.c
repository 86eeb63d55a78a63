/* The .qir parser's leaves: tensor and quantized types (read character by
 * character, since `2x3xf32` is one run of letters and digits), dense and
 * external constant data, and attribute dicts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/parser_impl.h"
#include "ir/weights.h"
#include "quant/floatfmt.h"

/* ---- types ---------------------------------------------------------- */

static void expect_x(Parser *P) {
  lex_char_skip(&P->lex);
  if (lex_char_peek(&P->lex) != 'x') lex_char_expected(&P->lex, "'x'");
  lex_char_take(&P->lex);
}

static IrElem elem_name(Parser *P, const char *s, size_t n, DiagLoc loc) {
  IrElem e;
  if (n > 64 || !ir_elem_from_name(s, (int)n, &e))
    lex_error(&P->lex, loc, "unknown element type '%.*s'", (int)(n > 64 ? 64 : n), s);
  return e;
}

/* A pair's scale: any number literal, read as f32. */
static float scale_value(Parser *P);

/* `!quant<storage:expressed(:axis=N(:block=N)?)?, pairs>` from the '!'
 * (current byte). Leaves the lexer just past its closing '>'. */
static void parse_quant(Parser *P, IrQuant *q) {
  Lexer *L = &P->lex;
  size_t bang = L->pos;
  lex_char_take(L);
  lex_next(L);
  if (!lex_is_ident(L, "quant") || L->tok.start != L->text + bang + 1) lex_expected(L, "'quant' after '!'");
  lex_next(L);
  irp_eat(P, TOK_LANGLE, "'<'");
  irp_expect(P, TOK_IDENT, "storage type");
  q->storage = elem_name(P, L->tok.start, L->tok.len, irp_loc(P));
  lex_next(L);
  irp_eat(P, TOK_COLON, "':'");
  irp_expect(P, TOK_IDENT, "expressed type");
  q->expressed = elem_name(P, L->tok.start, L->tok.len, irp_loc(P));
  lex_next(L);
  q->kind = IR_QUANT_PER_TENSOR;
  if (L->tok.kind == TOK_COLON) {
    lex_next(L);
    if (!lex_is_ident(L, "axis")) lex_expected(L, "'axis'");
    lex_next(L);
    irp_eat(P, TOK_EQUAL, "'='");
    q->kind = IR_QUANT_PER_AXIS;
    q->axis = (int32_t)irp_int(P, INT32_MIN, INT32_MAX, "axis");
    if (L->tok.kind == TOK_COLON) {
      lex_next(L);
      if (!lex_is_ident(L, "block")) lex_expected(L, "'block'");
      lex_next(L);
      irp_eat(P, TOK_EQUAL, "'='");
      q->kind = IR_QUANT_PER_BLOCK;
      q->block_size = irp_int(P, INT64_MIN, INT64_MAX, "block size");
    }
  }
  irp_eat(P, TOK_COMMA, "','");
  bool braced = L->tok.kind == TOK_LBRACE;
  if (braced) lex_next(L);
  P->scales.len = P->zps.len = 0;
  for (;;) {
    IRP_PUSH(&P->scales, float, scale_value(P));
    int64_t zp = 0;
    if (L->tok.kind == TOK_COLON) {
      lex_next(L);
      zp = irp_int(P, INT64_MIN, INT64_MAX, "zero point");
    }
    IRP_PUSH(&P->zps, int64_t, zp);
    if (!braced || L->tok.kind != TOK_COMMA) break;
    lex_next(L);
  }
  if (braced) irp_eat(P, TOK_RBRACE, "'}'");
  irp_expect(P, TOK_RANGLE, "'>'");
  q->num = (int64_t)P->scales.len;
  q->scales = P->scales.data;
  q->zero_points = P->zps.data;
}

const IrType *irp_type(Parser *P) {
  Lexer *L = &P->lex;
  if (!lex_is_ident(L, "tensor")) lex_expected(L, "type");
  lex_char_skip(L);
  if (lex_char_peek(L) != '<') lex_char_expected(L, "'<'");
  lex_char_take(L);
  P->dims.len = 0;
  bool unranked = false;
  int c;
  for (;;) {
    lex_char_skip(L);
    c = lex_char_peek(L);
    DiagLoc at = lex_char_loc(L);
    IrDim d = {-1, NULL};
    if (c == '*') {
      if (unranked || P->dims.len) lex_error(L, at, "'*' must be the only dimension of an unranked type");
      unranked = true;
      lex_char_take(L);
      expect_x(P);
      continue;
    }
    if (unranked && (c == '?' || c == '[' || lex_digit(c)))
      lex_error(L, at, "'*' must be the only dimension of an unranked type");
    if (c == '?') {
      lex_char_take(L);
    } else if (c == '[') {
      lex_char_take(L);
      lex_char_skip(L);
      size_t s = L->pos;
      if (!lex_ident_start(lex_char_peek(L))) lex_char_expected(L, "dimension name");
      while (lex_name_char(lex_char_peek(L))) lex_char_take(L);
      d.sym = arena_strndup(&P->tmp, L->text + s, L->pos - s);
      lex_char_skip(L);
      if (lex_char_peek(L) != ']') lex_char_expected(L, "']'");
      lex_char_take(L);
    } else if (lex_digit(c)) {
      d.size = 0;
      for (; lex_digit(lex_char_peek(L)); lex_char_take(L)) {
        int64_t digit = lex_char_peek(L) - '0';
        if (d.size > (INT64_MAX - digit) / 10) lex_error(L, at, "dimension too large");
        d.size = d.size * 10 + digit;
      }
    } else {
      break;
    }
    if (P->dims.len >= IRP_MAX_RANK) lex_error(L, at, "tensor rank exceeds %d", IRP_MAX_RANK);
    IRP_PUSH(&P->dims, IrDim, d);
    expect_x(P);
  }
  DiagLoc eloc = lex_char_loc(L);
  IrQuant q;
  bool quant = false;
  IrElem elem = IR_ELEM_F32;
  if (c == '!') {
    memset(&q, 0, sizeof q);
    parse_quant(P, &q);
    quant = true;
  } else if (lex_ident_start(c)) {
    size_t s = L->pos;
    while (lex_ident_start(lex_char_peek(L)) || lex_digit(lex_char_peek(L))) lex_char_take(L);
    elem = elem_name(P, L->text + s, L->pos - s, eloc);
  } else {
    lex_char_expected(L, "dimension or element type");
  }
  lex_char_skip(L);
  if (lex_char_peek(L) != '>') lex_char_expected(L, "'>'");
  lex_char_take(L);
  lex_next(L);
  int32_t rank = unranked ? -1 : (int32_t)P->dims.len;
  const IrDim *dims = P->dims.data;
  return quant ? ir_type_quant(P->m, &q, rank, dims) : ir_type_tensor(P->m, elem, rank, dims);
}

/* ---- numbers -------------------------------------------------------- */

/* The current token's text, NUL-terminated, for strtod/strtof. */
static const char *tok_text(Parser *P) {
  const Token *t = &P->lex.tok;
  P->numbuf.len = 0;
  for (size_t i = 0; i < t->len; i++) IRP_PUSH(&P->numbuf, char, t->start[i]);
  IRP_PUSH(&P->numbuf, char, '\0');
  return P->numbuf.data;
}

static bool tok_is_float_word(const Parser *P) {
  return lex_is_ident(&P->lex, "inf") || lex_is_ident(&P->lex, "nan");
}

static bool tok_is_number(const Parser *P) {
  TokKind k = P->lex.tok.kind;
  return (k == TOK_INT && !P->lex.tok.hex) || k == TOK_FLOAT || tok_is_float_word(P);
}

static bool text_is_inf(const char *s) { return strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0; }

/* A decimal literal as f32, exactly as strtof rounds it; beyond the largest
 * finite f32 is an error. Does not consume. */
static float f32_value(Parser *P) {
  if (!tok_is_number(P)) lex_expected(&P->lex, "number");
  const char *s = tok_text(P);
  float f = strtof(s, NULL);
  if (isinf(f) && !text_is_inf(s)) lex_error(&P->lex, irp_loc(P), "value %s out of range for f32", s);
  return f;
}

static float scale_value(Parser *P) {
  float f = f32_value(P);
  lex_next(&P->lex);
  return f;
}

/* The current token as an int64, or false if it is no decimal integer or
 * does not fit. */
static bool tok_int64(const Parser *P, int64_t *out) {
  const Token *t = &P->lex.tok;
  if (t->kind != TOK_INT || t->hex || t->overflow) return false;
  if (t->neg) {
    if (t->mag > (uint64_t)INT64_MAX + 1) return false;
    *out = t->mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)t->mag;
  } else {
    if (t->mag > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)t->mag;
  }
  return true;
}

int64_t irp_int(Parser *P, int64_t lo, int64_t hi, const char *what) {
  if (P->lex.tok.kind != TOK_INT || P->lex.tok.hex) lex_expected(&P->lex, what);
  int64_t v;
  if (!tok_int64(P, &v) || v < lo || v > hi)
    lex_error(&P->lex, irp_loc(P), "%s %.*s out of range", what, (int)P->lex.tok.len, P->lex.tok.start);
  lex_next(&P->lex);
  return v;
}

/* ---- dense literals ------------------------------------------------- */

static _Noreturn void out_of_range(Parser *P, IrElem e) {
  const Token *t = &P->lex.tok;
  lex_error(&P->lex, irp_loc(P), "value %.*s out of range for %s", (int)t->len, t->start, ir_elem_name(e));
}

/* One element literal of type e, as its bit pattern. Does not consume. */
static uint64_t literal_bits(Parser *P, IrElem e) {
  Lexer *L = &P->lex;
  const Token *t = &L->tok;
  if (e == IR_ELEM_BOOL) {
    if (lex_is_ident(L, "true")) return 1;
    if (lex_is_ident(L, "false")) return 0;
    if (t->kind != TOK_INT || t->hex) lex_expected(L, "'true' or 'false'");
    if (t->overflow || t->mag > 1 || (t->neg && t->mag)) out_of_range(P, e);
    return t->mag;
  }
  if (ir_elem_is_int(e)) {
    if (t->kind != TOK_INT || t->hex) lex_expected(L, "integer");
    if (t->overflow) out_of_range(P, e);
    if (e == IR_ELEM_U64) {
      if (t->neg && t->mag) out_of_range(P, e);
      return t->mag;
    }
    int64_t v, lo, hi;
    ir_elem_int_range(e, &lo, &hi);
    if (!tok_int64(P, &v) || v < lo || v > hi) out_of_range(P, e);
    return (uint64_t)v; /* stored truncated to the container: sign-extended */
  }
  if (t->kind == TOK_INT && t->hex) {
    int bits = ir_elem_bits(e);
    if (t->overflow || (bits < 64 && t->mag >> bits))
      lex_error(L, irp_loc(P), "bit pattern %.*s too wide for %s", (int)t->len, t->start, ir_elem_name(e));
    return t->mag;
  }
  if (!tok_is_number(P)) lex_expected(L, "float literal");
  const char *s = tok_text(P);
  if (e == IR_ELEM_F32) {
    float f = f32_value(P);
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
  }
  double v = strtod(s, NULL);
  if (isinf(v) && !text_is_inf(s)) out_of_range(P, e);
  if (e == IR_ELEM_F64) {
    uint64_t b;
    memcpy(&b, &v, 8);
    return b;
  }
  uint64_t bits;
  if (!q_float_encode(e, v, Q_OVERFLOW_ERROR, &bits)) {
    if (isnan(v) || isinf(v))
      lex_error(L, irp_loc(P), "value %s is not representable in %s", s, ir_elem_name(e));
    out_of_range(P, e);
  }
  return bits;
}

static void store_elem(Parser *P, IrElem e, uint64_t bits) {
  ir_elem_store_bits(e, irp_vec_extend(&P->data, (size_t)ir_elem_bytes(e), 1), 0, bits);
}

/* Checks that t is static and small enough to hold in memory; returns numel. */
static int64_t const_numel(Parser *P, const IrType *t, DiagLoc type_loc) {
  if (!ir_type_is_static(t)) lex_error(&P->lex, type_loc, "a constant needs a static shape");
  int64_t n = ir_type_numel(t);
  int bytes = ir_elem_bytes(t->elem);
  if (n < 0 || n > IRP_MAX_CONST_BYTES / bytes)
    lex_error(&P->lex, type_loc, "constant too large (more than %lld bytes)", (long long)IRP_MAX_CONST_BYTES);
  return n;
}

const void *irp_dense(Parser *P, const IrType *t, DiagLoc type_loc, size_t *nbytes, bool *splat) {
  Lexer *L = &P->lex;
  int64_t numel = const_numel(P, t, type_loc);
  IrElem e = t->elem;
  lex_next(L); /* dense */
  irp_eat(P, TOK_LANGLE, "'<'");
  P->data.len = 0;
  if (L->tok.kind == TOK_LBRACKET) {
    DiagLoc open = irp_loc(P);
    lex_next(L);
    int64_t count = 0;
    if (L->tok.kind != TOK_RBRACKET) {
      for (;;) {
        uint64_t bits = literal_bits(P, e);
        /* Elements past numel are checked but not stored: the buffer never
         * outgrows what the type allows. */
        if (count < numel) store_elem(P, e, bits);
        count++;
        lex_next(L);
        if (L->tok.kind != TOK_COMMA) break;
        lex_next(L);
      }
    }
    irp_eat(P, TOK_RBRACKET, "']'");
    if (count != numel)
      lex_error(L, open, "expected %lld elements, got %lld", (long long)numel, (long long)count);
    *splat = false;
  } else {
    store_elem(P, e, literal_bits(P, e));
    lex_next(L);
    *splat = true;
  }
  irp_eat(P, TOK_RANGLE, "'>'");
  *nbytes = P->data.len;
  return arena_memdup(&P->m->arena, P->data.data, P->data.len);
}

/* ---- external data -------------------------------------------------- */

static void check_rel_path(Parser *P, const char *rel, DiagLoc loc) {
  if (!rel[0]) lex_error(&P->lex, loc, "empty weights file path");
  if (rel[0] == '/') lex_error(&P->lex, loc, "weights file path '%s' must be relative", rel);
  for (const char *s = rel; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 2 && s[0] == '.' && s[1] == '.')
      lex_error(&P->lex, loc, "weights file path '%s' may not contain '..'", rel);
    s += n + (e != NULL);
  }
}

const void *irp_external(Parser *P, const IrType *t, DiagLoc type_loc, size_t *nbytes) {
  Lexer *L = &P->lex;
  int64_t numel = const_numel(P, t, type_loc);
  lex_next(L); /* external */
  irp_eat(P, TOK_LANGLE, "'<'");
  irp_expect(P, TOK_STRING, "weights file path");
  const char *rel = L->tok.str;
  DiagLoc rel_loc = irp_loc(P);
  check_rel_path(P, rel, rel_loc);
  lex_next(L);
  irp_eat(P, TOK_COMMA, "','");
  int64_t off = irp_int(P, 0, INT64_MAX, "offset");
  irp_eat(P, TOK_COMMA, "','");
  DiagLoc size_loc = irp_loc(P);
  int64_t size = irp_int(P, 0, INT64_MAX, "size");
  irp_eat(P, TOK_RANGLE, "'>'");
  int64_t want = numel * ir_elem_bytes(t->elem);
  if (size != want)
    lex_error(L, size_loc, "external data of %lld bytes does not match the %lld bytes of the type", (long long)size,
              (long long)want);
  size_t n = strlen(P->base_dir) + strlen(rel) + 2;
  char *full = arena_alloc(&P->tmp, n);
  snprintf(full, n, "%s/%s", P->base_dir, rel);
  WeightsFile *f = strmap_get(&P->weights, full);
  if (!f) {
    f = weights_file_load(full, P->diag, rel_loc);
    if (!f) lex_fail(L);
    strmap_put(&P->weights, full, f);
  }
  const void *p = weights_file_slice(f, off, size);
  if (!p)
    lex_error(L, rel_loc, "external data [%lld, %lld) lies outside the data of '%s'", (long long)off,
              (long long)off + size, rel);
  *nbytes = (size_t)size;
  return arena_memdup(&P->m->arena, p, (size_t)size);
}

/* ---- attributes ----------------------------------------------------- */

IrConst *irp_const_ref(Parser *P, const char *name, DiagLoc loc) {
  IrpConst *pc = strmap_get(&P->consts, name);
  if (!pc) {
    pc = arena_alloc(&P->tmp, sizeof *pc);
    pc->c = arena_alloc(&P->m->arena, sizeof *pc->c);
    pc->c->name = name;
    pc->use_loc = loc;
    strmap_put(&P->consts, name, pc);
  }
  return pc->c;
}

/* `[ ... ]` lists and `[] : kind`. */
static void parse_list(Parser *P, IrAttr *a) {
  Lexer *L = &P->lex;
  lex_next(L); /* [ */
  if (L->tok.kind == TOK_RBRACKET) {
    lex_next(L);
    irp_eat(P, TOK_COLON, "':' and the kind of the empty list");
    if (lex_is_ident(L, "ints"))
      a->kind = IR_ATTR_INTS;
    else if (lex_is_ident(L, "floats"))
      a->kind = IR_ATTR_FLOATS;
    else if (lex_is_ident(L, "strings"))
      a->kind = IR_ATTR_STRINGS;
    else
      lex_expected(L, "'ints', 'floats' or 'strings'");
    lex_next(L);
    return;
  }
  P->list_i.len = P->list_f.len = P->list_s.len = 0;
  bool strings = L->tok.kind == TOK_STRING, floats = false;
  DiagLoc bad_int = {0};
  for (;;) {
    if (strings) {
      irp_expect(P, TOK_STRING, "string");
      IRP_PUSH(&P->list_s, const char *, L->tok.str);
    } else {
      if (!tok_is_number(P)) lex_expected(L, "number");
      if (L->tok.kind != TOK_INT) floats = true;
      int64_t v = 0;
      if (L->tok.kind == TOK_INT && !tok_int64(P, &v) && !bad_int.file) bad_int = irp_loc(P);
      IRP_PUSH(&P->list_i, int64_t, v);
      IRP_PUSH(&P->list_f, float, f32_value(P));
    }
    lex_next(L);
    if (L->tok.kind != TOK_COMMA) break;
    lex_next(L);
  }
  irp_eat(P, TOK_RBRACKET, "']'");
  Arena *ar = &P->m->arena;
  size_t n = strings ? P->list_s.len : P->list_i.len;
  if (n > UINT32_MAX) lex_error(L, irp_loc(P), "list too long");
  if (strings) {
    a->kind = IR_ATTR_STRINGS;
    a->u.strings.v = arena_memdup(ar, P->list_s.data, n * sizeof(const char *));
    a->u.strings.n = (uint32_t)n;
  } else if (floats) {
    a->kind = IR_ATTR_FLOATS;
    a->u.floats.v = arena_memdup(ar, P->list_f.data, n * sizeof(float));
    a->u.floats.n = (uint32_t)n;
  } else {
    if (bad_int.file) lex_error(L, bad_int, "integer out of range");
    a->kind = IR_ATTR_INTS;
    a->u.ints.v = arena_memdup(ar, P->list_i.data, n * sizeof(int64_t));
    a->u.ints.n = (uint32_t)n;
  }
}

/* `dense<...> : type`: the literal precedes its type, so it is skipped,
 * the type read, and the literal read again with the lexer rewound. */
static const IrConst *inline_tensor(Parser *P) {
  Lexer *L = &P->lex;
  Lexer at_dense = *L;
  lex_next(L);
  irp_eat(P, TOK_LANGLE, "'<'");
  while (L->tok.kind != TOK_RANGLE) {
    if (L->tok.kind == TOK_EOF) lex_expected(L, "'>'");
    lex_next(L);
  }
  lex_next(L);
  irp_eat(P, TOK_COLON, "':' and the tensor's type");
  DiagLoc type_loc = irp_loc(P);
  const IrType *t = irp_type(P);
  Lexer after = *L;
  *L = at_dense;
  size_t nbytes;
  bool splat;
  const void *data = irp_dense(P, t, type_loc, &nbytes, &splat);
  *L = after;
  IrConst *c = arena_alloc(&P->m->arena, sizeof *c);
  c->type = t;
  c->splat = splat;
  c->data = data;
  c->nbytes = nbytes;
  c->loc = lex_tok_loc(&at_dense);
  return c;
}

static void attr_value(Parser *P, IrAttr *a) {
  Lexer *L = &P->lex;
  const Token *t = &L->tok;
  if (t->kind == TOK_INT && !t->hex) {
    a->kind = IR_ATTR_INT;
    if (!tok_int64(P, &a->u.i)) lex_error(L, irp_loc(P), "integer out of range");
    lex_next(L);
  } else if (t->kind == TOK_FLOAT || tok_is_float_word(P)) {
    a->kind = IR_ATTR_FLOAT;
    a->u.f = f32_value(P);
    lex_next(L);
  } else if (t->kind == TOK_STRING) {
    a->kind = IR_ATTR_STRING;
    a->u.s = t->str;
    lex_next(L);
  } else if (t->kind == TOK_LBRACKET) {
    parse_list(P, a);
  } else if (lex_is_ident(L, "dense")) {
    a->kind = IR_ATTR_TENSOR;
    a->u.tensor = inline_tensor(P);
  } else if (t->kind == TOK_SYMBOL) {
    a->kind = IR_ATTR_TENSOR;
    a->u.tensor = irp_const_ref(P, t->str, irp_loc(P));
    lex_next(L);
  } else if (lex_is_ident(L, "tensor")) {
    a->kind = IR_ATTR_TYPE;
    a->u.type = irp_type(P);
  } else {
    lex_expected(L, "attribute value");
  }
}

static int attr_cmp(const void *a, const void *b) {
  return strcmp(((const IrAttr *)a)->name, ((const IrAttr *)b)->name);
}

void irp_attr_dict(Parser *P, IrAttr **out, uint32_t *n) {
  Lexer *L = &P->lex;
  irp_eat(P, TOK_LBRACE, "'{'");
  P->attrs.len = 0;
  strmap_free(&P->attr_names);
  strmap_init(&P->attr_names);
  if (L->tok.kind != TOK_RBRACE) {
    for (;;) {
      IrAttr a;
      memset(&a, 0, sizeof a);
      DiagLoc loc = irp_loc(P);
      if (L->tok.kind == TOK_IDENT)
        a.name = arena_strndup(&P->m->arena, L->tok.start, L->tok.len);
      else if (L->tok.kind == TOK_STRING)
        a.name = L->tok.str;
      else
        lex_expected(L, "attribute name");
      if (strmap_put(&P->attr_names, a.name, (void *)a.name))
        lex_error(L, loc, "duplicate attribute '%s'", a.name);
      lex_next(L);
      irp_eat(P, TOK_EQUAL, "'='");
      attr_value(P, &a);
      if (P->attrs.len >= UINT32_MAX) lex_error(L, loc, "too many attributes");
      IRP_PUSH(&P->attrs, IrAttr, a);
      if (L->tok.kind != TOK_COMMA) break;
      lex_next(L);
    }
  }
  irp_eat(P, TOK_RBRACE, "'}'");
  /* Names are unique, so the sort is canonical. */
  if (P->attrs.len) qsort(P->attrs.data, P->attrs.len, sizeof(IrAttr), attr_cmp);
  *out = P->attrs.len ? arena_memdup(&P->m->arena, P->attrs.data, P->attrs.len * sizeof(IrAttr)) : NULL;
  *n = (uint32_t)P->attrs.len;
}
