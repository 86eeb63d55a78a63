/* quantize: turns a float graph into QDQ form (docs/quantization.md).
 *
 * What it does, per function body (never inside If/Loop/Scan bodies):
 *   - the constant weights of Conv, ConvTranspose, MatMul and Gemm become
 *     quantized constants + DequantizeLinear (passes/quantize_weights.c);
 *   - the activation inputs and the output of the quantized ops (those
 *     four, Add of two activations, MaxPool, AveragePool,
 *     GlobalAveragePool, Concat) get one QuantizeLinear -> DequantizeLinear
 *     pair per value, X -> X.q -> X.dq, with scale and zero point from the
 *     calibrated range (q_calib_range, then q_choose_params). An output
 *     whose only user is Relu or Clip is quantized after that activation;
 *     MaxPool and a one-input Concat reuse their input's parameters.
 *     Dynamic per-token activations compute the scale in the graph.
 * Settings come from a preset, a config file (compiler/quant/qconfig.h)
 * and keep-float; the calibrator defaults to the preset's (mse for integer
 * activations). outputs=feeding pairs outputs, and quantizes Add/pool/
 * Concat ops, only where a quantized linear op lies downstream;
 * act-matmul=false leaves MatMuls of two activations float; rounding=
 * rtn|gptq|auto picks how weight codes are chosen (GPTQ from the Gram
 * statistics of the .qstats file); w-clip=mse clips integer weight scales
 * MSE-optimally; bias-correction=true folds the mean weight error into the
 * bias. Bias operands stay float; integer tensors are never
 * quantized; the graph's outputs and kept-float ops read the float value.
 * Needs: verified IR with static weight shapes; calibration statistics
 * (.qstats) when an activation is statically quantized.
 * Test: test/lit/quant/quantize-*.qir, test/unit/test_qconfig.c,
 * test/unit/test_quantize_numerics.c.
 * Docs: docs/passes/quantize.md, docs/quant-config.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/quantize_util.h"
#include "quant/qmath.h"

typedef struct OpAt {
  IrOp *op;
  size_t i;
} OpAt;

/* One value to quantize, in the order the pairs are requested. */
typedef struct Pair {
  IrValue *x;
  QActCfg a;
  IrOp *req;          /* the op that asked for it */
  IrValue *share;     /* take this value's parameters (MaxPool, 1-input Concat) */
  IrValue *scale, *zp; /* once built (static only) */
  bool built;
} Pair;

typedef struct Run {
  QzCtx q;
  char **keep; /* keep-float items */
  int nkeep;
  Pair *pairs;
  int npairs, cap;
  QStats stats;
  QGramSet grams; /* read with stats */
  bool stats_loaded;
  const char *stats_path;
  struct WDone {
    IrValue *w, *dq;
    QWeightCfg cfg;
  } *wq; /* weights quantized so far, for sharing and cleanup */
  int nwq;
  bool all_outputs; /* outputs=all: the old placement, every output paired */
  bool act_matmul;  /* quantize MatMuls of two activations */
  /* The top-level ops of the body being walked, in program order, a copy
   * sorted by address (for index_of) and, per op, whether a quantized
   * Conv/ConvTranspose/MatMul/Gemm reads its results or anything computed
   * from them. */
  IrOp **ops;
  OpAt *sorted;
  size_t nops;
  bool *feeds;
} Run;

static bool float_value(const IrValue *v) { return v && ir_elem_is_float(v->type->elem) && !v->type->quant; }

static bool listed_keep(const Run *r, const IrOp *op) {
  for (int i = 0; i < r->nkeep; i++)
    if (strcmp(r->keep[i], ops_name(op->kind)) == 0 || (op->src_name && strcmp(r->keep[i], op->src_name) == 0))
      return true;
  return false;
}

static void resolve(const Run *r, const IrOp *op, const IrValue *v, QOpCfg *out) {
  q_config_resolve(&r->q.cfg, ops_name(op->kind), op->src_name, v ? v->name : NULL, out);
}

/* Kept float: by keep-float or a `float` config rule. */
static bool kept_float(const Run *r, const IrOp *op) {
  if (listed_keep(r, op)) return true;
  QOpCfg c;
  resolve(r, op, NULL, &c);
  return c.keep_float;
}

static bool quantizable_kind(IrOpKind k) {
  switch (k) {
  case IR_OP_CONV: case IR_OP_CONV_TRANSPOSE: case IR_OP_MATMUL: case IR_OP_GEMM: case IR_OP_ADD:
  case IR_OP_MAX_POOL: case IR_OP_AVERAGE_POOL: case IR_OP_GLOBAL_AVERAGE_POOL: case IR_OP_CONCAT:
    return true;
  default:
    return false;
  }
}

static bool has_weights(IrOpKind k) {
  return k == IR_OP_CONV || k == IR_OP_CONV_TRANSPOSE || k == IR_OP_MATMUL || k == IR_OP_GEMM;
}

/* A MatMul of two activations (attention scores and values). */
static bool act_matmul(const IrOp *op) {
  return op->kind == IR_OP_MATMUL && !canon_const(ir_op_operand(op, 0)) && !canon_const(ir_op_operand(op, 1));
}

/* ---- where integer kernels run ---------------------------------------------------- */

static int cmp_at(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const OpAt *)a)->op, y = (uintptr_t)((const OpAt *)b)->op;
  return x < y ? -1 : x > y;
}

/* Program-order index of the top-level op that is or contains op; -1: none. */
static long index_of(const Run *r, const IrOp *op, const IrRegion *body) {
  while (op && op->parent != body) op = op->parent ? op->parent->parent_op : NULL;
  if (!op) return -1;
  OpAt key = {.op = (IrOp *)op};
  const OpAt *hit = bsearch(&key, r->sorted, r->nops, sizeof *r->sorted, cmp_at);
  return hit ? (long)hit->i : -1;
}

/* A linear op the walk will quantize: it anchors an integer pipeline. */
static bool anchor_op(const Run *r, const IrOp *op) {
  if (!has_weights(op->kind) || op->nresults < 1 || !float_value(op->results[0])) return false;
  if (act_matmul(op) && !r->act_matmul) return false;
  return !kept_float(r, op);
}

static Pair *find_pair(Run *r, const IrValue *x) {
  for (int i = 0; i < r->npairs; i++)
    if (r->pairs[i].x == x) return &r->pairs[i];
  return NULL;
}

/* Asks for a pair on x (first request wins). */
static void request(Run *r, IrOp *op, IrValue *x, IrValue *share) {
  if (!float_value(x) || canon_const(x) || find_pair(r, x)) return;
  QOpCfg c;
  resolve(r, op, x, &c);
  if (c.keep_float) return;
  if (r->npairs == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->pairs = realloc(r->pairs, (size_t)r->cap * sizeof *r->pairs);
  }
  r->pairs[r->npairs++] = (Pair){.x = x, .a = c.a, .req = op, .share = share};
}

/* The users of x that will read x.dq: top-level ops other than the return
 * and kept-float ops. */
static int dq_users(const Run *r, const IrValue *x, const IrRegion *body, IrUse **out, int max) {
  int n = 0;
  for (IrUse *u = x->uses; u; u = u->next) {
    IrOp *op = u->user;
    if (op->parent != body || op->kind == IR_OP_RETURN || kept_float(r, op)) continue;
    if (n < max) out[n] = u;
    n++;
  }
  return n;
}

/* Reads the statistics file (with its Gram sections) once. */
static bool read_stats(Run *r) {
  if (r->stats_loaded) return true;
  q_stats_init(&r->stats);
  q_gram_set_init(&r->grams);
  if (!q_stats_read_gram(&r->stats, &r->grams, r->stats_path, r->q.ctx->diag)) return false;
  r->stats_loaded = true;
  r->q.grams = &r->grams;
  r->q.stats = &r->stats;
  return true;
}

static bool load_stats(Run *r, IrOp *at, const IrValue *x) {
  if (r->stats_loaded) return true;
  if (!r->stats_path || !*r->stats_path) {
    quench_pass_error(r->q.ctx, at,
                      "value '%s' is quantized statically but there are no calibration statistics: give "
                      "stats=FILE or run calibrate first",
                      x->name ? x->name : "?");
    return false;
  }
  return read_stats(r);
}

static Tensor *scalar(IrElem e) {
  int64_t none = 0;
  return tensor_new(e, 0, &none);
}

/* Static parameters of pair p into *s, *z, or false after an error or
 * (*skip set) when the value holds Inf or NaN: a quantized code cannot
 * stand for them, and an attention mask of -inf must stay one. */
static bool static_params(Run *r, Pair *p, float *s, int64_t *z, bool *skip) {
  *skip = false;
  if (!load_stats(r, p->req, p->x)) return false;
  const QTensorStats *ts = p->x->name ? q_stats_find(&r->stats, p->x->name) : NULL;
  if (!ts) {
    quench_pass_error(r->q.ctx, p->req, "no calibration statistics for value '%s' in '%s'",
                      p->x->name ? p->x->name : "?", r->stats_path);
    return false;
  }
  if (ts->nonfinite > 0) {
    quench_pass_stat_add(r->q.ctx, "nonfinite-kept-float", 1);
    *skip = true;
    return false;
  }
  double lo, hi;
  q_calib_range(ts, &p->a.calib, p->a.fmt, p->a.symmetric, &lo, &hi);
  q_choose_params(p->a.fmt, lo, hi, p->a.symmetric, s, z);
  return true;
}

/* Where a pair's ops go: after x's definition, or at the top of the body. */
static IrOp *anchor(IrValue *x, IrRegion *body, IrOp **before) {
  *before = NULL;
  if (x->kind == IR_VALUE_RESULT) return x->def;
  *before = body->first;
  return NULL;
}

/* Clip(x, (qmin - z) s, (qmax - z) s) for formats narrower than their
 * storage type, which QuantizeLinear saturates only at the storage range. */
static IrValue *narrow_clip(Run *r, Pair *p, IrValue *x, IrOp **cur, IrOp *before, float s, int64_t z) {
  const QFormat *f = p->a.fmt;
  int64_t lo, hi;
  ir_elem_int_range(f->elem, &lo, &hi);
  if (f->kind != Q_FMT_INT || (lo == f->qmin && hi == f->qmax)) return x;
  Tensor *a = scalar(IR_ELEM_F32), *b = scalar(IR_ELEM_F32);
  tensor_set_f64(a, 0, (double)(f->qmin - z) * s);
  tensor_set_f64(b, 0, (double)(f->qmax - z) * s);
  IrValue *ins[3] = {x, qz_const(&r->q, cur, before, qz_name(&r->q, x->name, "lo"), a),
                     qz_const(&r->q, cur, before, qz_name(&r->q, x->name, "hi"), b)};
  tensor_free(a), tensor_free(b);
  return qz_op(&r->q, cur, before, IR_OP_CLIP, ins, 3, x->type, qz_name(&r->q, x->name, "clip"))->results[0];
}

/* Dynamic per token: s = ReduceMax(Abs(x), axes=[-1], keepdims=1) / qmax,
 * then blocked Q/DQ along the last axis, one block per token. */
static IrValue *build_dynamic(Run *r, Pair *p, IrOp **cur, IrOp *before) {
  IrValue *x = p->x;
  const QFormat *f = p->a.fmt;
  int32_t rank = x->type->rank;
  int64_t k = rank > 0 ? x->type->dims[rank - 1].size : -1;
  if (k < 1 || (f->kind == Q_FMT_INT && f->qmin >= 0)) {
    quench_pass_error(r->q.ctx, p->req,
                      "dynamic per-token quantization of '%s' needs a static last dim and a signed or float format",
                      x->name ? x->name : "?");
    return NULL;
  }
  QzCtx *q = &r->q;
  IrModule *m = q->m;
  IrValue *abs = qz_op(q, cur, before, IR_OP_ABS, &x, 1, x->type, qz_name(q, x->name, "abs"))->results[0];
  IrDim dims[TENSOR_MAX_RANK];
  for (int32_t i = 0; i < rank && i < TENSOR_MAX_RANK; i++) dims[i] = x->type->dims[i];
  dims[rank - 1] = (IrDim){.size = 1};
  const IrType *st = ir_type_tensor(m, x->type->elem, rank, dims);
  IrOp *rm = qz_op(q, cur, before, IR_OP_REDUCE_MAX, &abs, 1, st, qz_name(q, x->name, "amax"));
  int64_t axes[1] = {-1};
  IrAttr aa = {.name = "axes", .kind = IR_ATTR_INTS, .u.ints = {axes, 1}};
  ir_op_set_attr(m, rm, &aa);
  qz_set_int(q, rm, "keepdims", 1);
  Tensor *qm = scalar(x->type->elem);
  tensor_set_f64(qm, 0, f->kind == Q_FMT_INT ? (double)((f->qmax - f->qmin) / 2) : q_format_max(f));
  IrValue *ins[2] = {rm->results[0], qz_const(q, cur, before, qz_name(q, x->name, "qmax"), qm)};
  tensor_free(qm);
  IrValue *s = qz_op(q, cur, before, IR_OP_DIV, ins, 2, st, qz_name(q, x->name, "scale"))->results[0];
  IrValue *qin[2] = {x, s};
  IrOp *qop = qz_op(q, cur, before, IR_OP_QUANTIZE_LINEAR, qin, 2, ir_type_with_elem(m, x->type, f->elem),
                    qz_name(q, x->name, "q"));
  qz_set_int(q, qop, "axis", -1);
  qz_set_int(q, qop, "block_size", k);
  qz_set_int(q, qop, "output_dtype", ir_elem_info[f->elem].onnx);
  IrValue *din[2] = {qop->results[0], s};
  IrOp *dq = qz_op(q, cur, before, IR_OP_DEQUANTIZE_LINEAR, din, 2, x->type, qz_name(q, x->name, "dq"));
  qz_set_int(q, dq, "axis", -1);
  qz_set_int(q, dq, "block_size", k);
  return dq->results[0];
}

static double const_scalar(const IrValue *v) {
  double d = 0;
  canon_scalar(v, &d);
  return d;
}

/* Builds pair p and points its users at x.dq; false after an error. */
static bool build_pair(Run *r, Pair *p, IrRegion *body) {
  IrUse *one;
  if (!p->a.fmt || dq_users(r, p->x, body, &one, 1) == 0) return true;
  int n = dq_users(r, p->x, body, &one, 0);
  IrUse **users = malloc((size_t)n * sizeof *users);
  dq_users(r, p->x, body, users, n);
  IrOp *before, *at = anchor(p->x, body, &before);
  IrOp **cur = at ? &at : NULL;
  IrValue *x = p->x, *dqv = NULL;
  QzCtx *q = &r->q;
  bool skip = false;
  Pair *src = p->share ? find_pair(r, p->share) : NULL;
  if (src && (!src->built || !src->scale || src->a.fmt != p->a.fmt)) src = NULL;
  bool dyn = p->a.mode == Q_ACT_DYNAMIC && !src;
  int32_t xr = x->type->rank;
  if (dyn && (xr < 1 || x->type->dims[xr - 1].size < 1) && !(p->a.fmt->kind == Q_FMT_INT && p->a.fmt->qmin >= 0)) {
    /* No per-token block without a static last dim (keys transposed over a
     * dynamic sequence length): static per tensor instead. */
    dyn = false;
    quench_pass_stat_add(q->ctx, "dynamic-to-static", 1);
  }
  if (dyn) {
    dqv = build_dynamic(r, p, cur, before);
  } else {
    float s = 0;
    int64_t z = 0;
    if (src) {
      p->scale = src->scale, p->zp = src->zp;
      s = (float)const_scalar(p->scale);
      z = p->a.fmt->kind == Q_FMT_INT ? (int64_t)const_scalar(p->zp) : 0;
    } else if (static_params(r, p, &s, &z, &skip)) {
      Tensor *ts = scalar(IR_ELEM_F32), *tz = scalar(p->a.fmt->elem);
      tensor_set_f64(ts, 0, s);
      if (p->a.fmt->kind == Q_FMT_INT) tensor_set_i64(tz, 0, z);
      p->scale = qz_const(q, cur, before, qz_name(q, x->name, "scale"), ts);
      p->zp = qz_const(q, cur, before, qz_name(q, x->name, "zp"), tz);
      tensor_free(ts), tensor_free(tz);
    }
    if (p->scale) {
      IrValue *xin = narrow_clip(r, p, x, cur, before, s, z);
      IrValue *qin[3] = {xin, p->scale, p->zp};
      IrOp *qop = qz_op(q, cur, before, IR_OP_QUANTIZE_LINEAR, qin, 3, ir_type_with_elem(q->m, x->type, p->a.fmt->elem),
                        qz_name(q, x->name, "q"));
      IrValue *din[3] = {qop->results[0], p->scale, p->zp};
      dqv = qz_op(q, cur, before, IR_OP_DEQUANTIZE_LINEAR, din, 3, x->type, qz_name(q, x->name, "dq"))->results[0];
    }
  }
  if (dqv) {
    for (int i = 0; i < n; i++) ir_op_set_operand(users[i]->user, users[i]->index, dqv);
    quench_pass_stat_add(q->ctx, "activations-quantized", 1);
  }
  p->built = dqv != NULL;
  free(users);
  return dqv != NULL || skip;
}

/* ---- the walk ------------------------------------------------------------------ */

/* The value whose pair stands for op's output: its result, or the result
 * of a Relu/Clip that is its only user (so lower-int can fold it). */
static IrValue *output_target(const Run *r, IrOp *op) {
  IrValue *y = op->results[0];
  if (canon_one_use(y)) {
    IrOp *u = y->uses->user;
    if ((u->kind == IR_OP_RELU || u->kind == IR_OP_CLIP) && u->parent == op->parent && !kept_float(r, u))
      return u->results[0];
  }
  return y;
}

static double amax_of(Run *r, const IrValue *v) {
  const QTensorStats *ts = v->name ? q_stats_find(&r->stats, v->name) : NULL;
  return ts && ts->count ? fmax(fabs(ts->min), fabs(ts->max)) : -1;
}

/* An Add of an additive mask (an attention mask of -1e9 or the like): one
 * calibrated input at least 2^16 times larger in magnitude than the other.
 * One per-tensor scale for the sum would erase the smaller input (8-bit
 * codes keep nothing below amax / 2^8), so the Add stays float. Only known
 * with statistics at hand; without them the Add is quantized as usual. */
static bool additive_mask(Run *r, IrOp *op) {
  if (!r->stats_loaded) {
    if (!r->stats_path || !*r->stats_path) return false;
    if (!read_stats(r)) {
      r->q.failed = true;
      return false;
    }
  }
  double a = amax_of(r, ir_op_operand(op, 0)), b = amax_of(r, ir_op_operand(op, 1));
  if (a < 0 || b < 0) return false;
  double lo = fmin(a, b), hi = fmax(a, b);
  return hi > 65536.0 * lo;
}

static bool same_wcfg(const QWeightCfg *a, const QWeightCfg *b) {
  return a->fmt == b->fmt && a->gran == b->gran && a->group == b->group && a->axis == b->axis &&
         a->symmetric == b->symmetric && a->rounding == b->rounding && a->clip == b->clip &&
         a->bias_correction == b->bias_correction;
}

/* W.dq for op's weights, shared with an earlier user quantizing W alike
 * (GPTQ codes depend on the first user's input). GPTQ needs the Gram
 * statistics: read here when nothing has read the file yet (weight-only
 * presets); without a file it falls back to nearest. */
static IrValue *weight(Run *r, IrOp *op, IrValue *wv, const QWeightCfg *w) {
  for (int i = 0; i < r->nwq; i++)
    if (r->wq[i].w == wv && same_wcfg(&r->wq[i].cfg, w)) return r->wq[i].dq;
  if ((w->rounding != Q_ROUND_RTN || w->bias_correction) && r->stats_path && *r->stats_path && !read_stats(r)) {
    r->q.failed = true;
    return NULL;
  }
  IrValue *dq = qz_weight(&r->q, op, 1, w);
  if (dq) {
    r->wq = realloc(r->wq, (size_t)(r->nwq + 1) * sizeof *r->wq);
    r->wq[r->nwq++] = (struct WDone){wv, dq, *w};
  }
  return dq;
}

/* Float weights that nothing reads any more go, with their pool entries
 * when no other Constant refers to them. */
static void drop_float_weights(Run *r) {
  for (int i = 0; i < r->nwq; i++) qz_drop_const(&r->q, r->wq[i].w);
}

/* Follower ops (Add, pooling, Concat) are quantized only to keep an
 * integer pipeline going, so only where a quantized linear op lies
 * downstream (feeds); the same holds for the output pair of any quantized
 * op. outputs=all restores pairs everywhere. */
static void visit(Run *r, IrOp *op, bool feeds) {
  if (!quantizable_kind(op->kind) || !float_value(op->results[0])) return;
  if (kept_float(r, op)) {
    quench_pass_stat_add(r->q.ctx, "ops-kept-float", 1);
    return;
  }
  bool out = feeds || r->all_outputs;
  if (!has_weights(op->kind) && !out) {
    quench_pass_stat_add(r->q.ctx, "tail-ops-float", 1);
    return;
  }
  if (act_matmul(op) && !r->act_matmul) {
    quench_pass_stat_add(r->q.ctx, "act-matmuls-float", 1);
    return;
  }
  if (op->kind == IR_OP_ADD && (canon_const(ir_op_operand(op, 0)) || canon_const(ir_op_operand(op, 1)))) return;
  if (op->kind == IR_OP_ADD && additive_mask(r, op)) {
    quench_pass_stat_add(r->q.ctx, "masks-kept-float", 1);
    return;
  }
  bool wconst = false;
  if (has_weights(op->kind)) {
    IrValue *wv = ir_op_operand(op, 1);
    wconst = canon_const(wv) != NULL;
    if (float_value(wv) && wconst) {
      QOpCfg c;
      resolve(r, op, wv, &c);
      IrValue *dq = c.keep_float ? NULL : weight(r, op, wv, &c.w);
      if (dq) ir_op_set_operand(op, 1, dq);
    }
  }
  /* Activation inputs: data operands, not Conv/Gemm biases. */
  uint32_t nin = op->kind == IR_OP_CONCAT ? op->noperands : op->kind == IR_OP_ADD ? 2
               : has_weights(op->kind) ? 2 : 1;
  for (uint32_t i = 0; i < nin && i < op->noperands; i++)
    if (!(i == 1 && wconst)) request(r, op, ir_op_operand(op, i), NULL);
  if (!out) {
    quench_pass_stat_add(r->q.ctx, "outputs-float", 1);
    return;
  }
  bool share = op->kind == IR_OP_MAX_POOL || (op->kind == IR_OP_CONCAT && op->noperands == 1);
  request(r, op, output_target(r, op), share ? ir_op_operand(op, 0) : NULL);
}

/* feeds[i]: some quantized Conv/ConvTranspose/MatMul/Gemm lies downstream
 * of op i. Users come after their producer, so one backward sweep does. */
static void mark_feeds(Run *r, const IrRegion *body) {
  for (size_t i = r->nops; i-- > 0;) {
    IrOp *op = r->ops[i];
    bool f = false;
    for (uint32_t k = 0; k < op->nresults && !f; k++)
      for (IrUse *u = op->results[k]->uses; u && !f; u = u->next) {
        long j = index_of(r, u->user, body);
        if (j > (long)i) f = anchor_op(r, r->ops[j]) || r->feeds[j];
      }
    r->feeds[i] = f;
  }
}

static bool run_func(Run *r, IrFunc *f) {
  IrRegion *body = f->body;
  size_t n = 0;
  for (IrOp *op = body->first; op; op = op->next) n++;
  r->ops = malloc((n ? n : 1) * sizeof *r->ops);
  r->sorted = malloc((n ? n : 1) * sizeof *r->sorted);
  r->feeds = calloc(n ? n : 1, sizeof *r->feeds);
  n = 0;
  for (IrOp *op = body->first; op; op = op->next) r->sorted[n] = (OpAt){op, n}, r->ops[n++] = op;
  r->nops = n;
  qsort(r->sorted, n, sizeof *r->sorted, cmp_at);
  mark_feeds(r, body);
  for (size_t i = 0; i < n && !r->q.failed; i++) visit(r, r->ops[i], r->feeds[i]);
  free(r->ops), free(r->sorted), free(r->feeds);
  r->ops = NULL, r->sorted = NULL, r->feeds = NULL, r->nops = 0;
  bool ok = !r->q.failed && r->q.ctx->diag->errors == 0;
  for (int i = 0; ok && i < r->npairs; i++) ok = build_pair(r, &r->pairs[i], body);
  r->npairs = 0;
  return ok;
}

/* ---- names the config refers to ------------------------------------------------- */

typedef struct Names {
  StrMap nodes, values;
} Names;

static void note_value(Names *n, const IrValue *v) {
  if (v && v->name) strmap_put(&n->values, v->name, (void *)v);
}

static bool collect_names(IrOp *op, void *arg) {
  Names *n = arg;
  if (op->src_name) strmap_put(&n->nodes, op->src_name, op);
  for (uint32_t i = 0; i < op->nresults; i++) note_value(n, op->results[i]);
  for (uint32_t i = 0; i < op->nregions; i++)
    for (uint32_t j = 0; j < op->regions[i]->nargs; j++) note_value(n, op->regions[i]->args[j]);
  return true;
}

static bool check_names(Run *r) {
  Names n;
  strmap_init(&n.nodes), strmap_init(&n.values);
  IrModule *m = r->q.m;
  for (uint32_t i = 0; i < m->nfuncs; i++)
    for (uint32_t j = 0; j < m->funcs[i]->body->nargs; j++) note_value(&n, m->funcs[i]->body->args[j]);
  ir_module_walk(m, collect_names, &n);
  bool ok = true;
  for (int i = 0; i < r->q.cfg.n; i++) {
    const QRule *q = &r->q.cfg.rules[i];
    const StrMap *map = q->sel == Q_SEL_NODE ? &n.nodes : q->sel == Q_SEL_TENSOR ? &n.values : NULL;
    if (map && !strmap_get(map, q->name)) {
      if (q->line == 0) /* from float-values, not from the file */
        quench_pass_error(r->q.ctx, NULL, "float-values: no value named '%s' in the module", q->name);
      else
        diag_error(r->q.ctx->diag, diag_loc(r->q.cfg.path, q->line, q->name_col), "no %s named '%s' in the module",
                   q->sel == Q_SEL_NODE ? "node" : "tensor", q->name);
      ok = false;
    }
  }
  strmap_free(&n.nodes), strmap_free(&n.values);
  return ok;
}

/* ---- options and entry ------------------------------------------------------------ */

/* The next non-empty item of a comma-separated list (malloc'ed), NULL at
 * the end. */
static char *next_item(const char **s) {
  while (*s && **s) {
    const char *e = strchr(*s, ',');
    size_t len = e ? (size_t)(e - *s) : strlen(*s);
    const char *at = *s;
    *s = e ? e + 1 : NULL;
    if (len) {
      char *item = malloc(len + 1);
      memcpy(item, at, len);
      item[len] = 0;
      return item;
    }
  }
  return NULL;
}

static void split_keep(Run *r, const char *s) {
  for (char *item; (item = next_item(&s));) {
    r->keep = realloc(r->keep, (size_t)(r->nkeep + 1) * sizeof *r->keep);
    r->keep[r->nkeep++] = item;
  }
}

/* float-values: value names kept float, as `tensor NAME float` rules
 * after the config's (quench report --sensitivity uses it). */
static void add_float_values(Run *r, const char *s) {
  for (char *item; (item = next_item(&s)); free(item)) q_config_add_float_tensor(&r->q.cfg, item);
}

static const char *module_stats_path(const IrModule *m) {
  const IrAttr *a = ir_attrs_find(m->attrs, m->nattrs, "quench.calib_stats");
  return a && a->kind == IR_ATTR_STRING ? a->u.s : NULL;
}

static bool setup(Run *r, PassContext *ctx, IrModule *m) {
  const char *preset = quench_pass_option_string(ctx, "preset");
  QCalibOptions calib = {.method = q_preset_calibrator(preset), .percentile = quench_pass_option_float(ctx, "percentile")};
  const char *cal = quench_pass_option_string(ctx, "calibrator");
  if (*cal && !q_calib_method_from_name(cal, &calib.method)) {
    quench_pass_error(ctx, NULL, "unknown calibrator '%s' (valid: minmax, percentile, entropy, mse)", cal);
    return false;
  }
  QOpCfg base;
  if (!q_preset_get(preset, &calib, &base)) {
    quench_pass_error(ctx, NULL, "unknown preset '%s' (valid: %s)", preset, q_preset_names());
    return false;
  }
  const char *rounding = quench_pass_option_string(ctx, "rounding");
  if (*rounding && !q_rounding_from_name(rounding, &base.w.rounding)) {
    quench_pass_error(ctx, NULL, "unknown rounding '%s' (valid: rtn, gptq, auto)", rounding);
    return false;
  }
  const char *clip = quench_pass_option_string(ctx, "w-clip");
  if (*clip && !q_wclip_from_name(clip, &base.w.clip)) {
    quench_pass_error(ctx, NULL, "unknown w-clip '%s' (valid: none, mse)", clip);
    return false;
  }
  const char *bc = quench_pass_option_string(ctx, "bias-correction");
  if (*bc && strcmp(bc, "true") != 0 && strcmp(bc, "false") != 0) {
    quench_pass_error(ctx, NULL, "bias-correction takes true or false, got '%s'", bc);
    return false;
  }
  if (*bc) base.w.bias_correction = strcmp(bc, "true") == 0;
  r->q.gptq_damp = quench_pass_option_float(ctx, "gptq-damp");
  r->q.gptq_act_order = quench_pass_option_bool(ctx, "gptq-act-order");
  q_config_init(&r->q.cfg, &base);
  const char *cfg = quench_pass_option_string(ctx, "config");
  if (*cfg && !q_config_parse_file(&r->q.cfg, cfg, ctx->diag)) return false;
  add_float_values(r, quench_pass_option_string(ctx, "float-values"));
  if (r->q.cfg.n && !check_names(r)) return false;
  split_keep(r, quench_pass_option_string(ctx, "keep-float"));
  const char *outs = quench_pass_option_string(ctx, "outputs");
  if (strcmp(outs, "all") != 0 && strcmp(outs, "feeding") != 0) {
    quench_pass_error(ctx, NULL, "unknown outputs '%s' (valid: feeding, all)", outs);
    return false;
  }
  r->all_outputs = strcmp(outs, "all") == 0;
  r->act_matmul = quench_pass_option_bool(ctx, "act-matmul");
  const char *sp = quench_pass_option_string(ctx, "stats");
  r->stats_path = *sp ? sp : module_stats_path(m);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  Run r = {.q = {.ctx = ctx, .m = m}};
  qz_names_init(&r.q);
  bool ok = setup(&r, ctx, m);
  for (uint32_t i = 0; ok && i < m->nfuncs; i++) ok = run_func(&r, m->funcs[i]);
  if (ok) drop_float_weights(&r);
  q_config_free(&r.q.cfg);
  strmap_free(&r.q.taken);
  for (int i = 0; i < r.nkeep; i++) free(r.keep[i]);
  free(r.keep);
  free(r.pairs);
  free(r.wq);
  if (r.stats_loaded) q_stats_free(&r.stats), q_gram_set_free(&r.grams);
  return ok && !r.q.failed;
}

static const PassOption options[] = {
    {"preset", Q_OPT_STRING, "w8a8", "w8a8, w8a8-sym, w4a16, w4a8, w4a4, fp8, mxfp4 or nvfp4 (docs/quantization.md)", 0, 0},
    {"config", Q_OPT_STRING, "", "a config file overriding the preset per op, node and tensor (docs/quant-config.md)",
     0, 0},
    {"stats", Q_OPT_STRING, "", "the .qstats file (default: the module attribute quench.calib_stats)", 0, 0},
    {"calibrator", Q_OPT_STRING, "", "minmax, percentile, entropy or mse (default: the preset's, mse for integer activations)",
     0, 0},
    {"percentile", Q_OPT_FLOAT, "99.99", "the percentile calibrator's percentile, per side", 0, 0},
    {"keep-float", Q_OPT_STRING, "", "comma-separated op types or node names that stay float", 0, 0},
    {"float-values", Q_OPT_STRING, "", "comma-separated value names that stay float (a `tensor NAME float` rule each)",
     0, 0},
    {"outputs", Q_OPT_STRING, "all",
     "feeding: quantize outputs and Add/pool/Concat ops only with a quantized linear op downstream; all: always", 0,
     0},
    {"act-matmul", Q_OPT_BOOL, "true", "quantize MatMuls of two activations (attention scores and values)", 0, 0},
    {"rounding", Q_OPT_STRING, "",
     "weight codes: rtn (nearest), gptq (from Gram statistics; nearest where none), auto (default: the preset's)", 0,
     0},
    {"gptq-damp", Q_OPT_FLOAT, "0.01", "GPTQ damping, a fraction of mean(diag H)", 0, 0},
    {"gptq-act-order", Q_OPT_BOOL, "false", "GPTQ quantizes inputs by descending H_ii (groups: static scales)", 0, 0},
    {"w-clip", Q_OPT_STRING, "",
     "integer weight scales: none (amax) or mse (MSE-optimal clip ratio per group; default: the preset's)", 0, 0},
    {"bias-correction", Q_OPT_STRING, "",
     "true: subtract E[x] . (W^ - W) from the bias of Conv/Gemm/MatMul+Add (default: the preset's)", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"weights-quantized", "weight constants replaced by quantized constants + DequantizeLinear"},
    {"activations-quantized", "values given a QuantizeLinear/DequantizeLinear pair"},
    {"ops-kept-float", "quantizable ops left float by keep-float or the config"},
    {"fallbacks-per-channel", "layers whose input dim is not a multiple of the preset's group size"},
    {"nonfinite-kept-float", "values left float because calibration saw Inf or NaN in them"},
    {"tail-ops-float", "Add/pooling/Concat ops left float: no quantized linear op downstream (outputs=feeding)"},
    {"outputs-float", "outputs of quantized ops left float: no quantized linear op downstream (outputs=feeding)"},
    {"act-matmuls-float", "MatMuls of two activations left float (act-matmul=false)"},
    {"masks-kept-float", "Add ops of an additive mask (one input 2^16 times the other) left float"},
    {"gptq-weights", "weights given GPTQ codes"},
    {"gptq-fallbacks", "weights rounded to nearest although GPTQ was asked for (no Gram statistics, too few Conv patches, not an integer MatMul/Gemm/Conv weight)"},
    {"gptq-dead-inputs", "GPTQ inputs never seen non-zero in calibration (their weight rows quantize 0)"},
    {"weight-groups-clipped", "weight quantization groups whose MSE-optimal clip ratio is below 1 (w-clip=mse)"},
    {"biases-corrected", "biases given the empirical bias correction (a new bias where there was none)"},
    {"bias-correction-declined", "weights whose op, bias or input statistics did not allow bias correction"},
    {"dynamic-to-static", "dynamic per-token values without a static last dim, quantized static per tensor instead"},
    {0},
};

const Pass pass_quantize = {
    .name = "quantize",
    .summary = "Quantize weights and calibrated activations into QuantizeLinear/DequantizeLinear (QDQ) form",
    .options = options,
    .stats = stats,
    .run = run,
};
