/* Shape and type inference for the quench integer ops that lower-int
 * creates (ops.def's last group): quench.Requantize keeps its input's
 * shape, quench.QAdd and quench.QMul broadcast like Add, and
 * quench.QAveragePool slides its window like AveragePool without auto_pad,
 * dilations or ceil_mode. The result element type is the ONNX type named by
 * `output_dtype`, else operand 0's; it must be an integer type of at most
 * 16 bits. Semantics: docs/passes/lower-int.md. Test: test/unit/test_k_qint.c
 * (through the parser) and test/lit/quant/lower-int*.qir. */
#include "ops/infer_internal.h"

/* The result element type, or false (reported) when output_dtype names no
 * integer type of 16 bits or fewer. */
static bool result_elem(InferCtx *c, IrElem *out) {
  IrElem e = infer_in(c, 0)->elem;
  int64_t od = ir_op_attr_int(c->op, "output_dtype", 0);
  if (od) {
    bool found = false;
    for (int k = 0; k < IR_ELEM_COUNT && !found; k++)
      if (ir_elem_info[k].onnx == od) e = (IrElem)k, found = true;
    if (!found) return infer_fail(c, "output_dtype %lld names no supported element type", (long long)od);
  }
  if (!ir_elem_is_int(e) || ir_elem_info[e].bits > 16)
    return infer_fail(c, "result element type %s is not an integer type of at most 16 bits", ir_elem_name(e));
  *out = e;
  return true;
}

static bool infer_pool(InferCtx *c, IrElem e) {
  Shape x, y;
  infer_in_shape(c, 0, &x);
  if (x.rank < 0) {
    y.rank = -1;
    infer_set(c, 0, e, &y);
    return true;
  }
  int32_t n = x.rank - 2;
  const IrAttr *ks = ir_op_attr(c->op, "kernel_shape"), *st = ir_op_attr(c->op, "strides"),
               *pd = ir_op_attr(c->op, "pads");
  if (n < 1) return infer_fail(c, "the input must have rank 3 or more, not %d", (int)x.rank);
  if (!ks || (int32_t)ks->u.ints.n != n)
    return infer_fail(c, "kernel_shape must have %d entries, one per spatial dim", (int)n);
  if ((st && (int32_t)st->u.ints.n != n) || (pd && (int32_t)pd->u.ints.n != 2 * n))
    return infer_fail(c, "strides and pads must have %d and %d entries", (int)n, (int)(2 * n));
  y = x;
  for (int32_t i = 0; i < n; i++) {
    int64_t k = ks->u.ints.v[i], s = st ? st->u.ints.v[i] : 1;
    int64_t p = pd ? pd->u.ints.v[i] + pd->u.ints.v[i + n] : 0;
    if (k < 1 || s < 1 || p < 0) return infer_fail(c, "kernel_shape and strides must be positive, pads not negative");
    IrDim in = x.d[2 + i];
    if (in.size < 0) {
      y.d[2 + i] = infer_dyn();
      continue;
    }
    if (in.size + p < k)
      return infer_fail(c, "the window (%lld) is larger than the padded input (%lld)", (long long)k,
                        (long long)(in.size + p));
    y.d[2 + i] = infer_static((in.size + p - k) / s + 1);
  }
  infer_set(c, 0, e, &y);
  return true;
}

bool infer_qint(InferCtx *c) {
  IrElem e = IR_ELEM_I8;
  if (!result_elem(c, &e)) return false;
  Shape a, b, y;
  switch (c->op->kind) {
  case IR_OP_Q_ADD:
  case IR_OP_Q_MUL:
    if (!infer_in(c, 1)) return infer_fail(c, "operand 1 is absent");
    infer_in_shape(c, 0, &a);
    infer_in_shape(c, 1, &b);
    if (!ir_infer_broadcast(a.d, a.rank, b.d, b.rank, y.d, &y.rank))
      return infer_fail(c, "operand shapes do not broadcast");
    infer_set(c, 0, e, &y);
    return true;
  case IR_OP_Q_AVERAGE_POOL: return infer_pool(c, e);
  default:
    infer_in_shape(c, 0, &a);
    infer_set(c, 0, e, &a);
    return true;
  }
}
