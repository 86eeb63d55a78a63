/* Channel gating fused: a DequantizeLinear of 8-bit codes, a Mul by a float
 * tensor with one value per (image, channel) computed at run time (the gate
 * of a squeeze-and-excitation block), and a per-tensor QuantizeLinear of the
 * product become one qrt_dq_mul_q_mt pass from codes to codes: neither float
 * tensor is written (ppocr_cls has nine such blocks). The gate is known
 * only at the Mul, so the DequantizeLinear emits nothing and the pass runs
 * at the Mul; its other users may only be GlobalAveragePools that read the
 * codes (cg_dq_gap_ok). The kernel performs the interpreter's float
 * operations in its order, so the result is bit-exact (docs/backends/c.md;
 * test/unit/test_qrt_ops.c test_dq_mul_q, test/lit/codegen/compile-gate.test). */
#include <string.h>

#include "codegen/c/cgen_internal.h"

typedef struct Gate {
  const IrOp *mul, *q;
  const IrValue *codes, *g;
  int64_t rows, n;
} Gate;

static bool static_dims(const IrType *t) {
  for (int32_t i = 0; i < t->rank; i++)
    if (t->dims[i].size < 0) return false;
  return true;
}

static bool codes_elem(IrElem e) { return e == IR_ELEM_U8 || e == IR_ELEM_I8; }

/* The pattern from its DequantizeLinear: deterministic, so the DQ step and
 * the Mul step agree. */
static bool gate_match(Cg *cg, const IrOp *dq, Gate *gt) {
  if (dq->kind != IR_OP_DEQUANTIZE_LINEAR || !cg_per_tensor_q(dq)) return false;
  const IrValue *codes = ir_op_operand(dq, 0), *d = dq->results[0];
  const CgVal *cv = cg_val(cg, codes);
  if (!codes_elem(codes->type->elem) || cg_const_of(codes) || !cv || cv->loc == CG_LOC_NONE ||
      d->type->elem != IR_ELEM_F32 || d->type->rank < 3 || !static_dims(d->type))
    return false;
  const IrOp *mul = NULL;
  for (const IrUse *u = d->uses; u; u = u->next) {
    if (u->user->kind == IR_OP_MUL && !mul) {
      mul = u->user;
      continue;
    }
    if (cg_dq_gap_ok(cg, u->user)) continue;
    return false; /* the floats are needed elsewhere */
  }
  if (!mul || mul->noperands != 2) return false;
  const IrValue *a = ir_op_operand(mul, 0), *b = ir_op_operand(mul, 1), *g = a == d ? b : a;
  if (a == b || g->type->elem != IR_ELEM_F32 || !ir_type_equal(mul->results[0]->type, d->type)) return false;
  /* the gate: [N, C, 1, ...] against [N, C, ...] */
  const IrType *gt_ = g->type, *dt = d->type;
  if (gt_->rank != dt->rank || !static_dims(gt_) || gt_->dims[0].size != dt->dims[0].size ||
      gt_->dims[1].size != dt->dims[1].size)
    return false;
  int64_t n = 1;
  for (int32_t i = 2; i < dt->rank; i++) {
    if (gt_->dims[i].size != 1) return false;
    n *= dt->dims[i].size;
  }
  const IrValue *m = mul->results[0];
  if (!m->uses || m->uses->next) return false;
  const IrOp *q = m->uses->user;
  if (q->kind != IR_OP_QUANTIZE_LINEAR || m->uses->index != 0 || !cg_per_tensor_q(q) ||
      !codes_elem(q->results[0]->type->elem))
    return false;
  gt->mul = mul, gt->q = q, gt->codes = codes, gt->g = g;
  gt->rows = dt->dims[0].size * dt->dims[1].size, gt->n = n;
  return true;
}

bool cg_gate_defers(Cg *cg, const IrOp *dq) {
  Gate gt;
  return gate_match(cg, dq, &gt);
}

/* Scale and zero point of a per-tensor quantization op. */
static void qparams(const IrOp *op, float *s, long long *z) {
  const IrConst *sc = cg_const_of(ir_op_operand(op, 1));
  const IrValue *zv = op->noperands > 2 ? ir_op_operand(op, 2) : NULL;
  const IrConst *zc = zv ? cg_const_of(zv) : NULL;
  memcpy(s, sc->data, 4);
  *z = zc ? (long long)ir_elem_load_int(zc->type->elem, zc->data, 0) : 0;
}

bool cg_try_gate_mul(Cg *cg, const IrOp *mul, bool *handled) {
  *handled = false;
  Gate gt;
  const IrOp *dq = NULL;
  for (uint32_t i = 0; i < 2 && i < mul->noperands; i++) {
    const IrValue *v = ir_op_operand(mul, i);
    if (v->kind == IR_VALUE_RESULT && v->def->kind == IR_OP_DEQUANTIZE_LINEAR && gate_match(cg, v->def, &gt) &&
        gt.mul == mul)
      dq = v->def;
  }
  if (!dq) return true;
  if (!cg_operand(cg, mul, gt.g)) return false;
  cg_use(cg, gt.codes);
  const IrValue *y = gt.q->results[0];
  cg_result(cg, y);
  for (int32_t s = cg->step + 1; s < cg->nops; s++)
    if (cg->ops[s] == gt.q) cg->skip[s] = true;
  float sx, sy;
  long long zx, zy;
  qparams(dq, &sx, &zx);
  qparams(gt.q, &sy, &zy);
  char cp[64], gp[64], yp[64], sxl[40], syl[40];
  cg_str_printf(&cg->code, "  /* %s: DequantizeLinear -> Mul -> QuantizeLinear (channel gate) -> %s[%lld x %lld] */\n",
                mul->src_name ? mul->src_name : "-", ir_elem_name(y->type->elem), (long long)gt.rows,
                (long long)gt.n);
  cg_str_printf(&cg->code,
                "  qrt_dq_mul_q_mt(pool, %s, %s, %s, %lld, (const float *)%s, %s, %s, %s, %lld, %lld, %lld);\n",
                cg_ptr(cg, gt.codes, cp, sizeof cp), cg_qrt_elem(gt.codes->type->elem), cg_flit(sx, sxl), zx,
                cg_ptr(cg, gt.g, gp, sizeof gp), cg_ptr(cg, y, yp, sizeof yp), cg_qrt_elem(y->type->elem),
                cg_flit(sy, syl), zy, (long long)gt.rows, (long long)gt.n);
  *handled = true;
  return true;
}
