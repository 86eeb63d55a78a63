/* The op enum and the rules the verifier reads, generated from ops.def. */
#ifndef QUENCH_OPS_OPS_H
#define QUENCH_OPS_OPS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
#define OP(id, name, mi, xi, mo, xo, tr, attrs, regions) IR_OP_##id,
#include "ops/ops.def"
#undef OP
  IR_OP_COUNT
} IrOpKind;

typedef enum { TR_ANY, TR_SAME, TR_SAME_IN0 } IrTypeRule;

/* Attribute kinds; the letters are the kind column of ops.def. */
typedef enum {
  IR_ATTR_INT,     /* i  */
  IR_ATTR_FLOAT,   /* f  */
  IR_ATTR_STRING,  /* s  */
  IR_ATTR_INTS,    /* is */
  IR_ATTR_FLOATS,  /* fs */
  IR_ATTR_STRINGS, /* ss */
  IR_ATTR_TENSOR,  /* t  */
  IR_ATTR_TYPE,    /* T  */
  IR_ATTR_KIND_COUNT
} IrAttrKind;

typedef struct IrAttrRule {
  const char *name;
  IrAttrKind kind;
  bool required;
} IrAttrRule;

#define IR_OP_MAX_ATTR_RULES 16
#define IR_OP_MAX_REGIONS 4

typedef struct IrOpInfo {
  const char *name;
  int min_in, max_in, min_out, max_out; /* max -1: variadic */
  IrTypeRule type_rule;
  const char *attr_spec, *region_spec; /* raw table text */
  /* Parsed from attr_spec/region_spec by ops_init(). */
  IrAttrRule attrs[IR_OP_MAX_ATTR_RULES];
  int nattrs;
  const char *regions[IR_OP_MAX_REGIONS];
  int nregions;
} IrOpInfo;

/* Parses the table's attribute and region columns; idempotent. Asserts on a
 * malformed row: the table is code, not input. */
void ops_init(void);
const IrOpInfo *ops_info(IrOpKind k);
const char *ops_name(IrOpKind k);
/* Looks an op up by its text name (n bytes); false if unknown. */
bool ops_lookup(const char *name, int n, IrOpKind *out);
const IrAttrRule *ops_attr_rule(IrOpKind k, const char *attr);
/* How many leading operands must be present (not `none`): min_in, except
 * Loop, whose trip count and condition ONNX makes optional in place. */
uint32_t ops_required_operands(IrOpKind k);
/* The Reduce* family (ReduceMean ... ReduceSumSquare), whose `axes` moved
 * from an attribute to an input at opset 18 (13 for ReduceSum). */
bool ops_is_reduce(IrOpKind k);
const char *ops_attr_kind_name(IrAttrKind k);

#endif
