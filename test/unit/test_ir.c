/* Unit tests for the core IR: arena, string map, element helpers, types,
 * attributes, constants, use lists and op mutation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ir/ir.h"
#include "support/strmap.h"

static void test_arena_alignment_and_zeroing(void **state) {
  (void)state;
  Arena a;
  arena_init(&a);
  for (int i = 1; i < 200; i++) {
    unsigned char *p = arena_alloc(&a, (size_t)i * 37);
    assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    for (int j = 0; j < i * 37; j++) assert_int_equal(p[j], 0);
    memset(p, 0xAB, (size_t)i * 37);
  }
  /* A block larger than a chunk gets its own chunk. */
  unsigned char *big = arena_alloc(&a, 1 << 20);
  big[(1 << 20) - 1] = 1;
  char *s = arena_strndup(&a, "hello world", 5);
  assert_string_equal(s, "hello");
  assert_null(arena_strdup(&a, NULL));
  arena_release(&a);
  assert_null(a.head);
}

static void test_strmap(void **state) {
  (void)state;
  StrMap m;
  strmap_init(&m);
  static char keys[1000][8];
  for (int i = 0; i < 1000; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    assert_null(strmap_put(&m, keys[i], &keys[i]));
  }
  for (int i = 0; i < 1000; i++) assert_ptr_equal(strmap_get(&m, keys[i]), &keys[i]);
  assert_null(strmap_get(&m, "k1000"));
  assert_ptr_equal(strmap_put(&m, "k5", NULL), &keys[5]);
  assert_int_equal(m.len, 1000);
  strmap_free(&m);
  assert_null(strmap_get(&m, "k1"));
}

static void test_elem_ranges_and_loads(void **state) {
  (void)state;
  int64_t lo, hi;
  ir_elem_int_range(IR_ELEM_I2, &lo, &hi);
  assert_true(lo == -2 && hi == 1);
  ir_elem_int_range(IR_ELEM_U4, &lo, &hi);
  assert_true(lo == 0 && hi == 15);
  ir_elem_int_range(IR_ELEM_I8, &lo, &hi);
  assert_true(lo == -128 && hi == 127);
  ir_elem_int_range(IR_ELEM_I64, &lo, &hi);
  assert_true(lo == INT64_MIN && hi == INT64_MAX);
  ir_elem_int_range(IR_ELEM_BOOL, &lo, &hi);
  assert_true(lo == 0 && hi == 1);

  /* i4 stored unpacked, one per byte: 0x0F is -1, 0x08 is -8. */
  unsigned char i4[2] = {0x0F, 0x08};
  assert_int_equal(ir_elem_load_int(IR_ELEM_I4, i4, 0), -1);
  assert_int_equal(ir_elem_load_int(IR_ELEM_I4, i4, 1), -8);
  int16_t i16[2] = {-300, 7};
  assert_int_equal(ir_elem_load_int(IR_ELEM_I16, i16, 0), -300);
  unsigned char buf[8];
  ir_elem_store_bits(IR_ELEM_U16, buf, 1, 0xBEEF);
  assert_int_equal(ir_elem_load_bits(IR_ELEM_U16, buf, 1), 0xBEEF);

  IrElem e;
  assert_true(ir_elem_from_name("f8E4M3FN", 8, &e) && e == IR_ELEM_F8E4M3FN);
  assert_true(ir_elem_from_name("e8m0xyz", 4, &e) && e == IR_ELEM_E8M0);
  assert_false(ir_elem_from_name("f33", 3, &e));
  /* Names are unique: looking each up gives itself back. */
  for (int k = 0; k < IR_ELEM_COUNT; k++) {
    const char *n = ir_elem_name((IrElem)k);
    assert_true(ir_elem_from_name(n, (int)strlen(n), &e));
    assert_int_equal(e, k);
  }
}

static void test_types(void **state) {
  (void)state;
  IrModule *m = ir_module_create("t");
  IrDim d1[3] = {{2, NULL}, {-1, "batch"}, {-1, NULL}};
  IrDim d2[3] = {{2, NULL}, {-1, "batch"}, {-1, NULL}};
  IrDim d3[3] = {{2, NULL}, {-1, "seq"}, {-1, NULL}};
  const IrType *a = ir_type_tensor(m, IR_ELEM_F32, 3, d1);
  assert_true(ir_type_equal(a, ir_type_tensor(m, IR_ELEM_F32, 3, d2)));
  assert_false(ir_type_equal(a, ir_type_tensor(m, IR_ELEM_F32, 3, d3)));
  assert_false(ir_type_equal(a, ir_type_tensor(m, IR_ELEM_F16, 3, d2)));
  assert_false(ir_type_is_static(a));
  assert_int_equal(ir_type_numel(a), -1);

  int64_t s[3] = {4, 5, 6};
  const IrType *st = ir_type_static(m, IR_ELEM_I8, 3, s);
  assert_int_equal(ir_type_numel(st), 120);
  int64_t huge[3] = {INT64_MAX / 2, 4, 1};
  assert_int_equal(ir_type_numel(ir_type_static(m, IR_ELEM_I8, 3, huge)), -1);
  assert_int_equal(ir_type_numel(ir_type_static(m, IR_ELEM_I8, 0, NULL)), 1);
  int64_t z[2] = {0, INT64_MAX};
  assert_int_equal(ir_type_numel(ir_type_static(m, IR_ELEM_I8, 2, z)), 0);

  float sc[2] = {0.5f, 0.25f};
  int64_t zp[2] = {0, 3};
  IrQuant q = {IR_ELEM_I8, IR_ELEM_F32, IR_QUANT_PER_AXIS, 0, 0, 2, sc, zp};
  IrDim qd[1] = {{2, NULL}};
  const IrType *qt = ir_type_quant(m, &q, 1, qd);
  sc[1] = 0.125f; /* the type copied the scales */
  assert_true(qt->quant->scales[1] == 0.25f);
  const IrType *qt2 = ir_type_quant(m, &q, 1, qd);
  assert_false(ir_type_equal(qt, qt2));
  sc[1] = 0.25f;
  assert_true(ir_type_equal(qt, ir_type_quant(m, &q, 1, qd)));
  assert_false(ir_type_equal(qt, ir_type_tensor(m, IR_ELEM_I8, 1, qd)));
  ir_module_destroy(m);
}

static void test_attrs_sorted_and_replaced(void **state) {
  (void)state;
  IrModule *m = ir_module_create(NULL);
  IrOp *op = ir_op_create(m, IR_OP_CONV, NULL, 0, NULL, 0, 0);
  IrAttr a = {.name = "strides", .kind = IR_ATTR_INTS};
  int64_t v[2] = {1, 2};
  a.u.ints.v = v;
  a.u.ints.n = 2;
  ir_op_set_attr(m, op, &a);
  IrAttr g = {.name = "group", .kind = IR_ATTR_INT, .u.i = 4};
  ir_op_set_attr(m, op, &g);
  IrAttr p = {.name = "auto_pad", .kind = IR_ATTR_STRING, .u.s = "SAME_UPPER"};
  ir_op_set_attr(m, op, &p);
  assert_int_equal(op->nattrs, 3);
  assert_string_equal(op->attrs[0].name, "auto_pad");
  assert_string_equal(op->attrs[1].name, "group");
  assert_string_equal(op->attrs[2].name, "strides");
  v[0] = 9; /* copied */
  assert_int_equal(ir_op_attr(op, "strides")->u.ints.v[0], 1);
  g.u.i = 8;
  ir_op_set_attr(m, op, &g);
  assert_int_equal(op->nattrs, 3);
  assert_int_equal(ir_op_attr_int(op, "group", 1), 8);
  assert_int_equal(ir_op_attr_int(op, "missing", 7), 7);
  assert_string_equal(ir_op_attr_string(op, "auto_pad", ""), "SAME_UPPER");
  assert_true(ir_op_remove_attr(op, "group"));
  assert_false(ir_op_remove_attr(op, "group"));
  assert_int_equal(op->nattrs, 2);
  ir_module_destroy(m);
}

static void test_use_lists_and_erase(void **state) {
  (void)state;
  IrModule *m = ir_module_create("m");
  IrFunc *f = ir_func_create(m, "main");
  int64_t dims[1] = {4};
  const IrType *t = ir_type_static(m, IR_ELEM_F32, 1, dims);
  IrValue *x = ir_region_add_arg(m, f->body, "x", t);
  IrValue *ops2[2] = {x, x};
  IrOp *add = ir_op_create(m, IR_OP_ADD, ops2, 2, &t, 1, 0);
  ir_region_append(f->body, add);
  assert_int_equal(ir_value_num_uses(x), 2);
  IrValue *r = ir_op_result(add, 0);
  IrOp *relu = ir_op_create(m, IR_OP_RELU, &r, 1, &t, 1, 0);
  ir_region_append(f->body, relu);
  IrValue *rr = ir_op_result(relu, 0);
  IrOp *ret = ir_op_create(m, IR_OP_RETURN, &rr, 1, NULL, 0, 0);
  ir_region_append(f->body, ret);
  assert_ptr_equal(f->body->first, add);
  assert_ptr_equal(f->body->last, ret);

  /* Forward relu's input to x and drop the add. */
  ir_value_replace_all_uses(r, x);
  assert_int_equal(ir_value_num_uses(x), 3);
  assert_false(ir_value_has_uses(r));
  ir_op_erase(add);
  assert_int_equal(ir_value_num_uses(x), 1);
  assert_ptr_equal(f->body->first, relu);
  assert_null(relu->prev);

  ir_op_set_operand(ret, 0, x);
  assert_false(ir_value_has_uses(rr));
  ir_op_erase(relu);
  assert_ptr_equal(f->body->first, ret);
  assert_ptr_equal(ir_op_operand(ret, 0), x);

  /* Insert before/after keep the list consistent. */
  IrOp *neg = ir_op_create(m, IR_OP_NEG, &x, 1, &t, 1, 0);
  ir_op_insert_before(ret, neg);
  IrOp *abs_op = ir_op_create(m, IR_OP_ABS, &x, 1, &t, 1, 0);
  ir_op_insert_after(neg, abs_op);
  assert_ptr_equal(f->body->first, neg);
  assert_ptr_equal(neg->next, abs_op);
  assert_ptr_equal(abs_op->next, ret);
  assert_ptr_equal(ret->prev, abs_op);
  assert_int_equal(ir_value_num_uses(x), 3);
  ir_module_destroy(m);
}

static bool count_op(IrOp *op, void *ctx) {
  (void)op;
  (*(int *)ctx)++;
  return true;
}

static void test_regions_and_walk(void **state) {
  (void)state;
  IrModule *m = ir_module_create("m");
  IrFunc *f = ir_func_create(m, "main");
  const IrType *b = ir_type_static(m, IR_ELEM_BOOL, 0, NULL);
  const IrType *t = ir_type_static(m, IR_ELEM_F32, 0, NULL);
  IrValue *c = ir_region_add_arg(m, f->body, "c", b);
  IrValue *x = ir_region_add_arg(m, f->body, "x", t);
  IrOp *iff = ir_op_create(m, IR_OP_IF, &c, 1, &t, 1, 2);
  assert_string_equal(iff->regions[0]->name, "then_branch");
  assert_string_equal(iff->regions[1]->name, "else_branch");
  IrOp *neg = ir_op_create(m, IR_OP_NEG, &x, 1, &t, 1, 0);
  ir_region_append(iff->regions[0], neg);
  IrValue *nv = ir_op_result(neg, 0);
  ir_region_append(iff->regions[0], ir_op_create(m, IR_OP_RETURN, &nv, 1, NULL, 0, 0));
  ir_region_append(iff->regions[1], ir_op_create(m, IR_OP_RETURN, &x, 1, NULL, 0, 0));
  ir_region_append(f->body, iff);
  assert_ptr_equal(iff->regions[0]->func, f); /* learned when placed */
  assert_ptr_equal(ir_op_parent_op(neg), iff);
  assert_null(ir_op_parent_op(iff));
  int n = 0;
  ir_module_walk(m, count_op, &n);
  assert_int_equal(n, 4);
  ir_module_destroy(m);
}

static void test_consts(void **state) {
  (void)state;
  IrModule *m = ir_module_create("m");
  int64_t dims[1] = {3};
  const IrType *t = ir_type_static(m, IR_ELEM_I16, 1, dims);
  int16_t data[3] = {5, 5, 5};
  int16_t one = 5;
  IrConst *full = ir_const_create(m, "full", t, data, sizeof data, false);
  IrConst *splat = ir_const_create(m, "splat", t, &one, sizeof one, true);
  assert_int_equal(m->nconsts, 2);
  assert_ptr_equal(ir_module_find_const(m, "splat"), splat);
  assert_true(ir_const_equal(full, splat)); /* same values, different forms */
  assert_int_equal(ir_const_bits(splat, 2), 5);
  data[1] = 6;
  IrConst *other = ir_const_create(m, NULL, t, data, sizeof data, false);
  assert_false(ir_const_equal(full, other));
  assert_int_equal(m->nconsts, 2); /* unnamed constants stay out of the pool */
  assert_true(ir_module_remove_const(m, full));
  assert_false(ir_module_remove_const(m, full));
  assert_null(ir_module_find_const(m, "full"));
  ir_module_destroy(m);
}

static void test_op_table(void **state) {
  (void)state;
  IrOpKind k;
  assert_true(ops_lookup("Conv", 4, &k) && k == IR_OP_CONV);
  assert_false(ops_lookup("Convv", 5, &k));
  const IrOpInfo *cat = ops_info(IR_OP_CONCAT);
  assert_int_equal(cat->max_in, -1);
  const IrAttrRule *ax = ops_attr_rule(IR_OP_CONCAT, "axis");
  assert_non_null(ax);
  assert_true(ax->required && ax->kind == IR_ATTR_INT);
  assert_null(ops_attr_rule(IR_OP_CONCAT, "perm"));
  const IrOpInfo *iff = ops_info(IR_OP_IF);
  assert_int_equal(iff->nregions, 2);
  /* Every row: names unique, arity ranges sane, attribute names unique. */
  for (int i = 0; i < IR_OP_COUNT; i++) {
    const IrOpInfo *a = ops_info((IrOpKind)i);
    assert_true(ops_lookup(a->name, (int)strlen(a->name), &k) && (int)k == i);
    assert_true(a->min_in >= 0 && (a->max_in == -1 || a->max_in >= a->min_in));
    assert_true(a->min_out >= 0 && (a->max_out == -1 || a->max_out >= a->min_out));
    for (int x = 0; x < a->nattrs; x++)
      for (int y = x + 1; y < a->nattrs; y++) assert_true(strcmp(a->attrs[x].name, a->attrs[y].name) != 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arena_alignment_and_zeroing),
      cmocka_unit_test(test_strmap),
      cmocka_unit_test(test_elem_ranges_and_loads),
      cmocka_unit_test(test_types),
      cmocka_unit_test(test_attrs_sorted_and_replaced),
      cmocka_unit_test(test_use_lists_and_erase),
      cmocka_unit_test(test_regions_and_walk),
      cmocka_unit_test(test_consts),
      cmocka_unit_test(test_op_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
