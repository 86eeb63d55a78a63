/* MSE-optimal weight clipping (wclip.h): a grid search over the clip
 * ratio, as the GPTQ reference's find_params(mse=True) does it, with the
 * error measured through the same f32 quantizer the graph runs
 * (q_quantize_int) so the chosen ratio is the best for the codes actually
 * stored. Test: test/unit/test_wclip.c. */
#include "quant/wclip.h"

#include <math.h>
#include <string.h>

#include "quant/qmath.h"

bool q_wclip_from_name(const char *name, QWClip *out) {
  for (QWClip c = Q_WCLIP_NONE; c <= Q_WCLIP_MSE; c++)
    if (strcmp(name, q_wclip_name(c)) == 0) return *out = c, true;
  return false;
}

const char *q_wclip_name(QWClip c) { return c == Q_WCLIP_MSE ? "mse" : "none"; }

double q_wclip_error(const QFormat *f, const double *v, int64_t n, float s, int64_t z, double norm) {
  double e = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(v[i])) continue;
    int64_t q = q_quantize_int((float)v[i], s, z, f->qmin, f->qmax);
    double d = fabs(v[i] - (double)(q - z) * (double)s);
    e += norm == 2 ? d * d : pow(d, norm);
  }
  return e;
}

double q_wclip_params(const QFormat *f, const double *v, int64_t n, bool symmetric, QWClip c, float *s, int64_t *z) {
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
  q_choose_params(f, lo, hi, symmetric, s, z);
  if (c != Q_WCLIP_MSE || f->kind != Q_FMT_INT || !(lo <= hi) || (lo == 0 && hi == 0)) return 1.0;
  double best = q_wclip_error(f, v, n, *s, *z, Q_WCLIP_NORM), best_r = 1.0;
  int steps = (int)(Q_WCLIP_MAXSHRINK * Q_WCLIP_GRID + 0.5);
  for (int i = 1; i < steps && best > 0; i++) {
    double r = 1.0 - (double)i / Q_WCLIP_GRID;
    float si;
    int64_t zi;
    q_choose_params(f, r * lo, r * hi, symmetric, &si, &zi);
    double e = q_wclip_error(f, v, n, si, zi, Q_WCLIP_NORM);
    if (e < best) best = e, best_r = r, *s = si, *z = zi;
  }
  return best_r;
}
