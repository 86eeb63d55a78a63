/* Verifier checks on types and constants: quantized element types
 * (docs/ir.md, "Quantized element types") and constant data layout. The
 * walk over functions and ops that calls these is in verifier.c. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "ir/numfmt.h"
#include "ir/verifier.h"
#include "ir/verifier_impl.h"

/* Storage: an integer type or a float type narrower than f32 (f16, bf16 and
 * the f8/f6/f4/e8m0 formats). */
static bool storage_ok(IrElem e) {
  if (ir_elem_is_int(e)) return true;
  return ir_elem_is_float(e) && e != IR_ELEM_F32 && e != IR_ELEM_F64;
}

static bool expressed_ok(IrElem e) {
  return e == IR_ELEM_F16 || e == IR_ELEM_BF16 || e == IR_ELEM_F32 || e == IR_ELEM_F64;
}

static const char *plural(int64_t n) { return n == 1 ? "" : "s"; }

/* The per-axis and per-block checks that need the axis. Returns false when
 * the axis is unusable (so dims[axis] must not be read). */
static bool check_axis(const IrQuant *q, int32_t rank, Diag *d, DiagLoc loc) {
  if (q->axis < 0 || (rank >= 0 && q->axis >= rank)) {
    if (rank >= 0)
      diag_error(d, loc, "quantization axis %" PRId32 " out of range for a rank %" PRId32 " tensor", q->axis, rank);
    else
      diag_error(d, loc, "quantization axis %" PRId32 " must not be negative", q->axis);
    return false;
  }
  return rank >= 0;
}

bool ir_verify_quant(const IrQuant *q, int32_t rank, const IrDim *dims, Diag *d, DiagLoc loc) {
  int before = d->errors;
  if (!storage_ok(q->storage))
    diag_error(d, loc, "quantized storage type must be an integer or low-bit float type, got %s",
               ir_elem_name(q->storage));
  if (!expressed_ok(q->expressed))
    diag_error(d, loc, "quantized expressed type must be f16, bf16, f32 or f64, got %s", ir_elem_name(q->expressed));

  switch (q->kind) {
  case IR_QUANT_PER_TENSOR:
    if (q->num != 1)
      diag_error(d, loc, "per-tensor quantization has %" PRId64 " scale%s, expected 1", q->num, plural(q->num));
    break;
  case IR_QUANT_PER_AXIS:
    if (check_axis(q, rank, d, loc)) {
      const IrDim *ax = &dims[q->axis];
      if (ax->size >= 0 && !ax->sym && q->num != ax->size)
        diag_error(d, loc, "per-axis quantization has %" PRId64 " scale%s, but axis %" PRId32 " has size %" PRId64,
                   q->num, plural(q->num), q->axis, ax->size);
    }
    break;
  case IR_QUANT_PER_BLOCK: {
    bool block_ok = q->block_size > 0;
    if (!block_ok) diag_error(d, loc, "quantization block size %" PRId64 " must be positive", q->block_size);
    if (check_axis(q, rank, d, loc) && block_ok) {
      const IrDim *ax = &dims[q->axis];
      bool static_axis = ax->size >= 0 && !ax->sym;
      if (static_axis && ax->size % q->block_size != 0) {
        diag_error(d, loc, "quantization block size %" PRId64 " does not divide axis %" PRId32 " of size %" PRId64,
                   q->block_size, q->axis, ax->size);
      } else {
        int64_t numel = 1;
        bool known = true;
        for (int32_t i = 0; i < rank && known; i++) {
          if (dims[i].size < 0 || dims[i].sym || (dims[i].size != 0 && numel > INT64_MAX / dims[i].size))
            known = false;
          else
            numel *= dims[i].size;
        }
        if (known && q->num != numel / q->block_size)
          diag_error(d, loc,
                     "per-block quantization has %" PRId64 " scale%s, expected %" PRId64 " (%" PRId64
                     " elements / block size %" PRId64 ")",
                     q->num, plural(q->num), numel / q->block_size, numel, q->block_size);
      }
    }
    break;
  }
  }

  bool float_storage = ir_elem_is_float(q->storage);
  int64_t lo = 0, hi = 0;
  if (ir_elem_is_int(q->storage)) ir_elem_int_range(q->storage, &lo, &hi);
  for (int64_t i = 0; i < q->num; i++) {
    float s = q->scales[i];
    if (!(isfinite(s) && s > 0.0f)) {
      char buf[NUMFMT_BUFSZ];
      diag_error(d, loc, "quantization scale #%" PRId64 " (%s) must be positive and finite", i, numfmt_float(buf, s));
    }
    int64_t zp = q->zero_points[i];
    if (float_storage && zp != 0)
      diag_error(d, loc, "zero point #%" PRId64 " (%" PRId64 ") must be 0 for float storage %s", i, zp,
                 ir_elem_name(q->storage));
    else if (ir_elem_is_int(q->storage) && (zp < lo || zp > hi))
      diag_error(d, loc, "zero point #%" PRId64 " (%" PRId64 ") out of range [%" PRId64 ", %" PRId64 "] for %s", i, zp,
                 lo, hi, ir_elem_name(q->storage));
  }
  return d->errors == before;
}

bool irv_check_type(Diag *d, const IrType *t, DiagLoc loc) {
  if (!t) {
    diag_error(d, loc, "missing type");
    return false;
  }
  if (t->quant && t->quant->storage != t->elem) {
    diag_error(d, loc, "quantized type stores %s, but its element type is %s", ir_elem_name(t->quant->storage),
               ir_elem_name(t->elem));
    return false;
  }
  return !t->quant || ir_verify_quant(t->quant, t->rank, t->dims, d, loc);
}

void irv_check_const(Diag *d, const IrConst *c, const char *what, DiagLoc loc) {
  if (!c->type) {
    diag_error(d, loc, "%s has no type", what);
    return;
  }
  irv_check_type(d, c->type, loc);
  if (!ir_type_is_static(c->type)) {
    diag_error(d, loc, "%s needs a static shape", what);
    return;
  }
  int64_t numel = ir_type_numel(c->type);
  int bytes = ir_elem_bytes(c->type->elem);
  if (numel < 0 || (uint64_t)numel > SIZE_MAX / (uint64_t)bytes) {
    diag_error(d, loc, "%s is too large", what);
    return;
  }
  size_t want = c->splat ? (size_t)bytes : (size_t)numel * (size_t)bytes;
  if (c->nbytes != want) {
    if (c->splat)
      diag_error(d, loc, "splat %s holds %zu bytes, expected %zu (one %s)", what, c->nbytes, want,
                 ir_elem_name(c->type->elem));
    else
      diag_error(d, loc, "%s holds %zu bytes, expected %zu (%" PRId64 " element%s of %s)", what, c->nbytes, want,
                 numel, plural(numel), ir_elem_name(c->type->elem));
  } else if (want && !c->data) {
    diag_error(d, loc, "%s has no data", what);
  }
}

const char *irv_type_str(char *buf, size_t size, const IrType *t) {
  FILE *f = fmemopen(buf, size, "w");
  if (!f) {
    snprintf(buf, size, "<type>");
    return buf;
  }
  ir_print_type(f, t);
  fputc('\0', f);
  fclose(f);
  buf[size - 1] = '\0';
  return buf;
}
