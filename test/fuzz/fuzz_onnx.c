/* libFuzzer target for the ONNX importer: any bytes must give either a module
 * that verifies and prints without incident, or diagnostics and NULL, and
 * never a crash, UB or a leak. CI seeds it with the ONNX node-test models. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ir/text.h"
#include "ir/verifier.h"
#include "onnx/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Diag d;
  diag_init(&d, NULL);
  /* A path with no folder: external data is refused, never read from disk. */
  IrModule *m = onnx_import_buffer(&d, "fuzz.onnx", data, size, NULL);
  if (m) {
    ir_verify(m, &d);
    free(ir_print_to_string(m));
    ir_module_destroy(m);
  }
  return 0;
}
