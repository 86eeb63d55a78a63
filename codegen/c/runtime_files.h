/* The runtime sources (runtime/qrt*.c, qrt*.h) embedded in the compiler at
 * build time (codegen/c/embed_runtime.cmake), so `quench compile` writes a
 * self-contained folder wherever quench is installed. */
#ifndef QUENCH_CODEGEN_C_RUNTIME_FILES_H
#define QUENCH_CODEGEN_C_RUNTIME_FILES_H

#include <stddef.h>

typedef struct CgRuntimeFile {
  const char *name; /* file name, no folder */
  const unsigned char *data;
  size_t size;
} CgRuntimeFile;

/* Ends with an entry whose name is NULL. */
extern const CgRuntimeFile cg_runtime_files[];

#endif
