/* Shared pieces of the ONNX exporter (export.c writes the graph,
 * export_tensor.c encodes constants and types, export_opset.c decides the
 * opset and IR version). Not a public header. */
#ifndef QUENCH_ONNX_EXPORT_INTERNAL_H
#define QUENCH_ONNX_EXPORT_INTERNAL_H

#include <onnx.pb-c.h>

#include "ir/ir.h"

/* ---- tensors (export_tensor.c) ---------------------------------------- */

/* ONNX raw_data of a constant: little-endian, splats expanded, bool one
 * byte per element, 4-bit types two per byte and 2-bit types four per byte,
 * low bits first (onnx.proto, TensorProto.raw_data). Allocated in `a`. */
uint8_t *onnx_export_pack(Arena *a, const IrConst *k, size_t *len);

/* A TensorProto for k (raw_data form). The caller has checked that k's
 * element type has an ONNX code and k is not quantized. name NULL: none. */
Onnx__TensorProto *onnx_export_tensor(Arena *a, const IrConst *k, const char *name);

/* A tensor TypeProto for t (no shape for unranked; `?` dims carry neither
 * dim_value nor dim_param). Same precondition as onnx_export_tensor. */
Onnx__TypeProto *onnx_export_type(Arena *a, const IrType *t);

/* ---- opset and IR version (export_opset.c) ---------------------------- */

/* The oldest default-domain opset in which op's form (its operands,
 * attributes and element types as the IR holds them: the newest ONNX form,
 * which the importer upgrades every node to) is valid. */
int64_t onnx_export_op_opset(const IrOp *op);

/* The oldest opset whose ops accept element type e at all (f8: 19, int4: 21,
 * f4E2M1: 23, e8m0: 24, int2: 25; 1 for the rest). */
int64_t onnx_export_elem_opset(IrElem e);

/* An older opset's form of op that took as attributes what the newest form
 * takes as operands (Squeeze/Unsqueeze axes and Split split before 13,
 * Reduce* axes before 18 or 13, Slice starts/ends/axes before 10): operands
 * [first, first+n) become INTS attributes names[0..n) and the op needs
 * opset `need`, valid below `below`. False when op has no such form or uses
 * something the old form lacks. export.c uses it when the operands are
 * constants and the opset stays below `below`, so a model keeps the opset
 * it was imported with (and re-imports to the same IR). */
typedef struct OnnxAttrForm {
  int64_t below, need;
  uint32_t first, n;
  const char *names[3];
} OnnxAttrForm;
bool onnx_export_attr_form(const IrOp *op, OnnxAttrForm *out);

/* The IR version ONNX released with `opset` (onnx/helper.py VERSION_TABLE). */
int64_t onnx_export_ir_version(int64_t opset);

#endif
