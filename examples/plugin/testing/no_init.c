/* Test plugin: a shared object without quench_plugin_init (a typo'd name),
 * which quench-opt must reject with a clear error. Test:
 * test/lit/plugin/no-init.qir. */
#include <quench/pass.h>

int quench_plugin_initialize(QuenchPluginRegistrar *r);
int quench_plugin_initialize(QuenchPluginRegistrar *r) {
  (void)r;
  return 0;
}
