/* Shape and type inference: result element types and shapes of every op in
 * the table from its operand types, attributes and (where the shape depends
 * on data) constant operands, with symbolic dims carried through. Rules are
 * the ONNX spec's; docs/onnx-import.md lists them. */
#ifndef QUENCH_OPS_INFER_H
#define QUENCH_OPS_INFER_H

#include <stdbool.h>

#include "ir/ir.h"

/* Sets the result types of `op` from its operands (and regions, for
 * If/Loop/Scan, which must be inferred first). Where the existing result
 * type agrees with the inferred one it refines it (a symbolic or static dim
 * the rule left unknown is kept). A static contradiction (MatMul inner dims
 * 3 vs 4) is reported at the op and returns false. */
bool ir_infer_op(IrModule *m, IrOp *op, Diag *d);

/* Infers every op of every function in order (nested regions before the op
 * that owns them) and refines function result types from the returns. */
bool ir_infer_module(IrModule *m, Diag *d);

/* Multidirectional (numpy) broadcast of two shapes into out (rank
 * max(ra, rb), at most 64). Returns false when static dims clash. Unranked
 * operands (rank < 0) give *rout = -1. */
bool ir_infer_broadcast(const IrDim *a, int32_t ra, const IrDim *b, int32_t rb, IrDim *out, int32_t *rout);

#endif
