/* Table-driven kernel tests (test_k_norm.c, test_k_pool.c, test_k_resize.c):
 * a table of NodeCase (kernel_test.h) with hand-derived expected values,
 * and a table of ops that must fail with a given diagnostic. Include after
 * kernel_test.h. */
#ifndef QUENCH_TEST_KERNEL_CASES_H
#define QUENCH_TEST_KERNEL_CASES_H

#include "kernel_test.h"

/* Expected values of one case, as a double array literal. */
#define KT_V(...) ((const double[]){__VA_ARGS__})
#define KT_COUNT(a) (sizeof(a) / sizeof *(a))

typedef struct KtErrCase {
  const char *sig, *body;
  Tensor *const *in;
  const char *want; /* a substring of the diagnostic */
} KtErrCase;

static inline void kt_cases(const NodeCase *c, size_t n, double tol) {
  for (size_t i = 0; i < n; i++) kt_node_case(&c[i], tol);
}

static inline void kt_errors(const KtErrCase *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    KtRun r = kt_run(c[i].sig, c[i].body, c[i].in);
    kt_expect_error(&r, c[i].want);
    kt_free(&r);
  }
}

/* main() of a test file holding one test of its case table and one of its
 * error table. */
#define KT_MAIN(cases_test, errors_test)                                                  \
  int main(void) {                                                                        \
    const struct CMUnitTest tests[] = {cmocka_unit_test(cases_test), cmocka_unit_test(errors_test)}; \
    return cmocka_run_group_tests(tests, NULL, NULL);                                     \
  }

#endif
