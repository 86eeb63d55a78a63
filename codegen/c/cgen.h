/* The C backend: turns a lowered, shape-static quantized module into a
 * self-contained C library (NAME.c, NAME.h, the weights, a driver, the
 * runtime sources it links against and a Makefile). `quench compile` runs
 * the pipeline and calls cg_c_emit. docs/backends/c.md is the manual;
 * tests: test/lit/codegen/. */
#ifndef QUENCH_CODEGEN_C_CGEN_H
#define QUENCH_CODEGEN_C_CGEN_H

#include <stdbool.h>

#include "ir/ir.h"

typedef enum { CG_TARGET_GENERIC, CG_TARGET_AVX2, CG_TARGET_AVX512VNNI, CG_TARGET_AARCH64_DOTPROD, CG_TARGET_AMX } CgTarget;

typedef struct CgOptions {
  const char *name;   /* C identifier prefix and file stem */
  const char *outdir; /* created if missing */
  CgTarget target;
  bool blob_weights;  /* weights in NAME.weights instead of an embedded array */
} CgOptions;

/* Target by name (generic, x86-64-avx2, x86-64-avx512vnni,
 * aarch64-dotprod, x86-64-amx); false for an unknown one. */
bool cg_target_from_name(const char *s, CgTarget *t);
const char *cg_target_name(CgTarget t);

/* What can be refused before any pass runs: ops with subgraphs (If, Loop,
 * Scan), reported by node name. False after reporting. */
bool cg_c_precheck(const IrModule *m, Diag *d);

/* Writes the C library for function "main" of m into o->outdir. Every op
 * must have a C kernel and every shape must be static: the first op that
 * cannot be compiled is reported by node name and nothing is written. */
bool cg_c_emit(const IrModule *m, const CgOptions *o, Diag *d);

#endif
