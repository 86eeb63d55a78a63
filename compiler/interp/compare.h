/* Comparing a computed tensor against a reference: the error metrics that
 * quench-run --check, the conformance runner and the quantization tools
 * report (docs/quench-run.md defines each one). */
#ifndef QUENCH_INTERP_COMPARE_H
#define QUENCH_INTERP_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "interp/tensor.h"

/* Elements whose reference magnitude is below this fraction of the largest
 * reference magnitude are measured against that floor in max_rel, so that
 * near-zero references (cancellation in a sum) do not dominate it. */
#define COMPARE_REL_FLOOR 1e-3

typedef struct CompareStats {
  bool shape_ok; /* same element type and shape; nothing else is valid if not */
  bool exact;    /* integer or bool type: compared exactly */
  int64_t n;
  int64_t mismatches;   /* elements that differ (NaN equals NaN, same-signed infinities equal) */
  int64_t nan_mismatch; /* elements where exactly one side is NaN */
  double max_abs;       /* max |a-b| over finite pairs (inf: a mismatched infinity) */
  double max_rel;       /* max |a-b| / max(|b|, COMPARE_REL_FLOOR * max|b|) */
  double sqnr_db;       /* 10 log10(sum b^2 / sum (a-b)^2); +inf when equal */
  double cosine;        /* a.b / (|a| |b|); 1 when both are zero */
} CompareStats;

/* Compares got (a) with want (b). Returns s->shape_ok. */
bool compare_tensors(const Tensor *got, const Tensor *want, CompareStats *s);

/* numpy.testing.assert_allclose(got, want, rtol, atol) as the ONNX backend
 * tests use it: |a-b| <= atol + rtol |b| for every element, NaN equal to NaN,
 * infinities equal only to themselves; integers and bools exactly. Types and
 * shapes must match. *bad (may be NULL) gets the first failing element's
 * index, -1 when all pass. */
bool compare_allclose(const Tensor *got, const Tensor *want, double rtol, double atol, int64_t *bad);

#endif
