/* Unit tests for pipeline strings (compiler/pm/pipeline.c) and option
 * parsing (compiler/pm/registry.c): registration checks, typed values,
 * canonical printing, and error messages with their columns. Expected
 * values are written out by hand from docs/pass-manager.md. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pass_manager.h"

static bool run_nothing(PassContext *ctx, IrModule *m) {
  (void)ctx;
  (void)m;
  return true;
}

static const PassOption foo_options[] = {
    {"alpha", Q_OPT_FLOAT, "0.5", "a float", 0, 0},
    {"name", Q_OPT_STRING, "x", "a string", 0, 0},
    {"level", Q_OPT_INT, "2", "an int in [0, 3]", 0, 3},
    {"fast", Q_OPT_BOOL, "false", "a bool", 0, 0},
    {0},
};
static const Pass foo = {"foo", "test pass", foo_options, NULL, run_nothing};
static const Pass bar = {"bar", "test pass without options", NULL, NULL, run_nothing};

typedef struct Fixture {
  PassRegistry reg;
  Pipeline pl;
  Diag diag;
  char *out;
  size_t outlen;
  FILE *outf;
} Fixture;

static int setup(void **state) {
  Fixture *f = calloc(1, sizeof *f);
  pass_registry_init(&f->reg);
  f->outf = open_memstream(&f->out, &f->outlen);
  diag_init(&f->diag, f->outf);
  DiagLoc where = {"test", 0, 0};
  if (!pass_registry_add_builtins(&f->reg, &f->diag, where)) return -1;
  if (!pass_registry_add(&f->reg, &foo, "libfoo.so", &f->diag, where)) return -1;
  if (!pass_registry_add(&f->reg, &bar, "libfoo.so", &f->diag, where)) return -1;
  pipeline_init(&f->pl);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;
  pipeline_free(&f->pl);
  pass_registry_free(&f->reg);
  fclose(f->outf);
  free(f->out);
  free(f);
  return 0;
}

/* The diagnostics printed so far (first line only: no source registered). */
static const char *messages(Fixture *f) {
  fflush(f->outf);
  return f->out ? f->out : "";
}

static bool parse(Fixture *f, const char *text) { return pipeline_parse(&f->pl, &f->reg, text, "<p>", &f->diag); }

static char *print(Fixture *f) {
  char *s = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&s, &n);
  pipeline_print(m, &f->pl);
  fclose(m);
  return s;
}

static void test_simple_list(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "dce,remove-identity,bar"));
  assert_int_equal(f->pl.n, 3);
  assert_string_equal(f->pl.entries[0].info->pass->name, "dce");
  assert_string_equal(f->pl.entries[1].info->pass->name, "remove-identity");
  assert_string_equal(f->pl.entries[2].info->pass->name, "bar");
  assert_int_equal(f->pl.entries[0].col, 1);
  assert_int_equal(f->pl.entries[1].col, 5);
  assert_int_equal(f->pl.entries[2].col, 21);
  assert_false(f->pl.entries[0].values[0].b); /* keep-consts default */
  assert_int_equal(f->diag.errors, 0);
}

static void test_empty_and_spaces(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, ""));
  assert_true(parse(f, "   "));
  assert_int_equal(f->pl.n, 0);
  assert_true(parse(f, "  dce ,\tbar  "));
  assert_int_equal(f->pl.n, 2);
  assert_int_equal(f->pl.entries[0].col, 3);
  assert_int_equal(f->pl.entries[1].col, 9);
}

static void test_typed_options(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "foo{alpha=0.25,name=hello,level=3,fast=1}"));
  const PassOptionValue *v = f->pl.entries[0].values;
  assert_true(v[0].f == 0.25);
  assert_string_equal(v[1].s, "hello");
  assert_int_equal(v[2].i, 3);
  assert_true(v[3].b);
}

static void test_defaults_and_repeats(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "foo,foo{level=0},foo{fast}"));
  assert_int_equal(f->pl.n, 3);
  assert_true(f->pl.entries[0].values[0].f == 0.5);
  assert_string_equal(f->pl.entries[0].values[1].s, "x");
  assert_int_equal(f->pl.entries[0].values[2].i, 2);
  assert_int_equal(f->pl.entries[1].values[2].i, 0);
  assert_false(f->pl.entries[1].values[3].b);
  assert_true(f->pl.entries[2].values[3].b);
  /* Entries are independent: the repeat did not change the first one. */
  assert_int_equal(f->pl.entries[0].values[2].i, 2);
}

static void test_bool_spellings(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "foo{fast=true},foo{fast=false},foo{fast=1},foo{fast=0}"));
  assert_true(f->pl.entries[0].values[3].b);
  assert_false(f->pl.entries[1].values[3].b);
  assert_true(f->pl.entries[2].values[3].b);
  assert_false(f->pl.entries[3].values[3].b);
}

static void test_quoted_strings(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "foo{name=\"a, {b}=c\"},foo{name='it\\'s'},foo{name=\"q\\\"x\\\\\"},foo{name=}"));
  assert_int_equal(f->pl.n, 4);
  assert_string_equal(f->pl.entries[0].values[1].s, "a, {b}=c");
  assert_string_equal(f->pl.entries[1].values[1].s, "it's");
  assert_string_equal(f->pl.entries[2].values[1].s, "q\"x\\");
  assert_string_equal(f->pl.entries[3].values[1].s, "");
}

static void test_canonical_print(void **state) {
  Fixture *f = *state;
  assert_true(parse(f, "bar, foo{ name = \"a b\" , alpha=0.1 },dce"));
  char *s = print(f);
  assert_string_equal(s, "bar,foo{alpha=0.1,name=\"a b\",level=2,fast=false},dce{keep-consts=false}");
  /* The printed form parses back to itself. */
  Pipeline again;
  pipeline_init(&again);
  assert_true(pipeline_parse(&again, &f->reg, s, "<p>", &f->diag));
  char *t = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&t, &n);
  pipeline_print(m, &again);
  fclose(m);
  assert_string_equal(s, t);
  free(t);
  free(s);
  pipeline_free(&again);
}

/* One error each: the message and its column. */
static void check_error(Fixture *f, const char *text, const char *expect) {
  assert_false(parse(f, text));
  assert_int_equal(f->diag.errors, 1);
  assert_string_equal(messages(f), expect);
}

static void test_unknown_pass(void **state) {
  check_error(*state, "dce,dcee", "<p>:1:5: error: unknown pass 'dcee'; did you mean 'dce'?\n");
}

static void test_unknown_pass_no_suggestion(void **state) {
  check_error(*state, "zzzzzz", "<p>:1:1: error: unknown pass 'zzzzzz' (quench-opt --help lists the passes)\n");
}

static void test_unknown_option(void **state) {
  check_error(*state, "foo{beta=1}", "<p>:1:5: error: unknown option 'beta' for pass 'foo'\n");
}

static void test_option_typo(void **state) {
  check_error(*state, "foo{alhpa=1}", "<p>:1:5: error: unknown option 'alhpa' for pass 'foo'; did you mean 'alpha'?\n");
}

static void test_bad_float(void **state) {
  check_error(*state, "foo{alpha=x}", "<p>:1:11: error: option 'alpha' expects a float, got 'x'\n");
}

static void test_float_rejects_hex_and_nan(void **state) {
  check_error(*state, "foo{alpha=nan}", "<p>:1:11: error: option 'alpha' expects a float, got 'nan'\n");
}

static void test_int_range(void **state) {
  check_error(*state, "foo{level=4}", "<p>:1:11: error: option 'level' expects an int in [0, 3], got '4'\n");
}

static void test_bad_int(void **state) {
  check_error(*state, "foo{level=1.5}", "<p>:1:11: error: option 'level' expects an int, got '1.5'\n");
}

static void test_bad_bool(void **state) {
  check_error(*state, "foo{fast=yes}", "<p>:1:10: error: option 'fast' expects a bool, got 'yes'\n");
}

static void test_value_required(void **state) {
  check_error(*state, "foo{level}", "<p>:1:10: error: expected '=' and a value after option 'level', got '}'\n");
}

static void test_duplicate_option(void **state) {
  check_error(*state, "foo{level=1, level=2}", "<p>:1:14: error: option 'level' is given twice for pass 'foo'\n");
}

static void test_unclosed(void **state) {
  check_error(*state, "dce,foo{level=1", "<p>:1:8: error: unclosed '{' in the options of pass 'foo'\n");
}

static void test_unterminated_quote(void **state) {
  check_error(*state, "foo{name=\"abc}", "<p>:1:10: error: unterminated quoted value\n");
}

static void test_missing_comma(void **state) {
  check_error(*state, "dce bar", "<p>:1:5: error: expected ',' between passes, got 'b'\n");
}

static void test_trailing_comma(void **state) {
  check_error(*state, "dce,", "<p>:1:5: error: expected a pass name, got end of string\n");
}

static void test_junk_after_value(void **state) {
  check_error(*state, "foo{name='a'b}", "<p>:1:13: error: expected ',' or '}' after option 'name', got 'b'\n");
}

static void test_option_parse_values(void **state) {
  (void)state;
  PassOption i64 = {"n", Q_OPT_INT, "0", "", 0, 0};
  PassOptionValue v;
  assert_int_equal(pass_option_parse(&i64, "-9223372036854775808", 20, &v), PASS_OPT_OK);
  assert_true(v.i == INT64_MIN);
  assert_int_equal(pass_option_parse(&i64, "9223372036854775808", 19, &v), PASS_OPT_OUT_OF_RANGE);
  assert_int_equal(pass_option_parse(&i64, "0x10", 4, &v), PASS_OPT_BAD_SYNTAX);
  assert_int_equal(pass_option_parse(&i64, "", 0, &v), PASS_OPT_BAD_SYNTAX);
  assert_int_equal(pass_option_parse(&i64, "-", 1, &v), PASS_OPT_BAD_SYNTAX);
  /* Only len bytes count: "12" out of "123". */
  assert_int_equal(pass_option_parse(&i64, "123", 2, &v), PASS_OPT_OK);
  assert_int_equal(v.i, 12);
  PassOption fl = {"f", Q_OPT_FLOAT, "0", "", 0, 0};
  assert_int_equal(pass_option_parse(&fl, "-2.5e-3", 7, &v), PASS_OPT_OK);
  assert_true(v.f == -0.0025);
  assert_int_equal(pass_option_parse(&fl, "1e400", 5, &v), PASS_OPT_OUT_OF_RANGE);
  assert_int_equal(pass_option_parse(&fl, "inf", 3, &v), PASS_OPT_BAD_SYNTAX);
  assert_int_equal(pass_option_parse(&fl, "1.0.0", 5, &v), PASS_OPT_BAD_SYNTAX);
}

static void test_suggest(void **state) {
  (void)state;
  const char *names[] = {"dce", "remove-identity", "fold-double-relu"};
  assert_string_equal(pass_suggest(names, 3, "dec", 3), "dce");
  assert_string_equal(pass_suggest(names, 3, "remove-identty", 14), "remove-identity");
  assert_null(pass_suggest(names, 3, "x", 1));
  assert_null(pass_suggest(names, 3, "canonicalize", 12));
}

static void test_registration_errors(void **state) {
  Fixture *f = *state;
  DiagLoc where = {"test", 0, 0};
  static const Pass dup = {"dce", "again", NULL, NULL, run_nothing};
  assert_false(pass_registry_add(&f->reg, &dup, "other.so", &f->diag, where));
  assert_string_equal(messages(f),
                      "test: error: pass 'dce' registered by plugin 'other.so' is already registered (built-in)\n");
  static const Pass dup2 = {"foo", "again", NULL, NULL, run_nothing};
  assert_false(pass_registry_add(&f->reg, &dup2, "other.so", &f->diag, where));
  assert_non_null(strstr(messages(f), "pass 'foo' registered by plugin 'other.so' is already registered (by plugin "
                                      "'libfoo.so')\n"));
  static const PassOption bad_opts[] = {{"n", Q_OPT_INT, "7", "", 0, 3}, {0}};
  static const Pass bad = {"bad", "bad default", bad_opts, NULL, run_nothing};
  assert_false(pass_registry_add(&f->reg, &bad, NULL, &f->diag, where));
  assert_non_null(strstr(messages(f), "pass 'bad' (built-in): default '7' of option 'n' is not a valid int\n"));
  static const Pass badname = {"Bad Name", "x", NULL, NULL, run_nothing};
  assert_false(pass_registry_add(&f->reg, &badname, NULL, &f->diag, where));
  assert_int_equal(f->diag.errors, 4);
  assert_null(pass_registry_find(&f->reg, "bad"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T(test_simple_list),
      T(test_empty_and_spaces),
      T(test_typed_options),
      T(test_defaults_and_repeats),
      T(test_bool_spellings),
      T(test_quoted_strings),
      T(test_canonical_print),
      T(test_unknown_pass),
      T(test_unknown_pass_no_suggestion),
      T(test_unknown_option),
      T(test_option_typo),
      T(test_bad_float),
      T(test_float_rejects_hex_and_nan),
      T(test_int_range),
      T(test_bad_int),
      T(test_bad_bool),
      T(test_value_required),
      T(test_duplicate_option),
      T(test_unclosed),
      T(test_unterminated_quote),
      T(test_missing_comma),
      T(test_trailing_comma),
      T(test_junk_after_value),
      T(test_option_parse_values),
      T(test_suggest),
      T(test_registration_errors),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
