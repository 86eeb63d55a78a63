/* ONNX Runtime's float rounding for Tanh, Sigmoid and ReduceSum/ReduceMean
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

/* x·P(x²) / Q(x²) for x clamped to [-lim, lim], each polynomial by Horner
 * steps with fused multiply-adds from its highest coefficient, as MLAS's
 * FMA3 kernels evaluate Eigen's rational approximations. */
static float rational(float x, float lim, const float *alpha, int na, const float *beta, int nb) {
  float v = x < -lim ? -lim : x > lim ? lim : x;
  float x2 = v * v;
  float p = fmaf(x2, alpha[0], alpha[1]);
  for (int i = 2; i < na; i++) p = fmaf(p, x2, alpha[i]);
  p *= v;
  float q = fmaf(x2, beta[0], beta[1]);
  for (int i = 2; i < nb; i++) q = fmaf(q, x2, beta[i]);
  return p / q;
}

float ortnum_tanh(float x) { return isnan(x) ? x : rational(x, 9.0f, TANH_ALPHA, 7, TANH_BETA, 4); }

/* MLAS's logistic coefficients (logistic.cpp, from Eigen). */
static const float LOGI_ALPHA[5] = {4.37031012579801e-11f, 1.15627324459942e-07f, 6.08574864600143e-05f,
                                    8.51377133304701e-03f, 2.48287947061529e-01f};
static const float LOGI_BETA[6] = {6.10247389755681e-13f, 5.76102136993427e-09f, 6.29106785017040e-06f,
                                   1.70198817374094e-03f, 1.16817656904453e-01f, 9.93151921023180e-01f};

float ortnum_sigmoid(float x) {
  if (isnan(x)) return x;
  float r = rational(x, 18.0f, LOGI_ALPHA, 5, LOGI_BETA, 6) + 0.5f;
  return r < 0.0f ? 0.0f : r; /* no upper clamp: MLAS gives 1.0000001 at 17.844 */
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
