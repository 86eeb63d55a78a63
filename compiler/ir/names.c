/* Printed value names (ir/names.h): the naming rule of the .qir printer,
 * shared with ONNX export and calibrate so tensor names and statistics keys
 * equal printed names. Duplicates count up from the suffix last used for
 * their name, so many values with one name stay linear. Test:
 * test/unit/test_ir_names.c (and test/unit/test_printer.c). */
#include "ir/names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/strmap.h"

struct IrNames {
  Arena scratch; /* generated names */
  /* Open-addressing map from values to their printed names. */
  const IrValue **keys;
  const char **vals;
  size_t cap, len;
  StrMap given;    /* names the function gives its values */
  StrMap assigned; /* printed names handed out so far */
  StrMap dup_next; /* name -> next suffix to try */
  uint64_t next_number;
};

static size_t value_hash(const IrValue *v) {
  uint64_t h = (uint64_t)(uintptr_t)v * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 17);
}

static void map_put(IrNames *n, const IrValue *v, const char *name) {
  if ((n->len + 1) * 2 > n->cap) {
    const IrValue **keys = n->keys;
    const char **vals = n->vals;
    size_t cap = n->cap;
    n->cap = cap ? cap * 2 : 64;
    n->len = 0;
    n->keys = xcalloc(n->cap, sizeof *n->keys);
    n->vals = xcalloc(n->cap, sizeof *n->vals);
    for (size_t i = 0; i < cap; i++)
      if (keys[i]) map_put(n, keys[i], vals[i]);
    free(keys);
    free(vals);
  }
  size_t i = value_hash(v) & (n->cap - 1);
  while (n->keys[i] && n->keys[i] != v) i = (i + 1) & (n->cap - 1);
  if (!n->keys[i]) n->len++;
  n->keys[i] = v;
  n->vals[i] = name;
}

const char *ir_names_get(const IrNames *n, const IrValue *v) {
  if (!n->cap) return NULL;
  for (size_t i = value_hash(v) & (n->cap - 1); n->keys[i]; i = (i + 1) & (n->cap - 1))
    if (n->keys[i] == v) return n->vals[i];
  return NULL;
}

static const char *given_name(const IrValue *v) { return v->name && v->name[0] ? v->name : NULL; }

/* Gives v the next printed name (see ir_names_compute). */
static const char *assign_name(IrNames *n, const IrValue *v) {
  const char *name = given_name(v);
  const char *pick;
  if (name && !strmap_get(&n->assigned, name)) {
    pick = name;
  } else if (name) {
    size_t len = strlen(name) + 24;
    char *cand = arena_alloc(&n->scratch, len);
    uintptr_t k = (uintptr_t)strmap_get(&n->dup_next, name);
    for (k = k ? k : 1;; k++) {
      snprintf(cand, len, "%s_%" PRIuPTR, name, k);
      if (!strmap_get(&n->given, cand) && !strmap_get(&n->assigned, cand)) break;
    }
    strmap_put(&n->dup_next, name, (void *)(k + 1));
    pick = cand;
  } else {
    char buf[32];
    for (;; n->next_number++) {
      snprintf(buf, sizeof buf, "%" PRIu64, n->next_number);
      if (!strmap_get(&n->given, buf) && !strmap_get(&n->assigned, buf)) break;
    }
    n->next_number++;
    pick = arena_strdup(&n->scratch, buf);
  }
  strmap_put(&n->assigned, pick, (void *)pick);
  map_put(n, v, pick);
  return pick;
}

const char *ir_names_get_or_add(IrNames *n, const IrValue *v) {
  const char *name = ir_names_get(n, v);
  return name ? name : assign_name(n, v);
}

bool ir_names_claim(IrNames *n, const char *name) {
  if (strmap_get(&n->assigned, name)) return false;
  const char *copy = arena_strdup(&n->scratch, name);
  strmap_put(&n->assigned, copy, (void *)copy);
  return true;
}

static void collect_given(IrNames *n, const IrRegion *r) {
  for (uint32_t i = 0; i < r->nargs; i++)
    if (given_name(r->args[i])) strmap_put(&n->given, r->args[i]->name, (void *)1);
  for (const IrOp *op = r->first; op; op = op->next) {
    for (uint32_t i = 0; i < op->nresults; i++)
      if (given_name(op->results[i])) strmap_put(&n->given, op->results[i]->name, (void *)1);
    for (uint32_t i = 0; i < op->nregions; i++) collect_given(n, op->regions[i]);
  }
}

static void assign_names(IrNames *n, const IrRegion *r) {
  for (uint32_t i = 0; i < r->nargs; i++) assign_name(n, r->args[i]);
  for (const IrOp *op = r->first; op; op = op->next) {
    for (uint32_t i = 0; i < op->nresults; i++) assign_name(n, op->results[i]);
    for (uint32_t i = 0; i < op->nregions; i++) assign_names(n, op->regions[i]);
  }
}

IrNames *ir_names_compute(const IrFunc *f) {
  IrNames *n = xcalloc(1, sizeof *n);
  arena_init(&n->scratch);
  strmap_init(&n->given);
  strmap_init(&n->assigned);
  strmap_init(&n->dup_next);
  collect_given(n, f->body);
  assign_names(n, f->body);
  return n;
}

void ir_names_free(IrNames *n) {
  if (!n) return;
  free(n->keys);
  free(n->vals);
  strmap_free(&n->given);
  strmap_free(&n->assigned);
  strmap_free(&n->dup_next);
  arena_release(&n->scratch);
  free(n);
}
