/* Gram statistics of Conv input patches (calib_conv_gram.h). The patches
 * come from the interpreter's own geometry (win_geom: pads, auto_pad,
 * strides, dilations) and im2col, so they are exactly what the float Conv
 * multiplies by its weights. */
#include "quant/calib_conv_gram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "support/arena.h"

DEFINE_IM2COL(float, conv_gram_im2col)

void q_conv_gram_set_free(QConvGramSet *s) {
  for (int i = 0; i < s->n; i++) free(s->c[i].g);
  free(s->c);
  memset(s, 0, sizeof *s);
}

void q_conv_gram_name(char *buf, size_t n, const char *wname, int64_t gi) {
  snprintf(buf, n, "conv:%s:%lld", wname, (long long)gi);
}

int q_conv_gram_add(QConvGramSet *s, QGramSet *grams, const IrOp *op) {
  if (op->kind != IR_OP_CONV || op->noperands < 2) return 0;
  const IrValue *x = ir_op_operand(op, 0), *w = ir_op_operand(op, 1);
  const IrType *wt = w->type;
  if (!x->name || !w->name || wt->rank < 3 || wt->rank > 5) return 0;
  int64_t groups = ir_op_attr_int(op, "group", 1), k = 1;
  for (int32_t i = 0; i < wt->rank; i++)
    if (wt->dims[i].size < 1) return 0;
  if (groups < 1 || wt->dims[0].size % groups) return 0;
  for (int32_t i = 1; i < wt->rank; i++) k *= wt->dims[i].size;
  if (k > Q_CONV_GRAM_MAX_K) return -1;
  QConvGram c = {.op = op, .x = x, .groups = groups, .cg = wt->dims[1].size, .nsp = wt->rank - 2};
  for (int32_t i = 0; i < 3; i++) c.kern[i] = i < c.nsp ? wt->dims[2 + i].size : 1;
  c.g = xmalloc((size_t)groups * sizeof *c.g);
  char name[512];
  for (int64_t gi = 0; gi < groups; gi++) {
    q_conv_gram_name(name, sizeof name, w->name, gi);
    c.g[gi] = q_gram_get(grams, name, k, true); /* patches are [K, positions]: K first */
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->c = xrealloc(s->c, (size_t)s->cap * sizeof *s->c);
  }
  s->c[s->n++] = c;
  return 1;
}

bool q_conv_gram_observe(const QConvGram *c, const Tensor *t, Diag *d, char *why, size_t nwhy) {
  if (t->elem != IR_ELEM_F32) return true;
  if (t->rank != c->nsp + 2 || t->dims[1] != c->groups * c->cg) {
    snprintf(why, nwhy, "a Conv input of rank %d with %lld channels, expected rank %d with %lld", (int)t->rank,
             t->rank > 1 ? (long long)t->dims[1] : 0LL, (int)(c->nsp + 2), (long long)(c->groups * c->cg));
    return false;
  }
  KernelCtx kc = {.op = c->op, .d = d};
  WinGeom wg;
  G3 g;
  if (!win_geom(&kc, t, c->kern, false, &wg) || !g3_from(&wg, &g)) {
    snprintf(why, nwhy, "the Conv's window does not fit this input");
    return false;
  }
  int64_t k = c->cg * prod3(g.k), npos = prod3(g.out), isp = prod3(g.in);
  int64_t dims[2] = {k, npos};
  Tensor *col = tensor_new(IR_ELEM_F32, 2, dims);
  if (!col) {
    snprintf(why, nwhy, "the patch matrix (%lld x %lld) is over the tensor size limit", (long long)k, (long long)npos);
    return false;
  }
  const float *xp = t->data;
  bool ok = true;
  for (int64_t n = 0; ok && n < t->dims[0]; n++)
    for (int64_t gi = 0; ok && gi < c->groups; gi++) {
      conv_gram_im2col(xp + (n * c->groups + gi) * c->cg * isp, c->cg, &g, col->data);
      ok = q_gram_observe(c->g[gi], col, why, nwhy);
    }
  tensor_free(col);
  return ok;
}
