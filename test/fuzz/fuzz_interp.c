/* libFuzzer target for the interpreter on hostile models: whatever imports
 * and verifies is run once on small deterministic inputs. Kernels must
 * report bad attributes, shapes and indices as errors, never crash, read out
 * of bounds or leak. Tensors are capped at 64 MiB so a model cannot exhaust
 * memory. Odd-sized inputs run in the ort numerics mode (its reduction
 * orders index the tensors their own way). CI runs it for 60 seconds,
 * seeded with the ONNX node tests. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "interp/interp.h"
#include "ir/verifier.h"
#include "onnx/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tensor_set_max_bytes((size_t)64 << 20);
  Diag d;
  diag_init(&d, NULL);
  IrModule *m = onnx_import_buffer(&d, "fuzz.onnx", data, size, NULL);
  if (!m || !ir_verify(m, &d)) {
    ir_module_destroy(m);
    return 0;
  }
  InterpOptions io = {.numerics = size % 2 ? INTERP_NUMERICS_ORT : INTERP_NUMERICS_EXACT};
  Interp *it = interp_create(m, NULL, &io, &d);
  if (it) {
    const IrFunc *f = interp_func(it);
    uint32_t nin = f->body->nargs, nout = f->nresults;
    Tensor **in = calloc(nin + 1, sizeof *in), **out = calloc(nout + 1, sizeof *out);
    bool ok = true;
    for (uint32_t i = 0; i < nin && ok; i++) {
      const IrType *t = f->body->args[i]->type;
      int64_t dims[TENSOR_MAX_RANK];
      ok = t->rank >= 0 && t->rank <= TENSOR_MAX_RANK;
      for (int32_t k = 0; ok && k < t->rank; k++) dims[k] = t->dims[k].size < 0 ? 2 : t->dims[k].size;
      if (ok) in[i] = tensor_new(t->elem, t->rank, dims);
      ok = ok && in[i];
      /* Small values of every sign, so indices are sometimes in range. */
      for (int64_t k = 0; ok && k < in[i]->numel; k++) tensor_set_f64(in[i], k, (double)((k * 7) % 5) - 2.0);
    }
    if (ok && interp_run(it, in, nin, out))
      for (uint32_t i = 0; i < nout; i++) tensor_free(out[i]);
    for (uint32_t i = 0; i < nin; i++) tensor_free(in[i]);
    free(in);
    free(out);
    interp_destroy(it);
  }
  ir_module_destroy(m);
  return 0;
}
