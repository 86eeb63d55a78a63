/* The per-op profile (qrt_prof.h): fixed tables, no allocation. */
#include "qrt_prof.h"

#include <stdlib.h>
#include <time.h>

static double prof_secs[QRT_PROF_SLOTS];
static long prof_calls[QRT_PROF_SLOTS];
static const char *prof_label[QRT_PROF_SLOTS];

double qrt_prof_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void qrt_prof_add(int slot, const char *label, double secs) {
  if (slot < 0 || slot >= QRT_PROF_SLOTS) return;
  prof_secs[slot] += secs;
  prof_calls[slot]++;
  prof_label[slot] = label;
}

static int by_time(const void *a, const void *b) {
  double x = prof_secs[*(const int *)a], y = prof_secs[*(const int *)b];
  return x < y ? 1 : x > y ? -1 : 0;
}

int qrt_prof_report(FILE *f, int runs) {
  static int order[QRT_PROF_SLOTS];
  int n = 0;
  double total = 0;
  for (int i = 0; i < QRT_PROF_SLOTS; i++)
    if (prof_calls[i]) order[n++] = i, total += prof_secs[i];
  if (!n) return -1;
  qsort(order, (size_t)n, sizeof *order, by_time);
  if (runs < 1) runs = 1;
  fprintf(f, "%5s %10s %6s  %s\n", "op", "ms/run", "%", "what");
  for (int k = 0; k < n; k++) {
    int i = order[k];
    fprintf(f, "%5d %10.4f %6.2f  %s\n", i, prof_secs[i] * 1e3 / runs, total > 0 ? 100 * prof_secs[i] / total : 0,
            prof_label[i] ? prof_label[i] : "?");
    prof_secs[i] = 0;
    prof_calls[i] = 0;
  }
  fprintf(f, "%5s %10.4f %6.2f  total\n", "", total * 1e3 / runs, 100.0);
  return 0;
}
