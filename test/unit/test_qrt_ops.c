/* libquench_rt's non-GEMM kernels (runtime/qrt_ops.h) against the reference
 * interpreter, bit for bit: each case builds random inputs (with NaN, +-inf,
 * -0, rounding ties and saturating values), runs the interpreter's kernel for
 * the equivalent IR op and the runtime function, and memcmp's the results.
 * The interpreter is the specification here (the runtime must reproduce it,
 * docs/backends/runtime-ops.md). Plus the thread pool: every index covered
 * exactly once, chunks on grain boundaries, identical results for 1, 2 and 3
 * threads. The runtime sources are compiled into this test directly. */
#include "../../runtime/qrt_pool.c"
#include "../../runtime/qrt_elementwise.c"
#include "../../runtime/qrt_reduce.c"
#include "../../runtime/qrt_quant.c"
#include "../../runtime/qrt_pooling.c"
#include "qrt_path_skip.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <time.h>

#include "kernel_test.h"

/* ---- inputs ------------------------------------------------------------------ */

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}
static float unif(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() & 0xffffff) / 16777216.0f; }
static float bits_f(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

/* Which NaN payload a float addition of two NaNs returns is not defined by C
 * (the ISA returns one operand's; the compiler picks the operand order), so
 * inputs that are summed carry one NaN kind only (one_nan): one payload, and
 * no -inf, whose sum with +inf would make the default NaN. */
static int one_nan;

/* n floats in [-r, r], every 7th one special: NaN (two payloads, one with the
 * sign bit), +-inf, +-0, tiny, huge. */
static void fill_f32(float *v, int64_t n, float r) {
  static const uint32_t specials[] = {0x7fc00000u, 0xffc00123u, 0x7f800000u, 0xff800000u, 0x80000000u,
                                      0x00000000u, 0x00000001u, 0x7f7fffffu, 0xff7fffffu, 0x3f000000u};
  for (int64_t i = 0; i < n; i++) {
    uint32_t k = rnd();
    uint32_t sp = specials[(k >> 8) % 10];
    if (one_nan && sp == 0x7fc00000u)
      sp = 0xffc00123u;
    if (one_nan && sp == 0xff800000u)
      sp = 0x7f800000u; /* no inf - inf: it makes a second NaN */
    v[i] = k % 7 == 3 ? bits_f(sp) : unif(-r, r);
  }
}

static Tensor *tens(IrElem e, int32_t rank, const int64_t *dims, const void *data) {
  Tensor *t = tensor_new(e, rank, dims);
  if (t->nbytes)
    memcpy(t->data, data, t->nbytes);
  return t;
}

/* Runs the op and compares result 0 with want (nbytes) byte for byte. */
static void check_same(const char *what, const char *sig, const char *body, Tensor **in, int nin, const void *want,
                       size_t nbytes, size_t esize) {
  KtRun r = kt_run(sig, body, in);
  if (!r.ok)
    fail_msg("%s: interpreter failed: %s", what, r.err);
  if (r.out[0]->nbytes != nbytes)
    fail_msg("%s: interpreter gave %zu bytes, runtime %zu", what, (size_t)r.out[0]->nbytes, nbytes);
  if (nbytes && memcmp(r.out[0]->data, want, nbytes) != 0) {
    size_t i = 0;
    while (((const char *)r.out[0]->data)[i] == ((const char *)want)[i])
      i++;
    size_t e = i / esize;
    uint64_t gi = 0, gr = 0;
    memcpy(&gi, (const char *)r.out[0]->data + e * esize, esize);
    memcpy(&gr, (const char *)want + e * esize, esize);
    fail_msg("%s: element %zu differs: interpreter 0x%llx, runtime 0x%llx", what, e, (unsigned long long)gi,
             (unsigned long long)gr);
  }
  kt_free(&r);
  for (int i = 0; i < nin; i++)
    tensor_free(in[i]);
}

/* ---- unary ------------------------------------------------------------------- */

typedef struct UnCase {
  int op;
  const char *name, *attrs;
  float a, b, range;
} UnCase;

static const UnCase UN_CASES[] = {
    {QRT_RELU, "Relu", "", 0, 0, 10},
    {QRT_SIGMOID, "Sigmoid", "", 0, 0, 30},
    {QRT_HARDSIGMOID, "HardSigmoid", "alpha = 0.166666672, beta = 0.5", 0.166666672f, 0.5f, 10},
    {QRT_HARDSWISH, "HardSwish", "", 0, 0, 10},
    {QRT_TANH, "Tanh", "", 0, 0, 10},
    {QRT_GELU, "Gelu", "", 0, 0, 8},
    {QRT_GELU_TANH, "Gelu", "approximate = \"tanh\"", 0, 0, 8},
    {QRT_EXP, "Exp", "", 0, 0, 100},
    {QRT_LOG, "Log", "", 0, 0, 100},
    {QRT_SQRT, "Sqrt", "", 0, 0, 100},
    {QRT_RECIPROCAL, "Reciprocal", "", 0, 0, 10},
    {QRT_NEG, "Neg", "", 0, 0, 10},
    {QRT_ABS, "Abs", "", 0, 0, 10},
    {QRT_ERF, "Erf", "", 0, 0, 4},
    {QRT_LEAKYRELU, "LeakyRelu", "alpha = 0.100000001", 0.100000001f, 0, 10},
    {QRT_SOFTPLUS, "Softplus", "", 0, 0, 100},
    {QRT_ELU, "Elu", "alpha = 0.699999988", 0.699999988f, 0, 10},
};

static void test_unary(void **state) {
  (void)state;
  enum { N = 4099 };
  static float x[N], y[N], ym[N];
  qrt_pool *pool = qrt_pool_create(3);
  assert_non_null(pool);
  for (size_t c = 0; c < sizeof UN_CASES / sizeof *UN_CASES; c++) {
    const UnCase *u = &UN_CASES[c];
    fill_f32(x, N, u->range);
    qrt_unary_f32(u->op, u->a, u->b, x, y, N);
    qrt_unary_f32_mt(pool, u->op, u->a, u->b, x, ym, N);
    assert_memory_equal(y, ym, sizeof y);
    char body[256];
    snprintf(body, sizeof body, "%%y = %s(%%x)%s%s%s : tensor<*xf32>\nreturn %%y", u->name, *u->attrs ? " {" : "",
             u->attrs, *u->attrs ? "}" : "");
    int64_t d = N;
    Tensor *in[1] = {tens(IR_ELEM_F32, 1, &d, x)};
    check_same(u->name, "%x: tensor<*xf32>", body, in, 1, y, sizeof y, 4);
    /* in place */
    qrt_unary_f32(u->op, u->a, u->b, x, x, N);
    assert_memory_equal(x, y, sizeof y);
  }
  qrt_pool_destroy(pool);
}

/* Clip with min/max operands, crossed bounds included (min > max gives max). */
static void test_clip(void **state) {
  (void)state;
  enum { N = 999 };
  static float x[N], y[N];
  const float bounds[3][2] = {{-1.5f, 2.25f}, {-INFINITY, 0.0f}, {3.0f, -3.0f}};
  for (int c = 0; c < 3; c++) {
    fill_f32(x, N, 5);
    qrt_unary_f32(QRT_CLIP, bounds[c][0], bounds[c][1], x, y, N);
    int64_t d = N, one = 1;
    Tensor *in[3] = {tens(IR_ELEM_F32, 1, &d, x), tens(IR_ELEM_F32, 1, &one, &bounds[c][0]),
                     tens(IR_ELEM_F32, 1, &one, &bounds[c][1])};
    check_same("Clip", "%x: tensor<*xf32>, %lo: tensor<*xf32>, %hi: tensor<*xf32>",
               "%y = Clip(%x, %lo, %hi) : tensor<*xf32>\nreturn %y", in, 3, y, sizeof y, 4);
  }
}

/* ---- binary ------------------------------------------------------------------ */

static const struct {
  int op;
  const char *name;
} BIN_OPS[] = {{QRT_ADD, "Add"},
               {QRT_SUB, "Sub"},
               {QRT_MUL, "Mul"},
               {QRT_DIV, "Div"},
               {QRT_MAX, "Max"},
               {QRT_MIN, "Min"},
               {QRT_POW, "Pow"},
               {QRT_EQUAL, "Equal"},
               {QRT_LESS, "Less"},
               {QRT_GREATER, "Greater"},
               {QRT_LESS_EQUAL, "LessOrEqual"},
               {QRT_GREATER_EQUAL, "GreaterOrEqual"},
               {QRT_AND, "And"},
               {QRT_OR, "Or"}};

static const char *ir_ty(qrt_elem e) {
  static const char *names[] = {"f32", "u8", "i8", "i32", "i64", "bool"};
  return names[e];
}
static IrElem ir_el(qrt_elem e) {
  static const IrElem els[] = {IR_ELEM_F32, IR_ELEM_U8, IR_ELEM_I8, IR_ELEM_I32, IR_ELEM_I64, IR_ELEM_BOOL};
  return els[e];
}

/* n random values of type e; nonzero: no zeros (divisors). */
static void fill_any(qrt_elem e, void *p, int64_t n, int nonzero) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t k = rnd();
    switch (e) {
    case QRT_F32: fill_f32((float *)p + i, 1, 8); break;
    case QRT_U8: ((uint8_t *)p)[i] = (uint8_t)(k % 5 == 0 ? k >> 8 : k % 7); break;
    case QRT_S8: ((int8_t *)p)[i] = (int8_t)(k % 5 == 0 ? (int)(k >> 8) : (int)(k % 9) - 4); break;
    case QRT_I32:
      ((int32_t *)p)[i] = k % 5 == 0 ? (int32_t)(rnd() | (k << 31)) : k % 11 == 1 ? INT32_MIN : (int32_t)(k % 13) - 6;
      break;
    case QRT_I64:
      ((int64_t *)p)[i] = k % 5 == 0    ? (int64_t)(((uint64_t)rnd() << 40) ^ rnd()) * (k & 1 ? -1 : 1)
                          : k % 11 == 1 ? INT64_MIN
                                        : (int64_t)(k % 13) - 6;
      break;
    case QRT_BOOL: ((uint8_t *)p)[i] = (uint8_t)(k % 3); break; /* 2: read as its low bit */
    }
    if (nonzero && e != QRT_F32 && e != QRT_BOOL) {
      int64_t z = 0;
      memcpy(&z, (char *)p + (size_t)i * qrt_elem_size(e), qrt_elem_size(e));
      if (z == 0)
        memset((char *)p + (size_t)i * qrt_elem_size(e), 3, 1);
    }
    if (nonzero && e != QRT_F32 && e != QRT_BOOL && rnd() % 9 == 0) { /* INT_MIN / -1 */
      if (e == QRT_I32)
        ((int32_t *)p)[i] = -1;
      if (e == QRT_I64)
        ((int64_t *)p)[i] = -1;
      if (e == QRT_S8)
        ((int8_t *)p)[i] = -1;
    }
  }
}

/* Broadcast strides of shape (r, d) read as (yr, yd), right-aligned. */
static void bstrides(int32_t r, const int64_t *d, int32_t yr, const int64_t *yd, int64_t *st) {
  int64_t s = 1;
  for (int32_t i = yr - 1; i >= 0; i--) {
    int32_t j = i - (yr - r);
    st[i] = j < 0 || d[j] == 1 ? 0 : s;
    if (j >= 0)
      s *= d[j];
    (void)yd;
  }
}

static void test_binary(void **state) {
  (void)state;
  static const struct {
    int32_t ar, br;
    int64_t ad[3], bd[3];
  } shapes[] = {{3, 3, {2, 3, 5}, {2, 3, 5}}, {3, 1, {2, 3, 5}, {5}}, {1, 3, {1}, {2, 3, 5}},
                {3, 2, {2, 1, 5}, {3, 1}},    {0, 3, {0}, {2, 3, 5}}, {2, 2, {4, 33}, {4, 1}}};
  static const qrt_elem elems[] = {QRT_F32, QRT_I32, QRT_I64, QRT_U8, QRT_S8, QRT_BOOL};
  static unsigned char a[2048], b[2048], y[2048];
  for (size_t ei = 0; ei < sizeof elems / sizeof *elems; ei++) {
    qrt_elem e = elems[ei];
    for (size_t oi = 0; oi < sizeof BIN_OPS / sizeof *BIN_OPS; oi++) {
      int op = BIN_OPS[oi].op;
      int logic = op == QRT_AND || op == QRT_OR;
      if (e == QRT_BOOL ? !logic && op != QRT_EQUAL : logic)
        continue; /* And/Or take bool only */
      for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int32_t yr = 0;
        int64_t yd[3], sa[3], sb[3], na = 1, nb = 1, ny = 1;
        yr = shapes[si].ar > shapes[si].br ? shapes[si].ar : shapes[si].br;
        for (int32_t i = 0; i < yr; i++) {
          int32_t ja = i - (yr - shapes[si].ar), jb = i - (yr - shapes[si].br);
          int64_t da = ja < 0 ? 1 : shapes[si].ad[ja], db = jb < 0 ? 1 : shapes[si].bd[jb];
          yd[i] = da > db ? da : db;
          ny *= yd[i];
        }
        for (int32_t i = 0; i < shapes[si].ar; i++)
          na *= shapes[si].ad[i];
        for (int32_t i = 0; i < shapes[si].br; i++)
          nb *= shapes[si].bd[i];
        bstrides(shapes[si].ar, shapes[si].ad, yr, yd, sa);
        bstrides(shapes[si].br, shapes[si].bd, yr, yd, sb);
        one_nan = op <= QRT_DIV; /* + - * /: the operands' order is the compiler's */
        fill_any(e, a, na, 0);
        fill_any(e, b, nb, op == QRT_DIV);
        one_nan = 0;
        if (op == QRT_POW && e != QRT_F32)
          for (int64_t i = 0; i < nb; i++) { /* small exponents: the loop and the values stay readable */
            int64_t v = (int64_t)(rnd() % 9) - 2;
            store_int(e, b, i, v);
          }
        qrt_binary(op, e, yr, yd, a, sa, b, sb, y);
        char sig[128], body[160];
        snprintf(sig, sizeof sig, "%%a: tensor<*x%s>, %%b: tensor<*x%s>", ir_ty(e), ir_ty(e));
        int cmp = op >= QRT_EQUAL;
        snprintf(body, sizeof body, "%%y = %s(%%a, %%b) : tensor<*x%s>\nreturn %%y", BIN_OPS[oi].name,
                 cmp ? "bool" : ir_ty(e));
        Tensor *in[2] = {tens(ir_el(e), shapes[si].ar, shapes[si].ad, a),
                         tens(ir_el(e), shapes[si].br, shapes[si].bd, b)};
        char what[96];
        snprintf(what, sizeof what, "%s %s shape #%zu", BIN_OPS[oi].name, ir_ty(e), si);
        size_t es = cmp ? 1 : qrt_elem_size(e);
        check_same(what, sig, body, in, 2, y, (size_t)ny * es, es);
      }
    }
  }
}

/* qrt_binary_mt: many rows, and one long row, against the interpreter and
 * the serial kernel, for 1, 2 and 3 threads. */
static void test_binary_mt(void **state) {
  (void)state;
  enum { R = 300, C = 257, L = 70001 };
  static float a[R * C], b[L], y[R * C], ys[R * C];
  qrt_pool *pools[3] = {qrt_pool_create(1), qrt_pool_create(2), qrt_pool_create(3)};
  one_nan = 1;
  fill_f32(a, R * C, 10);
  fill_f32(b, L, 10);
  one_nan = 0;
  int64_t d2[2] = {R, C}, sa2[2] = {C, 1}, sb2[2] = {0, 1}, bd = C;
  int64_t d1[1] = {L}, sa1[1] = {1}, sb1[1] = {0}, ld = L;
  qrt_binary(QRT_MUL, QRT_F32, 2, d2, a, sa2, b, sb2, ys);
  for (int t = 0; t < 3; t++) {
    qrt_binary_mt(pools[t], QRT_MUL, QRT_F32, 2, d2, a, sa2, b, sb2, y);
    assert_memory_equal(y, ys, sizeof(float) * R * C);
  }
  Tensor *in[2] = {tens(IR_ELEM_F32, 2, d2, a), tens(IR_ELEM_F32, 1, &bd, b)};
  check_same("Mul rows", "%a: tensor<*xf32>, %b: tensor<*xf32>", "%y = Mul(%a, %b) : tensor<*xf32>\nreturn %y", in, 2,
             y, sizeof(float) * R * C, 4);
  qrt_binary(QRT_GREATER, QRT_F32, 1, d1, b, sa1, a, sb1, ys);
  for (int t = 0; t < 3; t++) {
    qrt_binary_mt(pools[t], QRT_GREATER, QRT_F32, 1, d1, b, sa1, a, sb1, y);
    assert_memory_equal(y, ys, L);
  }
  Tensor *in2[2] = {tens(IR_ELEM_F32, 1, &ld, b), tens(IR_ELEM_F32, 0, NULL, a)};
  check_same("Greater row", "%a: tensor<*xf32>, %b: tensor<*xf32>", "%y = Greater(%a, %b) : tensor<*xbool>\nreturn %y",
             in2, 2, y, L, 1);
  for (int t = 0; t < 3; t++)
    qrt_pool_destroy(pools[t]);
}

/* ---- strided copies ------------------------------------------------------------ */

static void test_copy_strided(void **state) {
  (void)state;
  static const qrt_elem elems[] = {QRT_U8, QRT_F32, QRT_I64};
  static unsigned char x[8 * 60], y[8 * 60];
  int64_t xd[3] = {3, 4, 5};
  for (size_t ei = 0; ei < 3; ei++) {
    qrt_elem e = elems[ei];
    size_t es = qrt_elem_size(e);
    fill_any(e, x, 60, 0);
    /* Transpose perm [2, 0, 1]: y[k][i][j] = x[i][j][k] */
    int64_t td[3] = {5, 3, 4}, ts[3] = {1, 20, 5};
    qrt_copy_strided(es, 3, td, x, ts, y);
    char sig[64], body[128];
    snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty(e));
    snprintf(body, sizeof body, "%%y = Transpose(%%x) {perm = [2, 0, 1]} : tensor<*x%s>\nreturn %%y", ir_ty(e));
    Tensor *in[1] = {tens(ir_el(e), 3, xd, x)};
    check_same("Transpose", sig, body, in, 1, y, 60 * es, es);
    /* Slice axis 2 from 4 down to 0 step -2, axis 0 from 1: y[i][j][k] = x[1 + i][j][4 - 2k] */
    int64_t sd[3] = {2, 4, 3}, ss[3] = {20, 5, -2};
    qrt_copy_strided(es, 3, sd, x + (20 + 4) * es, ss, y);
    int64_t s4 = 2;
    int64_t st[2] = {1, 4}, en[2] = {3, -100}, ax[2] = {0, 2}, sp[2] = {1, -2};
    Tensor *sin[5] = {tens(ir_el(e), 3, xd, x), tens(IR_ELEM_I64, 1, &s4, st), tens(IR_ELEM_I64, 1, &s4, en),
                      tens(IR_ELEM_I64, 1, &s4, ax), tens(IR_ELEM_I64, 1, &s4, sp)};
    char ssig[160], sbody[160];
    snprintf(ssig, sizeof ssig,
             "%%x: tensor<*x%s>, %%s: tensor<*xi64>, %%e: tensor<*xi64>, %%a: tensor<*xi64>, %%p: tensor<*xi64>",
             ir_ty(e));
    snprintf(sbody, sizeof sbody, "%%y = Slice(%%x, %%s, %%e, %%a, %%p) : tensor<*x%s>\nreturn %%y", ir_ty(e));
    check_same("Slice", ssig, sbody, sin, 5, y, 24 * es, es);
  }
  /* A 2-d transpose big enough for the tiled copy (sizes not multiples of
   * its 32-element tiles). */
  static unsigned char bx[8 * 70 * 45], by[8 * 70 * 45];
  int64_t bd[2] = {70, 45};
  for (size_t ei = 0; ei < 3; ei++) {
    qrt_elem e = elems[ei];
    size_t es = qrt_elem_size(e);
    fill_any(e, bx, 70 * 45, 0);
    int64_t td[2] = {45, 70}, ts[2] = {1, 45};
    qrt_copy_strided(es, 2, td, bx, ts, by);
    char sig[64], body[128];
    snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty(e));
    snprintf(body, sizeof body, "%%y = Transpose(%%x) {perm = [1, 0]} : tensor<*x%s>\nreturn %%y", ir_ty(e));
    Tensor *in[1] = {tens(ir_el(e), 2, bd, bx)};
    check_same("Transpose 70x45", sig, body, in, 1, by, 70 * 45 * es, es);
  }
  /* rank 0: one element */
  float one = 3.5f, out = 0;
  qrt_copy_strided(4, 0, NULL, &one, NULL, &out);
  assert_true(out == 3.5f);
}

/* ---- Cast -------------------------------------------------------------------- */

static void test_cast(void **state) {
  (void)state;
  enum { N = 300 };
  static unsigned char x[8 * N], y[8 * N];
  static const int onnx_code[] = {1, 2, 3, 6, 7, 9};
  for (int from = QRT_F32; from <= QRT_BOOL; from++)
    for (int to = QRT_F32; to <= QRT_BOOL; to++) {
      fill_any((qrt_elem)from, x, N, 0);
      if (from == QRT_F32) { /* values that wrap, saturate and truncate */
        static const float wide[] = {3e9f,    -3e9f,         1e20f,          -1e20f,  255.5f,   256.0f, -128.7f,
                                     -129.0f, 2147483648.0f, -2147483904.0f, 9.3e18f, -9.3e18f, 0.99f,  -0.99f};
        for (int i = 0; i < N; i += 3)
          ((float *)x)[i] = wide[(i / 3) % 14] * (i % 2 ? 1.0f : unif(0.5f, 1.5f));
      }
      qrt_cast((qrt_elem)from, (qrt_elem)to, x, y, N);
      char sig[64], body[128], what[64];
      snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty((qrt_elem)from));
      snprintf(body, sizeof body, "%%y = Cast(%%x) {to = %d} : tensor<*x%s>\nreturn %%y", onnx_code[to],
               ir_ty((qrt_elem)to));
      snprintf(what, sizeof what, "Cast %s -> %s", ir_ty((qrt_elem)from), ir_ty((qrt_elem)to));
      int64_t d = N;
      Tensor *in[1] = {tens(ir_el((qrt_elem)from), 1, &d, x)};
      size_t es = qrt_elem_size((qrt_elem)to);
      check_same(what, sig, body, in, 1, y, N * es, es);
    }
}

/* ---- reductions -------------------------------------------------------------- */

static void test_reduce(void **state) {
  (void)state;
  static const struct {
    int op;
    const char *name;
  } ops[] = {{QRT_RSUM, "ReduceSum"},
             {QRT_RMEAN, "ReduceMean"},
             {QRT_RMAX, "ReduceMax"},
             {QRT_RMIN, "ReduceMin"},
             {QRT_RSUMSQ, "ReduceSumSquare"}};
  static const int64_t shapes[][3] = {{3, 50, 1}, {2, 7, 300}, {1, 1, 5}, {4, 3, 2}, {2, 0, 3}, {1, 1000, 1}};
  static float x[8000], y[1000], yb[1000], y3[1000];
  qrt_pool *p2 = qrt_pool_create(2), *p3 = qrt_pool_create(3);
  for (size_t oi = 0; oi < 5; oi++)
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
      int64_t o = shapes[si][0], r = shapes[si][1], in_ = shapes[si][2];
      int clean = si == 5; /* one case without specials: a meaningful sum */
      one_nan = ops[oi].op != QRT_RMAX && ops[oi].op != QRT_RMIN;
      fill_f32(x, o * r * in_, clean ? 1000.0f : 10.0f);
      one_nan = 0;
      if (clean)
        for (int64_t i = 0; i < o * r * in_; i++)
          x[i] = unif(-1000, 1000);
      qrt_reduce_f32(ops[oi].op, x, y, o, r, in_);
      qrt_reduce_f32_mt(p2, ops[oi].op, x, yb, o, r, in_);
      qrt_reduce_f32_mt(p3, ops[oi].op, x, y3, o, r, in_);
      assert_memory_equal(y, yb, (size_t)(o * in_) * 4);
      assert_memory_equal(y, y3, (size_t)(o * in_) * 4);
      char body[160];
      snprintf(body, sizeof body, "%%y = %s(%%x) {axes = [1], keepdims = 0} : tensor<*xf32>\nreturn %%y", ops[oi].name);
      Tensor *in[1] = {tens(IR_ELEM_F32, 3, shapes[si], x)};
      check_same(ops[oi].name, "%x: tensor<*xf32>", body, in, 1, y, (size_t)(o * in_) * 4, 4);
    }
  /* GlobalAveragePool / GlobalMaxPool: [N, C, H, W] */
  int64_t gd[4] = {2, 3, 5, 7};
  for (int k = 0; k < 2; k++) {
    one_nan = k == 0;
    fill_f32(x, 210, 10);
    one_nan = 0;
    qrt_reduce_f32(k ? QRT_GLOBAL_MAX : QRT_GLOBAL_AVG, x, y, 6, 35, 1);
    qrt_reduce_f32_mt(p3, k ? QRT_GLOBAL_MAX : QRT_GLOBAL_AVG, x, y3, 6, 35, 1);
    assert_memory_equal(y, y3, 24);
    Tensor *in[1] = {tens(IR_ELEM_F32, 4, gd, x)};
    check_same(k ? "GlobalMaxPool" : "GlobalAveragePool", "%x: tensor<*xf32>",
               k ? "%y = GlobalMaxPool(%x) : tensor<*xf32>\nreturn %y"
                 : "%y = GlobalAveragePool(%x) : tensor<*xf32>\nreturn %y",
               in, 1, y, 24, 4);
  }
  qrt_pool_destroy(p2);
  qrt_pool_destroy(p3);
}

/* ReduceMax and GlobalMaxPool over rows long enough for the AVX-512 row
 * max (runtime/qrt_reduce.c row_max512), against the interpreter: plain
 * rows, rows with NaNs (one or two, anywhere), rows whose max is +0 or -0
 * (the first zero wins in the fold), all -inf, lengths off 16. */
static void test_reduce_rows(void **state) {
  (void)state;
  enum { R = 8, N = 53 };
  static float x[R * N], y[R];
  for (int k = 0; k < 2; k++) {
    for (int r = 0; r < R; r++)
      for (int i = 0; i < N; i++) x[r * N + i] = unif(-100, 100);
    x[1 * N + 7] = bits_f(0x7fc00001u);
    x[2 * N + 3] = bits_f(0x7fc00003u), x[2 * N + 50] = bits_f(0x7fc00004u);
    for (int i = 0; i < N; i++) x[3 * N + i] = -unif(1, 5), x[4 * N + i] = -unif(1, 5), x[5 * N + i] = -INFINITY;
    /* max 0, both zeros in one vector lane (vmaxps keeps the second):
     * -0 first, then +0 first */
    x[3 * N + 5] = -0.0f, x[3 * N + 21] = 0.0f;
    x[4 * N + 5] = 0.0f, x[4 * N + 21] = -0.0f;
    x[6 * N + 52] = 1e30f;                       /* the max in the tail */
    qrt_reduce_f32(k ? QRT_GLOBAL_MAX : QRT_RMAX, x, y, R, N, 1);
    int64_t xd[4] = {1, R, N, 1};
    Tensor *in[1] = {tens(IR_ELEM_F32, 4, xd, x)};
    check_same(k ? "GlobalMaxPool" : "ReduceMax", "%x: tensor<*xf32>",
               k ? "%y = GlobalMaxPool(%x) : tensor<*xf32>\nreturn %y"
                 : "%y = ReduceMax(%x) {axes = [2, 3], keepdims = 1} : tensor<*xf32>\nreturn %y",
               in, 1, y, sizeof y, 4);
  }
}

/* ReduceMax keeps the last NaN, GlobalMaxPool the first: by hand. */
static void test_reduce_nan_order(void **state) {
  (void)state;
  float x[4] = {1.0f, bits_f(0x7fc00001u), 2.0f, bits_f(0x7fc00002u)}, y;
  uint32_t b;
  qrt_reduce_f32(QRT_RMAX, x, &y, 1, 4, 1);
  memcpy(&b, &y, 4);
  assert_int_equal(b, 0x7fc00002u);
  qrt_reduce_f32(QRT_GLOBAL_MAX, x, &y, 1, 4, 1);
  memcpy(&b, &y, 4);
  assert_int_equal(b, 0x7fc00001u);
  qrt_reduce_f32(QRT_RMEAN, x, &y, 1, 0, 1); /* empty mean: NaN */
  assert_true(y != y);
}

/* ---- Softmax, LayerNormalization ------------------------------------------------ */

static void test_softmax(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {{5, 17, 1}, {2, 9, 300}, {1, 1, 1}, {3, 4, 2}, {64, 100, 1}};
  static float x[6400], y[6400], y3[6400];
  qrt_pool *p3 = qrt_pool_create(3);
  for (int lg = 0; lg < 2; lg++)
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
      int64_t o = shapes[si][0], n = shapes[si][1], in_ = shapes[si][2], tot = o * n * in_;
      for (int64_t i = 0; i < tot; i++)
        x[i] = unif(-20, 20);
      one_nan = 1;
      if (si == 1 || si == 3)
        fill_f32(x, tot, 20); /* specials in some */
      one_nan = 0;
      qrt_softmax_f32(lg, x, y, o, n, in_);
      qrt_softmax_f32_mt(p3, lg, x, y3, o, n, in_);
      assert_memory_equal(y, y3, (size_t)tot * 4);
      const char *body = lg ? "%y = LogSoftmax(%x) {axis = 1} : tensor<*xf32>\nreturn %y"
                            : "%y = Softmax(%x) {axis = 1} : tensor<*xf32>\nreturn %y";
      Tensor *in[1] = {tens(IR_ELEM_F32, 3, shapes[si], x)};
      check_same(lg ? "LogSoftmax" : "Softmax", "%x: tensor<*xf32>", body, in, 1, y, (size_t)tot * 4, 4);
    }
  qrt_pool_destroy(p3);
}

static void test_layernorm(void **state) {
  (void)state;
  static const int64_t shapes[][2] = {{4, 37}, {1, 768}, {9, 1}, {33, 64}};
  static float x[4096], g[1024], b[1024], y[4096], y3[4096];
  qrt_pool *p3 = qrt_pool_create(3);
  for (int hb = 0; hb < 2; hb++)
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
      int64_t rows = shapes[si][0], n = shapes[si][1];
      for (int64_t i = 0; i < rows * n; i++)
        x[i] = unif(-3, 5);
      one_nan = 1;
      if (si == 0)
        fill_f32(x, n, 3); /* a row with specials */
      one_nan = 0;
      for (int64_t i = 0; i < n; i++)
        g[i] = unif(-2, 2), b[i] = unif(-1, 1);
      float eps = 1e-5f;
      qrt_layernorm_f32(x, g, hb ? b : NULL, eps, y, rows, n);
      qrt_layernorm_f32_mt(p3, x, g, hb ? b : NULL, eps, y3, rows, n);
      assert_memory_equal(y, y3, (size_t)(rows * n) * 4);
      Tensor *in[3] = {tens(IR_ELEM_F32, 2, shapes[si], x), tens(IR_ELEM_F32, 1, &n, g),
                       hb ? tens(IR_ELEM_F32, 1, &n, b) : NULL};
      check_same(
          "LayerNormalization", "%x: tensor<*xf32>, %g: tensor<*xf32>, %b: tensor<*xf32>",
          hb ? "%y = LayerNormalization(%x, %g, %b) {axis = -1, epsilon = 9.99999975e-06} : tensor<*xf32>\nreturn %y"
             : "%y = LayerNormalization(%x, %g) {axis = -1, epsilon = 9.99999975e-06} : tensor<*xf32>\nreturn %y",
          in, hb ? 3 : 2, y, (size_t)(rows * n) * 4, 4);
    }
  qrt_pool_destroy(p3);
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------------------ */

static void test_quantize(void **state) {
  (void)state;
  static float x[2000], s[8];
  static int32_t z[8];
  static uint8_t y[2000], zb[8];
  static const int64_t views[][3] = {{1, 1, 1999}, {3, 5, 40}, {50, 7, 1}, {1999, 1, 1}};
  for (int sg = 0; sg < 2; sg++)
    for (size_t vi = 0; vi < 4; vi++)
      for (int hz = 0; hz < 2; hz++) {
        int64_t o = views[vi][0], ch = views[vi][1], in_ = views[vi][2], n = o * ch * in_;
        for (int64_t c = 0; c < ch; c++) {
          s[c] = unif(0.001f, 0.2f);
          z[c] = hz ? (int32_t)(rnd() % 256) - (sg ? 128 : 0) : 0;
          zb[c] = (uint8_t)z[c];
        }
        for (int64_t i = 0; i < n; i++) {
          int64_t c = i / in_ % ch;
          uint32_t k = rnd() % 4;
          /* ties at .5 steps, saturating values, plain values */
          x[i] = k == 0   ? ((float)(int)(rnd() % 400) - 200.0f + 0.5f) * s[c]
                 : k == 1 ? unif(-1e6f, 1e6f)
                          : unif(-30, 30);
        }
        fill_f32(x, n / 5, 10);
        qrt_quantize_f32(x, y, sg ? QRT_S8 : QRT_U8, s, hz ? z : NULL, o, ch, in_);
        int64_t xd[3] = {o, ch, in_};
        char body[160];
        snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s%s) {axis = 1} : tensor<*x%s>\nreturn %%y",
                 hz ? ", %z" : "", sg ? "i8" : "u8");
        char sig[128];
        snprintf(sig, sizeof sig, "%%x: tensor<*xf32>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", sg ? "i8" : "u8");
        Tensor *in[3] = {tens(IR_ELEM_F32, 3, xd, x),
                         ch == 1 ? tens(IR_ELEM_F32, 0, NULL, s) : tens(IR_ELEM_F32, 1, &ch, s),
                         hz ? (ch == 1 ? tens(sg ? IR_ELEM_I8 : IR_ELEM_U8, 0, NULL, zb)
                                       : tens(sg ? IR_ELEM_I8 : IR_ELEM_U8, 1, &ch, zb))
                            : NULL};
        check_same("QuantizeLinear", sig, body, in, hz ? 3 : 2, y, (size_t)n, 1);
      }
}

static void test_dequantize(void **state) {
  (void)state;
  static int32_t xq[2000], z[8];
  static float s[8], y[2000];
  static uint8_t zb[32];
  static const qrt_elem elems[] = {QRT_U8, QRT_S8, QRT_I32};
  static const int64_t views[][3] = {{1, 1, 1999}, {3, 5, 40}, {50, 7, 1}, {1999, 1, 1}};
  for (size_t ei = 0; ei < 3; ei++)
    for (size_t vi = 0; vi < 4; vi++) {
      qrt_elem e = elems[ei];
      int64_t o = views[vi][0], ch = views[vi][1], in_ = views[vi][2], n = o * ch * in_;
      fill_any(e, xq, n, 0);
      for (int64_t c = 0; c < ch; c++) {
        s[c] = unif(1e-4f, 3.0f);
        z[c] = e == QRT_U8 ? (int32_t)(rnd() % 256) : e == QRT_S8 ? (int32_t)(rnd() % 256) - 128 : (int32_t)rnd();
        store_int(e, zb, c, z[c]);
      }
      qrt_dequantize(xq, e, y, s, z, o, ch, in_);
      int64_t xd[3] = {o, ch, in_};
      char sig[128];
      snprintf(sig, sizeof sig, "%%x: tensor<*x%s>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", ir_ty(e), ir_ty(e));
      Tensor *in[3] = {tens(ir_el(e), 3, xd, xq),
                       ch == 1 ? tens(IR_ELEM_F32, 0, NULL, s) : tens(IR_ELEM_F32, 1, &ch, s),
                       ch == 1 ? tens(ir_el(e), 0, NULL, zb) : tens(ir_el(e), 1, &ch, zb)};
      check_same("DequantizeLinear", sig, "%y = DequantizeLinear(%x, %s, %z) {axis = 1} : tensor<*xf32>\nreturn %y", in,
                 3, y, (size_t)n * 4, 4);
    }
}

/* The quant _mt variants give the serial kernels' bytes (which the tests
 * above hold to the interpreter) for 2 and 3 threads, on views big enough to
 * split by elements (per tensor), by outer rows and by channels. */
/* qrt_dq_mul_q_mt (DequantizeLinear -> Mul by a per-row gate ->
 * QuantizeLinear in one pass) against the interpreter running the three
 * ops, for u8/s8 in and out, rows longer than its 1024-float block, gates
 * of either sign (zero and ties at half steps included), 1 and 3 threads. */
static void test_dq_mul_q(void **state) {
  (void)state;
  enum { C = 6, HW = 1500 };
  static uint8_t x[C * HW], y[C * HW], y3[C * HW];
  static float g[C];
  qrt_pool *p3 = qrt_pool_create(3);
  for (int xs = 0; xs < 2; xs++)
    for (int ys = 0; ys < 2; ys++) {
      for (int i = 0; i < C * HW; i++) x[i] = (uint8_t)rnd();
      for (int c = 0; c < C; c++) g[c] = c == 0 ? 0.0f : c == 1 ? 1.0f : unif(-2.0f, 2.0f);
      float sx = 0.0332107842f, sy = 0.0123f;
      int32_t zx = xs ? -5 : 118, zy = ys ? 3 : 131;
      uint8_t zxb = (uint8_t)zx, zyb = (uint8_t)zy;
      qrt_elem xe = xs ? QRT_S8 : QRT_U8, ye = ys ? QRT_S8 : QRT_U8;
      qrt_dq_mul_q_mt(NULL, x, xe, sx, zx, g, y, ye, sy, zy, C, HW);
      qrt_dq_mul_q_mt(p3, x, xe, sx, zx, g, y3, ye, sy, zy, C, HW);
      assert_memory_equal(y, y3, sizeof y);
      int64_t xd[4] = {1, C, 30, 50}, gd[4] = {1, C, 1, 1};
      const char *xt = xs ? "i8" : "u8", *yt = ys ? "i8" : "u8";
      char body[200], sig[200];
      /* the interpreter one op at a time: DequantizeLinear, Mul, then QuantizeLinear compared */
      snprintf(sig, sizeof sig, "%%x: tensor<*x%s>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", xt, xt);
      Tensor *in1[3] = {tens(xs ? IR_ELEM_I8 : IR_ELEM_U8, 4, xd, x), tens(IR_ELEM_F32, 0, NULL, &sx),
                        tens(xs ? IR_ELEM_I8 : IR_ELEM_U8, 0, NULL, &zxb)};
      KtRun r1 = kt_run(sig, "%d = DequantizeLinear(%x, %s, %z) : tensor<*xf32>\nreturn %d", in1);
      if (!r1.ok) fail_msg("%s", r1.err);
      Tensor *in2[2] = {r1.out[0], tens(IR_ELEM_F32, 4, gd, g)};
      KtRun r2 = kt_run("%a: tensor<*xf32>, %b: tensor<*xf32>", "%m = Mul(%a, %b) : tensor<*xf32>\nreturn %m", in2);
      if (!r2.ok) fail_msg("%s", r2.err);
      snprintf(sig, sizeof sig, "%%x: tensor<*xf32>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", yt);
      snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s, %%z) : tensor<*x%s>\nreturn %%y", yt);
      Tensor *in3[3] = {r2.out[0], tens(IR_ELEM_F32, 0, NULL, &sy), tens(ys ? IR_ELEM_I8 : IR_ELEM_U8, 0, NULL, &zyb)};
      check_same("DequantizeLinear-Mul-QuantizeLinear", sig, body, in3, 3, y, sizeof y, 1); /* frees in3 */
      for (int i = 0; i < 3; i++) tensor_free(in1[i]);
      tensor_free(in2[1]);
      kt_free(&r1);
      r2.out[0] = NULL; /* freed as in3[0] */
      kt_free(&r2);
    }
  qrt_pool_destroy(p3);
}

/* MaxPool of codes on rows wider than one 64-byte chunk (the AVX-512 row
 * kernel works in chunks of output columns), against the interpreter. */
static void test_maxpool_wide(void **state) {
  (void)state;
  static const int64_t geos[][6] = {{2, 2, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1}, {1, 3, 1, 3, 1, 1}, {2, 3, 2, 1, 1, 2},
                                    {3, 2, 1, 5, 2, 1}};
  enum { H = 5, W = 203, NX = 2 * H * W };
  static uint8_t x[NX], y[NX];
  int64_t xd[4] = {1, 2, H, W};
  for (size_t gi = 0; gi < sizeof geos / sizeof *geos; gi++)
    for (int sg = 0; sg < 2; sg++) {
      const int64_t *G = geos[gi];
      qrt_elem e = sg ? QRT_S8 : QRT_U8;
      for (int i = 0; i < NX; i++) x[i] = (uint8_t)rnd();
      char body[384], sig[64];
      snprintf(body, sizeof body,
               "%%y = MaxPool(%%x) {dilations = [%lld, %lld], kernel_shape = [%lld, %lld], strides = [%lld, %lld]} : "
               "tensor<*x%s>\nreturn %%y",
               (long long)G[4], (long long)G[5], (long long)G[0], (long long)G[1], (long long)G[2], (long long)G[3],
               ir_ty(e));
      snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty(e));
      Tensor *in[1] = {tens(ir_el(e), 4, xd, x)};
      KtRun r = kt_run(sig, body, in);
      if (!r.ok)
        fail_msg("%s", r.err);
      qrt_pool2d g = {2, H, W, r.out[0]->dims[2], r.out[0]->dims[3], G[0], G[1], G[2], G[3], G[4], G[5], 0, 0, 0, 0, 0};
      kt_free(&r);
      qrt_maxpool2d(&g, e, x, y, NULL);
      check_same("MaxPool", sig, body, in, 1, y, (size_t)(2 * g.oh * g.ow), 1);
    }
}

/* The quantizer's multiply-then-check path (qrt_quant.c quant_run) against
 * the division q_code performs, where they could differ: x at every
 * half-integer multiple of s in the code range and 1 to 4 ulps either side,
 * at the clamp bounds, NaN, +-inf, huge and subnormal x, for awkward scales;
 * runs of 16 and more so the vector blocks (not only the tail) see them. */
static void test_quantize_halves(void **state) {
  (void)state;
  static const float scales[] = {0.1f, 1.0f / 3.0f, 0.0078125f, 3.0e-5f, 7.0f, 0.0235294122f, 1.1e-38f, 3.0e37f};
  enum { NX = 8192 };
  static float x[NX];
  static uint8_t y[NX];
  long checked = 0;
  for (size_t si = 0; si < sizeof scales / sizeof *scales; si++)
    for (int sg = 0; sg < 2; sg++) {
      float s = scales[si];
      int32_t z = sg ? -3 : 131, lo = sg ? -128 : 0, hi = sg ? 127 : 255;
      int64_t n = 0;
      for (int k = -400; k <= 400 && n + 16 < NX; k++) {
        float h = ((float)k + 0.5f) * s;
        x[n++] = h;
        float up = h, dn = h;
        for (int u = 0; u < 4; u++) {
          up = nextafterf(up, INFINITY), dn = nextafterf(dn, -INFINITY);
          x[n++] = up, x[n++] = dn;
        }
        x[n++] = (float)k * s;
      }
      static const float special[] = {NAN, INFINITY, -INFINITY, 3.0e38f, -3.0e38f, 1e-45f, -1e-45f, 0.0f};
      for (size_t i = 0; i < sizeof special / sizeof *special; i++) x[n++] = special[i];
      while (n % 16) x[n++] = (float)rnd() / 65536.0f * s;
      qrt_quantize_f32(x, y, sg ? QRT_S8 : QRT_U8, &s, &z, 1, 1, n);
      for (int64_t i = 0; i < n; i++) {
        uint8_t want = (uint8_t)(uint32_t)q_code(x[i], s, z, lo, hi);
        if (y[i] != want)
          fail_msg("scale %a zp %d x %a: code %u, division gives %u", (double)s, z, (double)x[i], y[i], want);
        checked++;
      }
    }
  assert_true(checked > 100000);
}

static void test_quant_mt(void **state) {
  (void)state;
  enum { N = 160000 };
  static float x[N], s[8], y0[N], y1[N];
  static int32_t z[8], m0[8], sh[8], bias[8], xi[N];
  static uint8_t q0[N], q1[N];
  static const int64_t views[][3] = {{N, 1, 1}, {4, 8, 5000}, {1, 8, 20000}, {20000, 8, 1}};
  qrt_pool *pools[2] = {qrt_pool_create(2), qrt_pool_create(3)};
  fill_f32(x, N, 30);
  for (int64_t i = 0; i < N; i++)
    xi[i] = (int32_t)(rnd() % 2000001) - 1000000;
  for (int c = 0; c < 8; c++) {
    s[c] = unif(0.01f, 0.3f), z[c] = (int32_t)(rnd() % 256) - 128;
    m0[c] = (int32_t)((1u << 30) + rnd() % (1u << 30)), sh[c] = 30 + c, bias[c] = (int32_t)(rnd() % 1000);
  }
  qrt_requant_params rp = {m0, sh, bias, 5, -3, -128, 127};
  for (size_t vi = 0; vi < 4; vi++) {
    int64_t o = views[vi][0], ch = views[vi][1], in_ = views[vi][2], n = o * ch * in_;
    for (int t = 0; t < 2; t++) {
      qrt_quantize_f32(x, q0, QRT_S8, s, z, o, ch, in_);
      qrt_quantize_f32_mt(pools[t], x, q1, QRT_S8, s, z, o, ch, in_);
      assert_memory_equal(q0, q1, (size_t)n);
      qrt_dequantize(q0, QRT_S8, y0, s, z, o, ch, in_);
      qrt_dequantize_mt(pools[t], q0, QRT_S8, y1, s, z, o, ch, in_);
      assert_memory_equal(y0, y1, (size_t)n * 4);
      qrt_dequantize(xi, QRT_I32, y0, s, z, o, ch, in_);
      qrt_dequantize_mt(pools[t], xi, QRT_I32, y1, s, z, o, ch, in_);
      assert_memory_equal(y0, y1, (size_t)n * 4);
      qrt_requantize(&rp, xi, QRT_I32, q0, QRT_S8, o, ch, in_);
      qrt_requantize_mt(pools[t], &rp, xi, QRT_I32, q1, QRT_S8, o, ch, in_);
      assert_memory_equal(q0, q1, (size_t)n);
    }
  }
  qrt_pool_destroy(pools[0]);
  qrt_pool_destroy(pools[1]);
}

/* ---- quench integer ops ------------------------------------------------------------ */

/* "[v0, v1, ...]" of n int32 values into buf. */
static const char *ilist(char *buf, size_t cap, const int32_t *v, int64_t n) {
  size_t at = (size_t)snprintf(buf, cap, "[");
  for (int64_t i = 0; i < n; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%d", i ? ", " : "", v[i]);
  snprintf(buf + at, cap - at, "]");
  return buf;
}

static void test_requantize(void **state) {
  (void)state;
  static int32_t x[1200], m0[8], sh[8], bias[8];
  static uint8_t y[1200];
  static const qrt_elem ins[] = {QRT_I32, QRT_U8, QRT_S8};
  for (size_t ii = 0; ii < 3; ii++)
    for (int sg = 0; sg < 2; sg++) {
      qrt_elem ie = ins[ii];
      int64_t o = 3, ch = 5, in_ = 40, n = o * ch * in_;
      for (int64_t c = 0; c < ch; c++) {
        m0[c] = (int32_t)((1u << 30) + rnd() % (1u << 30));
        sh[c] = ie == QRT_I32 ? 30 + (int32_t)(rnd() % 12) : 24 + (int32_t)(rnd() % 8);
        bias[c] = (int32_t)(rnd() % 20001) - 10000;
      }
      bias[0] = INT32_MAX; /* saturates the accumulator */
      fill_any(ie, x, n, 0);
      if (ie == QRT_I32)
        for (int64_t i = 0; i < n; i++)
          x[i] = i % 9 == 0 ? x[i] : (int32_t)(rnd() % 4000001) - 2000000;
      qrt_requant_params p = {m0, sh, bias, ie == QRT_I32 ? 0 : 3, sg ? -5 : 7, sg ? -100 : 2, sg ? 120 : 250};
      qrt_requantize(&p, x, ie, y, sg ? QRT_S8 : QRT_U8, o, ch, in_);
      char a1[128], a2[128], body[640], sig[96];
      snprintf(body, sizeof body,
               "%%y = quench.Requantize(%%x, %%b) {axis = 1, hi = %d, lo = %d, multiplier = %s, shift = %s, "
               "x_zero_point = %d, y_zero_point = %d} : tensor<*x%s>\nreturn %%y",
               p.hi, p.lo, ilist(a1, sizeof a1, m0, ch), ilist(a2, sizeof a2, sh, ch), p.x_zp, p.y_zp,
               sg ? "i8" : "u8");
      snprintf(sig, sizeof sig, "%%x: tensor<*x%s>, %%b: tensor<*xi32>", ir_ty(ie));
      int64_t xd[3] = {o, ch, in_};
      Tensor *in[2] = {tens(ir_el(ie), 3, xd, x), tens(IR_ELEM_I32, 1, &ch, bias)};
      check_same("quench.Requantize", sig, body, in, 2, y, (size_t)n, 1);
    }
}

static void test_qadd_qmul(void **state) {
  (void)state;
  static uint8_t a[256], b[256], y[256];
  int64_t ad[3] = {2, 3, 8}, bd[2] = {3, 1}, yd[3] = {2, 3, 8}, sa[3], sb[3];
  bstrides(3, ad, 3, yd, sa);
  bstrides(2, bd, 3, yd, sb);
  for (int add = 0; add < 2; add++)
    for (int sg = 0; sg < 3; sg++) { /* u8, s8, and u8 + s8 -> s8 */
      qrt_elem e = sg ? QRT_S8 : QRT_U8, ea = sg == 1 ? QRT_S8 : QRT_U8;
      for (int i = 0; i < 48; i++)
        a[i] = (uint8_t)rnd();
      for (int i = 0; i < 3; i++)
        b[i] = (uint8_t)rnd();
      qrt_qbin_params p = {sg ? -3 : 128,
                           sg ? 5 : 120,
                           (int32_t)((1u << 30) + rnd() % (1u << 30)),
                           (int32_t)((1u << 30) + rnd() % (1u << 30)),
                           add ? 31 : 36,
                           sg ? 4 : 130,
                           sg ? -128 : 0,
                           sg ? 100 : 255};
      (add ? qrt_qadd : qrt_qmul)(&p, ea, e, e, 3, yd, a, sa, b, sb, y);
      char body[512], sig[96];
      if (add)
        snprintf(body, sizeof body,
                 "%%y = quench.QAdd(%%a, %%b) {a_multiplier = %d, a_zero_point = %d, b_multiplier = %d, b_zero_point = "
                 "%d, hi = %d, lo = %d, shift = %d, y_zero_point = %d} : tensor<*x%s>\nreturn %%y",
                 p.a_m0, p.a_zp, p.b_m0, p.b_zp, p.hi, p.lo, p.shift, p.y_zp, ir_ty(e));
      else
        snprintf(body, sizeof body,
                 "%%y = quench.QMul(%%a, %%b) {a_zero_point = %d, b_zero_point = %d, hi = %d, lo = %d, multiplier = "
                 "%d, shift = %d, y_zero_point = %d} : tensor<*x%s>\nreturn %%y",
                 p.a_zp, p.b_zp, p.hi, p.lo, p.a_m0, p.shift, p.y_zp, ir_ty(e));
      snprintf(sig, sizeof sig, "%%a: tensor<*x%s>, %%b: tensor<*x%s>", ir_ty(ea), ir_ty(e));
      Tensor *in[2] = {tens(ir_el(ea), 3, ad, a), tens(ir_el(e), 2, bd, b)};
      check_same(add ? "quench.QAdd" : "quench.QMul", sig, body, in, 2, y, 48, 1);
    }
}

/* ---- pooling ----------------------------------------------------------------------- */

typedef struct PoolGeo {
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  int ceil, include_pad;
} PoolGeo;

static void test_pool2d(void **state) {
  (void)state;
  static const PoolGeo geos[] = {{3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},
                                 {2, 3, 1, 2, 2, 1, 0, 1, 1, 0, 1, 0}, {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0},
                                 {3, 2, 3, 1, 1, 2, 1, 0, 2, 1, 0, 1}, {2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},
                                 {3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1}, {3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, 0},
                                 {3, 3, 1, 2, 2, 2, 2, 1, 2, 1, 0, 0}, {3, 2, 2, 1, 3, 2, 3, 1, 0, 2, 1, 0},
                                 /* unpadded, every window inside: MaxPool's row kernels at column
                                  * stride 1 (shifted max) and above (gather), with dilations */
                                 {3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, {2, 3, 2, 1, 1, 2, 0, 0, 0, 0, 0, 0},
                                 {3, 2, 3, 3, 2, 1, 0, 0, 0, 0, 0, 0}};
  static const qrt_elem elems[] = {QRT_F32, QRT_U8, QRT_S8};
  static unsigned char x[4 * 2 * 3 * 9 * 11], y[4 * 2 * 3 * 9 * 11], y3[4 * 2 * 3 * 9 * 11];
  int64_t xd[4] = {2, 3, 9, 11};
  qrt_pool *p3 = qrt_pool_create(3);
  for (size_t gi = 0; gi < sizeof geos / sizeof *geos; gi++)
    for (size_t ei = 0; ei < 3; ei++)
      for (int avg = 0; avg < 2; avg++) {
        const PoolGeo *G = &geos[gi];
        qrt_elem e = elems[ei];
        if (avg && (G->dh > 1 || G->dw > 1))
          continue; /* AveragePool dilations: opset 19, kept simple */
        if (e == QRT_F32)
          fill_f32((float *)x, 594, 10);
        else
          fill_any(e, x, 594, 0);
        if (e != QRT_F32)
          for (int i = 0; i < 594; i++)
            x[i] = (uint8_t)rnd();
        char body[384], sig[64];
        snprintf(body, sizeof body,
                 "%%y = %s(%%x) {ceil_mode = %d, %sdilations = [%lld, %lld], kernel_shape = [%lld, %lld], pads = "
                 "[%lld, %lld, %lld, %lld], strides = [%lld, %lld]} : tensor<*x%s>\nreturn %%y",
                 avg ? "AveragePool" : "MaxPool", G->ceil, avg ? (G->include_pad ? "count_include_pad = 1, " : "") : "",
                 (long long)G->dh, (long long)G->dw, (long long)G->kh, (long long)G->kw, (long long)G->pt,
                 (long long)G->pl, (long long)G->pb, (long long)G->pr, (long long)G->sh, (long long)G->sw, ir_ty(e));
        snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty(e));
        Tensor *in[1] = {tens(ir_el(e), 4, xd, x)};
        KtRun r = kt_run(sig, body, in); /* the output size comes from the interpreter */
        if (!r.ok)
          fail_msg("%s", r.err);
        qrt_pool2d g = {
            6,     9,     11,    r.out[0]->dims[2], r.out[0]->dims[3], G->kh, G->kw, G->sh, G->sw, G->dh, G->dw, G->pt,
            G->pl, G->pb, G->pr, G->include_pad};
        kt_free(&r);
        (avg ? qrt_avgpool2d : qrt_maxpool2d)(&g, e, x, y, NULL);
        (avg ? qrt_avgpool2d : qrt_maxpool2d)(&g, e, x, y3, p3);
        size_t nb = (size_t)(6 * g.oh * g.ow) * qrt_elem_size(e);
        assert_memory_equal(y, y3, nb);
        check_same(avg ? "AveragePool" : "MaxPool", sig, body, in, 1, y, nb, qrt_elem_size(e));
      }
  /* quench.QAveragePool */
  for (int sg = 0; sg < 2; sg++) {
    qrt_elem e = sg ? QRT_S8 : QRT_U8;
    for (int i = 0; i < 594; i++)
      x[i] = (uint8_t)rnd();
    qrt_qavgpool_params q = {sg ? -7 : 128, (int32_t)((1u << 30) + rnd() % (1u << 30)), 33, sg ? 3 : 120, sg ? -128 : 0,
                             sg ? 127 : 255};
    int64_t oh = (9 + 1 + 0 - 3) / 2 + 1, ow = (11 + 1 + 1 - 3) / 2 + 1;
    qrt_pool2d g = {6, 9, 11, oh, ow, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 0};
    qrt_qavgpool2d(&g, &q, e, e, x, y, p3);
    char body[384], sig[64];
    snprintf(body, sizeof body,
             "%%y = quench.QAveragePool(%%x) {hi = %d, kernel_shape = [3, 3], lo = %d, multiplier = %d, pads = [1, 1, "
             "0, 1], shift = %d, strides = [2, 2], x_zero_point = %d, y_zero_point = %d} : tensor<*x%s>\nreturn %%y",
             q.hi, q.lo, q.m0, q.shift, q.x_zp, q.y_zp, ir_ty(e));
    snprintf(sig, sizeof sig, "%%x: tensor<*x%s>", ir_ty(e));
    Tensor *in[1] = {tens(ir_el(e), 4, xd, x)};
    check_same("quench.QAveragePool", sig, body, in, 1, y, (size_t)(6 * oh * ow), 1);
  }
  qrt_pool_destroy(p3);
}

/* ---- thread pool --------------------------------------------------------------------- */

typedef struct Cover {
  int *hits;
  int64_t grain, n;
  _Atomic int calls, bad;
  qrt_pool *pool;
} Cover;

static void cover_fn(void *ctx, int64_t b, int64_t e) {
  Cover *c = ctx;
  atomic_fetch_add(&c->calls, 1);
  if (b % c->grain != 0 || b >= e || e > c->n)
    atomic_fetch_add(&c->bad, 1);
  for (int64_t i = b; i < e; i++)
    c->hits[i]++;
}

static void test_pool_coverage(void **state) {
  (void)state;
  static int hits[5000];
  static const int nthreads[] = {1, 2, 3, 8};
  static const int64_t grains[] = {1, 7, 64, 10000};
  static const int64_t ns[] = {1, 2, 5, 999, 5000};
  assert_null(qrt_pool_create(0));
  assert_int_equal(qrt_pool_threads(NULL), 1);
  for (size_t t = 0; t < 4; t++) {
    qrt_pool *p = qrt_pool_create(nthreads[t]);
    assert_non_null(p);
    assert_int_equal(qrt_pool_threads(p), nthreads[t]);
    for (int rep = 0; rep < 50; rep++)
      for (size_t gi = 0; gi < 4; gi++)
        for (size_t ni = 0; ni < 5; ni++) {
          int64_t n = ns[ni];
          memset(hits, 0, sizeof hits);
          Cover c = {hits, grains[gi], n, 0, 0, p};
          qrt_parallel_for(p, n, grains[gi], cover_fn, &c);
          for (int64_t i = 0; i < n; i++)
            if (hits[i] != 1)
              fail_msg("threads %d grain %lld n %lld: index %lld ran %d times", nthreads[t], (long long)grains[gi],
                       (long long)n, (long long)i, hits[i]);
          assert_int_equal(c.bad, 0);
          int64_t units = (n + grains[gi] - 1) / grains[gi];
          assert_true(c.calls >= 1 && c.calls <= (units < nthreads[t] ? units : nthreads[t]));
        }
    qrt_parallel_for(p, 0, 1, cover_fn, NULL); /* n = 0: no call */
    qrt_pool_destroy(p);
  }
}

/* A loop started from inside a task runs serially instead of deadlocking. */
static void nested_fn(void *ctx, int64_t b, int64_t e) {
  Cover *c = ctx;
  for (int64_t i = b; i < e; i++) {
    Cover inner = {c->hits + i * 10, 1, 10, 0, 0, NULL};
    qrt_parallel_for(c->pool, 10, 1, cover_fn, &inner);
  }
}

static void test_pool_nested(void **state) {
  (void)state;
  static int hits[1000];
  memset(hits, 0, sizeof hits);
  qrt_pool *p = qrt_pool_create(3);
  Cover c = {hits, 1, 100, 0, 0, p};
  qrt_parallel_for(p, 100, 1, nested_fn, &c);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(hits[i], 1);
  qrt_pool_destroy(p);
}

/* The workers do take chunks: each chunk waits (up to 10 s) until every
 * chunk has started, which only happens when all threads run at once. */
typedef struct Meet {
  _Atomic int started, late;
  int64_t n;
} Meet;

static void meet_fn(void *ctx, int64_t b, int64_t e) {
  Meet *m = ctx;
  (void)b, (void)e;
  atomic_fetch_add(&m->started, 1);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (atomic_load(&m->started) < m->n) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 10) {
      atomic_fetch_add(&m->late, 1);
      return;
    }
  }
}

static void test_pool_parallel(void **state) {
  (void)state;
  for (int nt = 2; nt <= 3; nt++) {
    qrt_pool *p = qrt_pool_create(nt);
    for (int rep = 0; rep < 20; rep++) {
      Meet m = {0, 0, nt};
      qrt_parallel_for(p, nt, 1, meet_fn, &m);
      assert_int_equal(m.started, nt);
      assert_int_equal(m.late, 0);
    }
    qrt_pool_destroy(p);
  }
}

int main(void) {
  if (qrt_path_skip()) return 77;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unary),         cmocka_unit_test(test_clip),
      cmocka_unit_test(test_binary),        cmocka_unit_test(test_binary_mt),
      cmocka_unit_test(test_copy_strided),  cmocka_unit_test(test_cast),
      cmocka_unit_test(test_reduce),        cmocka_unit_test(test_reduce_nan_order),
      cmocka_unit_test(test_softmax),       cmocka_unit_test(test_layernorm),
      cmocka_unit_test(test_quantize),      cmocka_unit_test(test_dequantize),
      cmocka_unit_test(test_quant_mt),      cmocka_unit_test(test_quantize_halves),
      cmocka_unit_test(test_maxpool_wide),  cmocka_unit_test(test_dq_mul_q),
      cmocka_unit_test(test_reduce_rows),
      cmocka_unit_test(test_requantize),
      cmocka_unit_test(test_qadd_qmul),     cmocka_unit_test(test_pool2d),
      cmocka_unit_test(test_pool_coverage), cmocka_unit_test(test_pool_nested),
      cmocka_unit_test(test_pool_parallel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
