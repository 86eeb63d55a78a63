/* Test plugin: passes that misbehave on purpose, to exercise the pass
 * manager's instrumentation (test/lit/pm/):
 *   test-break-ir  makes the first op with an operand use its own result,
 *                  which the verifier after the pass must catch;
 *   test-fail      reports an error at the first op and fails (option
 *                  `silent`: fail without a report);
 *   test-options   one option of each kind, to test pipeline parsing; does
 *                  nothing. */
#include <quench/pass.h>

static bool first_with_operand(QOp *op, void *user) {
  if (quench_op_num_operands(op) == 0 || quench_op_num_results(op) == 0) return true;
  *(QOp **)user = op;
  return false;
}

static bool break_ir(QPassContext *ctx, QModule *m) {
  (void)ctx;
  QOp *op = NULL;
  quench_module_walk(m, first_with_operand, &op);
  if (op) quench_op_set_operand(op, 0, quench_op_result(op, 0));
  return true;
}

static bool first_op(QOp *op, void *user) {
  *(QOp **)user = op;
  return false;
}

static bool fail(QPassContext *ctx, QModule *m) {
  if (quench_pass_option_bool(ctx, "silent")) return false;
  QOp *op = NULL;
  quench_module_walk(m, first_op, &op);
  quench_pass_error(ctx, op, "cannot handle '%s'", op ? quench_op_name(op) : "an empty module");
  return true; /* the reported error alone fails the pass */
}

static bool nothing(QPassContext *ctx, QModule *m) {
  (void)ctx;
  (void)m;
  return true;
}

static const QPassOption fail_options[] = {
    {"silent", Q_OPT_BOOL, "false", "fail without reporting an error", 0, 0},
    {0},
};

static const QPassOption test_options[] = {
    {"flag", Q_OPT_BOOL, "false", "a bool", 0, 0},
    {"count", Q_OPT_INT, "3", "an int in [0, 10]", 0, 10},
    {"big", Q_OPT_INT, "-1", "any int64", 0, 0},
    {"alpha", Q_OPT_FLOAT, "0.5", "a float", 0, 0},
    {"name", Q_OPT_STRING, "x", "a string", 0, 0},
    {0},
};

static const QPass passes[] = {
    {"test-break-ir", "Make an op use its own result (test only)", NULL, NULL, break_ir},
    {"test-fail", "Fail (test only)", fail_options, NULL, fail},
    {"test-options", "Take one option of each kind (test only)", test_options, NULL, nothing},
};

int quench_plugin_init(QuenchPluginRegistrar *r) {
  for (unsigned i = 0; i < sizeof passes / sizeof passes[0]; i++)
    if (!quench_register_pass(r, &passes[i])) return 1;
  return 0;
}
