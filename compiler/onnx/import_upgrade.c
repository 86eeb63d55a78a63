/* Opset upgrades at import: the op table describes each op in its newest
 * ONNX form, so nodes from older opsets are rewritten on the way in
 * (attributes that later became inputs turn into Constant operands,
 * Upsample becomes Resize, training-only attributes are dropped). Forms
 * with no faithful rewrite are refused. See docs/onnx-import.md. */
#include <math.h>
#include <string.h>

#include "onnx/import_internal.h"
#include "quant/floatfmt.h"

void onnx_node_add_input(OnnxNode *n, IrValue *v) {
  if (n->nin == n->in_cap) {
    n->in_cap = n->in_cap ? n->in_cap * 2 : 8;
    n->ins = xrealloc(n->ins, n->in_cap * sizeof *n->ins);
  }
  n->ins[n->nin++] = v;
}

void onnx_node_add_attr(OnnxNode *n, const IrAttr *a) {
  if (n->nattrs == n->attr_cap) {
    n->attr_cap = n->attr_cap ? n->attr_cap * 2 : 8;
    n->attrs = xrealloc(n->attrs, n->attr_cap * sizeof *n->attrs);
  }
  n->attrs[n->nattrs++] = *a;
}

IrValue *onnx_emit_const(OnnxCtx *c, IrRegion *r, IrConst *k, const char *value_name) {
  IrOp *op = ir_op_create(c->m, IR_OP_CONSTANT, NULL, 0, &k->type, 1, 0);
  IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = k};
  ir_op_set_attr(c->m, op, &a);
  if (value_name) ir_value_set_name(c->m, op->results[0], value_name);
  ir_region_append(r, op);
  return op->results[0];
}

IrValue *onnx_emit_i64(OnnxCtx *c, IrRegion *r, const char *hint, const int64_t *v, int64_t n, bool scalar) {
  int64_t dims[1] = {n};
  const IrType *t = ir_type_static(c->m, IR_ELEM_I64, scalar ? 0 : 1, dims);
  const char *name = onnx_pool_name(c, hint);
  IrConst *k = ir_const_create(c->m, name, t, v, (size_t)n * 8, false);
  return onnx_emit_const(c, r, k, name);
}

/* A scalar of element type e holding v (floats rounded to nearest even,
 * integers truncated toward zero). */
static IrValue *emit_scalar(OnnxCtx *c, IrRegion *r, const char *hint, IrElem e, double v) {
  uint64_t bits = 0;
  if (e == IR_ELEM_F32) {
    float f = (float)v;
    uint32_t b;
    memcpy(&b, &f, 4);
    bits = b;
  } else if (e == IR_ELEM_F64) {
    memcpy(&bits, &v, 8);
  } else if (ir_elem_is_float(e)) {
    if (!q_float_encode(e, v, Q_OVERFLOW_SATURATE, &bits)) bits = 0;
  } else {
    int64_t lo, hi;
    ir_elem_int_range(e, &lo, &hi);
    double t = isnan(v) ? 0 : trunc(v);
    int64_t iv = t < (double)lo ? lo : t > (double)hi ? hi : (int64_t)t;
    bits = (uint64_t)iv;
  }
  uint8_t buf[8];
  ir_elem_store_bits(e, buf, 0, bits);
  const IrType *t = ir_type_static(c->m, e, 0, NULL);
  IrConst *k = ir_const_create(c->m, onnx_pool_name(c, hint), t, buf, (size_t)ir_elem_bytes(e), false);
  return onnx_emit_const(c, r, k, k->name);
}

static int find_attr(const Onnx__NodeProto *node, const char *name) {
  for (size_t i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp(node->attribute[i]->name, name) == 0) return (int)i;
  return -1;
}

/* Takes an INTS attribute as a new i64 operand at position `pos` (padding
 * with `none` up to it). Absent: nothing happens. */
static void ints_to_input(OnnxCtx *c, IrRegion *r, const Onnx__NodeProto *node, OnnxNode *n, bool *consumed,
                          const char *name, uint32_t pos) {
  int i = find_attr(node, name);
  if (i < 0) return;
  consumed[i] = true;
  const Onnx__AttributeProto *a = node->attribute[i];
  while (n->nin < pos) onnx_node_add_input(n, NULL);
  onnx_node_add_input(n, onnx_emit_i64(c, r, name, a->ints, (int64_t)a->n_ints, false));
}

static void drop(const Onnx__NodeProto *node, bool *consumed, const char *name) {
  int i = find_attr(node, name);
  if (i >= 0) consumed[i] = true;
}

static IrElem elem_of(const IrValue *v) { return v && v->type ? v->type->elem : IR_ELEM_F32; }

static void set_string(OnnxNode *n, const char *name, const char *s) {
  IrAttr a = {.name = name, .kind = IR_ATTR_STRING, .u.s = s};
  onnx_node_add_attr(n, &a);
}

bool onnx_upgrade(OnnxCtx *c, IrRegion *r, const Onnx__NodeProto *node, const char *desc, OnnxNode *n,
                  bool *consumed) {
  int64_t opset = c->opset;
  const char *op_type = node->op_type;
  IrOpKind k = n->kind;
  if (k == IR_OP_SCAN && opset < 9) {
    diag_error(c->d, onnx_loc(c), "%s: Scan before opset 9 (with sequence_lens) is not supported", desc);
    return false;
  }
  /* Every rewrite below works on input #0; a node without one is left for
   * the arity check to report. */
  if (n->nin == 0 || !n->ins[0]) return true;

  if (strcmp(op_type, "Upsample") == 0) {
    /* Upsample(X, scales) == Resize(X, none, scales) with asymmetric
     * coordinates; nearest picks floor(i / scale). */
    int i = find_attr(node, "scales");
    if (n->nin > 2) n->nin = 2;
    if (i >= 0) {
      consumed[i] = true;
      const Onnx__AttributeProto *a = node->attribute[i];
      int64_t dims[1] = {(int64_t)a->n_floats};
      const IrType *t = ir_type_static(c->m, IR_ELEM_F32, 1, dims);
      IrConst *kc = ir_const_create(c->m, onnx_pool_name(c, "scales"), t, a->floats, a->n_floats * 4, false);
      n->nin = 1;
      onnx_node_add_input(n, onnx_emit_const(c, r, kc, kc->name));
    }
    if (n->nin < 2) {
      diag_error(c->d, onnx_loc(c), "%s: Upsample without scales", desc);
      return false;
    }
    IrValue *scales = n->ins[1];
    n->ins[1] = NULL;
    onnx_node_add_input(n, scales);
    int m = find_attr(node, "mode");
    if (m >= 0 && node->attribute[m]->has_s && node->attribute[m]->s.len == 8 &&
        memcmp(node->attribute[m]->s.data, "bilinear", 8) == 0) {
      consumed[m] = true;
      set_string(n, "mode", "linear");
    }
    set_string(n, "coordinate_transformation_mode", "asymmetric");
    set_string(n, "nearest_mode", "floor");
    return true;
  }
  if (k == IR_OP_RESIZE && opset < 11) {
    /* Opset 10 Resize(X, scales): asymmetric coordinates, like Upsample. */
    if (n->nin == 2) {
      IrValue *scales = n->ins[1];
      n->ins[1] = NULL;
      onnx_node_add_input(n, scales);
    }
    set_string(n, "coordinate_transformation_mode", "asymmetric");
    set_string(n, "nearest_mode", "floor");
    return true;
  }
  if ((k == IR_OP_SQUEEZE || k == IR_OP_UNSQUEEZE) && opset < 13) {
    ints_to_input(c, r, node, n, consumed, "axes", 1);
  } else if (k == IR_OP_SPLIT && opset < 13) {
    ints_to_input(c, r, node, n, consumed, "split", 1);
  } else if (ops_is_reduce(k) && (opset < 18 && !(k == IR_OP_REDUCE_SUM && opset >= 13))) {
    ints_to_input(c, r, node, n, consumed, "axes", 1);
  } else if (k == IR_OP_SLICE && opset < 10) {
    if (find_attr(node, "starts") < 0 || find_attr(node, "ends") < 0) {
      diag_error(c->d, onnx_loc(c), "%s: Slice needs 'starts' and 'ends'", desc);
      return false;
    }
    ints_to_input(c, r, node, n, consumed, "starts", 1);
    ints_to_input(c, r, node, n, consumed, "ends", 2);
    ints_to_input(c, r, node, n, consumed, "axes", 3);
  } else if (k == IR_OP_RESHAPE && opset < 5) {
    ints_to_input(c, r, node, n, consumed, "shape", 1);
  } else if (k == IR_OP_PAD && opset < 11) {
    int v = find_attr(node, "value");
    ints_to_input(c, r, node, n, consumed, "pads", 1);
    if (v >= 0) {
      consumed[v] = true;
      onnx_node_add_input(n, emit_scalar(c, r, "pad_value", elem_of(n->ins[0]), node->attribute[v]->f));
    }
  } else if (k == IR_OP_CLIP && opset < 11) {
    int lo = find_attr(node, "min"), hi = find_attr(node, "max");
    IrElem e = elem_of(n->ins[0]);
    onnx_node_add_input(n, lo < 0 ? NULL : emit_scalar(c, r, "clip_min", e, node->attribute[lo]->f));
    onnx_node_add_input(n, hi < 0 ? NULL : emit_scalar(c, r, "clip_max", e, node->attribute[hi]->f));
    if (lo >= 0) consumed[lo] = true;
    if (hi >= 0) consumed[hi] = true;
    if (lo < 0 && hi < 0) n->nin = 1;
    else if (hi < 0) n->nin = 2;
  } else if (k == IR_OP_TOP_K && opset < 10) {
    int i = find_attr(node, "k");
    if (i >= 0) {
      consumed[i] = true;
      int64_t kv = node->attribute[i]->i;
      onnx_node_add_input(n, onnx_emit_i64(c, r, "k", &kv, 1, false));
    }
  } else if ((k == IR_OP_SOFTMAX || k == IR_OP_LOG_SOFTMAX || k == IR_OP_HARDMAX) && opset < 13) {
    /* Before opset 13 these flatten the input at `axis` into 2-D; that is
     * the newer per-axis form only when axis is the last one. */
    int i = find_attr(node, "axis");
    int64_t axis = i >= 0 ? node->attribute[i]->i : 1;
    int32_t rank = n->nin ? n->ins[0]->type->rank : -1;
    bool last = axis == -1 || (rank >= 0 && (axis == rank - 1 || axis + rank == rank - 1));
    if (!last) {
      diag_error(c->d, onnx_loc(c),
                 "%s: %s before opset 13 over axis %lld of a rank-%d input (flattening form) is not supported",
                 desc, op_type, (long long)axis, (int)rank);
      return false;
    }
  }
  if (k == IR_OP_DROPOUT && opset < 12) {
    drop(node, consumed, "ratio");
  }
  if (k == IR_OP_DROPOUT || k == IR_OP_BATCH_NORM) {
    drop(node, consumed, "is_test");
    drop(node, consumed, "consumed_inputs");
  }
  if (k == IR_OP_BATCH_NORM) {
    int i = find_attr(node, "spatial");
    if (i >= 0) {
      if (node->attribute[i]->i != 1) {
        diag_error(c->d, onnx_loc(c), "%s: BatchNormalization with spatial=0 is not supported", desc);
        return false;
      }
      consumed[i] = true;
    }
  }
  if (k == IR_OP_GEMM && opset < 7) drop(node, consumed, "broadcast");
  return true;
}
