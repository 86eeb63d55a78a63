#include "ir/elem.h"

#include <string.h>

const IrElemInfo ir_elem_info[IR_ELEM_COUNT] = {
#define ELEM(id, name, bits, bytes, cls, onnx) {name, bits, bytes, cls, onnx},
#include "ir/elem.def"
#undef ELEM
};

bool ir_elem_from_name(const char *name, int n, IrElem *out) {
  for (int e = 0; e < IR_ELEM_COUNT; e++) {
    if ((int)strlen(ir_elem_info[e].name) == n && memcmp(ir_elem_info[e].name, name, (size_t)n) == 0) {
      *out = (IrElem)e;
      return true;
    }
  }
  return false;
}

void ir_elem_int_range(IrElem e, int64_t *lo, int64_t *hi) {
  int bits = ir_elem_info[e].bits;
  if (ir_elem_info[e].cls == IR_CLASS_BOOL) {
    *lo = 0;
    *hi = 1;
  } else if (ir_elem_info[e].cls == IR_CLASS_SINT) {
    *lo = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
    *hi = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
  } else {
    *lo = 0;
    /* u64 does not fit int64: its range is clamped, callers needing the top
     * half use the bit pattern. */
    *hi = bits >= 63 ? INT64_MAX : ((int64_t)1 << bits) - 1;
  }
}

uint64_t ir_elem_load_bits(IrElem e, const void *data, int64_t i) {
  const unsigned char *p = (const unsigned char *)data + (size_t)i * (size_t)ir_elem_info[e].bytes;
  switch (ir_elem_info[e].bytes) {
  case 1: return p[0];
  case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
  case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
  default: { uint64_t v; memcpy(&v, p, 8); return v; }
  }
}

void ir_elem_store_bits(IrElem e, void *data, int64_t i, uint64_t bits) {
  unsigned char *p = (unsigned char *)data + (size_t)i * (size_t)ir_elem_info[e].bytes;
  switch (ir_elem_info[e].bytes) {
  case 1: p[0] = (unsigned char)bits; break;
  case 2: { uint16_t v = (uint16_t)bits; memcpy(p, &v, 2); break; }
  case 4: { uint32_t v = (uint32_t)bits; memcpy(p, &v, 4); break; }
  default: memcpy(p, &bits, 8); break;
  }
}

int64_t ir_elem_load_int(IrElem e, const void *data, int64_t i) {
  uint64_t b = ir_elem_load_bits(e, data, i);
  int bits = ir_elem_info[e].bits;
  if (ir_elem_info[e].cls == IR_CLASS_SINT && bits < 64) {
    uint64_t sign = (uint64_t)1 << (bits - 1);
    b &= (sign << 1) - 1;
    return (int64_t)(b ^ sign) - (int64_t)sign; /* sign-extend */
  }
  if (ir_elem_info[e].cls != IR_CLASS_SINT && bits < 64) b &= ((uint64_t)1 << bits) - 1;
  return (int64_t)b;
}
