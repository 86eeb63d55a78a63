/* libquench_rt thread pool (qrt_pool.h). Workers wait for a job generation
 * number to change: they spin briefly (a model runs many small loops back to
 * back), then sleep on a condition variable. Chunks are claimed with a CAS on
 * a ticket that holds (generation << 32 | next chunk), so a worker that woke
 * late for a finished job can never take a chunk of the next one. The caller
 * runs chunks too and waits until every chunk is done. Tests:
 * test/unit/test_qrt_ops.c (coverage of every index, same results for 1, 2, 3
 * threads). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "qrt_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Spin iterations before sleeping (a few microseconds). */
#define QRT_SPIN 4000

struct qrt_pool {
  int nthreads;
  pthread_t *workers;
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_done;
  _Atomic uint64_t gen;    /* job generation, bumped under mu */
  _Atomic uint64_t ticket; /* gen << 32 | next chunk index */
  _Atomic int64_t done;    /* chunks finished in the current job */
  atomic_flag busy;        /* a loop is running */
  int stop;
  /* the current job, written under mu */
  qrt_task_fn fn;
  void *ctx;
  int64_t n, chunk, nchunks;
};

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

typedef struct job {
  qrt_task_fn fn;
  void *ctx;
  int64_t n, chunk, nchunks;
  uint64_t gen;
} job;

/* Claims and runs chunks of job j until none is left; the last finisher
 * wakes the caller. */
static void run_chunks(qrt_pool *p, const job *j) {
  for (;;) {
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    for (;;) {
      if ((t >> 32) != (j->gen & 0xffffffffu) || (int64_t)(t & 0xffffffffu) >= j->nchunks)
        return;
      if (atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
        break;
    }
    int64_t c = (int64_t)(t & 0xffffffffu), b = c * j->chunk, e = b + j->chunk;
    j->fn(j->ctx, b, e < j->n ? e : j->n);
    if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == j->nchunks) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_broadcast(&p->cv_done);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

static void *worker(void *arg) {
  qrt_pool *p = arg;
  uint64_t seen = 0;
  for (;;) {
    for (int i = 0; i < QRT_SPIN && atomic_load_explicit(&p->gen, memory_order_acquire) == seen; i++)
      cpu_relax();
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->gen, memory_order_relaxed) == seen && !p->stop)
      pthread_cond_wait(&p->cv_work, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    job j = {p->fn, p->ctx, p->n, p->chunk, p->nchunks, atomic_load_explicit(&p->gen, memory_order_relaxed)};
    seen = j.gen;
    pthread_mutex_unlock(&p->mu);
    run_chunks(p, &j);
  }
}

qrt_pool *qrt_pool_create(int nthreads) {
  if (nthreads < 1)
    return NULL;
  qrt_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->nthreads = nthreads;
  atomic_init(&p->gen, 0);
  atomic_init(&p->ticket, 0);
  atomic_init(&p->done, 0);
  atomic_flag_clear(&p->busy);
  if (pthread_mutex_init(&p->mu, NULL) != 0) {
    free(p);
    return NULL;
  }
  pthread_cond_init(&p->cv_work, NULL);
  pthread_cond_init(&p->cv_done, NULL);
  if (nthreads > 1) {
    p->workers = calloc((size_t)(nthreads - 1), sizeof *p->workers);
    int started = 0;
    while (p->workers && started < nthreads - 1 && pthread_create(&p->workers[started], NULL, worker, p) == 0)
      started++;
    if (started < nthreads - 1) {
      p->nthreads = started + 1; /* destroy joins the ones that did start */
      qrt_pool_destroy(p);
      return NULL;
    }
  }
  return p;
}

void qrt_pool_destroy(qrt_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cv_work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; p->workers && i < p->nthreads - 1; i++)
    pthread_join(p->workers[i], NULL);
  free(p->workers);
  pthread_cond_destroy(&p->cv_work);
  pthread_cond_destroy(&p->cv_done);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

int qrt_pool_threads(const qrt_pool *p) { return p ? p->nthreads : 1; }

void qrt_parallel_for(qrt_pool *p, int64_t n, int64_t grain, qrt_task_fn fn, void *ctx) {
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  int64_t units = (n + grain - 1) / grain;
  if (!p || p->nthreads == 1 || units < 2 || atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire)) {
    fn(ctx, 0, n);
    return;
  }
  int64_t nchunks = units < p->nthreads ? units : p->nthreads;
  int64_t chunk = (units + nchunks - 1) / nchunks * grain;
  nchunks = (n + chunk - 1) / chunk;
  pthread_mutex_lock(&p->mu);
  uint64_t g = atomic_load_explicit(&p->gen, memory_order_relaxed) + 1;
  p->fn = fn, p->ctx = ctx, p->n = n, p->chunk = chunk, p->nchunks = nchunks;
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_store_explicit(&p->ticket, (g & 0xffffffffu) << 32, memory_order_release);
  atomic_store_explicit(&p->gen, g, memory_order_release);
  pthread_cond_broadcast(&p->cv_work);
  pthread_mutex_unlock(&p->mu);
  job j = {fn, ctx, n, chunk, nchunks, g};
  run_chunks(p, &j);
  for (int i = 0; i < QRT_SPIN && atomic_load_explicit(&p->done, memory_order_acquire) < nchunks; i++)
    cpu_relax();
  if (atomic_load_explicit(&p->done, memory_order_acquire) < nchunks) {
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < nchunks)
      pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
  atomic_flag_clear_explicit(&p->busy, memory_order_release);
}
