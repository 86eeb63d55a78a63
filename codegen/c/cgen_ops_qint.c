/* The C backend's pooling ops and the quench integer ops that are not
 * fused into a GEMM: MaxPool / AveragePool (f32, u8, i8), quench.QAdd,
 * quench.QMul, quench.QAveragePool and a standalone quench.Requantize, as
 * calls to the runtime kernels of qrt_ops.h with the interpreter's own
 * window geometry (win_geom). */
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "interp/dense_util.h"
#include "support/arena.h"

bool cg_emit_qint(Cg *cg, const IrOp *op);

#define MAXR 16

static const char *elem8(IrElem e) {
  return e == IR_ELEM_U8 ? "QRT_U8" : e == IR_ELEM_I8 ? "QRT_S8" : e == IR_ELEM_F32 ? "QRT_F32" : NULL;
}

static bool use(Cg *cg, const IrOp *op, const IrValue *v) {
  if (cg_const_of(v)) return cg_weight(cg, v);
  CgVal *e = cg_val(cg, v);
  if (!e || e->loc == CG_LOC_NONE) return cg_fail(cg, op, "operand is not materialized");
  cg_use(cg, v);
  return true;
}

static void def(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val_add(cg, v);
  e->loc = CG_LOC_ARENA;
  e->buf = cg_new_buf(cg, cg_bytes(v));
}

/* Integer attribute within [lo, hi]. */
static bool attr_in(Cg *cg, const IrOp *op, const char *name, int64_t dflt, int64_t lo, int64_t hi, int32_t *out) {
  int64_t v = ir_op_attr_int(op, name, dflt);
  if (v < lo || v > hi) return cg_fail(cg, op, "attribute '%s' = %lld is out of range", name, (long long)v);
  *out = (int32_t)v;
  return true;
}

/* y's zero point and clamp bounds, defaulting to its type's range. */
static bool qout(Cg *cg, const IrOp *op, int32_t *zp, int32_t *lo, int32_t *hi) {
  int64_t qmin, qmax;
  IrElem e = op->results[0]->type->elem;
  if (!elem8(e) || e == IR_ELEM_F32) return cg_fail(cg, op, "result type %s is not compiled (u8, i8)", ir_elem_name(e));
  ir_elem_int_range(e, &qmin, &qmax);
  return attr_in(cg, op, "y_zero_point", 0, qmin, qmax, zp) && attr_in(cg, op, "lo", qmin, qmin, qmax, lo) &&
         attr_in(cg, op, "hi", qmax, qmin, qmax, hi);
}

static bool emit_pool(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  const char *el = elem8(x->type->elem);
  bool q = op->kind == IR_OP_Q_AVERAGE_POOL;
  if (!el) return cg_fail(cg, op, "element type %s is not compiled", ir_elem_name(x->type->elem));
  if (op->nresults > 1 && ir_value_has_uses(op->results[1])) return cg_fail(cg, op, "the Indices result is not compiled");
  int32_t xr = x->type->rank;
  if (xr != 3 && xr != 4) return cg_fail(cg, op, "only 1-d and 2-d pooling is compiled");
  const IrAttr *ks = ir_op_attr(op, "kernel_shape");
  if (!ks || ks->kind != IR_ATTR_INTS || (int32_t)ks->u.ints.n != xr - 2) return cg_fail(cg, op, "kernel_shape is required");
  KernelCtx k = {.op = op, .d = cg->d};
  Tensor xt = {.elem = x->type->elem, .rank = xr};
  for (int32_t i = 0; i < xr; i++) xt.dims[i] = x->type->dims[i].size;
  WinGeom g;
  if (!win_geom(&k, &xt, ks->u.ints.v, !q && ir_op_attr_int(op, "ceil_mode", 0) != 0, &g)) return false;
  bool two = xr == 4;
  if (!use(cg, op, x)) return false;
  def(cg, y);
  char xp[64], yp[64];
  cg_str_printf(&cg->code, "  { /* %s: %s */\n", op->src_name ? op->src_name : "-", ops_name(op->kind));
  cg_str_printf(&cg->code,
                "    const qrt_pool2d g = {%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
                "%lld, %lld, %d};\n",
                (long long)(xt.dims[0] * xt.dims[1]), (long long)g.in[0], (long long)(two ? g.in[1] : 1),
                (long long)g.out[0], (long long)(two ? g.out[1] : 1), (long long)g.kern[0],
                (long long)(two ? g.kern[1] : 1), (long long)g.stride[0], (long long)(two ? g.stride[1] : 1),
                (long long)g.dil[0], (long long)(two ? g.dil[1] : 1), (long long)g.pad0[0],
                (long long)(two ? g.pad0[1] : 0), (long long)g.pad1[0], (long long)(two ? g.pad1[1] : 0),
                (int)ir_op_attr_int(op, "count_include_pad", 0));
  if (op->kind == IR_OP_MAX_POOL) {
    if (y->type->elem != x->type->elem) return cg_fail(cg, op, "result type differs from the input's");
    cg_str_printf(&cg->code, "    qrt_maxpool2d(&g, %s, %s, %s, pool);\n  }\n", el, cg_ptr(cg, x, xp, 64),
                  cg_ptr(cg, y, yp, 64));
  } else if (op->kind == IR_OP_AVERAGE_POOL) {
    cg_str_printf(&cg->code, "    qrt_avgpool2d(&g, %s, %s, %s, pool);\n  }\n", el, cg_ptr(cg, x, xp, 64),
                  cg_ptr(cg, y, yp, 64));
  } else {
    int32_t xz = 0, m0 = 0, sh = 1, zp = 0, lo = 0, hi = 0;
    if (!attr_in(cg, op, "x_zero_point", 0, -65536, 65535, &xz) ||
        !attr_in(cg, op, "multiplier", -1, 0, INT32_MAX, &m0) || !attr_in(cg, op, "shift", 0, 1, 62, &sh) ||
        !qout(cg, op, &zp, &lo, &hi))
      return false;
    cg_str_printf(&cg->code, "    const qrt_qavgpool_params p = {%d, %d, %d, %d, %d, %d};\n", xz, m0, sh, zp, lo, hi);
    cg_str_printf(&cg->code, "    qrt_qavgpool2d(&g, &p, %s, %s, %s, %s, pool);\n  }\n", el, elem8(y->type->elem),
                  cg_ptr(cg, x, xp, 64), cg_ptr(cg, y, yp, 64));
  }
  return true;
}

/* Broadcast strides of (r, d) read as (orank, od), aligned right. */
static void bstrides(int32_t r, const IrDim *d, int32_t orank, const int64_t *od, int64_t *st) {
  int64_t s = 1;
  for (int32_t i = orank - 1; i >= 0; i--) {
    int32_t j = i - (orank - r);
    st[i] = (j < 0 || d[j].size == 1 || od[i] == 1) ? 0 : s;
    if (j >= 0) s *= d[j].size;
  }
}

static void i64s(Cg *cg, const char *name, const int64_t *v, int32_t n) {
  cg_str_printf(&cg->code, "    static const int64_t %s[] = {", name);
  for (int32_t i = 0; i < (n ? n : 1); i++) cg_str_printf(&cg->code, "%s%lld", i ? ", " : "", n ? (long long)v[i] : 0LL);
  cg_str_printf(&cg->code, "};\n");
}

static bool emit_qbinary(Cg *cg, const IrOp *op) {
  const IrValue *a = ir_op_operand(op, 0), *b = ir_op_operand(op, 1), *y = op->results[0];
  bool add = op->kind == IR_OP_Q_ADD;
  const char *ae = elem8(a->type->elem), *be = elem8(b->type->elem);
  if (!ae || !be || a->type->elem == IR_ELEM_F32 || b->type->elem == IR_ELEM_F32)
    return cg_fail(cg, op, "operands must be u8 or i8");
  int32_t az = 0, bz = 0, am = 0, bm = 0, sh = 1, zp = 0, lo = 0, hi = 0;
  if (!attr_in(cg, op, "a_zero_point", 0, -65536, 65535, &az) || !attr_in(cg, op, "b_zero_point", 0, -65536, 65535, &bz) ||
      !attr_in(cg, op, add ? "a_multiplier" : "multiplier", -1, 0, INT32_MAX, &am) ||
      (add && !attr_in(cg, op, "b_multiplier", -1, 0, INT32_MAX, &bm)) ||
      !attr_in(cg, op, "shift", 0, 1, 62, &sh) || !qout(cg, op, &zp, &lo, &hi))
    return false;
  int32_t yr = y->type->rank;
  if (yr > 8) return cg_fail(cg, op, "rank above 8");
  int64_t yd[MAXR], sa[MAXR], sb[MAXR];
  for (int32_t i = 0; i < yr; i++) yd[i] = y->type->dims[i].size;
  bstrides(a->type->rank, a->type->dims, yr, yd, sa);
  bstrides(b->type->rank, b->type->dims, yr, yd, sb);
  if (!use(cg, op, a) || !use(cg, op, b)) return false;
  def(cg, y);
  char ap[64], bp[64], yp[64];
  cg_str_printf(&cg->code, "  { /* %s: %s */\n", op->src_name ? op->src_name : "-", ops_name(op->kind));
  i64s(cg, "d", yd, yr);
  i64s(cg, "sa", sa, yr);
  i64s(cg, "sb", sb, yr);
  cg_str_printf(&cg->code, "    const qrt_qbin_params p = {%d, %d, %d, %d, %d, %d, %d, %d};\n", az, bz, am, bm, sh, zp,
                lo, hi);
  cg_str_printf(&cg->code, "    %s(&p, %s, %s, %s, %d, d, %s, sa, %s, sb, %s);\n  }\n", add ? "qrt_qadd" : "qrt_qmul",
                ae, be, elem8(y->type->elem), yr, cg_ptr(cg, a, ap, 64), cg_ptr(cg, b, bp, 64), cg_ptr(cg, y, yp, 64));
  return true;
}

static bool emit_requantize(Cg *cg, const IrOp *op) {
  const IrValue *x = ir_op_operand(op, 0), *y = op->results[0];
  const IrValue *bv = op->noperands > 1 ? ir_op_operand(op, 1) : NULL;
  IrElem xe = x->type->elem;
  if (xe != IR_ELEM_I32 && xe != IR_ELEM_U8 && xe != IR_ELEM_I8) return cg_fail(cg, op, "input must be i32, u8 or i8");
  int32_t xz = 0, zp = 0, lo = 0, hi = 0, xr = x->type->rank;
  if (!attr_in(cg, op, "x_zero_point", 0, -65536, 65535, &xz) || !qout(cg, op, &zp, &lo, &hi)) return false;
  const IrAttr *ma = ir_op_attr(op, "multiplier"), *sa = ir_op_attr(op, "shift");
  const IrConst *bc = bv ? cg_const_of(bv) : NULL;
  if (!ma || !sa || ma->kind != IR_ATTR_INTS || sa->kind != IR_ATTR_INTS) return cg_fail(cg, op, "multiplier/shift missing");
  if (bv && (!bc || bc->type->elem != IR_ELEM_I32)) return cg_fail(cg, op, "bias must be a constant i32 tensor");
  int64_t nb = bc ? ir_type_numel(bc->type) : 0;
  bool per = ma->u.ints.n > 1 || sa->u.ints.n > 1 || nb > 1;
  int64_t ch = 1, outer = cg_numel(x), inner = 1;
  if (per) {
    int64_t ax = ir_op_attr_int(op, "axis", 1);
    if (ax < 0) ax += xr;
    if (ax < 0 || ax >= xr) return cg_fail(cg, op, "axis out of range");
    ch = x->type->dims[ax].size;
    outer = 1;
    for (int32_t i = 0; i < ax; i++) outer *= x->type->dims[i].size;
    for (int32_t i = (int32_t)ax + 1; i < xr; i++) inner *= x->type->dims[i].size;
  }
  if ((ma->u.ints.n != 1 && (int64_t)ma->u.ints.n != ch) || (sa->u.ints.n != 1 && (int64_t)sa->u.ints.n != ch) ||
      (nb > 1 && nb != ch))
    return cg_fail(cg, op, "parameters must have 1 or %lld entries", (long long)ch);
  int32_t *arr = xmalloc((size_t)ch * 3 * sizeof *arr);
  for (int64_t c = 0; c < ch; c++) {
    int64_t m = ma->u.ints.v[ma->u.ints.n == 1 ? 0 : c], s = sa->u.ints.v[sa->u.ints.n == 1 ? 0 : c];
    if (m < 0 || m > INT32_MAX || s < 1 || s > 62) {
      free(arr);
      return cg_fail(cg, op, "multiplier/shift out of range");
    }
    arr[c] = (int32_t)m;
    arr[ch + c] = (int32_t)s;
    arr[2 * ch + c] = bc ? (int32_t)ir_elem_load_int(IR_ELEM_I32, bc->data, bc->splat || nb == 1 ? 0 : c) : 0;
  }
  int64_t off = cg_blob_add(cg, arr, ch * 12);
  free(arr);
  if (!use(cg, op, x)) return false;
  def(cg, y);
  char xp[64], yp[64];
  cg_str_printf(&cg->code, "  { /* %s: quench.Requantize */\n", op->src_name ? op->src_name : "-");
  cg_str_printf(&cg->code,
                "    const qrt_requant_params p = {(const int32_t *)(W + %lld), (const int32_t *)(W + %lld), "
                "(const int32_t *)(W + %lld), %d, %d, %d, %d};\n",
                (long long)off, (long long)(off + ch * 4), (long long)(off + ch * 8), xz, zp, lo, hi);
  cg_str_printf(&cg->code, "    qrt_requantize_mt(pool, &p, %s, %s, %s, %s, %lld, %lld, %lld);\n  }\n", cg_ptr(cg, x, xp, 64),
                xe == IR_ELEM_I32 ? "QRT_I32" : elem8(xe), cg_ptr(cg, y, yp, 64), elem8(y->type->elem),
                (long long)outer, (long long)ch, (long long)inner);
  return true;
}

bool cg_emit_qint(Cg *cg, const IrOp *op) {
  switch (op->kind) {
  case IR_OP_MAX_POOL:
  case IR_OP_AVERAGE_POOL:
  case IR_OP_Q_AVERAGE_POOL: return emit_pool(cg, op);
  case IR_OP_Q_ADD:
  case IR_OP_Q_MUL: return emit_qbinary(cg, op);
  case IR_OP_Q_REQUANTIZE: return emit_requantize(cg, op);
  default: return cg_fail(cg, op, "no C kernel");
  }
}
