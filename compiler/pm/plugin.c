/* Pass plugins: shared objects loaded with dlopen that export
 * quench_plugin_init (include/quench/pass.h) and register passes through a
 * registrar. They resolve the pass API from quench-opt itself, which is
 * linked with ENABLE_EXPORTS (-rdynamic). Every way a plugin can be wrong
 * (missing file, not a shared object, no init function, wrong API version,
 * duplicate or malformed pass) is a diagnostic, never a crash in the host. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pass_manager.h"

struct QuenchPluginRegistrar {
  PassRegistry *reg;
  const char *path;
  Diag *diag;
  DiagLoc where;
  bool failed;
};

bool quench_register_pass_v(QuenchPluginRegistrar *r, const QPass *pass, int api_version) {
  if (r->failed) return false; /* report the first problem only */
  if (api_version != QUENCH_PLUGIN_API_VERSION) {
    diag_error(r->diag, r->where,
               "pass plugin '%s' was built for pass API version %d, but quench-opt provides version %d; rebuild it "
               "against this include/quench/pass.h",
               r->path, api_version, QUENCH_PLUGIN_API_VERSION);
    r->failed = true;
    return false;
  }
  if (!pass) {
    diag_error(r->diag, r->where, "pass plugin '%s' registers a NULL pass", r->path);
    r->failed = true;
    return false;
  }
  if (!pass_registry_add(r->reg, pass, r->path, r->diag, r->where)) {
    r->failed = true;
    return false;
  }
  return true;
}

bool pass_plugin_load(PassRegistry *reg, const char *path, Diag *d, DiagLoc where) {
  /* dlopen searches the library path for names without '/'; a plugin named
   * on the command line means that file, as with LLVM's opt. */
  char *full = NULL;
  const char *open_path = path;
  if (!strchr(path, '/')) {
    full = xmalloc(strlen(path) + 3);
    memcpy(full, "./", 2);
    strcpy(full + 2, path);
    open_path = full;
  }
  dlerror();
  void *h = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
  free(full);
  if (!h) {
    const char *why = dlerror();
    diag_error(d, where, "cannot load pass plugin '%s': %s", path, why ? why : "unknown dlopen error");
    return false;
  }
  for (int i = 0; i < reg->nhandles; i++) {
    if (reg->handles[i] == h) { /* dlopen hands back the loaded copy */
      dlclose(h);
      diag_error(d, where, "pass plugin '%s' is loaded twice", path);
      return false;
    }
  }
  reg->handles = xrealloc(reg->handles, (size_t)(reg->nhandles + 1) * sizeof *reg->handles);
  reg->handles[reg->nhandles++] = h;

  void *sym = dlsym(h, QUENCH_PLUGIN_INIT_SYMBOL);
  if (!sym) {
    diag_error(d, where, "cannot load pass plugin '%s': it does not export '%s' (see include/quench/pass.h)", path,
               QUENCH_PLUGIN_INIT_SYMBOL);
    return false;
  }
  /* ISO C has no object-to-function pointer conversion; POSIX guarantees
   * the representation, so copy the bits. */
  QuenchPluginInitFn init;
  memcpy(&init, &sym, sizeof init);
  QuenchPluginRegistrar r = {reg, path, d, where, false};
  int rc = init(&r);
  if (r.failed) return false;
  if (rc != 0) {
    diag_error(d, where, "pass plugin '%s' failed to initialize (quench_plugin_init returned %d)", path, rc);
    return false;
  }
  return true;
}

void pass_plugin_close_all(PassRegistry *r) {
  for (int i = r->nhandles - 1; i >= 0; i--) dlclose(r->handles[i]);
  free(r->handles);
  r->handles = NULL;
  r->nhandles = 0;
}
