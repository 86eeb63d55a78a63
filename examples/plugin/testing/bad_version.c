/* Test plugin: claims a pass API version other than the host's, as a plugin
 * built against an older include/quench/pass.h would. Test:
 * test/lit/plugin/bad-version.qir. */
#include <quench/pass.h>

static bool run(QPassContext *ctx, QModule *m) {
  (void)ctx;
  (void)m;
  return true;
}

static const QPass old_pass = {"old-pass", "Built for another API version", NULL, NULL, run};

int quench_plugin_init(QuenchPluginRegistrar *r) {
  return quench_register_pass_v(r, &old_pass, QUENCH_PLUGIN_API_VERSION + 41) ? 0 : 1;
}
