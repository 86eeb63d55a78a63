/* For the cmocka tests that include runtime sources (test_qrt_lut.c,
 * test_qrt_ops.c) and are also built for the AVX-512 path: exit 77 (ctest
 * SKIP_RETURN_CODE) on a CPU without it. */
#ifndef QRT_PATH_SKIP_H
#define QRT_PATH_SKIP_H
#include <stdio.h>

#include "../../runtime/qrt.h"

/* 0, or 77 after saying why the test is skipped. */
static inline int qrt_path_skip(void) {
#if defined(QRT_PATH_AVX512VNNI)
  if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) {
    puts("skip: this CPU has no AVX-512 VNNI (the path this build tests)");
    return 77;
  }
#endif
  return 0;
}

#endif
