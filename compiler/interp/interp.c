/* The interpreter proper: prepares a function once (every value gets a slot
 * in the frame of the region that defines it, every operand a (frames up,
 * slot) reference, every op the list of values it is the last user of) and
 * then runs it op by op through the kernel table. Intermediates are freed
 * right after their last use, counting uses inside nested regions as uses by
 * the op that owns the region, so a model never holds more than its live
 * tensors. Constants are expanded once and lent to their users. */
#include <stdlib.h>
#include <string.h>

#include "interp/kernel.h"

#define NONE UINT32_MAX

typedef struct RegionInfo RegionInfo;

/* An operand: the frame `up` levels above the one running the op, slot
 * `slot` there; up == NONE for an absent optional operand. */
typedef struct OperandRef {
  uint32_t up, slot;
} OperandRef;

typedef struct OpInfo {
  const IrOp *op;
  KernelFn fn;
  OperandRef *operands;
  uint32_t res_base; /* the results occupy slots res_base.. */
  uint32_t *frees;   /* slots of this region whose last user is this op */
  uint32_t nfree;
  RegionInfo **regions;
  Tensor *cached; /* a Constant's value, expanded on first use */
} OpInfo;

struct RegionInfo {
  const IrRegion *r;
  uint32_t depth, nslots, nops;
  OpInfo *ops;
  uint32_t *last_use; /* per slot: index of the last op using it (create only) */
};

struct Interp {
  const IrModule *m;
  const IrFunc *func;
  InterpOptions opts;
  Diag *d;
  RegionInfo *body;
};

/* The values of one run of a region; slots not owned are lent (arguments,
 * constants) and never freed here. */
typedef struct Frame {
  struct Frame *parent;
  const RegionInfo *ri;
  Tensor **slots;
  bool *owned;
  const OpInfo *cur; /* the op running now, for kernel_run_region */
} Frame;

/* ---- preparation ----------------------------------------------------- */

/* IrValue* -> (region, slot), open addressing, sized once for every value
 * of the function (so it never fills); used only while creating. */
typedef struct ValEntry {
  const IrValue *key;
  RegionInfo *ri;
  uint32_t slot;
} ValEntry;

typedef struct ValMap {
  ValEntry *e;
  size_t mask;
} ValMap;

static size_t count_values(const IrRegion *r) {
  size_t n = r->nargs;
  for (const IrOp *op = r->first; op; op = op->next) {
    n += op->nresults;
    for (uint32_t i = 0; i < op->nregions; i++) n += count_values(op->regions[i]);
  }
  return n;
}

static void valmap_init(ValMap *vm, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  vm->e = xcalloc(cap, sizeof *vm->e);
  vm->mask = cap - 1;
}

static size_t valmap_find(const ValMap *vm, const IrValue *v) {
  uint64_t x = (uint64_t)(uintptr_t)v * 0xff51afd7ed558ccdULL;
  size_t h = (size_t)(x ^ (x >> 29)) & vm->mask;
  while (vm->e[h].key && vm->e[h].key != v) h = (h + 1) & vm->mask;
  return h;
}

static void valmap_put(ValMap *vm, const IrValue *v, RegionInfo *ri, uint32_t slot) {
  vm->e[valmap_find(vm, v)] = (ValEntry){v, ri, slot};
}

static bool valmap_get(const ValMap *vm, const IrValue *v, RegionInfo **ri, uint32_t *slot) {
  const ValEntry *e = &vm->e[valmap_find(vm, v)];
  if (!e->key) return false;
  *ri = e->ri;
  *slot = e->slot;
  return true;
}

static bool op_fail(Diag *d, const IrOp *op, const char *msg) {
  KernelCtx k = {.op = op, .d = d};
  return kernel_fail(&k, "%s", msg);
}

/* Pass 1: slots for every value, kernels for every op (all missing ones are
 * reported before giving up). */
static RegionInfo *build_region(const IrRegion *r, uint32_t depth, ValMap *vm, Diag *d, bool *ok) {
  RegionInfo *ri = xcalloc(1, sizeof *ri);
  ri->r = r;
  ri->depth = depth;
  for (const IrOp *op = r->first; op; op = op->next) ri->nops++;
  ri->ops = xcalloc(ri->nops ? ri->nops : 1, sizeof *ri->ops);
  uint32_t slot = 0;
  for (uint32_t i = 0; i < r->nargs; i++) valmap_put(vm, r->args[i], ri, slot++);
  const KernelFn *table = interp_kernel_table();
  uint32_t j = 0;
  for (const IrOp *op = r->first; op; op = op->next, j++) {
    OpInfo *oi = &ri->ops[j];
    oi->op = op;
    oi->res_base = slot;
    for (uint32_t i = 0; i < op->nresults; i++) valmap_put(vm, op->results[i], ri, slot++);
    if (op->kind != IR_OP_RETURN) {
      oi->fn = op->kind < IR_OP_COUNT ? table[op->kind] : NULL;
      if (!oi->fn) *ok = op_fail(d, op, "the interpreter has no kernel for this op");
    }
    oi->regions = xcalloc(op->nregions ? op->nregions : 1, sizeof *oi->regions);
    for (uint32_t i = 0; i < op->nregions; i++) oi->regions[i] = build_region(op->regions[i], depth + 1, vm, d, ok);
  }
  ri->nslots = slot;
  ri->last_use = xmalloc((slot ? slot : 1) * sizeof *ri->last_use);
  for (uint32_t i = 0; i < slot; i++) ri->last_use[i] = NONE;
  return ri;
}

/* The chain of regions enclosing the op being resolved, with the index of
 * the op at each level that (transitively) contains it. */
typedef struct Anc {
  const RegionInfo *ri;
  uint32_t opidx;
  const struct Anc *parent;
} Anc;

/* Pass 2: operand references and last uses. A use inside a nested region
 * counts as a use by the op at the value's own level that contains it. */
static bool resolve_region(RegionInfo *ri, const Anc *outer, const ValMap *vm, Diag *d) {
  for (uint32_t j = 0; j < ri->nops; j++) {
    OpInfo *oi = &ri->ops[j];
    const IrOp *op = oi->op;
    Anc here = {ri, j, outer};
    oi->operands = xcalloc(op->noperands ? op->noperands : 1, sizeof *oi->operands);
    for (uint32_t i = 0; i < op->noperands; i++) {
      const IrValue *v = op->operands[i].value;
      OperandRef *ref = &oi->operands[i];
      ref->up = NONE;
      if (!v) continue;
      RegionInfo *home = NULL;
      uint32_t slot = 0;
      const Anc *a = valmap_get(vm, v, &home, &slot) ? &here : NULL;
      while (a && a->ri != home) a = a->parent;
      if (!a) return op_fail(d, op, "an operand is not defined in an enclosing scope");
      ref->up = ri->depth - home->depth;
      ref->slot = slot;
      if (home->last_use[slot] == NONE || home->last_use[slot] < a->opidx) home->last_use[slot] = a->opidx;
    }
    for (uint32_t i = 0; i < op->nregions; i++)
      if (!resolve_region(oi->regions[i], &here, vm, d)) return false;
  }
  return true;
}

/* Pass 3: free lists. Unused results die right after their op. */
static void build_frees(RegionInfo *ri) {
  for (uint32_t j = 0; j < ri->nops; j++) {
    OpInfo *oi = &ri->ops[j];
    for (uint32_t i = 0; i < oi->op->nresults; i++) {
      uint32_t s = oi->res_base + i, at = ri->last_use[s] == NONE ? j : ri->last_use[s];
      OpInfo *user = &ri->ops[at];
      user->frees = xrealloc(user->frees, (user->nfree + 1) * sizeof *user->frees);
      user->frees[user->nfree++] = s;
    }
    for (uint32_t i = 0; i < oi->op->nregions; i++) build_frees(oi->regions[i]);
  }
  free(ri->last_use);
  ri->last_use = NULL;
}

static void region_free(RegionInfo *ri) {
  if (!ri) return;
  for (uint32_t j = 0; j < ri->nops; j++) {
    OpInfo *oi = &ri->ops[j];
    for (uint32_t i = 0; i < oi->op->nregions; i++) region_free(oi->regions[i]);
    free(oi->regions);
    free(oi->operands);
    free(oi->frees);
    tensor_free(oi->cached);
  }
  free(ri->ops);
  free(ri->last_use);
  free(ri);
}

Interp *interp_create(const IrModule *m, const char *func, const InterpOptions *opts, Diag *d) {
  const IrFunc *f = NULL;
  if (func) {
    f = ir_module_find_func(m, func);
    if (!f) {
      diag_error(d, (DiagLoc){0}, "interpreter: the module has no function '%s'", func);
      return NULL;
    }
  } else {
    f = ir_module_find_func(m, "main");
    if (!f && m->nfuncs) f = m->funcs[0];
    if (!f) {
      diag_error(d, (DiagLoc){0}, "interpreter: the module has no function to run");
      return NULL;
    }
  }
  const IrOp *ret = f->body->last;
  if (!ret || ret->kind != IR_OP_RETURN || ret->noperands != f->nresults) {
    diag_error(d, f->pos, "interpreter: function '%s' must end in a return of its %u results", f->name, f->nresults);
    return NULL;
  }
  ValMap vm;
  valmap_init(&vm, count_values(f->body));
  bool ok = true;
  RegionInfo *body = build_region(f->body, 0, &vm, d, &ok);
  if (ok) ok = resolve_region(body, NULL, &vm, d);
  free(vm.e);
  if (!ok) {
    region_free(body);
    return NULL;
  }
  build_frees(body);
  Interp *it = xcalloc(1, sizeof *it);
  it->m = m;
  it->func = f;
  if (opts) it->opts = *opts;
  it->d = d;
  it->body = body;
  return it;
}

void interp_destroy(Interp *it) {
  if (!it) return;
  region_free(it->body);
  free(it);
}

const IrFunc *interp_func(const Interp *it) { return it->func; }

/* ---- running --------------------------------------------------------- */

static void frame_init(Frame *f, Frame *parent, const RegionInfo *ri) {
  f->parent = parent;
  f->ri = ri;
  f->slots = xcalloc(ri->nslots ? ri->nslots : 1, sizeof *f->slots);
  f->owned = xcalloc(ri->nslots ? ri->nslots : 1, sizeof *f->owned);
  f->cur = NULL;
}

static void frame_release(Frame *f) {
  for (uint32_t i = 0; i < f->ri->nslots; i++)
    if (f->owned[i]) tensor_free(f->slots[i]);
  free(f->slots);
  free(f->owned);
}

static Tensor *frame_get(Frame *f, OperandRef ref) {
  if (ref.up == NONE) return NULL;
  for (uint32_t i = 0; i < ref.up; i++) f = f->parent;
  return f->slots[ref.slot];
}

/* A kernel's result against the IR's result type: element type always,
 * rank and static dims where the IR knows them. */
static bool check_result(KernelCtx *k, uint32_t i, const Tensor *t) {
  const IrType *ty = k->op->results[i]->type;
  char buf[256];
  if (t->elem != ty->elem)
    return kernel_fail(k, "result #%u is %s but the IR says %s", i, tensor_describe(t, buf, sizeof buf),
                       ir_elem_name(ty->elem));
  if (ty->rank < 0) return true;
  bool same = ty->rank == t->rank;
  for (int32_t d = 0; same && d < t->rank; d++) same = ty->dims[d].size < 0 || ty->dims[d].size == t->dims[d];
  if (!same) {
    char want[256];
    Tensor s = {.elem = ty->elem, .rank = ty->rank > TENSOR_MAX_RANK ? TENSOR_MAX_RANK : ty->rank};
    for (int32_t d = 0; d < s.rank; d++) s.dims[d] = ty->dims[d].size;
    return kernel_fail(k, "result #%u has shape %s but the IR says %s (-1: any)", i,
                       tensor_describe(t, buf, sizeof buf), tensor_describe(&s, want, sizeof want));
  }
  return true;
}

/* The region's `return`: moves values this frame owns and no one else
 * needs, clones the rest (outer values, constants, repeated operands). */
static bool do_return(Interp *it, Frame *f, const OpInfo *oi, Tensor **results, uint32_t nresults) {
  const IrOp *op = oi->op;
  if (op->noperands != nresults) {
    diag_error(it->d, ir_op_diag_loc(op), "region '%s' returns %u values where %u are expected", f->ri->r->name,
               op->noperands, nresults);
    return false;
  }
  for (uint32_t i = 0; i < nresults; i++) {
    OperandRef ref = oi->operands[i];
    /* An earlier operand may have moved this very value. */
    uint32_t e = 0;
    while (e < i && !(ref.up != NONE && oi->operands[e].up == ref.up && oi->operands[e].slot == ref.slot)) e++;
    if (e < i) {
      results[i] = tensor_clone(results[e]);
      continue;
    }
    Tensor *t = frame_get(f, ref);
    if (!t) {
      diag_error(it->d, ir_op_diag_loc(op), "region '%s' returns none as value #%u", f->ri->r->name, i);
      return false;
    }
    if (ref.up == 0 && f->owned[ref.slot]) {
      results[i] = t;
      f->slots[ref.slot] = NULL;
      f->owned[ref.slot] = false;
    } else {
      results[i] = tensor_clone(t);
    }
  }
  return true;
}

static bool run_op(Interp *it, Frame *f, const OpInfo *oi) {
  const IrOp *op = oi->op;
  Tensor *inbuf[16], **ins = op->noperands <= 16 ? inbuf : xmalloc(op->noperands * sizeof *ins);
  Tensor *outbuf[16], **outs = op->nresults <= 16 ? outbuf : xmalloc(op->nresults * sizeof *outs);
  for (uint32_t i = 0; i < op->noperands; i++) ins[i] = frame_get(f, oi->operands[i]);
  for (uint32_t i = 0; i < op->nresults; i++) outs[i] = NULL;
  KernelCtx k = {.op = op,
                 .in = ins,
                 .nin = op->noperands,
                 .out = outs,
                 .nout = op->nresults,
                 .d = it->d,
                 .interp = it,
                 .frame = f,
                 .numerics = it->opts.numerics};
  bool ok = true, lent = false;
  f->cur = oi;
  if (op->kind == IR_OP_CONSTANT && op->nresults == 1) {
    OpInfo *mut = (OpInfo *)oi;
    if (!mut->cached) {
      ok = oi->fn(&k) && outs[0];
      if (ok)
        mut->cached = outs[0];
      else
        tensor_free(outs[0]);
      outs[0] = NULL;
    }
    if (ok) outs[0] = mut->cached;
    lent = true;
  } else {
    ok = oi->fn(&k);
  }
  for (uint32_t i = 0; ok && i < op->nresults; i++)
    ok = outs[i] ? check_result(&k, i, outs[i]) : kernel_fail(&k, "kernel produced no result #%u", i);
  for (uint32_t i = 0; i < op->nresults; i++) {
    if (ok) {
      f->slots[oi->res_base + i] = outs[i];
      f->owned[oi->res_base + i] = !lent;
    } else if (!lent) {
      tensor_free(outs[i]);
    }
  }
  if (ok && it->opts.observer && !it->opts.observer(it->opts.observer_ctx, op, outs, op->nresults))
    ok = kernel_fail(&k, "the run was stopped by the observer");
  if (ins != inbuf) free(ins);
  if (outs != outbuf) free(outs);
  for (uint32_t i = 0; ok && i < oi->nfree; i++) {
    uint32_t s = oi->frees[i];
    if (f->owned[s]) tensor_free(f->slots[s]);
    f->slots[s] = NULL;
    f->owned[s] = false;
  }
  return ok;
}

/* Runs f's region to its return; results get new tensors. */
static bool run_region(Interp *it, Frame *f, Tensor **results, uint32_t nresults) {
  const RegionInfo *ri = f->ri;
  for (uint32_t j = 0; j < ri->nops; j++) {
    const OpInfo *oi = &ri->ops[j];
    if (oi->op->kind == IR_OP_RETURN) return do_return(it, f, oi, results, nresults);
    if (!run_op(it, f, oi)) return false;
  }
  const IrOp *owner = ri->r->parent_op;
  diag_error(it->d, owner ? ir_op_diag_loc(owner) : it->func->pos, "region '%s' ends without a return", ri->r->name);
  return false;
}

bool kernel_run_region(KernelCtx *k, const IrRegion *r, Tensor *const *args, uint32_t nargs, Tensor **results,
                       uint32_t nresults) {
  for (uint32_t i = 0; i < nresults; i++) results[i] = NULL;
  Frame *parent = k->frame;
  if (!k->interp || !parent || !parent->cur || parent->cur->op != k->op)
    return kernel_fail(k, "regions run only inside the interpreter");
  const OpInfo *oi = parent->cur;
  const RegionInfo *ri = NULL;
  for (uint32_t i = 0; i < k->op->nregions; i++)
    if (k->op->regions[i] == r) ri = oi->regions[i];
  if (!ri) return kernel_fail(k, "region '%s' is not a region of this op", r ? r->name : "?");
  if (nargs != r->nargs) return kernel_fail(k, "region '%s' takes %u arguments, given %u", r->name, r->nargs, nargs);
  Frame f;
  frame_init(&f, parent, ri);
  for (uint32_t i = 0; i < nargs; i++) f.slots[i] = args[i];
  bool ok = run_region(k->interp, &f, results, nresults);
  frame_release(&f);
  parent->cur = oi;
  if (!ok)
    for (uint32_t i = 0; i < nresults; i++) {
      tensor_free(results[i]);
      results[i] = NULL;
    }
  return ok;
}

/* ---- inputs ---------------------------------------------------------- */

static const char *arg_name(const IrValue *v) { return v->name ? v->name : "?"; }

static bool check_inputs(Interp *it, Tensor *const *inputs, uint32_t nin) {
  const IrRegion *body = it->func->body;
  DiagLoc loc = it->func->pos;
  if (nin != body->nargs) {
    diag_error(it->d, loc, "function '%s' takes %u inputs, given %u", it->func->name, body->nargs, nin);
    return false;
  }
  /* Symbolic dims seen so far: name, size, the argument that fixed it. */
  const char *syms[64];
  int64_t sizes[64];
  uint32_t from[64], nsyms = 0;
  char buf[256];
  for (uint32_t i = 0; i < nin; i++) {
    const IrValue *a = body->args[i];
    const IrType *ty = a->type;
    const Tensor *t = inputs[i];
    if (!t) {
      diag_error(it->d, loc, "input #%u (%%%s) is missing", i, arg_name(a));
      return false;
    }
    if (t->elem != ty->elem) {
      diag_error(it->d, loc, "input #%u (%%%s) is %s but the function takes %s", i, arg_name(a),
                 tensor_describe(t, buf, sizeof buf), ir_elem_name(ty->elem));
      return false;
    }
    if (ty->rank < 0) continue;
    if (t->rank != ty->rank) {
      diag_error(it->d, loc, "input #%u (%%%s) is %s but the function takes rank %d", i, arg_name(a),
                 tensor_describe(t, buf, sizeof buf), ty->rank);
      return false;
    }
    for (int32_t d = 0; d < ty->rank; d++) {
      IrDim dim = ty->dims[d];
      if (dim.size >= 0 && dim.size != t->dims[d]) {
        diag_error(it->d, loc, "input #%u (%%%s) is %s but dim %d must be %lld", i, arg_name(a),
                   tensor_describe(t, buf, sizeof buf), d, (long long)dim.size);
        return false;
      }
      if (dim.size >= 0 || !dim.sym) continue;
      uint32_t s = 0;
      while (s < nsyms && strcmp(syms[s], dim.sym) != 0) s++;
      if (s == nsyms) {
        if (nsyms < 64) {
          syms[nsyms] = dim.sym;
          sizes[nsyms] = t->dims[d];
          from[nsyms++] = i;
        }
      } else if (sizes[s] != t->dims[d]) {
        diag_error(it->d, loc, "input #%u (%%%s): dim %d ([%s]) is %lld but input #%u (%%%s) has [%s] = %lld", i,
                   arg_name(a), d, dim.sym, (long long)t->dims[d], from[s], arg_name(body->args[from[s]]), dim.sym,
                   (long long)sizes[s]);
        return false;
      }
    }
  }
  return true;
}

bool interp_run(Interp *it, Tensor *const *inputs, uint32_t nin, Tensor **outputs) {
  for (uint32_t i = 0; i < it->func->nresults; i++) outputs[i] = NULL;
  if (!check_inputs(it, inputs, nin)) return false;
  Frame f;
  frame_init(&f, NULL, it->body);
  for (uint32_t i = 0; i < nin; i++) f.slots[i] = inputs[i];
  bool ok = run_region(it, &f, outputs, it->func->nresults);
  frame_release(&f);
  if (!ok)
    for (uint32_t i = 0; i < it->func->nresults; i++) {
      tensor_free(outputs[i]);
      outputs[i] = NULL;
    }
  return ok;
}
