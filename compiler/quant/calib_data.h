/* Calibration and evaluation inputs: finding the samples in a folder and
 * loading one sample's tensors for a function's arguments. Shared by the
 * calibrate pass and `quench report`. The layouts are described in
 * docs/calibration.md:
 *   - DIR holds test_data_set_* folders (or other folders): each folder is
 *     one sample, holding input_K.pb / input_K.npy files or files named after
 *     the inputs (NAME.pb / NAME.npy);
 *   - DIR itself holds input_K files: DIR is one sample;
 *   - otherwise, for a function with one input, each .pb/.npy file in DIR is
 *     one sample.
 * Samples are taken in name order (test_data_set_2 before test_data_set_10). */
#ifndef QUENCH_QUANT_CALIB_DATA_H
#define QUENCH_QUANT_CALIB_DATA_H

#include <stdbool.h>

#include "interp/tensor.h"
#include "ir/ir.h"
#include "support/diag.h"

typedef struct QSampleSet {
  char *dir;
  char **paths; /* one per sample: a folder, or a file (single-input layout) */
  int n;
  bool files;   /* true: each sample is a single file */
} QSampleSet;

/* Lists the samples of `dir` for function f (its argument count decides
 * whether single files are accepted). Reports and returns false when dir
 * cannot be read or holds no sample. */
bool q_samples_find(const char *dir, const IrFunc *f, QSampleSet *s, Diag *d);
void q_samples_free(QSampleSet *s);

/* Loads sample i into inputs[0 .. nargs-1] (new tensors the caller frees),
 * checking each against its argument's type (element type, rank, static
 * dims). Errors name the file and the argument, and leave no tensors. */
bool q_sample_load(const QSampleSet *s, int i, const IrFunc *f, Tensor **inputs, Diag *d);

#endif
