/* The IR verifier: SSA dominance, type agreement, op arity, attributes and
 * regions from the op table, quantized-type consistency. */
#ifndef QUENCH_IR_VERIFIER_H
#define QUENCH_IR_VERIFIER_H

#include "ir/ir.h"

/* Reports every problem found to `d` (each located at the offending op) and
 * returns true if there were none. */
bool ir_verify(const IrModule *m, Diag *d);
/* Checks one quantized type against a shape; `loc` locates the report. */
bool ir_verify_quant(const IrQuant *q, int32_t rank, const IrDim *dims, Diag *d, DiagLoc loc);

#endif
