/* raise-gelu: the decomposed GELU forms -> Gelu (ONNX opset 20).
 *
 * What it does:
 *   erf form   0.5 * x * (1 + Erf(x / sqrt(2)))       -> Gelu(x)
 *   tanh form  0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 *                                                      -> Gelu(x) {approximate = "tanh"}
 * in every association and operand order of the Muls: x / sqrt(2) may be
 * x * (1/sqrt(2)), 0.5 may be a Div by 2, x^3 may be Pow(x, 3) or a chain
 * of Muls (tf2onnx writes x * (x * (0.044715 * x))). Constants match
 * within a relative 1e-4 (exporters round sqrt(2/pi) to 0.7978846 or
 * 0.79788456).
 * Declines: an intermediate value with another user; other constants; a
 * product with anything but x; a result type that differs from x's.
 * Needs: verified IR. Guarantees: the same function up to float rounding.
 * Test: test/lit/passes/raise-gelu.qir. Docs: docs/passes/raise-gelu.md. */
#include <math.h>

#include "passes/canon_util.h"

#define TOL 1e-4
#define SQRT_2_OVER_PI 0.79788456080286536
#define INV_SQRT_2 0.70710678118654752

/* The value of which v is the product c * x^power (x any one value), or
 * NULL. Adds the product's ops to dead[]. */
static IrValue *monomial(IrValue *v, int power, double c, IrOp **dead, int *ndead) {
  CanonProduct p;
  if (v->kind != IR_VALUE_RESULT || !canon_one_use(v) || !canon_product(v->def, &p) || p.n != power ||
      fabs(p.coef - c) > TOL * fabs(c))
    return NULL;
  for (int i = 1; i < p.n; i++)
    if (p.f[i] != p.f[0]) return NULL;
  for (int i = 0; i < p.nops; i++) dead[(*ndead)++] = p.ops[i];
  return p.f[0];
}

/* x of sqrt(2/pi) * (x + 0.044715 * x^3), or NULL. */
static IrValue *tanh_arg(IrValue *v, IrOp **dead, int *ndead) {
  IrValue *sum = monomial(v, 1, SQRT_2_OVER_PI, dead, ndead);
  IrOp *add = canon_def(sum, IR_OP_ADD);
  if (!add || !canon_one_use(sum)) return NULL;
  dead[(*ndead)++] = add;
  for (uint32_t i = 0; i < 2; i++) {
    IrValue *x = ir_op_operand(add, i);
    int keep = *ndead;
    if (monomial(ir_op_operand(add, 1 - i), 3, 0.044715, dead, ndead) == x) return x;
    *ndead = keep;
  }
  return NULL;
}

static bool rewrite(PassContext *ctx, IrModule *m, IrOp *op) {
  if (op->kind != IR_OP_ERF && op->kind != IR_OP_TANH) return true;
  IrOp *dead[CANON_MAX_FACTORS * 8];
  int nd = 0;
  dead[nd++] = op;
  bool erf = op->kind == IR_OP_ERF;
  IrValue *x = erf ? monomial(ir_op_operand(op, 0), 1, INV_SQRT_2, dead, &nd) : tanh_arg(ir_op_operand(op, 0), dead, &nd);
  IrValue *e = op->results[0];
  if (!x || !canon_one_use(e)) return true;
  /* 1 + e */
  IrOp *add = e->uses->user;
  if (add->kind != IR_OP_ADD || !canon_scalar_near(canon_other(add, e), 1, TOL)) return true;
  dead[nd++] = add;
  IrValue *want[2] = {x, add->results[0]};
  CanonProduct p;
  IrOp *root = canon_climb(add->results[0], want, 2, 0.5, TOL, &p);
  if (!root || !ir_type_equal(root->results[0]->type, x->type)) return true;
  for (int i = 0; i < p.nops; i++) dead[nd++] = p.ops[i];
  IrOp *g = canon_create(m, root, IR_OP_GELU, &x, 1, x->type, root->results[0]->name);
  if (!erf) {
    IrAttr ap = {.name = "approximate", .kind = IR_ATTR_STRING, .u.s = "tanh"};
    ir_op_set_attr(m, g, &ap);
  }
  canon_replace(root, g);
  canon_erase_dead(dead, nd);
  quench_pass_stat_add(ctx, erf ? "erf-gelus-raised" : "tanh-gelus-raised", 1);
  return true;
}

static bool run(PassContext *ctx, IrModule *m) {
  canon_rewrite_all(ctx, m, rewrite);
  return true;
}

static const PassStat stats[] = {
    {"erf-gelus-raised", "0.5 * x * (1 + Erf(x / sqrt(2))) replaced by Gelu"},
    {"tanh-gelus-raised", "tanh-approximated GELU patterns replaced by Gelu {approximate = \"tanh\"}"},
    {0},
};

const Pass pass_raise_gelu = {
    .name = "raise-gelu",
    .summary = "Raise decomposed erf and tanh GELU patterns to Gelu",
    .options = NULL,
    .stats = stats,
    .run = run,
};
