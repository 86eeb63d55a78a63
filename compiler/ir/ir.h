/* The quench IR: modules of functions over SSA tensor values, ops from the
 * op table with attributes, named regions (If/Loop bodies) and a constant
 * pool. Everything a module owns lives in its arena. The text form is
 * documented in docs/ir.md; printer.c and parser.c implement it. */
#ifndef QUENCH_IR_IR_H
#define QUENCH_IR_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/elem.h"
#include "ops/ops.h"
#include "support/arena.h"
#include "support/diag.h"

typedef struct IrModule IrModule;
typedef struct IrFunc IrFunc;
typedef struct IrRegion IrRegion;
typedef struct IrOp IrOp;
typedef struct IrValue IrValue;
typedef struct IrUse IrUse;
typedef struct IrConst IrConst;

/* ---- types ---------------------------------------------------------- */

/* A dimension: static (size >= 0), dynamic (size < 0, sym NULL; text `?`)
 * or symbolic (size < 0, sym the name; text `[name]`). */
typedef struct IrDim {
  int64_t size;
  const char *sym;
} IrDim;

typedef enum { IR_QUANT_PER_TENSOR, IR_QUANT_PER_AXIS, IR_QUANT_PER_BLOCK } IrQuantKind;

/* A quantization scheme, in the spirit of MLIR's quant.uniform:
 * real = (stored - zero_point) * scale. Per tensor: one scale. Per axis:
 * one scale per index of `axis`. Per block: one scale per `block_size`
 * consecutive elements along `axis`, laid out as the tensor with that dim
 * divided by block_size (ONNX blocked quantization). */
typedef struct IrQuant {
  IrElem storage;   /* integer or low-bit float type of the stored values */
  IrElem expressed; /* float type the values stand for */
  IrQuantKind kind;
  int32_t axis;       /* per axis / per block */
  int64_t block_size; /* per block */
  int64_t num;        /* number of (scale, zero point) pairs */
  float *scales;
  int64_t *zero_points;
} IrQuant;

/* A tensor type: element type (the storage type when quantized), rank
 * (-1: unranked) and dims. Types are immutable once built. */
typedef struct IrType {
  IrElem elem;
  const IrQuant *quant; /* NULL unless quantized */
  int32_t rank;
  const IrDim *dims;
} IrType;

/* ---- attributes ----------------------------------------------------- */

typedef struct IrAttr {
  const char *name;
  IrAttrKind kind;
  union {
    int64_t i;
    float f;
    const char *s;
    struct { const int64_t *v; uint32_t n; } ints;
    struct { const float *v; uint32_t n; } floats;
    struct { const char *const *v; uint32_t n; } strings;
    const IrConst *tensor;
    const IrType *type;
  } u;
} IrAttr;

/* ---- constants ------------------------------------------------------ */

/* Tensor data: one element per container of ir_elem_bytes (sub-byte types
 * unpacked), little-endian, row-major. A splat stores one element. Pool
 * constants have a name (printed @name) and are referenced from Constant
 * ops' `value` attribute; inline tensor attributes have none. */
struct IrConst {
  const char *name;
  const IrType *type; /* static shape */
  bool splat;
  const void *data;
  size_t nbytes;
  DiagLoc loc;
};

/* ---- values, ops, regions ------------------------------------------- */

struct IrUse {
  IrValue *value; /* NULL: absent optional operand (`none`) */
  IrOp *user;
  uint32_t index;
  IrUse *next, **prevp; /* the value's use list */
};

typedef enum { IR_VALUE_RESULT, IR_VALUE_ARG } IrValueKind;

struct IrValue {
  const char *name; /* without '%'; NULL: the printer numbers it */
  const IrType *type;
  IrValueKind kind;
  IrOp *def;          /* IR_VALUE_RESULT */
  IrRegion *region;   /* IR_VALUE_ARG: the region it is an argument of */
  uint32_t index;     /* result or argument index */
  IrUse *uses;
  DiagLoc loc; /* where it was defined, for diagnostics */
};

struct IrRegion {
  const char *name; /* region name from the op table; "body" for functions */
  IrValue **args;
  uint32_t nargs, args_cap;
  IrOp *first, *last;
  IrOp *parent_op;   /* NULL for a function body */
  IrFunc *func;      /* the function the region belongs to */
};

struct IrOp {
  IrOpKind kind;
  IrUse *operands;
  uint32_t noperands;
  IrValue **results;
  uint32_t nresults;
  IrAttr *attrs; /* sorted by name: printing is canonical */
  uint32_t nattrs, attrs_cap;
  IrRegion **regions;
  uint32_t nregions;
  IrRegion *parent;
  IrOp *prev, *next;
  /* Source location: `src` is printed as loc(...) when set (e.g. the ONNX
   * node name and model file); `pos` is where the op was parsed from and is
   * used only for diagnostics. */
  const char *src_name;
  DiagLoc src;
  DiagLoc pos;
};

struct IrFunc {
  const char *name;
  IrRegion *body;
  const IrType **result_types;
  uint32_t nresults;
  IrModule *module;
  DiagLoc pos;
};

struct IrModule {
  Arena arena;
  const char *name; /* NULL: printed without a name */
  IrAttr *attrs;
  uint32_t nattrs, attrs_cap;
  IrFunc **funcs;
  uint32_t nfuncs, funcs_cap;
  IrConst **consts;
  uint32_t nconsts, consts_cap;
};

/* ---- module and function ------------------------------------------ */

IrModule *ir_module_create(const char *name);
void ir_module_destroy(IrModule *m);
IrFunc *ir_func_create(IrModule *m, const char *name);
IrFunc *ir_module_find_func(const IrModule *m, const char *name);
void ir_func_set_results(IrFunc *f, const IrType *const *types, uint32_t n);
IrValue *ir_region_add_arg(IrModule *m, IrRegion *r, const char *name, const IrType *t);

/* ---- types ---------------------------------------------------------- */

const IrType *ir_type_tensor(IrModule *m, IrElem elem, int32_t rank, const IrDim *dims);
const IrType *ir_type_static(IrModule *m, IrElem elem, int32_t rank, const int64_t *dims);
const IrType *ir_type_quant(IrModule *m, const IrQuant *q, int32_t rank, const IrDim *dims);
const IrType *ir_type_with_elem(IrModule *m, const IrType *t, IrElem elem);
bool ir_type_equal(const IrType *a, const IrType *b);
bool ir_quant_equal(const IrQuant *a, const IrQuant *b);
bool ir_type_is_static(const IrType *t);
/* Element count of a static type; -1 if not static or it overflows int64. */
int64_t ir_type_numel(const IrType *t);

/* ---- attributes ----------------------------------------------------- */

const IrAttr *ir_op_attr(const IrOp *op, const char *name);
/* Adds or replaces; the attribute's name and payload are copied into the
 * module arena. */
void ir_op_set_attr(IrModule *m, IrOp *op, const IrAttr *a);
bool ir_op_remove_attr(IrOp *op, const char *name);
int64_t ir_op_attr_int(const IrOp *op, const char *name, int64_t dflt);
float ir_op_attr_float(const IrOp *op, const char *name, float dflt);
const char *ir_op_attr_string(const IrOp *op, const char *name, const char *dflt);
/* Copies attribute payloads (for module attributes and attribute sets). */
IrAttr ir_attr_copy(IrModule *m, const IrAttr *a);
void ir_attrs_set(IrModule *m, IrAttr **attrs, uint32_t *n, uint32_t *cap, const IrAttr *a);
const IrAttr *ir_attrs_find(const IrAttr *attrs, uint32_t n, const char *name);
bool ir_attr_equal(const IrAttr *a, const IrAttr *b);

/* ---- constants ------------------------------------------------------ */

/* Copies `data` (nbytes must equal numel*elem bytes, or one element for a
 * splat). `name` NULL: an inline constant; otherwise add it to the pool. */
IrConst *ir_const_create(IrModule *m, const char *name, const IrType *t, const void *data, size_t nbytes,
                         bool splat);
void ir_module_add_const(IrModule *m, IrConst *c);
IrConst *ir_module_find_const(const IrModule *m, const char *name);
bool ir_module_remove_const(IrModule *m, const IrConst *c);
/* Element i of a constant (splats repeat their one element). */
uint64_t ir_const_bits(const IrConst *c, int64_t i);
bool ir_const_equal(const IrConst *a, const IrConst *b);

/* ---- ops ------------------------------------------------------------ */

/* Creates a detached op; operands may be NULL (absent optional inputs). The
 * op gets nregions empty regions named from the op table. */
IrOp *ir_op_create(IrModule *m, IrOpKind kind, IrValue *const *operands, uint32_t noperands,
                   const IrType *const *result_types, uint32_t nresults, uint32_t nregions);
void ir_region_append(IrRegion *r, IrOp *op);
void ir_op_insert_before(IrOp *pos, IrOp *op);
void ir_op_insert_after(IrOp *pos, IrOp *op);
/* Unlinks an op (its results must be unused) and drops its operand uses.
 * Memory stays in the arena. */
void ir_op_erase(IrOp *op);
void ir_op_set_operand(IrOp *op, uint32_t i, IrValue *v);
static inline IrValue *ir_op_operand(const IrOp *op, uint32_t i) { return op->operands[i].value; }
static inline IrValue *ir_op_result(const IrOp *op, uint32_t i) { return op->results[i]; }
void ir_value_replace_all_uses(IrValue *from, IrValue *to);
uint32_t ir_value_num_uses(const IrValue *v);
static inline bool ir_value_has_uses(const IrValue *v) { return v->uses != NULL; }
void ir_value_set_name(IrModule *m, IrValue *v, const char *name);
/* The op whose region contains `op`, or NULL at function level. */
IrOp *ir_op_parent_op(const IrOp *op);
/* Diagnostic location of an op: its explicit source location if it has one,
 * else where it was parsed. */
DiagLoc ir_op_diag_loc(const IrOp *op);
/* Reports an error at op as "node 'NAME' (op 'Conv'): <message>" (or
 * "op 'Conv': ..." for ops without a source name). */
void ir_op_verror(Diag *d, const IrOp *op, const char *fmt, va_list ap);

/* Walks every op of a region in order, descending into nested regions after
 * the op that owns them (pre-order). Returning false stops the walk. */
typedef bool (*IrOpVisitor)(IrOp *op, void *ctx);
bool ir_region_walk(IrRegion *r, IrOpVisitor fn, void *ctx);
bool ir_module_walk(IrModule *m, IrOpVisitor fn, void *ctx);

#endif
