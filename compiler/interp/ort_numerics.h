/* The float rounding of ONNX Runtime's CPU kernels for the few ops where it
 * decides whether a test_data_set that ONNX Runtime produced can be
 * reproduced (InterpNumerics ORT, `quench-run --numerics ort`). The orders
 * are those of ONNX Runtime 1.20-1.32 on x86-64 (Eigen's SSE sum, MLAS's
 * single-row SGEMM, MLAS's FMA3 tanh and logistic); docs/interpreter.md
 * lists them and how they were checked. */
#ifndef QUENCH_INTERP_ORT_NUMERICS_H
#define QUENCH_INTERP_ORT_NUMERICS_H

#include <stdbool.h>
#include <stdint.h>

/* tanh by the rational approximation of Eigen/MLAS (degree 13 over 6 in x,
 * Horner steps fused), input clamped to [-9, 9]; NaN stays NaN. */
float ortnum_tanh(float x);

/* The logistic function by MLAS's rational approximation (degree 9 over
 * 10 in x, Horner steps fused, + 0.5), input clamped to [-18, 18], result
 * clamped below at 0 only (ONNX Runtime gives 1.0000001 at x = 17.844);
 * NaN stays NaN. */
float ortnum_sigmoid(float x);

/* Eigen's float sum of x[0..n): two 4-lane accumulators over the 16-byte
 * aligned body, lanes folded (l0+l2)+(l1+l3), then the unaligned head and
 * the tail one by one. align: x's offset in floats from a 16-byte boundary. */
float ortnum_eigen_sum(const float *x, int64_t n, int64_t align);

/* The f32 ReduceSum (mean: ReduceMean, the sum divided in f32) of x (rank,
 * dims) over the axes in mask, into y, where the reduced axes (ignoring
 * dims of 1) form one contiguous block, as ONNX Runtime's fast reductions
 * do: rows [outer, R] by ortnum_eigen_sum, columns [R, inner] added row by
 * row, [outer, R, inner] as a one-row SGEMM (groups of 4 rows, then 2, then
 * 1, each summed left to right and then added). Returns false, writing
 * nothing, for any other pattern. */
bool ortnum_reduce_sum(const float *x, int32_t rank, const int64_t *dims, const bool *mask, bool mean, float *y);

#endif
