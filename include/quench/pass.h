/* quench pass API: what a pass needs to declare itself (name, summary,
 * options, statistics, run function), walk and rewrite the IR through opaque
 * handles, and register from a plugin loaded with
 * `quench-opt --load-pass-plugin=PATH`. Built-in passes (the passes/ folder) use the
 * same descriptor; docs/writing-a-pass.md walks through an example.
 *
 * C11. Handles point into the module's arena: they stay valid until the
 * module is destroyed, erased ops included, and are never freed by a pass.
 * Functions taking an index assert that it is in range. */
#ifndef QUENCH_PASS_H
#define QUENCH_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever QPass, QPassOption or any function below changes in an
 * incompatible way; quench-opt refuses plugins built against another one. */
#define QUENCH_PLUGIN_API_VERSION 1

/* ---- opaque IR handles ----------------------------------------------- */

typedef struct IrModule QModule; /* a module: constants and functions */
typedef struct IrFunc QFunc;     /* a function; its body is a region */
typedef struct IrRegion QRegion; /* an op list: a function body or an If/Loop body */
typedef struct IrOp QOp;         /* an op; `return` ends every region */
typedef struct IrValue QValue;   /* an SSA tensor value: an op result or region argument */
typedef struct IrType QType;     /* a tensor type, immutable */
typedef struct PassContext QPassContext; /* the running pass: options, statistics, errors */

/* ---- pass descriptors ------------------------------------------------ */

typedef enum { Q_OPT_BOOL, Q_OPT_INT, Q_OPT_FLOAT, Q_OPT_STRING } QOptionKind;

/* One option, set in a pipeline as `pass{name=value}`. `dflt` is the default
 * as the user would write it ("false", "3", "0.5", "text"); it is parsed
 * like user input when the pass is registered. Integers are checked against
 * [min, max] unless both are 0 (then any int64 is accepted). */
typedef struct QPassOption {
  const char *name;
  QOptionKind kind;
  const char *dflt;
  const char *help;
  int64_t min, max;
} QPassOption;

/* A statistic the pass counts (shown by --pass-stats as `pass: N name`). */
typedef struct QPassStat {
  const char *name;
  const char *help;
} QPassStat;

/* A pass. `options` and `stats` are arrays ended by an entry whose name is
 * NULL (or NULL for none). `run` returns false when the pass failed; it
 * should report why with quench_pass_error first. Names are lowercase words
 * joined by '-'. */
typedef struct QPass {
  const char *name;
  const char *summary;
  const QPassOption *options;
  const QPassStat *stats;
  bool (*run)(QPassContext *ctx, QModule *m);
} QPass;

/* ---- the running pass ------------------------------------------------ */

/* Option values of this run; `name` must be a declared option of that kind
 * (anything else is a bug in the pass and asserts). Strings live as long as
 * the pipeline. */
bool quench_pass_option_bool(const QPassContext *ctx, const char *name);
int64_t quench_pass_option_int(const QPassContext *ctx, const char *name);
double quench_pass_option_float(const QPassContext *ctx, const char *name);
const char *quench_pass_option_string(const QPassContext *ctx, const char *name);

/* Adds n to a declared statistic. */
void quench_pass_stat_add(QPassContext *ctx, const char *name, int64_t n);

/* Reports an error (or a warning) located at `op` (NULL: no location),
 * printf-style. An error fails the pass even if run returns true. */
#if defined(__GNUC__)
#define QUENCH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QUENCH_PRINTF(a, b)
#endif
void quench_pass_error(QPassContext *ctx, const QOp *op, const char *fmt, ...) QUENCH_PRINTF(3, 4);
void quench_pass_warning(QPassContext *ctx, const QOp *op, const char *fmt, ...) QUENCH_PRINTF(3, 4);

/* ---- walking the IR -------------------------------------------------- */

uint32_t quench_module_num_funcs(const QModule *m);
QFunc *quench_module_func(const QModule *m, uint32_t i);
const char *quench_func_name(const QFunc *f);
QRegion *quench_func_body(const QFunc *f);

/* Ops of a region in order: first, then next until NULL. */
QOp *quench_region_first_op(const QRegion *r);
QOp *quench_op_next(const QOp *op);
QOp *quench_op_prev(const QOp *op);
/* Region name ("body" for a function, "then_branch"... for If/Loop). */
const char *quench_region_name(const QRegion *r);
uint32_t quench_region_num_args(const QRegion *r);
QValue *quench_region_arg(const QRegion *r, uint32_t i);
/* The op owning a region, NULL for a function body. */
QOp *quench_region_parent_op(const QRegion *r);
/* The region holding an op, NULL once it is erased. */
QRegion *quench_op_parent_region(const QOp *op);

/* Calls fn on every op of the module in order, visiting an op's regions
 * right after the op. fn may erase the op it is given. Returning false stops
 * the walk, and quench_module_walk then returns false. */
typedef bool (*QOpVisitor)(QOp *op, void *user);
bool quench_module_walk(QModule *m, QOpVisitor fn, void *user);

/* ---- ops --------------------------------------------------------------- */

/* The op's name in the op table: "Relu", "Conv", "return"... */
const char *quench_op_name(const QOp *op);
bool quench_op_is(const QOp *op, const char *name);
uint32_t quench_op_num_operands(const QOp *op);
/* NULL for an absent optional operand (`none` in the text form). */
QValue *quench_op_operand(const QOp *op, uint32_t i);
void quench_op_set_operand(QOp *op, uint32_t i, QValue *v);
uint32_t quench_op_num_results(const QOp *op);
QValue *quench_op_result(const QOp *op, uint32_t i);
uint32_t quench_op_num_regions(const QOp *op);
QRegion *quench_op_region(const QOp *op, uint32_t i);

/* Creates a detached op by its op-table name with the given operands (NULL
 * entries: absent) and result types, and the regions the table gives it
 * (empty). Returns NULL if no op has that name. Place it with insert. */
QOp *quench_op_create(QModule *m, const char *name, QValue *const *operands, uint32_t noperands,
                      const QType *const *result_types, uint32_t nresults);
void quench_op_insert_before(QOp *pos, QOp *op);
void quench_op_insert_after(QOp *pos, QOp *op);
/* Unlinks an op. Refuses (returns false, changes nothing) while any of its
 * results is still used. */
bool quench_op_erase(QOp *op);

/* ---- values ------------------------------------------------------------ */

const QType *quench_value_type(const QValue *v);
/* The defining op; NULL for a function or region argument. */
QOp *quench_value_def(const QValue *v);
uint32_t quench_value_num_uses(const QValue *v);
/* Makes every use of `from` use `to` instead (types are not checked; the
 * verifier after the pass is). */
void quench_value_replace_all_uses(QValue *from, QValue *to);

/* ---- types ------------------------------------------------------------- */

/* Element type name as in the text format: "f32", "i8", "bool"... For a
 * quantized type, its storage type. */
const char *quench_type_elem_name(const QType *t);
bool quench_type_is_quantized(const QType *t);
/* Rank, or -1 when unranked. */
int32_t quench_type_rank(const QType *t);
/* Size of dim i, or -1 when it is dynamic or symbolic. */
int64_t quench_type_dim(const QType *t, int32_t i);
/* Element count, or -1 when the shape is not static. */
int64_t quench_type_numel(const QType *t);
bool quench_type_equal(const QType *a, const QType *b);

/* ---- attributes -------------------------------------------------------- */

bool quench_op_has_attr(const QOp *op, const char *name);
/* Getters return dflt when the attribute is missing or of another kind. */
int64_t quench_op_attr_int(const QOp *op, const char *name, int64_t dflt);
double quench_op_attr_float(const QOp *op, const char *name, double dflt);
const char *quench_op_attr_string(const QOp *op, const char *name, const char *dflt);
/* Sets *values to the list and returns its length; 0 (and NULL) when the
 * attribute is missing or not an int list. */
uint32_t quench_op_attr_ints(const QOp *op, const char *name, const int64_t **values);
/* Setters add or replace; payloads are copied into the module. The verifier
 * rejects attributes the op table does not list for the op. */
void quench_op_set_attr_int(QModule *m, QOp *op, const char *name, int64_t v);
void quench_op_set_attr_float(QModule *m, QOp *op, const char *name, double v);
void quench_op_set_attr_string(QModule *m, QOp *op, const char *name, const char *v);
void quench_op_set_attr_ints(QModule *m, QOp *op, const char *name, const int64_t *v, uint32_t n);
bool quench_op_remove_attr(QOp *op, const char *name);

/* ---- plugins ----------------------------------------------------------- */

typedef struct QuenchPluginRegistrar QuenchPluginRegistrar;

/* A plugin exports this function; quench-opt calls it once after dlopen. It
 * registers its passes and returns 0, or non-zero to report failure. The
 * descriptors must stay valid while the plugin is loaded (make them static
 * const). */
#define QUENCH_PLUGIN_INIT_SYMBOL "quench_plugin_init"
typedef int (*QuenchPluginInitFn)(QuenchPluginRegistrar *r);
int quench_plugin_init(QuenchPluginRegistrar *r);

/* Registers a pass. The macro stamps the API version the plugin was compiled
 * against; a mismatch, a duplicate name or a malformed descriptor is reported
 * and returns false. */
bool quench_register_pass_v(QuenchPluginRegistrar *r, const QPass *pass, int api_version);
#define quench_register_pass(r, pass) quench_register_pass_v((r), (pass), QUENCH_PLUGIN_API_VERSION)

#ifdef __cplusplus
}
#endif

#endif
