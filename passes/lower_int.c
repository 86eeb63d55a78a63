/* lower-int: rewrites complete QDQ patterns into integer ops.
 *
 * What it does: each QuantizeLinear whose input comes from a float op that
 * reads DequantizeLinear results (docs/quantization.md's QDQ form) is the
 * root of a pattern; when the whole pattern holds it becomes integer ops
 * whose result replaces the Q's, and the Q, the float op and the DQs left
 * without users are erased:
 *   DQ(x), DQ(w const)     -> Conv/MatMul/Gemm [+ bias] [-> Relu|Clip] -> Q
 *       => ConvInteger/MatMulInteger (i32) -> quench.Requantize(bias i32)
 *   DQ(a), DQ(b) -> Add|Mul [-> Relu|Clip] -> Q    => quench.QAdd / QMul
 *   DQ(x) -> MaxPool -> Q  => MaxPool on the integers [-> quench.Requantize]
 *   DQ(x) -> AveragePool|GlobalAveragePool [-> Relu|Clip] -> Q
 *       => quench.QAveragePool
 *   DQ(x_i)... -> Concat -> Q => [quench.Requantize per input ->] Concat
 * Multipliers M = s_in / s_out are dyadic (q_dyadic_from_double), Relu and
 * Clip fold into the clamp bounds, biases fold to int32 at s_x * s_w[c].
 * Anything else stays in QDQ form (each pattern counts as declined).
 * Needs: verified IR. Guarantees: outputs within about one quantization
 * step of the QDQ graph's (test/lit/quant/lower-int-run.qir checks it).
 * Semantics and derivations: docs/passes/lower-int.md; kernels in
 * compiler/interp/k_qint.c. Tests: test/lit/quant/lower-int*.qir. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "quant/qmath.h"

typedef enum { P_CONV, P_MATMUL, P_GEMM, P_ADD, P_MUL, P_MAXPOOL, P_AVGPOOL, P_CONCAT, P_COUNT } Pattern;

static const char *const lowered_stat[P_COUNT] = {
    "conv-lowered", "matmul-lowered", "gemm-lowered",    "add-lowered",
    "mul-lowered",  "maxpool-lowered", "avgpool-lowered", "concat-lowered",
};
static const char *const declined_stat[P_COUNT] = {
    "conv-declined", "matmul-declined", "gemm-declined",    "add-declined",
    "mul-declined",  "maxpool-declined", "avgpool-declined", "concat-declined",
};

static Pattern pattern_of(IrOpKind k) {
  switch (k) {
  case IR_OP_CONV: return P_CONV;
  case IR_OP_MATMUL: return P_MATMUL;
  case IR_OP_GEMM: return P_GEMM;
  case IR_OP_ADD: return P_ADD;
  case IR_OP_MUL: return P_MUL;
  case IR_OP_MAX_POOL: return P_MAXPOOL;
  case IR_OP_AVERAGE_POOL: case IR_OP_GLOBAL_AVERAGE_POOL: return P_AVGPOOL;
  case IR_OP_CONCAT: return P_CONCAT;
  default: return P_COUNT;
  }
}

/* ---- quantization parameters of one Q or DQ ------------------------- */

/* Scales and zero points of a QuantizeLinear or DequantizeLinear with
 * constant parameters, i8/u8 integers and no blocking. */
typedef struct QP {
  IrOp *op;
  IrValue *ints; /* DQ: its integer input; Q: its result */
  IrValue *zpv;  /* the zero-point operand, NULL when absent */
  IrElem elem;
  int64_t n;     /* 1: per tensor; else one pair per index of axis */
  int32_t axis;
  double *s;
  int64_t *z;
} QP;

static void qp_free(QP *p) {
  free(p->s);
  free(p->z);
  p->s = NULL, p->z = NULL;
}

static bool qp_read(IrOp *op, QP *p) {
  *p = (QP){.op = op};
  if (!op || (op->kind != IR_OP_QUANTIZE_LINEAR && op->kind != IR_OP_DEQUANTIZE_LINEAR)) return false;
  if (ir_op_attr_int(op, "block_size", 0) != 0) return false;
  p->ints = op->kind == IR_OP_DEQUANTIZE_LINEAR ? ir_op_operand(op, 0) : op->results[0];
  p->zpv = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  const IrType *t = p->ints->type;
  p->elem = t->elem;
  if (t->quant || (t->elem != IR_ELEM_I8 && t->elem != IR_ELEM_U8)) return false;
  const IrConst *sc = canon_const(ir_op_operand(op, 1)), *zc = p->zpv ? canon_const(p->zpv) : NULL;
  if (!sc || !ir_elem_is_float(sc->type->elem) || (p->zpv && !zc)) return false;
  p->n = ir_type_numel(sc->type);
  if (p->n < 1 || (zc && ir_type_numel(zc->type) != p->n)) return false;
  if (p->n > 1) {
    int64_t axis = ir_op_attr_int(op, "axis", 1);
    if (sc->type->rank != 1 || t->rank < 1 || axis < -t->rank || axis >= t->rank) return false;
    p->axis = (int32_t)(axis < 0 ? axis + t->rank : axis);
    if (t->dims[p->axis].size != p->n) return false;
  }
  Tensor *st = tensor_from_const(sc), *zt = zc ? tensor_from_const(zc) : NULL;
  p->s = malloc((size_t)p->n * sizeof *p->s);
  p->z = malloc((size_t)p->n * sizeof *p->z);
  bool ok = st && (!zc || zt) && p->s && p->z;
  for (int64_t i = 0; ok && i < p->n; i++) {
    p->s[i] = tensor_get_f64(st, i);
    p->z[i] = zt ? tensor_get_i64(zt, i) : 0;
    ok = p->s[i] > 0 && isfinite(p->s[i]);
  }
  tensor_free(st);
  tensor_free(zt);
  if (!ok) qp_free(p);
  return ok;
}

/* A per-tensor DQ defining v. */
static bool dq_tensor(IrValue *v, QP *p) {
  if (!qp_read(canon_def(v, IR_OP_DEQUANTIZE_LINEAR), p)) return false;
  if (p->n == 1) return true;
  qp_free(p);
  return false;
}

static bool same_params(const QP *a, const QP *b) {
  return a->elem == b->elem && a->n == 1 && b->n == 1 && a->z[0] == b->z[0] && (float)a->s[0] == (float)b->s[0];
}

/* ---- the pattern's tail: [Relu | Clip] -> Q ------------------------- */

typedef struct Tail {
  IrOp *q, *act, *op; /* act: Relu or Clip, or NULL; op: the float op */
  QP y;
  int64_t lo, hi;     /* clamp bounds with the activation folded */
} Tail;

/* Q(v) = clamp(Q(u), Q(lo), Q(hi)) for v = clip(u, lo, hi): Q is monotone,
 * so the bounds are the Q of Clip's bounds, rounded as Q rounds. */
static bool fold_act(Tail *t) {
  int64_t qmin, qmax;
  ir_elem_int_range(t->y.elem, &qmin, &qmax);
  t->lo = qmin, t->hi = qmax;
  if (!t->act) return true;
  double b[2] = {-INFINITY, INFINITY};
  if (t->act->kind == IR_OP_RELU) b[0] = 0;
  for (uint32_t i = 1; t->act->kind == IR_OP_CLIP && i < t->act->noperands; i++) {
    IrValue *v = ir_op_operand(t->act, i);
    if (v && (!canon_scalar(v, &b[i - 1]) || ir_type_numel(v->type) != 1)) return false;
  }
  if (isnan(b[0]) || isnan(b[1]) || b[0] > b[1]) return false;
  float s = (float)t->y.s[0];
  if (b[0] > -INFINITY) t->lo = q_quantize_int((float)b[0], s, t->y.z[0], qmin, qmax);
  if (b[1] < INFINITY) t->hi = q_quantize_int((float)b[1], s, t->y.z[0], qmin, qmax);
  return t->lo <= t->hi;
}

/* ---- building the integer ops --------------------------------------- */

static void set_int(IrModule *m, IrOp *op, const char *name, int64_t v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INT, .u.i = v};
  ir_op_set_attr(m, op, &a);
}

static void set_ints(IrModule *m, IrOp *op, const char *name, const int64_t *v, uint32_t n) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INTS, .u.ints = {v, n}};
  ir_op_set_attr(m, op, &a);
}

static void copy_attr(IrModule *m, IrOp *to, const IrOp *from, const char *name) {
  const IrAttr *a = ir_op_attr(from, name);
  if (a) ir_op_set_attr(m, to, a);
}

/* The output attributes every integer op carries. */
static void set_out(IrModule *m, IrOp *op, const Tail *t) {
  set_int(m, op, "y_zero_point", t->y.z[0]);
  set_int(m, op, "lo", t->lo);
  set_int(m, op, "hi", t->hi);
  set_int(m, op, "output_dtype", ir_elem_info[t->y.elem].onnx);
}

/* "base.suffix" in the module arena. */
static const char *derived(IrModule *m, const IrValue *v, const char *suffix) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s.%s", v->name ? v->name : "v", suffix);
  return arena_strdup(&m->arena, buf);
}

/* Dyadic multipliers for M[0..n) into (mul, shift); false when one does
 * not fit (M >= 2^30 or below 2^-32). */
static bool dyadics(const double *mm, int64_t n, int64_t *mul, int64_t *shift) {
  for (int64_t i = 0; i < n; i++) {
    QDyadic d;
    if (!q_dyadic_from_double(mm[i], &d)) return false;
    mul[i] = d.m0, shift[i] = d.shift;
  }
  return true;
}

/* quench.Requantize(x[, bias]) before pos, result type rt. */
static IrOp *requantize(IrModule *m, IrOp *pos, IrValue *x, IrValue *bias, const int64_t *mul, const int64_t *sh,
                        int64_t n, int32_t axis, int64_t xzp, const Tail *t, const IrType *rt, const char *name) {
  IrValue *ins[2] = {x, bias};
  IrOp *r = canon_create(m, pos, IR_OP_Q_REQUANTIZE, ins, bias ? 2 : 1, rt, name);
  if (n > 1 || bias) set_int(m, r, "axis", axis);
  set_ints(m, r, "multiplier", mul, (uint32_t)n);
  set_ints(m, r, "shift", sh, (uint32_t)n);
  if (xzp) set_int(m, r, "x_zero_point", xzp);
  set_out(m, r, t);
  return r;
}

/* Appends op and the ops defining its operands, depth levels down. */
static void collect(IrOp *op, int depth, IrOp ***ops, int *n, int *cap) {
  if (!op) return;
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 32;
    IrOp **grown = realloc(*ops, (size_t)*cap * sizeof **ops);
    if (!grown) return;
    *ops = grown;
  }
  (*ops)[(*n)++] = op;
  for (uint32_t i = 0; depth > 0 && i < op->noperands; i++) {
    IrValue *v = ir_op_operand(op, i);
    if (v && v->kind == IR_VALUE_RESULT) collect(v->def, depth - 1, ops, n, cap);
  }
}

/* Makes root's result stand for the Q's (taking its name) and erases the
 * pattern's ops left without users: the Q, the activation, the float op
 * and extra[], their DQs and the constants those read. */
static void finish(Tail *t, IrOp *root, IrOp *const *extra, int nextra) {
  const char *name = t->q->results[0]->name;
  canon_replace(t->q, root);
  root->results[0]->name = name;
  IrOp **ops = NULL;
  int n = 0, cap = 0;
  collect(t->q, 1, &ops, &n, &cap);
  collect(t->act, 1, &ops, &n, &cap);
  collect(t->op, 2, &ops, &n, &cap);
  for (int i = 0; i < nextra; i++) collect(extra[i], 2, &ops, &n, &cap);
  if (ops) canon_erase_dead(ops, n);
  free(ops);
}

/* ---- Conv, MatMul, Gemm --------------------------------------------- */

/* The float bias as n per-channel values (scaled by Gemm's beta), from a
 * float constant or a DQ of a constant with 1 or n elements. */
static bool read_bias(IrValue *b, int64_t n, double *out) {
  for (int64_t i = 0; i < n; i++) out[i] = 0;
  if (!b) return true;
  QP p;
  const IrConst *c = canon_const(b);
  if (!c && qp_read(canon_def(b, IR_OP_DEQUANTIZE_LINEAR), &p)) {
    c = canon_const(p.ints);
    Tensor *t = c ? tensor_from_const(c) : NULL;
    bool ok = t && (t->numel == 1 || t->numel == n) && (p.n == 1 || p.n == t->numel);
    for (int64_t i = 0; ok && i < n; i++) {
      int64_t j = t->numel == 1 ? 0 : i, k = p.n == 1 ? 0 : j;
      out[i] = (double)(tensor_get_i64(t, j) - p.z[k]) * p.s[k];
    }
    tensor_free(t);
    qp_free(&p);
    return ok;
  }
  if (!c || c->type->quant || !ir_elem_is_float(c->type->elem)) return false;
  int64_t numel = ir_type_numel(c->type);
  for (int32_t i = 0; i + 1 < c->type->rank; i++)
    if (c->type->dims[i].size != 1) return false;
  if (numel != 1 && numel != n) return false;
  Tensor *t = tensor_from_const(c);
  for (int64_t i = 0; t && i < n; i++) out[i] = tensor_get_f64(t, numel == 1 ? 0 : i);
  tensor_free(t);
  return t != NULL;
}

/* The weight DQ: constant codes, per tensor or per channel along w_axis. */
static bool weight_dq(IrValue *w, int32_t w_axis, QP *p) {
  if (!qp_read(canon_def(w, IR_OP_DEQUANTIZE_LINEAR), p)) return false;
  if (canon_const(p->ints) && (p->n == 1 || p->axis == w_axis)) return true;
  qp_free(p);
  return false;
}

/* codes [N, K] as a new constant [K, N] (Gemm transB). */
static IrValue *transposed(IrModule *m, IrOp *pos, const IrValue *w) {
  Tensor *t = tensor_from_const(canon_const(w));
  if (!t || t->rank != 2) {
    tensor_free(t);
    return NULL;
  }
  int64_t dims[2] = {t->dims[1], t->dims[0]};
  Tensor *u = tensor_new(t->elem, 2, dims);
  for (int64_t i = 0; u && i < dims[0]; i++)
    for (int64_t j = 0; j < dims[1]; j++) tensor_set_i64(u, i * dims[1] + j, tensor_get_i64(t, j * dims[0] + i));
  IrValue *v = u ? canon_new_const(m, pos, derived(m, w, "t"), u) : NULL;
  tensor_free(t);
  tensor_free(u);
  return v;
}

/* The zero-point operand to pass to ConvInteger/MatMulInteger: the DQ's,
 * or NULL when absent or all zero. */
static IrValue *zp_operand(const QP *p) {
  for (int64_t i = 0; i < p->n; i++)
    if (p->z[i]) return p->zpv;
  return NULL;
}

static bool lower_linear(IrModule *m, Tail *t, Pattern pat) {
  IrOp *op = t->op, *add = NULL;
  if (pat == P_ADD) { /* MatMul + Add(bias) */
    add = op;
    int i = canon_operand_of_kind(add, IR_OP_MATMUL);
    if (i < 0 || !canon_one_use(ir_op_operand(add, (uint32_t)i))) return false;
    op = ir_op_operand(add, (uint32_t)i)->def;
  }
  IrValue *bias = add ? canon_other(add, op->results[0]) : op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  bool gemm = op->kind == IR_OP_GEMM, conv = op->kind == IR_OP_CONV;
  bool trans_b = gemm && ir_op_attr_int(op, "transB", 0) != 0;
  if (gemm && (ir_op_attr_int(op, "transA", 0) != 0 || ir_op_attr_float(op, "alpha", 1.0f) != 1.0f ||
               (bias && ir_op_attr_float(op, "beta", 1.0f) != 1.0f)))
    return false;
  IrValue *wv = ir_op_operand(op, 1), *z = (add ? add : op)->results[0];
  if (wv->type->rank < 1 || (!conv && wv->type->rank != 2) || z->type->rank < 1) return false;
  int32_t w_axis = conv || trans_b ? 0 : 1, y_axis = conv ? 1 : z->type->rank - 1;
  int64_t nch = wv->type->dims[w_axis].size;
  if (nch < 1 || z->type->dims[y_axis].size != nch) return false;
  QP x, w;
  if (!dq_tensor(ir_op_operand(op, 0), &x)) return false;
  if (!weight_dq(wv, w_axis, &w)) {
    qp_free(&x);
    return false;
  }
  double *b = malloc((size_t)nch * 2 * sizeof *b), *mm = b ? b + nch : NULL;
  int64_t *mul = malloc((size_t)nch * 3 * sizeof *mul), *sh = mul ? mul + nch : NULL, *bi = mul ? sh + nch : NULL;
  bool ok = b && mul && read_bias(bias, nch, b), has_bias = bias != NULL;
  for (int64_t c = 0; ok && c < nch; c++) {
    double sxw = x.s[0] * w.s[w.n == 1 ? 0 : c], q = nearbyint(b[c] / sxw);
    mm[c] = sxw / t->y.s[0];
    ok = fabs(q) <= 2147483647.0;
    bi[c] = (int64_t)q;
  }
  int64_t nm = w.n;
  ok = ok && dyadics(mm, nm, mul, sh);
  IrValue *wq = ok && trans_b ? transposed(m, t->q, w.ints) : w.ints;
  if (ok && wq) {
    IrValue *ins[4] = {x.ints, wq, zp_operand(&x), zp_operand(&w)};
    uint32_t nin = ins[3] ? 4 : ins[2] ? 3 : 2;
    IrOp *acc = canon_create(m, t->q, conv ? IR_OP_CONV_INTEGER : IR_OP_MATMUL_INTEGER, ins, nin,
                             ir_type_with_elem(m, z->type, IR_ELEM_I32), derived(m, op->results[0], "acc"));
    acc->src = op->src, acc->src_name = op->src_name;
    if (conv) {
      static const char *const attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};
      for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) copy_attr(m, acc, op, attrs[i]);
    }
    IrValue *bv = NULL;
    if (has_bias) {
      Tensor *bt = tensor_new(IR_ELEM_I32, 1, &nch);
      for (int64_t c = 0; c < nch; c++) tensor_set_i64(bt, c, bi[c]);
      bv = canon_new_const(m, t->q, derived(m, z, "bias"), bt);
      tensor_free(bt);
    }
    IrOp *r = requantize(m, t->q, acc->results[0], bv, mul, sh, nm, y_axis, 0, t, t->q->results[0]->type, NULL);
    IrOp *extra[2] = {op, bias && bias->kind == IR_VALUE_RESULT ? bias->def : NULL};
    finish(t, r, extra, 2);
  }
  free(b);
  free(mul);
  qp_free(&x);
  qp_free(&w);
  return ok && wq;
}

/* ---- Add, Mul ------------------------------------------------------- */

static bool lower_binary(IrModule *m, Tail *t) {
  QP a, b;
  if (!dq_tensor(ir_op_operand(t->op, 0), &a)) return false;
  if (!dq_tensor(ir_op_operand(t->op, 1), &b)) {
    qp_free(&a);
    return false;
  }
  bool add = t->op->kind == IR_OP_ADD, ok;
  int64_t mul[2], sh[2];
  if (add) {
    /* One shift for both: the larger multiplier's, the smaller scaled to it. */
    double ma = a.s[0] / t->y.s[0], mb = b.s[0] / t->y.s[0], big = ma > mb ? ma : mb;
    ok = dyadics(&big, 1, mul, sh);
    if (ok) mul[0] = (int64_t)nearbyint(ldexp(ma, (int)sh[0])), mul[1] = (int64_t)nearbyint(ldexp(mb, (int)sh[0]));
  } else {
    double mm = a.s[0] * b.s[0] / t->y.s[0];
    ok = dyadics(&mm, 1, mul, sh);
  }
  if (ok) {
    IrValue *ins[2] = {a.ints, b.ints};
    IrOp *r = canon_create(m, t->q, add ? IR_OP_Q_ADD : IR_OP_Q_MUL, ins, 2, t->q->results[0]->type, NULL);
    set_int(m, r, "a_zero_point", a.z[0]);
    set_int(m, r, "b_zero_point", b.z[0]);
    if (add) {
      set_int(m, r, "a_multiplier", mul[0]);
      set_int(m, r, "b_multiplier", mul[1]);
    } else {
      set_int(m, r, "multiplier", mul[0]);
    }
    set_int(m, r, "shift", sh[0]);
    set_out(m, r, t);
    finish(t, r, NULL, 0);
  }
  qp_free(&a);
  qp_free(&b);
  return ok;
}

/* ---- pooling -------------------------------------------------------- */

static bool lower_maxpool(IrModule *m, Tail *t) {
  QP x;
  IrOp *op = t->op;
  if (t->act || (op->nresults > 1 && ir_value_has_uses(op->results[1])) || !dq_tensor(ir_op_operand(op, 0), &x))
    return false;
  bool same = same_params(&x, &t->y);
  int64_t mul, sh;
  double mm = x.s[0] / t->y.s[0];
  bool ok = same || dyadics(&mm, 1, &mul, &sh);
  if (ok) {
    const IrType *pt = ir_type_with_elem(m, op->results[0]->type, x.elem);
    IrOp *mp = canon_create(m, t->q, IR_OP_MAX_POOL, &x.ints, 1, pt, same ? NULL : derived(m, op->results[0], "int"));
    for (uint32_t i = 0; i < op->nattrs; i++) ir_op_set_attr(m, mp, &op->attrs[i]);
    mp->src = op->src, mp->src_name = op->src_name;
    IrOp *root = same ? mp
                      : requantize(m, t->q, mp->results[0], NULL, &mul, &sh, 1, 1, x.z[0], t,
                                   t->q->results[0]->type, NULL);
    finish(t, root, NULL, 0);
  }
  qp_free(&x);
  return ok;
}

static bool ints_all(const IrAttr *a, int64_t v) {
  for (uint32_t i = 0; a && i < a->u.ints.n; i++)
    if (a->u.ints.v[i] != v) return false;
  return true;
}

static bool lower_avgpool(IrModule *m, Tail *t) {
  IrOp *op = t->op;
  const IrType *xt = ir_op_operand(op, 0)->type;
  if (xt->rank < 3 || xt->rank > 10) return false;
  int32_t nsp = xt->rank - 2;
  int64_t kern[8], pads[16] = {0}, strides[8], ksz = 1;
  bool global = op->kind == IR_OP_GLOBAL_AVERAGE_POOL;
  const IrAttr *ka = ir_op_attr(op, "kernel_shape"), *pa = ir_op_attr(op, "pads"), *sa = ir_op_attr(op, "strides");
  if (!global) {
    const char *ap = ir_op_attr_string(op, "auto_pad", "NOTSET");
    bool valid = strcmp(ap, "VALID") == 0;
    if ((!valid && strcmp(ap, "NOTSET") != 0) || ir_op_attr_int(op, "ceil_mode", 0) != 0 ||
        !ints_all(ir_op_attr(op, "dilations"), 1) || !ka || (int32_t)ka->u.ints.n != nsp ||
        (pa && (int32_t)pa->u.ints.n != 2 * nsp) || (sa && (int32_t)sa->u.ints.n != nsp))
      return false;
    /* Padding must count (as real 0) in the divisor, else it varies. */
    if (!valid && !ints_all(pa, 0) && ir_op_attr_int(op, "count_include_pad", 0) == 0) return false;
    for (int32_t i = 0; i < 2 * nsp; i++) pads[i] = valid || !pa ? 0 : pa->u.ints.v[i];
  }
  for (int32_t i = 0; i < nsp; i++) {
    kern[i] = global ? xt->dims[2 + i].size : ka->u.ints.v[i];
    strides[i] = global || !sa ? 1 : sa->u.ints.v[i];
    if (kern[i] < 1) return false;
    ksz *= kern[i];
  }
  QP x;
  if (!dq_tensor(ir_op_operand(op, 0), &x)) return false;
  int64_t mul, sh;
  double mm = x.s[0] / (t->y.s[0] * (double)ksz);
  bool ok = dyadics(&mm, 1, &mul, &sh);
  if (ok) {
    IrOp *r = canon_create(m, t->q, IR_OP_Q_AVERAGE_POOL, &x.ints, 1, t->q->results[0]->type, NULL);
    set_ints(m, r, "kernel_shape", kern, (uint32_t)nsp);
    if (!ints_all(&(IrAttr){.kind = IR_ATTR_INTS, .u.ints = {pads, (uint32_t)(2 * nsp)}}, 0))
      set_ints(m, r, "pads", pads, (uint32_t)(2 * nsp));
    if (!global && sa) set_ints(m, r, "strides", strides, (uint32_t)nsp);
    set_int(m, r, "x_zero_point", x.z[0]);
    set_int(m, r, "multiplier", mul);
    set_int(m, r, "shift", sh);
    set_out(m, r, t);
    finish(t, r, NULL, 0);
  }
  qp_free(&x);
  return ok;
}

/* ---- Concat --------------------------------------------------------- */

static bool lower_concat(IrModule *m, Tail *t) {
  IrOp *op = t->op;
  uint32_t n = op->noperands;
  if (t->act || n < 1) return false;
  QP *x = calloc(n, sizeof *x);
  IrValue **ins = calloc(n, sizeof *ins);
  int64_t *mul = calloc(n, sizeof *mul), *sh = calloc(n, sizeof *sh);
  uint32_t got = 0;
  bool ok = x && ins && mul && sh;
  for (; ok && got < n; got++) {
    if (!dq_tensor(ir_op_operand(op, got), &x[got])) break;
    double mm = x[got].s[0] / t->y.s[0];
    if (!same_params(&x[got], &t->y) && !dyadics(&mm, 1, &mul[got], &sh[got])) {
      got++;
      ok = false;
    }
  }
  ok = ok && got == n;
  if (ok) {
    for (uint32_t i = 0; i < n; i++) {
      ins[i] = x[i].ints;
      if (same_params(&x[i], &t->y)) continue;
      const IrType *rt = ir_type_with_elem(m, x[i].ints->type, t->y.elem);
      Tail keep = *t;
      int64_t qmin, qmax;
      ir_elem_int_range(t->y.elem, &qmin, &qmax);
      keep.lo = qmin, keep.hi = qmax;
      ins[i] = requantize(m, t->q, x[i].ints, NULL, &mul[i], &sh[i], 1, 1, x[i].z[0], &keep, rt,
                          derived(m, x[i].ints, "rq"))->results[0];
    }
    IrOp *c = canon_create(m, t->q, IR_OP_CONCAT, ins, n, t->q->results[0]->type, NULL);
    copy_attr(m, c, op, "axis");
    c->src = op->src, c->src_name = op->src_name;
    finish(t, c, NULL, 0);
  }
  for (uint32_t i = 0; x && i < got; i++) qp_free(&x[i]);
  free(x);
  free(ins);
  free(mul);
  free(sh);
  return ok;
}

/* ---- driver --------------------------------------------------------- */

/* Some operand of op (or, for an Add over a MatMul, of the MatMul) is a
 * DQ result: the Q closes a QDQ pattern worth counting. */
static bool reads_dq(const IrOp *op) {
  for (uint32_t i = 0; i < op->noperands; i++) {
    IrValue *v = ir_op_operand(op, i);
    if (v && canon_def(v, IR_OP_DEQUANTIZE_LINEAR)) return true;
  }
  return false;
}

/* An Add with one operand a single-use MatMul over DQs and the other a
 * constant (or a DQ of one): MatMul plus bias. */
static bool matmul_bias(const IrOp *add) {
  int i = canon_operand_of_kind(add, IR_OP_MATMUL);
  if (i < 0) return false;
  IrValue *b = ir_op_operand(add, (uint32_t)(1 - i));
  IrOp *bdq = canon_def(b, IR_OP_DEQUANTIZE_LINEAR);
  return (canon_const(b) || (bdq && canon_const(ir_op_operand(bdq, 0)))) &&
         reads_dq(ir_op_operand(add, (uint32_t)i)->def);
}

static bool lower_q(PassContext *ctx, IrModule *m, IrOp *q) {
  IrValue *v = ir_op_operand(q, 0);
  if (v->kind != IR_VALUE_RESULT) return true;
  Tail t = {.q = q, .op = v->def};
  if (t.op->kind == IR_OP_RELU || t.op->kind == IR_OP_CLIP) {
    t.act = t.op;
    IrValue *u = ir_op_operand(t.act, 0);
    if (u->kind != IR_VALUE_RESULT) return true;
    t.op = u->def;
  }
  Pattern p = pattern_of(t.op->kind);
  bool bias_add = p == P_ADD && matmul_bias(t.op);
  if (p == P_COUNT || (!reads_dq(t.op) && !bias_add)) return true;
  bool ok = qp_read(q, &t.y);
  ok = ok && t.y.n == 1 && canon_one_use(v) && (!t.act || canon_one_use(ir_op_operand(t.act, 0))) && fold_act(&t);
  if (ok) {
    switch (p) {
    case P_CONV: case P_MATMUL: case P_GEMM: ok = lower_linear(m, &t, p); break;
    case P_ADD: ok = bias_add ? lower_linear(m, &t, p) : lower_binary(m, &t); break;
    case P_MUL: ok = lower_binary(m, &t); break;
    case P_MAXPOOL: ok = lower_maxpool(m, &t); break;
    case P_AVGPOOL: ok = lower_avgpool(m, &t); break;
    case P_CONCAT: ok = lower_concat(m, &t); break;
    case P_COUNT: ok = false; break;
    }
  }
  if (bias_add) p = P_MATMUL;
  quench_pass_stat_add(ctx, ok ? lowered_stat[p] : declined_stat[p], 1);
  qp_free(&t.y);
  return true;
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  if (op->kind == IR_OP_QUANTIZE_LINEAR) return lower_q(ctx, m, op);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"conv-lowered", "DQ -> Conv -> Q patterns lowered to ConvInteger + quench.Requantize"},
    {"matmul-lowered", "DQ -> MatMul [+ bias] -> Q patterns lowered to MatMulInteger + quench.Requantize"},
    {"gemm-lowered", "DQ -> Gemm -> Q patterns lowered to MatMulInteger + quench.Requantize"},
    {"add-lowered", "DQ -> Add -> Q patterns lowered to quench.QAdd"},
    {"mul-lowered", "DQ -> Mul -> Q patterns lowered to quench.QMul"},
    {"maxpool-lowered", "DQ -> MaxPool -> Q patterns lowered to an integer MaxPool"},
    {"avgpool-lowered", "DQ -> (Global)AveragePool -> Q patterns lowered to quench.QAveragePool"},
    {"concat-lowered", "DQ -> Concat -> Q patterns lowered to an integer Concat"},
    {"conv-declined", "Conv QDQ patterns left in QDQ form"},
    {"matmul-declined", "MatMul QDQ patterns left in QDQ form"},
    {"gemm-declined", "Gemm QDQ patterns left in QDQ form"},
    {"add-declined", "Add QDQ patterns left in QDQ form"},
    {"mul-declined", "Mul QDQ patterns left in QDQ form"},
    {"maxpool-declined", "MaxPool QDQ patterns left in QDQ form"},
    {"avgpool-declined", "AveragePool/GlobalAveragePool QDQ patterns left in QDQ form"},
    {"concat-declined", "Concat QDQ patterns left in QDQ form"},
    {0},
};

const Pass pass_lower_int = {
    .name = "lower-int",
    .summary = "Lower complete QDQ patterns to integer ops (int32 accumulation, dyadic requantization)",
    .options = NULL,
    .stats = stats,
    .run = run,
};
