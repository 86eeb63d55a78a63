/* Shared state of the ONNX importer (import.c, import_tensor.c,
 * import_attr.c, import_upgrade.c). Not a public header. */
#ifndef QUENCH_ONNX_IMPORT_INTERNAL_H
#define QUENCH_ONNX_IMPORT_INTERNAL_H

#include <onnx.pb-c.h>

#include "ir/ir.h"
#include "onnx/import.h"
#include "support/strmap.h"

typedef struct OnnxCtx {
  Diag *d;
  const char *path; /* the model as named on the command line */
  char *dir;        /* realpath of the model's folder; NULL: no external data */
  IrModule *m;
  int64_t opset;    /* default-domain opset the model imports */
  const OnnxImportOptions *opts;
  StrMap pool_names; /* constant-pool names handed out (keys in the arena) */
  int pool_counter;
} OnnxCtx;

/* Where ONNX diagnostics point: the model file, no line. */
DiagLoc onnx_loc(const OnnxCtx *c);

/* "node 'name' (op 'Type')", or "node #i (op 'Type')" for unnamed nodes,
 * written to buf. */
const char *onnx_node_desc(char *buf, size_t n, const Onnx__NodeProto *node, int index);

/* IR element type of an ONNX TensorProto.DataType; reports and returns false
 * for types quench does not hold (string, complex, unknown). `what` names the
 * tensor or value in the message. */
bool onnx_elem(OnnxCtx *c, int32_t dt, IrElem *out, const char *what);

/* A unique constant-pool name derived from `want` (NULL: "cst"). */
const char *onnx_pool_name(OnnxCtx *c, const char *want);

/* Decodes a TensorProto (raw_data, typed fields or external data) into a
 * constant. pool_name NULL: an inline constant (tensor attributes).
 * `what` names the tensor in diagnostics ("initializer 'w'"). */
IrConst *onnx_tensor_to_const(OnnxCtx *c, const Onnx__TensorProto *t, const char *pool_name, const char *what);

/* Converts one node attribute (not GRAPH) to an IR attribute, checking it
 * against the op table's rule for `kind`. Reports and returns false on a
 * refused or ill-kinded attribute. */
bool onnx_attr_to_ir(OnnxCtx *c, IrOpKind kind, const Onnx__AttributeProto *a, const char *node_desc, IrAttr *out);

/* A node on its way to becoming an op: operands and attributes in growable
 * heap arrays (freed by the caller). */
typedef struct OnnxNode {
  IrOpKind kind;
  IrValue **ins;
  uint32_t nin, in_cap;
  IrAttr *attrs;
  uint32_t nattrs, attr_cap;
} OnnxNode;

void onnx_node_add_input(OnnxNode *n, IrValue *v);
void onnx_node_add_attr(OnnxNode *n, const IrAttr *a);

/* A Constant op holding a new pool constant, appended to region r. */
IrValue *onnx_emit_const(OnnxCtx *c, IrRegion *r, IrConst *k, const char *value_name);
IrValue *onnx_emit_i64(OnnxCtx *c, IrRegion *r, const char *hint, const int64_t *v, int64_t n, bool scalar);

/* Rewrites a node of an older opset into the form the op table describes
 * (the newest opset's): attributes that became inputs (axes, split, starts,
 * pads, min/max, shape, k) are turned into Constant operands, dropped
 * training-only attributes are skipped, Upsample and opset-10 Resize become
 * Resize. Marks the attributes it consumed. Reports and returns false for
 * legacy forms it cannot express. Called with the kind looked up, the node's
 * inputs resolved and before its attributes are converted. */
bool onnx_upgrade(OnnxCtx *c, IrRegion *r, const Onnx__NodeProto *node, const char *desc, OnnxNode *n,
                  bool *consumed);

/* The IR kind of an ONNX attribute (GRAPH is reported as -1 through ok). */
const char *onnx_attr_type_name(int type);

#endif
