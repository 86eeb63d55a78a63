/* Per-op time profile of a compiled model, compiled in only with
 * -DQRT_PROFILE (make OPT="-O3 -DQRT_PROFILE"): the generated NAME_run wraps
 * each op in QRT_PROF_BEGIN / QRT_PROF_END, and `NAME_main --profile` prints
 * the table. Without QRT_PROFILE the macros are empty: no cost. */
#ifndef QRT_PROF_H
#define QRT_PROF_H
#include <stdio.h>

#define QRT_PROF_SLOTS 4096

/* Adds secs to slot (one slot per op of the generated code). */
void qrt_prof_add(int slot, const char *label, double secs);
/* Prints the slots by time, as ms per run over `runs` runs, then clears them.
 * Returns 0, or -1 when nothing was recorded (built without QRT_PROFILE). */
int qrt_prof_report(FILE *f, int runs);
double qrt_prof_now(void);

#ifdef QRT_PROFILE
#define QRT_PROF_BEGIN() double qrt_prof_t0_ = qrt_prof_now()
#define QRT_PROF_END(slot, label) qrt_prof_add(slot, label, qrt_prof_now() - qrt_prof_t0_)
#else
#define QRT_PROF_BEGIN() ((void)0)
#define QRT_PROF_END(slot, label) ((void)0)
#endif

#endif
