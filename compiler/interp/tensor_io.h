/* Tensor files for quench-run, the conformance runner and calibration:
 * serialized ONNX TensorProto (.pb, compiler/onnx/tensor_proto.h) and NumPy
 * .npy (format versions 1-3 read, version 1 written; C order only). The
 * format is chosen by the file name: ".npy" is NumPy, anything else a
 * TensorProto. docs/quench-run.md describes both. */
#ifndef QUENCH_INTERP_TENSOR_IO_H
#define QUENCH_INTERP_TENSOR_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "interp/tensor.h"
#include "support/diag.h"

typedef enum { TENSOR_FILE_PB, TENSOR_FILE_NPY } TensorFileFormat;

/* TENSOR_FILE_NPY for names ending in ".npy", else TENSOR_FILE_PB. */
TensorFileFormat tensor_file_format(const char *path);

/* Reads a tensor file. *name (name may be NULL) gets the tensor's name,
 * malloc'ed, when the file carries one (TensorProto), else NULL. Reports
 * "PATH: error: ..." and returns NULL on any problem. */
Tensor *tensor_read_file(const char *path, char **name, Diag *d);

/* Writes t to path in the given format, through a temporary file renamed
 * into place. `name` is stored in TensorProto files (NULL: none). Reports
 * and returns false for element types the format has no code for. */
bool tensor_write_file(const char *path, const Tensor *t, const char *name, TensorFileFormat fmt, Diag *d);

/* The ONNX test_data_set layout: reads DIR/PREFIX_0.pb, DIR/PREFIX_1.pb,
 * ... while they exist. *n gets the count; entries are NULL for files that
 * could not be read (reported). paths (may be NULL) gets each file's
 * malloc'ed path. Free with tensor_free_numbered. */
Tensor **tensor_read_numbered(const char *dir, const char *prefix, uint32_t *n, char ***paths, Diag *d);
void tensor_free_numbered(Tensor **ts, char **paths, uint32_t n);

/* Whether t can be bound to a value of type ty: same element type (the
 * storage type when quantized), same rank, equal static dims. If not,
 * writes why ("element type f64, the model expects f32[1x3]") to why. */
bool tensor_fits_type(const Tensor *t, const IrType *ty, char *why, size_t n);

/* "f32[1x?x[T]]" (? dynamic, [name] symbolic, * unranked) into buf. */
const char *tensor_type_describe(const IrType *ty, char *buf, size_t n);

/* NumPy .npy in memory. Decoding accepts the dtypes <f2 <f4 <f8 |i1 |u1
 * <i2 <u2 <i4 <u4 <i8 <u8 |b1 (and their big-endian forms, byte-swapped);
 * Fortran order, other dtypes and truncated data are refused, naming
 * `path`. Encoding writes version 1 with a 64-byte aligned header. */
Tensor *tensor_npy_decode(const void *buf, size_t len, const char *path, Diag *d);
void *tensor_npy_encode(const Tensor *t, size_t *len, Diag *d);

#endif
