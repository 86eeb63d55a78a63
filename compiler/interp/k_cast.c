/* Kernels: Cast and CastLike. The result type comes from the IR (Cast's
 * `to`, CastLike's second operand). Floats round to nearest even; floats to
 * integers truncate toward zero and wrap; integers to f32 convert directly
 * (no double rounding through f64). For the f8 types `saturate` (default
 * 1) clamps out-of-range values and infinities to ±max, as the ONNX node
 * tests expect; saturate=0 gives inf or NaN, per format. e8m0 follows the
 * reference's bitwise rounding (round_mode). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "interp/k_elementwise.h"
#include "quant/floatfmt.h"

static bool is_f8(IrElem e) {
  return e == IR_ELEM_F8E4M3FN || e == IR_ELEM_F8E4M3FNUZ || e == IR_ELEM_F8E5M2 || e == IR_ELEM_F8E5M2FNUZ;
}

/* f32 to e8m0 (a power of two, no sign) as the ONNX reference
 * (numpy_helper.to_float8e8m0) does, on the float32 bits: round_mode "up"
 * (the default) takes the next power when any mantissa bit is set, "down"
 * truncates, "nearest" rounds on the guard bit; saturate keeps 0xfe from
 * rounding into 0xff (NaN). NaN and inf give 0xff. */
static uint8_t to_e8m0(float v, bool sat, char mode) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  uint32_t e = (b >> 23) & 0xff;
  if (e == 0xff) return 0xff;
  bool up = mode == 'u' ? (b & 0x7fffff) != 0
            : mode == 'n' ? (b & 0x400000) && ((b & 0x200000) || (b & 0x1fffff) || e > 0)
                          : false;
  if (sat && e == 0xfe) up = false;
  return (uint8_t)(e + up);
}

/* The plain types' loads: integers and bool (its low bit, as
 * ir_elem_load_int reads it) as int64, floats as double. */
#define LD_BOOL(v) ((int64_t)((v) & 1))
#define LD(v) (v)

#define CONV(TX, TY, EXPR)                                                    \
  do {                                                                        \
    const TX *xp = x->data;                                                   \
    TY *yp = y->data;                                                         \
    for (int64_t i = 0; i < n; i++) {                                         \
      TX v = xp[i];                                                           \
      yp[i] = (TY)(EXPR);                                                     \
    }                                                                         \
  } while (0)

/* One source type into every plain destination type, with the rules of the
 * generic path (integers reach floats through int64, floats reach integers
 * through tensor_f64_to_i64 and wrap, anything reaches bool as != 0). */
#define CONV_FROM(TX, LOAD, XFLOAT)                                                               \
  switch (ye) {                                                                                   \
  case IR_ELEM_F32: CONV(TX, float, XFLOAT ? (float)(double)LOAD(v) : (float)LOAD(v)); return true; \
  case IR_ELEM_F64: CONV(TX, double, (double)LOAD(v)); return true;                               \
  case IR_ELEM_BOOL: CONV(TX, uint8_t, LOAD(v) != 0); return true;                                \
  case IR_ELEM_I64: CONV(TX, int64_t, XFLOAT ? tensor_f64_to_i64((double)LOAD(v)) : (int64_t)LOAD(v)); return true; \
  case IR_ELEM_I32:                                                                               \
    CONV(TX, uint32_t, (uint64_t)(XFLOAT ? tensor_f64_to_i64((double)LOAD(v)) : (int64_t)LOAD(v)));               \
    return true;                                                                                  \
  case IR_ELEM_U8:                                                                                \
    CONV(TX, uint8_t, (uint64_t)(XFLOAT ? tensor_f64_to_i64((double)LOAD(v)) : (int64_t)LOAD(v)));                \
    return true;                                                                                  \
  default: return false;                                                                          \
  }

/* Typed loops between f32, f64, i32, i64, u8 and bool (xe != ye); false
 * when the pair is not one of them. */
static bool cast_plain(Tensor *y, const Tensor *x, IrElem ye) {
  int64_t n = x->numel;
  switch (x->elem) {
  case IR_ELEM_F32: CONV_FROM(float, LD, 1)
  case IR_ELEM_F64: CONV_FROM(double, LD, 1)
  case IR_ELEM_I32: CONV_FROM(int32_t, LD, 0)
  case IR_ELEM_I64: CONV_FROM(int64_t, LD, 0)
  case IR_ELEM_U8: CONV_FROM(uint8_t, LD, 0)
  case IR_ELEM_BOOL: CONV_FROM(uint8_t, LD_BOOL, 0)
  default: return false;
  }
}

static bool cast(KernelCtx *k, IrElem ye) {
  const Tensor *x = kernel_in(k, 0);
  int64_t sat = ir_op_attr_int(k->op, "saturate", 1);
  if (sat != 0 && sat != 1) return kernel_fail(k, "saturate must be 0 or 1, got %lld", (long long)sat);
  Tensor *y = kernel_output(k, 0, ye, x->rank, x->dims);
  if (!y) return false;
  IrElem xe = x->elem;
  int64_t n = x->numel;
  if (xe == ye) {
    if (n) memcpy(y->data, x->data, x->nbytes);
  } else if (cast_plain(y, x, ye)) {
    /* done */
  } else if (xe == IR_ELEM_F32 && ye == IR_ELEM_F64) {
    for (int64_t i = 0; i < n; i++) ((double *)y->data)[i] = ((const float *)x->data)[i];
  } else if (ye == IR_ELEM_F32 && ir_elem_is_int(xe)) {
    float *yp = y->data;
    for (int64_t i = 0; i < n; i++)
      yp[i] = xe == IR_ELEM_U64 ? (float)(uint64_t)tensor_get_i64(x, i) : (float)tensor_get_i64(x, i);
  } else if (is_f8(ye) && sat) {
    double mx = q_float_max(ye);
    for (int64_t i = 0; i < n; i++) {
      double v = tensor_get_f64(x, i);
      tensor_set_f64(y, i, isnan(v) ? v : v > mx ? mx : v < -mx ? -mx : v);
    }
  } else if (ye == IR_ELEM_E8M0) {
    const char *rm = ir_op_attr_string(k->op, "round_mode", "up");
    if (strcmp(rm, "up") != 0 && strcmp(rm, "down") != 0 && strcmp(rm, "nearest") != 0)
      return kernel_fail(k, "round_mode must be 'up', 'down' or 'nearest', got '%s'", rm);
    for (int64_t i = 0; i < n; i++) tensor_set_bits(y, i, to_e8m0((float)tensor_get_f64(x, i), sat, rm[0]));
  } else if (ye == IR_ELEM_F8E4M3FN) {
    /* saturate=0: overflow gives NaN with the value's sign (0xff for
     * negatives), as the ONNX reference does; the codec's NaN is 0x7f. */
    for (int64_t i = 0; i < n; i++) {
      double v = tensor_get_f64(x, i);
      tensor_set_f64(y, i, v);
      if (!isnan(v) && v < 0 && isnan(tensor_get_f64(y, i))) tensor_set_bits(y, i, 0xff);
    }
  } else if (ir_elem_is_float(xe) || ir_elem_is_float(ye) || ye == IR_ELEM_BOOL) {
    for (int64_t i = 0; i < n; i++) tensor_set_f64(y, i, tensor_get_f64(x, i));
  } else { /* integer to integer: wrap */
    for (int64_t i = 0; i < n; i++) tensor_set_i64(y, i, tensor_get_i64(x, i));
  }
  return true;
}

static bool k_cast(KernelCtx *k) { return cast(k, kernel_result_elem(k, 0)); }

static bool k_cast_like(KernelCtx *k) {
  IrElem ye = kernel_result_elem(k, 0);
  if (!ew_check_elem(k, 1, ye)) return false;
  return cast(k, ye);
}

void kernels_register_cast(KernelFn *table) {
  table[IR_OP_CAST] = k_cast;
  table[IR_OP_CAST_LIKE] = k_cast_like;
}
