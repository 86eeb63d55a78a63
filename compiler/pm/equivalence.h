/* quench-opt --verify-equivalence: runs the reference interpreter on the
 * same inputs (calibration-style samples or seeded random tensors) before
 * and after a pass and fails the pass when an output moves by more than
 *   max|y - y'| <= tol * max(1, max|y|)
 * (../shared/ALGORITHMS.md section 0; docs/pass-manager.md). The pass
 * manager calls equiv_before / equiv_after around each checked pass; the
 * outputs after pass k are the reference of pass k+1, so the interpreter
 * runs once per pass boundary. Tests: test/unit/test_equivalence.c (the
 * rule), test/lit/pm/equivalence*.qir (the flags and reports). */
#ifndef QUENCH_PM_EQUIVALENCE_H
#define QUENCH_PM_EQUIVALENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "interp/tensor.h"
#include "ir/ir.h"

#define EQUIV_DEFAULT_TOL 1e-5
#define EQUIV_DEFAULT_SAMPLES 4

typedef struct EquivOptions {
  bool enabled;
  double tol;                /* relative tolerance (EQUIV_DEFAULT_TOL) */
  const char *data;          /* sample folder (compiler/quant/calib_data.h); NULL: random inputs */
  int samples;               /* at most this many samples (EQUIV_DEFAULT_SAMPLES) */
  uint64_t seed;             /* random inputs: tensor_random_state(seed) */
  const char *const *passes; /* check only these pass names; npasses == 0: every pass */
  int npasses;
} EquivOptions;

/* One output compared: `after` (y') against `before` (y), the reference. */
typedef struct EquivError {
  bool shape_ok;  /* same element type and shape; nothing below is valid if not */
  double max_abs; /* max |y - y'|; inf where one side is NaN or an infinity differs */
  double max_ref; /* max |y| over the finite elements of y */
  double rel;     /* max_abs / max(1, max_ref) */
  int64_t worst;  /* the element of max_abs (-1: no elements) */
} EquivError;

/* Fills e; returns e->shape_ok. NaN matches NaN, an infinity matches the
 * same infinity; every element type is read as double. */
bool equiv_compare(const Tensor *after, const Tensor *before, EquivError *e);
/* The criterion: shapes agree and e->rel <= tol. */
bool equiv_within(const EquivError *e, double tol);

/* The checker for one module run. `report` gets the per-pass lines
 * ("equivalence: PASS 'x': ..."); errors go to the Diag at `where`. */
typedef struct EquivChecker EquivChecker;
EquivChecker *equiv_create(const EquivOptions *o, FILE *report, DiagLoc where);
void equiv_destroy(EquivChecker *c);
/* Whether pass `name` is checked (o->passes lists it, or lists nothing). */
bool equiv_checks(const EquivChecker *c, const char *name);
/* Before a checked pass: makes sure reference outputs of m exist (loading
 * or generating the inputs on first use). False after a report. */
bool equiv_before(EquivChecker *c, const IrModule *m, const char *pass, Diag *d);
/* After it: runs m again, compares, prints the pass's line and reports an
 * error naming the pass, the output and the sample when tol is exceeded.
 * The new outputs become the reference for the next pass. */
bool equiv_after(EquivChecker *c, const IrModule *m, const char *pass, Diag *d);
/* An unchecked pass ran: the reference outputs are stale. */
void equiv_forget(EquivChecker *c);

#endif
