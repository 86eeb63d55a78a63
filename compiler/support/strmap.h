/* Open-addressing string -> pointer map (symbol tables of the parser, the pass
 * registry). Keys are not copied: they must outlive the map. */
#ifndef QUENCH_SUPPORT_STRMAP_H
#define QUENCH_SUPPORT_STRMAP_H

#include <stddef.h>

typedef struct StrMap {
  const char **keys;
  void **vals;
  size_t cap, len;
} StrMap;

void strmap_init(StrMap *m);
void strmap_free(StrMap *m);
void *strmap_get(const StrMap *m, const char *key);
/* Returns the previous value for key (NULL if none). */
void *strmap_put(StrMap *m, const char *key, void *val);

#endif
