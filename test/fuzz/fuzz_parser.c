/* libFuzzer target for the .qir parser: any bytes must give either a module
 * that prints and verifies without incident, or one diagnostic and NULL, and
 * never a crash, UB or a leak. CI runs it for 60 seconds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ir/text.h"
#include "ir/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Diag d;
  diag_init(&d, NULL);
  /* base_dir is a folder with no weights files: external<> refs must fail
   * cleanly rather than read whatever lies around. */
  IrParseOptions po = {"/nonexistent-quench-fuzz-dir", 0};
  IrModule *m = ir_parse(&d, "fuzz.qir", (const char *)data, size, &po);
  if (m) {
    ir_verify(m, &d);
    free(ir_print_to_string(m));
    ir_module_destroy(m);
  }
  return 0;
}
