/* Lookup-table fusion: a DequantizeLinear of an 8-bit per-tensor value (or
 * a Cast of bytes -- bool, u8, i8 -- to f32),
 * followed by a chain of elementwise float ops (unary activations, binary
 * ops with a scalar or per-channel constant, reshapes) and optionally a
 * per-tensor QuantizeLinear, is a function of the input byte (and the
 * channel): it becomes one table lookup, y = table[c][x], with 1-byte
 * (QuantizeLinear at the end) or f32 entries.
 *
 * The table is computed here by running the chain's own ops through the
 * reference interpreter (interp_eval_op) on all 256 codes of every channel,
 * so the compiled lookup equals the interpreter op for op, bit for bit, by
 * construction. This is what makes HardSwish, HardSigmoid or GELU between
 * two integer layers cost one byte load per element. docs/backends/c.md. */
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "interp/interp.h"
#include "support/arena.h"

bool cg_try_lut(Cg *cg, const IrOp *dq, bool *handled);
bool cg_emit_move_codes(Cg *cg, const IrOp *op, const IrValue *src);

#define MAX_CHAIN 32

static bool lut_unary(IrOpKind k) {
  switch (k) {
  case IR_OP_RELU: case IR_OP_SIGMOID: case IR_OP_HARD_SIGMOID: case IR_OP_HARD_SWISH: case IR_OP_TANH:
  case IR_OP_GELU: case IR_OP_EXP: case IR_OP_LOG: case IR_OP_SQRT: case IR_OP_RECIPROCAL: case IR_OP_NEG:
  case IR_OP_ABS: case IR_OP_ERF: case IR_OP_LEAKY_RELU: case IR_OP_SOFTPLUS: case IR_OP_ELU: case IR_OP_SWISH:
    return true;
  default: return false;
  }
}

static bool lut_binary(IrOpKind k) {
  return k == IR_OP_ADD || k == IR_OP_SUB || k == IR_OP_MUL || k == IR_OP_DIV || k == IR_OP_MAX || k == IR_OP_MIN ||
         k == IR_OP_POW;
}

static bool is_alias(IrOpKind k) {
  return k == IR_OP_RESHAPE || k == IR_OP_SQUEEZE || k == IR_OP_UNSQUEEZE || k == IR_OP_FLATTEN || k == IR_OP_IDENTITY;
}

/* Data movement right after the DequantizeLinear commutes with it (the
 * dequantization is per tensor and elementwise), so it moves the 8-bit
 * codes instead: a quarter of the bytes. */
static bool is_move(IrOpKind k) {
  return is_alias(k) || k == IR_OP_TRANSPOSE || k == IR_OP_SLICE || k == IR_OP_EXPAND;
}

bool cg_per_tensor_q(const IrOp *op) {
  const IrConst *s = cg_const_of(ir_op_operand(op, 1));
  const IrValue *z = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  const IrConst *zc = z ? cg_const_of(z) : NULL;
  if (!s || s->type->elem != IR_ELEM_F32 || ir_type_numel(s->type) != 1 || (z && (!zc || ir_type_numel(zc->type) != 1)))
    return false;
  return !ir_op_attr(op, "block_size") || ir_op_attr_int(op, "block_size", 0) == 0;
}

/* The constant operand of a binary chain op: scalar (axis -1) or varying
 * along exactly one axis of the chain value v (same shape as the result). */
static bool chan_const(const IrOp *op, const IrValue *v, int32_t *axis, int64_t *n) {
  const IrValue *o = ir_op_operand(op, ir_op_operand(op, 0) == v ? 1 : 0);
  const IrConst *c = cg_const_of(o);
  if (!c || c->type->elem != IR_ELEM_F32 || ir_op_operand(op, 0) == ir_op_operand(op, 1)) return false;
  if (!ir_type_equal(op->results[0]->type, v->type)) return false; /* v must not be broadcast */
  int32_t r = v->type->rank, cr = c->type->rank;
  if (cr > r) return false;
  *axis = -1;
  *n = 1;
  for (int32_t i = 0; i < cr; i++) {
    int64_t d = c->type->dims[i].size;
    if (d == 1) continue;
    if (*axis >= 0) return false;
    *axis = i + (r - cr);
    *n = d;
  }
  return true;
}

typedef struct Chain {
  const IrOp *lead[MAX_CHAIN]; /* leading data movement, done on the codes */
  int nlead;
  const IrOp *ops[MAX_CHAIN];
  int n;
  int32_t axis; /* channel axis of the chain value, -1: none */
  int64_t nch;
  bool aliases;
  const IrValue *end;
} Chain;

static void find_chain(const IrOp *dq, Chain *ch) {
  memset(ch, 0, sizeof *ch);
  ch->axis = -1;
  ch->nch = 1;
  const IrValue *v = dq->results[0];
  while (ch->nlead < MAX_CHAIN && ir_value_num_uses(v) == 1 && is_move(v->uses->user->kind) &&
         v->uses->index == 0 && ir_type_is_static(v->uses->user->results[0]->type))
    v = (ch->lead[ch->nlead++] = v->uses->user)->results[0];
  while (ch->n < MAX_CHAIN && ir_value_num_uses(v) == 1) {
    const IrOp *u = v->uses->user;
    if (u->nresults != 1 || !ir_type_is_static(u->results[0]->type) || u->results[0]->type->elem != IR_ELEM_F32) {
      if (u->kind == IR_OP_QUANTIZE_LINEAR && cg_per_tensor_q(u) && v->uses->index == 0 &&
          (u->results[0]->type->elem == IR_ELEM_U8 || u->results[0]->type->elem == IR_ELEM_I8))
        ch->ops[ch->n++] = u, v = u->results[0];
      break;
    }
    if (is_alias(u->kind) && ch->axis < 0) {
      ch->aliases = true;
    } else if (lut_unary(u->kind) && u->noperands == 1) {
    } else if (u->kind == IR_OP_CLIP) {
      bool ok = true;
      for (uint32_t i = 1; i < u->noperands; i++) {
        const IrValue *b = ir_op_operand(u, i);
        const IrConst *c = b ? cg_const_of(b) : NULL;
        ok = ok && (!b || (c && ir_type_numel(c->type) == 1));
      }
      if (!ok) break;
    } else if (lut_binary(u->kind) && u->noperands == 2) {
      int32_t ax;
      int64_t n;
      if (!chan_const(u, v, &ax, &n)) break;
      if (ax >= 0) {
        /* one channel axis for the whole chain, after any reshape, on a
         * value of rank >= 2 (the codes need a dim of their own) */
        if (ch->aliases || (ch->axis >= 0 && ch->axis != ax) || v->type->rank < 2) break;
        ch->axis = ax;
        ch->nch = n;
      }
    } else {
      break;
    }
    ch->ops[ch->n++] = u;
    v = u->results[0];
  }
  ch->end = v;
}

/* Runs the chain on every code of every channel; table[c * 256 + b] gets
 * the result for input bit pattern b in channel c. */
static bool eval_chain(Cg *cg, const IrOp *dq, const Chain *ch, void *table, int ebytes) {
  int32_t r = 1;
  int64_t dims[TENSOR_MAX_RANK], cax = 0, bax = 0;
  if (ch->axis >= 0) {
    /* The chain's shape (no reshapes in a per-channel chain): the channel
     * along its axis, the 256 codes along another. */
    r = ch->end->type->rank;
    for (int32_t i = 0; i < r; i++) dims[i] = 1;
    cax = ch->axis;
    bax = cax == r - 1 ? r - 2 : r - 1;
    dims[cax] = ch->nch;
    dims[bax] = 256;
  } else {
    dims[0] = 256;
  }
  Tensor *t = tensor_new(ir_op_operand(dq, 0)->type->elem, r, dims);
  int64_t st[TENSOR_MAX_RANK];
  tensor_strides(t, st);
  for (int64_t c = 0; c < ch->nch; c++)
    for (int64_t b = 0; b < 256; b++) tensor_set_bits(t, ch->axis >= 0 ? c * st[cax] + b * st[bax] : b, (uint64_t)b);
  bool ok = true;
  const IrOp *all[MAX_CHAIN + 1];
  all[0] = dq;
  for (int i = 0; i < ch->n; i++) all[i + 1] = ch->ops[i];
  for (int i = 0; ok && i <= ch->n; i++) {
    const IrOp *op = all[i];
    if (is_alias(op->kind)) continue;
    Tensor *in[4] = {0}, *out[2] = {0};
    bool own[4] = {0};
    /* the chain value is the one operand that is not a constant */
    for (uint32_t k = 0; k < op->noperands && k < 4; k++) {
      const IrValue *o = ir_op_operand(op, k);
      const IrConst *c = o ? cg_const_of(o) : NULL;
      if (c) {
        in[k] = tensor_from_const(c);
        own[k] = true;
      } else if (o) {
        in[k] = t;
      }
    }
    ok = interp_eval_op(op, in, out, cg->d);
    for (uint32_t k = 0; k < 4; k++)
      if (own[k]) tensor_free(in[k]);
    if (ok) {
      tensor_free(t);
      t = out[0];
      if (t->numel != 256 * ch->nch) ok = cg_fail(cg, op, "lookup-table evaluation changed the shape");
    }
  }
  if (ok) {
    int64_t ost[TENSOR_MAX_RANK];
    tensor_strides(t, ost);
    for (int64_t c = 0; c < ch->nch; c++)
      for (int64_t b = 0; b < 256; b++) {
        int64_t i = ch->axis >= 0 ? c * ost[cax] + b * ost[bax] : b;
        memcpy((uint8_t *)table + (c * 256 + b) * ebytes, (const uint8_t *)t->data + i * ebytes, (size_t)ebytes);
      }
  }
  tensor_free(t);
  return ok;
}

/* The chain after dq and its table, or false (nothing to fuse; *err set
 * when evaluating failed). */
static bool plan(Cg *cg, const IrOp *dq, Chain *ch, void **table, int *ebytes, bool *err) {
  *err = false;
  const IrValue *x = ir_op_operand(dq, 0);
  IrElem xe = x->type->elem;
  /* The chain starts at a per-tensor DequantizeLinear of 8-bit codes, or at
   * a Cast of bytes (bool, u8, i8) to f32 (one-hot encodings). */
  bool start = dq->kind == IR_OP_DEQUANTIZE_LINEAR ? (xe == IR_ELEM_U8 || xe == IR_ELEM_I8) && cg_per_tensor_q(dq)
                                                   : dq->kind == IR_OP_CAST &&
                                                         (xe == IR_ELEM_BOOL || xe == IR_ELEM_U8 || xe == IR_ELEM_I8);
  if (!start || cg_const_of(x) || dq->results[0]->type->elem != IR_ELEM_F32 || !ir_type_is_static(x->type))
    return false;
  find_chain(dq, ch);
  /* Trailing reshapes stay outside: they cost nothing as aliases. */
  while (ch->n > 0 && is_alias(ch->ops[ch->n - 1]->kind)) ch->end = ch->ops[--ch->n]->operands[0].value;
  if (ch->n == 0) return false;
  int real = 0;
  for (int i = 0; i < ch->n; i++) real += !is_alias(ch->ops[i]->kind);
  if (real == 0) return false; /* a lone (moved) DequantizeLinear or Cast vectorizes better */
  *ebytes = ch->ops[ch->n - 1]->kind == IR_OP_QUANTIZE_LINEAR ? 1 : 4;
  *table = xcalloc((size_t)(ch->nch * 256), (size_t)*ebytes);
  if (!eval_chain(cg, dq, ch, *table, *ebytes)) {
    free(*table);
    *err = true;
    return false;
  }
  return true;
}

static void skip_chain(Cg *cg, const Chain *ch) {
  for (int i = 0; i < ch->nlead; i++)
    for (int32_t s = cg->step + 1; s < cg->nops; s++)
      if (cg->ops[s] == ch->lead[i]) cg->skip[s] = true;
  for (int i = 0; i < ch->n; i++)
    for (int32_t s = cg->step + 1; s < cg->nops; s++)
      if (cg->ops[s] == ch->ops[i]) cg->skip[s] = true;
}

const IrValue *cg_lut_epilogue(Cg *cg, const IrValue *v, int64_t *table_off, bool *err);
const IrValue *cg_lut_epilogue(Cg *cg, const IrValue *v, int64_t *table_off, bool *err) {
  *err = false;
  if (ir_value_num_uses(v) != 1 || v->uses->user->kind != IR_OP_DEQUANTIZE_LINEAR) return NULL;
  const IrOp *dq = v->uses->user;
  Chain ch;
  void *table;
  int eb;
  if (!plan(cg, dq, &ch, &table, &eb, err)) return NULL;
  if (eb != 1 || ch.axis >= 0 || ch.aliases || ch.nlead) {
    free(table);
    return NULL;
  }
  *table_off = cg_blob_add(cg, table, 256);
  free(table);
  skip_chain(cg, &ch);
  for (int32_t s = cg->step + 1; s < cg->nops; s++)
    if (cg->ops[s] == dq) cg->skip[s] = true;
  return ch.end;
}

bool cg_try_lut(Cg *cg, const IrOp *dq, bool *handled) {
  *handled = false;
  const IrValue *x = ir_op_operand(dq, 0);
  Chain ch;
  void *table;
  int ebytes;
  bool err;
  if (!plan(cg, dq, &ch, &table, &ebytes, &err)) return !err;
  bool quant_end = ebytes == 1;
  int64_t off = cg_blob_add(cg, table, ch.nch * 256 * ebytes);
  free(table);
  /* [outer][ch][inner] over the chain value's shape */
  const IrType *ty = ch.end->type;
  int64_t outer = ir_type_numel(ty), inner = 1;
  if (ch.axis >= 0) {
    outer = 1;
    for (int32_t i = 0; i < ch.axis; i++) outer *= ty->dims[i].size;
    for (int32_t i = ch.axis + 1; i < ty->rank; i++) inner *= ty->dims[i].size;
  }
  skip_chain(cg, &ch);
  CgVal *xv = cg_val(cg, x);
  if (!xv || xv->loc == CG_LOC_NONE) return cg_fail(cg, dq, "operand is not materialized");
  cg_use(cg, x);
  const IrValue *src = x;
  for (int i = 0; i < ch.nlead; i++) {
    if (!cg_emit_move_codes(cg, ch.lead[i], src)) return false;
    src = ch.lead[i]->results[0];
  }
  CgVal *e = cg_val_add(cg, ch.end);
  e->loc = CG_LOC_ARENA;
  e->buf = cg_new_buf(cg, cg_bytes(ch.end));
  char xp[64], yp[64];
  cg_str_printf(&cg->code, "  /* %s: %s%s", dq->src_name ? dq->src_name : "-", ch.nlead ? "(moved codes) " : "",
                ops_name(dq->kind));
  for (int i = 0; i < ch.n; i++) cg_str_printf(&cg->code, " -> %s", ops_name(ch.ops[i]->kind));
  cg_str_printf(&cg->code, ": one table of %lld x 256 %s */\n", (long long)ch.nch, quant_end ? "bytes" : "floats");
  cg_str_printf(&cg->code, "  qrt_lut8(%s, %s, W + %lld, %d, %lld, %lld, %lld, pool);\n", cg_ptr(cg, src, xp, 64),
                cg_ptr(cg, ch.end, yp, 64), (long long)off, ebytes, (long long)outer, (long long)ch.nch,
                (long long)inner);
  *handled = true;
  return true;
}
