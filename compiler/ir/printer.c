/* The .qir printer (docs/ir.md). Output is deterministic and parses back to
 * the same text: value names are made unique per function (ir/names.h:
 * duplicates get _1, _2, ... suffixes, unnamed values the smallest unused
 * numbers), floats print as their shortest round-tripping decimal, float
 * element types without an exact decimal spelling (NaN payloads) as hex bit
 * patterns.
 * With a weights writer, large pool constants go to the weights file. */
#include "ir/text.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

#include "ir/names.h"
#include "ir/numfmt.h"
#include "quant/floatfmt.h"

/* ---- lexical helpers ------------------------------------------------ */

static bool is_name_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '$' || c == '-';
}

/* [A-Za-z0-9_.$-]+: value and symbol names that need no quotes. */
static bool is_bare_name(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!is_name_char((unsigned char)*s)) return false;
  return true;
}

/* [A-Za-z_][A-Za-z0-9_.$-]*: attribute names that need no quotes. */
static bool is_identifier(const char *s) {
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return false;
  return is_bare_name(s);
}

static void print_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20 || *p > 0x7E)
        fprintf(out, "\\x%02X", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

/* A value or symbol name after its sigil: bare when possible. */
static void print_name(FILE *out, char sigil, const char *name) {
  fputc(sigil, out);
  if (is_bare_name(name))
    fputs(name, out);
  else
    print_string(out, name);
}

static void print_float(FILE *out, float f) {
  char buf[NUMFMT_BUFSZ];
  fputs(numfmt_float(buf, f), out);
}

/* ---- types ---------------------------------------------------------- */

static void print_quant(FILE *out, const IrQuant *q) {
  fprintf(out, "!quant<%s:%s", ir_elem_name(q->storage), ir_elem_name(q->expressed));
  if (q->kind != IR_QUANT_PER_TENSOR) fprintf(out, ":axis=%" PRId32, q->axis);
  if (q->kind == IR_QUANT_PER_BLOCK) fprintf(out, ":block=%" PRId64, q->block_size);
  fputs(", ", out);
  /* A per-tensor list of more than one pair is invalid but must still
   * round-trip so the verifier, not the parser, reports it. */
  bool braces = q->kind != IR_QUANT_PER_TENSOR || q->num != 1;
  if (braces) fputc('{', out);
  for (int64_t i = 0; i < q->num; i++) {
    if (i) fputs(", ", out);
    print_float(out, q->scales[i]);
    fprintf(out, ":%" PRId64, q->zero_points[i]);
  }
  if (braces) fputc('}', out);
  fputc('>', out);
}

void ir_print_type(FILE *out, const IrType *t) {
  fputs("tensor<", out);
  if (t->rank < 0) fputs("*x", out);
  for (int32_t i = 0; i < t->rank; i++) {
    const IrDim *d = &t->dims[i];
    if (d->sym)
      fprintf(out, "[%s]x", d->sym);
    else if (d->size < 0)
      fputs("?x", out);
    else
      fprintf(out, "%" PRId64 "x", d->size);
  }
  if (t->quant)
    print_quant(out, t->quant);
  else
    fputs(ir_elem_name(t->elem), out);
  fputc('>', out);
}

/* ---- constants ------------------------------------------------------ */

static void print_element(FILE *out, const IrConst *c, int64_t i) {
  IrElem e = c->type->elem;
  uint64_t bits = ir_const_bits(c, i);
  char buf[NUMFMT_BUFSZ];
  switch (ir_elem_info[e].cls) {
  case IR_CLASS_BOOL: fputs(bits ? "true" : "false", out); return;
  case IR_CLASS_UINT:
    if (e == IR_ELEM_U64) {
      fprintf(out, "%" PRIu64, bits);
      return;
    }
    /* fall through */
  case IR_CLASS_SINT: fprintf(out, "%" PRId64, ir_elem_load_int(e, c->data, c->splat ? 0 : i)); return;
  case IR_CLASS_FLOAT: break;
  }
  if (e == IR_ELEM_F32) {
    fputs(numfmt_float(buf, (float)q_float_decode(e, bits)), out);
    return;
  }
  if (e == IR_ELEM_F64) {
    fputs(numfmt_double(buf, q_float_decode(e, bits)), out);
    return;
  }
  /* Every value of a format of 16 bits or fewer is a float: print it when
   * it encodes back to the same bits, as the parser will encode it. */
  double v = q_float_decode(e, bits);
  uint64_t back;
  if (q_float_encode(e, v, Q_OVERFLOW_ERROR, &back) && back == bits)
    fputs(numfmt_float(buf, (float)v), out);
  else
    fprintf(out, "0x%0*" PRIX64, 2 * ir_elem_bytes(e), bits);
}

static void print_dense(FILE *out, const IrConst *c) {
  fputs("dense<", out);
  if (c->splat) {
    print_element(out, c, 0);
  } else {
    int64_t n = ir_type_numel(c->type);
    assert(n >= 0 && (size_t)n * (size_t)ir_elem_bytes(c->type->elem) == c->nbytes);
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
      if (i) fputs(", ", out);
      print_element(out, c, i);
    }
    fputc(']', out);
  }
  fputc('>', out);
}

/* ---- attributes ----------------------------------------------------- */

void ir_print_attr_value(FILE *out, const IrAttr *a) {
  static const char *const empty_kind[] = {
      [IR_ATTR_INTS] = "ints", [IR_ATTR_FLOATS] = "floats", [IR_ATTR_STRINGS] = "strings"};
  uint32_t n = 0;
  switch (a->kind) {
  case IR_ATTR_INT: fprintf(out, "%" PRId64, a->u.i); return;
  case IR_ATTR_FLOAT: print_float(out, a->u.f); return;
  case IR_ATTR_STRING: print_string(out, a->u.s); return;
  case IR_ATTR_INTS: n = a->u.ints.n; break;
  case IR_ATTR_FLOATS: n = a->u.floats.n; break;
  case IR_ATTR_STRINGS: n = a->u.strings.n; break;
  case IR_ATTR_TENSOR:
    if (a->u.tensor->name) {
      print_name(out, '@', a->u.tensor->name);
    } else {
      print_dense(out, a->u.tensor);
      fputs(" : ", out);
      ir_print_type(out, a->u.tensor->type);
    }
    return;
  case IR_ATTR_TYPE: ir_print_type(out, a->u.type); return;
  default: assert(!"unknown attribute kind"); return;
  }
  if (n == 0) {
    fprintf(out, "[] : %s", empty_kind[a->kind]);
    return;
  }
  fputc('[', out);
  for (uint32_t i = 0; i < n; i++) {
    if (i) fputs(", ", out);
    if (a->kind == IR_ATTR_INTS)
      fprintf(out, "%" PRId64, a->u.ints.v[i]);
    else if (a->kind == IR_ATTR_FLOATS)
      print_float(out, a->u.floats.v[i]);
    else
      print_string(out, a->u.strings.v[i]);
  }
  fputc(']', out);
}

static void print_attr_dict(FILE *out, const IrAttr *attrs, uint32_t n) {
  fputc('{', out);
  for (uint32_t i = 0; i < n; i++) {
    if (i) fputs(", ", out);
    if (is_identifier(attrs[i].name))
      fputs(attrs[i].name, out);
    else
      print_string(out, attrs[i].name);
    fputs(" = ", out);
    ir_print_attr_value(out, &attrs[i]);
  }
  fputc('}', out);
}

/* ---- printer state -------------------------------------------------- */

typedef struct Printer {
  FILE *out;
  const IrPrintOptions *opts;
  bool ok;        /* false once a weights blob failed to write (reported) */
  IrNames *names; /* the current function's printed value names */
} Printer;

/* A value defined outside the function (broken IR printed unverified)
 * still gets a name rather than a crash. */
static const char *value_name(Printer *p, const IrValue *v) { return ir_names_get_or_add(p->names, v); }

/* ---- ops, regions, functions ---------------------------------------- */

static void indent(FILE *out, int n) { fprintf(out, "%*s", n, ""); }

static void print_value(Printer *p, const IrValue *v) { print_name(p->out, '%', value_name(p, v)); }

static void print_loc(FILE *out, const IrOp *op) {
  if (!op->src_name && !op->src.file) return;
  fputs(" loc(", out);
  if (op->src_name) print_string(out, op->src_name);
  if (op->src_name && op->src.file) fputs(" at ", out);
  if (op->src.file) {
    print_string(out, op->src.file);
    fprintf(out, ":%d:%d", op->src.line, op->src.col);
  }
  fputc(')', out);
}

static void print_operands(Printer *p, const IrOp *op) {
  for (uint32_t i = 0; i < op->noperands; i++) {
    if (i) fputs(", ", p->out);
    const IrValue *v = op->operands[i].value;
    if (v)
      print_value(p, v);
    else
      fputs("none", p->out);
  }
}

static void print_region_args(Printer *p, const IrRegion *r) {
  for (uint32_t i = 0; i < r->nargs; i++) {
    if (i) fputs(", ", p->out);
    print_value(p, r->args[i]);
    fputs(": ", p->out);
    ir_print_type(p->out, r->args[i]->type);
  }
}

static void print_ops(Printer *p, const IrRegion *r, int ind);

static void print_op(Printer *p, const IrOp *op, int ind) {
  FILE *out = p->out;
  indent(out, ind);
  if (op->kind == IR_OP_RETURN) {
    fputs("return", out);
    if (op->noperands) fputc(' ', out);
    print_operands(p, op);
    fputc('\n', out); /* the grammar gives return no loc(...) */
    return;
  }
  for (uint32_t i = 0; i < op->nresults; i++) {
    if (i) fputs(", ", out);
    print_value(p, op->results[i]);
  }
  if (op->nresults) fputs(" = ", out);
  fprintf(out, "%s(", ops_name(op->kind));
  print_operands(p, op);
  fputc(')', out);
  if (op->nattrs) {
    fputc(' ', out);
    print_attr_dict(out, op->attrs, op->nattrs);
  }
  for (uint32_t i = 0; i < op->nresults; i++) {
    fputs(i ? ", " : " : ", out);
    ir_print_type(out, op->results[i]->type);
  }
  print_loc(out, op);
  if (!op->nregions) {
    fputc('\n', out);
    return;
  }
  fputs(" {\n", out);
  for (uint32_t i = 0; i < op->nregions; i++) {
    const IrRegion *r = op->regions[i];
    indent(out, ind);
    fprintf(out, "^%s", r->name);
    if (r->nargs) {
      fputc('(', out);
      print_region_args(p, r);
      fputc(')', out);
    }
    fputs(":\n", out);
    print_ops(p, r, ind + 2);
  }
  indent(out, ind);
  fputs("}\n", out);
}

static void print_ops(Printer *p, const IrRegion *r, int ind) {
  for (const IrOp *op = r->first; op; op = op->next) print_op(p, op, ind);
}

static void print_func(Printer *p, const IrFunc *f) {
  FILE *out = p->out;
  p->names = ir_names_compute(f);
  fputs("  func ", out);
  print_name(out, '@', f->name);
  fputc('(', out);
  print_region_args(p, f->body);
  fputs(") -> (", out);
  for (uint32_t i = 0; i < f->nresults; i++) {
    if (i) fputs(", ", out);
    ir_print_type(out, f->result_types[i]);
  }
  fputs(") {\n", out);
  print_ops(p, f->body, 4);
  fputs("  }\n", out);
  ir_names_free(p->names);
  p->names = NULL;
}

/* ---- module --------------------------------------------------------- */

static void print_const(Printer *p, const IrConst *c) {
  FILE *out = p->out;
  fputs("  const ", out);
  print_name(out, '@', c->name);
  fputs(" : ", out);
  ir_print_type(out, c->type);
  fputs(" = ", out);
  const IrPrintOptions *o = p->opts;
  /* A splat holds one element, not the tensor's bytes: it stays inline. */
  if (o && o->weights && !c->splat && c->nbytes > o->inline_limit) {
    int64_t off = weights_writer_add(o->weights, c->data, c->nbytes);
    if (off < 0) {
      p->ok = false;
      fputs("dense<[]>\n", out); /* the caller discards the output */
      return;
    }
    fputs("external<", out);
    print_string(out, weights_writer_ref_name(o->weights));
    fprintf(out, ", %" PRId64 ", %zu>\n", off, c->nbytes);
    return;
  }
  print_dense(out, c);
  fputc('\n', out);
}

bool ir_print_module(FILE *out, const IrModule *m, const IrPrintOptions *opts, Diag *d) {
  (void)d; /* the weights writer reports to the Diag it was opened with */
  Printer p = {.out = out, .opts = opts, .ok = true};
  fputs("module", out);
  if (m->name) {
    fputc(' ', out);
    print_name(out, '@', m->name);
  }
  if (m->nattrs) {
    fputs(" attributes ", out);
    print_attr_dict(out, m->attrs, m->nattrs);
  }
  fputs(" {\n", out);
  for (uint32_t i = 0; i < m->nconsts; i++) print_const(&p, m->consts[i]);
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    if (i || m->nconsts) fputc('\n', out);
    print_func(&p, m->funcs[i]);
  }
  fputs("}\n", out);
  return p.ok;
}

char *ir_print_to_string(const IrModule *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    fputs("quench: out of memory\n", stderr);
    abort();
  }
  ir_print_module(f, m, NULL, NULL);
  fclose(f);
  return buf;
}
