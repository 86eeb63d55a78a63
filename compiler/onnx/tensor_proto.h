/* Single tensors as serialized ONNX TensorProto files (the .pb files of the
 * ONNX backend test format: test_data_set_N/input_K.pb, output_K.pb). Reading
 * shares the importer's TensorProto decoding (import_tensor.c), so raw_data,
 * the typed fields and sub-byte packing mean the same here as in a model.
 * compiler/interp/tensor_io.h reads and writes these files. */
#ifndef QUENCH_ONNX_TENSOR_PROTO_H
#define QUENCH_ONNX_TENSOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "interp/tensor.h"
#include "support/diag.h"

/* Decodes one serialized TensorProto of len bytes; `path` names it in
 * diagnostics and its folder anchors external data (NULL: refused).
 * *name (if name is not NULL) gets the proto's name field, malloc'ed, or
 * NULL when it has none. Reports and returns NULL on malformed data, string
 * or complex tensors and refused sizes. */
Tensor *onnx_tensor_decode(const void *buf, size_t len, const char *path, char **name, Diag *d);

/* Reads and decodes the TensorProto file at path. */
Tensor *onnx_tensor_read(const char *path, char **name, Diag *d);

/* Serializes t (raw_data, sub-byte types packed low bits first) with the
 * given name (NULL: none) into a malloc'ed buffer; *len gets its size.
 * Reports and returns NULL for element types ONNX has no code for. */
void *onnx_tensor_encode(const Tensor *t, const char *name, size_t *len, Diag *d);

#endif
