/* bind-shapes: binds the dynamic and symbolic dims of function arguments to
 * sizes, then infers every shape again, so a model exported with dynamic
 * batch or sequence dims becomes fully static for the shapes it will run
 * with (constant-fold can then fold the shape arithmetic).
 *
 * Option `shapes`: comma-separated NAME=DIMS items. A NAME that is an
 * argument of a function gives that argument's whole shape ("x=1x3x48x192",
 * "sr=" for a scalar); any other NAME is a symbolic dim ("batch=1") and
 * binds it wherever it appears in an argument type.
 * Refuses: an unknown name, a rank or static size that disagrees with the
 * argument's type, a malformed item. Shapes the inference cannot make
 * static stay as they were.
 * Test: test/lit/passes/bind-shapes.qir. Docs: docs/passes/bind-shapes.md. */
#include <stdlib.h>
#include <string.h>

#include "ops/infer.h"
#include "pm/pass_manager.h"

#define MAX_ITEMS 64
#define MAX_RANK 16

typedef struct Item {
  const char *name;
  size_t nlen;
  int32_t rank; /* -1 while the item is malformed */
  int64_t dims[MAX_RANK];
  bool used;
} Item;

static bool name_is(const Item *it, const char *name) {
  return name && strlen(name) == it->nlen && strncmp(name, it->name, it->nlen) == 0;
}

/* Splits "a=1x2,b=,batch=4" into items; reports the first malformed one. */
static int parse_items(PassContext *ctx, const char *text, Item *items) {
  int n = 0;
  for (const char *p = text; *p;) {
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (!eq || eq == p || n == MAX_ITEMS) {
      quench_pass_error(ctx, NULL, "shapes: '%.*s' is not NAME=DIMS (e.g. x=1x3x224x224, batch=1)", (int)(end - p), p);
      return -1;
    }
    Item *it = &items[n++];
    *it = (Item){.name = p, .nlen = (size_t)(eq - p)};
    for (const char *q = eq + 1; q < end;) {
      char *stop;
      long long v = strtoll(q, &stop, 10);
      if (stop == q || v < 0 || it->rank == MAX_RANK || (stop < end && *stop != 'x')) {
        quench_pass_error(ctx, NULL, "shapes: bad dims in '%.*s' (sizes >= 0 joined by 'x', at most %d)",
                          (int)(end - p), p, MAX_RANK);
        return -1;
      }
      it->dims[it->rank++] = v;
      q = stop < end ? stop + 1 : stop;
    }
    p = *end ? end + 1 : end;
  }
  return n;
}

/* The argument's new type, or NULL (reported) when an item contradicts it. */
static const IrType *bind_arg(PassContext *ctx, IrModule *m, const IrFunc *f, const IrValue *a, Item *items, int n) {
  const IrType *t = a->type;
  IrDim dims[MAX_RANK];
  for (int i = 0; i < n; i++) {
    if (!name_is(&items[i], a->name)) continue;
    items[i].used = true;
    if (t->rank >= 0 && t->rank != items[i].rank) {
      quench_pass_error(ctx, NULL, "shapes: argument '%s' of @%s has rank %d, not %d", a->name, f->name, (int)t->rank,
                        (int)items[i].rank);
      return NULL;
    }
    for (int32_t d = 0; d < items[i].rank; d++) {
      if (t->rank >= 0 && t->dims[d].size >= 0 && t->dims[d].size != items[i].dims[d]) {
        quench_pass_error(ctx, NULL, "shapes: dim %d of argument '%s' of @%s is %lld, not %lld", (int)d, a->name,
                          f->name, (long long)t->dims[d].size, (long long)items[i].dims[d]);
        return NULL;
      }
      dims[d] = (IrDim){items[i].dims[d], NULL};
    }
    return t->quant ? ir_type_quant(m, t->quant, items[i].rank, dims) : ir_type_tensor(m, t->elem, items[i].rank, dims);
  }
  if (t->rank < 0 || t->rank > MAX_RANK) return t;
  bool changed = false;
  for (int32_t d = 0; d < t->rank; d++) {
    dims[d] = t->dims[d];
    for (int i = 0; dims[d].sym && i < n; i++)
      if (name_is(&items[i], dims[d].sym)) {
        items[i].used = true;
        if (items[i].rank != 1) {
          quench_pass_error(ctx, NULL, "shapes: symbolic dim '%s' takes one size, not '%.*s'", dims[d].sym,
                            (int)items[i].nlen, items[i].name);
          return NULL;
        }
        dims[d] = (IrDim){items[i].dims[0], NULL};
        changed = true;
      }
  }
  if (!changed) return t;
  return t->quant ? ir_type_quant(m, t->quant, t->rank, dims) : ir_type_tensor(m, t->elem, t->rank, dims);
}

static bool run(PassContext *ctx, IrModule *m) {
  Item items[MAX_ITEMS];
  int n = parse_items(ctx, quench_pass_option_string(ctx, "shapes"), items);
  if (n < 0) return false;
  int bound = 0;
  for (uint32_t fi = 0; fi < m->nfuncs; fi++) {
    IrFunc *f = m->funcs[fi];
    for (uint32_t i = 0; i < f->body->nargs; i++) {
      IrValue *a = f->body->args[i];
      const IrType *t = bind_arg(ctx, m, f, a, items, n);
      if (!t) return false;
      if (t != a->type && !ir_type_equal(t, a->type)) bound++;
      a->type = t;
    }
  }
  for (int i = 0; i < n; i++)
    if (!items[i].used) {
      quench_pass_error(ctx, NULL, "shapes: '%.*s' names no function argument and no symbolic dim of one",
                        (int)items[i].nlen, items[i].name);
      return false;
    }
  quench_pass_stat_add(ctx, "arguments-bound", bound);
  /* Types only get more precise: inference refines what the ops had. */
  return ir_infer_module(m, ctx->diag);
}

static const PassOption options[] = {
    {"shapes", Q_OPT_STRING, "", "NAME=DIMS items, comma-separated: an argument's shape or a symbolic dim's size", 0, 0},
    {0},
};

static const PassStat stats[] = {
    {"arguments-bound", "function arguments whose type changed"},
    {0},
};

const Pass pass_bind_shapes = {
    .name = "bind-shapes",
    .summary = "Bind argument shapes or symbolic dims to sizes and infer all shapes again",
    .options = options,
    .stats = stats,
    .run = run,
};
