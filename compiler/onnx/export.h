/* QDQ ONNX export: writes a module (ONNX ops only, e.g. the quantize pass's
 * QDQ form) as a standard ONNX ModelProto. Quantized weights are stored in
 * their element type (int4/uint4/f4 packed two per byte, as ONNX requires);
 * the opset is the module's imported one, raised to what the ops used need
 * (blocked QuantizeLinear/DequantizeLinear: 21, f4E2M1: 23).
 * docs/onnx-export.md describes it. */
#ifndef QUENCH_ONNX_EXPORT_H
#define QUENCH_ONNX_EXPORT_H

#include <stdbool.h>

#include "ir/ir.h"
#include "support/diag.h"

/* Writes function "main" (or the module's first function) of m to `path`
 * through a temporary renamed into place. Ops with no ONNX form (the
 * lowered quench.* ops) and types ONNX cannot hold are refused, naming the
 * op; nothing is written then. */
bool onnx_export(const IrModule *m, const char *path, Diag *d);

#endif
