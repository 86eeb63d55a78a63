/* The .qir lexer: identifiers, %values, @symbols, ^regions, strings with
 * escapes, integers (decimal and 0x bit patterns), floats, punctuation, and
 * `//` comments. Every byte it cannot use (NUL included) is an error. */
#include "ir/lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lex_init(Lexer *L, const char *path, const char *text, size_t len, int line_offset, Diag *diag,
              jmp_buf *fail, Arena *arena) {
  memset(L, 0, sizeof *L);
  L->text = text;
  L->len = len;
  L->path = path;
  L->line_offset = line_offset;
  L->diag = diag;
  L->fail = fail;
  L->arena = arena;
  L->line = 1;
  L->end_line = 1;
  L->end_col = 1;
}

DiagLoc lex_loc(const Lexer *L, int line, int col) { return diag_loc(L->path, line + L->line_offset, col); }

DiagLoc lex_tok_loc(const Lexer *L) { return lex_loc(L, L->tok.line, L->tok.col); }

_Noreturn void lex_fail(Lexer *L) { longjmp(*L->fail, 1); }

_Noreturn void lex_error(Lexer *L, DiagLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vreport(L->diag, DIAG_ERROR, loc, fmt, ap);
  va_end(ap);
  lex_fail(L);
}

_Noreturn void lex_expected(Lexer *L, const char *what) {
  if (L->tok.kind == TOK_EOF) lex_error(L, lex_tok_loc(L), "unexpected end of file, expected %s", what);
  lex_error(L, lex_tok_loc(L), "expected %s", what);
}

bool lex_is_ident(const Lexer *L, const char *word) {
  return L->tok.kind == TOK_IDENT && strlen(word) == L->tok.len && memcmp(L->tok.start, word, L->tok.len) == 0;
}

static int col_at(const Lexer *L, size_t pos) { return (int)(pos - L->line_start) + 1; }

static DiagLoc here(const Lexer *L) { return lex_loc(L, L->line, col_at(L, L->pos)); }

static void mark_end(Lexer *L) {
  L->end_line = L->line;
  L->end_col = col_at(L, L->pos);
}

/* ---- character level ------------------------------------------------ */

void lex_char_skip(Lexer *L) {
  while (L->pos < L->len) {
    char c = L->text[L->pos];
    if (c == ' ' || c == '\t' || c == '\r') {
      L->pos++;
    } else if (c == '\n') {
      L->pos++;
      L->line++;
      L->line_start = L->pos;
    } else if (c == '/' && L->pos + 1 < L->len && L->text[L->pos + 1] == '/') {
      const char *nl = memchr(L->text + L->pos, '\n', L->len - L->pos);
      L->pos = nl ? (size_t)(nl - L->text) : L->len;
    } else {
      break;
    }
  }
}

int lex_char_peek(const Lexer *L) { return L->pos < L->len ? (unsigned char)L->text[L->pos] : -1; }

void lex_char_take(Lexer *L) {
  if (L->pos < L->len) L->pos++;
  mark_end(L);
}

DiagLoc lex_char_loc(const Lexer *L) {
  if (L->pos >= L->len) return lex_loc(L, L->end_line, L->end_col);
  return here(L);
}

_Noreturn void lex_char_expected(Lexer *L, const char *what) {
  if (L->pos >= L->len) lex_error(L, lex_char_loc(L), "unexpected end of file, expected %s", what);
  lex_error(L, here(L), "expected %s", what);
}

/* ---- tokens --------------------------------------------------------- */

static int hex_val(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A quoted string at L->pos (the opening quote), decoded into the arena. A
 * raw newline or the end of input ends it early: unterminated. */
static const char *lex_string(Lexer *L, const char *what) {
  DiagLoc start = here(L);
  size_t p = L->pos + 1, limit = p;
  /* Find the end first (linear: no look past the closing quote), then
   * decode into a buffer of the raw size, which bounds the decoded size. */
  while (limit < L->len && L->text[limit] != '"' && L->text[limit] != '\n')
    limit += L->text[limit] == '\\' && limit + 1 < L->len && L->text[limit + 1] != '\n' ? 2 : 1;
  if (limit > L->len) limit = L->len;
  char *out = arena_alloc(L->arena, limit - p + 1), *o = out;
  if (limit < L->len && L->text[limit] == '"') limit++; /* the loop below stops at it */
  for (;;) {
    if (p >= limit) lex_error(L, start, "unterminated %s", what);
    unsigned char c = (unsigned char)L->text[p];
    if (c == '"') break;
    if (c == '\0') lex_error(L, lex_loc(L, L->line, col_at(L, p)), "NUL byte in %s", what);
    if (c != '\\') {
      *o++ = (char)c;
      p++;
      continue;
    }
    DiagLoc esc = lex_loc(L, L->line, col_at(L, p));
    int e = p + 1 < limit ? (unsigned char)L->text[p + 1] : -1;
    if (e == '"' || e == '\\') {
      *o++ = (char)e;
      p += 2;
    } else if (e == 'n') {
      *o++ = '\n';
      p += 2;
    } else if (e == 't') {
      *o++ = '\t';
      p += 2;
    } else if (e == 'x') {
      int h1 = p + 2 < limit ? hex_val((unsigned char)L->text[p + 2]) : -1;
      int h2 = p + 3 < limit ? hex_val((unsigned char)L->text[p + 3]) : -1;
      if (h1 < 0 || h2 < 0) lex_error(L, esc, "invalid escape: \\x takes two hex digits");
      if (h1 == 0 && h2 == 0) lex_error(L, esc, "%s contains a NUL byte", what);
      *o++ = (char)(h1 * 16 + h2);
      p += 4;
    } else if (e >= 0x21 && e < 0x7f) {
      lex_error(L, esc, "invalid escape '\\%c'", e);
    } else {
      lex_error(L, esc, "invalid escape");
    }
  }
  *o = '\0';
  L->pos = p + 1;
  return out;
}

/* A number at L->pos. Integers keep their magnitude; conversions and range
 * checks belong to the parser, which knows the wanted type. */
static void lex_number(Lexer *L, Token *t) {
  size_t p = L->pos;
  t->neg = L->text[p] == '-';
  if (t->neg) p++;
  t->kind = TOK_INT;
  if (!t->neg && L->text[p] == '0' && p + 1 < L->len && (L->text[p + 1] == 'x' || L->text[p + 1] == 'X') &&
      p + 2 < L->len && hex_val((unsigned char)L->text[p + 2]) >= 0) {
    t->hex = true;
    p += 2;
    for (int h; p < L->len && (h = hex_val((unsigned char)L->text[p])) >= 0; p++) {
      if (t->mag >> 60) t->overflow = true;
      t->mag = t->mag << 4 | (uint64_t)h;
    }
  } else {
    for (; p < L->len && lex_digit(L->text[p]); p++) {
      unsigned d = (unsigned)(L->text[p] - '0');
      if (t->mag > (UINT64_MAX - d) / 10) t->overflow = true;
      t->mag = t->overflow ? UINT64_MAX : t->mag * 10 + d;
    }
    if (p + 1 < L->len && L->text[p] == '.' && lex_digit(L->text[p + 1])) {
      t->kind = TOK_FLOAT;
      for (p++; p < L->len && lex_digit(L->text[p]); p++) {
      }
    }
    if (p < L->len && (L->text[p] == 'e' || L->text[p] == 'E')) {
      size_t q = p + 1;
      if (q < L->len && (L->text[q] == '+' || L->text[q] == '-')) q++;
      if (q < L->len && lex_digit(L->text[q])) {
        t->kind = TOK_FLOAT;
        for (p = q; p < L->len && lex_digit(L->text[p]); p++) {
        }
      }
    }
  }
  if (p < L->len && (lex_name_char((unsigned char)L->text[p]) && L->text[p] != '-')) {
    size_t e = p;
    while (e < L->len && lex_name_char((unsigned char)L->text[e]) && L->text[e] != '-') e++;
    lex_error(L, here(L), "malformed number '%.*s'", (int)(e - L->pos), L->text + L->pos);
  }
  L->pos = p;
}

static void describe_char(char buf[8], unsigned char c) {
  if (c >= 0x20 && c < 0x7f)
    buf[0] = (char)c, buf[1] = '\0';
  else
    snprintf(buf, 8, "\\x%02X", c);
}

void lex_next(Lexer *L) {
  lex_char_skip(L);
  Token *t = &L->tok;
  memset(t, 0, sizeof *t);
  t->line = L->line;
  t->col = col_at(L, L->pos);
  t->start = L->text + L->pos;
  if (L->pos >= L->len) {
    t->kind = TOK_EOF;
    t->line = L->end_line;
    t->col = L->end_col;
    return;
  }
  size_t start = L->pos;
  unsigned char c = (unsigned char)L->text[L->pos];
  static const char punct[] = "(){}[]<>,:=";
  static const TokKind punct_kind[] = {TOK_LPAREN,   TOK_RPAREN, TOK_LBRACE, TOK_RBRACE,
                                       TOK_LBRACKET, TOK_RBRACKET, TOK_LANGLE, TOK_RANGLE,
                                       TOK_COMMA,    TOK_COLON,  TOK_EQUAL};
  const char *pc = c ? strchr(punct, c) : NULL;
  if (pc) {
    t->kind = punct_kind[pc - punct];
    L->pos++;
  } else if (c == '-' && L->pos + 1 < L->len && L->text[L->pos + 1] == '>') {
    t->kind = TOK_ARROW;
    L->pos += 2;
  } else if (c == '-' && L->len - L->pos >= 4 && memcmp(L->text + L->pos, "-inf", 4) == 0 &&
             (L->pos + 4 >= L->len || !lex_name_char((unsigned char)L->text[L->pos + 4]))) {
    t->kind = TOK_FLOAT;
    L->pos += 4;
  } else if (lex_digit(c) || (c == '-' && L->pos + 1 < L->len && lex_digit(L->text[L->pos + 1]))) {
    lex_number(L, t);
  } else if (c == '%' || c == '@' || c == '^') {
    t->kind = c == '%' ? TOK_VALUE : c == '@' ? TOK_SYMBOL : TOK_CARET;
    const char *what = c == '%' ? "value name" : c == '@' ? "symbol name" : "region name";
    L->pos++;
    if (L->pos < L->len && L->text[L->pos] == '"') {
      t->str = lex_string(L, what);
      if (!t->str[0]) lex_error(L, lex_loc(L, t->line, t->col), "empty %s", what);
    } else {
      size_t s = L->pos;
      while (L->pos < L->len && lex_name_char((unsigned char)L->text[L->pos])) L->pos++;
      if (L->pos == s) lex_error(L, lex_loc(L, t->line, t->col), "expected %s after '%c'", what, c);
      t->str = arena_strndup(L->arena, L->text + s, L->pos - s);
    }
  } else if (c == '"') {
    t->kind = TOK_STRING;
    t->str = lex_string(L, "string");
  } else if (lex_ident_start(c)) {
    t->kind = TOK_IDENT;
    while (L->pos < L->len && lex_name_char((unsigned char)L->text[L->pos])) L->pos++;
  } else {
    char buf[8];
    describe_char(buf, c);
    lex_error(L, here(L), "unexpected character '%s'", buf);
  }
  t->len = L->pos - start;
  mark_end(L);
}
