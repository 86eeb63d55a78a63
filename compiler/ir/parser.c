/* The .qir parser (docs/ir.md): modules, the constant pool, functions, ops,
 * regions and SSA names. Types, constant data and attributes are in
 * parser_types.c, tokens in lexer.c.
 *
 * Names are resolved per function, nested regions included. A use before
 * the definition gets a placeholder value that the definition replaces
 * (ir_value_replace_all_uses), so forward references parse and the
 * verifier judges dominance. The first error is reported once and unwinds
 * by longjmp to ir_parse, which frees everything; the parser holds every
 * resource in its state for that reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ir/parser_impl.h"
#include "ir/weights.h"
#include "support/fileio.h"

/* A name of the current function. */
typedef struct IrpValue {
  IrValue *v; /* the placeholder until defined */
  bool defined;
  size_t first_use; /* order of the first use, while undefined */
  DiagLoc use_loc, def_loc;
} IrpValue;

/* ---- helpers -------------------------------------------------------- */

void *irp_vec_extend(IrpVec *v, size_t n, size_t elem) {
  if (v->len + n > v->cap) {
    size_t cap = v->cap ? v->cap : 16;
    while (cap < v->len + n) cap *= 2;
    v->data = xrealloc(v->data, cap * elem);
    v->cap = cap;
  }
  void *p = (char *)v->data + v->len * elem;
  memset(p, 0, n * elem);
  v->len += n;
  return p;
}

DiagLoc irp_loc(const Parser *P) { return lex_tok_loc(&P->lex); }

void irp_expect(Parser *P, TokKind k, const char *what) {
  if (P->lex.tok.kind != k) lex_expected(&P->lex, what);
}

void irp_eat(Parser *P, TokKind k, const char *what) {
  irp_expect(P, k, what);
  lex_next(&P->lex);
}

/* ---- SSA names ------------------------------------------------------ */

static IrValue *use_value(Parser *P, const char *name, DiagLoc loc) {
  IrpValue *e = strmap_get(&P->values, name);
  if (e) return e->v;
  e = arena_alloc(&P->tmp, sizeof *e);
  IrValue *ph = arena_alloc(&P->m->arena, sizeof *ph);
  ph->name = name;
  ph->kind = IR_VALUE_RESULT;
  ph->loc = loc;
  e->v = ph;
  e->first_use = P->nuses++;
  e->use_loc = loc;
  strmap_put(&P->values, name, e);
  return ph;
}

static void define_value(Parser *P, const char *name, IrValue *v, DiagLoc loc) {
  IrpValue *e = strmap_get(&P->values, name);
  if (e && e->defined) {
    diag_error(P->diag, loc, "redefinition of value '%%%s'", name);
    diag_note(P->diag, e->def_loc, "previous definition is here");
    lex_fail(&P->lex);
  }
  if (e) {
    ir_value_replace_all_uses(e->v, v);
    v->name = e->v->name;
  } else {
    e = arena_alloc(&P->tmp, sizeof *e);
    v->name = name;
    strmap_put(&P->values, v->name, e);
  }
  e->v = v;
  e->defined = true;
  e->def_loc = loc;
  v->loc = loc;
}

/* At the end of a function: the earliest use of a name never defined. */
static void check_undefined(Parser *P) {
  const IrpValue *first = NULL;
  for (size_t i = 0; i < P->values.cap; i++) {
    const IrpValue *e = P->values.keys[i] ? P->values.vals[i] : NULL;
    if (e && !e->defined && (!first || e->first_use < first->first_use)) first = e;
  }
  if (first) lex_error(&P->lex, first->use_loc, "use of undefined value '%%%s'", first->v->name);
}

/* `%a: type` of a function or region. */
static void parse_arg(Parser *P, IrRegion *r) {
  irp_expect(P, TOK_VALUE, "argument name");
  const char *name = P->lex.tok.str;
  DiagLoc loc = irp_loc(P);
  lex_next(&P->lex);
  irp_eat(P, TOK_COLON, "':'");
  const IrType *t = irp_type(P);
  IrValue *v = ir_region_add_arg(P->m, r, name, t);
  define_value(P, name, v, loc);
}

static void parse_args(Parser *P, IrRegion *r) {
  irp_eat(P, TOK_LPAREN, "'('");
  if (P->lex.tok.kind != TOK_RPAREN) {
    for (;;) {
      parse_arg(P, r);
      if (P->lex.tok.kind != TOK_COMMA) break;
      lex_next(&P->lex);
    }
  }
  irp_eat(P, TOK_RPAREN, "')'");
}

/* ---- ops ------------------------------------------------------------ */

static void parse_ops(Parser *P, IrRegion *r, bool nested);

/* An operand (a value or `none`) appended to P->operands. */
static void parse_operand(Parser *P) {
  Lexer *L = &P->lex;
  IrValue *v = NULL;
  if (L->tok.kind == TOK_VALUE)
    v = use_value(P, L->tok.str, irp_loc(P));
  else if (!lex_is_ident(L, "none"))
    lex_expected(L, "operand");
  IRP_PUSH(&P->operands, IrValue *, v);
  lex_next(L);
}

static bool at_operand(const Parser *P) { return P->lex.tok.kind == TOK_VALUE || lex_is_ident(&P->lex, "none"); }

/* `loc("name")`, `loc("file":line:col)`, `loc("name" at "file":line:col)`. */
static void parse_loc(Parser *P, IrOp *op) {
  Lexer *L = &P->lex;
  lex_next(L);
  irp_eat(P, TOK_LPAREN, "'('");
  irp_expect(P, TOK_STRING, "string");
  const char *first = L->tok.str, *file = NULL;
  lex_next(L);
  if (lex_is_ident(L, "at")) {
    lex_next(L);
    irp_expect(P, TOK_STRING, "file name");
    op->src_name = first;
    file = L->tok.str;
    lex_next(L);
    irp_expect(P, TOK_COLON, "':'");
  } else if (L->tok.kind != TOK_COLON) {
    op->src_name = first;
  } else {
    file = first;
  }
  if (file) {
    lex_next(L); /* : */
    int line = (int)irp_int(P, 0, INT32_MAX, "line");
    irp_eat(P, TOK_COLON, "':'");
    int col = (int)irp_int(P, 0, INT32_MAX, "column");
    op->src = diag_loc(file, line, col);
  }
  irp_eat(P, TOK_RPAREN, "')'");
}

/* `{ ^name(args): ops ... }`, each region put in the op table's slot. */
static void parse_regions(Parser *P, IrOp *op) {
  Lexer *L = &P->lex;
  const IrOpInfo *info = ops_info(op->kind);
  if (++P->depth > IRP_MAX_DEPTH) lex_error(L, irp_loc(P), "regions nested deeper than %d", IRP_MAX_DEPTH);
  lex_next(L); /* { */
  bool seen[IR_OP_MAX_REGIONS] = {false};
  irp_expect(P, TOK_CARET, "region label '^name'");
  while (L->tok.kind == TOK_CARET) {
    int idx = -1;
    for (int i = 0; i < info->nregions; i++)
      if (strcmp(info->regions[i], L->tok.str) == 0) idx = i;
    if (idx < 0) lex_error(L, irp_loc(P), "unknown region '^%s' for op '%s'", L->tok.str, info->name);
    if (seen[idx]) lex_error(L, irp_loc(P), "duplicate region '^%s'", L->tok.str);
    seen[idx] = true;
    IrRegion *r = op->regions[idx];
    lex_next(L);
    if (L->tok.kind == TOK_LPAREN) parse_args(P, r);
    irp_eat(P, TOK_COLON, "':'");
    parse_ops(P, r, true);
  }
  irp_expect(P, TOK_RBRACE, "'}' or a region label");
  for (int i = 0; i < info->nregions; i++)
    if (!seen[i]) lex_error(L, irp_loc(P), "missing region '^%s' of op '%s'", info->regions[i], info->name);
  lex_next(L);
  P->depth--;
}

static void parse_op(Parser *P, IrRegion *r) {
  Lexer *L = &P->lex;
  DiagLoc pos = irp_loc(P);
  P->operands.len = P->results.len = P->result_locs.len = P->types.len = 0;
  if (lex_is_ident(L, "return")) {
    lex_next(L);
    if (at_operand(P)) {
      for (;;) {
        parse_operand(P);
        if (L->tok.kind != TOK_COMMA) break;
        lex_next(L);
      }
    }
    IrOp *op = ir_op_create(P->m, IR_OP_RETURN, P->operands.data, (uint32_t)P->operands.len, NULL, 0, 0);
    op->pos = pos;
    ir_region_append(r, op);
    return;
  }
  if (L->tok.kind == TOK_VALUE) {
    for (;;) {
      irp_expect(P, TOK_VALUE, "result name");
      IRP_PUSH(&P->results, const char *, L->tok.str);
      IRP_PUSH(&P->result_locs, DiagLoc, irp_loc(P));
      lex_next(L);
      if (L->tok.kind != TOK_COMMA) break;
      lex_next(L);
    }
    irp_eat(P, TOK_EQUAL, "'='");
  }
  irp_expect(P, TOK_IDENT, "op name");
  IrOpKind kind;
  if (L->tok.len > 256 || !ops_lookup(L->tok.start, (int)L->tok.len, &kind))
    lex_error(L, irp_loc(P), "unknown op '%.*s'", (int)(L->tok.len > 256 ? 256 : L->tok.len), L->tok.start);
  lex_next(L);
  irp_eat(P, TOK_LPAREN, "'('");
  if (L->tok.kind != TOK_RPAREN) {
    for (;;) {
      parse_operand(P);
      if (L->tok.kind != TOK_COMMA) break;
      lex_next(L);
    }
  }
  irp_eat(P, TOK_RPAREN, "')'");
  IrAttr *attrs = NULL;
  uint32_t nattrs = 0;
  if (L->tok.kind == TOK_LBRACE) {
    Lexer peek = *L;
    lex_next(&peek);
    if (peek.tok.kind != TOK_CARET) irp_attr_dict(P, &attrs, &nattrs);
  }
  /* Without ':' a count mismatch is the op's fault, not the next token's. */
  DiagLoc types_loc = pos;
  if (L->tok.kind == TOK_COLON) {
    lex_next(L);
    types_loc = irp_loc(P);
    for (;;) {
      IRP_PUSH(&P->types, const IrType *, irp_type(P));
      if (L->tok.kind != TOK_COMMA) break;
      lex_next(L);
    }
  }
  if (P->types.len != P->results.len)
    lex_error(L, types_loc, "expected %zu result type%s, got %zu", P->results.len, P->results.len == 1 ? "" : "s",
              P->types.len);
  if (P->operands.len > UINT32_MAX || P->results.len > UINT32_MAX) lex_error(L, pos, "op too large");
  const IrOpInfo *info = ops_info(kind);
  IrOp *op = ir_op_create(P->m, kind, P->operands.data, (uint32_t)P->operands.len, P->types.data,
                          (uint32_t)P->results.len, (uint32_t)info->nregions);
  op->attrs = attrs;
  op->nattrs = op->attrs_cap = nattrs;
  op->pos = pos;
  if (lex_is_ident(L, "loc")) parse_loc(P, op);
  ir_region_append(r, op);
  const char **names = P->results.data;
  const DiagLoc *locs = P->result_locs.data;
  for (uint32_t i = 0; i < op->nresults; i++) define_value(P, names[i], op->results[i], locs[i]);
  if (L->tok.kind == TOK_LBRACE)
    parse_regions(P, op);
  else if (info->nregions > 0)
    lex_error(L, pos, "missing region '^%s' of op '%s'", info->regions[0], info->name);
}

static void parse_ops(Parser *P, IrRegion *r, bool nested) {
  for (;;) {
    TokKind k = P->lex.tok.kind;
    if (k == TOK_RBRACE || (nested && k == TOK_CARET)) return;
    if (k == TOK_EOF) lex_expected(&P->lex, "op or '}'");
    parse_op(P, r);
  }
}

/* ---- module level --------------------------------------------------- */

static void parse_const(Parser *P) {
  Lexer *L = &P->lex;
  DiagLoc loc = irp_loc(P);
  lex_next(L);
  irp_expect(P, TOK_SYMBOL, "constant name '@name'");
  const char *name = L->tok.str;
  IrpConst *pc = strmap_get(&P->consts, name);
  if (pc && pc->defined) {
    diag_error(P->diag, irp_loc(P), "redefinition of constant '@%s'", name);
    diag_note(P->diag, pc->def_loc, "previous definition is here");
    lex_fail(L);
  }
  lex_next(L);
  irp_eat(P, TOK_COLON, "':'");
  DiagLoc type_loc = irp_loc(P);
  const IrType *t = irp_type(P);
  irp_eat(P, TOK_EQUAL, "'='");
  size_t nbytes;
  bool splat = false;
  const void *data;
  if (lex_is_ident(L, "dense"))
    data = irp_dense(P, t, type_loc, &nbytes, &splat);
  else if (lex_is_ident(L, "external"))
    data = irp_external(P, t, type_loc, &nbytes);
  else
    lex_expected(L, "'dense' or 'external'");
  IrConst *c = irp_const_ref(P, name, loc);
  pc = strmap_get(&P->consts, name);
  pc->defined = true;
  pc->def_loc = loc;
  c->type = t;
  c->splat = splat;
  c->data = data;
  c->nbytes = nbytes;
  c->loc = loc;
  ir_module_add_const(P->m, c);
}

static void parse_func(Parser *P) {
  Lexer *L = &P->lex;
  DiagLoc loc = irp_loc(P);
  lex_next(L);
  irp_expect(P, TOK_SYMBOL, "function name '@name'");
  IrFunc *prev = strmap_get(&P->funcs, L->tok.str);
  if (prev) {
    diag_error(P->diag, irp_loc(P), "redefinition of function '@%s'", L->tok.str);
    diag_note(P->diag, prev->pos, "previous definition is here");
    lex_fail(L);
  }
  IrFunc *f = ir_func_create(P->m, L->tok.str);
  f->pos = loc;
  strmap_put(&P->funcs, f->name, f);
  lex_next(L);
  strmap_free(&P->values);
  strmap_init(&P->values);
  parse_args(P, f->body);
  irp_eat(P, TOK_ARROW, "'->'");
  irp_eat(P, TOK_LPAREN, "'('");
  P->types.len = 0;
  if (L->tok.kind != TOK_RPAREN) {
    for (;;) {
      IRP_PUSH(&P->types, const IrType *, irp_type(P));
      if (L->tok.kind != TOK_COMMA) break;
      lex_next(L);
    }
  }
  irp_eat(P, TOK_RPAREN, "')'");
  if (P->types.len > UINT32_MAX) lex_error(L, loc, "too many results");
  ir_func_set_results(f, P->types.data, (uint32_t)P->types.len);
  irp_eat(P, TOK_LBRACE, "'{'");
  parse_ops(P, f->body, false);
  lex_next(L); /* } */
  check_undefined(P);
}

static void parse_module(Parser *P) {
  Lexer *L = &P->lex;
  lex_next(L);
  if (!lex_is_ident(L, "module")) lex_expected(L, "'module'");
  lex_next(L);
  if (L->tok.kind == TOK_SYMBOL) {
    P->m->name = L->tok.str;
    lex_next(L);
  }
  if (lex_is_ident(L, "attributes")) {
    lex_next(L);
    irp_attr_dict(P, &P->m->attrs, &P->m->nattrs);
    P->m->attrs_cap = P->m->nattrs;
  }
  irp_eat(P, TOK_LBRACE, "'{'");
  for (;;) {
    if (lex_is_ident(L, "const"))
      parse_const(P);
    else if (lex_is_ident(L, "func"))
      parse_func(P);
    else if (L->tok.kind == TOK_RBRACE)
      break;
    else
      lex_expected(L, "'const', 'func' or '}'");
  }
  lex_next(L);
  if (L->tok.kind != TOK_EOF) lex_error(L, irp_loc(P), "expected end of file after the module");
  /* Constants may be referenced before they are defined; any still
   * undefined is an error at its first use. */
  const IrpConst *first = NULL;
  for (size_t i = 0; i < P->consts.cap; i++) {
    const IrpConst *pc = P->consts.keys[i] ? P->consts.vals[i] : NULL;
    if (pc && !pc->defined &&
        (!first || pc->use_loc.line < first->use_loc.line ||
         (pc->use_loc.line == first->use_loc.line && pc->use_loc.col < first->use_loc.col)))
      first = pc;
  }
  if (first) lex_error(L, first->use_loc, "undefined constant '@%s'", first->c->name);
}

/* ---- entry points --------------------------------------------------- */

static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return xstrdup(".");
  if (slash == path) return xstrdup("/");
  size_t n = (size_t)(slash - path);
  char *s = xmalloc(n + 1);
  memcpy(s, path, n);
  s[n] = '\0';
  return s;
}

static void free_vec(IrpVec *v) { free(v->data); }

static void parser_free(Parser *P) {
  for (size_t i = 0; i < P->weights.cap; i++)
    if (P->weights.keys[i]) weights_file_free(P->weights.vals[i]);
  strmap_free(&P->weights);
  strmap_free(&P->values);
  strmap_free(&P->consts);
  strmap_free(&P->funcs);
  strmap_free(&P->attr_names);
  IrpVec *vecs[] = {&P->dims, &P->scales,   &P->zps,     &P->data,       &P->attrs,
                    &P->list_i, &P->list_f, &P->list_s,  &P->operands,   &P->results,
                    &P->result_locs, &P->types, &P->numbuf};
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) free_vec(vecs[i]);
  arena_release(&P->tmp);
  free(P->base_dir);
  ir_module_destroy(P->m);
}

IrModule *ir_parse(Diag *d, const char *path, const char *text, size_t len, const IrParseOptions *opts) {
  ops_init();
  Parser *P = xcalloc(1, sizeof *P);
  P->diag = d;
  P->path = path;
  P->m = ir_module_create(NULL);
  arena_init(&P->tmp);
  P->base_dir = opts && opts->base_dir ? xstrdup(opts->base_dir) : folder_of(path);
  lex_init(&P->lex, path, text, len, opts ? opts->line_offset : 0, d, &P->fail, &P->m->arena);
  if (setjmp(P->fail) == 0) {
    parse_module(P);
    P->result = P->m;
    P->m = NULL;
  }
  IrModule *m = P->result;
  parser_free(P);
  free(P);
  return m;
}

IrModule *ir_parse_file(Diag *d, const char *path, char **text_out) {
  *text_out = NULL;
  size_t len;
  char *text = fileio_read_path(path, "file", &len, d, diag_loc(path, 0, 0));
  if (!text) return NULL;
  *text_out = text;
  diag_add_source(d, path, text, len, 0);
  return ir_parse(d, path, text, len, NULL);
}
