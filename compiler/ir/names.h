/* Printed value names: the one rule that makes value names unique in a
 * function (docs/ir.md). The printer prints these names, ONNX export writes
 * them as tensor names and calibrate gives them to unnamed values, so all
 * three agree. Test: test/unit/test_ir_names.c. */
#ifndef QUENCH_IR_NAMES_H
#define QUENCH_IR_NAMES_H

#include "ir/ir.h"

/* Value -> printed name, for the values of one function. */
typedef struct IrNames IrNames;

/* Names every value of f (nested regions included) in text order: region
 * arguments, then each op's results before the values of its regions. A
 * value gets its own name the first time, NAME_1, NAME_2, ... for later
 * duplicates, an unnamed (NULL or "") value the smallest unused number;
 * generated names avoid every name f gives, so none clashes with a value
 * named later. Names are scoped to the function. The returned names live
 * until ir_names_free (a value's own name as long as the value keeps it). */
IrNames *ir_names_compute(const IrFunc *f);
/* v's printed name; NULL if v is not a value of f. */
const char *ir_names_get(const IrNames *n, const IrValue *v);
/* v's printed name; a value from outside f (broken IR, printed unverified)
 * is named by the same rule on first sight, after f's own values. */
const char *ir_names_get_or_add(IrNames *n, const IrValue *v);
/* Takes `name` (copied) for a caller's own use (ONNX export's extra output
 * names), so no value named later gets it; false if it is already taken. */
bool ir_names_claim(IrNames *n, const char *name);
void ir_names_free(IrNames *n);

#endif
