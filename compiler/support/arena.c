#include "support/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (64u * 1024u)
#define ARENA_ALIGN _Alignof(max_align_t)

struct ArenaChunk {
  ArenaChunk *next;
  size_t cap, used;
  max_align_t data[];
};

static void oom(size_t n) {
  fprintf(stderr, "quench: fatal: out of memory allocating %zu bytes\n", n);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) oom(n * size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

void arena_init(Arena *a) {
  a->head = NULL;
  a->bytes_used = 0;
}

void arena_release(Arena *a) {
  ArenaChunk *c = a->head;
  while (c) {
    ArenaChunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->bytes_used = 0;
}

void *arena_alloc(Arena *a, size_t size) {
  size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (need < size) oom(size);
  ArenaChunk *c = a->head;
  if (!c || c->cap - c->used < need) {
    size_t cap = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
    if (cap > SIZE_MAX - sizeof(ArenaChunk)) oom(size);
    c = malloc(sizeof(ArenaChunk) + cap);
    if (!c) oom(size);
    c->cap = cap;
    c->used = 0;
    /* A large block gets its own chunk behind the head so the head's free
     * space stays usable for the small allocations that follow. */
    if (a->head && need > ARENA_CHUNK_MIN / 4) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  void *p = (char *)c->data + c->used;
  c->used += need;
  a->bytes_used += size;
  memset(p, 0, size);
  return p;
}

void *arena_calloc(Arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) oom(SIZE_MAX);
  return arena_alloc(a, n * size);
}

void *arena_grow(Arena *a, const void *p, size_t size, size_t newsize) {
  void *q = arena_alloc(a, newsize);
  if (p && size) memcpy(q, p, size < newsize ? size : newsize);
  return q;
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  if (n) memcpy(p, s, n); /* s may be NULL when n is 0 (empty protobuf bytes) */
  p[n] = '\0';
  return p;
}

char *arena_strdup(Arena *a, const char *s) { return s ? arena_strndup(a, s, strlen(s)) : NULL; }

void *arena_memdup(Arena *a, const void *p, size_t n) {
  void *q = arena_alloc(a, n);
  if (n) memcpy(q, p, n);
  return q;
}
