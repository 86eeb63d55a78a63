/* The C backend's driver: plans and emits every op of "main", places the
 * arena, then writes the library (NAME.h, NAME.c, the weights), a driver
 * (NAME_main.c), the runtime sources and a Makefile into the output
 * folder. Everything is generated in memory first, so a refused op leaves
 * no file behind. docs/backends/c.md documents the output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codegen/c/cgen_internal.h"
#include "codegen/c/runtime_files.h"
#include "support/arena.h"
#include "support/fileio.h"

#ifndef QUENCH_VERSION
#define QUENCH_VERSION "0.1.0"
#endif

static const char *const target_names[] = {"generic", "x86-64-avx2", "x86-64-avx512vnni", "aarch64-dotprod", "x86-64-amx"};

bool cg_target_from_name(const char *s, CgTarget *t) {
  for (int i = 0; i < (int)(sizeof target_names / sizeof *target_names); i++)
    if (strcmp(s, target_names[i]) == 0) {
      *t = (CgTarget)i;
      return true;
    }
  return false;
}

const char *cg_target_name(CgTarget t) { return target_names[t]; }

/* Compiler flags that select the runtime's kernel path (qrt.h). */
static const char *target_flags(CgTarget t) {
  switch (t) {
  case CG_TARGET_AVX2: return "-mavx2 -mfma";
  case CG_TARGET_AVX512VNNI: return "-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni";
  case CG_TARGET_AARCH64_DOTPROD: return "-march=armv8.2-a+dotprod";
  case CG_TARGET_AMX:
    return "-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mamx-tile -mamx-int8";
  default: return "";
  }
}

/* The C type of a graph input/output element. */
static const char *c_type(IrElem e) {
  switch (e) {
  case IR_ELEM_F32: return "float";
  case IR_ELEM_U8: case IR_ELEM_BOOL: return "uint8_t";
  case IR_ELEM_I8: return "int8_t";
  case IR_ELEM_I32: return "int32_t";
  case IR_ELEM_I64: return "int64_t";
  default: return NULL;
  }
}

typedef struct Io {
  const IrValue *v;
  const char *name;
} Io;

static void free_cg(Cg *cg) {
  free(cg->vals);
  free(cg->bufs);
  free(cg->blob);
  free(cg->ops);
  free(cg->skip);
  free(cg->code.s);
}

/* Comment and macros for tensor io `i` of kind `kind` ("INPUT"/"OUTPUT"). */
static void io_info(CgStr *h, const char *up, const char *kind, int i, const Io *io) {
  const IrType *t = io->v->type;
  cg_str_printf(h, "/* %s %d \"%s\": %s [", kind[0] == 'I' ? "input" : "output", i, io->name, ir_elem_name(t->elem));
  int64_t n = 1;
  for (int32_t k = 0; k < t->rank; k++) {
    cg_str_printf(h, "%s%lld", k ? ", " : "", (long long)t->dims[k].size);
    n *= t->dims[k].size;
  }
  cg_str_printf(h, "]");
  /* The quantization an input meets first, or an output leaves. */
  const IrOp *q = NULL;
  if (kind[0] == 'I') {
    for (const IrUse *u = io->v->uses; u && !q; u = u->next)
      if (u->user->kind == IR_OP_QUANTIZE_LINEAR && u->index == 0) q = u->user;
  } else if (io->v->kind == IR_VALUE_RESULT && io->v->def->kind == IR_OP_DEQUANTIZE_LINEAR) {
    q = io->v->def;
  }
  const IrConst *sc = q ? cg_const_of(ir_op_operand(q, 1)) : NULL;
  const IrConst *zc = q && q->noperands > 2 && ir_op_operand(q, 2) ? cg_const_of(ir_op_operand(q, 2)) : NULL;
  if (sc && sc->type->elem == IR_ELEM_F32 && ir_type_numel(sc->type) == 1) {
    float s;
    memcpy(&s, sc->data, 4);
    long long z = zc ? (long long)ir_elem_load_int(zc->type->elem, zc->data, 0) : 0;
    IrElem qe = (kind[0] == 'I' ? q->results[0] : ir_op_operand(q, 0))->type->elem;
    cg_str_printf(h, "; %s %s with scale %.9g, zero point %lld */\n", kind[0] == 'I' ? "quantized to" : "dequantized from",
                  ir_elem_name(qe), (double)s, z);
    cg_str_printf(h, "#define %s_%s%d_QSCALE %.9gf\n#define %s_%s%d_QZERO %lld\n", up, kind, i, (double)s, up, kind, i, z);
  } else {
    cg_str_printf(h, " */\n");
  }
  cg_str_printf(h, "#define %s_%s%d_NUMEL %lld\n", up, kind, i, (long long)n);
}

static char *upper(const char *s) {
  char *u = xstrdup(s);
  for (char *p = u; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  return u;
}

static void signature(CgStr *s, const char *name, const Io *in, int nin, const Io *out, int nout) {
  cg_str_printf(s, "int %s_run(const void *weights, void *arena, qrt_pool *pool", name);
  for (int i = 0; i < nin; i++) cg_str_printf(s, ", const %s *in%d", c_type(in[i].v->type->elem), i);
  for (int i = 0; i < nout; i++) cg_str_printf(s, ", %s *out%d", c_type(out[i].v->type->elem), i);
  cg_str_printf(s, ")");
}

static void tables(CgStr *s, const char *name, const char *what, const Io *io, int n) {
  cg_str_printf(s, "const qrt_tensor_info %s_%s[] = {\n", name, what);
  for (int i = 0; i < n; i++) {
    const IrType *t = io[i].v->type;
    cg_str_printf(s, "    {\"%s\", %s, %d, {", io[i].name, cg_qrt_elem(t->elem), t->rank);
    for (int32_t k = 0; k < t->rank; k++) cg_str_printf(s, "%s%lld", k ? ", " : "", (long long)t->dims[k].size);
    cg_str_printf(s, "%s}},\n", t->rank ? "" : "0");
  }
  cg_str_printf(s, "};\n");
}

static bool write_str(const char *dir, const char *file, const char *text, size_t n, Diag *d) {
  size_t len = strlen(dir) + strlen(file) + 2;
  char *p = xmalloc(len);
  snprintf(p, len, "%s/%s", dir, file);
  bool ok = outfile_write_all(p, text, n, "generated file", d);
  free(p);
  return ok;
}

/* The embedded weight array, as decimal bytes (compiles fast, greps well). */
static void weights_c(CgStr *s, const Cg *cg, const char *name) {
  cg_str_printf(s, "/* Generated by quench: the weights of %s (%lld bytes). */\n#include <stdint.h>\n\n", name,
                (long long)cg->blob_n);
  cg_str_printf(s, "_Alignas(64) const unsigned char %s_weights[%lld] = {", name, (long long)(cg->blob_n ? cg->blob_n : 1));
  for (int64_t i = 0; i < cg->blob_n; i++) cg_str_printf(s, "%s%u,", i % 32 ? "" : "\n", cg->blob[i]);
  cg_str_printf(s, "%s\n};\n", cg->blob_n ? "" : "0");
}

static bool make_dir(const char *dir, Diag *d) {
  if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return true;
  }
  diag_report(d, DIAG_ERROR, diag_loc(dir, 0, 0), "cannot create output folder: %s", strerror(errno ? errno : ENOTDIR));
  return false;
}

static bool write_all(const Cg *cg, const Io *in, int nin, const Io *out, int nout) {
  const CgOptions *o = cg->o;
  const char *nm = o->name;
  char *up = upper(nm);
  CgStr h = {0}, c = {0}, mk = {0}, w = {0}, drv = {0};
  /* ---- header ---- */
  cg_str_printf(&h, "/* %s.h: generated by quench %s for target %s. Do not edit.\n *\n", nm, QUENCH_VERSION,
                cg_target_name(o->target));
  cg_str_printf(&h, " * %s_run computes one inference. weights: %s; arena: %s_ARENA_BYTES bytes, 64-byte\n"
                    " * aligned, one per concurrent inference (the inference allocates nothing);\n"
                    " * pool: NULL for one thread or a qrt_pool (same results for any thread\n"
                    " * count). Tensors are dense and row-major. Returns 0. */\n",
                nm, o->blob_weights ? "the contents of the weights file, 64-byte aligned" : "the embedded array below", up);
  cg_str_printf(&h, "#ifndef %s_H\n#define %s_H\n#include <stddef.h>\n#include <stdint.h>\n#include \"qrt_io.h\"\n"
                    "#include \"qrt_pool.h\"\n\n", up, up);
  cg_str_printf(&h, "#define %s_ARENA_BYTES ((size_t)%lld)\n#define %s_WEIGHTS_BYTES ((size_t)%lld)\n", up,
                (long long)(cg->arena_bytes ? cg->arena_bytes : CG_ALIGN), up, (long long)cg->blob_n);
  if (o->blob_weights) cg_str_printf(&h, "#define %s_WEIGHTS_FILE \"%s.weights\"\n", up, nm);
  cg_str_printf(&h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n\n", up, nin, up, nout);
  for (int i = 0; i < nin; i++) io_info(&h, up, "INPUT", i, &in[i]);
  for (int i = 0; i < nout; i++) io_info(&h, up, "OUTPUT", i, &out[i]);
  if (!o->blob_weights) cg_str_printf(&h, "\nextern const unsigned char %s_weights[];\n", nm);
  cg_str_printf(&h, "extern const qrt_tensor_info %s_inputs[%d], %s_outputs[%d];\n", nm, nin ? nin : 1, nm, nout ? nout : 1);
  cg_str_printf(&h, "\n");
  signature(&h, nm, in, nin, out, nout);
  cg_str_printf(&h, ";\n/* The same, inputs and outputs by index (for generic drivers). */\n"
                    "int %s_run_v(const void *weights, void *arena, qrt_pool *pool, const void *const *in, "
                    "void *const *out);\n\n#endif\n", nm);
  /* ---- source ---- */
  cg_str_printf(&c, "/* %s.c: generated by quench %s for target %s. Do not edit. */\n", nm, QUENCH_VERSION,
                cg_target_name(o->target));
  cg_str_printf(&c, "#include <math.h>\n#include <string.h>\n\n#include \"%s.h\"\n#include \"qrt_conv.h\"\n#include \"qrt_lut.h\"\n#include \"qrt_ops.h\"\n#include \"qrt_prof.h\"\n\n", nm);
  cg_str_printf(&c, "/* Arena plan: %d buffers in %lld bytes. */\n", cg->nbufs, (long long)cg->arena_bytes);
  for (int32_t i = 0; i < cg->nbufs; i++)
    cg_str_printf(&c, "#define B%d %lld /* %lld bytes, ops %d..%d */\n", i, (long long)cg->bufs[i].off,
                  (long long)cg->bufs[i].bytes, cg->bufs[i].first, cg->bufs[i].last);
  cg_str_printf(&c, "\n");
  tables(&c, nm, "inputs", in, nin ? nin : 0);
  tables(&c, nm, "outputs", out, nout);
  cg_str_printf(&c, "\n");
  signature(&c, nm, in, nin, out, nout);
  cg_str_printf(&c, " {\n  const unsigned char *W = weights;\n  unsigned char *A = arena;\n  (void)W;\n  (void)A;\n"
                    "  (void)pool;\n");
  if (cg->code.n) cg_str_printf(&c, "%s", cg->code.s);
  cg_str_printf(&c, "  return 0;\n}\n\n");
  cg_str_printf(&c, "int %s_run_v(const void *weights, void *arena, qrt_pool *pool, const void *const *in, "
                    "void *const *out) {\n  (void)in;\n  (void)out;\n  return %s_run(weights, arena, pool", nm, nm);
  for (int i = 0; i < nin; i++) cg_str_printf(&c, ", in[%d]", i);
  for (int i = 0; i < nout; i++) cg_str_printf(&c, ", out[%d]", i);
  cg_str_printf(&c, ");\n}\n");
  /* ---- driver ---- */
  cg_str_printf(&drv, "/* %s_main.c: generated by quench. Runs %s on input files (.npy or TensorProto .pb)\n"
                      " * and writes output_K.npy files; --bench N times N runs. See qrt_main.h. */\n"
                      "#include \"%s.h\"\n#include \"qrt_main.h\"\n\n", nm, nm, nm);
  cg_str_printf(&drv, "int main(int argc, char **argv) {\n  qrt_model_desc m = {\"%s\", %s_inputs, %d, %s_outputs, %d, "
                      "%s_ARENA_BYTES, %s_WEIGHTS_BYTES, %s%s%s, %s_run_v};\n  return qrt_main(&m, argc, argv);\n}\n",
                nm, nm, nin, nm, nout, up, up, o->blob_weights ? "NULL, \"" : nm, o->blob_weights ? nm : "_weights",
                o->blob_weights ? ".weights\"" : ", NULL", nm);
  /* ---- Makefile ---- */
  cg_str_printf(&mk, "# Generated by quench %s: builds lib%s.a and the %s_main driver for target %s.\n", QUENCH_VERSION,
                nm, nm, cg_target_name(o->target));
  cg_str_printf(&mk, "# make [CC=...] [OPT=...]; the runtime's kernel path follows TARGET_FLAGS (qrt.h).\n");
  if (o->target == CG_TARGET_AARCH64_DOTPROD) cg_str_printf(&mk, "CC = aarch64-linux-gnu-gcc\nLDSTATIC = -static\n");
  cg_str_printf(&mk, "OPT ?= -O3\nTARGET_FLAGS = %s\n", target_flags(o->target));
  cg_str_printf(&mk, "QFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -Wall -Wextra $(TARGET_FLAGS) $(OPT)\n");
  cg_str_printf(&mk, "LIB_SRCS = %s.c%s", nm, o->blob_weights ? "" : " ");
  if (!o->blob_weights) cg_str_printf(&mk, "%s_weights.c", nm);
  for (const CgRuntimeFile *f = cg_runtime_files; f->name; f++)
    if (strstr(f->name, ".c") && strcmp(f->name, "qrt_main.c") != 0) cg_str_printf(&mk, " %s", f->name);
  cg_str_printf(&mk, "\nLIB_OBJS = $(LIB_SRCS:.c=.o)\n\nall: %s_main\n\n", nm);
  cg_str_printf(&mk, "lib%s.a: $(LIB_OBJS)\n\t$(AR) rcs $@ $^\n\n", nm);
  cg_str_printf(&mk, "%s_main: %s_main.o qrt_main.o lib%s.a\n\t$(CC) $(QFLAGS) $(CFLAGS) $(LDFLAGS) $(LDSTATIC) -o $@ "
                     "%s_main.o qrt_main.o lib%s.a -lm -lpthread\n\n", nm, nm, nm, nm, nm);
  cg_str_printf(&mk, "%%.o: %%.c *.h\n\t$(CC) $(QFLAGS) $(CFLAGS) -c -o $@ $<\n\n");
  cg_str_printf(&mk, "clean:\n\trm -f *.o lib%s.a %s_main\n\n.PHONY: all clean\n", nm, nm);
  if (!o->blob_weights) weights_c(&w, cg, nm);

  bool ok = make_dir(o->outdir, cg->d);
  char fn[512];
  snprintf(fn, sizeof fn, "%s.h", nm);
  ok = ok && write_str(o->outdir, fn, h.s, h.n, cg->d);
  snprintf(fn, sizeof fn, "%s.c", nm);
  ok = ok && write_str(o->outdir, fn, c.s, c.n, cg->d);
  snprintf(fn, sizeof fn, "%s_main.c", nm);
  ok = ok && write_str(o->outdir, fn, drv.s, drv.n, cg->d);
  ok = ok && write_str(o->outdir, "Makefile", mk.s, mk.n, cg->d);
  if (o->blob_weights) {
    snprintf(fn, sizeof fn, "%s.weights", nm);
    ok = ok && write_str(o->outdir, fn, (const char *)cg->blob, (size_t)cg->blob_n, cg->d);
  } else {
    snprintf(fn, sizeof fn, "%s_weights.c", nm);
    ok = ok && write_str(o->outdir, fn, w.s, w.n, cg->d);
  }
  for (const CgRuntimeFile *f = cg_runtime_files; ok && f->name; f++)
    ok = write_str(o->outdir, f->name, (const char *)f->data, f->size, cg->d);
  free(h.s);
  free(c.s);
  free(mk.s);
  free(w.s);
  free(drv.s);
  free(up);
  return ok;
}

static bool valid_name(const char *s) {
  if (!s || !*s || (*s >= '0' && *s <= '9')) return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

bool cg_c_precheck(const IrModule *m, Diag *d) {
  const IrFunc *f = ir_module_find_func(m, "main");
  if (!f && m->nfuncs) f = m->funcs[0];
  if (!f) return true; /* cg_c_emit reports it */
  for (const IrOp *op = f->body->first; op; op = op->next)
    if (op->nregions > 0) {
      Cg cg = {.m = m, .f = f, .d = d};
      return cg_fail(&cg, op, "ops with subgraphs (If, Loop, Scan) are not compiled (quench-run runs the model)");
    }
  return true;
}

bool cg_c_emit(const IrModule *m, const CgOptions *o, Diag *d) {
  const IrFunc *f = ir_module_find_func(m, "main");
  if (!f && m->nfuncs) f = m->funcs[0];
  if (!f) {
    diag_report(d, DIAG_ERROR, diag_loc("quench compile", 0, 0), "the module has no function");
    return false;
  }
  if (!valid_name(o->name)) {
    diag_report(d, DIAG_ERROR, diag_loc("quench compile", 0, 0), "'%s' is not a C identifier (--name)", o->name);
    return false;
  }
  Cg cg = {.m = m, .f = f, .o = o, .d = d};
  int32_t cap = 0;
  for (const IrOp *op = f->body->first; op; op = op->next) cap++;
  cg.ops = xcalloc((size_t)(cap ? cap : 1), sizeof *cg.ops);
  cg.skip = xcalloc((size_t)(cap ? cap : 1), sizeof *cg.skip);
  const IrOp *ret = NULL;
  for (const IrOp *op = f->body->first; op; op = op->next) {
    if (op->kind == IR_OP_RETURN) ret = op;
    else if (op->kind != IR_OP_CONSTANT) cg.ops[cg.nops++] = op;
  }
  IrRegion *body = f->body;
  Io *in = xcalloc(body->nargs + 1, sizeof *in), *out = xcalloc((ret ? ret->noperands : 0) + 1, sizeof *out);
  int nin = (int)body->nargs, nout = ret ? (int)ret->noperands : 0;
  bool ok = true;
  for (int i = 0; i < nin; i++) {
    in[i] = (Io){body->args[i], body->args[i]->name ? body->args[i]->name : "input"};
    CgVal *e = cg_val_add(&cg, body->args[i]);
    e->loc = CG_LOC_INPUT;
    e->buf = i;
    if (!c_type(body->args[i]->type->elem) || !ir_type_is_static(body->args[i]->type)) {
      diag_report(d, DIAG_ERROR, diag_loc("quench compile", 0, 0),
                  "input '%s' is %s with %s shape: the C backend takes static f32/u8/i8/i32/i64/bool inputs",
                  in[i].name, ir_elem_name(body->args[i]->type->elem),
                  ir_type_is_static(body->args[i]->type) ? "a static" : "a non-static");
      ok = false;
    }
  }
  for (cg.step = 0; ok && cg.step < cg.nops; cg.step++) {
    if (cg.skip[cg.step]) continue;
    /* Each op in a block timed under -DQRT_PROFILE (runtime/qrt_prof.h);
     * ops that emit no code (aliases) get no block. */
    size_t mark = cg.code.n;
    cg_str_printf(&cg.code, "  {\n  QRT_PROF_BEGIN();\n");
    size_t start = cg.code.n;
    ok = cg_emit_op(&cg, cg.ops[cg.step]);
    if (cg.code.n == start) {
      cg.code.n = mark;
      cg.code.s[mark] = '\0';
    } else {
      const IrOp *op = cg.ops[cg.step];
      cg_str_printf(&cg.code, "  QRT_PROF_END(%d, \"", cg.step);
      for (const char *p = op->src_name ? op->src_name : "-"; *p; p++)
        cg_str_printf(&cg.code, *p == '"' || *p == '\\' ? "\\%c" : (*p < 32 || *p > 126) ? "?" : "%c", *p);
      cg_str_printf(&cg.code, " %s\");\n  }\n", ops_name(op->kind));
    }
  }
  cg.step = cg.nops;
  for (int i = 0; ok && i < nout; i++) {
    const IrValue *v = ir_op_operand(ret, (uint32_t)i);
    out[i] = (Io){v, v->name ? v->name : "output"};
    if (!c_type(v->type->elem) || !ir_type_is_static(v->type)) {
      diag_report(d, DIAG_ERROR, diag_loc("quench compile", 0, 0), "output '%s' is %s: not a C backend type",
                  out[i].name, ir_elem_name(v->type->elem));
      ok = false;
      break;
    }
    if (cg_const_of(v)) ok = cg_weight(&cg, v);
    cg_use(&cg, v);
    char p[64];
    cg_str_printf(&cg.code, "  memcpy(out%d, %s, %lld);\n", i, cg_ptr(&cg, v, p, sizeof p), (long long)cg_bytes(v));
  }
  if (ok) {
    cg_plan_arena(&cg);
    ok = write_all(&cg, in, nin, out, nout);
  }
  free(in);
  free(out);
  free_cg(&cg);
  return ok;
}
