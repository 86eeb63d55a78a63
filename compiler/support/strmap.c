#include "support/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "support/arena.h"

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void strmap_init(StrMap *m) { memset(m, 0, sizeof *m); }

void strmap_free(StrMap *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

void *strmap_get(const StrMap *m, const char *key) {
  if (!m->cap) return NULL;
  for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i]) return NULL;
    if (strcmp(m->keys[i], key) == 0) return m->vals[i];
  }
}

static void grow(StrMap *m) {
  size_t ncap = m->cap ? m->cap * 2 : 64;
  const char **keys = xcalloc(ncap, sizeof *keys);
  void **vals = xcalloc(ncap, sizeof *vals);
  for (size_t j = 0; j < m->cap; j++) {
    if (!m->keys[j]) continue;
    size_t i = hash_str(m->keys[j]) & (ncap - 1);
    while (keys[i]) i = (i + 1) & (ncap - 1);
    keys[i] = m->keys[j];
    vals[i] = m->vals[j];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = ncap;
}

void *strmap_put(StrMap *m, const char *key, void *val) {
  if ((m->len + 1) * 4 > m->cap * 3) grow(m);
  size_t i = hash_str(key) & (m->cap - 1);
  for (; m->keys[i]; i = (i + 1) & (m->cap - 1)) {
    if (strcmp(m->keys[i], key) == 0) {
      void *old = m->vals[i];
      m->vals[i] = val;
      return old;
    }
  }
  m->keys[i] = key;
  m->vals[i] = val;
  m->len++;
  return NULL;
}
