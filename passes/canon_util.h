/* Pattern-matching and rewriting helpers shared by the canonicalization
 * passes (constant-fold, fold-batchnorm, raise-*): reading Constant
 * operands, single-use checks, commutative operand lookup, new pool
 * constants and erasing a matched pattern once it is dead. */
#ifndef QUENCH_PASSES_CANON_UTIL_H
#define QUENCH_PASSES_CANON_UTIL_H

#include "interp/tensor.h"
#include "pm/pass_manager.h"

/* The tensor of a `Constant() {value = ...}` defining v (pool or inline),
 * NULL when v is not such a constant. */
const IrConst *canon_const(const IrValue *v);

/* True when v is a float or integer Constant with at least one element and
 * all elements equal; *out gets that value. */
bool canon_scalar(const IrValue *v, double *out);

/* canon_scalar(v) and |value - want| <= tol * max(1, |want|). */
bool canon_scalar_near(const IrValue *v, double want, double tol);

/* v's defining op when it is of kind k, else NULL (arguments too). */
IrOp *canon_def(const IrValue *v, IrOpKind k);

/* v has exactly one use. */
static inline bool canon_one_use(const IrValue *v) { return v->uses && !v->uses->next; }

/* For a binary op one of whose operands is x: the other operand; NULL when
 * neither operand is x. */
IrValue *canon_other(const IrOp *bin, const IrValue *x);

/* For a binary op of kind k defining v: which operand (0 or 1) is defined
 * by an op of kind `want`, preferring operand 0; -1 when none. */
int canon_operand_of_kind(const IrOp *bin, IrOpKind want);

/* Adds t to the pool under a name derived from `base` (made unique in the
 * pool) and a `Constant` op referring to it right before `pos`; returns its
 * result, named as the pool entry. */
IrValue *canon_new_const(IrModule *m, IrOp *pos, const char *base, const Tensor *t);
/* The detached Constant op behind canon_new_const: t's data as a pool
 * constant named base (base_1, base_2... when taken), the result named
 * alike. The caller inserts it. */
IrOp *canon_const_op(IrModule *m, const char *base, const Tensor *t);

/* Erases the ops of ops[0..n) whose results are all unused, repeating
 * until nothing more goes (a pattern's interior once its root is
 * replaced). Ops already erased are skipped. */
void canon_erase_dead(IrOp *const *ops, int n);

/* A ReduceMean that keeps dims and reduces exactly the last axis of its
 * input (axes from the attribute or a constant second operand). */
bool canon_reduces_last_axis(const IrOp *reduce);

/* Calls fn on every op linked when the walk began that is still linked
 * when its turn comes (pre-order, as ir_module_walk), so fn may erase any
 * ops, not just the one it is given. */
void canon_walk(IrModule *m, IrOpVisitor fn, void *ctx);

/* A rewrite tried on one op (it may erase any ops); false stops the walk. */
typedef bool (*CanonRewrite)(PassContext *ctx, IrModule *m, IrOp *op);

/* Tries fn on every op as canon_walk visits them. */
void canon_rewrite_all(PassContext *ctx, IrModule *m, CanonRewrite fn);

/* A new op of kind k with operands ins[0..nin) and one result of type t,
 * inserted before pos and named after `name` (NULL: unnamed). */
IrOp *canon_create(IrModule *m, IrOp *pos, IrOpKind k, IrValue *const *ins, uint32_t nin, const IrType *t,
                   const char *name);

/* Makes every use of old's result use new_op's, and copies old's source
 * location to new_op. */
void canon_replace(IrOp *old, IrOp *new_op);

/* ---- products and normalizations ------------------------------------ */

#define CANON_MAX_FACTORS 8

/* A tree of Mul (and Div by a constant) flattened: coef times the product
 * of f[0..n). Constants fold into coef; Pow(v, k) for a constant integer k
 * in [1, 4] counts as k factors v; interior values (expanded Mul, Div, Pow)
 * must have one use. ops[0..nops) are the ops of the tree, root first. */
typedef struct CanonProduct {
  double coef;
  IrValue *f[CANON_MAX_FACTORS];
  int n;
  IrOp *ops[CANON_MAX_FACTORS * 2];
  int nops;
} CanonProduct;

/* Flattens the product rooted at op (a Mul, a Div by a constant or a Pow);
 * false when it has too many factors or op is none of those. */
bool canon_product(IrOp *op, CanonProduct *p);

/* The product's factors are exactly the values want[0..n) in any order. */
bool canon_product_is(const CanonProduct *p, IrValue *const *want, int n);

/* Climbs from v through single-use Mul/Div users (at most 4) to the first
 * whose flattened product is want[0..n) with coef within tol of c; that op,
 * or NULL. *p gets its product. */
IrOp *canon_climb(IrValue *v, IrValue *const *want, int n, double c, double tol, CanonProduct *p);

/* A normalization by root mean square, matched from its Sqrt:
 *   s = Sqrt(Add(ReduceMean(sq), eps))    (last axis, keepdims; sq = d*d
 *                                           or Pow(d, 2))
 *   n = Div(d, s) | Mul(d, Reciprocal(s)) (any operand order)
 * optionally followed by y = Mul(n, gamma) with gamma constant. Every
 * interior value has one use; d may have others. */
typedef struct CanonNorm {
  IrValue *d;      /* the normalized value: x (RMS) or x - mean (layer norm) */
  double eps;
  IrOp *n;         /* the op producing d / rms */
  IrValue *gamma;  /* NULL: no scale */
  IrOp *root;      /* n, or the Mul by gamma */
  IrOp *ops[12];   /* every matched op */
  int nops;
} CanonNorm;

bool canon_match_norm(IrOp *sqrt_op, CanonNorm *out);

/* Every use of v is by one of ops[0..n). */
bool canon_uses_only_by(const IrValue *v, IrOp *const *ops, int n);

/* A constant usable as the scale or bias of a normalization over the last
 * axis of x: numel equals x's (static) last dim and every other dim is 1,
 * with rank at most x's and x's element type. */
bool canon_last_axis_param(const IrValue *c, const IrValue *x);

/* A constant of x's element type and shape [last dim of x] filled with v
 * (x's last dim must be static), before pos. */
IrValue *canon_fill_last_axis(IrModule *m, IrOp *pos, const IrValue *x, double v, const char *name);

#endif
