/* Element types, generated from elem.def. */
#ifndef QUENCH_IR_ELEM_H
#define QUENCH_IR_ELEM_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { IR_CLASS_BOOL, IR_CLASS_SINT, IR_CLASS_UINT, IR_CLASS_FLOAT } IrElemClass;

typedef enum {
#define ELEM(id, name, bits, bytes, cls, onnx) IR_ELEM_##id,
#include "ir/elem.def"
#undef ELEM
  IR_ELEM_COUNT
} IrElem;

typedef struct IrElemInfo {
  const char *name;
  int bits;  /* significant bits */
  int bytes; /* container size in an unpacked constant */
  IrElemClass cls;
  int onnx; /* ONNX TensorProto.DataType, 0 if ONNX has none */
} IrElemInfo;

extern const IrElemInfo ir_elem_info[IR_ELEM_COUNT];

static inline const char *ir_elem_name(IrElem e) { return ir_elem_info[e].name; }
static inline int ir_elem_bytes(IrElem e) { return ir_elem_info[e].bytes; }
static inline int ir_elem_bits(IrElem e) { return ir_elem_info[e].bits; }
static inline bool ir_elem_is_float(IrElem e) { return ir_elem_info[e].cls == IR_CLASS_FLOAT; }
static inline bool ir_elem_is_int(IrElem e) {
  return ir_elem_info[e].cls == IR_CLASS_SINT || ir_elem_info[e].cls == IR_CLASS_UINT;
}
static inline bool ir_elem_is_signed(IrElem e) { return ir_elem_info[e].cls == IR_CLASS_SINT; }

/* Returns false if `name` (n bytes, not NUL-terminated) names no element type. */
bool ir_elem_from_name(const char *name, int n, IrElem *out);
/* Integer range of an integer (or bool) element type. */
void ir_elem_int_range(IrElem e, int64_t *lo, int64_t *hi);
/* Reads element i of an unpacked buffer of type e, widened. */
int64_t ir_elem_load_int(IrElem e, const void *data, int64_t i);
uint64_t ir_elem_load_bits(IrElem e, const void *data, int64_t i);
void ir_elem_store_bits(IrElem e, void *data, int64_t i, uint64_t bits);

#endif
