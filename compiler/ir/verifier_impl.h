/* Internals shared by verifier.c (the walk over functions, regions and ops)
 * and verify_types.c (types, quantization, constant data). */
#ifndef QUENCH_IR_VERIFIER_IMPL_H
#define QUENCH_IR_VERIFIER_IMPL_H

#include "ir/ir.h"
#include "ir/text.h"

/* Checks a type (its quantization, if any) that appears at `loc`. */
bool irv_check_type(Diag *d, const IrType *t, DiagLoc loc);
/* Checks a constant's type and data size; `what` names it in messages. */
void irv_check_const(Diag *d, const IrConst *c, const char *what, DiagLoc loc);
/* Prints t into buf (truncated to size) for a message; returns buf. */
const char *irv_type_str(char *buf, size_t size, const IrType *t);

#endif
