/* Test plugin: declares an int option whose default is not an int; the
 * registry must report it at load time. Test: test/lit/plugin/bad-default.qir. */
#include <quench/pass.h>

static bool run(QPassContext *ctx, QModule *m) {
  (void)ctx;
  (void)m;
  return true;
}

static const QPassOption options[] = {
    {"level", Q_OPT_INT, "high", "a level", 0, 3},
    {0},
};

static const QPass bad = {"bad-default", "Declares a malformed default", options, NULL, run};

int quench_plugin_init(QuenchPluginRegistrar *r) { return quench_register_pass(r, &bad) ? 0 : 1; }
