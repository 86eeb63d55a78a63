/* Helpers shared by the dense kernels (linalg, conv, pool, norm, resize):
 * reading int-list attributes, the sliding-window geometry of Conv and the
 * pools (ONNX auto_pad, pads, ceil_mode), and whole tensors as doubles. */
#ifndef QUENCH_INTERP_DENSE_UTIL_H
#define QUENCH_INTERP_DENSE_UTIL_H

#include "interp/kernel.h"

#define WIN_MAX_SPATIAL 8

/* The ints attribute `name` into out[0..n): its values when present (it
 * must then have exactly n entries, else a kernel_fail), else dflt. */
bool dense_attr_ints(KernelCtx *k, const char *name, int64_t n, int64_t dflt, int64_t *out);

/* Window geometry over the spatial dims of an N x C x D1 x ... input. */
typedef struct WinGeom {
  int32_t nsp;                     /* number of spatial dims */
  int64_t in[WIN_MAX_SPATIAL];     /* input spatial dims */
  int64_t kern[WIN_MAX_SPATIAL];   /* kernel extent (undilated) */
  int64_t stride[WIN_MAX_SPATIAL];
  int64_t dil[WIN_MAX_SPATIAL];
  int64_t pad0[WIN_MAX_SPATIAL];   /* padding before */
  int64_t pad1[WIN_MAX_SPATIAL];   /* padding after */
  int64_t out[WIN_MAX_SPATIAL];
} WinGeom;

/* Reads strides, dilations, pads and auto_pad for input x (rank >= 3) and
 * kernel extents kern[0..rank-2), and computes output dims (floor, or the
 * ceil_mode rule of the pools: a window must start inside the input or its
 * left padding). Reports bad attributes and empty outputs. */
bool win_geom(KernelCtx *k, const Tensor *x, const int64_t *kern, bool ceil_mode, WinGeom *g);

/* Window geometry with exactly 3 spatial dims (fewer are padded with
 * leading unit dims), for kernels that loop over 1-D to 3-D alike. */
typedef struct G3 {
  int64_t in[3], k[3], s[3], d[3], p[3], out[3];
} G3;

/* g from w; false when w has more than 3 spatial dims. */
bool g3_from(const WinGeom *w, G3 *g);
static inline int64_t prod3(const int64_t *v) { return v[0] * v[1] * v[2]; }
/* The i in [0, n) with 0 <= i*s + off < limit are [*lo, *hi). */
void valid_range(int64_t n, int64_t s, int64_t off, int64_t limit, int64_t *lo, int64_t *hi);

/* im2col for element type T (needs <string.h>): col (cg*k0*k1*k2 rows x
 * output positions) = the input patch of each output position, zeros where
 * the window hangs over the padding. Float convolution (k_conv.c) and the
 * int16 integer GEMM path (k_qlinear.c) instantiate it. */
#define DEFINE_IM2COL(T, name) \
static void name(const T *x, int64_t cg, const G3 *g, T *col) {                        \
  int64_t isp = prod3(g->in), o12 = g->out[1] * g->out[2];                             \
  for (int64_t c = 0; c < cg; c++)                                                     \
    for (int64_t k0 = 0; k0 < g->k[0]; k0++)                                           \
      for (int64_t k1 = 0; k1 < g->k[1]; k1++)                                         \
        for (int64_t k2 = 0; k2 < g->k[2]; k2++) {                                     \
          int64_t off2 = k2 * g->d[2] - g->p[2], lo, hi;                               \
          valid_range(g->out[2], g->s[2], off2, g->in[2], &lo, &hi);                   \
          for (int64_t o0 = 0; o0 < g->out[0]; o0++, col += o12) {                     \
            int64_t i0 = o0 * g->s[0] + k0 * g->d[0] - g->p[0];                        \
            if (i0 < 0 || i0 >= g->in[0]) {                                            \
              memset(col, 0, (size_t)o12 * sizeof *col);                               \
              continue;                                                                \
            }                                                                          \
            for (int64_t o1 = 0; o1 < g->out[1]; o1++) {                               \
              int64_t i1 = o1 * g->s[1] + k1 * g->d[1] - g->p[1];                      \
              T *cr = col + o1 * g->out[2];                                            \
              if (i1 < 0 || i1 >= g->in[1]) {                                          \
                memset(cr, 0, (size_t)g->out[2] * sizeof *cr);                         \
                continue;                                                              \
              }                                                                        \
              const T *xr = x + c * isp + (i0 * g->in[1] + i1) * g->in[2];             \
              for (int64_t o2 = 0; o2 < lo; o2++) cr[o2] = 0;                          \
              if (g->s[2] == 1 && hi > lo)                                             \
                memcpy(cr + lo, xr + lo + off2, (size_t)(hi - lo) * sizeof *cr);       \
              else                                                                     \
                for (int64_t o2 = lo; o2 < hi; o2++) cr[o2] = xr[o2 * g->s[2] + off2]; \
              for (int64_t o2 = hi; o2 < g->out[2]; o2++) cr[o2] = 0;                  \
            }                                                                          \
          }                                                                            \
        }                                                                              \
}


/* All of t as doubles (malloc'ed; NULL with a kernel_fail when out of
 * memory). */
double *dense_to_f64(KernelCtx *k, const Tensor *t);
/* Writes v[0..t->numel) into t through the generic accessor. */
void dense_from_f64(Tensor *t, const double *v);

/* Product of dims[from..to). */
int64_t dense_span(const Tensor *t, int32_t from, int32_t to);

/* Normalizes axis (may be negative) for rank r; kernel_fail when outside
 * [-r, r) (or [-r, r] when allow_end). */
bool dense_axis(KernelCtx *k, int64_t axis, int32_t r, bool allow_end, int32_t *out);

#endif
