/* An example pass plugin, written against include/quench/pass.h only
 * (docs/writing-a-pass.md walks through it). It registers two passes:
 *
 *   fold-double-relu  Relu(Relu(x)) -> Relu(x): Relu is idempotent, so the
 *                     outer Relu's users can take the inner one's result.
 *                     Option `in-regions` (default true) also folds inside
 *                     If/Loop bodies. Statistic relus-folded.
 *   count-ops         Counts ops, functions and regions, and the ops of one
 *                     kind (option `kind`, e.g. count-ops{kind=Conv}), as
 *                     statistics; changes nothing.
 *
 * Build: the quench build makes <build>/lib/count_ops.so; load it with
 *   quench-opt --load-pass-plugin=<build>/lib/count_ops.so \
 *              --passes=fold-double-relu,count-ops --pass-stats model.qir
 * Test: test/lit/plugin/count-ops.qir. */
#include <quench/pass.h>

/* ---- fold-double-relu --------------------------------------------------- */

typedef struct FoldState {
  QPassContext *ctx;
  bool in_regions;
} FoldState;

static bool fold_relu(QOp *op, void *user) {
  FoldState *st = user;
  if (!quench_op_is(op, "Relu")) return true;
  if (!st->in_regions && quench_region_parent_op(quench_op_parent_region(op))) return true;
  QValue *x = quench_op_operand(op, 0);
  QOp *inner = x ? quench_value_def(x) : NULL;
  if (!inner || !quench_op_is(inner, "Relu")) return true;
  QValue *outer = quench_op_result(op, 0);
  /* Users of the outer result must see the same type from the inner one. */
  if (!quench_type_equal(quench_value_type(outer), quench_value_type(x))) return true;
  quench_value_replace_all_uses(outer, x);
  quench_op_erase(op); /* cannot refuse: its only result has no uses now */
  quench_pass_stat_add(st->ctx, "relus-folded", 1);
  return true;
}

static bool fold_double_relu(QPassContext *ctx, QModule *m) {
  FoldState st = {ctx, quench_pass_option_bool(ctx, "in-regions")};
  /* The walk visits an op before the ops after it, so a chain of n Relus
   * folds into one in a single walk. */
  quench_module_walk(m, fold_relu, &st);
  return true;
}

static const QPassOption fold_options[] = {
    {"in-regions", Q_OPT_BOOL, "true", "also fold inside If and Loop bodies", 0, 0},
    {0},
};

static const QPassStat fold_stats[] = {
    {"relus-folded", "Relu ops whose input was already a Relu"},
    {0},
};

static const QPass fold_double_relu_pass = {
    .name = "fold-double-relu",
    .summary = "Fold Relu(Relu(x)) into Relu(x) (example plugin)",
    .options = fold_options,
    .stats = fold_stats,
    .run = fold_double_relu,
};

/* ---- count-ops --------------------------------------------------------- */

typedef struct CountState {
  QPassContext *ctx;
  const char *kind;
} CountState;

static bool count_op(QOp *op, void *user) {
  CountState *st = user;
  quench_pass_stat_add(st->ctx, "ops", 1);
  quench_pass_stat_add(st->ctx, "regions", quench_op_num_regions(op));
  if (quench_op_is(op, st->kind)) quench_pass_stat_add(st->ctx, "matching", 1);
  return true;
}

static bool count_ops(QPassContext *ctx, QModule *m) {
  CountState st = {ctx, quench_pass_option_string(ctx, "kind")};
  quench_pass_stat_add(ctx, "functions", quench_module_num_funcs(m));
  quench_module_walk(m, count_op, &st);
  return true;
}

static const QPassOption count_options[] = {
    {"kind", Q_OPT_STRING, "return", "op name to count as 'matching' (e.g. Conv)", 0, 0},
    {0},
};

static const QPassStat count_stats[] = {
    {"functions", "functions in the module"},
    {"ops", "ops, nested ones and returns included"},
    {"regions", "If/Loop regions"},
    {"matching", "ops named by the kind option"},
    {0},
};

static const QPass count_ops_pass = {
    .name = "count-ops",
    .summary = "Count ops, functions and regions as statistics (example plugin)",
    .options = count_options,
    .stats = count_stats,
    .run = count_ops,
};

/* ---- registration -------------------------------------------------------- */

int quench_plugin_init(QuenchPluginRegistrar *r) {
  if (!quench_register_pass(r, &fold_double_relu_pass)) return 1;
  if (!quench_register_pass(r, &count_ops_pass)) return 1;
  return 0;
}
