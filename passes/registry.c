/* The built-in passes, in one table: adding a pass is a new passes/<name>.c
 * defining `const Pass pass_<name>` plus one line here. The pass manager
 * registers them in this order (--help lists them so). */
#include "pm/pass_manager.h"

#define BUILTIN_PASSES(X) \
  X(dce)                  \
  X(remove_identity)      \
  X(constant_fold)        \
  X(fold_batchnorm)       \
  X(fold_conv_add)        \
  X(raise_layernorm)      \
  X(raise_rmsnorm)        \
  X(raise_gelu)           \
  X(raise_silu)           \
  X(raise_hardswish)      \
  X(canonicalize)          \
  X(calibrate)             \
  X(smoothquant)           \
  X(split)                 \
  X(rotate)                \
  X(noisyquant)            \
  X(osplus)                \
  X(reparam)               \
  X(quantize)              \
  X(lower_int)             \
  X(bind_shapes)

#define DECLARE(id) extern const Pass pass_##id;
BUILTIN_PASSES(DECLARE)
#undef DECLARE

static const Pass *const builtins[] = {
#define ENTRY(id) &pass_##id,
    BUILTIN_PASSES(ENTRY)
#undef ENTRY
};

const Pass *const *pass_builtins(int *n) {
  *n = (int)(sizeof builtins / sizeof builtins[0]);
  return builtins;
}
