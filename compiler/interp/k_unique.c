/* Kernel: Unique (ONNX opset 11), numpy.unique semantics: the items are the
 * elements (no axis: the flattened input) or the slices along `axis`,
 * compared by value element by element (so -0.0 equals 0.0); sorted=1
 * orders them ascending (slices lexicographically), sorted=0 by first
 * occurrence. Results: Y, the index of each unique item's first
 * occurrence, the inverse indices and the counts. */
#include <stdlib.h>
#include <string.h>

#include "interp/k_shape.h"
#include "interp/sort_util.h"

typedef struct Items {
  const Tensor *x;
  int64_t n, outer, inner, len; /* item i holds elements (o * n + i) * inner + j */
} Items;

static int cmp_elem(const Tensor *x, int64_t p, int64_t q) {
  if (ir_elem_is_float(x->elem)) {
    double a = tensor_get_f64(x, p), b = tensor_get_f64(x, q);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (x->elem == IR_ELEM_U64) {
    uint64_t a = tensor_get_bits(x, p), b = tensor_get_bits(x, q);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  int64_t a = tensor_get_i64(x, p), b = tensor_get_i64(x, q);
  return a < b ? -1 : a > b ? 1 : 0;
}

/* Lexicographic comparison of items a and b. */
static int cmp_items(const Items *it, int64_t a, int64_t b) {
  for (int64_t o = 0; o < it->outer; o++)
    for (int64_t j = 0; j < it->inner; j++) {
      int c = cmp_elem(it->x, (o * it->n + a) * it->inner + j, (o * it->n + b) * it->inner + j);
      if (c) return c;
    }
  return 0;
}

/* index_sort_stable's order: item a strictly before item b. */
static bool item_before(const void *ctx, int64_t a, int64_t b) { return cmp_items(ctx, a, b) < 0; }

static bool k_unique(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  const IrAttr *aa = ir_op_attr(k->op, "axis");
  bool sorted = ir_op_attr_int(k->op, "sorted", 1) != 0;
  Items it = {.x = x, .n = x->numel, .outer = 1, .inner = 1};
  int32_t a = 0;
  if (aa) {
    if (!ks_axis(k, aa->u.i, x->rank, "axis", &a)) return false;
    it.n = x->dims[a];
    for (int32_t i = 0; i < a; i++) it.outer *= x->dims[i];
    for (int32_t i = a + 1; i < x->rank; i++) it.inner *= x->dims[i];
  }
  int64_t n = it.n, sz = n ? n : 1;
  int64_t *idx = xmalloc((size_t)sz * sizeof *idx), *tmp = xmalloc((size_t)sz * sizeof *tmp);
  int64_t *first = xmalloc((size_t)sz * sizeof *first), *count = xcalloc((size_t)sz, sizeof *count);
  int64_t *group = xmalloc((size_t)sz * sizeof *group), *rank = xmalloc((size_t)sz * sizeof *rank);
  for (int64_t i = 0; i < n; i++) idx[i] = i;
  index_sort_stable(idx, tmp, n, item_before, &it);
  /* Groups of equal items in sorted order; the first of each is its
   * earliest occurrence (the sort is stable). */
  int64_t ng = 0;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || cmp_items(&it, idx[i - 1], idx[i]) != 0) first[ng++] = idx[i];
    group[idx[i]] = ng - 1;
    count[ng - 1]++;
  }
  /* rank[g]: the output position of group g. */
  for (int64_t g = 0; g < ng; g++) rank[g] = g;
  if (!sorted) { /* groups in order of first occurrence */
    int64_t next = 0;
    for (int64_t g = 0; g < ng; g++) rank[g] = -1;
    for (int64_t i = 0; i < n; i++)
      if (rank[group[i]] < 0) rank[group[i]] = next++;
  }
  int64_t d[TENSOR_MAX_RANK];
  int32_t r = aa ? x->rank : 1;
  if (aa) memcpy(d, x->dims, sizeof d);
  d[aa ? a : 0] = ng;
  bool ok = true;
  Tensor *y = ks_output(k, 0, x, r, d, false);
  Tensor *o[3] = {NULL, NULL, NULL};
  int64_t lens[3] = {ng, n, ng};
  for (uint32_t i = 1; ok && i < k->nout && i < 4; i++)
    ok = (o[i - 1] = kernel_output(k, i, IR_ELEM_I64, 1, &lens[i - 1])) != NULL;
  if (!y || !ok) ok = false;
  size_t chunk = (size_t)it.inner * (size_t)ir_elem_bytes(x->elem);
  for (int64_t g = 0; ok && g < ng; g++) {
    int64_t p = rank[g];
    for (int64_t q = 0; q < it.outer; q++)
      memcpy((char *)y->data + (size_t)(q * ng + p) * chunk, (const char *)x->data + (size_t)(q * n + first[g]) * chunk,
             chunk);
    if (o[0]) tensor_set_i64(o[0], p, first[g]);
    if (o[2]) tensor_set_i64(o[2], p, count[g]);
  }
  for (int64_t i = 0; ok && o[1] && i < n; i++) tensor_set_i64(o[1], i, rank[group[i]]);
  free(idx);
  free(tmp);
  free(first);
  free(count);
  free(group);
  free(rank);
  return ok;
}

void kernels_register_unique(KernelFn *table) { table[IR_OP_UNIQUE] = k_unique; }
