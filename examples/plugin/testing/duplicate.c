/* Test plugin: registers a pass named `dce`, which is built in, so
 * quench-opt must refuse it naming both origins. Test:
 * test/lit/plugin/duplicate.qir. */
#include <quench/pass.h>

static bool run(QPassContext *ctx, QModule *m) {
  (void)ctx;
  (void)m;
  return true;
}

static const QPass dce_again = {"dce", "A second dce", NULL, NULL, run};

int quench_plugin_init(QuenchPluginRegistrar *r) { return quench_register_pass(r, &dce_again) ? 0 : 1; }
