/* Shape inference for the shape and data-movement ops: Reshape, Transpose,
 * Concat, Flatten, (Un)Squeeze, Shape, Size, Gather*, Slice, Split, Expand,
 * Pad, Resize, Tile, Range, ConstantOfShape and friends. Where a result
 * shape depends on an operand's contents, the operand's known values (from
 * constants and shape arithmetic, infer.c) are used; otherwise the affected
 * dims are dynamic. */
#include <math.h>
#include <string.h>

#include "ops/infer_internal.h"

static IrDim dim_of_sval(SVal s) {
  if (s.known && !s.sym && s.v >= 0) return infer_static(s.v);
  if (s.sym) return (IrDim){-1, s.sym};
  return infer_dyn();
}

/* Merges two dims that must be equal: static wins, then symbolic. */
static IrDim meet(IrDim a, IrDim b) {
  if (a.size >= 0) return a;
  if (b.size >= 0) return b;
  return a.sym ? a : b;
}

/* Rank `rank` with every dim unknown; a rank beyond what a Shape holds
 * (data-dependent ranks from a hostile model) gives an unranked shape. */
static void all_dynamic(Shape *s, int64_t rank) {
  if (rank < 0 || rank > INFER_MAX_RANK) {
    s->rank = -1;
    return;
  }
  s->rank = (int32_t)rank;
  for (int32_t i = 0; i < s->rank; i++) s->d[i] = infer_dyn();
}

bool infer_reshape(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  SVal sv[INFER_MAX_SV];
  int n;
  const IrType *st = infer_in(c, 1);
  if (!infer_shape_value(c->op->operands[1].value, sv, &n, 0)) {
    if (st->rank == 1 && st->dims[0].size >= 0 && st->dims[0].size <= INFER_MAX_RANK) all_dynamic(&out, (int32_t)st->dims[0].size);
    else out.rank = -1;
    infer_set(c, 0, e, &out);
    return true;
  }
  bool allowzero = ir_op_attr_int(c->op, "allowzero", 0) != 0;
  out.rank = n;
  int infer_at = -1;
  for (int i = 0; i < n; i++) {
    SVal s = sv[i];
    if (s.known && !s.sym && s.v == 0 && !allowzero) {
      if (in.rank >= 0 && i >= in.rank) return infer_fail(c, "shape entry %d is 0 but the input has rank %d", i, (int)in.rank);
      out.d[i] = in.rank >= 0 ? in.d[i] : infer_dyn();
    } else if (s.known && !s.sym && s.v == -1) {
      if (infer_at >= 0) return infer_fail(c, "more than one -1 in the shape");
      infer_at = i;
      out.d[i] = infer_dyn();
    } else if (s.known && !s.sym && s.v < -1) {
      return infer_fail(c, "shape entry %d is %lld", i, (long long)s.v);
    } else {
      out.d[i] = dim_of_sval(s);
    }
  }
  if (infer_at >= 0 && in.rank >= 0) {
    /* in = P_in * syms_in, out (without -1) = P_out * syms_out; the -1 is
     * P_in / P_out when the symbols cancel, or the one symbol left over. */
    int64_t pin = 1, pout = 1;
    const char *left[INFER_MAX_RANK];
    int nleft = 0;
    bool ok = true;
    for (int32_t i = 0; i < in.rank && ok; i++) {
      if (in.d[i].size >= 0) pin *= in.d[i].size;
      else if (in.d[i].sym) left[nleft++] = in.d[i].sym;
      else ok = false;
    }
    for (int i = 0; i < n && ok; i++) {
      if (i == infer_at) continue;
      if (out.d[i].size >= 0) {
        pout *= out.d[i].size;
      } else if (out.d[i].sym) {
        int k = 0;
        while (k < nleft && strcmp(left[k], out.d[i].sym) != 0) k++;
        if (k == nleft) ok = false;
        else left[k] = left[--nleft];
      } else {
        ok = false;
      }
    }
    if (ok && nleft == 0 && pout > 0) {
      if (pin % pout) return infer_fail(c, "cannot reshape %lld elements into a multiple of %lld", (long long)pin, (long long)pout);
      out.d[infer_at] = infer_static(pin / pout);
    } else if (ok && nleft == 1 && pin == pout) {
      out.d[infer_at] = (IrDim){-1, left[0]};
    }
  }
  int64_t a = infer_numel(&in), b = infer_numel(&out);
  if (a >= 0 && b >= 0 && a != b)
    return infer_fail(c, "cannot reshape %lld elements into %lld", (long long)a, (long long)b);
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_transpose(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  const IrAttr *p = ir_op_attr(c->op, "perm");
  if (in.rank < 0) {
    out.rank = p ? (int32_t)p->u.ints.n : -1;
    for (int32_t i = 0; i < out.rank; i++) out.d[i] = infer_dyn();
  } else {
    out.rank = in.rank;
    if (p && (int32_t)p->u.ints.n != in.rank)
      return infer_fail(c, "perm has %u entries for a rank-%d input", p->u.ints.n, (int)in.rank);
    bool seen[INFER_MAX_RANK] = {0};
    for (int32_t i = 0; i < in.rank; i++) {
      int64_t k = p ? p->u.ints.v[i] : in.rank - 1 - i;
      if (k < 0 || k >= in.rank || seen[k]) return infer_fail(c, "perm is not a permutation");
      seen[k] = true;
      out.d[i] = in.d[k];
    }
  }
  infer_set(c, 0, infer_in(c, 0)->elem, &out);
  return true;
}

bool infer_concat(InferCtx *c) {
  Shape out = {.rank = -1};
  int64_t axis_attr = ir_op_attr_int(c->op, "axis", 0);
  int32_t axis = -1;
  int64_t total = 0;
  bool total_known = true;
  for (uint32_t i = 0; i < c->op->noperands; i++) {
    Shape s;
    if (!infer_in_shape(c, i, &s)) continue;
    if (s.rank < 0) {
      total_known = false;
      continue;
    }
    if (out.rank < 0) {
      if (!infer_axis(c, axis_attr, s.rank, &axis, "axis")) return false;
      out = s;
      total = 0;
    } else if (s.rank != out.rank) {
      return infer_fail(c, "operand %u has rank %d, operand 0 rank %d", i, (int)s.rank, (int)out.rank);
    } else {
      for (int32_t k = 0; k < s.rank; k++) {
        if (k == axis) continue;
        if (s.d[k].size >= 0 && out.d[k].size >= 0 && s.d[k].size != out.d[k].size)
          return infer_fail(c, "operand %u has dim %d = %lld, operand 0 %lld", i, (int)k, (long long)s.d[k].size,
                            (long long)out.d[k].size);
        out.d[k] = meet(out.d[k], s.d[k]);
      }
    }
    if (s.d[axis].size >= 0) total += s.d[axis].size;
    else total_known = false;
  }
  if (out.rank >= 0) out.d[axis] = total_known ? infer_static(total) : infer_dyn();
  /* One operand: its dim along the axis, symbol included. */
  if (out.rank >= 0 && c->op->noperands == 1) {
    Shape s;
    infer_in_shape(c, 0, &s);
    out.d[axis] = s.d[axis];
  }
  infer_set(c, 0, infer_in(c, 0)->elem, &out);
  return true;
}

/* Product of dims [lo, hi): static, a lone symbol among 1s, or dynamic. */
static IrDim dims_product(const Shape *s, int32_t lo, int32_t hi) {
  int64_t p = 1;
  const char *sym = NULL;
  int nsym = 0;
  for (int32_t i = lo; i < hi; i++) {
    if (s->d[i].size >= 0) p *= s->d[i].size;
    else if (s->d[i].sym) sym = s->d[i].sym, nsym++;
    else return infer_dyn();
  }
  if (nsym == 0) return infer_static(p);
  if (nsym == 1 && p == 1) return (IrDim){-1, sym};
  return infer_dyn();
}

bool infer_flatten(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  out.rank = 2;
  if (in.rank < 0) {
    all_dynamic(&out, 2);
  } else {
    int64_t a = ir_op_attr_int(c->op, "axis", 1);
    if (a < -(int64_t)in.rank || a > in.rank) return infer_fail(c, "axis %lld is out of range for rank %d", (long long)a, (int)in.rank);
    int32_t axis = (int32_t)(a < 0 ? a + in.rank : a);
    out.d[0] = dims_product(&in, 0, axis);
    out.d[1] = dims_product(&in, axis, in.rank);
  }
  infer_set(c, 0, infer_in(c, 0)->elem, &out);
  return true;
}

bool infer_squeeze(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  int64_t axes[INFER_MAX_RANK];
  int n = 0;
  bool have_axes = infer_in(c, 1) != NULL;
  if (have_axes && !infer_const_ints(c, 1, axes, &n, INFER_MAX_RANK)) {
    out.rank = -1;
    infer_set(c, 0, e, &out);
    return true;
  }
  if (in.rank < 0) {
    out.rank = -1;
    infer_set(c, 0, e, &out);
    return true;
  }
  bool drop[INFER_MAX_RANK] = {0};
  if (have_axes) {
    for (int i = 0; i < n; i++) {
      int32_t a;
      if (!infer_axis(c, axes[i], in.rank, &a, "axis")) return false;
      if (in.d[a].size >= 0 && in.d[a].size != 1) return infer_fail(c, "cannot squeeze dim %d of size %lld", (int)a, (long long)in.d[a].size);
      drop[a] = true;
    }
  } else {
    for (int32_t i = 0; i < in.rank; i++) {
      if (in.d[i].size < 0) {
        out.rank = -1; /* which dims are 1 is unknown */
        infer_set(c, 0, e, &out);
        return true;
      }
      drop[i] = in.d[i].size == 1;
    }
  }
  out.rank = 0;
  for (int32_t i = 0; i < in.rank; i++)
    if (!drop[i]) out.d[out.rank++] = in.d[i];
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_unsqueeze(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  int64_t axes[INFER_MAX_RANK];
  int n = 0;
  if (in.rank < 0 || !infer_const_ints(c, 1, axes, &n, INFER_MAX_RANK)) {
    out.rank = -1;
    if (in.rank >= 0 && infer_in(c, 1) && infer_in(c, 1)->rank == 1 && infer_in(c, 1)->dims[0].size >= 0)
      all_dynamic(&out, (int64_t)in.rank + infer_in(c, 1)->dims[0].size);
    infer_set(c, 0, e, &out);
    return true;
  }
  int32_t r = in.rank + n;
  if (r > INFER_MAX_RANK) return infer_fail(c, "rank %d is too large", (int)r);
  bool ins[INFER_MAX_RANK] = {0};
  for (int i = 0; i < n; i++) {
    int32_t a;
    if (!infer_axis(c, axes[i], r, &a, "axis")) return false;
    if (ins[a]) return infer_fail(c, "axis %d is repeated", (int)a);
    ins[a] = true;
  }
  out.rank = r;
  for (int32_t i = 0, k = 0; i < r; i++) out.d[i] = ins[i] ? infer_static(1) : in.d[k++];
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_shape_op(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  if (c->op->kind == IR_OP_SIZE) {
    out.rank = 0;
  } else if (in.rank < 0) {
    all_dynamic(&out, 1);
  } else {
    int64_t r = in.rank, s = ir_op_attr_int(c->op, "start", 0), e = ir_op_attr_int(c->op, "end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    out.rank = 1;
    out.d[0] = infer_static(e > s ? e - s : 0);
  }
  infer_set(c, 0, IR_ELEM_I64, &out);
  return true;
}

bool infer_gather(InferCtx *c) {
  Shape data, idx, out;
  infer_shape_of(infer_in(c, 0), &data);
  infer_shape_of(infer_in(c, 1), &idx);
  IrElem e = infer_in(c, 0)->elem;
  out.rank = -1;
  if (c->op->kind == IR_OP_GATHER_ELEMENTS) {
    out = idx;
  } else if (c->op->kind == IR_OP_GATHER_ND) {
    int64_t b = ir_op_attr_int(c->op, "batch_dims", 0);
    if (data.rank >= 0 && idx.rank >= 1 && idx.d[idx.rank - 1].size >= 0) {
      int64_t k = idx.d[idx.rank - 1].size;
      if (b + k > data.rank) return infer_fail(c, "indices address %lld dims of a rank-%d input", (long long)(b + k), (int)data.rank);
      out.rank = 0;
      for (int32_t i = 0; i < idx.rank - 1; i++) out.d[out.rank++] = idx.d[i];
      for (int64_t i = b + k; i < data.rank; i++) out.d[out.rank++] = data.d[i];
    }
  } else if (data.rank >= 0 && idx.rank >= 0) {
    int32_t axis;
    if (data.rank == 0) return infer_fail(c, "cannot gather from a scalar");
    if (!infer_axis(c, ir_op_attr_int(c->op, "axis", 0), data.rank, &axis, "axis")) return false;
    if (data.rank - 1 + idx.rank > INFER_MAX_RANK) return infer_fail(c, "rank is too large");
    out.rank = 0;
    for (int32_t i = 0; i < axis; i++) out.d[out.rank++] = data.d[i];
    for (int32_t i = 0; i < idx.rank; i++) out.d[out.rank++] = idx.d[i];
    for (int32_t i = axis + 1; i < data.rank; i++) out.d[out.rank++] = data.d[i];
  }
  infer_set(c, 0, e, &out);
  return true;
}

/* Elements a Slice keeps along one axis of static size `dim` (ONNX clamping
 * rules). */
static int64_t slice_count(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = start < 0 ? 0 : start > dim ? dim : start;
    end = end < 0 ? 0 : end > dim ? dim : end;
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
  end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
  return start > end ? (start - end + (-step) - 1) / (-step) : 0;
}

/* Fully known ints of operand i as shape values; false when absent or
 * unknown. */
static bool svals_of(const InferCtx *c, uint32_t i, SVal *out, int *n) {
  return i < c->op->noperands && c->op->operands[i].value &&
         infer_shape_value(c->op->operands[i].value, out, n, 0);
}

static bool sv_is_int(SVal s) { return s.known && !s.sym; }

bool infer_slice(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  SVal st[INFER_MAX_SV], en[INFER_MAX_SV];
  int64_t ax[INFER_MAX_RANK], sp[INFER_MAX_RANK];
  int ns, ne, nx, np;
  if (in.rank < 0) {
    out.rank = -1;
    infer_set(c, 0, e, &out);
    return true;
  }
  out = in;
  bool have_axes = infer_in(c, 3) != NULL, have_steps = infer_in(c, 4) != NULL;
  bool axes_known = !have_axes || infer_const_ints(c, 3, ax, &nx, INFER_MAX_RANK);
  if (!svals_of(c, 1, st, &ns) || !svals_of(c, 2, en, &ne) || !axes_known ||
      (have_steps && !infer_const_ints(c, 4, sp, &np, INFER_MAX_RANK))) {
    if (axes_known && have_axes) {
      for (int i = 0; i < nx; i++) {
        int32_t a;
        if (!infer_axis(c, ax[i], in.rank, &a, "axis")) return false;
        out.d[a] = infer_dyn();
      }
    } else {
      all_dynamic(&out, in.rank);
    }
    infer_set(c, 0, e, &out);
    return true;
  }
  if (ns != ne) return infer_fail(c, "starts has %d entries, ends %d", ns, ne);
  if (!have_axes) {
    nx = ns;
    for (int i = 0; i < ns; i++) ax[i] = i;
  }
  if (!have_steps) {
    np = ns;
    for (int i = 0; i < ns; i++) sp[i] = 1;
  }
  if (nx != ns || np != ns) return infer_fail(c, "starts, ends, axes and steps differ in length");
  for (int i = 0; i < ns; i++) {
    int32_t a;
    if (!infer_axis(c, ax[i], in.rank, &a, "axis")) return false;
    if (sp[i] == 0) return infer_fail(c, "step is 0");
    IrDim d = in.d[a];
    if (sv_is_int(st[i]) && sv_is_int(en[i])) {
      if (d.size >= 0) out.d[a] = infer_static(slice_count(d.size, st[i].v, en[i].v, sp[i]));
      else if (st[i].v == 0 && sp[i] == 1 && en[i].v >= INT32_MAX) out.d[a] = d; /* the whole axis */
      else out.d[a] = infer_dyn();
    } else if (sv_is_int(st[i]) && st[i].v == 0 && sp[i] == 1 && en[i].sym) {
      /* [0, n) with n a symbolic size (x[:T]): n elements, assuming n does
       * not exceed the axis, as ONNX's own symbolic inference does. */
      out.d[a] = (IrDim){-1, en[i].sym};
    } else {
      out.d[a] = infer_dyn();
    }
  }
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_split(InferCtx *c) {
  Shape in;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  uint32_t nout = c->op->nresults;
  if (in.rank < 0) {
    for (uint32_t i = 0; i < nout; i++) infer_set(c, i, e, &in);
    return true;
  }
  int32_t axis;
  if (!infer_axis(c, ir_op_attr_int(c->op, "axis", 0), in.rank, &axis, "axis")) return false;
  int64_t sizes[256];
  int n = 0;
  IrDim d = in.d[axis];
  bool known = false;
  if (infer_in(c, 1)) {
    known = infer_const_ints(c, 1, sizes, &n, 256);
    if (known && (uint32_t)n != nout) return infer_fail(c, "split has %d sizes for %u outputs", n, nout);
    if (known && d.size >= 0) {
      int64_t sum = 0;
      for (int i = 0; i < n; i++) sum += sizes[i];
      if (sum != d.size) return infer_fail(c, "split sizes add up to %lld, the axis has %lld", (long long)sum, (long long)d.size);
    }
  } else if (d.size >= 0 && nout > 0 && nout <= 256) {
    /* Equal parts; since opset 18 the last may be smaller. */
    int64_t chunk = (d.size + nout - 1) / nout;
    for (uint32_t i = 0; i < nout; i++) {
      int64_t left = d.size - chunk * i;
      sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
    }
    known = true;
  }
  for (uint32_t i = 0; i < nout; i++) {
    Shape s = in;
    s.d[axis] = known ? infer_static(sizes[i]) : infer_dyn();
    infer_set(c, i, e, &s);
  }
  return true;
}

bool infer_expand(InferCtx *c) {
  Shape in, target, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  SVal sv[INFER_MAX_SV];
  int n;
  if (!infer_shape_value(c->op->operands[1].value, sv, &n, 0)) {
    const IrType *st = infer_in(c, 1);
    out.rank = -1;
    if (st->rank == 1 && st->dims[0].size >= 0 && in.rank >= 0) {
      int64_t r = st->dims[0].size;
      all_dynamic(&out, r > in.rank ? r : in.rank);
    }
    infer_set(c, 0, e, &out);
    return true;
  }
  target.rank = n;
  for (int i = 0; i < n; i++) target.d[i] = dim_of_sval(sv[i]);
  if (!ir_infer_broadcast(in.d, in.rank, target.d, target.rank, out.d, &out.rank))
    return infer_fail(c, "the input does not broadcast to the requested shape");
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_pad(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  out = in;
  int64_t pads[2 * INFER_MAX_RANK], axes[INFER_MAX_RANK];
  int np, na;
  if (in.rank < 0 || !infer_const_ints(c, 1, pads, &np, 2 * INFER_MAX_RANK)) {
    if (in.rank >= 0) all_dynamic(&out, in.rank);
    infer_set(c, 0, e, &out);
    return true;
  }
  if (infer_in(c, 3)) {
    if (!infer_const_ints(c, 3, axes, &na, INFER_MAX_RANK)) {
      all_dynamic(&out, in.rank);
      infer_set(c, 0, e, &out);
      return true;
    }
  } else {
    na = in.rank;
    for (int i = 0; i < na; i++) axes[i] = i;
  }
  if (np != 2 * na) return infer_fail(c, "pads has %d entries for %d axes", np, na);
  for (int i = 0; i < na; i++) {
    int32_t a;
    if (!infer_axis(c, axes[i], in.rank, &a, "axis")) return false;
    if (in.d[a].size >= 0) {
      int64_t s = in.d[a].size + pads[i] + pads[i + na];
      if (s < 0) return infer_fail(c, "padding makes dim %d negative", (int)a);
      out.d[a] = infer_static(s);
    } else if (pads[i] != 0 || pads[i + na] != 0) {
      out.d[a] = infer_dyn();
    }
  }
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_resize(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  if (in.rank < 0) {
    infer_set(c, 0, e, &in);
    return true;
  }
  out = in;
  int64_t axes[INFER_MAX_RANK];
  int na = in.rank;
  const IrAttr *aa = ir_op_attr(c->op, "axes");
  if (aa) {
    na = (int)aa->u.ints.n;
    if (na > INFER_MAX_RANK) return infer_fail(c, "too many axes");
    for (int i = 0; i < na; i++) {
      int32_t a;
      if (!infer_axis(c, aa->u.ints.v[i], in.rank, &a, "axis")) return false;
      axes[i] = a;
    }
  } else {
    for (int i = 0; i < na; i++) axes[i] = i;
  }
  int64_t sizes[INFER_MAX_RANK];
  double scales[INFER_MAX_RANK];
  int n;
  bool policy = strcmp(ir_op_attr_string(c->op, "keep_aspect_ratio_policy", "stretch"), "stretch") != 0;
  if (infer_in(c, 3) && infer_const_ints(c, 3, sizes, &n, INFER_MAX_RANK) && n > 0 && !policy) {
    if (n != na) return infer_fail(c, "sizes has %d entries for %d axes", n, na);
    for (int i = 0; i < na; i++) out.d[axes[i]] = infer_static(sizes[i]);
  } else if (infer_in(c, 2) && infer_const_floats(c, 2, scales, &n, INFER_MAX_RANK) && n > 0) {
    if (n != na) return infer_fail(c, "scales has %d entries for %d axes", n, na);
    for (int i = 0; i < na; i++) {
      IrDim d = in.d[axes[i]];
      if (scales[i] == 1.0) continue;
      out.d[axes[i]] = d.size >= 0 ? infer_static((int64_t)floor((double)d.size * scales[i])) : infer_dyn();
    }
  } else {
    for (int i = 0; i < na; i++) out.d[axes[i]] = infer_dyn();
  }
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_tile(InferCtx *c) {
  Shape in, out;
  infer_shape_of(infer_in(c, 0), &in);
  IrElem e = infer_in(c, 0)->elem;
  int64_t rep[INFER_MAX_RANK];
  int n;
  out = in;
  if (in.rank >= 0 && infer_const_ints(c, 1, rep, &n, INFER_MAX_RANK)) {
    if (n != in.rank) return infer_fail(c, "repeats has %d entries for a rank-%d input", n, (int)in.rank);
    for (int32_t i = 0; i < in.rank; i++) {
      if (rep[i] < 0) return infer_fail(c, "repeat %lld is negative", (long long)rep[i]);
      if (rep[i] == 1) continue;
      out.d[i] = in.d[i].size >= 0 ? infer_static(in.d[i].size * rep[i]) : infer_dyn();
    }
  } else if (in.rank >= 0) {
    all_dynamic(&out, in.rank);
  }
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_range(InferCtx *c) {
  Shape out = {.rank = 1};
  out.d[0] = infer_dyn();
  IrElem e = infer_in(c, 0)->elem;
  double v[3];
  for (int i = 0; i < 3; i++) {
    const IrType *t = infer_in(c, (uint32_t)i);
    if (!t) return infer_fail(c, "operand %d is absent", i);
    /* A scalar, or one element (1-D of size 1, or unknown size: checked
     * when it runs), as exporters often write it. */
    if (t->rank > 1 || (t->rank == 1 && t->dims[0].size >= 0 && t->dims[0].size != 1))
      return infer_fail(c, "operand %d is not a scalar", i);
  }
  bool known = true;
  for (uint32_t i = 0; i < 3 && known; i++) {
    int64_t iv[1];
    int n;
    if (ir_elem_is_float(e)) known = infer_const_floats(c, i, &v[i], &n, 1) && n == 1;
    else if ((known = infer_const_ints(c, i, iv, &n, 1) && n == 1)) v[i] = (double)iv[0];
  }
  if (known) {
    if (v[2] == 0) return infer_fail(c, "delta is 0");
    double cnt = ceil((v[1] - v[0]) / v[2]);
    out.d[0] = infer_static(cnt > 0 ? (int64_t)cnt : 0);
  }
  infer_set(c, 0, e, &out);
  return true;
}

bool infer_constant_of_shape(InferCtx *c) {
  const IrAttr *a = ir_op_attr(c->op, "value");
  IrElem e = a && a->kind == IR_ATTR_TENSOR ? a->u.tensor->type->elem : IR_ELEM_F32;
  SVal sv[INFER_MAX_SV];
  int n;
  Shape out = {.rank = -1};
  if (infer_shape_value(c->op->operands[0].value, sv, &n, 0)) {
    out.rank = n;
    for (int i = 0; i < n; i++) {
      if (sv[i].known && !sv[i].sym && sv[i].v < 0) return infer_fail(c, "shape entry %d is negative", i);
      out.d[i] = dim_of_sval(sv[i]);
    }
  } else {
    const IrType *st = infer_in(c, 0);
    if (st->rank == 1 && st->dims[0].size >= 0 && st->dims[0].size <= INFER_MAX_RANK)
      all_dynamic(&out, (int32_t)st->dims[0].size);
  }
  infer_set(c, 0, e, &out);
  return true;
}

/* Compress, DepthToSpace, SpaceToDepth, EyeLike, NonZero, OneHot, TopK,
 * Unique. */
bool infer_misc_data(InferCtx *c) {
  Shape in, out;
  const IrType *t0 = infer_in(c, 0);
  infer_shape_of(t0, &in);
  IrElem e = t0->elem;
  out = in;
  switch (c->op->kind) {
  case IR_OP_COMPRESS: {
    const IrAttr *a = ir_op_attr(c->op, "axis");
    if (!a) {
      all_dynamic(&out, 1);
    } else if (in.rank >= 0) {
      int32_t ax;
      if (!infer_axis(c, a->u.i, in.rank, &ax, "axis")) return false;
      out.d[ax] = infer_dyn();
    }
    break;
  }
  case IR_OP_DEPTH_TO_SPACE:
  case IR_OP_SPACE_TO_DEPTH: {
    int64_t b = ir_op_attr_int(c->op, "blocksize", 1);
    if (b <= 0) return infer_fail(c, "blocksize %lld is not positive", (long long)b);
    if (in.rank >= 0 && in.rank != 4) return infer_fail(c, "the input must have rank 4, not %d", (int)in.rank);
    if (in.rank < 0) break;
    bool d2s = c->op->kind == IR_OP_DEPTH_TO_SPACE;
    IrDim ch = in.d[1];
    if (ch.size >= 0) {
      if (d2s && ch.size % (b * b)) return infer_fail(c, "channels %lld are not divisible by blocksize^2", (long long)ch.size);
      out.d[1] = infer_static(d2s ? ch.size / (b * b) : ch.size * b * b);
    } else if (b != 1) {
      out.d[1] = infer_dyn();
    }
    for (int i = 2; i < 4; i++) {
      IrDim d = in.d[i];
      if (d.size >= 0) {
        if (!d2s && d.size % b) return infer_fail(c, "dim %d (%lld) is not divisible by the blocksize", i, (long long)d.size);
        out.d[i] = infer_static(d2s ? d.size * b : d.size / b);
      } else if (b != 1) {
        out.d[i] = infer_dyn();
      }
    }
    break;
  }
  case IR_OP_EYE_LIKE: {
    const IrAttr *a = ir_op_attr(c->op, "dtype");
    if (a) {
      bool found = false;
      for (int k = 0; k < IR_ELEM_COUNT && !found; k++)
        if (a->u.i != 0 && ir_elem_info[k].onnx == a->u.i) e = (IrElem)k, found = true;
      if (!found) return infer_fail(c, "dtype %lld names no supported element type", (long long)a->u.i);
    }
    if (in.rank >= 0 && in.rank != 2) return infer_fail(c, "the input must have rank 2");
    break;
  }
  case IR_OP_NON_ZERO:
    out.rank = 2;
    out.d[0] = in.rank >= 0 ? infer_static(in.rank) : infer_dyn();
    out.d[1] = infer_dyn();
    e = IR_ELEM_I64;
    break;
  case IR_OP_ONE_HOT: {
    e = infer_in(c, 2)->elem;
    if (in.rank < 0) break;
    int64_t depth[1];
    int n;
    int32_t ax;
    if (!infer_axis(c, ir_op_attr_int(c->op, "axis", -1), in.rank + 1, &ax, "axis")) return false;
    IrDim dd = infer_dyn();
    double fd[1];
    if (infer_const_ints(c, 1, depth, &n, 1) && n == 1) dd = infer_static(depth[0]);
    else if (infer_const_floats(c, 1, fd, &n, 1) && n == 1) dd = infer_static((int64_t)fd[0]);
    out.rank = in.rank + 1;
    for (int32_t i = 0, k = 0; i < out.rank; i++) out.d[i] = i == ax ? dd : in.d[k++];
    break;
  }
  case IR_OP_UNIQUE: {
    /* Y: the unique elements (1-D) or slices along axis; indices and
     * counts: 1-D i64 of data-dependent length; inverse_indices: one per
     * element (no axis) or per index of the axis. */
    const IrAttr *a = ir_op_attr(c->op, "axis");
    Shape v, inv;
    all_dynamic(&v, 1);
    all_dynamic(&inv, 1);
    if (!a) {
      int64_t n = infer_numel(&in);
      if (n >= 0) inv.d[0] = infer_static(n);
      all_dynamic(&out, 1);
    } else if (in.rank >= 0) {
      int32_t ax;
      if (!infer_axis(c, a->u.i, in.rank, &ax, "axis")) return false;
      inv.d[0] = in.d[ax];
      out.d[ax] = infer_dyn();
    }
    infer_set(c, 0, e, &out);
    for (uint32_t i = 1; i < c->op->nresults; i++) infer_set(c, i, IR_ELEM_I64, i == 2 ? &inv : &v);
    return true;
  }
  case IR_OP_TOP_K: {
    if (in.rank >= 0) {
      int32_t ax;
      if (!infer_axis(c, ir_op_attr_int(c->op, "axis", -1), in.rank, &ax, "axis")) return false;
      int64_t k[1];
      int n;
      out.d[ax] = infer_const_ints(c, 1, k, &n, 1) && n == 1 ? infer_static(k[0]) : infer_dyn();
    }
    infer_set(c, 0, e, &out);
    infer_set(c, 1, IR_ELEM_I64, &out);
    return true;
  }
  default:
    break;
  }
  infer_set(c, 0, e, &out);
  return true;
}
