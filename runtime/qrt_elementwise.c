/* libquench_rt elementwise kernels (qrt_ops.h): unary f32 activations and
 * math, broadcasting binary ops, strided copies and Cast. Each mirrors the
 * interpreter (compiler/interp/k_activation.c, k_unary.c, k_binary.c,
 * k_cast.c, k_elementwise.c) bit for bit: the same float formulas with the
 * float libm functions <tgmath.h> picks there, integers in int64 wrapping to
 * the result type. Compile with -ffp-contract=off. Tests:
 * test/unit/test_qrt_ops.c. */
#include <math.h>
#include <string.h>

#include "qrt_ops.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QRT_MAXR 8

size_t qrt_elem_size(qrt_elem e) {
  switch (e) {
  case QRT_F32:
  case QRT_I32: return 4;
  case QRT_I64: return 8;
  default: return 1;
  }
}

/* ---- unary ------------------------------------------------------------------ */

/* The formulas of k_activation.c / k_unary.c with T = float. */
static inline float softplus_f(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline float sigmoid_f(float x) { return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)); }
static inline float gelu_f(float x) { return 0.5f * x * (1 + erff(x / sqrtf(2.0f))); }
static inline float gelu_tanh_f(float x) {
  return 0.5f * x * (1 + tanhf(sqrtf(2 / (float)3.14159265358979323846) * (x + 0.044715f * x * x * x)));
}

#define UN_LOOP(EXPR)                                                                                                  \
  do {                                                                                                                 \
    for (int64_t i = 0; i < n; i++) {                                                                                  \
      float v = x[i];                                                                                                  \
      y[i] = (EXPR);                                                                                                   \
    }                                                                                                                  \
  } while (0)

static void unary_run(int op, float a, float b, const float *x, float *y, int64_t n) {
  switch (op) {
  case QRT_RELU: UN_LOOP(v < 0 ? 0.0f : v); break;
  case QRT_SIGMOID: UN_LOOP(sigmoid_f(v)); break;
  case QRT_HARDSIGMOID: UN_LOOP(fmaxf(0.0f, fminf(1.0f, a * v + b))); break;
  case QRT_HARDSWISH: UN_LOOP(v * fmaxf(0.0f, fminf(1.0f, v / 6 + 0.5f))); break;
  case QRT_TANH: UN_LOOP(tanhf(v)); break;
  case QRT_GELU: UN_LOOP(gelu_f(v)); break;
  case QRT_GELU_TANH: UN_LOOP(gelu_tanh_f(v)); break;
  case QRT_EXP: UN_LOOP(expf(v)); break;
  case QRT_LOG: UN_LOOP(logf(v)); break;
  case QRT_SQRT: UN_LOOP(sqrtf(v)); break;
  case QRT_RECIPROCAL: UN_LOOP(1.0f / v); break;
  case QRT_NEG: UN_LOOP(-v); break;
  case QRT_ABS: UN_LOOP(fabsf(v)); break;
  case QRT_ERF: UN_LOOP(erff(v)); break;
  case QRT_LEAKYRELU: UN_LOOP(v < 0 ? a * v : v); break;
  case QRT_CLIP: { /* min(max(x, lo), hi): NaN passes, lo > hi gives hi */
    for (int64_t i = 0; i < n; i++) {
      float v = x[i] < a ? a : x[i];
      y[i] = v > b ? b : v;
    }
    break;
  }
  case QRT_SOFTPLUS: UN_LOOP(softplus_f(v)); break;
  case QRT_ELU: UN_LOOP(v < 0 ? a * (expf(v) - 1) : v); break;
  default: break;
  }
}

typedef struct unary_job {
  int op;
  float a, b;
  const float *x;
  float *y;
} unary_job;

static void unary_task(void *ctx, int64_t b, int64_t e) {
  const unary_job *j = ctx;
  unary_run(j->op, j->a, j->b, j->x + b, j->y + b, e - b);
}

void qrt_unary_f32_mt(qrt_pool *pool, int op, float alpha, float beta, const float *x, float *y, int64_t n) {
  unary_job j = {op, alpha, beta, x, y};
  /* Cheap ops are memory bound: split only big buffers. */
  int64_t grain =
      op == QRT_RELU || op == QRT_NEG || op == QRT_ABS || op == QRT_CLIP || op == QRT_LEAKYRELU ? 65536 : 4096;
  qrt_parallel_for(pool, n, grain, unary_task, &j);
}

void qrt_unary_f32(int op, float alpha, float beta, const float *x, float *y, int64_t n) {
  unary_run(op, alpha, beta, x, y, n);
}

/* ---- the N-d row walk ------------------------------------------------------- */

/* One row: n elements, y contiguous, a and b at element strides sa, sb. */
typedef void (*row_fn)(int op, qrt_elem e, void *y, const void *a, int64_t sa, const void *b, int64_t sb, int64_t n);

/* Walks dims[0..rank) in row-major order; rows are the last dim. Byte
 * strides: ea/eb for the operands, ey for y. */
static void walk3(int rank, const int64_t *dims, char *y, size_t ey, const char *a, const int64_t *sa, size_t ea,
                  const char *b, const int64_t *sb, size_t eb, row_fn row, int op, qrt_elem e) {
  if (rank <= 0) {
    row(op, e, y, a, 0, b, 0, 1);
    return;
  }
  for (int d = 0; d < rank; d++)
    if (dims[d] <= 0)
      return;
  int64_t n = dims[rank - 1], idx[QRT_MAXR] = {0};
  int64_t ia = 0, ib = 0, iy = 0;
  for (;;) {
    row(op, e, y + iy * (int64_t)ey, a + ia * (int64_t)ea, sa[rank - 1], b + ib * (int64_t)eb, sb[rank - 1], n);
    iy += n;
    int d = rank - 2;
    for (; d >= 0; d--) {
      ia += sa[d], ib += sb[d];
      if (++idx[d] < dims[d])
        break;
      ia -= sa[d] * dims[d], ib -= sb[d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0)
      return;
  }
}

/* ---- binary ----------------------------------------------------------------- */

/* Max and Min propagate NaN (k_binary.c's FMAX/FMIN). */
#define FMAX(x, w) ((x) > (w) || (x) != (x) ? (x) : (w))
#define FMIN(x, w) ((x) < (w) || (x) != (x) ? (x) : (w))

/* The four stride patterns of a row, each a plain loop. */
#define ROW_LOOPS(T_IN, T_OUT, EXPR)                                                                                   \
  do {                                                                                                                 \
    T_OUT *yy = yv;                                                                                                    \
    const T_IN *aa = av, *bb = bv;                                                                                     \
    if (sa == 1 && sb == 1) {                                                                                          \
      for (int64_t i = 0; i < n; i++) {                                                                                \
        T_IN x = aa[i], w = bb[i];                                                                                     \
        yy[i] = (T_OUT)(EXPR);                                                                                         \
      }                                                                                                                \
    } else if (sa == 1 && sb == 0) {                                                                                   \
      T_IN w = *bb;                                                                                                    \
      for (int64_t i = 0; i < n; i++) {                                                                                \
        T_IN x = aa[i];                                                                                                \
        yy[i] = (T_OUT)(EXPR);                                                                                         \
      }                                                                                                                \
    } else if (sa == 0 && sb == 1) {                                                                                   \
      T_IN x = *aa;                                                                                                    \
      for (int64_t i = 0; i < n; i++) {                                                                                \
        T_IN w = bb[i];                                                                                                \
        yy[i] = (T_OUT)(EXPR);                                                                                         \
      }                                                                                                                \
    } else {                                                                                                           \
      for (int64_t i = 0; i < n; i++) {                                                                                \
        T_IN x = aa[i * sa], w = bb[i * sb];                                                                           \
        yy[i] = (T_OUT)(EXPR);                                                                                         \
      }                                                                                                                \
    }                                                                                                                  \
  } while (0)

static void row_f32(int op, qrt_elem e, void *yv, const void *av, int64_t sa, const void *bv, int64_t sb, int64_t n) {
  (void)e;
  switch (op) {
  case QRT_ADD: ROW_LOOPS(float, float, x + w); break;
  case QRT_SUB: ROW_LOOPS(float, float, x - w); break;
  case QRT_MUL: ROW_LOOPS(float, float, x *w); break;
  case QRT_DIV: ROW_LOOPS(float, float, x / w); break;
  case QRT_MAX: ROW_LOOPS(float, float, FMAX(x, w)); break;
  case QRT_MIN: ROW_LOOPS(float, float, FMIN(x, w)); break;
  case QRT_POW: ROW_LOOPS(float, float, powf(x, w)); break;
  case QRT_EQUAL: ROW_LOOPS(float, uint8_t, x == w); break;
  case QRT_LESS: ROW_LOOPS(float, uint8_t, x < w); break;
  case QRT_GREATER: ROW_LOOPS(float, uint8_t, x > w); break;
  case QRT_LESS_EQUAL: ROW_LOOPS(float, uint8_t, x <= w); break;
  case QRT_GREATER_EQUAL: ROW_LOOPS(float, uint8_t, x >= w); break;
  case QRT_AND: ROW_LOOPS(float, uint8_t, (x != 0) & (w != 0)); break;
  case QRT_OR: ROW_LOOPS(float, uint8_t, (x != 0) | (w != 0)); break;
  default: break;
  }
}

/* Integer pow by squaring, wrapping; negative exponents truncate 1/x^n. */
static int64_t ipow(int64_t x, int64_t e) {
  if (e < 0)
    return x == 1 ? 1 : x == -1 ? (e & 1 ? -1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)x;
  for (; e; e >>= 1, b *= b)
    if (e & 1)
      r *= b;
  return (int64_t)r;
}

static int64_t bin_i(int op, int64_t x, int64_t w) {
  uint64_t ux = (uint64_t)x, uw = (uint64_t)w;
  switch (op) {
  case QRT_ADD: return (int64_t)(ux + uw);
  case QRT_SUB: return (int64_t)(ux - uw);
  case QRT_MUL: return (int64_t)(ux * uw);
  case QRT_DIV:
    if (w == 0)
      return 0;
    if (w == -1)
      return (int64_t)(0 - ux);
    return x / w;
  case QRT_MAX: return x > w ? x : w;
  case QRT_MIN: return x < w ? x : w;
  case QRT_POW: return ipow(x, w);
  case QRT_EQUAL: return x == w;
  case QRT_LESS: return x < w;
  case QRT_GREATER: return x > w;
  case QRT_LESS_EQUAL: return x <= w;
  case QRT_GREATER_EQUAL: return x >= w;
  case QRT_AND: return (x != 0) & (w != 0);
  case QRT_OR: return (x != 0) | (w != 0);
  default: return 0;
  }
}

static int64_t load_int(qrt_elem e, const void *p, int64_t i) {
  switch (e) {
  case QRT_U8: return ((const uint8_t *)p)[i];
  case QRT_S8: return ((const int8_t *)p)[i];
  case QRT_I32: return ((const int32_t *)p)[i];
  case QRT_I64: return ((const int64_t *)p)[i];
  case QRT_BOOL: return ((const uint8_t *)p)[i] & 1;
  default: return 0;
  }
}

/* Stores v wrapped to e (bool: v != 0). */
static void store_int(qrt_elem e, void *p, int64_t i, int64_t v) {
  switch (e) {
  case QRT_U8:
  case QRT_S8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
  case QRT_I32: ((uint32_t *)p)[i] = (uint32_t)(uint64_t)v; break;
  case QRT_I64: ((int64_t *)p)[i] = v; break;
  case QRT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  default: break;
  }
}

static int is_bool_op(int op) { return op >= QRT_EQUAL && op <= QRT_OR; }

/* Any integer type, one element at a time. */
static void row_int(int op, qrt_elem e, void *yv, const void *av, int64_t sa, const void *bv, int64_t sb, int64_t n) {
  qrt_elem ye = is_bool_op(op) ? QRT_BOOL : e;
  for (int64_t i = 0; i < n; i++)
    store_int(ye, yv, i, bin_i(op, load_int(e, av, i * sa), load_int(e, bv, i * sb)));
}

#define INT_ROW(NAME, T, TU)                                                                                           \
  static void NAME(int op, qrt_elem e, void *yv, const void *av, int64_t sa, const void *bv, int64_t sb, int64_t n) {  \
    switch (op) {                                                                                                      \
    case QRT_ADD: ROW_LOOPS(T, T, (TU)x + (TU)w); break;                                                               \
    case QRT_SUB: ROW_LOOPS(T, T, (TU)x - (TU)w); break;                                                               \
    case QRT_MUL: ROW_LOOPS(T, T, (TU)x *(TU)w); break;                                                                \
    case QRT_MAX: ROW_LOOPS(T, T, x > w ? x : w); break;                                                               \
    case QRT_MIN: ROW_LOOPS(T, T, x < w ? x : w); break;                                                               \
    case QRT_EQUAL: ROW_LOOPS(T, uint8_t, x == w); break;                                                              \
    case QRT_LESS: ROW_LOOPS(T, uint8_t, x < w); break;                                                                \
    case QRT_GREATER: ROW_LOOPS(T, uint8_t, x > w); break;                                                             \
    case QRT_LESS_EQUAL: ROW_LOOPS(T, uint8_t, x <= w); break;                                                         \
    case QRT_GREATER_EQUAL: ROW_LOOPS(T, uint8_t, x >= w); break;                                                      \
    default: row_int(op, e, yv, av, sa, bv, sb, n); break;                                                             \
    }                                                                                                                  \
  }

INT_ROW(row_i32, int32_t, uint32_t)
INT_ROW(row_i64, int64_t, uint64_t)

void qrt_binary(int op, qrt_elem elem, int rank, const int64_t *dims, const void *a, const int64_t *sa, const void *b,
                const int64_t *sb, void *y) {
  size_t es = qrt_elem_size(elem), ey = is_bool_op(op) ? 1 : es;
  row_fn row = elem == QRT_F32 ? row_f32 : elem == QRT_I32 ? row_i32 : elem == QRT_I64 ? row_i64 : row_int;
  walk3(rank, dims, y, ey, a, sa, es, b, sb, es, row, op, elem);
}

typedef struct binary_job {
  int op;
  qrt_elem elem;
  int rank;
  const int64_t *dims, *sa, *sb;
  const char *a, *b;
  char *y;
  int64_t rows; /* task units: whole rows, or elements of a single row */
} binary_job;

/* Rows [r0, r1) of the walk (or elements [r0, r1) when there is one row):
 * each output element is computed exactly as in the serial walk. */
static void binary_task(void *ctx, int64_t r0, int64_t r1) {
  const binary_job *j = ctx;
  size_t es = qrt_elem_size(j->elem), ey = is_bool_op(j->op) ? 1 : es;
  row_fn row = j->elem == QRT_F32 ? row_f32 : j->elem == QRT_I32 ? row_i32 : j->elem == QRT_I64 ? row_i64 : row_int;
  int last = j->rank - 1;
  if (j->rows == 1) {
    int64_t sa = j->sa[last], sb = j->sb[last];
    row(j->op, j->elem, j->y + r0 * (int64_t)ey, j->a + r0 * sa * (int64_t)es, sa, j->b + r0 * sb * (int64_t)es, sb,
        r1 - r0);
    return;
  }
  int64_t n = j->dims[last];
  for (int64_t r = r0; r < r1; r++) {
    int64_t ia = 0, ib = 0, rem = r;
    for (int d = last - 1; d >= 0; d--) {
      int64_t i = rem % j->dims[d];
      rem /= j->dims[d];
      ia += i * j->sa[d], ib += i * j->sb[d];
    }
    row(j->op, j->elem, j->y + r * n * (int64_t)ey, j->a + ia * (int64_t)es, j->sa[last], j->b + ib * (int64_t)es,
        j->sb[last], n);
  }
}

void qrt_binary_mt(qrt_pool *pool, int op, qrt_elem elem, int rank, const int64_t *dims, const void *a,
                   const int64_t *sa, const void *b, const int64_t *sb, void *y) {
  int64_t total = 1;
  for (int d = 0; d < rank; d++)
    total *= dims[d];
  if (!pool || rank <= 0 || total < 65536) {
    qrt_binary(op, elem, rank, dims, a, sa, b, sb, y);
    return;
  }
  int64_t n = dims[rank - 1], rows = total / n;
  binary_job j = {op, elem, rank, dims, sa, sb, a, b, y, rows};
  if (rows == 1)
    qrt_parallel_for(pool, n, 16384, binary_task, &j);
  else
    qrt_parallel_for(pool, rows, n >= 16384 ? 1 : 16384 / n, binary_task, &j);
}

/* ---- strided copy ------------------------------------------------------------ */

#define GATHER(T)                                                                                                      \
  do {                                                                                                                 \
    const T *s_ = (const T *)x;                                                                                        \
    T *o_ = (T *)yv;                                                                                                   \
    for (int64_t i = 0; i < n; i++)                                                                                    \
      o_[i] = s_[i * st];                                                                                              \
  } while (0)

static void copy_row(size_t eb, void *yv, const void *x, int64_t st, int64_t n) {
  if (st == 1)
    memcpy(yv, x, (size_t)n * eb);
  else if (eb == 1)
    GATHER(uint8_t);
  else if (eb == 2)
    GATHER(uint16_t);
  else if (eb == 4)
    GATHER(uint32_t);
  else if (eb == 8)
    GATHER(uint64_t);
  else
    for (int64_t i = 0; i < n; i++)
      memcpy((char *)yv + (size_t)i * eb, (const char *)x + (size_t)(i * st) * eb, eb);
}

/* A 2-d strided copy in square tiles, so that a transpose (inner stride
 * large) reads each source cache line for a whole tile of rows, not once
 * per output element. The same elements, in another order. */
#define QRT_TILE 32
static void copy_tiled2(size_t eb, const int64_t *dims, const void *src, const int64_t *st, void *dst) {
  for (int64_t r0 = 0; r0 < dims[0]; r0 += QRT_TILE)
    for (int64_t c0 = 0; c0 < dims[1]; c0 += QRT_TILE) {
      int64_t r1 = r0 + QRT_TILE < dims[0] ? r0 + QRT_TILE : dims[0];
      int64_t c1 = c0 + QRT_TILE < dims[1] ? c0 + QRT_TILE : dims[1];
      for (int64_t r = r0; r < r1; r++)
        copy_row(eb, (char *)dst + (r * dims[1] + c0) * (int64_t)eb,
                 (const char *)src + (r * st[0] + c0 * st[1]) * (int64_t)eb, st[1], c1 - c0);
    }
}

void qrt_copy_strided(size_t elem_size, int rank, const int64_t *dims, const void *src, const int64_t *src_strides,
                      void *dst) {
  if (rank <= 0) {
    memcpy(dst, src, elem_size);
    return;
  }
  for (int d = 0; d < rank; d++)
    if (dims[d] <= 0)
      return;
  if (rank == 2 && src_strides[1] != 1 && dims[0] >= QRT_TILE && dims[1] >= QRT_TILE) {
    copy_tiled2(elem_size, dims, src, src_strides, dst);
    return;
  }
  int64_t n = dims[rank - 1], idx[QRT_MAXR] = {0}, is = 0, iy = 0, eb = (int64_t)elem_size;
  for (;;) {
    copy_row(elem_size, (char *)dst + iy * eb, (const char *)src + is * eb, src_strides[rank - 1], n);
    iy += n;
    int d = rank - 2;
    for (; d >= 0; d--) {
      is += src_strides[d];
      if (++idx[d] < dims[d])
        break;
      is -= src_strides[d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0)
      return;
  }
}

/* ---- Cast ------------------------------------------------------------------- */

/* tensor_f64_to_i64: NaN to 0, saturating at the int64 range, else truncation. */
static inline int64_t f64_to_i64(double v) {
  if (v != v)
    return 0;
  if (v >= 9223372036854775807.0)
    return INT64_MAX;
  if (v <= -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t)v;
}

#define CONV(TX, TY, EXPR)                                                                                             \
  do {                                                                                                                 \
    const TX *xp = x;                                                                                                  \
    TY *yp = y;                                                                                                        \
    for (int64_t i = 0; i < n; i++) {                                                                                  \
      TX v = xp[i];                                                                                                    \
      yp[i] = (TY)(EXPR);                                                                                              \
    }                                                                                                                  \
  } while (0)

/* One integer source type (LOAD gives its int64 value) into every target. */
#define CONV_INT(TX, LOAD)                                                                                             \
  switch (to) {                                                                                                        \
  case QRT_F32: CONV(TX, float, (float)(int64_t)LOAD(v)); return;                                                      \
  case QRT_U8:                                                                                                         \
  case QRT_S8: CONV(TX, uint8_t, (uint64_t)(int64_t)LOAD(v)); return;                                                  \
  case QRT_I32: CONV(TX, uint32_t, (uint64_t)(int64_t)LOAD(v)); return;                                                \
  case QRT_I64: CONV(TX, int64_t, (int64_t)LOAD(v)); return;                                                           \
  case QRT_BOOL: CONV(TX, uint8_t, LOAD(v) != 0); return;                                                              \
  default: return;                                                                                                     \
  }

#define LD(v) (v)
#define LD_BOOL(v) ((v)&1)

void qrt_cast(qrt_elem from, qrt_elem to, const void *x, void *y, int64_t n) {
  if (n <= 0)
    return;
  if (from == to) {
    memcpy(y, x, (size_t)n * qrt_elem_size(from));
    return;
  }
  switch (from) {
  case QRT_F32:
    switch (to) {
    case QRT_U8:
    case QRT_S8: CONV(float, uint8_t, (uint64_t)f64_to_i64((double)v)); return;
    case QRT_I32: CONV(float, uint32_t, (uint64_t)f64_to_i64((double)v)); return;
    case QRT_I64: CONV(float, int64_t, f64_to_i64((double)v)); return;
    case QRT_BOOL: CONV(float, uint8_t, v != 0); return;
    default: return;
    }
  case QRT_U8: CONV_INT(uint8_t, LD)
  case QRT_S8: CONV_INT(int8_t, LD)
  case QRT_I32: CONV_INT(int32_t, LD)
  case QRT_I64: CONV_INT(int64_t, LD)
  case QRT_BOOL: CONV_INT(uint8_t, LD_BOOL)
  default: return;
  }
}
