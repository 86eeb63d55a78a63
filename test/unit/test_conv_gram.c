/* Conv patch Gram statistics (compiler/quant/calib_conv_gram.c) against the
 * interpreter's own Conv: for output channel m of group g, the patches p of
 * that group and the weights w_m, y_m = w_m . p at each output position, so
 *   sum over images and positions of y_m^2 = (tokens / 2) w_m^T H_g w_m
 * with H_g = (2 / tokens) sum p p^T. The identity holds for any correct
 * patch extraction (geometry, padding, group slice, tap order) and fails for
 * a wrong one; the left side comes from the float Conv kernel alone. Shapes
 * cover 1-D to 3-D, strides, dilations, explicit and automatic padding,
 * depthwise and grouped convolutions. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "interp_test.h"
#include "quant/calib_conv_gram.h"

typedef struct Case {
  const char *x, *w, *attrs;
} Case;

static const Case CASES[] = {
    {"2x3x7x6", "4x3x3x2", "strides = [2, 2], pads = [1, 1, 1, 1], dilations = [2, 1]"},
    {"1x3x5x5", "3x1x3x3", "group = 3, auto_pad = \"SAME_UPPER\""},
    {"1x2x9", "2x2x3", "pads = [2, 0], strides = [2]"},
    {"1x2x4x3x3", "2x2x2x2x2", "pads = [0, 1, 0, 1, 0, 1]"},
    {"2x4x5x4", "6x2x2x2", "group = 2, auto_pad = \"SAME_LOWER\", strides = [1, 2]"},
    {"1x1x1x3", "1x1x1x2", ""},
};

static double next_rand(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static Tensor *rand_tensor(const char *shape, uint64_t *s) {
  Tensor *t = T(IR_ELEM_F32, shape, NULL);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, next_rand(s));
  return t;
}

static void check_case(const Case *c) {
  char text[1024];
  snprintf(text, sizeof text,
           "module {\n  func @main(%%x: tensor<%sxf32>, %%w: tensor<%sxf32>) -> (tensor<*xf32>) {\n"
           "    %%y = Conv(%%x, %%w) {%s} : tensor<*xf32>\n    return %%y\n  }\n}\n",
           c->x, c->w, c->attrs);
  IrModule *m = parse_qir(text);
  const IrOp *conv = m->funcs[0]->body->first;
  QGramSet grams;
  QConvGramSet cs = {0};
  q_gram_set_init(&grams);
  assert_int_equal(q_conv_gram_add(&cs, &grams, conv), 1);
  uint64_t seed = 12345;
  Tensor *x = rand_tensor(c->x, &seed), *w = rand_tensor(c->w, &seed);
  char why[160];
  if (!q_conv_gram_observe(&cs.c[0], x, &D, why, sizeof why)) fail_msg("%s: %s", c->attrs, why);
  Interp *it = interp_create(m, NULL, NULL, &D);
  assert_non_null(it);
  Tensor *in[2] = {x, w}, *y = NULL;
  if (!interp_run(it, in, 2, &y)) fail_msg("%s", diags());
  int64_t groups = cs.c[0].groups, mch = w->dims[0], mg = mch / groups, k = w->numel / mch;
  int64_t pos = y->numel / (y->dims[0] * y->dims[1]);
  for (int64_t ch = 0; ch < mch; ch++) {
    const QGram *g = cs.c[0].g[ch / mg];
    assert_int_equal(g->k, k);
    assert_int_equal(g->n, y->dims[0] * pos);
    double lhs = 0, rhs = 0;
    for (int64_t n = 0; n < y->dims[0]; n++)
      for (int64_t p = 0; p < pos; p++) {
        double v = tensor_get_f64(y, (n * mch + ch) * pos + p);
        lhs += v * v;
      }
    for (int64_t a = 0; a < k; a++)
      for (int64_t b = 0; b < k; b++)
        rhs += tensor_get_f64(w, ch * k + a) * g->h[a * k + b] * tensor_get_f64(w, ch * k + b);
    rhs *= (double)g->n / 2;
    if (fabs(lhs - rhs) > 1e-5 * fabs(lhs) + 1e-9)
      fail_msg("[%s] channel %lld: sum y^2 = %.9g, (n/2) w^T H w = %.9g", c->attrs, (long long)ch, lhs, rhs);
  }
  tensor_free(x), tensor_free(w), tensor_free(y);
  interp_destroy(it);
  q_conv_gram_set_free(&cs);
  q_gram_set_free(&grams);
  ir_module_destroy(m);
}

static void test_identity(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) check_case(&CASES[i]);
}

/* Conv weights that do not qualify, and a per-group K over the limit. */
static void test_add_refusals(void **state) {
  (void)state;
  const char *text = "module {\n  func @main(%x: tensor<1x2048x1x1xf32>, %w: tensor<1x2048x1x1xf32>, "
                     "%v: tensor<1x2x3x3xf32>, %u: tensor<?x2x3x3xf32>) -> (tensor<*xf32>, tensor<*xf32>) {\n"
                     "    %y = Conv(%x, %w) : tensor<*xf32>\n    %z = Relu(%v) : tensor<*xf32>\n"
                     "    return %y, %z\n  }\n}\n";
  IrModule *m = parse_qir(text);
  QGramSet grams;
  QConvGramSet cs = {0};
  q_gram_set_init(&grams);
  const IrOp *conv = m->funcs[0]->body->first, *relu = conv->next;
  assert_int_equal(q_conv_gram_add(&cs, &grams, conv), -1); /* K = 2048 > 1024 */
  assert_int_equal(q_conv_gram_add(&cs, &grams, relu), 0);
  assert_int_equal(grams.n, 0);
  /* The wrong channel count at observation time is an error. */
  const char *t2 = "module {\n  func @main(%x: tensor<1x4x3x3xf32>, %w: tensor<2x2x1x1xf32>) -> (tensor<*xf32>) {\n"
                   "    %y = Conv(%x, %w) {group = 2} : tensor<*xf32>\n    return %y\n  }\n}\n";
  IrModule *m2 = parse_qir(t2);
  assert_int_equal(q_conv_gram_add(&cs, &grams, m2->funcs[0]->body->first), 1);
  assert_int_equal(grams.n, 2);
  Tensor *bad = T(IR_ELEM_F32, "1x3x3x3", NULL);
  char why[160];
  assert_false(q_conv_gram_observe(&cs.c[0], bad, &D, why, sizeof why));
  assert_non_null(strstr(why, "3 channels, expected rank 4 with 4"));
  tensor_free(bad);
  q_conv_gram_set_free(&cs);
  q_gram_set_free(&grams);
  ir_module_destroy(m);
  ir_module_destroy(m2);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(test_identity, it_setup, it_teardown),
                                     cmocka_unit_test_setup_teardown(test_add_refusals, it_setup, it_teardown)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
