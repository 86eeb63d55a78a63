/* Kernels: RNN, GRU and LSTM, as the ONNX operator spec defines them:
 * directions forward/reverse/bidirectional, per-batch sequence_lens,
 * initial_h/initial_c, LSTM peepholes and input_forget, GRU
 * linear_before_reset, clip, the activations list with
 * activation_alpha/beta, layout 0 and 1, and any prefix of the results
 * (Y, Y_h, Y_c).
 *
 * Gate order in W, R and B: LSTM i o f c, GRU z r h; P is i o f.
 * sequence_lens follows onnxruntime: batch entry b runs its first len[b]
 * steps only (the reverse direction starts at step len[b]-1); Y is zero past
 * len[b] and Y_h/Y_c hold the state after the last step run (the initial
 * state when len[b] is 0). clip bounds every gate's pre-activation.
 * activation_alpha/beta are consumed in list order by the functions that
 * take them (as onnxruntime does); a function without a value left takes
 * its ONNX op's default (Affine 1/0, LeakyRelu 0.01, ThresholdedRelu 1,
 * ScaledTanh 1/1, HardSigmoid 0.2/0.5, Elu 1).
 *
 * Every float type computes in double: the input projection X W^T + biases
 * for all steps at once, then one matrix-vector product with R per step and
 * batch entry. Results round once, when stored. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"

typedef enum {
  ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_AFFINE, ACT_LEAKY_RELU, ACT_THRESHOLDED_RELU, ACT_SCALED_TANH,
  ACT_HARD_SIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
} ActKind;

typedef struct Act {
  ActKind kind;
  double alpha, beta;
} Act;

/* name, whether it takes alpha and beta, and their defaults */
static const struct {
  const char *name;
  ActKind kind;
  bool has_alpha, has_beta;
  double alpha, beta;
} ACTS[] = {
    {"Sigmoid", ACT_SIGMOID, false, false, 0, 0},
    {"Tanh", ACT_TANH, false, false, 0, 0},
    {"Relu", ACT_RELU, false, false, 0, 0},
    {"Affine", ACT_AFFINE, true, true, 1, 0},
    {"LeakyRelu", ACT_LEAKY_RELU, true, false, 0.01, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, true, false, 1, 0},
    {"ScaledTanh", ACT_SCALED_TANH, true, true, 1, 1},
    {"HardSigmoid", ACT_HARD_SIGMOID, true, true, 0.2, 0.5},
    {"Elu", ACT_ELU, true, false, 1, 0},
    {"Softsign", ACT_SOFTSIGN, false, false, 0, 0},
    {"Softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

static double act_apply(const Act *a, double x) {
  switch (a->kind) {
  case ACT_SIGMOID: return 1 / (1 + exp(-x));
  case ACT_TANH: return tanh(x);
  case ACT_RELU: return x > 0 ? x : 0;
  case ACT_AFFINE: return a->alpha * x + a->beta;
  case ACT_LEAKY_RELU: return x >= 0 ? x : a->alpha * x;
  case ACT_THRESHOLDED_RELU: return x >= a->alpha ? x : 0;
  case ACT_SCALED_TANH: return a->alpha * tanh(a->beta * x);
  case ACT_HARD_SIGMOID: return fmin(fmax(a->alpha * x + a->beta, 0), 1);
  case ACT_ELU: return x >= 0 ? x : a->alpha * (exp(x) - 1);
  case ACT_SOFTSIGN: return x / (1 + fabs(x));
  case ACT_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
  }
  return x;
}

static bool name_eq_nocase(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
  return *a == *b;
}

typedef enum { CELL_RNN, CELL_GRU, CELL_LSTM } CellKind;

typedef struct Rnn {
  CellKind cell;
  int64_t ng;                  /* gates: 1, 3, 4 */
  int64_t seq, batch, in, hid, ndir;
  bool layout1, reverse_only;  /* layout attribute 1; direction "reverse" */
  double clip;                 /* INFINITY: none */
  bool lbr, input_forget;
  Act act[2][3];               /* per direction: f, g, h */
  const int64_t *lens;         /* per batch entry */
} Rnn;

/* Reads activations, activation_alpha and activation_beta: nper functions
 * per direction (defaults dflt), the list giving nper (shared by both
 * directions) or nper * ndir entries. */
static bool read_acts(KernelCtx *k, Rnn *r, int nper, const ActKind *dflt) {
  const IrAttr *names = ir_op_attr(k->op, "activations");
  const IrAttr *al = ir_op_attr(k->op, "activation_alpha"), *be = ir_op_attr(k->op, "activation_beta");
  uint32_t na = al ? al->u.floats.n : 0, nb = be ? be->u.floats.n : 0, ia = 0, ib = 0;
  uint32_t n = names ? names->u.strings.n : 0;
  if (names && n != (uint32_t)nper && n != (uint32_t)(nper * r->ndir))
    return kernel_fail(k, "activations lists %u functions, expected %d per direction (%lld direction(s))", n, nper,
                       (long long)r->ndir);
  for (int64_t d = 0; d < r->ndir; d++)
    for (int j = 0; j < nper; j++) {
      Act *a = &r->act[d][j];
      if (!names) {
        *a = (Act){dflt[j], 0, 0};
        continue;
      }
      const char *nm = names->u.strings.v[(d * nper + j) % n];
      size_t e = 0;
      while (e < sizeof ACTS / sizeof *ACTS && !name_eq_nocase(nm, ACTS[e].name)) e++;
      if (e == sizeof ACTS / sizeof *ACTS) return kernel_fail(k, "unknown activation function '%s'", nm);
      a->kind = ACTS[e].kind;
      a->alpha = ACTS[e].alpha;
      a->beta = ACTS[e].beta;
      if (ACTS[e].has_alpha && ia < na) a->alpha = al->u.floats.v[ia++];
      if (ACTS[e].has_beta && ib < nb) a->beta = be->u.floats.v[ib++];
    }
  return true;
}

static bool check_dims(KernelCtx *k, const Tensor *t, const char *what, int32_t rank, const int64_t *want) {
  bool ok = t->rank == rank;
  for (int32_t i = 0; ok && i < rank; i++) ok = t->dims[i] == want[i];
  if (ok) return true;
  char buf[128], exp_s[128];
  int off = 0;
  for (int32_t i = 0; i < rank; i++)
    off += snprintf(exp_s + off, sizeof exp_s - (size_t)off, "%s%lld", i ? "x" : "", (long long)want[i]);
  return kernel_fail(k, "%s has shape %s, expected [%s]", what, tensor_describe(t, buf, sizeof buf), exp_s);
}

/* Operand checks and attributes into r. */
static bool rnn_setup(KernelCtx *k, Rnn *r, CellKind cell) {
  static const ActKind dflt[3][3] = {{ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
  static const int nact[3] = {1, 2, 3};
  const Tensor *x = kernel_in(k, 0), *w = kernel_in(k, 1), *rr = kernel_in(k, 2);
  memset(r, 0, sizeof *r);
  r->cell = cell;
  r->ng = cell == CELL_RNN ? 1 : cell == CELL_GRU ? 3 : 4;
  if (!x || !w || !rr) return kernel_fail(k, "inputs X, W and R are required");
  IrElem ye = kernel_result_elem(k, 0);
  if (!ir_elem_is_float(ye)) return kernel_fail(k, "only float types are supported, not %s", ir_elem_name(ye));
  for (uint32_t i = 0; i < k->nin; i++)
    if (i != 4 && k->in[i] && k->in[i]->elem != ye)
      return kernel_fail(k, "operand #%u is %s, expected %s", i, ir_elem_name(k->in[i]->elem), ir_elem_name(ye));
  const char *dir = ir_op_attr_string(k->op, "direction", "forward");
  r->ndir = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
  r->reverse_only = strcmp(dir, "reverse") == 0;
  if (r->ndir == 1 && !r->reverse_only && strcmp(dir, "forward") != 0)
    return kernel_fail(k, "unknown direction '%s'", dir);
  int64_t layout = ir_op_attr_int(k->op, "layout", 0);
  if (layout != 0 && layout != 1) return kernel_fail(k, "layout must be 0 or 1, got %lld", (long long)layout);
  r->layout1 = layout == 1;
  if (x->rank != 3) return kernel_fail(k, "X must have rank 3, got rank %d", x->rank);
  r->seq = x->dims[r->layout1 ? 1 : 0];
  r->batch = x->dims[r->layout1 ? 0 : 1];
  r->in = x->dims[2];
  if (rr->rank != 3) return kernel_fail(k, "R must have rank 3, got rank %d", rr->rank);
  r->hid = rr->dims[2];
  const IrAttr *hs = ir_op_attr(k->op, "hidden_size");
  if (hs && hs->u.i != r->hid)
    return kernel_fail(k, "hidden_size is %lld but R has hidden size %lld", (long long)hs->u.i, (long long)r->hid);
  int64_t gh = r->ng * r->hid;
  if (!check_dims(k, w, "W", 3, (int64_t[]){r->ndir, gh, r->in}) ||
      !check_dims(k, rr, "R", 3, (int64_t[]){r->ndir, gh, r->hid}))
    return false;
  if (kernel_in(k, 3) && !check_dims(k, kernel_in(k, 3), "B", 2, (int64_t[]){r->ndir, 2 * gh})) return false;
  int64_t st[3] = {r->ndir, r->batch, r->hid};
  if (r->layout1) st[0] = r->batch, st[1] = r->ndir;
  if (kernel_in(k, 5) && !check_dims(k, kernel_in(k, 5), "initial_h", 3, st)) return false;
  if (cell == CELL_LSTM) {
    if (kernel_in(k, 6) && !check_dims(k, kernel_in(k, 6), "initial_c", 3, st)) return false;
    if (kernel_in(k, 7) && !check_dims(k, kernel_in(k, 7), "P", 2, (int64_t[]){r->ndir, 3 * r->hid})) return false;
  }
  const IrAttr *clip = ir_op_attr(k->op, "clip");
  r->clip = clip ? clip->u.f : INFINITY;
  if (!(r->clip > 0)) return kernel_fail(k, "clip must be positive, got %g", r->clip);
  r->lbr = ir_op_attr_int(k->op, "linear_before_reset", 0) != 0;
  r->input_forget = ir_op_attr_int(k->op, "input_forget", 0) != 0;
  return read_acts(k, r, nact[cell], dflt[cell]);
}

/* sequence_lens into lens[batch] (all seq when absent). */
static bool read_lens(KernelCtx *k, const Rnn *r, int64_t *lens) {
  const Tensor *sl = kernel_in(k, 4);
  for (int64_t b = 0; b < r->batch; b++) lens[b] = r->seq;
  if (!sl) return true;
  if (!ir_elem_is_int(sl->elem)) return kernel_fail(k, "sequence_lens must be an integer tensor");
  if (!check_dims(k, sl, "sequence_lens", 1, &r->batch)) return false;
  for (int64_t b = 0; b < r->batch; b++) {
    lens[b] = tensor_get_i64(sl, b);
    if (lens[b] < 0 || lens[b] > r->seq)
      return kernel_fail(k, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b, (long long)lens[b],
                         (long long)r->seq);
  }
  return true;
}

static inline double clipv(const Rnn *r, double v) { return v > r->clip ? r->clip : v < -r->clip ? -r->clip : v; }

/* Index of (d, b) in initial_h/Y_h (layout-dependent), times hid. */
static inline int64_t state_at(const Rnn *r, int64_t d, int64_t b) {
  return (r->layout1 ? b * r->ndir + d : d * r->batch + b) * r->hid;
}

/* One direction. xw: per (t, b) the ng*hid input projections plus W and R
 * biases (GRU's Rbh excluded: it sits inside the reset). w points at the
 * direction's R [ng*hid x hid], rbh at GRU's Rbh, p at LSTM's peepholes.
 * h, c: the batch's states, updated in place. y: Y's data or NULL. */
static void run_dir(const Rnn *r, int64_t d, const double *xw, const double *rw, const double *rbh, const double *p,
                    double *h, double *c, Tensor *y, double *g) {
  const Act *a = r->act[d];
  int64_t hid = r->hid, gh = r->ng * hid;
  bool rev = r->ndir == 2 ? d == 1 : r->reverse_only;
  for (int64_t b = 0; b < r->batch; b++) {
    double *hb = h + b * hid, *cb = c + b * hid;
    for (int64_t s = 0; s < r->lens[b]; s++) {
      int64_t t = rev ? r->lens[b] - 1 - s : s;
      const double *xt = xw + (t * r->batch + b) * gh;
      /* g = xt + R hb, except GRU's h gate (its R product depends on the reset). */
      int64_t nrec = r->cell == CELL_GRU ? 2 * hid : gh;
      for (int64_t j = 0; j < nrec; j++) {
        const double *row = rw + j * hid;
        double acc = 0;
        for (int64_t q = 0; q < hid; q++) acc += row[q] * hb[q];
        g[j] = xt[j] + acc;
      }
      if (r->cell == CELL_RNN) {
        for (int64_t j = 0; j < hid; j++) hb[j] = act_apply(&a[0], clipv(r, g[j]));
      } else if (r->cell == CELL_GRU) {
        double *z = g, *rs = g + hid, *hh = g + 2 * hid;
        for (int64_t j = 0; j < 2 * hid; j++) g[j] = act_apply(&a[0], clipv(r, g[j]));
        const double *rh = rw + 2 * hid * hid;
        for (int64_t j = 0; j < hid; j++) {
          double acc = 0;
          for (int64_t q = 0; q < hid; q++) acc += rh[j * hid + q] * (r->lbr ? hb[q] : rs[q] * hb[q]);
          hh[j] = r->lbr ? xt[2 * hid + j] + rs[j] * (acc + rbh[j]) : xt[2 * hid + j] + acc + rbh[j];
        }
        for (int64_t j = 0; j < hid; j++) {
          double ht = act_apply(&a[1], clipv(r, hh[j]));
          hb[j] = (1 - z[j]) * ht + z[j] * hb[j];
        }
      } else {
        double *gi = g, *go = g + hid, *gf = g + 2 * hid, *gc = g + 3 * hid;
        for (int64_t j = 0; j < hid; j++) {
          double i_ = act_apply(&a[0], clipv(r, gi[j] + p[j] * cb[j]));
          double f_ = r->input_forget ? 1 - i_ : act_apply(&a[0], clipv(r, gf[j] + p[2 * hid + j] * cb[j]));
          double c_ = act_apply(&a[1], clipv(r, gc[j]));
          cb[j] = f_ * cb[j] + i_ * c_;
          double o_ = act_apply(&a[0], clipv(r, go[j] + p[hid + j] * cb[j]));
          hb[j] = o_ * act_apply(&a[2], cb[j]);
        }
      }
      if (y) {
        int64_t at = r->layout1 ? ((b * r->seq + t) * r->ndir + d) * hid : ((t * r->ndir + d) * r->batch + b) * hid;
        for (int64_t j = 0; j < hid; j++) tensor_set_f64(y, at + j, hb[j]);
      }
    }
  }
}

/* xw[(t*batch + b)*gh + j] = X[t, b] . W[j] + bias[j] for direction d. */
static void project_inputs(const Rnn *r, const double *x, const double *w, const double *bias, double *xw) {
  int64_t gh = r->ng * r->hid;
  for (int64_t t = 0; t < r->seq; t++)
    for (int64_t b = 0; b < r->batch; b++) {
      const double *xr = x + (r->layout1 ? b * r->seq + t : t * r->batch + b) * r->in;
      double *o = xw + (t * r->batch + b) * gh;
      for (int64_t j = 0; j < gh; j++) {
        const double *wr = w + j * r->in;
        double acc = bias[j];
        for (int64_t q = 0; q < r->in; q++) acc += wr[q] * xr[q];
        o[j] = acc;
      }
    }
}

static bool rnn_run(KernelCtx *k, CellKind cell) {
  Rnn r;
  if (!rnn_setup(k, &r, cell)) return false;
  int64_t hid = r.hid, gh = r.ng * hid, nstate = r.ndir * r.batch * hid;
  int64_t *lens = malloc((size_t)(r.batch ? r.batch : 1) * sizeof *lens);
  if (!lens) return kernel_fail(k, "out of memory");
  r.lens = lens;
  if (!read_lens(k, &r, lens)) {
    free(lens);
    return false;
  }
  IrElem ye = kernel_result_elem(k, 0);
  Tensor *y = NULL, *yh = NULL, *yc = NULL;
  int64_t ydims[4] = {r.seq, r.ndir, r.batch, hid}, sdims[3] = {r.ndir, r.batch, hid};
  if (r.layout1) {
    ydims[0] = r.batch, ydims[1] = r.seq, ydims[2] = r.ndir;
    sdims[0] = r.batch, sdims[1] = r.ndir;
  }
  bool ok = (y = kernel_output(k, 0, ye, 4, ydims)) != NULL;
  if (ok && k->nout > 1) ok = (yh = kernel_output(k, 1, ye, 3, sdims)) != NULL;
  if (ok && k->nout > 2) ok = (yc = kernel_output(k, 2, ye, 3, sdims)) != NULL;
  const Tensor *bt = kernel_in(k, 3), *h0t = kernel_in(k, 5), *c0t = cell == CELL_LSTM ? kernel_in(k, 6) : NULL;
  const Tensor *pt = cell == CELL_LSTM ? kernel_in(k, 7) : NULL;
  double *x = NULL, *w = NULL, *rw = NULL, *bv = NULL, *pv = NULL, *h0 = NULL, *c0 = NULL;
  double *xw = NULL, *h = NULL, *c = NULL, *g = NULL, *bias = NULL;
  if (ok) {
    ok = (x = dense_to_f64(k, kernel_in(k, 0))) && (w = dense_to_f64(k, kernel_in(k, 1))) &&
         (rw = dense_to_f64(k, kernel_in(k, 2))) && (!bt || (bv = dense_to_f64(k, bt))) &&
         (!pt || (pv = dense_to_f64(k, pt))) && (!h0t || (h0 = dense_to_f64(k, h0t))) &&
         (!c0t || (c0 = dense_to_f64(k, c0t)));
  }
  if (ok) {
    xw = malloc((size_t)(r.seq * r.batch * gh + 1) * sizeof *xw);
    h = calloc((size_t)nstate + 1, sizeof *h);
    c = calloc((size_t)nstate + 1, sizeof *c);
    g = malloc((size_t)gh * sizeof *g + 1);
    bias = calloc((size_t)(2 * gh + 3 * hid + 1), sizeof *bias);
    ok = xw && h && c && g && bias;
    if (!ok) kernel_fail(k, "out of memory");
  }
  for (int64_t d = 0; ok && d < r.ndir; d++) {
    /* bias = Wb + Rb (GRU: Rbh kept apart), then Rbh, then peepholes. */
    double *rbh = bias + gh, *p = bias + 2 * gh;
    for (int64_t j = 0; j < gh; j++) {
      double wb = bv ? bv[d * 2 * gh + j] : 0, rb = bv ? bv[d * 2 * gh + gh + j] : 0;
      bool apart = cell == CELL_GRU && j >= 2 * hid;
      bias[j] = apart ? wb : wb + rb;
      if (apart) rbh[j - 2 * hid] = rb;
    }
    for (int64_t j = 0; j < 3 * hid; j++) p[j] = pv ? pv[d * 3 * hid + j] : 0;
    double *hd = h + d * r.batch * hid, *cd = c + d * r.batch * hid;
    for (int64_t b = 0; b < r.batch; b++)
      for (int64_t j = 0; j < hid; j++) {
        if (h0) hd[b * hid + j] = h0[state_at(&r, d, b) + j];
        if (c0) cd[b * hid + j] = c0[state_at(&r, d, b) + j];
      }
    project_inputs(&r, x, w + d * gh * r.in, bias, xw);
    run_dir(&r, d, xw, rw + d * gh * hid, rbh, p, hd, cd, y, g);
    for (int64_t b = 0; b < r.batch; b++)
      for (int64_t j = 0; j < hid; j++) {
        if (yh) tensor_set_f64(yh, state_at(&r, d, b) + j, hd[b * hid + j]);
        if (yc) tensor_set_f64(yc, state_at(&r, d, b) + j, cd[b * hid + j]);
      }
  }
  free(lens);
  free(x), free(w), free(rw), free(bv), free(pv), free(h0), free(c0);
  free(xw), free(h), free(c), free(g), free(bias);
  return ok;
}

static bool k_rnn(KernelCtx *k) { return rnn_run(k, CELL_RNN); }
static bool k_gru(KernelCtx *k) { return rnn_run(k, CELL_GRU); }
static bool k_lstm(KernelCtx *k) { return rnn_run(k, CELL_LSTM); }

void kernels_register_rnn(KernelFn *table) {
  table[IR_OP_RNN] = k_rnn;
  table[IR_OP_GRU] = k_gru;
  table[IR_OP_LSTM] = k_lstm;
}
