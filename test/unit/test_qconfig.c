/* Unit tests of compiler/quant/qconfig.c: presets, config parsing,
 * precedence of rules and the line numbers kept for later errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quant/qconfig.h"

static QCalibOptions calib = {Q_CALIB_MINMAX, 99.99};

static void test_presets(void **state) {
  (void)state;
  QOpCfg c;
  assert_true(q_preset_get("w8a8", &calib, &c));
  assert_string_equal(c.w.fmt->name, "i8");
  assert_int_equal(c.w.gran, Q_GRAN_CHANNEL);
  assert_true(c.w.symmetric);
  assert_string_equal(c.a.fmt->name, "u8");
  assert_false(c.a.symmetric);
  assert_true(q_preset_get("w4a16", &calib, &c));
  assert_int_equal(c.w.gran, Q_GRAN_GROUP);
  assert_int_equal(c.w.group, 128);
  assert_int_equal(c.w.group_line, 0); /* a preset's group may fall back */
  assert_null(c.a.fmt);
  assert_true(q_preset_get("nvfp4", &calib, &c));
  assert_string_equal(c.w.fmt->name, "nvfp4");
  assert_int_equal(c.a.mode, Q_ACT_STATIC);
  /* w4a4: i4 per output channel, MSE-clipped; i4 symmetric per-token
   * dynamic activations (docs/quantization.md). */
  assert_true(q_preset_get("w4a4", &calib, &c));
  assert_string_equal(c.w.fmt->name, "i4");
  assert_int_equal(c.w.gran, Q_GRAN_CHANNEL);
  assert_true(c.w.symmetric);
  assert_int_equal(c.w.clip, Q_WCLIP_MSE);
  assert_true(c.w.bias_correction);
  assert_string_equal(c.a.fmt->name, "i4");
  assert_true(c.a.symmetric);
  assert_int_equal(c.a.mode, Q_ACT_DYNAMIC);
  assert_int_equal(q_preset_wclip("w4a4"), Q_WCLIP_MSE);
  assert_true(q_preset_bias_correction("w4a4"));
  assert_non_null(strstr(q_preset_names(), "w4a8, w4a4, fp8"));
  assert_true(q_preset_get("w8a8", &calib, &c));
  assert_int_equal(c.a.mode, Q_ACT_STATIC);
  assert_false(q_preset_get("w9a9", &calib, &c));
}

/* Rules apply '*' < op < node < tensor whatever their order in the file. */
static void test_precedence(void **state) {
  (void)state;
  QOpCfg base;
  assert_true(q_preset_get("w8a8", &calib, &base));
  QConfig c;
  q_config_init(&c, &base);
  Diag d;
  diag_init(&d, NULL);
  const char *text = "tensor t a=i8 a-symmetric=true\n"
                     "node n1 w=i4 w-granularity=group:32 # comment\n"
                     "op MatMul w=f8E4M3FN w-axis=-1\n"
                     "* calibrator=percentile percentile=99.9\n"
                     "\n"
                     "node n2 float\n";
  assert_true(q_config_parse(&c, text, strlen(text), "cfg", &d));
  assert_int_equal(d.errors, 0);
  assert_int_equal(c.n, 5);
  QOpCfg o;
  q_config_resolve(&c, "MatMul", "n1", "t", &o);
  assert_string_equal(o.w.fmt->name, "i4"); /* node beats op */
  assert_int_equal(o.w.group, 32);
  assert_int_equal(o.w.group_line, 2);
  assert_int_equal(o.w.axis, -1);
  assert_int_equal(o.w.axis_line, 3);
  assert_string_equal(o.a.fmt->name, "i8"); /* tensor rule */
  assert_true(o.a.symmetric);
  assert_int_equal(o.a.calib.method, Q_CALIB_PERCENTILE);
  assert_true(o.a.calib.percentile == 99.9);
  assert_false(o.keep_float);
  q_config_resolve(&c, "Conv", "n2", NULL, &o);
  assert_true(o.keep_float);
  assert_string_equal(o.w.fmt->name, "i8"); /* the preset */
  q_config_free(&c);
}

static void expect_error(const char *text) {
  QOpCfg base;
  assert_true(q_preset_get("w8a8", &calib, &base));
  QConfig c;
  q_config_init(&c, &base);
  Diag d;
  diag_init(&d, NULL);
  assert_false(q_config_parse(&c, text, strlen(text), "cfg", &d));
  assert_int_equal(d.errors, 1);
  q_config_free(&c);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("op MatMul w=i9\n");
  expect_error("op MatMul a=nvfp4\n");
  expect_error("node n w-granularity=group:0\n");
  expect_error("node n w-granularity=rows\n");
  expect_error("node\n");
  expect_error("op NoSuchOp float\n");
  expect_error("layer x float\n");
  expect_error("* bits=4\n");
  expect_error("* percentile=0\n");
  expect_error("* calibrator=kl\n");
  expect_error("tensor t\n");
  expect_error("* w-symmetric=yes\n");
}

static void test_wclip_bias_keys(void **state) {
  (void)state;
  QOpCfg base, c;
  assert_true(q_preset_get("w4a16", &calib, &base));
  assert_int_equal(base.w.clip, Q_WCLIP_MSE); /* measured defaults, docs/passes/quantize.md */
  assert_true(base.w.bias_correction);
  assert_true(q_preset_get("w8a8", &calib, &c));
  assert_int_equal(c.w.clip, Q_WCLIP_NONE);
  assert_false(c.w.bias_correction);
  QConfig cfg;
  q_config_init(&cfg, &base);
  Diag d;
  diag_init(&d, NULL);
  const char *text = "* w-clip=none\nop Conv bias-correction=false w-clip=mse\n";
  assert_true(q_config_parse(&cfg, text, strlen(text), "k.cfg", &d));
  q_config_resolve(&cfg, "MatMul", NULL, NULL, &c);
  assert_int_equal(c.w.clip, Q_WCLIP_NONE);
  assert_true(c.w.bias_correction);
  q_config_resolve(&cfg, "Conv", NULL, NULL, &c);
  assert_int_equal(c.w.clip, Q_WCLIP_MSE);
  assert_false(c.w.bias_correction);
  q_config_free(&cfg);

}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wclip_bias_keys),
      cmocka_unit_test(test_presets),
      cmocka_unit_test(test_precedence),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
