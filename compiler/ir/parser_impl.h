/* Private to the .qir parser (parser.c, parser_types.c): the parser state
 * and the pieces the two files share. Errors unwind by longjmp to ir_parse,
 * which releases everything the state owns; hence every heap buffer below
 * lives in the state, never in a local. */
#ifndef QUENCH_IR_PARSER_IMPL_H
#define QUENCH_IR_PARSER_IMPL_H

#include <setjmp.h>

#include "ir/ir.h"
#include "ir/lexer.h"
#include "ir/text.h"
#include "support/strmap.h"

/* Deepest nesting of regions: bounded so hostile input cannot exhaust the
 * stack. */
#define IRP_MAX_DEPTH 64
/* Largest tensor rank accepted. */
#define IRP_MAX_RANK 1024
/* Largest inline or external constant, in bytes. */
#define IRP_MAX_CONST_BYTES ((int64_t)1 << 31)

/* A growable heap buffer. */
typedef struct IrpVec {
  void *data;
  size_t len, cap; /* in elements */
} IrpVec;

/* A pool constant, possibly referenced before its definition. */
typedef struct IrpConst {
  IrConst *c;
  bool defined;
  DiagLoc use_loc, def_loc;
} IrpConst;

typedef struct Parser {
  Lexer lex;
  Diag *diag;
  const char *path;
  IrModule *m;
  IrModule *result;
  jmp_buf fail;
  Arena tmp; /* parser-only allocations, released at the end */
  char *base_dir;
  StrMap values; /* this function's names -> IrpValue */
  size_t nuses;  /* orders first uses, to report the earliest undefined one */
  StrMap consts; /* -> IrpConst */
  StrMap funcs;  /* -> IrFunc */
  StrMap weights; /* full path -> WeightsFile */
  StrMap attr_names; /* duplicate check within one attribute dict */
  int depth;
  /* Scratch buffers; none is in use across a nested region. */
  IrpVec dims, scales, zps, data, attrs, list_i, list_f, list_s, operands, results, result_locs, types,
      numbuf;
} Parser;

/* Appends n zeroed elements of `elem` bytes; returns the first. */
void *irp_vec_extend(IrpVec *v, size_t n, size_t elem);
#define irp_vec_push(v, elem) irp_vec_extend((v), 1, (elem))
#define IRP_PUSH(vec, T, val) (*(T *)irp_vec_push((vec), sizeof(T)) = (val))

DiagLoc irp_loc(const Parser *P);
/* Asserts the current token kind, else "expected WHAT". */
void irp_expect(Parser *P, TokKind k, const char *what);
/* Same, then reads the next token. */
void irp_eat(Parser *P, TokKind k, const char *what);
/* A non-negative decimal integer token in [lo, hi], consumed. */
int64_t irp_int(Parser *P, int64_t lo, int64_t hi, const char *what);

/* parser_types.c */
const IrType *irp_type(Parser *P);
/* An attribute dict; `out`/`n` get the sorted arena array. */
void irp_attr_dict(Parser *P, IrAttr **out, uint32_t *n);
/* `dense<...>` for type t at the current token; returns the arena data. */
const void *irp_dense(Parser *P, const IrType *t, DiagLoc type_loc, size_t *nbytes, bool *splat);
/* `external<"file", off, size>` for type t. */
const void *irp_external(Parser *P, const IrType *t, DiagLoc type_loc, size_t *nbytes);
/* The IrConst for `@name`, defined or not yet. */
IrConst *irp_const_ref(Parser *P, const char *name, DiagLoc loc);

#endif
