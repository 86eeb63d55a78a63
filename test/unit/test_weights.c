/* Unit tests for the weights file (compiler/ir/weights.c): round trip,
 * header layout and alignment, corrupt files, bounds-checked slices, and
 * the writer leaving nothing behind on abort. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/weights.h"

static char tmpdir[512];

static int setup_dir(void **state) {
  (void)state;
  const char *base = getenv("QUENCH_TEST_TMP");
  snprintf(tmpdir, sizeof tmpdir, "%s/weightsXXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state) {
  (void)state;
  return rmdir(tmpdir); /* fails if a test left a file behind */
}

static char *path_in(const char *name) {
  static char buf[600];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

static int count_files(void) {
  char cmd[700];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", tmpdir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

static void write_raw(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void test_round_trip(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, stderr);
  char *path = path_in("m.qir.weights");
  WeightsWriter *w = weights_writer_open(path, "m.qir.weights", &d);
  assert_non_null(w);
  assert_string_equal(weights_writer_ref_name(w), "m.qir.weights");
  unsigned char a[3] = {1, 2, 3}, b[100], c[1] = {0xEE};
  for (int i = 0; i < 100; i++) b[i] = (unsigned char)(i * 7);
  assert_int_equal(weights_writer_add(w, a, 3), 64); /* first aligned offset after the header */
  assert_int_equal(weights_writer_add(w, b, 100), 128);
  assert_int_equal(weights_writer_add(w, c, 1), 256);
  assert_int_equal(weights_writer_add(w, NULL, 0), 320);
  assert_int_equal(access(path, F_OK), -1); /* nothing before commit */
  assert_true(weights_writer_commit(w));
  weights_writer_free(w);
  assert_int_equal(count_files(), 1);

  WeightsFile *f = weights_file_load(path, &d, diag_loc("m.qir", 3, 5));
  assert_non_null(f);
  /* The empty blob still gets its aligned offset inside the file. */
  assert_int_equal(f->size, 320);
  static const unsigned char hdr[16] = {'Q', 'N', 'C', 'H', 'W', 'T', 'S', '1', 1, 0, 0, 0, 0, 0, 0, 0};
  assert_memory_equal(f->data, hdr, 16);
  for (int i = 16; i < 64; i++) assert_int_equal(f->data[i], 0); /* padding */
  assert_memory_equal(weights_file_slice(f, 64, 3), a, 3);
  assert_memory_equal(weights_file_slice(f, 128, 100), b, 100);
  assert_memory_equal(weights_file_slice(f, 256, 1), c, 1);
  assert_non_null(weights_file_slice(f, 320, 0));
  assert_null(weights_file_slice(f, 320, 1));
  assert_int_equal(d.errors, 0);
  weights_file_free(f);
  remove(path);
}

static void test_bad_slices(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, NULL);
  char *path = path_in("s.weights");
  WeightsWriter *w = weights_writer_open(path, "s.weights", &d);
  unsigned char b[10] = {0};
  assert_int_equal(weights_writer_add(w, b, 10), 64);
  assert_true(weights_writer_commit(w));
  weights_writer_free(w);
  WeightsFile *f = weights_file_load(path, &d, diag_loc("x.qir", 1, 1));
  assert_non_null(f);
  assert_int_equal(f->size, 74);
  assert_null(weights_file_slice(f, 64, 11));
  assert_null(weights_file_slice(f, 75, 0));
  assert_null(weights_file_slice(f, 0, 4)); /* inside the header */
  assert_null(weights_file_slice(f, 15, 1));
  assert_null(weights_file_slice(f, -1, 1));
  assert_null(weights_file_slice(f, 64, -1));
  assert_null(weights_file_slice(f, 64, INT64_MAX)); /* offset + n overflows */
  assert_null(weights_file_slice(f, INT64_MAX, 1));
  assert_non_null(weights_file_slice(f, 16, 58));
  weights_file_free(f);
  remove(path);
}

/* Loads `path` expecting failure; the message must name the file. */
static void expect_load_error(const char *path, const char *needle) {
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  Diag d;
  diag_init(&d, mem);
  assert_null(weights_file_load(path, &d, diag_loc("m.qir", 4, 7)));
  fclose(mem);
  assert_int_equal(d.errors, 1);
  assert_non_null(strstr(buf, "m.qir:4:7: error: "));
  assert_non_null(strstr(buf, path));
  assert_non_null(strstr(buf, needle));
  free(buf);
}

static void test_corrupt_files(void **state) {
  (void)state;
  char *p = path_in("bad.weights");
  static const unsigned char bad_magic[20] = {'Q', 'N', 'C', 'H', 'W', 'T', 'S', '2', 1};
  write_raw(p, bad_magic, sizeof bad_magic);
  expect_load_error(p, "bad magic");
  static const unsigned char bad_version[16] = {'Q', 'N', 'C', 'H', 'W', 'T', 'S', '1', 2};
  write_raw(p, bad_version, sizeof bad_version);
  expect_load_error(p, "unsupported version 2");
  static const unsigned char bad_reserved[16] = {'Q', 'N', 'C', 'H', 'W', 'T', 'S', '1', 1, 0, 0, 0, 9};
  write_raw(p, bad_reserved, sizeof bad_reserved);
  expect_load_error(p, "reserved");
  write_raw(p, "QNCHWTS1\1\0", 10); /* truncated header */
  expect_load_error(p, "too short");
  write_raw(p, "", 0);
  expect_load_error(p, "too short");
  remove(p);
  expect_load_error(p, "cannot open"); /* missing */
}

static void test_abort_leaves_nothing(void **state) {
  (void)state;
  Diag d;
  diag_init(&d, NULL);
  char *path = path_in("gone.weights");
  WeightsWriter *w = weights_writer_open(path, "gone.weights", &d);
  assert_non_null(w);
  unsigned char b[1000] = {0};
  assert_true(weights_writer_add(w, b, sizeof b) >= 0);
  assert_int_equal(count_files(), 1); /* the temporary */
  weights_writer_abort(w);
  weights_writer_abort(w); /* idempotent */
  assert_false(weights_writer_commit(w));
  weights_writer_free(w);
  assert_int_equal(count_files(), 0);
  assert_int_equal(access(path, F_OK), -1);
  /* Freeing without commit also cleans up. */
  w = weights_writer_open(path, "gone.weights", &d);
  assert_true(weights_writer_add(w, b, 5) >= 0);
  weights_writer_free(w);
  assert_int_equal(count_files(), 0);
}

static void test_open_failure_reported(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  Diag d;
  diag_init(&d, mem);
  assert_null(weights_writer_open("/nonexistent-dir/x.weights", "x.weights", &d));
  fclose(mem);
  assert_int_equal(d.errors, 1);
  assert_non_null(strstr(buf, "/nonexistent-dir/x.weights: error: cannot write weights file"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_bad_slices),
      cmocka_unit_test(test_corrupt_files),
      cmocka_unit_test(test_abort_leaves_nothing),
      cmocka_unit_test(test_open_failure_reported),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
