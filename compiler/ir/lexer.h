/* Tokens of the .qir text format (docs/ir.md, "Lexical structure"). The
 * lexer works on a byte buffer that need not be NUL-terminated, tracks
 * 1-based line and byte column, and reports errors by longjmp to the
 * parser's recovery point after one diagnostic. Type dimensions
 * (`2x3xf32`) are read character by character through the lex_char_*
 * helpers, since they do not split into ordinary tokens. */
#ifndef QUENCH_IR_LEXER_H
#define QUENCH_IR_LEXER_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "support/arena.h"
#include "support/diag.h"

typedef enum {
  TOK_EOF,
  TOK_IDENT,  /* [A-Za-z_][A-Za-z0-9_.$-]*, keywords included */
  TOK_VALUE,  /* %name: str is the decoded name */
  TOK_SYMBOL, /* @name */
  TOK_CARET,  /* ^name */
  TOK_STRING, /* "...": str is the decoded text */
  TOK_INT,    /* -?[0-9]+ or 0x[0-9a-fA-F]+ */
  TOK_FLOAT,  /* a literal with '.' or an exponent, or -inf */
  TOK_LPAREN,
  TOK_RPAREN,
  TOK_LBRACE,
  TOK_RBRACE,
  TOK_LBRACKET,
  TOK_RBRACKET,
  TOK_LANGLE,
  TOK_RANGLE,
  TOK_COMMA,
  TOK_COLON,
  TOK_EQUAL,
  TOK_ARROW
} TokKind;

typedef struct Token {
  TokKind kind;
  const char *start; /* raw text */
  size_t len;
  int line, col; /* of the first byte, without the line offset */
  const char *str; /* TOK_VALUE, TOK_SYMBOL, TOK_CARET, TOK_STRING: decoded, in the arena */
  /* TOK_INT: magnitude (saturated when `overflow`), sign and base. */
  uint64_t mag;
  bool neg, hex, overflow;
} Token;

/* The lexer's whole state is plain data, so a parser can save and restore it
 * by copying the struct (to read a dense literal again once its type is
 * known). */
typedef struct Lexer {
  const char *text;
  size_t len;
  const char *path;
  int line_offset;
  Diag *diag;
  jmp_buf *fail;
  Arena *arena; /* decoded names and strings */
  size_t pos, line_start;
  int line;
  int end_line, end_col; /* just past the last consumed token: where EOF is reported */
  Token tok;             /* the current token */
} Lexer;

void lex_init(Lexer *L, const char *path, const char *text, size_t len, int line_offset, Diag *diag,
              jmp_buf *fail, Arena *arena);
/* Reads the next token into L->tok. */
void lex_next(Lexer *L);
/* The location of the current token (EOF: just past the last token). */
DiagLoc lex_tok_loc(const Lexer *L);
DiagLoc lex_loc(const Lexer *L, int line, int col);
/* Reports one error and unwinds to the parser. */
_Noreturn void lex_error(Lexer *L, DiagLoc loc, const char *fmt, ...) DIAG_PRINTF(3, 4);
/* Unwinds without reporting (the error was already reported). */
_Noreturn void lex_fail(Lexer *L);
/* "expected WHAT" at the current token, or "unexpected end of file,
 * expected WHAT" at the end. */
_Noreturn void lex_expected(Lexer *L, const char *what);
bool lex_is_ident(const Lexer *L, const char *word);

/* Character-level reading, from just after the current token. */
void lex_char_skip(Lexer *L); /* whitespace and comments */
int lex_char_peek(const Lexer *L); /* -1 at the end */
void lex_char_take(Lexer *L);
DiagLoc lex_char_loc(const Lexer *L); /* of the next byte, or the EOF location */
_Noreturn void lex_char_expected(Lexer *L, const char *what);

static inline bool lex_ident_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static inline bool lex_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool lex_name_char(int c) {
  return lex_ident_start(c) || lex_digit(c) || c == '.' || c == '$' || c == '-';
}

#endif
