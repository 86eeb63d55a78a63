/* libquench_rt thread pool: a fixed set of worker threads, created once, that
 * run one parallel loop at a time. Results never depend on the thread count:
 * every index of a loop is computed by exactly one call, so kernels that write
 * disjoint outputs per index give the same bits with 1 or N threads.
 * docs/backends/runtime-ops.md describes it; test/unit/test_qrt_ops.c tests it. */
#ifndef QRT_POOL_H
#define QRT_POOL_H
#include <stdint.h>

typedef struct qrt_pool qrt_pool;

/* nthreads >= 1 (the calling thread counts as one: nthreads - 1 workers are
 * started). NULL on failure (bad count, no memory, thread creation failed).
 * The only allocations the pool makes are here. */
qrt_pool *qrt_pool_create(int nthreads);
void qrt_pool_destroy(qrt_pool *p);
/* The thread count given to qrt_pool_create (1 for NULL). */
int qrt_pool_threads(const qrt_pool *p);

typedef void (*qrt_task_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) split into at most nthreads contiguous chunks whose
 * sizes are whole multiples of `grain` (the last chunk takes the rest); with
 * p NULL, one thread, or n <= grain: one call fn(ctx, 0, n) on the calling
 * thread. The caller takes chunks too and returns when all are done. One
 * loop at a time per pool: a call made while the pool is busy (from inside
 * fn, or from another thread) runs serially on its calling thread. */
void qrt_parallel_for(qrt_pool *p, int64_t n, int64_t grain, qrt_task_fn fn, void *ctx);

#endif
