/* Kernel: Resize (opsets 11-19; the importer turns Upsample and opset-10
 * Resize into this form). Separable: each resized axis gets, per output
 * index, a list of (input index, weight) taps following the ONNX reference
 * implementation (coordinate transforms, nearest modes, linear and cubic
 * coefficients with ratio in (0, 1], edge-clamped neighbours,
 * exclude_outside, antialias), then 1-D passes run axis by axis in double.
 * tf_crop_and_resize positions outside the input get extrapolation_value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"

typedef enum { RS_NEAREST, RS_LINEAR, RS_CUBIC } RsMode;

typedef struct AxisMap {
  int64_t in, out, ntaps;
  int64_t *idx;  /* out x ntaps input indices, clamped */
  double *w;     /* out x ntaps weights */
  bool *outside; /* tf_crop_and_resize: position outside the input */
} AxisMap;

typedef struct RsAttrs {
  RsMode mode;
  const char *ctm, *nearest;
  double a, extrap;
  bool exclude, antialias;
} RsAttrs;

static double cubic_w(double x, double a) {
  x = fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/* Original coordinate of output index x along an axis. */
static double coord(const RsAttrs *ra, double x, double scale, int64_t in, int64_t out, double r0, double r1,
                    bool *outside) {
  const char *m = ra->ctm;
  *outside = false;
  if (strcmp(m, "asymmetric") == 0) return x / scale;
  /* As in the reference: align_corners divides by the real-valued output
   * width scale * in, not the integer size. */
  double width = scale * (double)in;
  if (strcmp(m, "align_corners") == 0) return width == 1 ? 0 : x * (double)(in - 1) / (width - 1);
  if (strcmp(m, "pytorch_half_pixel") == 0) return out > 1 ? (x + 0.5) / scale - 0.5 : -0.5;
  if (strcmp(m, "half_pixel_symmetric") == 0) {
    double adjust = (double)out / width, center = (double)in / 2;
    return center * (1 - adjust) + (x + 0.5) / scale - 0.5;
  }
  if (strcmp(m, "tf_crop_and_resize") == 0) {
    double v = out > 1 ? r0 * (double)(in - 1) + x * (r1 - r0) * (double)(in - 1) / (double)(out - 1)
                       : 0.5 * (r0 + r1) * (double)(in - 1);
    *outside = v < 0 || v > (double)(in - 1);
    return v;
  }
  return (x + 0.5) / scale - 0.5; /* half_pixel */
}

static bool build_map(KernelCtx *k, const RsAttrs *ra, double scale, double r0, double r1, AxisMap *am) {
  double aa = ra->antialias && scale < 1 ? scale : 1;
  int64_t n = ra->mode == RS_NEAREST ? 1 : ra->mode == RS_LINEAR ? 2 : 4;
  if (ra->antialias && ra->mode != RS_NEAREST) /* the reference's footprint: 2 - 2 * floor(-r/s + 1) */
    n = 2 - 2 * (int64_t)(floor(-(ra->mode == RS_LINEAR ? 1.0 : 2.0) / aa) + 1);
  am->ntaps = n;
  am->idx = malloc((size_t)(am->out * n) * sizeof *am->idx);
  am->w = malloc((size_t)(am->out * n) * sizeof *am->w);
  am->outside = calloc((size_t)(am->out ? am->out : 1), sizeof *am->outside);
  if (!am->idx || !am->w || !am->outside) return kernel_fail(k, "out of memory");
  for (int64_t o = 0; o < am->out; o++) {
    double x = coord(ra, (double)o, scale, am->in, am->out, r0, r1, &am->outside[o]);
    /* Taps i0 - n/2 + 1 .. i0 + n/2 with ratio = x - i0 in (0, 1]: the
     * reference prefers the pixel left of x. */
    double i0f = ceil(x) - 1, ratio = x - i0f;
    int64_t i0 = (int64_t)i0f, *ix = am->idx + o * n;
    double *w = am->w + o * n, sum = 0;
    if (ra->mode == RS_NEAREST) {
      const char *nm = ra->nearest;
      bool up = ratio == 1                               ? true
                : strcmp(nm, "floor") == 0               ? false
                : strcmp(nm, "ceil") == 0                ? true
                : strcmp(nm, "round_prefer_ceil") == 0   ? ratio >= 0.5
                                                         : ratio > 0.5;
      ix[0] = i0 + up;
      w[0] = 1;
    } else {
      for (int64_t t = 0; t < n; t++) {
        int64_t j = t - n / 2 + 1; /* offset from i0 */
        ix[t] = i0 + j;
        double d = (double)j - ratio;
        w[t] = ra->mode == RS_LINEAR ? fmax(0, 1 - fabs(d * aa)) : cubic_w(d * aa, ra->a);
        if (ra->exclude && (ix[t] < 0 || ix[t] >= am->in)) w[t] = 0;
        sum += w[t];
      }
      if (ra->antialias || ra->exclude)
        for (int64_t t = 0; t < n; t++) w[t] /= sum;
    }
    for (int64_t t = 0; t < n; t++) ix[t] = ix[t] < 0 ? 0 : ix[t] >= am->in ? am->in - 1 : ix[t];
  }
  return true;
}

/* dst = src resized along axis `ax` of shape dims (dims[ax] becomes out). */
static void pass_1d(const double *src, double *dst, const int64_t *dims, int32_t rank, int32_t ax, const AxisMap *am) {
  int64_t outer = 1, inner = 1;
  for (int32_t i = 0; i < ax; i++) outer *= dims[i];
  for (int32_t i = ax + 1; i < rank; i++) inner *= dims[i];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < am->out; j++) {
      double *d = dst + (o * am->out + j) * inner;
      for (int64_t i = 0; i < inner; i++) d[i] = 0;
      for (int64_t t = 0; t < am->ntaps; t++) {
        const double *s = src + (o * am->in + am->idx[j * am->ntaps + t]) * inner;
        double w = am->w[j * am->ntaps + t];
        for (int64_t i = 0; i < inner; i++) d[i] += w * s[i];
      }
    }
}

static bool read_attrs(KernelCtx *k, RsAttrs *ra) {
  const char *mode = ir_op_attr_string(k->op, "mode", "nearest");
  ra->mode = strcmp(mode, "linear") == 0 ? RS_LINEAR : strcmp(mode, "cubic") == 0 ? RS_CUBIC : RS_NEAREST;
  if (ra->mode == RS_NEAREST && strcmp(mode, "nearest") != 0) return kernel_fail(k, "unknown mode '%s'", mode);
  ra->ctm = ir_op_attr_string(k->op, "coordinate_transformation_mode", "half_pixel");
  static const char *ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                               "asymmetric", "tf_crop_and_resize"};
  bool ok = false;
  for (size_t i = 0; i < sizeof ctms / sizeof *ctms; i++) ok |= strcmp(ra->ctm, ctms[i]) == 0;
  if (!ok) return kernel_fail(k, "unknown coordinate_transformation_mode '%s'", ra->ctm);
  ra->nearest = ir_op_attr_string(k->op, "nearest_mode", "round_prefer_floor");
  if (strcmp(ra->nearest, "round_prefer_floor") && strcmp(ra->nearest, "round_prefer_ceil") &&
      strcmp(ra->nearest, "floor") && strcmp(ra->nearest, "ceil"))
    return kernel_fail(k, "unknown nearest_mode '%s'", ra->nearest);
  ra->a = ir_op_attr_float(k->op, "cubic_coeff_a", -0.75f);
  ra->extrap = ir_op_attr_float(k->op, "extrapolation_value", 0.0f);
  ra->exclude = ir_op_attr_int(k->op, "exclude_outside", 0) != 0;
  ra->antialias = ir_op_attr_int(k->op, "antialias", 0) != 0;
  return true;
}

/* Per-axis output sizes, scales and roi from the operands and `axes`. */
static bool read_sizes(KernelCtx *k, const Tensor *x, int64_t *out, double *scale, double *r0, double *r1) {
  const Tensor *roi = kernel_in(k, 1), *sc = kernel_in(k, 2), *sz = kernel_in(k, 3);
  if (sc && sc->numel == 0) sc = NULL;
  if (sz && sz->numel == 0) sz = NULL;
  if (!sc == !sz) return kernel_fail(k, "exactly one of 'scales' and 'sizes' must be given");
  int32_t axes[TENSOR_MAX_RANK], na = x->rank;
  const IrAttr *aa = ir_op_attr(k->op, "axes");
  if (aa) {
    na = (int32_t)aa->u.ints.n;
    for (int32_t i = 0; i < na; i++)
      if (!dense_axis(k, aa->u.ints.v[i], x->rank, false, &axes[i])) return false;
  } else {
    for (int32_t i = 0; i < na; i++) axes[i] = i;
  }
  const Tensor *given = sc ? sc : sz;
  if (given->numel != na)
    return kernel_fail(k, "'%s' has %lld values, expected %d", sc ? "scales" : "sizes", (long long)given->numel, na);
  if (roi && roi->numel != 0 && roi->numel != 2 * na)
    return kernel_fail(k, "'roi' has %lld values, expected %d", (long long)roi->numel, 2 * na);
  for (int32_t i = 0; i < x->rank; i++) out[i] = x->dims[i], scale[i] = 1, r0[i] = 0, r1[i] = 1;
  const char *policy = ir_op_attr_string(k->op, "keep_aspect_ratio_policy", "stretch");
  bool stretch = strcmp(policy, "stretch") == 0, larger = strcmp(policy, "not_larger") == 0;
  if (!stretch && !larger && strcmp(policy, "not_smaller") != 0)
    return kernel_fail(k, "unknown keep_aspect_ratio_policy '%s'", policy);
  double common = larger ? INFINITY : 0;
  for (int32_t i = 0; i < na; i++) {
    int32_t ax = axes[i];
    if (roi && roi->numel) r0[ax] = tensor_get_f64(roi, i), r1[ax] = tensor_get_f64(roi, na + i);
    if (sc) {
      scale[ax] = tensor_get_f64(sc, i);
      if (!(scale[ax] > 0)) return kernel_fail(k, "scales must be positive");
      double crop = strcmp(ir_op_attr_string(k->op, "coordinate_transformation_mode", ""), "tf_crop_and_resize")
                        ? 1 : r1[ax] - r0[ax];
      out[ax] = (int64_t)floor((double)x->dims[ax] * crop * scale[ax]);
    } else {
      out[ax] = tensor_get_i64(sz, i);
      if (out[ax] < 0) return kernel_fail(k, "sizes must not be negative");
      scale[ax] = x->dims[ax] ? (double)out[ax] / (double)x->dims[ax] : 1;
      common = larger ? fmin(common, scale[ax]) : fmax(common, scale[ax]);
    }
  }
  if (sz && !stretch)
    for (int32_t i = 0; i < na; i++) {
      scale[axes[i]] = common;
      out[axes[i]] = (int64_t)nearbyint(common * (double)x->dims[axes[i]]);
    }
  return true;
}

static bool k_resize(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  IrElem ye = kernel_result_elem(k, 0);
  if (x->elem != ye) return kernel_fail(k, "input is %s, result %s", ir_elem_name(x->elem), ir_elem_name(ye));
  RsAttrs ra = {0};
  int64_t out[TENSOR_MAX_RANK];
  double scale[TENSOR_MAX_RANK], r0[TENSOR_MAX_RANK], r1[TENSOR_MAX_RANK];
  if (!read_attrs(k, &ra) || !read_sizes(k, x, out, scale, r0, r1)) return false;
  Tensor *y = kernel_output(k, 0, ye, x->rank, out);
  if (!y) return false;
  bool crop = strcmp(ra.ctm, "tf_crop_and_resize") == 0;
  /* Intermediates can exceed both ends (up along one axis, down another):
   * bound them by the product of the larger dim of each axis. */
  int64_t dims[TENSOR_MAX_RANK], maxn = 1;
  for (int32_t i = 0; i < x->rank; i++) {
    dims[i] = x->dims[i];
    maxn *= out[i] > x->dims[i] ? out[i] : x->dims[i];
  }
  double *a = dense_to_f64(k, x), *b = a ? malloc((size_t)(maxn ? maxn : 1) * sizeof *b) : NULL;
  bool *outside = b && crop ? calloc((size_t)(y->numel ? y->numel : 1), sizeof *outside) : NULL;
  bool ok = b && (!crop || outside);
  if (ok) {
    double *grown = realloc(a, (size_t)(maxn ? maxn : 1) * sizeof *a);
    ok = grown != NULL;
    if (ok) a = grown;
  }
  for (int32_t ax = 0; ok && ax < x->rank; ax++) {
    bool identity = out[ax] == x->dims[ax] && scale[ax] == 1 && !crop;
    if (identity) continue;
    AxisMap am = {.in = x->dims[ax], .out = out[ax]};
    ok = am.in > 0 || am.out == 0 ? build_map(k, &ra, scale[ax], r0[ax], r1[ax], &am)
                                  : kernel_fail(k, "cannot resize an empty axis %d to %lld", ax, (long long)am.out);
    if (ok) {
      pass_1d(a, b, dims, x->rank, ax, &am);
      dims[ax] = am.out;
      double *t = a;
      a = b, b = t;
      if (crop) { /* mark every output element whose index on ax is outside */
        int64_t inner = 1;
        for (int32_t i = ax + 1; i < x->rank; i++) inner *= out[i];
        for (int64_t e = 0; e < y->numel; e++) outside[e] |= am.outside[e / inner % am.out];
      }
    }
    free(am.idx);
    free(am.w);
    free(am.outside);
  }
  if (ok)
    for (int64_t e = 0; e < y->numel; e++) {
      double v = outside && outside[e] ? ra.extrap : a[e];
      tensor_set_f64(y, e, ir_elem_is_float(ye) ? v : nearbyint(v));
    }
  free(a);
  free(b);
  free(outside);
  return ok || kernel_fail(k, "out of memory");
}

void kernels_register_resize(KernelFn *table) { table[IR_OP_RESIZE] = k_resize; }
