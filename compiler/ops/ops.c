#include "ops/ops.h"

#include <assert.h>
#include <string.h>

static IrOpInfo table[IR_OP_COUNT] = {
#define OP(id, name, mi, xi, mo, xo, tr, attrs, regions) {name, mi, xi, mo, xo, tr, attrs, regions, {{0}}, 0, {0}, 0},
#include "ops/ops.def"
#undef OP
};

static const char *const kind_codes[IR_ATTR_KIND_COUNT] = {"i", "f", "s", "is", "fs", "ss", "t", "T"};
static const char *const kind_names[IR_ATTR_KIND_COUNT] = {"int", "float", "string", "ints",
                                                           "floats", "strings", "tensor", "type"};
static bool initialized;

/* Splits a comma list into NUL-terminated copies kept in static storage. */
static char spec_storage[16384];
static size_t spec_used;

static char *spec_copy(const char *s, size_t n) {
  assert(spec_used + n + 1 <= sizeof spec_storage && "ops.def spec storage exhausted");
  char *p = spec_storage + spec_used;
  memcpy(p, s, n);
  p[n] = '\0';
  spec_used += n + 1;
  return p;
}

static void parse_row(IrOpInfo *op) {
  for (const char *p = op->attr_spec; *p;) {
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    IrAttrRule *r = &op->attrs[op->nattrs++];
    assert(op->nattrs <= IR_OP_MAX_ATTR_RULES);
    if (*p == '!') {
      r->required = true;
      p++;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    assert(colon && "ops.def attribute without kind");
    r->name = spec_copy(p, (size_t)(colon - p));
    size_t klen = (size_t)(end - colon - 1);
    int kind = -1;
    for (int k = 0; k < IR_ATTR_KIND_COUNT; k++)
      if (strlen(kind_codes[k]) == klen && memcmp(kind_codes[k], colon + 1, klen) == 0) kind = k;
    assert(kind >= 0 && "ops.def attribute kind unknown");
    r->kind = (IrAttrKind)kind;
    p = *end ? end + 1 : end;
  }
  for (const char *p = op->region_spec; *p;) {
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    assert(op->nregions < IR_OP_MAX_REGIONS);
    op->regions[op->nregions++] = spec_copy(p, (size_t)(end - p));
    p = *end ? end + 1 : end;
  }
}

void ops_init(void) {
  if (initialized) return;
  for (int i = 0; i < IR_OP_COUNT; i++) parse_row(&table[i]);
  initialized = true;
}

const IrOpInfo *ops_info(IrOpKind k) {
  ops_init();
  return &table[k];
}

const char *ops_name(IrOpKind k) { return table[k].name; }

bool ops_lookup(const char *name, int n, IrOpKind *out) {
  for (int i = 0; i < IR_OP_COUNT; i++) {
    if ((int)strlen(table[i].name) == n && memcmp(table[i].name, name, (size_t)n) == 0) {
      *out = (IrOpKind)i;
      return true;
    }
  }
  return false;
}

const IrAttrRule *ops_attr_rule(IrOpKind k, const char *attr) {
  const IrOpInfo *info = ops_info(k);
  for (int i = 0; i < info->nattrs; i++)
    if (strcmp(info->attrs[i].name, attr) == 0) return &info->attrs[i];
  return NULL;
}

const char *ops_attr_kind_name(IrAttrKind k) { return kind_names[k]; }

uint32_t ops_required_operands(IrOpKind k) { return k == IR_OP_LOOP ? 0 : (uint32_t)ops_info(k)->min_in; }

bool ops_is_reduce(IrOpKind k) {
  switch (k) {
  case IR_OP_REDUCE_MEAN: case IR_OP_REDUCE_SUM: case IR_OP_REDUCE_MAX: case IR_OP_REDUCE_MIN:
  case IR_OP_REDUCE_PROD: case IR_OP_REDUCE_L1: case IR_OP_REDUCE_L2: case IR_OP_REDUCE_LOG_SUM:
  case IR_OP_REDUCE_LOG_SUM_EXP: case IR_OP_REDUCE_SUM_SQUARE:
    return true;
  default:
    return false;
  }
}
