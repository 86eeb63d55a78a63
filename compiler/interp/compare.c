/* Error metrics between a computed tensor and a reference. Everything is
 * accumulated in double through the generic accessors, so every element
 * type (f16, bf16, the 8-bit floats) is measured the same way. */
#include "interp/compare.h"

#include <math.h>

static bool is_exact_type(IrElem e) { return !ir_elem_is_float(e); }

/* Equal in the comparison's sense: NaN == NaN, inf == inf of the same sign. */
static bool same_value(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

bool compare_tensors(const Tensor *got, const Tensor *want, CompareStats *s) {
  *s = (CompareStats){0};
  s->shape_ok = got->elem == want->elem && tensor_same_shape(got, want);
  if (!s->shape_ok) return false;
  s->exact = is_exact_type(want->elem);
  s->n = want->numel;
  double bmax = 0;
  for (int64_t i = 0; i < s->n; i++) {
    double b = tensor_get_f64(want, i);
    if (isfinite(b) && fabs(b) > bmax) bmax = fabs(b);
  }
  double floor = bmax > 0 ? COMPARE_REL_FLOOR * bmax : 1.0;
  double sig = 0, noise = 0, dot = 0, na = 0;
  for (int64_t i = 0; i < s->n; i++) {
    double a, b;
    if (s->exact) {
      /* Through int64 so 64-bit values compare exactly. */
      int64_t ia = tensor_get_i64(got, i), ib = tensor_get_i64(want, i);
      if (ia != ib) s->mismatches++;
      a = (double)ia;
      b = (double)ib;
    } else {
      a = tensor_get_f64(got, i);
      b = tensor_get_f64(want, i);
      if (!same_value(a, b)) s->mismatches++;
      if (isnan(a) != isnan(b)) s->nan_mismatch++;
      if (isnan(a) || isnan(b)) continue;
      if (!isfinite(a) || !isfinite(b)) {
        /* Equal infinities count as exact; they cannot enter the sums. */
        if (a != b) s->max_abs = s->max_rel = noise = INFINITY;
        continue;
      }
    }
    double e = fabs(a - b);
    if (e > s->max_abs) s->max_abs = e;
    double r = e / fmax(fabs(b), floor);
    if (r > s->max_rel) s->max_rel = r;
    sig += b * b;
    noise += e * e;
    dot += a * b;
    na += a * a;
  }
  if (s->nan_mismatch) noise = INFINITY;
  s->sqnr_db = noise == 0 ? INFINITY : sig == 0 ? -INFINITY : 10.0 * log10(sig / noise);
  if (na == 0 && sig == 0) s->cosine = 1.0;
  else if (na == 0 || sig == 0) s->cosine = 0.0;
  else s->cosine = dot / (sqrt(na) * sqrt(sig));
  return true;
}

bool compare_allclose(const Tensor *got, const Tensor *want, double rtol, double atol, int64_t *bad) {
  if (bad) *bad = -1;
  if (got->elem != want->elem || !tensor_same_shape(got, want)) return false;
  bool exact = is_exact_type(want->elem);
  for (int64_t i = 0; i < want->numel; i++) {
    bool ok;
    if (exact) {
      ok = tensor_get_i64(got, i) == tensor_get_i64(want, i);
    } else {
      double a = tensor_get_f64(got, i), b = tensor_get_f64(want, i);
      ok = same_value(a, b) || (isfinite(a) && isfinite(b) && fabs(a - b) <= atol + rtol * fabs(b));
    }
    if (!ok) {
      if (bad) *bad = i;
      return false;
    }
  }
  return true;
}
