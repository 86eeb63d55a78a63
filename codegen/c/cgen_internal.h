/* Shared by the C backend's files: the value table and memory plan
 * (cgen_plan.c), the weight blob (cgen_weights.c), the op emitters
 * (cgen_ops*.c) and the file writer (cgen_emit.c). */
#ifndef QUENCH_CODEGEN_C_CGEN_INTERNAL_H
#define QUENCH_CODEGEN_C_CGEN_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "codegen/c/cgen.h"

/* Arena alignment: every buffer starts on a cache line (the SIMD kernels
 * load 64-byte vectors). */
#define CG_ALIGN 64

typedef enum {
  CG_LOC_NONE,   /* not materialized (a fused intermediate) */
  CG_LOC_ARENA,  /* buffer `buf` of the arena plan */
  CG_LOC_INPUT,  /* the caller's input `index` */
  CG_LOC_WEIGHT, /* a constant at byte `off` of the weight blob */
} CgLoc;

typedef struct CgVal {
  const IrValue *v;
  CgLoc loc;
  int32_t buf;   /* CG_LOC_ARENA: buffer index; CG_LOC_INPUT: input index */
  int64_t off;   /* bytes: CG_LOC_WEIGHT: blob offset; arena and inputs: a view's offset into the buffer */
} CgVal;

/* One arena buffer: live from the op that defines it to its last reader. */
typedef struct CgBuf {
  int64_t bytes;
  int32_t first, last;
  int64_t off; /* arena offset, set by the plan */
} CgBuf;

/* A growing string. */
typedef struct CgStr {
  char *s;
  size_t n, cap;
} CgStr;

void cg_str_printf(CgStr *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

typedef struct Cg {
  const IrModule *m;
  const IrFunc *f;
  const CgOptions *o;
  Diag *d;
  /* values, by pointer (open addressing) */
  CgVal *vals;
  int64_t nvals, cap;
  CgBuf *bufs;
  int32_t nbufs, bufs_cap;
  int64_t arena_bytes;
  /* the weight blob */
  uint8_t *blob;
  int64_t blob_n, blob_cap;
  /* ops in emission order; skip[i]: fused into an earlier op */
  const IrOp **ops;
  int32_t nops;
  bool *skip;
  int32_t step; /* index of the op being emitted */
  CgStr code;   /* the body of NAME_run */
} Cg;

/* ---- cgen_plan.c ---- */
CgVal *cg_val(Cg *cg, const IrValue *v);         /* NULL if unknown */
CgVal *cg_val_add(Cg *cg, const IrValue *v);     /* finds or adds */
/* A new arena buffer of `bytes` defined at the current step. */
int32_t cg_new_buf(Cg *cg, int64_t bytes);
/* Marks v read at the current step (extends its buffer's life). */
void cg_use(Cg *cg, const IrValue *v);
/* v shares the storage of `src` (Reshape and friends). */
void cg_alias(Cg *cg, const IrValue *v, const IrValue *src);
/* Places every buffer (greedy by size, first fit among the buffers whose
 * lives overlap) and sets arena_bytes. */
void cg_plan_arena(Cg *cg);
/* C expression for v's first byte: "(A + 4096)", "in0", "(W + 128)". */
const char *cg_ptr(Cg *cg, const IrValue *v, char *buf, size_t n);

/* ---- cgen_weights.c ---- */
/* Appends bytes to the blob at a CG_ALIGN offset; returns the offset. */
int64_t cg_blob_add(Cg *cg, const void *data, int64_t n);
/* The constant behind v (a Constant op's value), or NULL. */
const IrConst *cg_const_of(const IrValue *v);
/* v as a weight: its constant's bytes in the blob (once per value). */
bool cg_weight(Cg *cg, const IrValue *v);

/* ---- cgen_ops.c ---- */
/* Reports "node 'X' (op 'Y'): cannot compile to C: ..." and returns false. */
bool cg_fail(Cg *cg, const IrOp *op, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Plans op (buffers, weights, fusion) and appends its code to cg->code. */
bool cg_emit_op(Cg *cg, const IrOp *op);
/* Static shape of v into dims; false (reported at op) if not static. */
bool cg_static_shape(Cg *cg, const IrOp *op, const IrValue *v, int32_t *rank, int64_t *dims);
int64_t cg_numel(const IrValue *v);
/* The runtime's element code ("QRT_F32", ...), or NULL for a type it lacks. */
const char *cg_qrt_elem(IrElem e);
int64_t cg_bytes(const IrValue *v);
/* An operand's storage (a constant into the blob; else it must exist, and
 * its life is extended to this step), a new arena buffer for a result, and
 * a float as a C literal that reads back exactly (b: 40 bytes). */
bool cg_operand(Cg *cg, const IrOp *op, const IrValue *v);
void cg_result(Cg *cg, const IrValue *v);
const char *cg_flit(float v, char *b);
/* A GlobalAveragePool that reads the 8-bit codes behind its
 * DequantizeLinear input instead of the floats (qrt_dq_global_avg). */
bool cg_dq_gap_ok(Cg *cg, const IrOp *gap);
/* A per-tensor quantization op: constant scalar scale (f32) and zero point,
 * no blocks. */
bool cg_per_tensor_q(const IrOp *op);

/* ---- cgen_gate.c ---- */
/* dq feeds a channel gate (DequantizeLinear -> Mul -> QuantizeLinear,
 * emitted at the Mul): emit nothing for it now. */
bool cg_gate_defers(Cg *cg, const IrOp *dq);
/* The Mul of such a gate: emits the fused pass (*handled) and skips its
 * QuantizeLinear. False after a reported error. */
bool cg_try_gate_mul(Cg *cg, const IrOp *mul, bool *handled);

#endif
