/* Shape inference for linear algebra (MatMul, Gemm, Einsum), convolution
 * and pooling, reductions, normalization, recurrent layers (LSTM, GRU,
 * RNN), quantization ops and control flow (If, Loop, Scan), following the
 * ONNX operator spec's output-shape formulas. */
#include <string.h>

#include "ops/infer_internal.h"

static IrDim meet(IrDim a, IrDim b) {
  if (a.size >= 0) return a;
  if (b.size >= 0) return b;
  return a.sym ? a : b;
}

static bool clash(IrDim a, IrDim b) { return a.size >= 0 && b.size >= 0 && a.size != b.size; }

/* ---- linear algebra --------------------------------------------------- */

bool infer_matmul(InferCtx *c) {
  bool q = c->op->kind == IR_OP_QLINEAR_MATMUL;
  Shape a, b, out;
  infer_in_shape(c, 0, &a);
  if (!infer_in_shape(c, q ? 3 : 1, &b)) return infer_fail(c, "operand %d is absent", q ? 3 : 1);
  IrElem e = infer_in(c, 0)->elem;
  if (c->op->kind == IR_OP_MATMUL_INTEGER) e = IR_ELEM_I32;
  if (q) {
    if (!infer_in(c, 7)) return infer_fail(c, "operand 7 is absent");
    e = infer_in(c, 7)->elem;
  }
  if (a.rank < 0 || b.rank < 0) {
    out.rank = -1;
    infer_set(c, 0, e, &out);
    return true;
  }
  if (a.rank == 0 || b.rank == 0) return infer_fail(c, "operands must have rank 1 or more");
  bool a1 = a.rank == 1, b1 = b.rank == 1;
  if (a1) a.d[1] = a.d[0], a.d[0] = infer_static(1), a.rank = 2;
  if (b1) b.d[1] = infer_static(1), b.rank = 2;
  IrDim k1 = a.d[a.rank - 1], k2 = b.d[b.rank - 2];
  if (clash(k1, k2))
    return infer_fail(c, "inner dimensions differ (%lld vs %lld)", (long long)k1.size, (long long)k2.size);
  Shape batch;
  if (!ir_infer_broadcast(a.d, a.rank - 2, b.d, b.rank - 2, batch.d, &batch.rank))
    return infer_fail(c, "batch dimensions do not broadcast");
  out = batch;
  if (!a1) out.d[out.rank++] = a.d[a.rank - 2];
  if (!b1) out.d[out.rank++] = b.d[b.rank - 1];
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_gemm(InferCtx *c) {
  Shape a, b, out = {.rank = 2};
  infer_in_shape(c, 0, &a);
  infer_in_shape(c, 1, &b);
  IrElem e = infer_in(c, 0)->elem;
  if ((a.rank >= 0 && a.rank != 2) || (b.rank >= 0 && b.rank != 2)) return infer_fail(c, "A and B must have rank 2");
  bool ta = ir_op_attr_int(c->op, "transA", 0) != 0, tb = ir_op_attr_int(c->op, "transB", 0) != 0;
  IrDim m = a.rank == 2 ? a.d[ta ? 1 : 0] : infer_dyn(), k1 = a.rank == 2 ? a.d[ta ? 0 : 1] : infer_dyn();
  IrDim k2 = b.rank == 2 ? b.d[tb ? 1 : 0] : infer_dyn(), n = b.rank == 2 ? b.d[tb ? 0 : 1] : infer_dyn();
  if (clash(k1, k2))
    return infer_fail(c, "inner dimensions differ (%lld vs %lld)", (long long)k1.size, (long long)k2.size);
  out.d[0] = m, out.d[1] = n;
  Shape cs, r;
  if (infer_in_shape(c, 2, &cs) && cs.rank >= 0 && !ir_infer_broadcast(out.d, 2, cs.d, cs.rank, r.d, &r.rank))
    return infer_fail(c, "C does not broadcast to the result");
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_einsum(InferCtx *c) {
  const char *eq = ir_op_attr_string(c->op, "equation", "");
  IrElem e = infer_in(c, 0)->elem;
  Shape out = {.rank = -1};
  IrDim letter[128];
  int count[128] = {0};
  for (int i = 0; i < 128; i++) letter[i] = infer_dyn();
  if (strstr(eq, "...")) {
    infer_set(c, 0, e, &out);
    return true;
  }
  const char *arrow = strstr(eq, "->");
  const char *p = eq;
  uint32_t k = 0;
  while (p < (arrow ? arrow : eq + strlen(eq))) {
    Shape s;
    bool have = infer_in_shape(c, k, &s) && s.rank >= 0;
    int32_t j = 0;
    for (; *p && *p != ',' && p != arrow; p++) {
      unsigned char ch = (unsigned char)*p;
      if (ch == ' ') continue;
      if (ch >= 128 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
        return infer_fail(c, "bad equation '%s'", eq);
      if (have && j < s.rank) {
        if (clash(letter[ch], s.d[j]) && letter[ch].size != 1 && s.d[j].size != 1)
          return infer_fail(c, "subscript '%c' has sizes %lld and %lld", ch, (long long)letter[ch].size,
                            (long long)s.d[j].size);
        if (s.d[j].size != 1 || letter[ch].size < 0) letter[ch] = meet(s.d[j], letter[ch]);
      }
      count[ch]++;
      j++;
    }
    if (have && j != s.rank) return infer_fail(c, "operand %u has rank %d, the equation says %d", k, (int)s.rank, (int)j);
    if (*p == ',') p++;
    k++;
  }
  out.rank = 0;
  if (arrow) {
    for (p = arrow + 2; *p; p++) {
      unsigned char ch = (unsigned char)*p;
      if (ch == ' ') continue;
      if (ch >= 128 || out.rank >= INFER_MAX_RANK) return infer_fail(c, "bad equation '%s'", eq);
      out.d[out.rank++] = letter[ch];
    }
  } else {
    for (int ch = 'A'; ch <= 'z'; ch++)
      if (count[ch] == 1 && out.rank < INFER_MAX_RANK) out.d[out.rank++] = letter[ch];
  }
  infer_set(c, 0, e, &out);
  return true;
}

/* ---- convolution and pooling ---------------------------------------- */

static int64_t ints_at(const IrAttr *a, int i, int64_t dflt) {
  return a && a->kind == IR_ATTR_INTS && (uint32_t)i < a->u.ints.n ? a->u.ints.v[i] : dflt;
}

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool infer_conv_pool(InferCtx *c) {
  IrOpKind k = c->op->kind;
  bool pool = k == IR_OP_MAX_POOL || k == IR_OP_AVERAGE_POOL;
  bool transpose = k == IR_OP_CONV_TRANSPOSE;
  uint32_t wi = k == IR_OP_QLINEAR_CONV ? 3 : 1;
  Shape x, w, out;
  infer_in_shape(c, 0, &x);
  IrElem e = infer_in(c, 0)->elem;
  if (k == IR_OP_CONV_INTEGER) e = IR_ELEM_I32;
  if (k == IR_OP_QLINEAR_CONV) {
    if (!infer_in(c, 7)) return infer_fail(c, "operand 7 is absent");
    e = infer_in(c, 7)->elem;
  }
  w.rank = -1;
  if (!pool && !infer_in_shape(c, wi, &w)) return infer_fail(c, "operand %u is absent", wi);
  if (x.rank < 0 && w.rank >= 0) {
    x.rank = w.rank;
    for (int32_t i = 0; i < x.rank; i++) x.d[i] = infer_dyn();
  }
  if (x.rank < 0) {
    out.rank = -1;
    for (uint32_t i = 0; i < c->op->nresults; i++) infer_set(c, i, i ? IR_ELEM_I64 : e, &out);
    return true;
  }
  if (x.rank < 3) return infer_fail(c, "the input must have rank 3 or more, not %d", (int)x.rank);
  if (w.rank >= 0 && w.rank != x.rank)
    return infer_fail(c, "the weight has rank %d, the input %d", (int)w.rank, (int)x.rank);
  int32_t n = x.rank - 2;
  int64_t group = ir_op_attr_int(c->op, "group", 1);
  if (group <= 0) return infer_fail(c, "group %lld is not positive", (long long)group);
  out.rank = x.rank;
  out.d[0] = x.d[0];
  /* An unranked weight leaves its dims unset: read them as unknown. */
  IrDim w0 = w.rank >= 2 ? w.d[0] : infer_dyn(), w1 = w.rank >= 2 ? w.d[1] : infer_dyn();
  if (pool) {
    out.d[1] = x.d[1];
  } else if (transpose) {
    out.d[1] = w1.size >= 0 ? infer_static(w1.size * group) : infer_dyn();
    if (clash(x.d[1], w0))
      return infer_fail(c, "input channels %lld and weight dim 0 (%lld) differ", (long long)x.d[1].size,
                        (long long)w0.size);
  } else {
    out.d[1] = w0;
    if (x.d[1].size >= 0 && w1.size >= 0 && x.d[1].size != w1.size * group)
      return infer_fail(c, "input channels %lld and weight channels %lld x group %lld differ",
                        (long long)x.d[1].size, (long long)w1.size, (long long)group);
  }
  const IrAttr *ks = ir_op_attr(c->op, "kernel_shape"), *st = ir_op_attr(c->op, "strides"),
               *dl = ir_op_attr(c->op, "dilations"), *pd = ir_op_attr(c->op, "pads"),
               *op_ = ir_op_attr(c->op, "output_padding"), *os = ir_op_attr(c->op, "output_shape");
  if (ks && (int32_t)ks->u.ints.n != n) return infer_fail(c, "kernel_shape has %u entries for %d spatial dims", ks->u.ints.n, (int)n);
  if (pd && (int32_t)pd->u.ints.n != 2 * n) return infer_fail(c, "pads has %u entries for %d spatial dims", pd->u.ints.n, (int)n);
  if (os && (int32_t)os->u.ints.n != n) return infer_fail(c, "output_shape has %u entries for %d spatial dims", os->u.ints.n, (int)n);
  const char *autopad = ir_op_attr_string(c->op, "auto_pad", "NOTSET");
  bool same = strcmp(autopad, "SAME_UPPER") == 0 || strcmp(autopad, "SAME_LOWER") == 0;
  bool valid = strcmp(autopad, "VALID") == 0;
  bool ceil_mode = pool && ir_op_attr_int(c->op, "ceil_mode", 0) != 0;
  for (int32_t i = 0; i < n; i++) {
    IrDim in = x.d[2 + i];
    int64_t kk = ks ? ints_at(ks, i, 1) : (w.rank >= 0 && w.d[2 + i].size >= 0 ? w.d[2 + i].size : -1);
    int64_t s = ints_at(st, i, 1), d = ints_at(dl, i, 1);
    int64_t pb = ints_at(pd, i, 0), pe = ints_at(pd, i + n, 0);
    if (s <= 0 || d <= 0) return infer_fail(c, "strides and dilations must be positive");
    if (transpose && os) {
      out.d[2 + i] = infer_static(ints_at(os, i, 0));
      continue;
    }
    if (in.size < 0 || kk < 0) {
      out.d[2 + i] = (in.sym && kk == 1 && s == 1 && pb == 0 && pe == 0 && !transpose) ? in : infer_dyn();
      continue;
    }
    int64_t eff = (kk - 1) * d + 1, o;
    if (transpose) {
      o = same ? in.size * s : s * (in.size - 1) + ints_at(op_, i, 0) + eff - pb - pe;
    } else if (same) {
      o = ceil_div(in.size, s);
    } else if (valid) {
      o = floor_div(in.size - eff, s) + 1;
    } else {
      int64_t span = in.size + pb + pe - eff;
      o = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
      /* A last window starting in the end padding is dropped. */
      if (ceil_mode && (o - 1) * s >= in.size + pb) o--;
    }
    if (o <= 0) return infer_fail(c, "spatial dim %d of size %lld gives an empty output", (int)i, (long long)in.size);
    out.d[2 + i] = infer_static(o);
  }
  infer_set(c, 0, e, &out);
  infer_set(c, 1, IR_ELEM_I64, &out); /* MaxPool's Indices */
  return true;
}

bool infer_global_pool(InferCtx *c) {
  Shape x;
  infer_in_shape(c, 0, &x);
  if (x.rank >= 0 && x.rank < 2) return infer_fail(c, "the input must have rank 2 or more");
  for (int32_t i = 2; i < x.rank; i++) x.d[i] = infer_static(1);
  infer_set(c, 0, infer_in(c, 0)->elem, &x);
  return true;
}

/* ---- reductions and normalization ----------------------------------- */

static void reduce_dims(const Shape *in, const bool *red, bool keep, Shape *out) {
  out->rank = 0;
  for (int32_t i = 0; i < in->rank; i++) {
    if (!red[i]) out->d[out->rank++] = in->d[i];
    else if (keep) out->d[out->rank++] = infer_static(1);
  }
}

bool infer_reduce(InferCtx *c) {
  Shape in, out;
  infer_in_shape(c, 0, &in);
  IrElem e = infer_in(c, 0)->elem;
  bool keep = ir_op_attr_int(c->op, "keepdims", 1) != 0;
  bool noop = ir_op_attr_int(c->op, "noop_with_empty_axes", 0) != 0;
  int64_t axes[INFER_MAX_RANK];
  int n = 0;
  bool known = true;
  const IrAttr *aa = ir_op_attr(c->op, "axes");
  if (infer_in(c, 1)) {
    known = infer_const_ints(c, 1, axes, &n, INFER_MAX_RANK);
  } else if (aa) {
    n = aa->u.ints.n > INFER_MAX_RANK ? INFER_MAX_RANK : (int)aa->u.ints.n;
    for (int i = 0; i < n; i++) axes[i] = aa->u.ints.v[i];
  }
  if (in.rank < 0 || !known) {
    out.rank = in.rank >= 0 && keep ? in.rank : -1;
    for (int32_t i = 0; i < out.rank; i++) out.d[i] = infer_dyn();
    infer_set(c, 0, e, &out);
    return true;
  }
  bool red[INFER_MAX_RANK] = {0};
  if (n == 0) {
    for (int32_t i = 0; i < in.rank; i++) red[i] = !noop;
  }
  for (int i = 0; i < n; i++) {
    int32_t a;
    if (!infer_axis(c, axes[i], in.rank, &a, "axis")) return false;
    red[a] = true;
  }
  reduce_dims(&in, red, keep, &out);
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_arg_reduce(InferCtx *c) {
  Shape in, out;
  infer_in_shape(c, 0, &in);
  bool keep = ir_op_attr_int(c->op, "keepdims", 1) != 0;
  out.rank = -1;
  if (in.rank >= 0) {
    int32_t a;
    if (!infer_axis(c, ir_op_attr_int(c->op, "axis", 0), in.rank, &a, "axis")) return false;
    bool red[INFER_MAX_RANK] = {0};
    red[a] = true;
    reduce_dims(&in, red, keep, &out);
  }
  infer_set(c, 0, IR_ELEM_I64, &out);
  return true;
}

bool infer_norm(InferCtx *c) {
  Shape x;
  infer_in_shape(c, 0, &x);
  IrElem e = infer_in(c, 0)->elem;
  infer_set(c, 0, e, &x);
  if (c->op->kind == IR_OP_LAYER_NORM && c->op->nresults > 1) {
    /* Mean and InvStdDev: the input's shape with the normalized dims 1,
     * in the stash type (f32 unless stash_type says otherwise). */
    Shape s = x;
    if (x.rank >= 0) {
      int32_t a;
      if (!infer_axis(c, ir_op_attr_int(c->op, "axis", -1), x.rank, &a, "axis")) return false;
      for (int32_t i = a; i < x.rank; i++) s.d[i] = infer_static(1);
    }
    IrElem se = ir_op_attr_int(c->op, "stash_type", 1) == 1 ? IR_ELEM_F32 : e;
    infer_set(c, 1, se, &s);
    infer_set(c, 2, se, &s);
  } else if (c->op->kind == IR_OP_BATCH_NORM) {
    Shape m;
    infer_in_shape(c, 3, &m);
    infer_set(c, 1, infer_in(c, 3)->elem, &m);
    infer_set(c, 2, infer_in(c, 3)->elem, &m);
  }
  return true;
}

/* ---- recurrent layers -------------------------------------------------- */

bool infer_recurrent(InferCtx *c) {
  Shape x, r;
  infer_in_shape(c, 0, &x);
  IrElem e = infer_in(c, 0)->elem;
  infer_in_shape(c, 2, &r);
  if (x.rank >= 0 && x.rank != 3) return infer_fail(c, "X must have rank 3, not %d", (int)x.rank);
  if (r.rank >= 0 && r.rank != 3) return infer_fail(c, "R must have rank 3, not %d", (int)r.rank);
  const char *dir = ir_op_attr_string(c->op, "direction", "forward");
  int64_t ndir = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
  if (strcmp(dir, "forward") != 0 && strcmp(dir, "reverse") != 0 && ndir != 2)
    return infer_fail(c, "unknown direction '%s'", dir);
  const IrAttr *hs = ir_op_attr(c->op, "hidden_size");
  IrDim h = hs ? infer_static(hs->u.i) : r.rank == 3 ? r.d[2] : infer_dyn();
  if (hs && r.rank == 3 && clash(h, r.d[2]))
    return infer_fail(c, "hidden_size %lld disagrees with R (%lld)", (long long)hs->u.i, (long long)r.d[2].size);
  bool batch_first = ir_op_attr_int(c->op, "layout", 0) != 0;
  IrDim seq = x.rank == 3 ? x.d[batch_first ? 1 : 0] : infer_dyn();
  IrDim batch = x.rank == 3 ? x.d[batch_first ? 0 : 1] : infer_dyn();
  IrDim nd = infer_static(ndir);
  Shape y = {.rank = 4}, yh = {.rank = 3};
  if (batch_first) {
    y.d[0] = batch, y.d[1] = seq, y.d[2] = nd, y.d[3] = h;
    yh.d[0] = batch, yh.d[1] = nd, yh.d[2] = h;
  } else {
    y.d[0] = seq, y.d[1] = nd, y.d[2] = batch, y.d[3] = h;
    yh.d[0] = nd, yh.d[1] = batch, yh.d[2] = h;
  }
  infer_set(c, 0, e, &y);
  infer_set(c, 1, e, &yh);
  infer_set(c, 2, e, &yh);
  return true;
}

/* ---- quantization ------------------------------------------------------- */

bool infer_quant(InferCtx *c) {
  Shape x;
  infer_in_shape(c, 0, &x);
  IrElem e;
  switch (c->op->kind) {
  case IR_OP_QUANTIZE_LINEAR:
  case IR_OP_DEQUANTIZE_LINEAR: {
    /* Q: the zero point's type, else output_dtype, else u8. DQ (opset 25
     * output_dtype): that type, else the scale's. */
    bool q = c->op->kind == IR_OP_QUANTIZE_LINEAR;
    if (!q && !infer_in(c, 1)) return infer_fail(c, "operand 1 is absent");
    e = q ? IR_ELEM_U8 : infer_in(c, 1)->elem;
    int64_t od = ir_op_attr_int(c->op, "output_dtype", 0);
    if (q && infer_in(c, 2)) {
      e = infer_in(c, 2)->elem;
    } else if (od) {
      bool found = false;
      for (int k = 0; k < IR_ELEM_COUNT && !found; k++)
        if (ir_elem_info[k].onnx == od) e = (IrElem)k, found = true;
      if (!found) return infer_fail(c, "output_dtype %lld names no supported element type", (long long)od);
    }
    break;
  }
  default: {
    Shape scalar = {.rank = 0};
    infer_set(c, 0, IR_ELEM_U8, &x);
    infer_set(c, 1, IR_ELEM_F32, &scalar);
    infer_set(c, 2, IR_ELEM_U8, &scalar);
    return true;
  }
  }
  infer_set(c, 0, e, &x);
  return true;
}

/* ---- control flow --------------------------------------------------------- */

/* The least type covering both: equal dims kept, others dynamic. */
static bool join(InferCtx *c, const IrType *a, const IrType *b, Shape *s, uint32_t i) {
  if (a->elem != b->elem)
    return infer_fail(c, "result %u is %s in one branch and %s in the other", i, ir_elem_name(a->elem),
                      ir_elem_name(b->elem));
  Shape sa, sb;
  infer_shape_of(a, &sa);
  infer_shape_of(b, &sb);
  if (sa.rank != sb.rank || sa.rank < 0) {
    s->rank = -1;
    return true;
  }
  *s = sa;
  for (int32_t k = 0; k < sa.rank; k++) {
    IrDim x = sa.d[k], y = sb.d[k];
    bool eq = (x.size >= 0 && x.size == y.size) || (x.size < 0 && y.size < 0 && x.sym && y.sym && strcmp(x.sym, y.sym) == 0);
    s->d[k] = eq ? x : infer_dyn();
  }
  return true;
}

static const IrOp *region_return(const IrRegion *r) {
  return r->last && r->last->kind == IR_OP_RETURN ? r->last : NULL;
}

static const IrType *ret_type(const IrOp *ret, uint32_t i) {
  const IrValue *v = i < ret->noperands ? ret->operands[i].value : NULL;
  return v ? v->type : NULL;
}

bool infer_control(InferCtx *c) {
  IrOp *op = c->op;
  for (uint32_t i = 0; i < op->nregions; i++)
    if (!region_return(op->regions[i])) return infer_fail(c, "region '%s' does not end in return", op->regions[i]->name);
  if (op->kind == IR_OP_IF) {
    const IrOp *t = region_return(op->regions[0]), *f = region_return(op->regions[1]);
    if (t->noperands != op->nresults || f->noperands != op->nresults)
      return infer_fail(c, "branches return %u and %u values for %u results", t->noperands, f->noperands,
                        op->nresults);
    for (uint32_t i = 0; i < op->nresults; i++) {
      const IrType *a = ret_type(t, i), *b = ret_type(f, i);
      if (!a || !b) return infer_fail(c, "a branch returns none for result %u", i);
      Shape s;
      if (!join(c, a, b, &s, i)) return false;
      infer_set(c, i, a->elem, &s);
    }
    return true;
  }
  const IrOp *body = region_return(op->regions[0]);
  if (op->kind == IR_OP_LOOP) {
    uint32_t ncarried = op->noperands - 2;
    if (body->noperands < 1 + ncarried || op->nresults != body->noperands - 1)
      return infer_fail(c, "the body returns %u values for %u carried values and %u results", body->noperands,
                        ncarried, op->nresults);
    for (uint32_t i = 0; i < op->nresults; i++) {
      const IrType *bt = ret_type(body, 1 + i);
      if (!bt) return infer_fail(c, "the body returns none");
      Shape s;
      if (i < ncarried) {
        const IrType *init = infer_in(c, 2 + i);
        if (init) {
          if (!join(c, init, bt, &s, i)) return false;
        } else {
          infer_shape_of(bt, &s);
        }
      } else {
        Shape b;
        infer_shape_of(bt, &b);
        s.rank = b.rank < 0 || b.rank >= INFER_MAX_RANK ? -1 : b.rank + 1;
        if (s.rank > 0) {
          s.d[0] = infer_dyn();
          for (int32_t k = 0; k < b.rank; k++) s.d[k + 1] = b.d[k];
        }
      }
      infer_set(c, i, bt->elem, &s);
    }
    return true;
  }
  /* Scan */
  int64_t nscan = ir_op_attr_int(c->op, "num_scan_inputs", 0);
  if (nscan <= 0 || nscan > op->noperands) return infer_fail(c, "num_scan_inputs %lld is out of range", (long long)nscan);
  uint32_t nstate = op->noperands - (uint32_t)nscan;
  if (body->noperands != op->nresults || op->nresults < nstate)
    return infer_fail(c, "the body returns %u values for %u results", body->noperands, op->nresults);
  const IrAttr *in_axes = ir_op_attr(c->op, "scan_input_axes"), *out_axes = ir_op_attr(c->op, "scan_output_axes");
  IrDim len = infer_dyn();
  Shape s0;
  if (infer_in_shape(c, nstate, &s0) && s0.rank > 0) {
    int32_t a;
    if (!infer_axis(c, ints_at(in_axes, 0, 0), s0.rank, &a, "scan input axis")) return false;
    len = s0.d[a];
  }
  for (uint32_t i = 0; i < op->nresults; i++) {
    const IrType *bt = ret_type(body, i);
    if (!bt) return infer_fail(c, "the body returns none");
    Shape s;
    if (i < nstate) {
      if (!join(c, infer_in(c, i) ? infer_in(c, i) : bt, bt, &s, i)) return false;
    } else {
      Shape b;
      infer_shape_of(bt, &b);
      s.rank = b.rank < 0 || b.rank >= INFER_MAX_RANK ? -1 : b.rank + 1;
      if (s.rank > 0) {
        int32_t a;
        if (!infer_axis(c, ints_at(out_axes, (int)(i - nstate), 0), s.rank, &a, "scan output axis")) return false;
        for (int32_t k = 0, j = 0; k < s.rank; k++) s.d[k] = k == a ? len : b.d[j++];
      }
    }
    infer_set(c, i, bt->elem, &s);
  }
  return true;
}
