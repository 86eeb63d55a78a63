/* The C backend's value table and memory plan: every intermediate tensor
 * gets an arena buffer live from its defining op to its last reader; the
 * plan packs the buffers into one arena sized at compile time (greedy by
 * size, first fit among buffers whose lives overlap), so the inference path
 * allocates nothing. Aliases (Reshape, Squeeze, ...) share their source's
 * buffer and extend its life. Test: test/lit/codegen/compile-plan.test. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/c/cgen_internal.h"
#include "support/arena.h"

void cg_str_printf(CgStr *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    size_t room = b->cap - b->n;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < room) {
      b->n += (size_t)k;
      return;
    }
    b->cap = (b->cap + (size_t)(k > 0 ? k : 64) + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
}

static uint64_t hash_ptr(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

/* The slot holding v, or the empty slot where it goes. */
static CgVal *slot_of(const Cg *cg, const IrValue *v) {
  uint64_t mask = (uint64_t)(cg->cap - 1);
  for (uint64_t i = hash_ptr(v) & mask;; i = (i + 1) & mask)
    if (cg->vals[i].v == v || !cg->vals[i].v) return &cg->vals[i];
}

CgVal *cg_val(Cg *cg, const IrValue *v) {
  if (!cg->cap) return NULL;
  CgVal *s = slot_of(cg, v);
  return s->v ? s : NULL;
}

CgVal *cg_val_add(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val(cg, v);
  if (e) return e;
  if ((cg->nvals + 1) * 2 > cg->cap) {
    int64_t ocap = cg->cap;
    CgVal *old = cg->vals;
    cg->cap = ocap ? ocap * 2 : 256;
    cg->vals = xcalloc((size_t)cg->cap, sizeof *cg->vals);
    for (int64_t i = 0; i < ocap; i++)
      if (old[i].v) *slot_of(cg, old[i].v) = old[i];
    free(old);
  }
  CgVal *s = slot_of(cg, v);
  s->v = v;
  s->loc = CG_LOC_NONE;
  cg->nvals++;
  return s;
}

int32_t cg_new_buf(Cg *cg, int64_t bytes) {
  if (cg->nbufs == cg->bufs_cap) {
    cg->bufs_cap = cg->bufs_cap ? cg->bufs_cap * 2 : 64;
    cg->bufs = xrealloc(cg->bufs, (size_t)cg->bufs_cap * sizeof *cg->bufs);
  }
  cg->bufs[cg->nbufs] = (CgBuf){bytes > 0 ? bytes : 1, cg->step, cg->step, -1};
  return cg->nbufs++;
}

void cg_use(Cg *cg, const IrValue *v) {
  CgVal *e = cg_val(cg, v);
  if (e && e->loc == CG_LOC_ARENA && cg->bufs[e->buf].last < cg->step) cg->bufs[e->buf].last = cg->step;
}

void cg_alias(Cg *cg, const IrValue *v, const IrValue *src) {
  CgVal *s = cg_val_add(cg, src);
  CgVal copy = *s;
  CgVal *e = cg_val_add(cg, v); /* may move s */
  e->loc = copy.loc;
  e->buf = copy.buf;
  e->off = copy.off;
  cg_use(cg, src);
}

static int by_size_desc(const void *a, const void *b) {
  const CgBuf *x = *(const CgBuf *const *)a, *y = *(const CgBuf *const *)b;
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  return x->first - y->first;
}

static int64_t align_up(int64_t v) { return (v + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN; }

void cg_plan_arena(Cg *cg) {
  CgBuf **order = xmalloc((size_t)(cg->nbufs ? cg->nbufs : 1) * sizeof *order);
  for (int32_t i = 0; i < cg->nbufs; i++) order[i] = &cg->bufs[i];
  qsort(order, (size_t)cg->nbufs, sizeof *order, by_size_desc);
  int64_t top = 0;
  for (int32_t i = 0; i < cg->nbufs; i++) {
    CgBuf *b = order[i];
    /* Lowest offset clear of every placed buffer whose life overlaps b's;
     * placed buffers are tried in offset order until the gap fits. */
    int64_t off = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (int32_t j = 0; j < i; j++) {
        const CgBuf *p = order[j];
        bool live = p->first <= b->last && b->first <= p->last;
        bool overlap = off < p->off + align_up(p->bytes) && p->off < off + align_up(b->bytes);
        if (live && overlap) {
          off = p->off + align_up(p->bytes);
          moved = true;
        }
      }
    }
    b->off = off;
    if (off + align_up(b->bytes) > top) top = off + align_up(b->bytes);
  }
  /* Slack after the last buffer: kernels may read (never use) up to 64
   * bytes past a buffer's end (the GEMM packer copies runs of taps 16
   * bytes at a time), which must stay inside the arena. */
  cg->arena_bytes = top + CG_ALIGN;
  free(order);
}

const char *cg_ptr(Cg *cg, const IrValue *v, char *buf, size_t n) {
  const CgVal *e = cg_val(cg, v);
  if (!e || e->loc == CG_LOC_NONE) snprintf(buf, n, "NULL");
  else if (e->loc == CG_LOC_ARENA && e->off) snprintf(buf, n, "(A + B%d + %lld)", e->buf, (long long)e->off);
  else if (e->loc == CG_LOC_ARENA) snprintf(buf, n, "(A + B%d)", e->buf);
  else if (e->loc == CG_LOC_INPUT && e->off)
    snprintf(buf, n, "((const unsigned char *)in%d + %lld)", e->buf, (long long)e->off);
  else if (e->loc == CG_LOC_INPUT) snprintf(buf, n, "((const unsigned char *)in%d)", e->buf);
  else snprintf(buf, n, "(W + %lld)", (long long)e->off);
  return buf;
}
