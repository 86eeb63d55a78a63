/* ONNX Runtime's float rounding for Tanh and ReduceSum/ReduceMean
 * (ort_numerics.h). Everything here is float arithmetic in a fixed order:
 * the point is to make the same roundings, not better ones. */
#include "interp/ort_numerics.h"

#include <math.h>

/* Eigen's ptanh coefficients, as MLAS carries them (tanh.cpp). */
static const float TANH_ALPHA[7] = {-2.76076847742355e-16f, 2.00018790482477e-13f, -8.60467152213735e-11f,
                                    5.12229709037114e-08f,  1.48572235717979e-05f, 6.37261928875436e-04f,
                                    4.89352455891786e-03f};
static const float TANH_BETA[4] = {1.19825839466702e-06f, 1.18534705686654e-04f, 2.26843463243900e-03f,
                                   4.89352518554385e-03f};

float ortnum_tanh(float x) {
  if (isnan(x)) return x;
  float v = x < -9.0f ? -9.0f : x > 9.0f ? 9.0f : x;
  float x2 = v * v;
  float p = fmaf(x2, TANH_ALPHA[0], TANH_ALPHA[1]);
  for (int i = 2; i < 7; i++) p = fmaf(p, x2, TANH_ALPHA[i]);
  p *= v;
  float q = fmaf(x2, TANH_BETA[0], TANH_BETA[1]);
  for (int i = 2; i < 4; i++) q = fmaf(q, x2, TANH_BETA[i]);
  return p / q;
}

float ortnum_eigen_sum(const float *x, int64_t n, int64_t align) {
  if (n <= 0) return 0.0f;
  int64_t start = (4 - align % 4) % 4;
  if (start > n) start = n;
  int64_t size4 = (n - start) / 4 * 4, size8 = (n - start) / 8 * 8;
  if (size4 == 0) { /* too short for one packet: a plain left fold */
    float r = x[0];
    for (int64_t i = 1; i < n; i++) r += x[i];
    return r;
  }
  float p0[4], p1[4];
  for (int j = 0; j < 4; j++) p0[j] = x[start + j];
  if (size4 > 4) {
    for (int j = 0; j < 4; j++) p1[j] = x[start + 4 + j];
    for (int64_t i = start + 8; i < start + size8; i += 8)
      for (int j = 0; j < 4; j++) {
        p0[j] += x[i + j];
        p1[j] += x[i + 4 + j];
      }
    for (int j = 0; j < 4; j++) p0[j] += p1[j];
    if (size4 > size8)
      for (int j = 0; j < 4; j++) p0[j] += x[start + size8 + j];
  }
  float r = (p0[0] + p0[2]) + (p0[1] + p0[3]);
  for (int64_t i = 0; i < start; i++) r += x[i];
  for (int64_t i = start + size4; i < n; i++) r += x[i];
  return r;
}

/* c[0..ni) = the sum over r of b[r*ni + j], as MLAS's one-row SGEMM kernel
 * forms ones[1, R] x B[R, ni]: rows taken 4 at a time, then 2, then 1, each
 * group summed left to right before it is added to c. */
static void sgemm_row_sum(const float *b, int64_t rr, int64_t ni, float *c) {
  int64_t k = 0;
  while (k < rr) {
    int64_t g = rr - k >= 4 ? 4 : rr - k >= 2 ? 2 : 1;
    for (int64_t j = 0; j < ni; j++) {
      float t = b[k * ni + j];
      for (int64_t q = 1; q < g; q++) t += b[(k + q) * ni + j];
      c[j] = k == 0 ? t : t + c[j];
    }
    k += g;
  }
}

bool ortnum_reduce_sum(const float *x, int32_t rank, const int64_t *dims, const bool *mask, bool mean, float *y) {
  int32_t lo = -1, hi = -1;
  for (int32_t i = 0; i < rank; i++)
    if (mask[i] && dims[i] != 1) {
      if (lo < 0) lo = i;
      hi = i;
    }
  for (int32_t i = lo; lo >= 0 && i <= hi; i++)
    if (!mask[i] && dims[i] != 1) return false; /* reduced axes not one block: RKR and beyond */
  int64_t no = 1, nr = 1, ni = 1;
  for (int32_t i = 0; i < rank; i++) {
    if (i < lo || lo < 0) no *= dims[i];
    else if (i <= hi) nr *= dims[i];
    else ni *= dims[i];
  }
  if (lo < 0) ni = no, no = 1; /* only dims of 1 reduced: a copy */
  if (nr == 0) return false;   /* empty reductions keep the exact path's identities */
  for (int64_t o = 0; o < no; o++) {
    const float *b = x + o * nr * ni;
    float *c = y + o * ni;
    if (ni == 1)
      c[0] = ortnum_eigen_sum(b, nr, o * nr);
    else if (no == 1) { /* [R, inner]: out = row 0, then += each row */
      for (int64_t j = 0; j < ni; j++) c[j] = b[j];
      for (int64_t r = 1; r < nr; r++)
        for (int64_t j = 0; j < ni; j++) c[j] += b[r * ni + j];
    } else
      sgemm_row_sum(b, nr, ni, c);
    if (mean)
      for (int64_t j = 0; j < ni; j++) c[j] /= (float)nr;
  }
  return true;
}
