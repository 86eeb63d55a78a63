/* Kernels: binary elementwise ops with numpy broadcasting (Add, Sub, Mul,
 * Div, Pow, Mod, BitShift, And, Or, Xor, the comparisons, PRelu) and the
 * variadic Max, Min, Sum, Mean. Each computes in its own type: f32 in float
 * (plain loops for the vectorizer), f64 in double, f16/bf16/f8 in float
 * rounded once on store, integers in int64 wrapping to the result type
 * (u64 compared and divided unsigned). */
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "interp/k_elementwise.h"

typedef enum {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MOD, B_FMOD, B_SHL, B_SHR, B_AND, B_OR, B_XOR,
  B_EQ, B_GT, B_GE, B_LT, B_LE, B_MAX, B_MIN, B_PRELU
} BinOp;

static bool is_cmp(BinOp o) { return o >= B_EQ && o <= B_LE; }

/* Max and Min propagate NaN, as numpy's maximum/minimum do. */
#define FMAX(x, w) ((x) > (w) || (x) != (x) ? (x) : (w))
#define FMIN(x, w) ((x) < (w) || (x) != (x) ? (x) : (w))

/* The float ops, instantiated for float and double (<tgmath.h> picks
 * powf/pow and fmodf/fmod). B_MOD is numpy's mod: the divisor's sign. */
#define BIN_FLOAT(NAME, T)                                 \
  static T NAME(BinOp o, T x, T w) {                       \
    switch (o) {                                           \
    case B_ADD: return x + w;                              \
    case B_SUB: return x - w;                              \
    case B_MUL: return x * w;                              \
    case B_DIV: return x / w;                              \
    case B_POW: return pow(x, w);                          \
    case B_FMOD: return fmod(x, w);                        \
    case B_MOD: {                                          \
      T r = fmod(x, w);                                    \
      if (r == 0) return copysign((T)0, w);                \
      return (r < 0) != (w < 0) ? r + w : r;               \
    }                                                      \
    case B_MAX: return FMAX(x, w);                         \
    case B_MIN: return FMIN(x, w);                         \
    case B_PRELU: return x < 0 ? w * x : x;                \
    default: return NAN;                                   \
    }                                                      \
  }

BIN_FLOAT(bin_f, float)
BIN_FLOAT(bin_d, double)

/* Integer pow by squaring, wrapping; negative exponents truncate 1/x^n. */
static int64_t ipow(int64_t x, int64_t e) {
  if (e < 0) return x == 1 ? 1 : x == -1 ? (e & 1 ? -1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)x;
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return (int64_t)r;
}

/* Integer op; u: operands are u64 bit patterns. *zero set on a division
 * by zero. Wrapping arithmetic is done in uint64. */
static int64_t bin_i(BinOp o, int64_t x, int64_t w, bool u, int bits, bool *zero) {
  uint64_t ux = (uint64_t)x, uw = (uint64_t)w;
  switch (o) {
  case B_ADD: return (int64_t)(ux + uw);
  case B_SUB: return (int64_t)(ux - uw);
  case B_MUL: return (int64_t)(ux * uw);
  case B_DIV:
  case B_MOD:
  case B_FMOD:
    if (w == 0) {
      *zero = true;
      return 0;
    }
    if (u) return (int64_t)(o == B_DIV ? ux / uw : ux % uw);
    if (w == -1) return o == B_DIV ? (int64_t)(0 - ux) : 0; /* INT64_MIN / -1 wraps */
    if (o == B_DIV) return x / w;
    {
      int64_t r = x % w;
      if (o == B_MOD && r != 0 && ((r < 0) != (w < 0))) r += w;
      return r;
    }
  case B_POW: return ipow(x, w);
  case B_SHL: return uw >= (uint64_t)bits ? 0 : (int64_t)(ux << uw);
  case B_SHR: return uw >= (uint64_t)bits ? 0 : (int64_t)(ux >> uw);
  case B_AND: return (x != 0) & (w != 0);
  case B_OR: return (x != 0) | (w != 0);
  case B_XOR: return (x != 0) ^ (w != 0);
  case B_EQ: return x == w;
  case B_GT: return u ? ux > uw : x > w;
  case B_GE: return u ? ux >= uw : x >= w;
  case B_LT: return u ? ux < uw : x < w;
  case B_LE: return u ? ux <= uw : x <= w;
  case B_MAX: return (u ? ux > uw : x > w) ? x : w;
  case B_MIN: return (u ? ux < uw : x < w) ? x : w;
  case B_PRELU: return x < 0 ? (int64_t)(ux * uw) : x;
  }
  return 0;
}

static bool cmp_d(BinOp o, double x, double w) {
  switch (o) {
  case B_EQ: return x == w;
  case B_GT: return x > w;
  case B_GE: return x >= w;
  case B_LT: return x < w;
  default: return x <= w;
  }
}

typedef void (*RowFn)(void *y, const void *a, int64_t sa, const void *b, int64_t sb, int64_t n);

typedef struct BinCtx {
  BinOp op;
  Tensor *y;
  const Tensor *a, *b;
  bool zero;
  RowFn row; /* the typed row, when there is one */
} BinCtx;

/* Typed rows for f32, i32 and i64: the four stride patterns, each a plain
 * loop. Integer Add/Sub/Mul wrap through the unsigned type, as bin_i does. */

#define ROW(NAME, T_IN, T_OUT, EXPR)                                                                  \
  static void NAME(void *yv, const void *av, int64_t sa, const void *bv, int64_t sb, int64_t n) {    \
    T_OUT *y = yv;                                                                                    \
    const T_IN *a = av, *b = bv;                                                                      \
    if (sa == 1 && sb == 1) {                                                                         \
      for (int64_t i = 0; i < n; i++) {                                                               \
        T_IN x = a[i], w = b[i];                                                                      \
        y[i] = (T_OUT)(EXPR);                                                                         \
      }                                                                                               \
    } else if (sa == 1 && sb == 0) {                                                                  \
      T_IN w = *b;                                                                                    \
      for (int64_t i = 0; i < n; i++) {                                                               \
        T_IN x = a[i];                                                                                \
        y[i] = (T_OUT)(EXPR);                                                                         \
      }                                                                                               \
    } else if (sa == 0 && sb == 1) {                                                                  \
      T_IN x = *a;                                                                                    \
      for (int64_t i = 0; i < n; i++) {                                                               \
        T_IN w = b[i];                                                                                \
        y[i] = (T_OUT)(EXPR);                                                                         \
      }                                                                                               \
    } else {                                                                                          \
      for (int64_t i = 0; i < n; i++) {                                                               \
        T_IN x = a[i * sa], w = b[i * sb];                                                            \
        y[i] = (T_OUT)(EXPR);                                                                         \
      }                                                                                               \
    }                                                                                                 \
  }

/* The comparisons, for one input type. */
#define CMP_ROWS(S, T)                   \
  ROW(eq_##S, T, uint8_t, x == w)        \
  ROW(gt_##S, T, uint8_t, x > w)         \
  ROW(ge_##S, T, uint8_t, x >= w)        \
  ROW(lt_##S, T, uint8_t, x < w)         \
  ROW(le_##S, T, uint8_t, x <= w)
#define INT_ROWS(S, T, TU)                     \
  ROW(add_##S, T, T, (TU)x + (TU)w)            \
  ROW(sub_##S, T, T, (TU)x - (TU)w)            \
  ROW(mul_##S, T, T, (TU)x * (TU)w)            \
  CMP_ROWS(S, T)

ROW(add_f32, float, float, x + w)
ROW(sub_f32, float, float, x - w)
ROW(mul_f32, float, float, x * w)
ROW(div_f32, float, float, x / w)
ROW(max_f32, float, float, FMAX(x, w))
ROW(min_f32, float, float, FMIN(x, w))
ROW(prelu_f32, float, float, x < 0 ? w * x : x)
CMP_ROWS(f32, float)
INT_ROWS(i32, int32_t, uint32_t)
INT_ROWS(i64, int64_t, uint64_t)

/* The typed row for o on operands of type e (result: e, or bool for the
 * comparisons), or NULL. */
static RowFn typed_row(BinOp o, IrElem e) {
  int t = e == IR_ELEM_F32 ? 0 : e == IR_ELEM_I32 ? 1 : e == IR_ELEM_I64 ? 2 : -1;
  static const RowFn rows[][3] = {
      [B_ADD] = {add_f32, add_i32, add_i64}, [B_SUB] = {sub_f32, sub_i32, sub_i64},
      [B_MUL] = {mul_f32, mul_i32, mul_i64}, [B_DIV] = {div_f32, NULL, NULL},
      [B_MAX] = {max_f32, NULL, NULL},       [B_MIN] = {min_f32, NULL, NULL},
      [B_PRELU] = {prelu_f32, NULL, NULL},   [B_EQ] = {eq_f32, eq_i32, eq_i64},
      [B_GT] = {gt_f32, gt_i32, gt_i64},     [B_GE] = {ge_f32, ge_i32, ge_i64},
      [B_LT] = {lt_f32, lt_i32, lt_i64},     [B_LE] = {le_f32, le_i32, le_i64},
  };
  return t < 0 ? NULL : rows[o][t];
}

static bool fast_row(void *vc, const int64_t *off, const int64_t *st, int64_t n) {
  BinCtx *c = vc;
  size_t ey = (size_t)ir_elem_bytes(c->y->elem), ex = (size_t)ir_elem_bytes(c->a->elem);
  c->row((char *)c->y->data + (size_t)off[0] * ey, (const char *)c->a->data + (size_t)off[1] * ex, st[1],
         (const char *)c->b->data + (size_t)off[2] * ex, st[2], n);
  return true;
}

/* Any types, one element at a time through the generic accessors. */
static bool generic_row(void *vc, const int64_t *off, const int64_t *st, int64_t n) {
  BinCtx *c = vc;
  const Tensor *a = c->a, *b = c->b;
  Tensor *y = c->y;
  bool fa = ir_elem_is_float(a->elem), fb = ir_elem_is_float(b->elem);
  /* Pow of a float base by an integer exponent computes in double, as
   * numpy's type promotion does. */
  bool wide = a->elem == IR_ELEM_F64 || b->elem == IR_ELEM_F64 || y->elem == IR_ELEM_F64 || !fb;
  bool u = a->elem == IR_ELEM_U64;
  int bits = ir_elem_bits(a->elem);
  for (int64_t i = 0; i < n; i++) {
    int64_t ia = off[1] + i * st[1], ib = off[2] + i * st[2], iy = off[0] + i;
    if (is_cmp(c->op) && fa) {
      tensor_set_i64(y, iy, cmp_d(c->op, tensor_get_f64(a, ia), tensor_get_f64(b, ib)));
    } else if (fa || fb) { /* float operands, or Pow of an int base by a float exponent */
      double x = tensor_get_f64(a, ia), w = tensor_get_f64(b, ib);
      tensor_set_f64(y, iy, wide || !fa ? bin_d(c->op, x, w) : bin_f(c->op, (float)x, (float)w));
    } else {
      int64_t v = bin_i(c->op, tensor_get_i64(a, ia), tensor_get_i64(b, ib), u, bits, &c->zero);
      if (c->zero) return false;
      tensor_set_i64(y, iy, v);
    }
  }
  return true;
}

/* y (already allocated with the broadcast shape) = a op b. */
static bool bin_apply(KernelCtx *k, BinOp o, Tensor *y, const Tensor *a, const Tensor *b) {
  int64_t st[3][TENSOR_MAX_RANK];
  ew_contig_strides(y->rank, y->dims, st[0]);
  kernel_broadcast_strides(a, y->rank, y->dims, st[1]);
  kernel_broadcast_strides(b, y->rank, y->dims, st[2]);
  BinCtx c = {.op = o, .y = y, .a = a, .b = b};
  if (a->elem == b->elem && y->elem == (is_cmp(o) ? IR_ELEM_BOOL : a->elem)) c.row = typed_row(o, a->elem);
  bool fast = c.row != NULL;
  if (ew_walk(y->rank, y->dims, 3, st, fast ? fast_row : generic_row, &c)) return true;
  return kernel_fail(k, "integer division by zero");
}

typedef enum { T_NUM, T_INT, T_UINT, T_BOOL, T_ANY } TypeClass;

static bool type_ok(IrElem e, TypeClass tc) {
  switch (tc) {
  case T_NUM: return e != IR_ELEM_BOOL;
  case T_INT: return ir_elem_is_int(e);
  case T_UINT: return ir_elem_is_int(e) && !ir_elem_is_signed(e);
  case T_BOOL: return e == IR_ELEM_BOOL;
  default: return true;
  }
}

static const char *const TC_NAMES[] = {"a numeric type", "an integer type", "an unsigned integer type", "bool", ""};

static bool binary(KernelCtx *k, BinOp o, TypeClass tc) {
  const Tensor *a = kernel_in(k, 0), *b = kernel_in(k, 1);
  IrElem ye = kernel_result_elem(k, 0);
  if (!type_ok(a->elem, tc))
    return kernel_fail(k, "operand type %s is not supported (need %s)", ir_elem_name(a->elem), TC_NAMES[tc]);
  if (o != B_POW && b->elem != a->elem)
    return kernel_fail(k, "operands are %s and %s; they must have one type", ir_elem_name(a->elem),
                       ir_elem_name(b->elem));
  if (!is_cmp(o) && o != B_AND && o != B_OR && o != B_XOR && ye != a->elem)
    return kernel_fail(k, "result is %s, operand %s; they must match", ir_elem_name(ye), ir_elem_name(a->elem));
  if (o == B_POW && b->elem == IR_ELEM_BOOL) return kernel_fail(k, "exponent type bool is not supported");
  const Tensor *ops[2] = {a, b};
  int32_t r;
  int64_t dims[TENSOR_MAX_RANK];
  if (!kernel_broadcast_shape(k, ops, 2, &r, dims)) return false;
  Tensor *y = kernel_output(k, 0, ye, r, dims);
  return y && bin_apply(k, o, y, a, b);
}

static bool k_add(KernelCtx *k) { return binary(k, B_ADD, T_NUM); }
static bool k_sub(KernelCtx *k) { return binary(k, B_SUB, T_NUM); }
static bool k_mul(KernelCtx *k) { return binary(k, B_MUL, T_NUM); }
static bool k_div(KernelCtx *k) { return binary(k, B_DIV, T_NUM); }
static bool k_pow(KernelCtx *k) { return binary(k, B_POW, T_NUM); }
static bool k_prelu(KernelCtx *k) { return binary(k, B_PRELU, T_NUM); }
static bool k_and(KernelCtx *k) { return binary(k, B_AND, T_BOOL); }
static bool k_or(KernelCtx *k) { return binary(k, B_OR, T_BOOL); }
static bool k_xor(KernelCtx *k) { return binary(k, B_XOR, T_BOOL); }
static bool k_equal(KernelCtx *k) { return binary(k, B_EQ, T_ANY); }
static bool k_greater(KernelCtx *k) { return binary(k, B_GT, T_NUM); }
static bool k_greater_eq(KernelCtx *k) { return binary(k, B_GE, T_NUM); }
static bool k_less(KernelCtx *k) { return binary(k, B_LT, T_NUM); }
static bool k_less_eq(KernelCtx *k) { return binary(k, B_LE, T_NUM); }

static bool k_mod(KernelCtx *k) {
  int64_t fm = ir_op_attr_int(k->op, "fmod", 0);
  if (fm != 0 && fm != 1) return kernel_fail(k, "fmod must be 0 or 1, got %lld", (long long)fm);
  return binary(k, fm ? B_FMOD : B_MOD, T_NUM);
}

static bool k_bit_shift(KernelCtx *k) {
  const char *dir = ir_op_attr_string(k->op, "direction", "");
  bool left = strcmp(dir, "LEFT") == 0;
  if (!left && strcmp(dir, "RIGHT") != 0) return kernel_fail(k, "direction must be LEFT or RIGHT, got '%s'", dir);
  return binary(k, left ? B_SHL : B_SHR, T_UINT);
}

/* Max, Min, Sum, Mean: the broadcast of all operands, folded left to
 * right in the result type (as numpy evaluates a + b + c). */
static bool variadic(KernelCtx *k, BinOp o, bool mean) {
  IrElem ye = kernel_result_elem(k, 0);
  if (k->nin == 0) return kernel_fail(k, "needs at least one operand");
  for (uint32_t i = 0; i < k->nin; i++) {
    if (!kernel_in(k, i)) return kernel_fail(k, "operand #%u is absent", i);
    if (!ew_check_elem(k, i, ye)) return false;
  }
  if (ye == IR_ELEM_BOOL || (mean && !ir_elem_is_float(ye)))
    return kernel_fail(k, "type %s is not supported", ir_elem_name(ye));
  int32_t r;
  int64_t dims[TENSOR_MAX_RANK];
  if (!kernel_broadcast_shape(k, (const Tensor *const *)k->in, k->nin, &r, dims)) return false;
  Tensor *y = kernel_output(k, 0, ye, r, dims);
  if (!y) return false;
  ew_broadcast_copy(y, kernel_in(k, 0));
  for (uint32_t i = 1; i < k->nin; i++)
    if (!bin_apply(k, o, y, y, kernel_in(k, i))) return false;
  if (mean) {
    Tensor *n = tensor_new(ye, 0, NULL);
    tensor_set_f64(n, 0, (double)k->nin);
    bool ok = bin_apply(k, B_DIV, y, y, n);
    tensor_free(n);
    return ok;
  }
  return true;
}

static bool k_max(KernelCtx *k) { return variadic(k, B_MAX, false); }
static bool k_min(KernelCtx *k) { return variadic(k, B_MIN, false); }
static bool k_sum(KernelCtx *k) { return variadic(k, B_ADD, false); }
static bool k_mean(KernelCtx *k) { return variadic(k, B_ADD, true); }

void kernels_register_binary(KernelFn *table) {
  table[IR_OP_ADD] = k_add;
  table[IR_OP_SUB] = k_sub;
  table[IR_OP_MUL] = k_mul;
  table[IR_OP_DIV] = k_div;
  table[IR_OP_POW] = k_pow;
  table[IR_OP_MOD] = k_mod;
  table[IR_OP_BIT_SHIFT] = k_bit_shift;
  table[IR_OP_AND] = k_and;
  table[IR_OP_OR] = k_or;
  table[IR_OP_XOR] = k_xor;
  table[IR_OP_EQUAL] = k_equal;
  table[IR_OP_GREATER] = k_greater;
  table[IR_OP_GREATER_OR_EQUAL] = k_greater_eq;
  table[IR_OP_LESS] = k_less;
  table[IR_OP_LESS_OR_EQUAL] = k_less_eq;
  table[IR_OP_PRELU] = k_prelu;
  table[IR_OP_MAX] = k_max;
  table[IR_OP_MIN] = k_min;
  table[IR_OP_SUM] = k_sum;
  table[IR_OP_MEAN] = k_mean;
}
