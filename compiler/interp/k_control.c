/* Kernels: Constant and the ops with regions (If, Loop, Scan), following the
 * ONNX spec (Loop: opset 11+ with scan outputs; Scan: opset 9+). Region
 * bodies run through kernel_run_region, which sees the enclosing values. */
#include <stdlib.h>
#include <string.h>

#include "interp/kernel.h"

/* ---- Constant ---------------------------------------------------------- */

static bool k_constant(KernelCtx *k) {
  const IrOp *op = k->op;
  IrElem e = kernel_result_elem(k, 0);
  const IrAttr *a = ir_op_attr(op, "value");
  if (a && a->kind == IR_ATTR_TENSOR) {
    Tensor *t = tensor_from_const(a->u.tensor);
    if (!t) return kernel_fail(k, "the constant's shape is refused or its data has the wrong size");
    tensor_free(k->out[0]);
    k->out[0] = t;
    return true;
  }
  int64_t n = 1;
  const IrAttr *av;
  if ((av = ir_op_attr(op, "value_float")) || (av = ir_op_attr(op, "value_int"))) {
    Tensor *t = kernel_output(k, 0, e, 0, NULL);
    if (!t) return false;
    if (av->kind == IR_ATTR_FLOAT)
      tensor_set_f64(t, 0, av->u.f);
    else
      tensor_set_i64(t, 0, av->u.i);
    return true;
  }
  if ((av = ir_op_attr(op, "value_floats")) || (av = ir_op_attr(op, "value_ints"))) {
    n = av->kind == IR_ATTR_FLOATS ? av->u.floats.n : av->u.ints.n;
    Tensor *t = kernel_output(k, 0, e, 1, &n);
    if (!t) return false;
    for (int64_t i = 0; i < n; i++) {
      if (av->kind == IR_ATTR_FLOATS)
        tensor_set_f64(t, i, av->u.floats.v[i]);
      else
        tensor_set_i64(t, i, av->u.ints.v[i]);
    }
    return true;
  }
  return kernel_fail(k, "no value attribute the interpreter can read (string constants are not supported)");
}

/* ---- If ------------------------------------------------------------- */

static bool scalar_bool(KernelCtx *k, const Tensor *t, const char *what, bool *out) {
  if (!t || t->numel != 1) return kernel_fail(k, "%s must hold exactly one element", what);
  *out = tensor_get_f64(t, 0) != 0;
  return true;
}

static bool k_if(KernelCtx *k) {
  bool c = false;
  if (!scalar_bool(k, kernel_in(k, 0), "the condition", &c)) return false;
  return kernel_run_region(k, k->op->regions[c ? 0 : 1], NULL, 0, k->out, k->nout);
}

/* ---- helpers for stacking per-iteration values ------------------------ */

/* A growing list of per-iteration tensors that become one output stacked
 * along a new axis. */
typedef struct Stack {
  Tensor **items;
  int64_t n, cap;
} Stack;

static void stack_push(Stack *s, Tensor *t) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->items = xrealloc(s->items, (size_t)s->cap * sizeof *s->items);
  }
  s->items[s->n++] = t;
}

static void stack_clear(Stack *s) {
  for (int64_t i = 0; i < s->n; i++) tensor_free(s->items[i]);
  free(s->items);
  *s = (Stack){0};
}

/* Result i from the stacked items along `axis` (normalized into [0, rank
 * of an item]); reverse: the last item first. With no items, the IR's
 * result type gives the rank and known dims (unknown ones 0). */
static bool stack_emit(KernelCtx *k, uint32_t i, const Stack *s, int64_t axis_attr, bool reverse) {
  int64_t dims[TENSOR_MAX_RANK];
  int32_t rank;
  IrElem e = kernel_result_elem(k, i);
  if (s->n == 0) {
    const IrType *ty = k->op->results[i]->type;
    if (ty->rank < 1 || ty->rank > TENSOR_MAX_RANK)
      return kernel_fail(k, "result #%u: no iterations and no rank known", i);
    rank = ty->rank;
    int64_t a = axis_attr < 0 ? axis_attr + rank : axis_attr;
    for (int32_t d = 0; d < rank; d++) dims[d] = d == a || ty->dims[d].size < 0 ? 0 : ty->dims[d].size;
    return kernel_output(k, i, e, rank, dims) != NULL;
  }
  const Tensor *t0 = s->items[0];
  if (t0->rank + 1 > TENSOR_MAX_RANK) return kernel_fail(k, "result #%u: rank too large", i);
  rank = t0->rank + 1;
  int64_t a = axis_attr < 0 ? axis_attr + rank : axis_attr;
  if (a < 0 || a >= rank)
    return kernel_fail(k, "result #%u: axis %lld is out of range for rank %d", i, (long long)axis_attr, rank);
  for (int64_t j = 1; j < s->n; j++)
    if (!tensor_same_shape(s->items[j], t0) || s->items[j]->elem != t0->elem) {
      char b1[128], b2[128];
      return kernel_fail(k, "result #%u: iteration %lld gives %s, iteration 0 gave %s", i, (long long)j,
                         tensor_describe(s->items[j], b1, sizeof b1), tensor_describe(t0, b2, sizeof b2));
    }
  for (int32_t d = 0, j = 0; d < rank; d++) dims[d] = d == a ? s->n : t0->dims[j++];
  Tensor *out = kernel_output(k, i, t0->elem, rank, dims);
  if (!out) return false;
  size_t eb = (size_t)ir_elem_bytes(t0->elem);
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < a; d++) outer *= t0->dims[d];
  for (int32_t d = (int32_t)a; d < t0->rank; d++) inner *= t0->dims[d];
  size_t chunk = (size_t)inner * eb;
  for (int64_t j = 0; j < s->n && chunk; j++) {
    int64_t pos = reverse ? s->n - 1 - j : j;
    for (int64_t o = 0; o < outer; o++)
      memcpy((char *)out->data + ((size_t)(o * s->n + pos)) * chunk,
             (const char *)s->items[j]->data + (size_t)o * chunk, chunk);
  }
  return true;
}

/* ---- Loop ------------------------------------------------------------ */

static bool k_loop(KernelCtx *k) {
  const IrRegion *body = k->op->regions[0];
  uint32_t ncarried = k->nin - 2, nscan = k->nout - ncarried;
  if (k->nout < ncarried) return kernel_fail(k, "%u results for %u loop-carried values", k->nout, ncarried);
  const Tensor *m = kernel_in(k, 0), *c = kernel_in(k, 1);
  int64_t trip = INT64_MAX;
  if (m) {
    if (m->numel != 1) return kernel_fail(k, "the trip count must hold exactly one element");
    trip = tensor_get_i64(m, 0);
  }
  bool cond = true;
  if (c && !scalar_bool(k, c, "the loop condition", &cond)) return false;
  if (!m && !c) return kernel_fail(k, "neither a trip count nor a condition: the loop would never end");
  uint32_t nargs = 2 + ncarried, nret = 1 + ncarried + nscan;
  Tensor **args = xcalloc(nargs, sizeof *args), **ret = xcalloc(nret, sizeof *ret);
  Tensor **carried = xcalloc(ncarried ? ncarried : 1, sizeof *carried);
  bool *own = xcalloc(ncarried ? ncarried : 1, sizeof *own);
  Stack *scans = xcalloc(nscan ? nscan : 1, sizeof *scans);
  for (uint32_t i = 0; i < ncarried; i++) carried[i] = (Tensor *)kernel_in(k, 2 + i);
  args[0] = tensor_new(IR_ELEM_I64, 0, NULL);
  args[1] = tensor_new(IR_ELEM_BOOL, 0, NULL);
  bool ok = true;
  for (int64_t it = 0; ok && it < trip && cond; it++) {
    tensor_set_i64(args[0], 0, it);
    tensor_set_i64(args[1], 0, cond);
    for (uint32_t i = 0; i < ncarried; i++) args[2 + i] = carried[i];
    if (!(ok = kernel_run_region(k, body, args, nargs, ret, nret))) break;
    if (c) ok = scalar_bool(k, ret[0], "the body's condition", &cond);
    tensor_free(ret[0]);
    for (uint32_t i = 0; i < ncarried; i++) {
      if (own[i]) tensor_free(carried[i]);
      carried[i] = ret[1 + i];
      own[i] = true;
    }
    for (uint32_t i = 0; i < nscan; i++) stack_push(&scans[i], ret[1 + ncarried + i]);
  }
  for (uint32_t i = 0; ok && i < ncarried; i++) {
    if (!carried[i]) {
      ok = kernel_fail(k, "loop-carried value #%u is absent", i);
      break;
    }
    tensor_free(k->out[i]);
    k->out[i] = own[i] ? carried[i] : tensor_clone(carried[i]);
    own[i] = false;
  }
  for (uint32_t i = 0; ok && i < nscan; i++) ok = stack_emit(k, ncarried + i, &scans[i], 0, false);
  for (uint32_t i = 0; i < ncarried; i++)
    if (own[i]) tensor_free(carried[i]);
  for (uint32_t i = 0; i < nscan; i++) stack_clear(&scans[i]);
  tensor_free(args[0]);
  tensor_free(args[1]);
  free(args);
  free(ret);
  free(carried);
  free(own);
  free(scans);
  return ok;
}

/* ---- Scan ------------------------------------------------------------ */

static int64_t ints_at(const IrAttr *a, uint32_t i, int64_t dflt) {
  return a && a->kind == IR_ATTR_INTS && i < a->u.ints.n ? a->u.ints.v[i] : dflt;
}

/* Slice `pos` of t along axis a, the axis removed. */
static Tensor *take_slice(const Tensor *t, int32_t a, int64_t pos) {
  int64_t dims[TENSOR_MAX_RANK];
  for (int32_t d = 0, j = 0; d < t->rank; d++)
    if (d != a) dims[j++] = t->dims[d];
  Tensor *s = tensor_new(t->elem, t->rank - 1, dims);
  if (!s || !s->numel) return s;
  size_t eb = (size_t)ir_elem_bytes(t->elem);
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < a; d++) outer *= t->dims[d];
  for (int32_t d = a + 1; d < t->rank; d++) inner *= t->dims[d];
  size_t chunk = (size_t)inner * eb;
  for (int64_t o = 0; o < outer; o++)
    memcpy((char *)s->data + (size_t)o * chunk, (const char *)t->data + (size_t)(o * t->dims[a] + pos) * chunk, chunk);
  return s;
}

static bool k_scan(KernelCtx *k) {
  const IrOp *op = k->op;
  int64_t nsi = ir_op_attr_int(op, "num_scan_inputs", 0);
  if (nsi <= 0 || nsi > k->nin) return kernel_fail(k, "num_scan_inputs %lld is out of range", (long long)nsi);
  uint32_t nin = (uint32_t)nsi, nstate = k->nin - nin;
  if (k->nout < nstate) return kernel_fail(k, "%u results for %u state values", k->nout, nstate);
  uint32_t nout = k->nout - nstate;
  const IrAttr *in_axes = ir_op_attr(op, "scan_input_axes"), *in_dirs = ir_op_attr(op, "scan_input_directions");
  const IrAttr *out_axes = ir_op_attr(op, "scan_output_axes"), *out_dirs = ir_op_attr(op, "scan_output_directions");
  int32_t *axes = xcalloc(nin, sizeof *axes);
  int64_t len = -1;
  bool ok = true;
  for (uint32_t i = 0; ok && i < nin; i++) {
    const Tensor *t = kernel_in(k, nstate + i);
    if (!t || t->rank < 1) {
      ok = kernel_fail(k, "scan input #%u must be present with rank >= 1", i);
      break;
    }
    int64_t a = ints_at(in_axes, i, 0);
    if (a < -t->rank || a >= t->rank) {
      ok = kernel_fail(k, "scan input #%u: axis %lld is out of range for rank %d", i, (long long)a, t->rank);
      break;
    }
    axes[i] = (int32_t)(a < 0 ? a + t->rank : a);
    if (len >= 0 && t->dims[axes[i]] != len)
      ok = kernel_fail(k, "scan input #%u has %lld iterations along its axis, an earlier one %lld", i,
                       (long long)t->dims[axes[i]], (long long)len);
    len = t->dims[axes[i]];
  }
  uint32_t nargs = nstate + nin, nret = nstate + nout;
  Tensor **args = xcalloc(nargs ? nargs : 1, sizeof *args), **ret = xcalloc(nret ? nret : 1, sizeof *ret);
  Tensor **state = xcalloc(nstate ? nstate : 1, sizeof *state);
  bool *own = xcalloc(nstate ? nstate : 1, sizeof *own);
  Stack *scans = xcalloc(nout ? nout : 1, sizeof *scans);
  for (uint32_t i = 0; i < nstate; i++) {
    state[i] = (Tensor *)kernel_in(k, i);
    if (!state[i]) ok = kernel_fail(k, "state input #%u is absent", i);
  }
  for (int64_t t = 0; ok && t < len; t++) {
    for (uint32_t i = 0; i < nstate; i++) args[i] = state[i];
    for (uint32_t i = 0; i < nin; i++) {
      const Tensor *x = kernel_in(k, nstate + i);
      int64_t pos = ints_at(in_dirs, i, 0) ? len - 1 - t : t;
      args[nstate + i] = take_slice(x, axes[i], pos);
    }
    ok = kernel_run_region(k, op->regions[0], args, nargs, ret, nret);
    for (uint32_t i = 0; i < nin; i++) tensor_free(args[nstate + i]);
    if (!ok) break;
    for (uint32_t i = 0; i < nstate; i++) {
      if (own[i]) tensor_free(state[i]);
      state[i] = ret[i];
      own[i] = true;
    }
    for (uint32_t i = 0; i < nout; i++) stack_push(&scans[i], ret[nstate + i]);
  }
  for (uint32_t i = 0; ok && i < nstate; i++) {
    tensor_free(k->out[i]);
    k->out[i] = own[i] ? state[i] : tensor_clone(state[i]);
    own[i] = false;
  }
  for (uint32_t i = 0; ok && i < nout; i++)
    ok = stack_emit(k, nstate + i, &scans[i], ints_at(out_axes, i, 0), ints_at(out_dirs, i, 0) != 0);
  for (uint32_t i = 0; i < nstate; i++)
    if (own[i]) tensor_free(state[i]);
  for (uint32_t i = 0; i < nout; i++) stack_clear(&scans[i]);
  free(axes);
  free(args);
  free(ret);
  free(state);
  free(own);
  free(scans);
  return ok;
}

void kernels_register_control(KernelFn *table) {
  table[IR_OP_CONSTANT] = k_constant;
  table[IR_OP_IF] = k_if;
  table[IR_OP_LOOP] = k_loop;
  table[IR_OP_SCAN] = k_scan;
}
