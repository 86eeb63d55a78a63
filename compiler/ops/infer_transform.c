/* Shape and type inference for the quench transform ops that rotate
 * creates (ops.def's "quench transforms" group): quench.Hadamard keeps its
 * float input's type; it transforms the last axis (axis -1 or rank-1 only),
 * whose size, when static, must be a power of two and equal `size` when
 * given. Semantics: docs/ir.md. Tests: test/lit/quant/rotate-online.qir. */
#include "ops/infer_internal.h"

bool infer_transform(InferCtx *c) {
  const IrType *t = infer_in(c, 0);
  if (!ir_elem_is_float(t->elem))
    return infer_fail(c, "operand 0 must be a float tensor, not %s", ir_elem_name(t->elem));
  Shape s;
  infer_in_shape(c, 0, &s);
  if (s.rank == 0) return infer_fail(c, "operand 0 must have rank 1 or more");
  if (s.rank > 0) {
    int64_t axis = ir_op_attr_int(c->op, "axis", -1);
    if (axis != -1 && axis != s.rank - 1)
      return infer_fail(c, "only the last axis can be transformed, not axis %lld", (long long)axis);
    int64_t n = s.d[s.rank - 1].size, size = ir_op_attr_int(c->op, "size", 0);
    if (n >= 0 && (n < 1 || (n & (n - 1)) != 0))
      return infer_fail(c, "the last dim (%lld) is not a power of two", (long long)n);
    if (n >= 0 && size != 0 && size != n)
      return infer_fail(c, "size %lld does not match the last dim %lld", (long long)size, (long long)n);
  }
  infer_set(c, 0, t->elem, &s);
  return true;
}
