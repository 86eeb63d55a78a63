/* Unit tests for the IR verifier: modules built through the ir.h API (no
 * parser) that break one rule each, checked for ir_verify's verdict and the
 * exact number of errors; valid counterparts must verify. Also the cases
 * the text format cannot express (duplicate names the parser rejects,
 * region counts, values from another function, bad constant sizes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ir/ir.h"
#include "ir/verifier.h"

/* ---- helpers -------------------------------------------------------- */

static const IrType *t1(IrModule *m, IrElem e, int64_t n) { return ir_type_static(m, e, 1, &n); }
static const IrType *t0(IrModule *m, IrElem e) { return ir_type_static(m, e, 0, NULL); }

/* Creates an op with `nres` results of type t (regions from the op table)
 * and appends it to r. */
static IrOp *add(IrModule *m, IrRegion *r, IrOpKind k, IrValue *const *ops, uint32_t n, const IrType *t,
                 uint32_t nres) {
  const IrType *types[8];
  for (uint32_t i = 0; i < nres; i++) types[i] = t;
  IrOp *op = ir_op_create(m, k, ops, n, types, nres, (uint32_t)ops_info(k)->nregions);
  ir_region_append(r, op);
  return op;
}

static IrOp *ret(IrModule *m, IrRegion *r, IrValue *const *ops, uint32_t n) {
  return add(m, r, IR_OP_RETURN, ops, n, NULL, 0);
}

static void set_int(IrModule *m, IrOp *op, const char *name, int64_t v) {
  IrAttr a = {.name = name, .kind = IR_ATTR_INT, .u.i = v};
  ir_op_set_attr(m, op, &a);
}

/* ir_verify with a counting Diag; returns the number of errors and checks
 * the verdict agrees with it. */
static int verify_errors(const IrModule *m) {
  Diag d;
  diag_init(&d, NULL);
  bool ok = ir_verify(m, &d);
  assert_int_equal(ok, d.errors == 0);
  return d.errors;
}

/* func @f(%x: tensor<2xf32>) -> (tensor<2xf32>), body empty. */
static IrFunc *func_f32(IrModule *m, const char *name, IrValue **x) {
  IrFunc *f = ir_func_create(m, name);
  const IrType *t = t1(m, IR_ELEM_F32, 2);
  *x = ir_region_add_arg(m, f->body, "x", t);
  ir_func_set_results(f, &t, 1);
  return f;
}

/* ---- structure and SSA ---------------------------------------------- */

static void test_valid_module(void **state) {
  (void)state;
  IrModule *m = ir_module_create("ok");
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrOp *r = add(m, f->body, IR_OP_RELU, &x, 1, x->type, 1);
  IrValue *ops[2] = {x, r->results[0]};
  IrOp *s = add(m, f->body, IR_OP_ADD, ops, 2, x->type, 1);
  ret(m, f->body, &s->results[0], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_module_destroy(m);
}

static void test_use_before_def(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrOp *a = add(m, f->body, IR_OP_RELU, &x, 1, x->type, 1);
  IrOp *b = add(m, f->body, IR_OP_NEG, &x, 1, x->type, 1);
  ret(m, f->body, &a->results[0], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_op_set_operand(a, 0, b->results[0]); /* a now uses a later value */
  assert_int_equal(verify_errors(m), 1);
  /* An op using its own result. */
  ir_op_set_operand(a, 0, a->results[0]);
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);
}

static void test_value_of_other_function(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x, *y;
  IrFunc *f = func_f32(m, "f", &x);
  IrFunc *g = func_f32(m, "g", &y);
  ret(m, f->body, &x, 1);
  ret(m, g->body, &x, 1); /* %x belongs to @f */
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);
}

/* If with a branch value used after the If and in the sibling branch. */
static void test_region_scoping(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrValue *c = ir_region_add_arg(m, f->body, "c", t0(m, IR_ELEM_BOOL));
  IrOp *iff = add(m, f->body, IR_OP_IF, &c, 1, x->type, 1);
  IrOp *t = add(m, iff->regions[0], IR_OP_NEG, &x, 1, x->type, 1); /* outer capture: fine */
  ret(m, iff->regions[0], &t->results[0], 1);
  IrOp *e = ret(m, iff->regions[1], &x, 1);
  IrOp *fret = ret(m, f->body, &iff->results[0], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_op_set_operand(e, 0, t->results[0]); /* sibling region */
  assert_int_equal(verify_errors(m), 1);
  ir_op_set_operand(fret, 0, t->results[0]); /* escapes the region */
  assert_int_equal(verify_errors(m), 2);
  ir_op_set_operand(e, 0, iff->results[0]); /* the If's own result inside it */
  assert_int_equal(verify_errors(m), 2);
  ir_module_destroy(m);
}

static void test_duplicate_names(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrValue *c = ir_region_add_arg(m, f->body, "c", t0(m, IR_ELEM_BOOL));
  IrOp *a = add(m, f->body, IR_OP_RELU, &x, 1, x->type, 1);
  ir_value_set_name(m, a->results[0], "y");
  IrOp *iff = add(m, f->body, IR_OP_IF, &c, 1, x->type, 1);
  IrOp *inner = add(m, iff->regions[0], IR_OP_NEG, &x, 1, x->type, 1);
  ret(m, iff->regions[0], &inner->results[0], 1);
  ret(m, iff->regions[1], &x, 1);
  ret(m, f->body, &iff->results[0], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_value_set_name(m, inner->results[0], "y"); /* nested region, same name */
  assert_int_equal(verify_errors(m), 1);
  ir_value_set_name(m, iff->results[0], "x"); /* same name as the argument */
  assert_int_equal(verify_errors(m), 2);
  /* Unnamed values never clash. */
  ir_value_set_name(m, inner->results[0], NULL);
  ir_value_set_name(m, iff->results[0], NULL);
  ir_value_set_name(m, a->results[0], NULL);
  assert_int_equal(verify_errors(m), 0);
  ir_module_destroy(m);
}

static void test_returns(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  add(m, f->body, IR_OP_RELU, &x, 1, x->type, 1);
  assert_int_equal(verify_errors(m), 1); /* no return */
  IrOp *early = ret(m, f->body, &x, 1);
  assert_int_equal(verify_errors(m), 0);
  ir_op_erase(early);
  IrOp *mid = ir_op_create(m, IR_OP_RETURN, &x, 1, NULL, 0, 0);
  ir_op_insert_before(f->body->first, mid);
  assert_int_equal(verify_errors(m), 2); /* return in the middle, none at the end */
  ret(m, f->body, &x, 1);
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);

  /* Count and type mismatches against the function's results. */
  m = ir_module_create(NULL);
  f = func_f32(m, "f", &x);
  IrValue *h = ir_region_add_arg(m, f->body, "h", t1(m, IR_ELEM_F16, 2));
  IrValue *two[2] = {x, x};
  IrOp *r = ret(m, f->body, two, 2);
  assert_int_equal(verify_errors(m), 1);
  ir_op_erase(r);
  ret(m, f->body, &h, 1);
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);
}

static void test_if_and_loop_shapes(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrValue *c = ir_region_add_arg(m, f->body, "c", t0(m, IR_ELEM_BOOL));
  IrValue *n = ir_region_add_arg(m, f->body, "n", t0(m, IR_ELEM_I64));
  IrValue *h = ir_region_add_arg(m, f->body, "h", t1(m, IR_ELEM_F16, 2));
  /* If with one region only. */
  IrOp *bad = ir_op_create(m, IR_OP_IF, &c, 1, &x->type, 1, 1);
  ir_region_append(f->body, bad);
  ret(m, bad->regions[0], &x, 1);
  /* If whose else branch returns two values and then branch an f16. */
  IrOp *iff = add(m, f->body, IR_OP_IF, &c, 1, x->type, 1);
  ret(m, iff->regions[0], &h, 1);
  IrValue *two[2] = {x, x};
  ret(m, iff->regions[1], two, 2);
  /* Loop(%n, %c, %x) -> 1 result, body with 2 args returning 1 value. */
  IrValue *lops[3] = {n, c, x};
  IrOp *loop = add(m, f->body, IR_OP_LOOP, lops, 3, x->type, 1);
  IrRegion *body = loop->regions[0];
  ir_region_add_arg(m, body, "i", n->type);
  IrValue *cond = ir_region_add_arg(m, body, "cond", c->type);
  ret(m, body, &cond, 1);
  ret(m, f->body, &x, 1);
  /* region count; If branch element type; If branch count; Loop args;
   * Loop return count. */
  assert_int_equal(verify_errors(m), 5);
  ir_module_destroy(m);

  /* A valid Loop with one carried value and one scan output. */
  m = ir_module_create(NULL);
  f = func_f32(m, "f", &x);
  c = ir_region_add_arg(m, f->body, "c", t0(m, IR_ELEM_BOOL));
  n = ir_region_add_arg(m, f->body, "n", t0(m, IR_ELEM_I64));
  IrValue *lops2[3] = {n, c, x};
  const IrType *rt[2] = {x->type, x->type};
  loop = ir_op_create(m, IR_OP_LOOP, lops2, 3, rt, 2, 1);
  ir_region_append(f->body, loop);
  body = loop->regions[0];
  ir_region_add_arg(m, body, "i", n->type);
  cond = ir_region_add_arg(m, body, "cond", c->type);
  IrValue *acc = ir_region_add_arg(m, body, "acc", x->type);
  IrValue *outs[3] = {cond, acc, acc};
  ret(m, body, outs, 3);
  ret(m, f->body, &loop->results[1], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_module_destroy(m);
}

/* ---- op-table rules ------------------------------------------------- */

static void test_arity_and_none(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  add(m, f->body, IR_OP_CONV, &x, 1, x->type, 1);         /* 1 operand: 2..3 */
  IrValue *three[3] = {x, x, x};
  add(m, f->body, IR_OP_ADD, three, 3, x->type, 1);       /* 3 operands: 2 */
  add(m, f->body, IR_OP_RELU, &x, 1, x->type, 2);         /* 2 results: 1 */
  add(m, f->body, IR_OP_SPLIT, &x, 1, x->type, 0);        /* 0 results: >= 1 */
  IrValue *cv[3] = {NULL, x, NULL};
  add(m, f->body, IR_OP_CONV, cv, 3, x->type, 1);         /* #0 required */
  IrValue *ok[3] = {x, x, NULL};
  add(m, f->body, IR_OP_CONV, ok, 3, x->type, 1);         /* #2 optional: fine */
  IrOp *mx = add(m, f->body, IR_OP_MAX, three, 3, x->type, 1); /* variadic: fine */
  ret(m, f->body, &mx->results[0], 1);
  assert_int_equal(verify_errors(m), 5);
  ir_module_destroy(m);
}

static void test_attributes(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrOp *cat = add(m, f->body, IR_OP_CONCAT, &x, 1, x->type, 1);
  set_int(m, cat, "foo", 1); /* unknown, and axis missing */
  IrOp *sm = add(m, f->body, IR_OP_SOFTMAX, &x, 1, x->type, 1);
  IrAttr fa = {.name = "axis", .kind = IR_ATTR_FLOAT, .u.f = 1.0f};
  ir_op_set_attr(m, sm, &fa); /* wrong kind */
  IrOp *tr = add(m, f->body, IR_OP_TRANSPOSE, &x, 1, x->type, 1);
  int64_t perm[1] = {0};
  IrAttr pa = {.name = "perm", .kind = IR_ATTR_INTS, .u.ints = {perm, 1}};
  ir_op_set_attr(m, tr, &pa); /* right kind */
  ret(m, f->body, &x, 1);
  assert_int_equal(verify_errors(m), 3);
  set_int(m, cat, "axis", 0);
  ir_op_remove_attr(cat, "foo");
  assert_int_equal(verify_errors(m), 1);
  ir_op_remove_attr(sm, "axis");
  assert_int_equal(verify_errors(m), 0);
  ir_module_destroy(m);
}

static void test_type_rules(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrValue *h = ir_region_add_arg(m, f->body, "h", t1(m, IR_ELEM_F16, 2));
  IrValue *s = ir_region_add_arg(m, f->body, "s", t1(m, IR_ELEM_I64, 1));
  IrValue *xh[2] = {x, h};
  add(m, f->body, IR_OP_ADD, xh, 2, x->type, 1);            /* operand #1: 1 */
  add(m, f->body, IR_OP_RELU, &x, 1, h->type, 1);           /* result: 1 */
  IrValue *xs[2] = {x, s};
  add(m, f->body, IR_OP_RESHAPE, xs, 2, x->type, 1);        /* SAME_IN0 ok */
  add(m, f->body, IR_OP_RESHAPE, xs, 2, s->type, 1);        /* SAME_IN0: 1 */
  add(m, f->body, IR_OP_EQUAL, xh, 2, t1(m, IR_ELEM_BOOL, 2), 1); /* TR_ANY */
  /* Quantized operands compare by storage type. */
  IrQuant q = {.storage = IR_ELEM_I8, .expressed = IR_ELEM_F32, .kind = IR_QUANT_PER_TENSOR, .num = 1,
               .scales = (float[]){0.5f}, .zero_points = (int64_t[]){0}};
  int64_t two = 2;
  IrDim d2 = {two, NULL};
  IrValue *qa = ir_region_add_arg(m, f->body, "qa", ir_type_quant(m, &q, 1, &d2));
  IrValue *qi[2] = {qa, qa};
  add(m, f->body, IR_OP_ADD, qi, 2, t1(m, IR_ELEM_I8, 2), 1); /* fine */
  ret(m, f->body, &x, 1);
  assert_int_equal(verify_errors(m), 3);
  ir_module_destroy(m);
}

static void test_qdq(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrValue *x;
  IrFunc *f = func_f32(m, "f", &x);
  IrValue *sc = ir_region_add_arg(m, f->body, "s", t0(m, IR_ELEM_F32));
  IrValue *si = ir_region_add_arg(m, f->body, "si", t0(m, IR_ELEM_I32));
  IrValue *zu = ir_region_add_arg(m, f->body, "zu", t0(m, IR_ELEM_U8));
  IrValue *q1[3] = {x, sc, zu};
  IrOp *q = add(m, f->body, IR_OP_QUANTIZE_LINEAR, q1, 3, t1(m, IR_ELEM_U8, 2), 1); /* fine */
  add(m, f->body, IR_OP_QUANTIZE_LINEAR, q1, 3, t1(m, IR_ELEM_I8, 2), 1);          /* zp elem: 1 */
  IrValue *q2[2] = {x, si};
  add(m, f->body, IR_OP_QUANTIZE_LINEAR, q2, 2, t1(m, IR_ELEM_I8, 2), 1);          /* scale: 1 */
  IrValue *d1[3] = {q->results[0], sc, zu};
  add(m, f->body, IR_OP_DEQUANTIZE_LINEAR, d1, 3, x->type, 1);                       /* fine */
  add(m, f->body, IR_OP_DEQUANTIZE_LINEAR, d1, 3, t1(m, IR_ELEM_I32, 2), 1);       /* result: 1 */
  ret(m, f->body, &x, 1);
  assert_int_equal(verify_errors(m), 3);
  ir_module_destroy(m);
}

/* ---- constants ------------------------------------------------------ */

static void test_constants(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  const IrType *t = t1(m, IR_ELEM_F32, 2);
  float data[2] = {1.0f, 2.0f};
  IrConst *w = ir_const_create(m, "w", t, data, sizeof data, false);
  IrConst *s = ir_const_create(m, "s", t, data, sizeof(float), true);
  IrFunc *f = ir_func_create(m, "f");
  ir_func_set_results(f, &t, 1);
  IrOp *c = add(m, f->body, IR_OP_CONSTANT, NULL, 0, t, 1);
  IrAttr va = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = w};
  ir_op_set_attr(m, c, &va);
  IrOp *cs = add(m, f->body, IR_OP_CONSTANT, NULL, 0, t, 1);
  va.u.tensor = s;
  ir_op_set_attr(m, cs, &va);
  ret(m, f->body, &c->results[0], 1);
  assert_int_equal(verify_errors(m), 0);

  w->nbytes = 4; /* one element short */
  assert_int_equal(verify_errors(m), 1);
  w->nbytes = sizeof data;
  s->nbytes = 8; /* a splat holds one element */
  assert_int_equal(verify_errors(m), 1);
  s->nbytes = 4;

  /* A second pool constant named "w". */
  IrConst *dup = ir_const_create(m, "w", t, data, sizeof data, false);
  assert_int_equal(verify_errors(m), 1);
  ir_module_remove_const(m, dup);
  assert_int_equal(verify_errors(m), 0);

  /* A non-static pool constant. */
  IrDim dyn = {-1, NULL};
  IrConst *nd = ir_const_create(m, "nd", ir_type_tensor(m, IR_ELEM_F32, 1, &dyn), data, 4, true);
  assert_int_equal(verify_errors(m), 1);
  ir_module_remove_const(m, nd);

  /* The Constant's result type must be its value's type. */
  cs->results[0]->type = t1(m, IR_ELEM_F32, 3);
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);
}

static void test_const_not_in_pool(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  const IrType *t = t1(m, IR_ELEM_I8, 2);
  int8_t data[2] = {1, 2};
  IrConst *w = ir_const_create(m, "w", t, data, sizeof data, false);
  IrFunc *f = ir_func_create(m, "f");
  ir_func_set_results(f, &t, 1);
  IrOp *c = add(m, f->body, IR_OP_CONSTANT, NULL, 0, t, 1);
  IrAttr va = {.name = "value", .kind = IR_ATTR_TENSOR, .u.tensor = w};
  ir_op_set_attr(m, c, &va);
  ret(m, f->body, &c->results[0], 1);
  assert_int_equal(verify_errors(m), 0);
  ir_module_remove_const(m, w);
  assert_int_equal(verify_errors(m), 1);
  /* An inline tensor (no name) need not be in the pool, but must be sized. */
  IrConst *in = ir_const_create(m, NULL, t, data, sizeof data, false);
  va.u.tensor = in;
  ir_op_set_attr(m, c, &va);
  assert_int_equal(verify_errors(m), 0);
  in->nbytes = 1;
  assert_int_equal(verify_errors(m), 1);
  ir_module_destroy(m);
}

/* ---- quantized types ------------------------------------------------ */

static int quant_errors(const IrQuant *q, int32_t rank, const int64_t *sizes) {
  IrDim dims[4];
  for (int32_t i = 0; i < rank; i++) dims[i] = (IrDim){sizes[i], NULL};
  Diag d;
  diag_init(&d, NULL);
  bool ok = ir_verify_quant(q, rank, dims, &d, diag_loc(NULL, 0, 0));
  assert_int_equal(ok, d.errors == 0);
  return d.errors;
}

static void test_quant_rules(void **state) {
  (void)state;
  float sc[4] = {0.5f, 0.25f, 0.125f, 1.0f};
  int64_t zp[4] = {0, 0, 0, 0};
  int64_t shape[2] = {4, 8};
  IrQuant q = {IR_ELEM_I8, IR_ELEM_F32, IR_QUANT_PER_TENSOR, 0, 0, 1, sc, zp};
  assert_int_equal(quant_errors(&q, 2, shape), 0);
  q.storage = IR_ELEM_F32;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.storage = IR_ELEM_BOOL;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.storage = IR_ELEM_F8E4M3FN;
  assert_int_equal(quant_errors(&q, 2, shape), 0);
  q.expressed = IR_ELEM_I8;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.expressed = IR_ELEM_BF16;
  q.num = 2;
  assert_int_equal(quant_errors(&q, 2, shape), 1); /* per tensor: one scale */

  /* Per axis. */
  q = (IrQuant){IR_ELEM_U8, IR_ELEM_F32, IR_QUANT_PER_AXIS, 0, 0, 4, sc, zp};
  assert_int_equal(quant_errors(&q, 2, shape), 0);
  q.axis = 1;
  assert_int_equal(quant_errors(&q, 2, shape), 1); /* 4 scales, dims[1] = 8 */
  q.axis = 2;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.axis = -1;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.axis = 0;
  int64_t dyn[2] = {-1, 8};
  assert_int_equal(quant_errors(&q, 2, dyn), 0); /* dynamic axis: count unknown */
  assert_int_equal(quant_errors(&q, -1, NULL), 0); /* unranked */

  /* Per block: 4x8 along axis 1 with blocks of 4 -> 8 scales; of 8 -> 4. */
  q = (IrQuant){IR_ELEM_I4, IR_ELEM_F32, IR_QUANT_PER_BLOCK, 1, 8, 4, sc, zp};
  assert_int_equal(quant_errors(&q, 2, shape), 0);
  q.block_size = 4;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.block_size = 3;
  assert_int_equal(quant_errors(&q, 2, shape), 1); /* does not divide 8 */
  q.block_size = 0;
  assert_int_equal(quant_errors(&q, 2, shape), 1);
  q.block_size = -8;
  assert_int_equal(quant_errors(&q, 2, shape), 1);

  /* Scales and zero points: each bad one counts. */
  q = (IrQuant){IR_ELEM_I4, IR_ELEM_F32, IR_QUANT_PER_AXIS, 0, 0, 4, sc, zp};
  float bad_sc[4] = {0.0f, -1.0f, INFINITY, NAN};
  q.scales = bad_sc;
  assert_int_equal(quant_errors(&q, 2, shape), 4);
  q.scales = sc;
  int64_t bad_zp[4] = {-8, 7, 8, -9}; /* i4: [-8, 7] */
  q.zero_points = bad_zp;
  assert_int_equal(quant_errors(&q, 2, shape), 2);
  q.storage = IR_ELEM_U4; /* [0, 15]: -8 and -9 are out */
  assert_int_equal(quant_errors(&q, 2, shape), 2);
  q.storage = IR_ELEM_F4E2M1; /* float storage: every nonzero zero point */
  assert_int_equal(quant_errors(&q, 2, shape), 4);
  q.zero_points = zp;
  assert_int_equal(quant_errors(&q, 2, shape), 0);
}

/* Bad quantized types are found wherever they appear. */
static void test_quant_everywhere(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrQuant bad = {.storage = IR_ELEM_I8, .expressed = IR_ELEM_F32, .kind = IR_QUANT_PER_TENSOR, .num = 1,
                 .scales = (float[]){-1.0f}, .zero_points = (int64_t[]){0}};
  IrDim d2 = {2, NULL};
  const IrType *qt = ir_type_quant(m, &bad, 1, &d2);
  IrFunc *f = ir_func_create(m, "f");
  IrValue *a = ir_region_add_arg(m, f->body, "a", qt);        /* 1: argument */
  ir_func_set_results(f, &qt, 1);                              /* 2: result */
  IrOp *r = add(m, f->body, IR_OP_IDENTITY, &a, 1, qt, 1);     /* 3: op result */
  ret(m, f->body, &r->results[0], 1);
  int8_t data[2] = {0, 0};
  ir_const_create(m, "c", qt, data, sizeof data, false);      /* 4: constant */
  IrAttr ta = {.name = "t", .kind = IR_ATTR_TYPE, .u.type = qt};
  ir_attrs_set(m, &m->attrs, &m->nattrs, &m->attrs_cap, &ta); /* 5: module attribute */
  assert_int_equal(verify_errors(m), 5);
  ir_module_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_module),
      cmocka_unit_test(test_use_before_def),
      cmocka_unit_test(test_value_of_other_function),
      cmocka_unit_test(test_region_scoping),
      cmocka_unit_test(test_duplicate_names),
      cmocka_unit_test(test_returns),
      cmocka_unit_test(test_if_and_loop_shapes),
      cmocka_unit_test(test_arity_and_none),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_type_rules),
      cmocka_unit_test(test_qdq),
      cmocka_unit_test(test_constants),
      cmocka_unit_test(test_const_not_in_pool),
      cmocka_unit_test(test_quant_rules),
      cmocka_unit_test(test_quant_everywhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
