/* The C backend's integer ops: ConvInteger and MatMulInteger, fused with
 * the quench.Requantize that reads them, become qrt_conv_q8 / qrt_dwconv_q8 /
 * qrt_matmul_q8 calls with weights packed here, at compile time, and the
 * zero points folded into the epilogue's bias:
 *   Requantize(sum (x - xz)(w), bias) = requant(sum x' w + bias'),
 *   x' = x (u8) or x + 128 (s8), bias' = bias - acc_zp - xz' * sum_k w,
 * which is exact whenever |bias'| + K * 255 * 128 < 2^31 (checked; the
 * interpreter's sat32 then never fires either). docs/backends/c.md. */
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "interp/dense_util.h"
#include "runtime/qrt_conv.h"
#include "runtime/qrt_gemm.h"
#include "support/arena.h"

#define I31 ((int64_t)1 << 31)

const IrValue *cg_lut_epilogue(Cg *cg, const IrValue *v, int64_t *table_off, bool *err);

/* A scalar integer constant operand i of op (absent: 0). */
static bool int_scalar(Cg *cg, const IrOp *op, uint32_t i, const char *what, int64_t *out) {
  *out = 0;
  const IrValue *v = i < op->noperands ? ir_op_operand(op, i) : NULL;
  if (!v) return true;
  const IrConst *c = cg_const_of(v);
  if (!c || !ir_elem_is_int(c->type->elem))
    return cg_fail(cg, op, "%s must be a constant integer", what);
  int64_t n = ir_type_numel(c->type);
  *out = ir_elem_load_int(c->type->elem, c->data, 0);
  for (int64_t k = 1; k < n && !c->splat; k++)
    if (ir_elem_load_int(c->type->elem, c->data, k) != *out)
      return cg_fail(cg, op, "%s must be one value for the whole tensor", what);
  return true;
}

/* The fused epilogue: the Requantize op reading `acc` (its only use), or
 * NULL when acc is read otherwise. */
static const IrOp *fused_requant(const IrValue *acc) {
  if (ir_value_num_uses(acc) != 1) return NULL;
  const IrOp *u = acc->uses->user;
  return u->kind == IR_OP_Q_REQUANTIZE && acc->uses->index == 0 ? u : NULL;
}

typedef struct Epi {
  int64_t nch;
  int64_t *bias; /* nch, the Requantize bias (before folding) */
  int64_t acc_zp;
  int32_t *m0, *shift;
  int64_t zp, lo, hi;
  bool out_signed;
} Epi;

/* Reads rq's attributes and bias for nch channels along `axis` of its input
 * (rank r); per-tensor parameters are expanded to every channel. */
static bool read_epi(Cg *cg, const IrOp *rq, int64_t nch, int32_t axis, int32_t r, Epi *e) {
  memset(e, 0, sizeof *e);
  e->nch = nch;
  const IrAttr *ma = ir_op_attr(rq, "multiplier"), *sa = ir_op_attr(rq, "shift");
  const IrValue *bv = rq->noperands > 1 ? ir_op_operand(rq, 1) : NULL;
  const IrConst *bc = bv ? cg_const_of(bv) : NULL;
  if (!ma || !sa || ma->kind != IR_ATTR_INTS || sa->kind != IR_ATTR_INTS)
    return cg_fail(cg, rq, "multiplier and shift must be integer lists");
  if (bv && (!bc || bc->type->elem != IR_ELEM_I32)) return cg_fail(cg, rq, "bias must be a constant i32 tensor");
  int64_t nb = bc ? ir_type_numel(bc->type) : 0;
  bool per = ma->u.ints.n > 1 || sa->u.ints.n > 1 || nb > 1;
  int64_t ax = ir_op_attr_int(rq, "axis", 1);
  if (ax < 0) ax += r;
  if (per && ax != axis)
    return cg_fail(cg, rq, "per-channel parameters along axis %lld; the C kernel needs axis %d", (long long)ax, axis);
  if ((ma->u.ints.n != 1 && (int64_t)ma->u.ints.n != nch) || (sa->u.ints.n != 1 && (int64_t)sa->u.ints.n != nch) ||
      (nb > 1 && nb != nch))
    return cg_fail(cg, rq, "parameters must have 1 or %lld entries", (long long)nch);
  e->bias = xcalloc((size_t)nch, sizeof *e->bias);
  e->m0 = xcalloc((size_t)nch, sizeof *e->m0);
  e->shift = xcalloc((size_t)nch, sizeof *e->shift);
  for (int64_t c = 0; c < nch; c++) {
    int64_t m = ma->u.ints.v[ma->u.ints.n == 1 ? 0 : c], s = sa->u.ints.v[sa->u.ints.n == 1 ? 0 : c];
    if (m < 0 || m >= I31 || s < 1 || s > 62)
      return cg_fail(cg, rq, "multiplier %lld / shift %lld out of range", (long long)m, (long long)s);
    e->m0[c] = (int32_t)m;
    e->shift[c] = (int32_t)s;
    if (bc) e->bias[c] = ir_elem_load_int(IR_ELEM_I32, bc->data, bc->splat || nb == 1 ? 0 : c);
  }
  e->acc_zp = ir_op_attr_int(rq, "x_zero_point", 0);
  IrElem oe = rq->results[0]->type->elem;
  if (oe != IR_ELEM_U8 && oe != IR_ELEM_I8) return cg_fail(cg, rq, "the C kernels store u8 or i8, not %s", ir_elem_name(oe));
  int64_t qmin, qmax;
  ir_elem_int_range(oe, &qmin, &qmax);
  e->out_signed = oe == IR_ELEM_I8;
  e->zp = ir_op_attr_int(rq, "y_zero_point", 0);
  e->lo = ir_op_attr_int(rq, "lo", qmin);
  e->hi = ir_op_attr_int(rq, "hi", qmax);
  if (e->zp < qmin || e->zp > qmax || e->lo < qmin || e->hi > qmax || e->lo > e->hi)
    return cg_fail(cg, rq, "zero point or bounds outside %s", ir_elem_name(oe));
  return true;
}

static void free_epi(Epi *e) {
  free(e->bias);
  free(e->m0);
  free(e->shift);
}

/* Folds the zero points into bias' = bias - acc_zp - xz * wsum[c], checks
 * that no accumulator can overflow for K taps, stores the epilogue arrays
 * in the blob and emits `qrt_requant rq = {...};`. */
static bool emit_epi(Cg *cg, const IrOp *op, const Epi *e, const int64_t *wsum, int64_t xz, int64_t K) {
  int32_t *b = xmalloc((size_t)e->nch * sizeof *b);
  for (int64_t c = 0; c < e->nch; c++) {
    int64_t v = e->bias[c] - e->acc_zp - xz * wsum[c];
    if (llabs(v) + K * 255 * 128 >= I31) {
      free(b);
      return cg_fail(cg, op, "the int32 accumulator could overflow (bias %lld, K %lld); the C kernels do not "
                     "saturate it", (long long)v, (long long)K);
    }
    b[c] = (int32_t)v;
  }
  int64_t ob = cg_blob_add(cg, b, e->nch * 4), om = cg_blob_add(cg, e->m0, e->nch * 4),
          os = cg_blob_add(cg, e->shift, e->nch * 4);
  free(b);
  cg_str_printf(&cg->code,
                "    const qrt_requant rq = {(const int32_t *)(W + %lld), (const int32_t *)(W + %lld), "
                "(const int32_t *)(W + %lld), 1, %lld, %lld, %lld, %d};\n",
                (long long)ob, (long long)om, (long long)os, (long long)e->zp, (long long)e->lo, (long long)e->hi,
                e->out_signed);
  return true;
}

/* The result: a fused Requantize's (skipped later) or op's own i32. */
static const IrValue *result_of(Cg *cg, const IrOp *op, const IrOp *rq) {
  if (!rq) return op->results[0];
  for (int32_t i = cg->step + 1; i < cg->nops; i++)
    if (cg->ops[i] == rq) cg->skip[i] = true;
  return rq->results[0];
}

static void new_result(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val_add(cg, v);
  e->loc = CG_LOC_ARENA;
  e->buf = cg_new_buf(cg, cg_bytes(v));
}

/* x operand: u8 or i8 (read as u8 through XOR 0x80, zero point + 128). */
static bool act_operand(Cg *cg, const IrOp *op, const IrValue *x, int64_t xz_raw, uint8_t *xor_, int64_t *xz) {
  IrElem e = x->type->elem;
  if (e != IR_ELEM_U8 && e != IR_ELEM_I8) return cg_fail(cg, op, "activations must be u8 or i8, not %s", ir_elem_name(e));
  *xor_ = e == IR_ELEM_I8 ? 0x80 : 0;
  *xz = xz_raw + (e == IR_ELEM_I8 ? 128 : 0);
  return true;
}

/* A byte-table chain after the requantized result runs in the GEMM's
 * epilogue: *res becomes the chain's end and lp the table's address ("W +
 * off", or "NULL" when there is none). False after a reported error. */
static bool epilogue_lut(Cg *cg, const IrValue **res, char *lp, size_t n) {
  int64_t off;
  bool err;
  const IrValue *end = cg_lut_epilogue(cg, *res, &off, &err);
  snprintf(lp, n, "NULL");
  if (!end) return !err;
  *res = end;
  snprintf(lp, n, "W + %lld", (long long)off);
  return true;
}

bool cg_emit_conv_integer(Cg *cg, const IrOp *op);
bool cg_emit_conv_integer(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *w = ir_op_operand(op, 1);
  const IrConst *wc = cg_const_of(w);
  int32_t xr, wr, yr;
  int64_t xd[16], wd[16], yd[16], xz_raw, wz;
  if (!cg_static_shape(cg, op, x, &xr, xd) || !cg_static_shape(cg, op, op->results[0], &yr, yd)) return false;
  if (!wc || wc->type->elem != IR_ELEM_I8) return cg_fail(cg, op, "weights must be a constant i8 tensor");
  if (!cg_static_shape(cg, op, w, &wr, wd)) return false;
  if (xr != 4 && xr != 3) return cg_fail(cg, op, "only 1-d and 2-d convolutions are compiled (input rank %d)", xr);
  if (!int_scalar(cg, op, 2, "x_zero_point", &xz_raw) || !int_scalar(cg, op, 3, "w_zero_point", &wz)) return false;
  if (wz != 0) return cg_fail(cg, op, "weight zero point %lld: the C kernels take symmetric weights", (long long)wz);
  uint8_t xor_ = 0;
  int64_t xz = 0;
  if (!act_operand(cg, op, x, xz_raw, &xor_, &xz)) return false;
  /* Geometry through the interpreter's own window rule (auto_pad, pads). */
  KernelCtx k = {.op = op, .d = cg->d};
  Tensor xt = {.elem = x->type->elem, .rank = xr};
  for (int32_t i = 0; i < xr; i++) xt.dims[i] = xd[i];
  WinGeom g;
  if (!win_geom(&k, &xt, wd + 2, false, &g)) return false;
  int64_t group = ir_op_attr_int(op, "group", 1);
  int64_t N = xd[0], C = xd[1], M = wd[0], Cin_g = wd[1];
  if (group < 1 || C % group || M % group || Cin_g != C / group)
    return cg_fail(cg, op, "group %lld does not divide channels %lld -> %lld", (long long)group, (long long)C, (long long)M);
  int64_t H = xd[2], Wd = xr == 4 ? xd[3] : 1, OH = g.out[0], OW = xr == 4 ? g.out[1] : 1;
  int64_t KH = g.kern[0], KW = xr == 4 ? g.kern[1] : 1, SH = g.stride[0], SW = xr == 4 ? g.stride[1] : 1;
  int64_t DH = g.dil[0], DW = xr == 4 ? g.dil[1] : 1, PT = g.pad0[0], PL = xr == 4 ? g.pad0[1] : 0;
  int64_t Mg = M / group, K = Cin_g * KH * KW;
  const IrOp *rq = fused_requant(op->results[0]);
  Epi e = {0};
  if (rq && !read_epi(cg, rq, M, 1, yr, &e)) {
    free_epi(&e);
    return false;
  }
  /* weight sums per output channel, for the zero-point fold */
  const int8_t *wv = wc->data;
  int64_t *wsum = xcalloc((size_t)M, sizeof *wsum);
  for (int64_t m = 0; m < M; m++)
    for (int64_t i = 0; i < K; i++) wsum[m] += wc->splat ? wv[0] : wv[m * K + i];
  int8_t *wfull = NULL;
  if (wc->splat) {
    wfull = xmalloc((size_t)(M * K));
    memset(wfull, wv[0], (size_t)(M * K));
    wv = wfull;
  }
  bool dw = group == C && group == M && Cin_g == 1;
  qrt_conv geo = {.N = N, .C = C, .H = H, .W = Wd, .M = M, .OH = OH, .OW = OW, .KH = KH, .KW = KW, .SH = SH,
                  .SW = SW, .DH = DH, .DW = DW, .PT = PT, .PL = PL, .group = group};
  /* Few input channels under a spatial kernel: the im2col would copy each
   * input byte KH*KW times for few output channels, so the sliding-window
   * kernel (AVX-512 VNNI only; elsewhere its fallback is a plain loop)
   * runs instead (docs/backends/c.md). */
  bool direct = !dw && (cg->o->target == CG_TARGET_AVX512VNNI || cg->o->target == CG_TARGET_AMX) && KH * KW > 1 &&
                Cin_g <= 16 && Mg <= 32 && qrt_conv_direct_fits(&geo);
  int64_t woff, gbytes = 0;
  if (dw) {
    int64_t nb = qrt_dwconv_weights_bytes(&geo);
    void *packed = xmalloc((size_t)nb);
    qrt_dwconv_pack(&geo, wv, packed);
    woff = cg_blob_add(cg, packed, nb);
    free(packed);
  } else if (direct) {
    int64_t nb = qrt_conv_direct_packed_bytes(&geo);
    void *packed = xmalloc((size_t)nb);
    qrt_conv_direct_pack(&geo, wv, packed);
    woff = cg_blob_add(cg, packed, nb);
    free(packed);
  } else {
    gbytes = ((int64_t)qrt_pack_a_size(Mg, K) + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN;
    uint8_t *packed = xcalloc((size_t)(gbytes * group), 1);
    for (int64_t gi = 0; gi < group; gi++) qrt_pack_a(wv + gi * Mg * K, Mg, K, packed + gi * gbytes);
    woff = cg_blob_add(cg, packed, gbytes * group);
    free(packed);
  }
  free(wfull);
  char xp[64], yp[64], lp[48] = "NULL";
  cg_use(cg, x);
  const IrValue *res = result_of(cg, op, rq);
  if (rq && !epilogue_lut(cg, &res, lp, sizeof lp)) {
    free(wsum);
    free_epi(&e);
    return false;
  }
  new_result(cg, res);
  /* the padded input the kernels read (live for this op only) */
  int32_t scratch = cg_new_buf(cg, qrt_conv_scratch_bytes(&geo));
  cg_str_printf(&cg->code, "  { /* %s%s: %s conv %lldx%lld, %lld -> %lld channels, group %lld */\n",
                op->src_name ? op->src_name : "ConvInteger", rq ? " + Requantize" : "",
                dw ? "depthwise" : direct ? "direct" : "GEMM",
                (long long)KH, (long long)KW, (long long)C, (long long)M, (long long)group);
  bool ok = true;
  if (rq) ok = emit_epi(cg, rq, &e, wsum, xz, K);
  free_epi(&e);
  if (ok) {
    cg_str_printf(&cg->code,
                  "    const qrt_conv c = {%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
                  "%lld, %lld, %lld, %lld, %u, %u, W + %lld, %lld, %s, A + B%d, %s, %d};\n",
                  (long long)N, (long long)C, (long long)H, (long long)Wd, (long long)M, (long long)OH, (long long)OW,
                  (long long)KH, (long long)KW, (long long)SH, (long long)SW, (long long)DH, (long long)DW,
                  (long long)PT, (long long)PL, (long long)group, (unsigned)(uint8_t)xz, (unsigned)xor_,
                  (long long)woff, (long long)gbytes, rq ? "&rq" : "NULL", scratch, lp,
                  cg_val(cg, x)->loc == CG_LOC_ARENA);
    if (dw || direct)
      cg_str_printf(&cg->code, "    %s(&c, (const %s *)(W + %lld), %s, %s, pool);\n",
                    dw ? "qrt_dwconv_q8" : "qrt_conv_direct_q8", dw ? "int8_t" : "void", (long long)woff,
                    cg_ptr(cg, x, xp, sizeof xp), cg_ptr(cg, res, yp, sizeof yp));
    else
      cg_str_printf(&cg->code, "    qrt_conv_q8(&c, %s, %s, pool);\n", cg_ptr(cg, x, xp, sizeof xp),
                    cg_ptr(cg, res, yp, sizeof yp));
    if (!rq) /* int32 result: the zero-point correction the epilogue would have folded */
      ok = cg_fail(cg, op, "an unfused ConvInteger (its result is not read by one quench.Requantize) is not "
                   "compiled yet");
  }
  cg_str_printf(&cg->code, "  }\n");
  free(wsum);
  return ok;
}

bool cg_emit_matmul_integer(Cg *cg, const IrOp *op);
bool cg_emit_matmul_integer(Cg *cg, const IrOp *op) {
  const IrValue *a = ir_op_operand(op, 0), *b = ir_op_operand(op, 1);
  const IrConst *bc = cg_const_of(b);
  int32_t ar, br, yr;
  int64_t ad[16], bd[16], yd[16], az_raw, bz;
  if (!cg_static_shape(cg, op, a, &ar, ad) || !cg_static_shape(cg, op, op->results[0], &yr, yd)) return false;
  if (!bc || bc->type->elem != IR_ELEM_I8 || !cg_static_shape(cg, op, b, &br, bd) || br != 2)
    return cg_fail(cg, op, "B must be a constant 2-d i8 matrix");
  if (ar < 1 || ad[ar - 1] != bd[0]) return cg_fail(cg, op, "A's last dim does not match B");
  if (!int_scalar(cg, op, 2, "a_zero_point", &az_raw) || !int_scalar(cg, op, 3, "b_zero_point", &bz)) return false;
  if (bz != 0) return cg_fail(cg, op, "B zero point %lld: the C kernels take symmetric weights", (long long)bz);
  uint8_t xor_ = 0;
  int64_t az = 0;
  if (!act_operand(cg, op, a, az_raw, &xor_, &az)) return false;
  int64_t K = bd[0], N = bd[1], M = cg_numel(a) / (K ? K : 1);
  const IrOp *rq = fused_requant(op->results[0]);
  if (!rq) return cg_fail(cg, op, "an unfused MatMulInteger (its result is not read by one quench.Requantize) is not "
                          "compiled yet");
  Epi e;
  if (!read_epi(cg, rq, N, yr - 1, yr, &e)) {
    free_epi(&e);
    return false;
  }
  int8_t *bfull = NULL;
  const int8_t *bv = bc->data;
  if (bc->splat) {
    bfull = xmalloc((size_t)(K * N));
    memset(bfull, bv[0], (size_t)(K * N));
    bv = bfull;
  }
  int64_t *wsum = xcalloc((size_t)N, sizeof *wsum);
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++) wsum[n] += bv[k * N + n];
  int64_t pbytes = (int64_t)qrt_pack_b_size(K, N);
  uint8_t *packed = xcalloc((size_t)pbytes, 1);
  qrt_pack_b(bv, N, 1, K, N, packed);
  int64_t boff = cg_blob_add(cg, packed, pbytes);
  free(packed);
  free(bfull);
  char ap[64], yp[64], lp[48] = "NULL";
  cg_use(cg, a);
  const IrValue *res = result_of(cg, op, rq);
  if (!epilogue_lut(cg, &res, lp, sizeof lp)) {
    free_epi(&e);
    free(wsum);
    return false;
  }
  new_result(cg, res);
  int32_t scratch = -1;
  if (xor_) scratch = cg_new_buf(cg, M * K);
  cg_str_printf(&cg->code, "  { /* %s + Requantize: [%lld x %lld] x [%lld x %lld] */\n",
                op->src_name ? op->src_name : "MatMulInteger", (long long)M, (long long)K, (long long)K, (long long)N);
  bool ok = emit_epi(cg, rq, &e, wsum, az, K);
  free_epi(&e);
  free(wsum);
  char sp[32];
  if (scratch >= 0) snprintf(sp, sizeof sp, "(A + B%d)", scratch);
  if (ok)
    cg_str_printf(&cg->code, "    qrt_matmul_q8(%lld, %lld, %lld, %s, %u, W + %lld, &rq, %s, %s, %s, pool);\n  }\n",
                  (long long)M, (long long)N, (long long)K, cg_ptr(cg, a, ap, sizeof ap), (unsigned)xor_,
                  (long long)boff, lp, cg_ptr(cg, res, yp, sizeof yp), scratch >= 0 ? sp : "NULL");
  return ok;
}
