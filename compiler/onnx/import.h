/* ONNX import: reads a ModelProto (protobuf-c bindings generated from
 * onnx.proto at build time) into a verified-shape IR module. What is
 * imported and what is refused is described in docs/onnx-import.md. */
#ifndef QUENCH_ONNX_IMPORT_H
#define QUENCH_ONNX_IMPORT_H

#include <stddef.h>

#include "ir/ir.h"

/* The newest default-domain ("" / "ai.onnx") opset the importer accepts. */
#define ONNX_MAX_OPSET 27

typedef struct OnnxImportOptions {
  /* 0: ONNX_MAX_OPSET. Models importing a newer default opset are refused. */
  int max_opset;
  /* Skip shape inference (result types stay as the model's value_info
   * says, or unranked). For debugging the importer itself. */
  int no_infer;
} OnnxImportOptions;

/* Reads and imports the model at `path`. External data files are looked up
 * relative to the model's folder. On error, reports located diagnostics to
 * `d` (naming the file and the node or tensor) and returns NULL. */
IrModule *onnx_import_file(Diag *d, const char *path, const OnnxImportOptions *opts);

/* Imports a model held in memory; `path` names it in diagnostics and its
 * folder anchors external data (NULL folder: external data is refused).
 * For the fuzzer and tests. */
IrModule *onnx_import_buffer(Diag *d, const char *path, const void *data, size_t len,
                             const OnnxImportOptions *opts);

#endif
