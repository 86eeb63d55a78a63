/* The C backend's op table: for each op kind the emitter that plans its
 * buffers and writes the runtime call (qrt_ops.h for float, shape and
 * quantize ops; cgen_ops_int.c for the integer GEMM ops). An op without an
 * entry is refused by name. Every call computes what the interpreter's
 * kernel computes, bit for bit (docs/backends/c.md, runtime-ops.md). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "support/arena.h"

bool cg_emit_conv_integer(Cg *cg, const IrOp *op);
bool cg_emit_matmul_integer(Cg *cg, const IrOp *op);
bool cg_emit_qint(Cg *cg, const IrOp *op);
bool cg_try_lut(Cg *cg, const IrOp *dq, bool *handled);

#define MAXR 16

bool cg_fail(Cg *cg, const IrOp *op, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_report(cg->d, DIAG_ERROR, ir_op_diag_loc(op), "node '%s' (op '%s'): cannot compile to C: %s",
              op->src_name ? op->src_name : "?", ops_name(op->kind), msg);
  return false;
}

int64_t cg_numel(const IrValue *v) { return ir_type_numel(v->type); }
int64_t cg_bytes(const IrValue *v) { return cg_numel(v) * ir_elem_bytes(v->type->elem); }

bool cg_static_shape(Cg *cg, const IrOp *op, const IrValue *v, int32_t *rank, int64_t *dims) {
  const IrType *t = v->type;
  if (t->rank < 0 || t->rank > MAXR || !ir_type_is_static(t))
    return cg_fail(cg, op, "value '%s' has no static shape (bind the inputs' dims: --input-shape)",
                   v->name ? v->name : "?");
  *rank = t->rank;
  for (int32_t i = 0; i < t->rank; i++) dims[i] = t->dims[i].size;
  return true;
}

const char *cg_qrt_elem(IrElem e) {
  switch (e) {
  case IR_ELEM_F32: return "QRT_F32";
  case IR_ELEM_U8: return "QRT_U8";
  case IR_ELEM_I8: return "QRT_S8";
  case IR_ELEM_I32: return "QRT_I32";
  case IR_ELEM_I64: return "QRT_I64";
  case IR_ELEM_BOOL: return "QRT_BOOL";
  default: return NULL;
  }
}

static bool need_elem(Cg *cg, const IrOp *op, const IrValue *v, const char **out) {
  *out = cg_qrt_elem(v->type->elem);
  return *out ? true : cg_fail(cg, op, "element type %s has no C kernel", ir_elem_name(v->type->elem));
}

/* An operand's storage: a constant goes into the blob; any other value
 * must have been produced already. */
static bool operand(Cg *cg, const IrOp *op, const IrValue *v) {
  if (cg_const_of(v)) return cg_weight(cg, v);
  CgVal *e = cg_val(cg, v);
  if (!e || e->loc == CG_LOC_NONE) return cg_fail(cg, op, "operand '%s' is not materialized", v->name ? v->name : "?");
  cg_use(cg, v);
  return true;
}

static void result(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val_add(cg, v);
  e->loc = CG_LOC_ARENA;
  e->buf = cg_new_buf(cg, cg_bytes(v));
}

static const char *P(Cg *cg, const IrValue *v, char *b) { return cg_ptr(cg, v, b, 64); }

bool cg_operand(Cg *cg, const IrOp *op, const IrValue *v) { return operand(cg, op, v); }
void cg_result(Cg *cg, const IrValue *v) { result(cg, v); }

/* v as a C float literal that reads back exactly: "0.5f", "2.0f",
 * "INFINITY" (the generated file includes <math.h>). */
static const char *flit(float v, char *b) {
  if (isnan(v)) return strcpy(b, "NAN");
  if (isinf(v)) return strcpy(b, v < 0 ? "-INFINITY" : "INFINITY");
  int n = snprintf(b, 40, "%.9g", (double)v);
  if (!strpbrk(b, ".e")) n += snprintf(b + n, (size_t)(40 - n), ".0");
  snprintf(b + n, (size_t)(40 - n), "f");
  return b;
}

const char *cg_flit(float v, char *b) { return flit(v, b); }

static void comment(Cg *cg, const IrOp *op) {
  const IrValue *r = op->results[0];
  cg_str_printf(&cg->code, "  /* %s: %s -> %s[", op->src_name ? op->src_name : "-", ops_name(op->kind),
                ir_elem_name(r->type->elem));
  for (int32_t i = 0; i < r->type->rank; i++)
    cg_str_printf(&cg->code, "%s%lld", i ? "x" : "", (long long)r->type->dims[i].size);
  cg_str_printf(&cg->code, "] */\n");
}

/* `static const int64_t NAME[] = {...};` inside the current block. */
static void i64_array(Cg *cg, const char *name, const int64_t *v, int32_t n) {
  cg_str_printf(&cg->code, "    static const int64_t %s[] = {", name);
  for (int32_t i = 0; i < (n ? n : 1); i++) cg_str_printf(&cg->code, "%s%lld", i ? ", " : "", n ? (long long)v[i] : 0LL);
  cg_str_printf(&cg->code, "};\n");
}

/* ---- aliases ---------------------------------------------------------------- */

static bool emit_alias(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0);
  if (!operand(cg, op, x)) return false;
  cg_alias(cg, op->results[0], x);
  return true;
}

/* ---- unary float ------------------------------------------------------------ */

static bool const_f32_scalar(const IrValue *v, float *out) {
  const IrConst *c = v ? cg_const_of(v) : NULL;
  if (!c || c->type->elem != IR_ELEM_F32 || ir_type_numel(c->type) != 1) return false;
  memcpy(out, c->data, 4);
  return true;
}

static bool emit_unary(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  if (x->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "only f32 is compiled, not %s", ir_elem_name(x->type->elem));
  const char *code = NULL;
  float a = 0, b = 0;
  switch (op->kind) {
  case IR_OP_RELU: code = "QRT_RELU"; break;
  case IR_OP_SIGMOID: code = "QRT_SIGMOID"; break;
  case IR_OP_HARD_SIGMOID:
    code = "QRT_HARDSIGMOID", a = ir_op_attr_float(op, "alpha", 0.2f), b = ir_op_attr_float(op, "beta", 0.5f);
    break;
  case IR_OP_HARD_SWISH: code = "QRT_HARDSWISH"; break;
  case IR_OP_TANH: code = "QRT_TANH"; break;
  case IR_OP_GELU: {
    const char *ap = ir_op_attr_string(op, "approximate", "none");
    code = strcmp(ap, "tanh") == 0 ? "QRT_GELU_TANH" : "QRT_GELU";
    break;
  }
  case IR_OP_EXP: code = "QRT_EXP"; break;
  case IR_OP_LOG: code = "QRT_LOG"; break;
  case IR_OP_SQRT: code = "QRT_SQRT"; break;
  case IR_OP_RECIPROCAL: code = "QRT_RECIPROCAL"; break;
  case IR_OP_NEG: code = "QRT_NEG"; break;
  case IR_OP_ABS: code = "QRT_ABS"; break;
  case IR_OP_ERF: code = "QRT_ERF"; break;
  case IR_OP_LEAKY_RELU: code = "QRT_LEAKYRELU", a = ir_op_attr_float(op, "alpha", 0.01f); break;
  case IR_OP_SOFTPLUS: code = "QRT_SOFTPLUS"; break;
  case IR_OP_ELU: code = "QRT_ELU", a = ir_op_attr_float(op, "alpha", 1.0f); break;
  case IR_OP_CLIP:
    code = "QRT_CLIP", a = -INFINITY, b = INFINITY;
    if ((op->noperands > 1 && ir_op_operand(op, 1) && !const_f32_scalar(ir_op_operand(op, 1), &a)) ||
        (op->noperands > 2 && ir_op_operand(op, 2) && !const_f32_scalar(ir_op_operand(op, 2), &b)))
      return cg_fail(cg, op, "min and max must be constant f32 scalars");
    break;
  default: return cg_fail(cg, op, "no C kernel");
  }
  if (!operand(cg, op, x)) return false;
  result(cg, y);
  char xp[64], yp[64], al[40], bl[40];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_unary_f32_mt(pool, %s, %s, %s, (const float *)%s, (float *)%s, %lld);\n", code,
                flit(a, al), flit(b, bl), P(cg, x, xp), P(cg, y, yp), (long long)cg_numel(y));
  return true;
}

/* ---- broadcasting and strided copies --------------------------------------------- */

/* Strides of a value of shape (r, d) read as the broadcast shape (or, od):
 * aligned right, 0 along broadcast dims. */
static void bcast_strides(int32_t r, const int64_t *d, int32_t orank, const int64_t *od, int64_t *st) {
  int64_t s = 1;
  for (int32_t i = orank - 1; i >= 0; i--) {
    int32_t j = i - (orank - r);
    if (j < 0 || d[j] == 1 || od[i] == 1) st[i] = 0;
    else st[i] = s;
    if (j >= 0) s *= d[j];
  }
}

/* Drops unit dims and merges adjacent dims that every operand walks
 * contiguously, so the runtime's rows are long. st[k] for k < nops. */
static int32_t collapse(int32_t rank, int64_t *dims, int nops, int64_t (*st)[MAXR]) {
  int32_t n = 0;
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] == 1) continue;
    bool merge = n > 0;
    for (int k = 0; k < nops && merge; k++) merge = st[k][n - 1] == st[k][i] * dims[i];
    if (merge) {
      dims[n - 1] *= dims[i];
      for (int k = 0; k < nops; k++) st[k][n - 1] = st[k][i];
    } else {
      dims[n] = dims[i];
      for (int k = 0; k < nops; k++) st[k][n] = st[k][i];
      n++;
    }
  }
  return n;
}

static bool emit_binary(Cg *cg, const IrOp *op) {
  const char *code;
  bool cmp = false;
  switch (op->kind) {
  case IR_OP_ADD: code = "QRT_ADD"; break;
  case IR_OP_SUB: code = "QRT_SUB"; break;
  case IR_OP_MUL: code = "QRT_MUL"; break;
  case IR_OP_DIV: code = "QRT_DIV"; break;
  case IR_OP_MAX: code = "QRT_MAX"; break;
  case IR_OP_MIN: code = "QRT_MIN"; break;
  case IR_OP_POW: code = "QRT_POW"; break;
  case IR_OP_EQUAL: code = "QRT_EQUAL", cmp = true; break;
  case IR_OP_LESS: code = "QRT_LESS", cmp = true; break;
  case IR_OP_GREATER: code = "QRT_GREATER", cmp = true; break;
  default: return cg_fail(cg, op, "no C kernel");
  }
  if (op->noperands != 2) return cg_fail(cg, op, "only the two-operand form is compiled");
  const IrValue *a = ir_op_operand(op, 0), *b = ir_op_operand(op, 1), *y = op->results[0];
  const char *el;
  if (!need_elem(cg, op, a, &el)) return false;
  if (a->type->elem != b->type->elem) return cg_fail(cg, op, "operand types differ");
  if (op->kind == IR_OP_POW && a->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "Pow is compiled for f32 only");
  if (op->kind == IR_OP_DIV && a->type->elem != IR_ELEM_F32) {
    /* The interpreter stops on an integer division by zero; compiled code
     * cannot, so only a constant divisor without zeros is compiled. */
    const IrConst *dc = cg_const_of(b);
    bool nonzero = dc != NULL;
    for (int64_t i = 0; nonzero && i < ir_type_numel(dc->type); i++)
      nonzero = ir_elem_load_int(dc->type->elem, dc->data, dc->splat ? 0 : i) != 0;
    if (!nonzero) return cg_fail(cg, op, "integer Div needs a constant divisor without zeros");
  }
  (void)cmp;
  int32_t ar, br, yr;
  int64_t ad[MAXR], bd[MAXR], yd[MAXR], st[2][MAXR];
  if (!cg_static_shape(cg, op, a, &ar, ad) || !cg_static_shape(cg, op, b, &br, bd) ||
      !cg_static_shape(cg, op, y, &yr, yd))
    return false;
  bcast_strides(ar, ad, yr, yd, st[0]);
  bcast_strides(br, bd, yr, yd, st[1]);
  int32_t n = collapse(yr, yd, 2, st);
  if (n > 8) return cg_fail(cg, op, "more than 8 dims after merging");
  if (!operand(cg, op, a) || !operand(cg, op, b)) return false;
  result(cg, y);
  char ap[64], bp[64], yp[64];
  comment(cg, op);
  cg_str_printf(&cg->code, "  {\n");
  i64_array(cg, "d", yd, n);
  i64_array(cg, "sa", st[0], n);
  i64_array(cg, "sb", st[1], n);
  cg_str_printf(&cg->code, "    qrt_binary_mt(pool, %s, %s, %d, d, %s, sa, %s, sb, %s);\n  }\n", code, el, n, P(cg, a, ap),
                P(cg, b, bp), P(cg, y, yp));
  return true;
}

/* dst (contiguous, y's shape, eb-byte elements) = src read at element
 * strides st from element offset off. src is x's storage, or the 8-bit
 * codes standing for x (cg_emit_move_codes). */
static bool emit_copy(Cg *cg, const IrOp *op, const IrValue *src, int eb, int32_t rank, int64_t *dims,
                      int64_t (*st)[MAXR], int64_t off) {
  const IrValue *y = op->results[0];
  int32_t n = collapse(rank, dims, 1, st);
  if (!operand(cg, op, src)) return false;
  if (n == 1 && st[0][0] == 1) { /* one contiguous run of the source: a view of it, nothing copied */
    cg_alias(cg, y, src);
    cg_val(cg, y)->off += off * eb;
    comment(cg, op);
    cg_str_printf(&cg->code, "  /* a view of the source at byte %lld */\n", (long long)(off * eb));
    return true;
  }
  CgVal *e = cg_val_add(cg, y);
  e->loc = CG_LOC_ARENA;
  e->buf = cg_new_buf(cg, cg_numel(y) * eb);
  char xp[64], yp[64];
  comment(cg, op);
  cg_str_printf(&cg->code, "  {\n");
  i64_array(cg, "d", dims, n);
  i64_array(cg, "s", st[0], n);
  cg_str_printf(&cg->code, "    qrt_copy_strided(%d, %d, d, %s + %lld, s, %s);\n  }\n", eb, n, P(cg, src, xp),
                (long long)(off * eb), P(cg, y, yp));
  return true;
}

static void contig_strides(int32_t r, const int64_t *d, int64_t *st) {
  int64_t s = 1;
  for (int32_t i = r - 1; i >= 0; i--) st[i] = s, s *= d[i];
}

/* Integer list from constant operand i (NULL: absent). */
static bool const_ints(const IrOp *op, uint32_t i, int64_t *v, int32_t *n) {
  const IrValue *x = i < op->noperands ? ir_op_operand(op, i) : NULL;
  const IrConst *c = x ? cg_const_of(x) : NULL;
  if (!c || !ir_elem_is_int(c->type->elem) || ir_type_numel(c->type) > MAXR) return false;
  *n = (int32_t)ir_type_numel(c->type);
  for (int32_t k = 0; k < *n; k++) v[k] = ir_elem_load_int(c->type->elem, c->data, c->splat ? 0 : k);
  return true;
}

static bool emit_shape_copy_from(Cg *cg, const IrOp *op, const IrValue *src, int eb) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  int32_t xr, yr;
  int64_t xd[MAXR], yd[MAXR], st[1][MAXR], xs[MAXR], off = 0;
  if (!cg_static_shape(cg, op, x, &xr, xd) || !cg_static_shape(cg, op, y, &yr, yd)) return false;
  contig_strides(xr, xd, xs);
  if (op->kind == IR_OP_TRANSPOSE) {
    const IrAttr *p = ir_op_attr(op, "perm");
    for (int32_t i = 0; i < yr; i++) {
      int64_t from = p && p->kind == IR_ATTR_INTS && (int32_t)p->u.ints.n == yr ? p->u.ints.v[i] : yr - 1 - i;
      st[0][i] = xs[from];
    }
  } else if (op->kind == IR_OP_EXPAND) {
    bcast_strides(xr, xd, yr, yd, st[0]);
  } else { /* Slice */
    int64_t starts[MAXR], ends[MAXR], axes[MAXR], steps[MAXR];
    int32_t ns, ne, na = 0, nst = 0;
    if (!const_ints(op, 1, starts, &ns) || !const_ints(op, 2, ends, &ne) || ns != ne)
      return cg_fail(cg, op, "starts and ends must be constants");
    if (op->noperands > 3 && ir_op_operand(op, 3) && !const_ints(op, 3, axes, &na))
      return cg_fail(cg, op, "axes must be constant");
    if (op->noperands > 4 && ir_op_operand(op, 4) && !const_ints(op, 4, steps, &nst))
      return cg_fail(cg, op, "steps must be constant");
    for (int32_t i = 0; i < xr; i++) st[0][i] = xs[i];
    for (int32_t i = 0; i < ns; i++) {
      int64_t ax = na ? axes[i] : i, step = nst ? steps[i] : 1, s = starts[i], dim = xd[ax < 0 ? ax + xr : ax];
      if (ax < 0) ax += xr;
      if (s < 0) s += dim;
      /* ONNX clamps the start to [0, dim] going forward, [0, dim-1] back */
      if (step > 0) s = s < 0 ? 0 : s > dim ? dim : s;
      else s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
      off += s * xs[ax];
      st[0][ax] = xs[ax] * step;
    }
  }
  return emit_copy(cg, op, src, eb, yr, yd, st, off);
}

static bool emit_shape_copy(Cg *cg, const IrOp *op) {
  return emit_shape_copy_from(cg, op, ir_op_operand(op, 0), ir_elem_bytes(op->results[0]->type->elem));
}

bool cg_emit_move_codes(Cg *cg, const IrOp *op, const IrValue *src);
bool cg_emit_move_codes(Cg *cg, const IrOp *op, const IrValue *src) {
  if (op->kind == IR_OP_TRANSPOSE || op->kind == IR_OP_SLICE || op->kind == IR_OP_EXPAND)
    return emit_shape_copy_from(cg, op, src, 1);
  if (!operand(cg, op, src)) return false;
  cg_alias(cg, op->results[0], src);
  return true;
}

/* ---- Concat, Cast ----------------------------------------------------------------- */

static bool emit_concat(Cg *cg, const IrOp *op) {
  const IrValue *y = op->results[0];
  int32_t yr;
  int64_t yd[MAXR];
  if (!cg_static_shape(cg, op, y, &yr, yd)) return false;
  int64_t axis = ir_op_attr_int(op, "axis", 0);
  if (axis < 0) axis += yr;
  int64_t outer = 1, inner = (int64_t)ir_elem_bytes(y->type->elem);
  for (int32_t i = 0; i < axis; i++) outer *= yd[i];
  for (int32_t i = (int32_t)axis + 1; i < yr; i++) inner *= yd[i];
  for (uint32_t i = 0; i < op->noperands; i++)
    if (!operand(cg, op, ir_op_operand(op, i))) return false;
  result(cg, y);
  char yp[64], xp[64];
  comment(cg, op);
  int64_t at = 0;
  for (uint32_t i = 0; i < op->noperands; i++) {
    const IrValue *x = ir_op_operand(op, i);
    int64_t len = x->type->dims[axis].size;
    cg_str_printf(&cg->code,
                  "  for (int64_t o = 0; o < %lld; o++) memcpy(%s + (o * %lld + %lld) * %lld, %s + o * %lld, %lld);\n",
                  (long long)outer, P(cg, y, yp), (long long)yd[axis], (long long)at, (long long)inner, P(cg, x, xp),
                  (long long)(len * inner), (long long)(len * inner));
    at += len;
  }
  return true;
}

static bool emit_cast(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  const char *from, *to;
  if (!need_elem(cg, op, x, &from) || !need_elem(cg, op, y, &to) || !operand(cg, op, x)) return false;
  result(cg, y);
  char xp[64], yp[64];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_cast(%s, %s, %s, %s, %lld);\n", from, to, P(cg, x, xp), P(cg, y, yp),
                (long long)cg_numel(y));
  return true;
}

/* ---- reductions, softmax, layernorm ------------------------------------------------ */

/* GlobalAveragePool of a per-tensor DequantizeLinear of 8-bit codes:
 * averaged straight from the codes (qrt_dq_global_avg: exact partial sums,
 * so the vectorized order equals the interpreter's). False: not that
 * pattern (nothing emitted). */
bool cg_dq_gap_ok(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0);
  if (op->kind != IR_OP_GLOBAL_AVERAGE_POOL || x->kind != IR_VALUE_RESULT || x->def->kind != IR_OP_DEQUANTIZE_LINEAR ||
      x->type->rank < 3 || x->type->elem != IR_ELEM_F32)
    return false;
  const IrOp *dq = x->def;
  const IrValue *q = ir_op_operand(dq, 0), *zv = dq->noperands > 2 ? ir_op_operand(dq, 2) : NULL;
  const IrConst *sc = cg_const_of(ir_op_operand(dq, 1)), *zc = zv ? cg_const_of(zv) : NULL;
  const CgVal *qv = cg_val(cg, q);
  if ((q->type->elem != IR_ELEM_U8 && q->type->elem != IR_ELEM_I8) || !sc || sc->type->elem != IR_ELEM_F32 ||
      ir_type_numel(sc->type) != 1 || (zv && (!zc || ir_type_numel(zc->type) != 1)) || !qv ||
      qv->loc == CG_LOC_NONE || cg_const_of(q))
    return false;
  int64_t hw = 1;
  for (int32_t i = 2; i < x->type->rank; i++) {
    int64_t d = x->type->dims[i].size;
    if (d < 0) return false;
    hw *= d;
  }
  return hw <= ((int64_t)1 << 20);
}

static bool emit_dq_gap(Cg *cg, const IrOp *op, int32_t xr, const int64_t *xd) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  if (!cg_dq_gap_ok(cg, op)) return false;
  const IrOp *dq = x->def;
  const IrValue *q = ir_op_operand(dq, 0), *zv = dq->noperands > 2 ? ir_op_operand(dq, 2) : NULL;
  const IrConst *sc = cg_const_of(ir_op_operand(dq, 1)), *zc = zv ? cg_const_of(zv) : NULL;
  int64_t hw = 1;
  for (int32_t i = 2; i < xr; i++) hw *= xd[i];
  float s;
  memcpy(&s, sc->data, 4);
  long long z = zc ? (long long)ir_elem_load_int(zc->type->elem, zc->data, 0) : 0;
  cg_use(cg, q);
  result(cg, y);
  char qp[64], yp[64], sl[40];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_dq_global_avg(%s, %d, %s, %lld, %lld, %lld, (float *)%s, pool); /* from the codes */\n",
                P(cg, q, qp), q->type->elem == IR_ELEM_I8, flit(s, sl), z, (long long)(xd[0] * xd[1]),
                (long long)hw, P(cg, y, yp));
  return true;
}

static bool emit_reduce(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  if (x->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "only f32 is compiled");
  int32_t xr;
  int64_t xd[MAXR];
  if (!cg_static_shape(cg, op, x, &xr, xd)) return false;
  bool mask[MAXR] = {0};
  const char *code;
  switch (op->kind) {
  case IR_OP_GLOBAL_AVERAGE_POOL: code = "QRT_GLOBAL_AVG"; break;
  case IR_OP_GLOBAL_MAX_POOL: code = "QRT_GLOBAL_MAX"; break;
  case IR_OP_REDUCE_SUM: code = "QRT_RSUM"; break;
  case IR_OP_REDUCE_MEAN: code = "QRT_RMEAN"; break;
  case IR_OP_REDUCE_MAX: code = "QRT_RMAX"; break;
  case IR_OP_REDUCE_MIN: code = "QRT_RMIN"; break;
  case IR_OP_REDUCE_SUM_SQUARE: code = "QRT_RSUMSQ"; break;
  default: return cg_fail(cg, op, "no C kernel");
  }
  if (op->kind == IR_OP_GLOBAL_AVERAGE_POOL && emit_dq_gap(cg, op, xr, xd)) return true;
  if (op->kind == IR_OP_GLOBAL_AVERAGE_POOL || op->kind == IR_OP_GLOBAL_MAX_POOL) {
    for (int32_t i = 2; i < xr; i++) mask[i] = true;
  } else {
    int64_t ax[MAXR];
    int32_t na = 0;
    const IrAttr *aa = ir_op_attr(op, "axes");
    if (aa && aa->kind == IR_ATTR_INTS) {
      na = (int32_t)aa->u.ints.n;
      for (int32_t i = 0; i < na && i < MAXR; i++) ax[i] = aa->u.ints.v[i];
    } else if (op->noperands > 1 && ir_op_operand(op, 1) && !const_ints(op, 1, ax, &na)) {
      return cg_fail(cg, op, "axes must be constant");
    }
    if (na == 0 && ir_op_attr_int(op, "noop_with_empty_axes", 0)) return emit_alias(cg, op);
    for (int32_t i = 0; i < xr; i++) mask[i] = na == 0;
    for (int32_t i = 0; i < na; i++) mask[ax[i] < 0 ? ax[i] + xr : ax[i]] = true;
  }
  /* The reduced axes (ignoring unit dims) must be one contiguous block. */
  int32_t lo = -1, hi = -1;
  for (int32_t i = 0; i < xr; i++)
    if (mask[i] && xd[i] != 1) {
      if (lo < 0) lo = i;
      hi = i;
    }
  int64_t outer = 1, red = 1, inner = 1;
  for (int32_t i = 0; i < xr; i++) {
    if (lo >= 0 && i >= lo && i <= hi) {
      if (!mask[i] && xd[i] != 1) return cg_fail(cg, op, "reduced axes must be adjacent");
      red *= xd[i];
    } else if (lo >= 0 && i > hi) {
      inner *= xd[i];
    } else {
      outer *= xd[i];
    }
  }
  if (!operand(cg, op, x)) return false;
  result(cg, y);
  char xp[64], yp[64];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_reduce_f32_mt(pool, %s, (const float *)%s, (float *)%s, %lld, %lld, %lld);\n", code,
                P(cg, x, xp), P(cg, y, yp), (long long)outer, (long long)red, (long long)inner);
  return true;
}

static bool emit_softmax(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  int32_t xr;
  int64_t xd[MAXR];
  if (x->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "only f32 is compiled");
  if (!cg_static_shape(cg, op, x, &xr, xd)) return false;
  int64_t axis = ir_op_attr_int(op, "axis", -1);
  if (axis < 0) axis += xr;
  if (axis < 0 || axis >= (xr ? xr : 1)) return cg_fail(cg, op, "axis out of range");
  int64_t outer = 1, n = xr ? xd[axis] : 1, inner = 1;
  for (int32_t i = 0; i < axis; i++) outer *= xd[i];
  for (int32_t i = (int32_t)axis + 1; i < xr; i++) inner *= xd[i];
  if (!operand(cg, op, x)) return false;
  result(cg, y);
  char xp[64], yp[64];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_softmax_f32_mt(pool, %d, (const float *)%s, (float *)%s, %lld, %lld, %lld);\n",
                op->kind == IR_OP_LOG_SOFTMAX, P(cg, x, xp), P(cg, y, yp), (long long)outer, (long long)n,
                (long long)inner);
  return true;
}

static bool emit_layernorm(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *g = ir_op_operand(op, 1), *y = op->results[0];
  const IrValue *b = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  int32_t xr;
  int64_t xd[MAXR];
  if (x->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "only f32 is compiled");
  if (op->nresults > 1 && (ir_value_has_uses(op->results[1]) || (op->nresults > 2 && ir_value_has_uses(op->results[2]))))
    return cg_fail(cg, op, "the Mean and InvStdDev results are not compiled");
  if (!cg_static_shape(cg, op, x, &xr, xd)) return false;
  int64_t axis = ir_op_attr_int(op, "axis", -1);
  if (axis < 0) axis += xr;
  int64_t rows = 1, n = 1;
  for (int32_t i = 0; i < xr; i++) {
    if (i < axis) rows *= xd[i];
    else n *= xd[i];
  }
  if (cg_numel(g) != n || (b && cg_numel(b) != n)) return cg_fail(cg, op, "scale and bias must cover the normalized dims");
  if (!operand(cg, op, x) || !operand(cg, op, g) || (b && !operand(cg, op, b))) return false;
  result(cg, y);
  char xp[64], gp[64], bp[64], yp[64], el[40];
  comment(cg, op);
  cg_str_printf(&cg->code, "  qrt_layernorm_f32_mt(pool, (const float *)%s, (const float *)%s, %s%s, %s, (float *)%s, %lld, %lld);\n",
                P(cg, x, xp), P(cg, g, gp), b ? "(const float *)" : "", b ? P(cg, b, bp) : "NULL",
                flit(ir_op_attr_float(op, "epsilon", 1e-5f), el), P(cg, y, yp), (long long)rows, (long long)n);
  return true;
}

/* ---- QuantizeLinear / DequantizeLinear -------------------------------------------- */

static bool emit_qdq(Cg *cg, const IrOp *op) {
  bool q = op->kind == IR_OP_QUANTIZE_LINEAR;
  const IrValue *x = ir_op_operand(op, 0), *s = ir_op_operand(op, 1), *y = op->results[0];
  const IrValue *z = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  const IrConst *sc = cg_const_of(s), *zc = z ? cg_const_of(z) : NULL;
  if (!sc || sc->type->elem != IR_ELEM_F32 || (z && !zc))
    return cg_fail(cg, op, "scale and zero point must be constants (f32 scale)");
  if (ir_op_attr(op, "block_size") && ir_op_attr_int(op, "block_size", 0) != 0)
    return cg_fail(cg, op, "blocked quantization is not compiled");
  const IrValue *qv = q ? y : x;
  IrElem qe = qv->type->elem;
  if (qe != IR_ELEM_U8 && qe != IR_ELEM_I8 && !(qe == IR_ELEM_I32 && !q))
    return cg_fail(cg, op, "quantized type %s is not compiled (u8, i8%s)", ir_elem_name(qe), q ? "" : ", i32");
  if ((q ? x : y)->type->elem != IR_ELEM_F32) return cg_fail(cg, op, "only f32 is compiled");
  int32_t xr;
  int64_t xd[MAXR];
  if (!cg_static_shape(cg, op, x, &xr, xd)) return false;
  int64_t ch = ir_type_numel(sc->type), outer = 1, inner = 1;
  if (ch > 1) {
    int64_t axis = ir_op_attr_int(op, "axis", 1);
    if (axis < 0) axis += xr;
    if (axis < 0 || axis >= xr || xd[axis] != ch) return cg_fail(cg, op, "per-axis scale does not match the axis");
    for (int32_t i = 0; i < axis; i++) outer *= xd[i];
    for (int32_t i = (int32_t)axis + 1; i < xr; i++) inner *= xd[i];
  } else {
    outer = cg_numel(x);
  }
  int32_t *zp = xcalloc((size_t)ch, sizeof *zp);
  for (int64_t i = 0; zc && i < ch; i++)
    zp[i] = (int32_t)ir_elem_load_int(zc->type->elem, zc->data, zc->splat || ir_type_numel(zc->type) == 1 ? 0 : i);
  int64_t zoff = cg_blob_add(cg, zp, ch * 4);
  free(zp);
  if (!cg_weight(cg, s) || !operand(cg, op, x)) return false;
  result(cg, y);
  char xp[64], yp[64], sp[64];
  comment(cg, op);
  if (q)
    cg_str_printf(&cg->code,
                  "  qrt_quantize_f32_mt(pool, (const float *)%s, %s, %s, (const float *)%s, (const int32_t *)(W + %lld), %lld, "
                  "%lld, %lld);\n",
                  P(cg, x, xp), P(cg, y, yp), qe == IR_ELEM_U8 ? "QRT_U8" : "QRT_S8", P(cg, s, sp), (long long)zoff,
                  (long long)outer, (long long)ch, (long long)inner);
  else
    cg_str_printf(&cg->code,
                  "  qrt_dequantize_mt(pool, %s, %s, (float *)%s, (const float *)%s, (const int32_t *)(W + %lld), %lld, %lld, "
                  "%lld);\n",
                  P(cg, x, xp), cg_qrt_elem(qe), P(cg, y, yp), P(cg, s, sp), (long long)zoff, (long long)outer,
                  (long long)ch, (long long)inner);
  return true;
}

/* ---- dispatch -------------------------------------------------------------------- */

bool cg_emit_op(Cg *cg, const IrOp *op) {
  for (uint32_t i = 0; i < op->nresults; i++) {
    int32_t r;
    int64_t d[MAXR];
    if (ir_value_has_uses(op->results[i]) && !cg_static_shape(cg, op, op->results[i], &r, d)) return false;
  }
  switch (op->kind) {
  case IR_OP_RESHAPE:
  case IR_OP_SQUEEZE:
  case IR_OP_UNSQUEEZE:
  case IR_OP_FLATTEN:
  case IR_OP_IDENTITY: return emit_alias(cg, op);
  case IR_OP_CONV_INTEGER: return cg_emit_conv_integer(cg, op);
  case IR_OP_MATMUL_INTEGER: return cg_emit_matmul_integer(cg, op);
  case IR_OP_DEQUANTIZE_LINEAR: {
    bool handled;
    if (!cg_try_lut(cg, op, &handled)) return false;
    if (handled || cg_gate_defers(cg, op)) return true; /* a gate: emitted at its Mul */
    return emit_qdq(cg, op);
  }
  case IR_OP_QUANTIZE_LINEAR: return emit_qdq(cg, op);
  case IR_OP_TRANSPOSE:
  case IR_OP_SLICE:
  case IR_OP_EXPAND: return emit_shape_copy(cg, op);
  case IR_OP_CONCAT: return emit_concat(cg, op);
  case IR_OP_CAST: {
    bool handled;
    if (!cg_try_lut(cg, op, &handled)) return false;
    return handled || emit_cast(cg, op);
  }
  case IR_OP_SOFTMAX:
  case IR_OP_LOG_SOFTMAX: return emit_softmax(cg, op);
  case IR_OP_LAYER_NORM: return emit_layernorm(cg, op);
  case IR_OP_GLOBAL_AVERAGE_POOL:
  case IR_OP_GLOBAL_MAX_POOL:
  case IR_OP_REDUCE_SUM:
  case IR_OP_REDUCE_MEAN:
  case IR_OP_REDUCE_MAX:
  case IR_OP_REDUCE_MIN:
  case IR_OP_REDUCE_SUM_SQUARE: return emit_reduce(cg, op);
  case IR_OP_ADD:
  case IR_OP_SUB:
  case IR_OP_MUL: {
    bool handled;
    if (!cg_try_gate_mul(cg, op, &handled)) return false;
    return handled || emit_binary(cg, op);
  }
  case IR_OP_DIV:
  case IR_OP_MAX:
  case IR_OP_MIN:
  case IR_OP_POW:
  case IR_OP_EQUAL:
  case IR_OP_LESS:
  case IR_OP_GREATER: return emit_binary(cg, op);
  case IR_OP_MAX_POOL:
  case IR_OP_AVERAGE_POOL:
  case IR_OP_Q_ADD:
  case IR_OP_Q_MUL:
  case IR_OP_Q_AVERAGE_POOL:
  case IR_OP_Q_REQUANTIZE: return cg_emit_qint(cg, op);
  default: return emit_unary(cg, op);
  }
}
