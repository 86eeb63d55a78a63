/* quantize, weights: a constant weight W of Conv/ConvTranspose/MatMul/Gemm
 * becomes stored codes W.q, scales W.scale (f32), zero points W.zp (only
 * when not all zero) and W.dq = DequantizeLinear(W.q, W.scale[, W.zp]),
 * as docs/quantization.md's QDQ conventions say:
 *   per tensor: scalar scale; per channel: 1-D scale with `axis`;
 *   groups / blocks along the input dim: the scale has W's shape with that
 *   dim divided (rounded up), `axis` and `block_size` (ONNX opset 21);
 *   MX formats: element codes and power-of-two f32 block scales;
 *   NVFP4: f8E4M3FN block scales W.scale dequantized by the f32 tensor
 *   scale W.tscale (W.scale.dq), which then scales the f4E2M1 codes.
 * The arithmetic is compiler/quant/qmath.h and qformat.h's. Codes are
 * rounded to nearest, or chosen by GPTQ (compiler/quant/gptq.h) for the
 * rank-2 integer weights of MatMul/Gemm whose input has Gram statistics
 * and for Conv weights group by group from their patch Grams
 * (w-rounding=gptq, or auto at 4 bits and below): same scales, same QDQ
 * form, other codes.
 * Integer scales are amax-based or MSE-optimal clipped (w-clip=mse,
 * compiler/quant/wclip.h; GPTQ keeps its own amax scales); bias-correction
 * then folds the mean output error into the bias (passes/quantize_bias.c).
 * Test: test/lit/quant/quantize-weights.qir, quantize-presets.qir,
 * quantize-gptq.qir, quantize-gptq-conv.qir, quantize-wclip.qir,
 * quantize-bias-correction.qir. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/canon_util.h"
#include "passes/quantize_util.h"
#include "quant/calib_conv_gram.h"
#include "quant/gptq.h"
#include "quant/qmath.h"
#include "quant/wclip.h"

/* ---- small helpers ----------------------------------------------------------- */

const char *qz_name(QzCtx *q, const char *base, const char *suffix) {
  if (!base) return NULL;
  size_t n = strlen(base) + strlen(suffix) + 24;
  char *s = arena_alloc(&q->m->arena, n);
  snprintf(s, n, "%s.%s", base, suffix);
  for (unsigned i = 1; strmap_get(&q->taken, s); i++) snprintf(s, n, "%s.%s_%u", base, suffix, i);
  strmap_put(&q->taken, s, s);
  return s;
}

static void take(QzCtx *q, const IrValue *v) {
  if (v->name) strmap_put(&q->taken, v->name, (void *)v->name);
}

static bool take_op_names(IrOp *op, void *arg) {
  QzCtx *q = arg;
  for (uint32_t i = 0; i < op->nresults; i++) take(q, op->results[i]);
  for (uint32_t i = 0; i < op->nregions; i++)
    for (uint32_t j = 0; j < op->regions[i]->nargs; j++) take(q, op->regions[i]->args[j]);
  return true;
}

void qz_names_init(QzCtx *q) {
  strmap_init(&q->taken);
  for (uint32_t i = 0; i < q->m->nfuncs; i++)
    for (uint32_t j = 0; j < q->m->funcs[i]->body->nargs; j++) take(q, q->m->funcs[i]->body->args[j]);
  ir_module_walk(q->m, take_op_names, q);
}

static void place(IrOp **cursor, IrOp *before, IrOp *op) {
  if (cursor) {
    ir_op_insert_after(*cursor, op);
    *cursor = op;
  } else {
    ir_op_insert_before(before, op);
  }
}

IrValue *qz_const(QzCtx *q, IrOp **cursor, IrOp *before, const char *name, const Tensor *t) {
  IrOp *op = canon_const_op(q->m, name ? name : "qconst", t);
  place(cursor, before, op);
  return op->results[0];
}

IrOp *qz_op(QzCtx *q, IrOp **cursor, IrOp *before, IrOpKind k, IrValue *const *ins, uint32_t nin, const IrType *ty,
            const char *name) {
  IrOp *op = ir_op_create(q->m, k, ins, nin, &ty, 1, 0);
  place(cursor, before, op);
  if (name) ir_value_set_name(q->m, op->results[0], name);
  return op;
}

void qz_set_int(QzCtx *q, IrOp *op, const char *name, int64_t v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INT, .u.i = v};
  ir_op_set_attr(q->m, op, &a);
}

void qz_config_error(QzCtx *q, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(q->ctx->diag, diag_loc(q->cfg.path, line, 1), "%s", msg);
  q->failed = true;
}

void qz_weight_axes(const IrOp *op, int32_t r, int32_t *oc, int32_t *ic) {
  *oc = *ic = -1;
  switch (op->kind) {
  case IR_OP_CONV: *oc = 0, *ic = r > 1 ? 1 : -1; break;
  case IR_OP_CONV_TRANSPOSE: *ic = 0, *oc = r > 1 ? 1 : -1; break;
  case IR_OP_GEMM:
    if (ir_op_attr_int(op, "transB", 0)) *oc = 0, *ic = 1;
    else *oc = 1, *ic = 0;
    if (r != 2) *oc = *ic = -1;
    break;
  case IR_OP_MATMUL:
    if (r >= 2) *oc = r - 1, *ic = r - 2;
    else *ic = 0;
    break;
  default: break;
  }
}

static bool refers(IrOp *op, void *arg) {
  const IrAttr *a = op->kind == IR_OP_CONSTANT ? ir_op_attr(op, "value") : NULL;
  return !(a && a->kind == IR_ATTR_TENSOR && a->u.tensor == arg);
}

void qz_drop_const(QzCtx *q, IrValue *v) {
  if (!v || ir_value_has_uses(v) || v->kind != IR_VALUE_RESULT || !v->def->parent || v->def->kind != IR_OP_CONSTANT)
    return;
  const IrAttr *a = ir_op_attr(v->def, "value");
  const IrConst *c = a && a->kind == IR_ATTR_TENSOR ? a->u.tensor : NULL;
  ir_op_erase(v->def);
  if (c && c->name && ir_module_walk(q->m, refers, (void *)c)) ir_module_remove_const(q->m, c);
}

/* ---- the layout of the parameters --------------------------------------------- */

/* Parameters along `axis` (-1: one for the tensor), one per `block`
 * elements of that dim (block == dim: one per index, i.e. per channel). */
typedef struct Layout {
  int32_t axis;
  int64_t block, nb, dim, inner;
  int64_t nparams;
  int32_t rank;
  int64_t sdims[TENSOR_MAX_RANK]; /* the scale's shape */
} Layout;

static void layout_init(Layout *l, const Tensor *w, int32_t axis, int64_t block) {
  *l = (Layout){.axis = axis, .nparams = 1, .rank = 0};
  if (axis < 0) return;
  l->dim = w->dims[axis];
  l->inner = 1;
  for (int32_t i = axis + 1; i < w->rank; i++) l->inner *= w->dims[i];
  if (block <= 0) { /* per channel: a 1-D scale */
    l->block = 1, l->nb = l->dim, l->nparams = l->dim, l->rank = 1, l->sdims[0] = l->dim;
    return;
  }
  l->block = block;
  l->nb = (l->dim + block - 1) / block;
  l->rank = w->rank;
  l->nparams = 1;
  for (int32_t i = 0; i < w->rank; i++) {
    l->sdims[i] = i == axis ? l->nb : w->dims[i];
    l->nparams *= l->sdims[i];
  }
}

static int64_t layout_index(const Layout *l, int64_t i) {
  if (l->axis < 0) return 0;
  int64_t d = (i / l->inner) % l->dim;
  if (l->rank == 1 && l->block == 1) return d;
  int64_t o = i / (l->inner * l->dim);
  return (o * l->nb + d / l->block) * l->inner + i % l->inner;
}

/* ---- quantizing ----------------------------------------------------------------- */

typedef struct WOut {
  Tensor *codes, *scale, *zp; /* zp NULL: all zero */
  Tensor *tscale;             /* NVFP4 */
} WOut;

/* Element indices grouped by parameter: idx[start[p] .. start[p+1]). */
static void group_indices(const Layout *l, const Tensor *w, int64_t *start, int64_t *idx) {
  for (int64_t p = 0; p <= l->nparams; p++) start[p] = 0;
  for (int64_t i = 0; i < w->numel; i++) start[layout_index(l, i) + 1]++;
  for (int64_t p = 0; p < l->nparams; p++) start[p + 1] += start[p];
  int64_t *fill = malloc((size_t)(l->nparams + 1) * sizeof *fill);
  memcpy(fill, start, (size_t)(l->nparams + 1) * sizeof *fill);
  for (int64_t i = 0; i < w->numel; i++) idx[fill[layout_index(l, i)]++] = i;
  free(fill);
}

static bool quantize_tensor(QzCtx *q, const QWeightCfg *wc, const Tensor *w, const Layout *l, WOut *o) {
  const QFormat *f = wc->fmt;
  bool sym = wc->symmetric;
  o->codes = tensor_new(f->elem, w->rank, w->dims);
  /* NVFP4 keeps its f8E4M3FN block scales; MX power-of-two scales are f32. */
  o->scale = tensor_new(f->tensor_scale ? f->scale_elem : IR_ELEM_F32, l->rank, l->sdims);
  Tensor *zp = f->kind == Q_FMT_INT ? tensor_new(f->elem, l->rank, l->sdims) : NULL;
  int64_t *start = malloc((size_t)(l->nparams + 1) * sizeof *start);
  int64_t *idx = malloc((size_t)(w->numel ? w->numel : 1) * sizeof *idx);
  float *buf = malloc((size_t)(f->block > 0 ? f->block : 1) * sizeof *buf);
  uint64_t *cbuf = malloc((size_t)(f->block > 0 ? f->block : 1) * sizeof *cbuf);
  double *vals = malloc((size_t)(w->numel ? w->numel : 1) * sizeof *vals);
  if (!o->codes || !o->scale || (f->kind == Q_FMT_INT && !zp) || !start || !idx || !buf || !cbuf || !vals) {
    free(start), free(idx), free(buf), free(cbuf), free(vals), tensor_free(zp);
    return false;
  }
  group_indices(l, w, start, idx);
  float ts = 0;
  if (f->tensor_scale) {
    double amax = 0;
    for (int64_t i = 0; i < w->numel; i++) amax = fmax(amax, fabs(tensor_get_f64(w, i)));
    ts = q_nvfp4_tensor_scale(amax);
    int64_t none = 0;
    o->tscale = tensor_new(IR_ELEM_F32, 0, &none);
    tensor_set_f64(o->tscale, 0, ts);
  }
  bool anyz = false;
  int64_t clipped = 0;
  for (int64_t p = 0; p < l->nparams; p++) {
    int64_t a = start[p], b = start[p + 1];
    if (f->kind == Q_FMT_BLOCK) {
      int n = (int)(b - a);
      for (int k = 0; k < n; k++) buf[k] = (float)tensor_get_f64(w, idx[a + k]);
      uint64_t sc;
      q_block_quantize(f, buf, n, ts, &sc, cbuf);
      for (int k = 0; k < n; k++) tensor_set_bits(o->codes, idx[a + k], cbuf[k]);
      if (f->tensor_scale) tensor_set_bits(o->scale, p, sc);
      else tensor_set_f64(o->scale, p, q_block_scale_value(f, sc, 0));
      continue;
    }
    for (int64_t k = a; k < b; k++) vals[k - a] = tensor_get_f64(w, idx[k]);
    float s;
    int64_t z;
    if (q_wclip_params(f, vals, b - a, sym, wc->clip, &s, &z) < 1) clipped++;
    tensor_set_f64(o->scale, p, s);
    if (zp) tensor_set_i64(zp, p, z), anyz |= z != 0;
    for (int64_t k = a; k < b; k++) {
      float x = (float)tensor_get_f64(w, idx[k]);
      if (f->kind == Q_FMT_INT)
        tensor_set_i64(o->codes, idx[k], q_quantize_int(x, s, z, f->qmin, f->qmax));
      else
        tensor_set_bits(o->codes, idx[k], q_format_encode(f, (float)((double)x / (double)s)));
    }
  }
  if (anyz) o->zp = zp;
  else tensor_free(zp);
  free(start), free(idx), free(buf), free(cbuf), free(vals);
  if (clipped) quench_pass_stat_add(q->ctx, "weight-groups-clipped", clipped);
  return true;
}

/* eps[e] = W^[e] - W[e]: the dequantized weight (as DequantizeLinear
 * computes it) minus the float one, for every element of w. */
static void dequant_error(const QFormat *f, const Tensor *w, const Layout *l, const WOut *o, double *eps) {
  float ts = o->tscale ? (float)tensor_get_f64(o->tscale, 0) : 0;
  for (int64_t e = 0; e < w->numel; e++) {
    int64_t p = layout_index(l, e);
    double x;
    if (f->kind == Q_FMT_INT) {
      int64_t z = o->zp ? tensor_get_i64(o->zp, p) : 0;
      x = (double)(float)((double)(tensor_get_i64(o->codes, e) - z) * tensor_get_f64(o->scale, p));
    } else {
      double s = f->tensor_scale ? q_block_scale_value(f, tensor_get_bits(o->scale, p), ts) : tensor_get_f64(o->scale, p);
      x = q_format_decode(f, tensor_get_bits(o->codes, e)) * s;
    }
    double v = tensor_get_f64(w, e);
    eps[e] = isfinite(v) && isfinite(x) ? x - v : 0;
  }
}

static const char *node_name(const IrOp *op) { return op->src_name ? op->src_name : ops_name(op->kind); }

/* ---- GPTQ ------------------------------------------------------------------------ */

/* GPTQ on a Conv needs this many patches per input of a group: with fewer
 * (a few small images, late layers of a few positions) H is near singular
 * and the codes fit the calibration images, not the layer: measured held
 * out (docs/passes/quantize.md), ppocr_cls's weights-only SQNR fell from
 * 40.2 to 25.9 dB with every Conv taking GPTQ. */
#define Q_CONV_GPTQ_MIN_TOKENS 16
/* w-rounding=auto gives Conv weights GPTQ codes up to this many bits. */
#define Q_CONV_GPTQ_AUTO_BITS 4

/* A weight as GPTQ sees it: `groups` independent K x N matrices (MatMul and
 * Gemm: one; Conv: one per group, N = M/group, K = C/group x kernel, the
 * patch layout), each with its Gram matrix. */
typedef struct GptqView {
  int64_t groups, k, n;
  int64_t block;   /* > 0: one scale per `block` inputs (MatMul groups) */
  bool kn;         /* element (i, c) at i*n + c (ONNX B[K,N]), else at (gi*n + c)*k + i */
  const QGram **g; /* groups entries, malloc'ed */
} GptqView;

static int64_t gptq_elem(const GptqView *v, int64_t gi, int64_t i, int64_t c) {
  return v->kn ? i * v->n + c : (gi * v->n + c) * v->k + i;
}

/* The Conv part of gptq_view: one patch Gram per group
 * (quant/calib_conv_gram.h), each with enough patches. */
static const char *gptq_conv_view(const QzCtx *q, const IrOp *op, const Tensor *t, const Layout *l, GptqView *v) {
  int64_t groups = ir_op_attr_int(op, "group", 1);
  if (t->rank < 3 || groups < 1 || t->dims[0] % groups) return "not a Conv weight";
  if (!(l->axis == 0 && l->rank == 1) && !(l->axis < 0 && groups == 1))
    return "scales neither per output channel nor (one group) per tensor";
  const IrValue *wv = ir_op_operand(op, 1);
  if (!q->grams || !wv->name) return "no Gram statistics for its input patches";
  *v = (GptqView){.groups = groups, .k = t->numel / t->dims[0], .n = t->dims[0] / groups};
  v->g = xmalloc((size_t)groups * sizeof *v->g);
  char name[512];
  for (int64_t gi = 0; gi < groups; gi++) {
    q_conv_gram_name(name, sizeof name, wv->name, gi);
    const QGram *g = v->g[gi] = q_gram_find(q->grams, name);
    if (!g || g->n == 0 || g->k != v->k || !g->first_dim) return "no Gram statistics for its input patches";
    if (g->n < Q_CONV_GPTQ_MIN_TOKENS * g->k) return "too few input patches for its input dim";
  }
  return NULL;
}

/* Why op's weight t (laid out as l) cannot take GPTQ codes, or NULL with
 * *v filled. v->g is malloc'ed either way (NULL or not). */
static const char *gptq_view(const QzCtx *q, const IrOp *op, const Tensor *t, const Layout *l, const QFormat *f,
                             GptqView *v) {
  *v = (GptqView){0};
  if (f->kind != Q_FMT_INT) return "not an integer format";
  if (op->kind == IR_OP_CONV) return gptq_conv_view(q, op, t, l, v);
  bool gemm = op->kind == IR_OP_GEMM;
  if ((op->kind != IR_OP_MATMUL && !gemm) || t->rank != 2) return "not the rank-2 weight of a MatMul, Gemm or Conv";
  int32_t oc, ic;
  qz_weight_axes(op, t->rank, &oc, &ic);
  bool tensor = l->axis < 0, channel = l->axis == oc && l->rank == 1, group = l->axis == ic && l->rank == 2;
  if (!tensor && !channel && !group) return "scales along neither the output nor the input dim";
  const IrValue *x = ir_op_operand(op, 0);
  const QGram *g = q->grams && x->name ? q_gram_find(q->grams, x->name) : NULL;
  if (!g || g->n == 0) return "no Gram statistics for its input";
  bool first = gemm && ir_op_attr_int(op, "transA", 0) && x->type->rank == 2;
  if (g->k != t->dims[ic] || g->first_dim != first) return "Gram statistics of another input dim";
  /* Gemm transB=1's [N,K] is the Conv layout with one group. */
  *v = (GptqView){.groups = 1, .k = t->dims[ic], .n = t->dims[oc], .block = group ? l->block : 0, .kn = ic == 0};
  v->g = xmalloc(sizeof *v->g);
  v->g[0] = g;
  return NULL;
}

/* GPTQ codes and parameters of t into o; false: round to nearest instead
 * (counted as gptq-fallbacks when GPTQ was asked for, or when it failed). */
static bool gptq_tensor(QzCtx *q, IrOp *op, const Tensor *t, const Layout *l, const QWeightCfg *w, WOut *o) {
  if (w->rounding == Q_ROUND_RTN) return false;
  /* auto: Conv weights take GPTQ at 4 bits and below only; at 8 bits with
   * quantized activations it was not better held out (quantize.md). */
  if (op->kind == IR_OP_CONV && w->rounding == Q_ROUND_AUTO && w->fmt->bits > Q_CONV_GPTQ_AUTO_BITS) return false;
  GptqView v;
  if (gptq_view(q, op, t, l, w->fmt, &v)) {
    if (w->rounding == Q_ROUND_GPTQ) quench_pass_stat_add(q->ctx, "gptq-fallbacks", 1);
    free(v.g);
    return false;
  }
  int64_t k = v.k, n = v.n;
  QGptqOptions go = {.fmt = w->fmt, .symmetric = w->symmetric, .per_tensor = l->axis < 0, .group = v.block,
                     .percdamp = q->gptq_damp, .act_order = q->gptq_act_order, .clip = w->clip};
  int64_t np = q_gptq_nparams(&go, k, n);
  double *wk = xmalloc((size_t)(k * n) * sizeof *wk);
  int64_t *codes = xmalloc((size_t)(k * n) * sizeof *codes), *zp = xmalloc((size_t)np * sizeof *zp);
  float *scale = xmalloc((size_t)np * sizeof *scale);
  o->codes = tensor_new(w->fmt->elem, t->rank, t->dims);
  o->scale = tensor_new(IR_ELEM_F32, l->rank, l->sdims);
  Tensor *zt = tensor_new(w->fmt->elem, l->rank, l->sdims);
  bool ok = true, anyz = false;
  int64_t dead = 0;
  for (int64_t gi = 0; ok && gi < v.groups; gi++) {
    for (int64_t i = 0; i < k; i++)
      for (int64_t c = 0; c < n; c++) wk[i * n + c] = tensor_get_f64(t, gptq_elem(&v, gi, i, c));
    QGptqInfo info;
    ok = q_gptq_quantize(wk, v.g[gi]->h, k, n, &go, codes, scale, zp, &info);
    dead += info.dead;
    for (int64_t i = 0; ok && i < k; i++)
      for (int64_t c = 0; c < n; c++) {
        int64_t e = gptq_elem(&v, gi, i, c), p = layout_index(l, e);
        int64_t gp = go.per_tensor ? 0 : go.group > 0 ? i / go.group * n + c : c;
        tensor_set_i64(o->codes, e, codes[i * n + c]);
        tensor_set_f64(o->scale, p, scale[gp]);
        tensor_set_i64(zt, p, zp[gp]);
        anyz |= zp[gp] != 0;
      }
  }
  if (ok && anyz) o->zp = zt;
  else tensor_free(zt);
  if (ok) {
    quench_pass_stat_add(q->ctx, "gptq-weights", 1);
    quench_pass_stat_add(q->ctx, "gptq-dead-inputs", dead);
  } else {
    tensor_free(o->codes), tensor_free(o->scale);
    o->codes = o->scale = NULL;
    quench_pass_stat_add(q->ctx, "gptq-fallbacks", 1);
  }
  free(wk), free(codes), free(zp), free(scale), free(v.g);
  return ok;
}

/* The parameter axis and block size for w on op, or false after an error. */
static bool choose_layout(QzCtx *q, IrOp *op, const IrValue *wv, const QWeightCfg *w, int32_t r, int32_t *axis,
                          int64_t *block) {
  int32_t oc, ic;
  qz_weight_axes(op, r, &oc, &ic);
  if (w->axis_line) {
    if (w->axis < -r || w->axis >= r) {
      qz_config_error(q, w->axis_line, "w-axis %d is out of range for the rank-%d weight '%s' of node '%s'", w->axis,
                      r, wv->name ? wv->name : "?", node_name(op));
      return false;
    }
    int32_t a = w->axis < 0 ? w->axis + r : w->axis;
    if (w->fmt->kind == Q_FMT_BLOCK || w->gran == Q_GRAN_GROUP) ic = a;
    else oc = a;
  }
  const QFormat *f = w->fmt;
  *axis = -1, *block = 0;
  if (f->kind == Q_FMT_BLOCK) {
    if (ic < 0) {
      quench_pass_error(q->ctx, op, "block format %s needs a weight with an input dim; '%s' has rank %d", f->name,
                        wv->name ? wv->name : "?", r);
      return false;
    }
    *axis = ic, *block = f->block;
    return true;
  }
  if (w->gran == Q_GRAN_TENSOR) return true;
  if (w->gran == Q_GRAN_GROUP && ic >= 0) {
    int64_t k = wv->type->dims[ic].size, g = w->group;
    if (w->group_line && k % g != 0) {
      qz_config_error(q, w->group_line, "group size %lld does not divide the input dim %lld of node '%s' (weight '%s')",
                      (long long)g, (long long)k, node_name(op), wv->name ? wv->name : "?");
      return false;
    }
    if (k > g && k % g == 0) {
      *axis = ic, *block = g;
      return true;
    }
    if (k > g) {
      quench_pass_warning(q->ctx, op, "node '%s': input dim %lld is not a multiple of the group size %lld: per output channel",
                          node_name(op), (long long)k, (long long)g);
      quench_pass_stat_add(q->ctx, "fallbacks-per-channel", 1);
    }
  }
  *axis = oc; /* channel granularity, or one group per output channel */
  return true;
}

IrValue *qz_weight(QzCtx *q, IrOp *op, uint32_t idx, const QWeightCfg *w) {
  IrValue *wv = ir_op_operand(op, idx);
  const IrConst *c = canon_const(wv);
  if (!w->fmt || !c) return NULL;
  int32_t r = wv->type->rank, axis;
  int64_t block;
  if (!choose_layout(q, op, wv, w, r, &axis, &block)) return NULL;
  Tensor *t = tensor_from_const(c);
  if (!t) {
    quench_pass_error(q->ctx, op, "cannot read the weight '%s'", wv->name ? wv->name : "?");
    return NULL;
  }
  Layout l;
  layout_init(&l, t, axis, block);
  WOut o = {0};
  IrValue *res = NULL;
  if (!gptq_tensor(q, op, t, &l, w, &o) && !quantize_tensor(q, w, t, &l, &o)) {
    quench_pass_error(q->ctx, op, "out of memory quantizing '%s'", wv->name ? wv->name : "?");
    goto out;
  }
  if (w->bias_correction) {
    double *eps = xmalloc((size_t)(t->numel ? t->numel : 1) * sizeof *eps);
    dequant_error(w->fmt, t, &l, &o, eps);
    qz_bias_correct(q, op, t, eps);
    free(eps);
  }
  const char *base = wv->name ? wv->name : "w";
  IrValue *qv = qz_const(q, NULL, op, qz_name(q, base, "q"), o.codes);
  IrValue *sv = qz_const(q, NULL, op, qz_name(q, base, "scale"), o.scale);
  IrValue *zv = o.zp ? qz_const(q, NULL, op, qz_name(q, base, "zp"), o.zp) : NULL;
  if (o.tscale) {
    IrValue *tv = qz_const(q, NULL, op, qz_name(q, base, "tscale"), o.tscale);
    IrValue *ins[2] = {sv, tv};
    const IrType *st = ir_type_static(q->m, IR_ELEM_F32, l.rank, l.sdims);
    sv = qz_op(q, NULL, op, IR_OP_DEQUANTIZE_LINEAR, ins, 2, st, qz_name(q, base, "scale.dq"))->results[0];
  }
  IrValue *ins[3] = {qv, sv, zv};
  IrOp *dq = qz_op(q, NULL, op, IR_OP_DEQUANTIZE_LINEAR, ins, zv ? 3 : 2, wv->type, qz_name(q, base, "dq"));
  if (axis >= 0) qz_set_int(q, dq, "axis", axis);
  if (block > 0) qz_set_int(q, dq, "block_size", block);
  res = dq->results[0];
  quench_pass_stat_add(q->ctx, "weights-quantized", 1);
out:
  tensor_free(t);
  tensor_free(o.codes), tensor_free(o.scale), tensor_free(o.zp), tensor_free(o.tscale);
  return res;
}
