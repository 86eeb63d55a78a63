/* Kernel: Einsum, by the reference nested loop. The equation is parsed as
 * numpy does: letters label dims, `...` stands for the broadcast dims
 * (aligned right across operands), a letter repeated within one operand
 * takes the diagonal, and without `->` the output is the ellipsis dims then
 * the letters used exactly once, in ASCII order. Every label not in the
 * output is summed over. Floats accumulate in double and round once;
 * integers in int64, wrapping to the result type. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "interp/k_einsum.h"
#include "interp/k_elementwise.h"
#include "support/arena.h"

#define N_LETTERS 52
#define N_LABELS (N_LETTERS + TENSOR_MAX_RANK)
#define ELLIPSIS (-1)

/* 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51: label order is ASCII order. */
static int letter_id(char c) { return c >= 'a' ? 26 + (c - 'a') : c - 'A'; }
static char id_letter(int l) { return (char)(l >= 26 ? 'a' + (l - 26) : 'A' + l); }

/* One term's tokens (letter ids or ELLIPSIS) from *p up to ',' '-' or end. */
static bool parse_term(KernelCtx *k, const char **p, int *tok, int *ntok) {
  *ntok = 0;
  bool ell = false;
  for (const char *s = *p;; s++) {
    if (*s == ' ') continue;
    if (*s == ',' || *s == '-' || *s == '\0') {
      *p = s;
      return true;
    }
    if (*ntok == TENSOR_MAX_RANK) return kernel_fail(k, "a term of the equation has more than %d dims", TENSOR_MAX_RANK);
    if (strncmp(s, "...", 3) == 0) {
      if (ell) return kernel_fail(k, "a term of the equation has two ellipses");
      ell = true;
      tok[(*ntok)++] = ELLIPSIS;
      s += 2;
    } else if (isalpha((unsigned char)*s)) {
      tok[(*ntok)++] = letter_id(*s);
    } else {
      return kernel_fail(k, "unexpected character '%c' in the equation", *s);
    }
  }
}

typedef struct Ein {
  int nlab;                /* labels in loop order: output first */
  int order[N_LABELS];
  int64_t size[N_LABELS];  /* by label id; -1 unused */
  int nout;
} Ein;

/* Dim labels of operand t (rank r, ntok tokens) with E ellipsis dims in
 * total: lab[0..r). */
static bool dim_labels(KernelCtx *k, uint32_t t, const int *tok, int ntok, int32_t r, int E, int *lab) {
  int letters = 0;
  bool ell = false;
  for (int i = 0; i < ntok; i++) {
    if (tok[i] == ELLIPSIS) ell = true;
    else letters++;
  }
  int e = r - letters;
  if (e < 0 || (!ell && e != 0))
    return kernel_fail(k, "operand #%u has rank %d but its term names %d dims", t, r, letters);
  int d = 0;
  for (int i = 0; i < ntok; i++) {
    if (tok[i] != ELLIPSIS) {
      lab[d++] = tok[i];
      continue;
    }
    for (int j = 0; j < e; j++) lab[d++] = N_LETTERS + (E - e) + j;
  }
  return true;
}

static bool k_einsum(KernelCtx *k) {
  const char *eq = ir_op_attr_string(k->op, "equation", "");
  IrElem ye = kernel_result_elem(k, 0);
  uint32_t n = k->nin;
  for (uint32_t t = 0; t < n; t++) {
    if (!kernel_in(k, t)) return kernel_fail(k, "operand #%u is absent", t);
    if (!ew_check_elem(k, t, ye)) return false;
  }
  if (ye == IR_ELEM_BOOL) return kernel_fail(k, "type bool is not supported");
  int(*tok)[TENSOR_MAX_RANK] = xmalloc((n + 1) * sizeof *tok), *ntok = xmalloc((n + 1) * sizeof *ntok);
  int(*lab)[TENSOR_MAX_RANK] = xmalloc(n * sizeof *lab);
  int64_t(*st)[N_LABELS] = xcalloc(n, sizeof *st);
  Ein g = {0};
  int count[N_LABELS] = {0}, E = 0;
  bool ok = true, explicit_out = false;
  const char *p = eq;
  for (uint32_t t = 0; ok && t < n; t++) {
    ok = parse_term(k, &p, tok[t], &ntok[t]);
    if (ok && (t + 1 < n ? *p != ',' : *p == ','))
      ok = kernel_fail(k, "equation '%s' has %s terms than the %u operands", eq, t + 1 < n ? "fewer" : "more", n);
    if (ok && *p == ',') p++;
  }
  if (ok && *p == '-') {
    if (p[1] != '>') ok = kernel_fail(k, "equation '%s': expected '->'", eq);
    p += 2;
    explicit_out = true;
    ok = ok && parse_term(k, &p, tok[n], &ntok[n]);
    if (ok && *p) ok = kernel_fail(k, "equation '%s' has text after the output term", eq);
  }
  for (uint32_t t = 0; ok && t < n; t++) {
    int letters = 0;
    for (int i = 0; i < ntok[t]; i++) letters += tok[t][i] != ELLIPSIS;
    int e = kernel_in(k, t)->rank - letters;
    if (e > E) E = e;
  }
  for (int l = 0; l < N_LABELS; l++) g.size[l] = -1;
  for (uint32_t t = 0; ok && t < n; t++) {
    const Tensor *x = kernel_in(k, t);
    ok = dim_labels(k, t, tok[t], ntok[t], x->rank, E, lab[t]);
    for (int32_t d = 0; ok && d < x->rank; d++) {
      int l = lab[t][d];
      int64_t sz = x->dims[d], *cur = &g.size[l];
      count[l]++; /* 'ii' counts twice: a trace, not an output label */
      if (*cur < 0 || (l >= N_LETTERS && *cur == 1)) *cur = sz;
      else if (sz != *cur && !(l >= N_LETTERS && sz == 1))
        ok = kernel_fail(k, "label '%c' has sizes %lld and %lld", l < N_LETTERS ? id_letter(l) : '.', (long long)*cur,
                         (long long)sz);
    }
  }
  /* the output labels */
  bool in_out[N_LABELS] = {false};
  if (ok && explicit_out) {
    for (int i = 0; ok && i < ntok[n]; i++) {
      int l = tok[n][i];
      for (int j = 0; l == ELLIPSIS && j < E; j++) g.order[g.nout++] = N_LETTERS + j, in_out[N_LETTERS + j] = true;
      if (l == ELLIPSIS) continue;
      if (g.size[l] < 0) ok = kernel_fail(k, "output label '%c' names no input dim", id_letter(l));
      else if (in_out[l]) ok = kernel_fail(k, "output label '%c' is repeated", id_letter(l));
      g.order[g.nout++] = l;
      in_out[l] = true;
    }
  } else if (ok) {
    for (int l = N_LETTERS; l < N_LETTERS + E; l++) g.order[g.nout++] = l, in_out[l] = true;
    for (int l = 0; l < N_LETTERS; l++)
      if (count[l] == 1) g.order[g.nout++] = l, in_out[l] = true;
  }
  if (ok && g.nout > TENSOR_MAX_RANK)
    ok = kernel_fail(k, "the output would have rank %d, over %d", g.nout, TENSOR_MAX_RANK);
  g.nlab = g.nout;
  for (int l = 0; l < N_LABELS; l++)
    if (g.size[l] >= 0 && !in_out[l]) g.order[g.nlab++] = l;
  /* each operand's stride per loop label; repeated labels add (diagonal) */
  for (uint32_t t = 0; ok && t < n; t++) {
    const Tensor *x = kernel_in(k, t);
    int64_t own[TENSOR_MAX_RANK];
    tensor_strides(x, own);
    for (int32_t d = 0; d < x->rank; d++)
      for (int i = 0; i < g.nlab; i++)
        if (g.order[i] == lab[t][d] && !(x->dims[d] == 1 && g.size[lab[t][d]] != 1)) st[t][i] += own[d];
  }
  int64_t yd[TENSOR_MAX_RANK], nsum = 1;
  for (int i = 0; ok && i < g.nout; i++) yd[i] = g.size[g.order[i]];
  for (int i = g.nout; i < g.nlab; i++) nsum *= g.size[g.order[i]];
  Tensor *y = ok ? kernel_output(k, 0, ye, g.nout, yd) : NULL;
  if (y) {
    bool fl = ir_elem_is_float(ye);
    int64_t idx[N_LABELS] = {0}, off[TENSOR_MAX_RANK * 4];
    int64_t *offs = n <= TENSOR_MAX_RANK * 4 ? off : xmalloc(n * sizeof *offs);
    for (uint32_t t = 0; t < n; t++) offs[t] = 0;
    for (int64_t o = 0; o < y->numel; o++) {
      double facc = 0;
      int64_t iacc = 0;
      for (int64_t s = 0; s < nsum; s++) {
        double fp = 1;
        uint64_t ip = 1;
        for (uint32_t t = 0; t < n; t++) {
          if (fl) fp *= tensor_get_f64(kernel_in(k, t), offs[t]);
          else ip *= (uint64_t)tensor_get_i64(kernel_in(k, t), offs[t]);
        }
        facc += fp;
        iacc = (int64_t)((uint64_t)iacc + ip);
        for (int i = g.nlab - 1; i >= 0; i--) { /* advance the odometer */
          for (uint32_t t = 0; t < n; t++) offs[t] += st[t][i];
          if (++idx[i] < g.size[g.order[i]]) break;
          for (uint32_t t = 0; t < n; t++) offs[t] -= st[t][i] * idx[i];
          idx[i] = 0;
        }
      }
      if (fl) tensor_set_f64(y, o, facc);
      else tensor_set_i64(y, o, iacc);
    }
    if (offs != off) free(offs);
  }
  free(tok);
  free(ntok);
  free(lab);
  free(st);
  return y != NULL;
}

void kernels_register_einsum(KernelFn *table) { table[IR_OP_EINSUM] = k_einsum; }
