/* The .qir text format (docs/ir.md): printer.c writes it, parser.c reads it. */
#ifndef QUENCH_IR_TEXT_H
#define QUENCH_IR_TEXT_H

#include <stdio.h>

#include "ir/ir.h"
#include "ir/weights.h"

typedef struct IrPrintOptions {
  /* Constants with more data bytes than this go to `weights`; ignored when
   * `weights` is NULL (then every constant prints inline). */
  size_t inline_limit;
  WeightsWriter *weights;
} IrPrintOptions;

/* Prints `m`. Returns false only if writing a weights blob failed (then a
 * diagnostic was reported to `d`). opts may be NULL: everything inline. */
bool ir_print_module(FILE *out, const IrModule *m, const IrPrintOptions *opts, Diag *d);
/* Writes n modules (separated by `// -----`) to the .qir file `path`;
 * constants of more than inline_limit bytes go to PATH.weights, referenced
 * by its base name. Through temporaries renamed into place: on failure
 * (reported) neither file is left. */
bool ir_write_qir_file(IrModule *const *mods, int n, const char *path, size_t inline_limit, Diag *d);
/* The whole module as a malloc'ed string, every constant inline. */
char *ir_print_to_string(const IrModule *m);
/* Text helpers shared with other printers (pipelines, diagnostics). */
void ir_print_type(FILE *out, const IrType *t);
void ir_print_attr_value(FILE *out, const IrAttr *a);

typedef struct IrParseOptions {
  /* Folder that external<"..."> paths are relative to; NULL: the folder of
   * `path`. */
  const char *base_dir;
  /* Added to line numbers (the chunk's first line - 1 with split-input-file). */
  int line_offset;
} IrParseOptions;

/* Parses `text` (len bytes, need not be NUL-terminated) from file `path`.
 * On error, reports one located diagnostic to `d` and returns NULL. `path`
 * must outlive the diagnostics. The result is not verified. */
IrModule *ir_parse(Diag *d, const char *path, const char *text, size_t len, const IrParseOptions *opts);
/* Reads and parses a whole file (registers its text with `d` for quoting; the
 * text buffer is returned through *text_out for the caller to free, so
 * later diagnostics can still quote it). */
IrModule *ir_parse_file(Diag *d, const char *path, char **text_out);

#endif
