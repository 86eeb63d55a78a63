/* Which opset an exported model must import. The importer rewrites every
 * node into its op's newest form (import_upgrade.c), so an op is valid in an
 * older opset only if that form existed there: the version each op was
 * introduced in, the version its current inputs and attributes appeared in
 * (the inverse of import_upgrade.c's rules) and the version that admitted
 * the element types it uses (ONNX Operators.md, QuantizeLinear and
 * DequantizeLinear type constraints of opsets 13-25). export.c raises the
 * module's own opset to the largest of these. Tested by
 * test/lit/onnx/export-{int4,fp8,attrs,models}.qir and test/unit/test_export.c. */
#include <string.h>

#include "onnx/export_internal.h"

/* Ops introduced after opset 1, with their first version. */
static const struct {
  IrOpKind kind;
  int since;
} introduced[] = {
    {IR_OP_ERF, 9},           {IR_OP_HARD_SWISH, 14},         {IR_OP_LAYER_NORM, 17},
    {IR_OP_EXPAND, 8},        {IR_OP_WHERE, 9},               {IR_OP_RESIZE, 11},
    {IR_OP_QUANTIZE_LINEAR, 10}, {IR_OP_DEQUANTIZE_LINEAR, 10}, {IR_OP_ACOS, 7},
    {IR_OP_ACOSH, 9},         {IR_OP_ASIN, 7},                {IR_OP_ASINH, 9},
    {IR_OP_ATAN, 7},          {IR_OP_ATANH, 9},               {IR_OP_BIT_SHIFT, 11},
    {IR_OP_CELU, 12},         {IR_OP_COS, 7},                 {IR_OP_COSH, 9},
    {IR_OP_GELU, 20},         {IR_OP_GREATER_OR_EQUAL, 12},   {IR_OP_IS_INF, 10},
    {IR_OP_IS_NAN, 9},        {IR_OP_LESS_OR_EQUAL, 12},      {IR_OP_MISH, 18},
    {IR_OP_MOD, 10},          {IR_OP_ROUND, 11},              {IR_OP_SHRINK, 9},
    {IR_OP_SIGN, 9},          {IR_OP_SIN, 7},                 {IR_OP_SINH, 9},
    {IR_OP_TAN, 7},           {IR_OP_THRESHOLDED_RELU, 10},   {IR_OP_GROUP_NORM, 18},
    {IR_OP_MVN, 9},           {IR_OP_BIT_CAST, 26},           {IR_OP_CAST_LIKE, 15},
    {IR_OP_COMPRESS, 9},      {IR_OP_CONSTANT_OF_SHAPE, 9},   {IR_OP_CUM_PROD, 26},
    {IR_OP_CUM_SUM, 11},      {IR_OP_EYE_LIKE, 9},            {IR_OP_GATHER_ELEMENTS, 11},
    {IR_OP_GATHER_ND, 11},    {IR_OP_NON_ZERO, 9},            {IR_OP_ONE_HOT, 9},
    {IR_OP_RANGE, 11},        {IR_OP_REVERSE_SEQUENCE, 10},   {IR_OP_SCATTER, 9},
    {IR_OP_SCATTER_ELEMENTS, 11}, {IR_OP_SCATTER_ND, 11},     {IR_OP_TENSOR_SCATTER, 24},
    {IR_OP_TRILU, 14},        {IR_OP_UNIQUE, 11},             {IR_OP_EINSUM, 12},
    {IR_OP_SCAN, 9},          {IR_OP_CONV_INTEGER, 10},       {IR_OP_DYNAMIC_QUANTIZE_LINEAR, 11},
    {IR_OP_MATMUL_INTEGER, 10}, {IR_OP_QLINEAR_CONV, 10},     {IR_OP_QLINEAR_MATMUL, 10},
    {IR_OP_RMS_NORM, 23},     {IR_OP_SWISH, 24},              {IR_OP_SLICE, 10}, /* inputs form */
    {IR_OP_TOP_K, 10},        {IR_OP_RESHAPE, 5},             {IR_OP_PAD, 11},
};

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static bool has_attr(const IrOp *op, const char *name) { return ir_op_attr(op, name) != NULL; }

int64_t onnx_export_elem_opset(IrElem e) {
  switch (e) {
  case IR_ELEM_BF16: return 13;
  case IR_ELEM_F8E4M3FN: case IR_ELEM_F8E4M3FNUZ: case IR_ELEM_F8E5M2: case IR_ELEM_F8E5M2FNUZ: return 19;
  case IR_ELEM_I4: case IR_ELEM_U4: return 21;
  case IR_ELEM_F4E2M1: return 23;
  case IR_ELEM_E8M0: return 24;
  case IR_ELEM_I2: case IR_ELEM_U2: return 25;
  default: return 1;
  }
}

/* QuantizeLinear / DequantizeLinear: the attribute set and the types of
 * their quantized operand (and scale) decide the version. */
static int64_t qdq_opset(const IrOp *op) {
  bool q = op->kind == IR_OP_QUANTIZE_LINEAR;
  int64_t v = 10;
  if (has_attr(op, "axis")) v = max64(v, 13);
  if (has_attr(op, "saturate")) v = max64(v, 19);
  if (has_attr(op, "block_size")) v = max64(v, 21);
  if (has_attr(op, "output_dtype")) v = max64(v, q ? 21 : 23);
  if (has_attr(op, "precision")) v = max64(v, 23);
  /* The integer side: Q's result and zero point, DQ's input and zero point. */
  const IrValue *codes = q ? op->results[0] : ir_op_operand(op, 0);
  IrElem ce = codes->type->elem;
  if (ce == IR_ELEM_I16 || ce == IR_ELEM_U16) v = max64(v, 21);
  v = max64(v, onnx_export_elem_opset(ce));
  const IrValue *scale = op->noperands > 1 ? ir_op_operand(op, 1) : NULL;
  if (scale) {
    IrElem se = scale->type->elem;
    if (se == IR_ELEM_F16 || se == IR_ELEM_BF16) v = max64(v, 19);
    if (se == IR_ELEM_E8M0) v = max64(v, 24);
  }
  /* A scale that is not a scalar (or 1-element) needs axis (13). */
  if (scale && scale->type->rank > 0 && ir_type_numel(scale->type) != 1) v = max64(v, 13);
  return v;
}

/* Softmax, LogSoftmax, Hardmax before 13 flatten at `axis` (default 1);
 * from 13 they work along `axis` (default -1). Both agree when an explicit
 * axis names the last dim, as the importer requires of the old form. */
static int64_t softmax_opset(const IrOp *op) {
  const IrAttr *a = ir_op_attr(op, "axis");
  int32_t rank = op->noperands ? ir_op_operand(op, 0)->type->rank : -1;
  if (a && a->kind == IR_ATTR_INT && (a->u.i == -1 || (rank > 0 && a->u.i == rank - 1))) return 1;
  return 13;
}

int64_t onnx_export_op_opset(const IrOp *op) {
  int64_t v = 1;
  for (size_t i = 0; i < sizeof introduced / sizeof introduced[0]; i++)
    if (introduced[i].kind == op->kind) v = introduced[i].since;
  switch (op->kind) {
  case IR_OP_SQUEEZE:
  case IR_OP_UNSQUEEZE:
    if (op->noperands > 1) v = max64(v, 13); /* axes became an input */
    break;
  case IR_OP_SPLIT:
    if (op->noperands > 1) v = max64(v, 13); /* split became an input */
    if (has_attr(op, "num_outputs")) v = max64(v, 18);
    break;
  case IR_OP_PAD:
    if (op->noperands > 3) v = max64(v, 18); /* axes input */
    break;
  case IR_OP_CLIP:
    if (op->noperands > 1) v = max64(v, 11); /* min/max became inputs */
    break;
  case IR_OP_TOP_K:
    if (has_attr(op, "largest") || has_attr(op, "sorted")) v = max64(v, 11);
    break;
  case IR_OP_RESIZE:
    if (has_attr(op, "antialias") || has_attr(op, "axes") || has_attr(op, "keep_aspect_ratio_policy"))
      v = max64(v, 18);
    break;
  case IR_OP_RESHAPE:
    if (has_attr(op, "allowzero")) v = max64(v, 14);
    break;
  case IR_OP_DROPOUT:
    if (op->noperands > 1 || has_attr(op, "seed")) v = max64(v, 12); /* ratio, training_mode inputs */
    break;
  case IR_OP_SOFTMAX:
  case IR_OP_LOG_SOFTMAX:
  case IR_OP_HARDMAX:
    v = max64(v, softmax_opset(op));
    break;
  case IR_OP_QUANTIZE_LINEAR:
  case IR_OP_DEQUANTIZE_LINEAR:
    v = max64(v, qdq_opset(op));
    break;
  case IR_OP_CAST:
    if (has_attr(op, "saturate")) v = max64(v, 19);
    break;
  case IR_OP_SHAPE:
    if (has_attr(op, "start") || has_attr(op, "end")) v = max64(v, 15);
    break;
  case IR_OP_ARG_MAX:
  case IR_OP_ARG_MIN:
    if (has_attr(op, "select_last_index")) v = max64(v, 12);
    break;
  case IR_OP_GATHER_ND:
    if (has_attr(op, "batch_dims")) v = max64(v, 12);
    break;
  default:
    if (ops_is_reduce(op->kind) && (op->noperands > 1 || has_attr(op, "noop_with_empty_axes")))
      v = max64(v, op->kind == IR_OP_REDUCE_SUM ? 13 : 18); /* axes became an input */
    break;
  }
  return v;
}

bool onnx_export_attr_form(const IrOp *op, OnnxAttrForm *out) {
  memset(out, 0, sizeof *out);
  out->need = 1;
  out->first = 1;
  if (op->noperands < 2 || !ir_op_operand(op, 0)) return false;
  switch (op->kind) {
  case IR_OP_SQUEEZE:
  case IR_OP_UNSQUEEZE:
    out->below = 13, out->n = 1, out->names[0] = "axes";
    return op->noperands == 2;
  case IR_OP_SPLIT:
    out->below = 13, out->n = 1, out->names[0] = "split";
    return op->noperands == 2 && !has_attr(op, "num_outputs");
  case IR_OP_SLICE:
    /* steps (operand 4) did not exist; all three of starts, ends, axes
     * must be there (axes is optional in the old form too, but then it
     * would be absent here as well). */
    out->below = 10, out->n = op->noperands - 1, out->names[0] = "starts", out->names[1] = "ends";
    out->names[2] = "axes";
    if (op->noperands > 4 || op->noperands < 3) return false;
    for (uint32_t i = 1; i < op->noperands; i++)
      if (!ir_op_operand(op, i)) return false;
    return true;
  default:
    if (!ops_is_reduce(op->kind) || op->noperands != 2) return false;
    if (ir_op_attr_int(op, "noop_with_empty_axes", 0) != 0) return false;
    out->below = op->kind == IR_OP_REDUCE_SUM ? 13 : 18, out->n = 1, out->names[0] = "axes";
    return true;
  }
}

int64_t onnx_export_ir_version(int64_t opset) {
  static const int64_t ir[] = {
      /* opset 0..28 */
      3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9, 10, 10, 11, 12, 13, 13, 13, 14,
  };
  if (opset < 0) return 3;
  if (opset >= (int64_t)(sizeof ir / sizeof ir[0])) return ir[sizeof ir / sizeof ir[0] - 1];
  return ir[opset];
}
