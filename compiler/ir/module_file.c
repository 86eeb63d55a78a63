/* Writing modules to a .qir file and its weights file, for every tool
 * (quench-opt -o, quench quantize -o). Both files go through OutFiles
 * (support/fileio.h), the weights committed first, so a failure leaves
 * neither behind and /dev/null stays a device. */
#include <stdlib.h>
#include <string.h>

#include "ir/text.h"
#include "ir/weights.h"
#include "support/arena.h"
#include "support/fileio.h"

static bool needs_weights(IrModule *const *mods, int n, size_t limit) {
  for (int i = 0; i < n; i++)
    for (uint32_t k = 0; k < mods[i]->nconsts; k++)
      if (mods[i]->consts[k]->nbytes > limit) return true;
  return false;
}

bool ir_write_qir_file(IrModule *const *mods, int n, const char *path, size_t inline_limit, Diag *d) {
  OutFile out;
  if (!outfile_open(&out, path, "IR file", d)) return false;
  WeightsWriter *ww = NULL;
  bool ok = true;
  if (needs_weights(mods, n, inline_limit)) {
    size_t len = strlen(path) + 16;
    char *wpath = xmalloc(len), *ref = xmalloc(len);
    const char *base = strrchr(path, '/');
    snprintf(wpath, len, "%s.weights", path);
    snprintf(ref, len, "%s.weights", base ? base + 1 : path);
    ww = weights_writer_open(wpath, ref, d);
    free(wpath);
    free(ref);
    ok = ww != NULL;
  }
  IrPrintOptions po = {inline_limit, ww};
  for (int i = 0; ok && i < n; i++) {
    if (i) fputs("// -----\n", out.f);
    ok = ir_print_module(out.f, mods[i], &po, d);
  }
  if (ok && ww) ok = weights_writer_commit(ww);
  if (ok) {
    ok = outfile_commit(&out, d);
  } else {
    outfile_abort(&out);
    if (ww) weights_writer_abort(ww);
  }
  weights_writer_free(ww);
  return ok;
}
