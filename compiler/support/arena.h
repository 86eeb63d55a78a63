/* Arena allocation: every IR object of a module lives in one arena and is
 * released at once with it, so passes never free() IR (QBE's habit). */
#ifndef QUENCH_SUPPORT_ARENA_H
#define QUENCH_SUPPORT_ARENA_H

#include <stddef.h>

typedef struct ArenaChunk ArenaChunk;

typedef struct Arena {
  ArenaChunk *head;
  size_t bytes_used; /* payload bytes handed out, for statistics */
} Arena;

void arena_init(Arena *a);
void arena_release(Arena *a);
/* Zero-filled, aligned to max_align_t. Aborts on out-of-memory: the compiler
 * cannot continue and there is no partial state worth saving. */
void *arena_alloc(Arena *a, size_t size);
void *arena_calloc(Arena *a, size_t n, size_t size);
/* Copies `size` bytes of `p` into a new block of `newsize` bytes. */
void *arena_grow(Arena *a, const void *p, size_t size, size_t newsize);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
void *arena_memdup(Arena *a, const void *p, size_t n);

/* Heap helpers with the same out-of-memory policy, for non-IR buffers. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
