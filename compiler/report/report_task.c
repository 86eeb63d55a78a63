/* Task-level agreement for `quench report` (the scores ../shared/models
 * MANIFEST.md names): the same top-1 label per row, the same greedy CTC
 * text, the same next token at every position, the same set of detected
 * faces. Both sides are decoded the same way and compared; ties go to the
 * first maximum, as numpy's argmax does. Tests: test/unit/test_report.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static const char *const task_names[] = {"none", "top1", "ctc", "next-token", "detect"};

bool rep_task_from_name(const char *name, RepTask *t) {
  for (int i = 0; i < (int)(sizeof task_names / sizeof *task_names); i++)
    if (strcmp(name, task_names[i]) == 0) {
      *t = (RepTask)i;
      return true;
    }
  return false;
}

const char *rep_task_name(RepTask t) { return task_names[t]; }

int64_t rep_argmax(const float *x, int64_t n, int64_t stride) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++) {
    float v = x[i * stride], b = x[best * stride];
    /* A NaN maximum so far gives way to any number; NaN never takes over. */
    if (v > b || (isnan(b) && !isnan(v))) best = i;
  }
  return best;
}

int64_t rep_ctc_decode(const float *x, int64_t T, int64_t C, int64_t *out) {
  int64_t n = 0, prev = -1;
  for (int64_t t = 0; t < T; t++) {
    int64_t k = rep_argmax(x + t * C, C, 1);
    if (k != prev && k != 0) out[n++] = k;
    prev = k;
  }
  return n;
}

/* Rows of the last dim: numel / last. */
static int64_t last_dim(const Tensor *t) { return t->rank > 0 ? t->dims[t->rank - 1] : 1; }

static bool score_argmax(const Tensor *ref, const Tensor *q, RepAgree *a) {
  int64_t c = last_dim(ref);
  if (c <= 0) return true;
  int64_t rows = ref->numel / c;
  const float *y = ref->data, *yq = q->data;
  for (int64_t r = 0; r < rows; r++)
    a->matched += rep_argmax(y + r * c, c, 1) == rep_argmax(yq + r * c, c, 1);
  a->total += rows;
  return true;
}

static bool score_ctc(const Tensor *ref, const Tensor *q, RepAgree *a, char *why, size_t nwhy) {
  if (ref->rank != 2 && ref->rank != 3) {
    snprintf(why, nwhy, "ctc needs a [B,T,C] or [T,C] output, got rank %d", (int)ref->rank);
    return false;
  }
  int64_t b = ref->rank == 3 ? ref->dims[0] : 1, T = ref->dims[ref->rank - 2], c = ref->dims[ref->rank - 1];
  int64_t *s1 = malloc((size_t)(T > 0 ? T : 1) * sizeof *s1), *s2 = malloc((size_t)(T > 0 ? T : 1) * sizeof *s2);
  for (int64_t i = 0; i < b; i++) {
    const float *y = (const float *)ref->data + i * T * c, *yq = (const float *)q->data + i * T * c;
    int64_t n1 = rep_ctc_decode(y, T, c, s1), n2 = rep_ctc_decode(yq, T, c, s2);
    a->matched += n1 == n2 && (n1 == 0 || memcmp(s1, s2, (size_t)n1 * sizeof *s1) == 0);
  }
  a->total += b;
  free(s1);
  free(s2);
  return true;
}

static bool score_detect(const Tensor *ref, const Tensor *q, RepAgree *a, char *why, size_t nwhy) {
  if (ref->rank != 2 || ref->dims[1] != 2) {
    snprintf(why, nwhy, "detect needs an [N,2] score output (background, face), got rank %d", (int)ref->rank);
    return false;
  }
  const float *y = ref->data, *yq = q->data;
  for (int64_t i = 0; i < ref->dims[0]; i++) {
    bool f1 = y[2 * i + 1] > 0.5f, f2 = yq[2 * i + 1] > 0.5f;
    a->matched += f1 && f2;
    a->total += f1 || f2;
  }
  return true;
}

bool rep_task_score(RepTask t, const Tensor *ref, const Tensor *q, RepAgree *a, char *why, size_t nwhy) {
  if (t == REP_TASK_NONE) return true;
  if (ref->elem != IR_ELEM_F32 || q->elem != IR_ELEM_F32 || !tensor_same_shape(ref, q)) {
    char b1[64], b2[64];
    snprintf(why, nwhy, "task %s needs two f32 outputs of one shape, got %s and %s", rep_task_name(t),
             tensor_describe(ref, b1, sizeof b1), tensor_describe(q, b2, sizeof b2));
    return false;
  }
  switch (t) {
  case REP_TASK_TOP1:
  case REP_TASK_NEXT_TOKEN:
    return score_argmax(ref, q, a);
  case REP_TASK_CTC:
    return score_ctc(ref, q, a, why, nwhy);
  case REP_TASK_DETECT:
    return score_detect(ref, q, a, why, nwhy);
  case REP_TASK_NONE:
    break;
  }
  return true;
}
