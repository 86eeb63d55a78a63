/* RNN, GRU and LSTM kernels (k_rnn.c). Inputs hold the pattern
 * pat(n, seed) = ((i * 7 + seed) % 11 - 5) / 4 (kt_pattern); expected values
 * come from a plain numpy transcription of the ONNX spec's equations, one
 * direction at a time (float64, printed to 9 digits):
 *
 *   lstm_dir(X, W, R, B, P, h, c, lens, rev, clip, input_forget):
 *     for b: for s in range(lens[b]): t = lens[b]-1-s if rev else s
 *       g = W @ X[t,b] + R @ h[b] + B[:4H] + B[4H:];  i, o, f, cc = split(g, 4)
 *       i = sig(cl(i + P[:H]*c[b])); f = 1-i if input_forget else sig(cl(f + P[2H:]*c[b]))
 *       c[b] = f*c[b] + i*tanh(cl(cc)); o = sig(cl(o + P[H:2H]*c[b]))
 *       h[b] = o*tanh(c[b]); Y[t,b] = h[b]          (cl = clip to [-clip, clip])
 *   gru_dir(X, W, R, B, h, lens, rev, lbr):
 *     xw = W @ X[t,b] + Wb; z = sig(xw[:H] + R[:H] @ h + Rb[:H]); r = likewise [H:2H]
 *     lbr: hh = tanh(xw[2H:] + r*(R[2H:] @ h + Rb[2H:]))
 *     else hh = tanh(xw[2H:] + R[2H:] @ (r*h) + Rb[2H:]);  h = (1-z)*hh + z*h
 *   rnn_dir(X, W, R, B, h, lens, rev, f): h = f(W @ X[t,b] + R @ h + B[:H] + B[H:])
 *
 * Y is zero past a batch entry's length; bidirectional results stack the
 * directions; layout 1 transposes as the spec says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"

#define F32 IR_ELEM_F32

/* seq 3, batch 2, input 2, hidden 2 throughout. */
static const int64_t SEQ = 3, BATCH = 2, INP = 2, HID = 2;

typedef struct In {
  IrElem e;
  int32_t rank;
  int64_t dims[3];
  int seed; /* pattern seed; -1: the values in v */
  const double *v;
} In;

static KtRun run(const char *sig, const char *body, const In *ins, int n, Tensor **keep) {
  for (int i = 0; i < n; i++) {
    if (ins[i].rank < 0) {
      keep[i] = NULL;
      continue;
    }
    if (ins[i].seed >= 0) {
      keep[i] = kt_pattern(ins[i].e, ins[i].rank, ins[i].dims, ins[i].seed);
    } else {
      keep[i] = tensor_new(ins[i].e, ins[i].rank, ins[i].dims);
      for (int64_t j = 0; j < keep[i]->numel; j++) tensor_set_f64(keep[i], j, ins[i].v[j]);
    }
  }
  return kt_run(sig, body, keep);
}

static void release(KtRun *r, Tensor **keep, int n) {
  kt_free(r);
  for (int i = 0; i < n; i++) tensor_free(keep[i]);
}

#define LSTM_SIG                                                                                              \
  "%x: tensor<*xf32>, %w: tensor<*xf32>, %r: tensor<*xf32>, %b: tensor<*xf32>, %sl: tensor<*xi32>, "          \
  "%h0: tensor<*xf32>, %c0: tensor<*xf32>, %p: tensor<*xf32>"

/* X = pat(12, 1) [3,2,2]; W = pat(32, 2) [2,8,2]; R = pat(32, 3); B = pat(32, 4) [2,16]; P = pat(12, 5) [2,6];
 * h0 = pat(8, 6) [2,2,2]; c0 = pat(8, 7); lens = [3, 2].
 * Y = stack([lstm_dir(.. W[0] .., rev=False), lstm_dir(.. W[1] .., rev=True)], 1) */
static void test_lstm_bidirectional(void **state) {
  (void)state;
  In ins[8] = {{F32, 3, {SEQ, BATCH, INP}, 1, NULL},      {F32, 3, {2, 4 * HID, INP}, 2, NULL},
               {F32, 3, {2, 4 * HID, HID}, 3, NULL},      {F32, 2, {2, 8 * HID}, 4, NULL},
               {IR_ELEM_I32, 1, {BATCH}, -1, (const double[]){3, 2}}, {F32, 3, {2, BATCH, HID}, 6, NULL},
               {F32, 3, {2, BATCH, HID}, 7, NULL},        {F32, 2, {2, 3 * HID}, 5, NULL}};
  Tensor *keep[8];
  KtRun r = run(LSTM_SIG,
                "%y, %yh, %yc = LSTM(%x, %w, %r, %b, %sl, %h0, %c0, %p) {direction = \"bidirectional\", "
                "hidden_size = 2} : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>\nreturn %y, %yh, %yc",
                ins, 8, keep);
  if (!r.ok) fail_msg("%s", r.err);
  static const double y[] = {-0.0673321726, -0.0735867452, 0.0112501927, 0.039722306, 0.418135299, -0.100066741,
                             -0.209284504, -0.334904114, -0.162609116, 0.00698738908, 0.0107023518, 0.0314779542,
                             -0.411552038, -0.0535391326, -0.633416494, -0.189264246, -0.290559855, 0.036883459,
                             0, 0, 0.299848719, 0.331005231, 0, 0};
  static const double yh[] = {-0.290559855, 0.036883459, 0.0107023518, 0.0314779542,
                              0.418135299, -0.100066741, -0.209284504, -0.334904114};
  static const double yc[] = {-0.957648127, 0.0528214001, 0.0119555531, 0.344703266,
                              0.531720267, -0.114453568, -0.235299664, -0.865246013};
  kt_expect(r.out[0], 4, (int64_t[]){SEQ, 2, BATCH, HID}, y, 1e-6);
  kt_expect(r.out[1], 3, (int64_t[]){2, BATCH, HID}, yh, 1e-6);
  kt_expect(r.out[2], 3, (int64_t[]){2, BATCH, HID}, yc, 1e-6);
  release(&r, keep, 8);
}

/* layout 1: X = pat(12, 8) as [batch 2, seq 3, 2]; W = pat(16, 9) [1,8,2]; R = pat(16, 10); B = pat(16, 11);
 * direction reverse, clip 0.5, input_forget 1, no P, zero initial states.
 * Y, h, _ = lstm_dir(X.transpose(1,0,2), ..., [3,3], rev=True, clip=0.5, input_forget=True)
 * Y as [batch, seq, 1, H]; Y_h as [batch, 1, H]. Only two results. */
static void test_lstm_reverse_layout1(void **state) {
  (void)state;
  In ins[4] = {{F32, 3, {BATCH, SEQ, INP}, 8, NULL},
               {F32, 3, {1, 4 * HID, INP}, 9, NULL},
               {F32, 3, {1, 4 * HID, HID}, 10, NULL},
               {F32, 2, {1, 8 * HID}, 11, NULL}};
  Tensor *keep[4];
  KtRun r = run("%x: tensor<*xf32>, %w: tensor<*xf32>, %r: tensor<*xf32>, %b: tensor<*xf32>",
                "%y, %yh = LSTM(%x, %w, %r, %b) {clip = 0.5, direction = \"reverse\", input_forget = 1, "
                "layout = 1} : tensor<*xf32>, tensor<*xf32>\nreturn %y, %yh",
                ins, 4, keep);
  if (!r.ok) fail_msg("%s", r.err);
  static const double y[] = {0.128278598, 0.0367975989, 0.104103639, -0.138367225, 0.065208483,  -0.094658646,
                             0.173520681, 0.193188576,  0.104103639, 0.065181402,  0.065208483, -0.105699927};
  static const double yh[] = {0.128278598, 0.0367975989, 0.173520681, 0.193188576};
  assert_int_equal(r.nout, 2);
  kt_expect(r.out[0], 4, (int64_t[]){BATCH, SEQ, 1, HID}, y, 1e-6);
  kt_expect(r.out[1], 3, (int64_t[]){BATCH, 1, HID}, yh, 1e-6);
  release(&r, keep, 4);
}

#define GRU_SIG                                                                                          \
  "%x: tensor<*xf32>, %w: tensor<*xf32>, %r: tensor<*xf32>, %b: tensor<*xf32>, %sl: tensor<*xi32>, " \
  "%h0: tensor<*xf32>"

/* X = pat(12, 1); W = pat(12, 12) [1,6,2]; R = pat(12, 13) [1,6,2]; B = pat(12, 14) [1,12]; h0 = pat(4, 15);
 * lens [2, 3]. Y, h = gru_dir(X, W[0], R[0], B[0], h0[0], [2,3], False, lbr) for lbr 0 and 1. */
static void gru_case(IrElem e, const char *sig, const char *body, const double *y, const double *yh) {
  In ins[6] = {{e, 3, {SEQ, BATCH, INP}, 1, NULL},
               {e, 3, {1, 3 * HID, INP}, 12, NULL},
               {e, 3, {1, 3 * HID, HID}, 13, NULL},
               {e, 2, {1, 6 * HID}, 14, NULL},
               {IR_ELEM_I32, 1, {BATCH}, -1, (const double[]){2, 3}},
               {e, 3, {1, BATCH, HID}, 15, NULL}};
  Tensor *keep[6];
  KtRun r = run(sig, body, ins, 6, keep);
  if (!r.ok) fail_msg("%s", r.err);
  assert_int_equal(r.out[0]->elem, e);
  kt_expect(r.out[0], 4, (int64_t[]){SEQ, 1, BATCH, HID}, y, 1e-6);
  kt_expect(r.out[1], 3, (int64_t[]){1, BATCH, HID}, yh, 1e-6);
  release(&r, keep, 6);
}

/* lbr = 0 */
static const double GRU_Y0[] = {0.660123362, -1.22101842, 0.244076616, -0.481034684, 0.287132432, -1.18804246,
                                0.495716755, -0.489094609, 0, 0, 0.293968453, -0.465164266};
static const double GRU_YH0[] = {0.287132432, -1.18804246, 0.293968453, -0.465164266};

static void test_gru_linear_before_reset(void **state) {
  (void)state;
  gru_case(F32, GRU_SIG,
           "%y, %yh = GRU(%x, %w, %r, %b, %sl, %h0) {hidden_size = 2} : tensor<*xf32>, tensor<*xf32>\n"
           "return %y, %yh",
           GRU_Y0, GRU_YH0);
  static const double y1[] = {0.646063033, -1.20544798, -0.287642153, -0.478553672, -0.701288457, -1.16488411,
                              0.292930779, -0.458452701, 0, 0, -0.129299613, -0.42930437};
  static const double yh1[] = {-0.701288457, -1.16488411, -0.129299613, -0.42930437};
  gru_case(F32, GRU_SIG,
           "%y, %yh = GRU(%x, %w, %r, %b, %sl, %h0) {linear_before_reset = 1} : tensor<*xf32>, tensor<*xf32>\n"
           "return %y, %yh",
           y1, yh1);
}

/* X = pat(12, 1); W = pat(8, 16) [2,2,2]; R = pat(8, 17); B = pat(8, 18) [2,4]; bidirectional with
 * activations LeakyRelu (alpha 0.1, forward) and ScaledTanh (alpha 2, beta 0.5, reverse):
 * rnn_dir(.., False, lambda v: np.where(v >= 0, v, 0.1*v)), rnn_dir(.., True, lambda v: 2*np.tanh(0.5*v)) */
static void test_rnn_activations(void **state) {
  (void)state;
  In ins[4] = {{F32, 3, {SEQ, BATCH, INP}, 1, NULL},
               {F32, 3, {2, HID, INP}, 16, NULL},
               {F32, 3, {2, HID, HID}, 17, NULL},
               {F32, 2, {2, 2 * HID}, 18, NULL}};
  Tensor *keep[4];
  KtRun r = run("%x: tensor<*xf32>, %w: tensor<*xf32>, %r: tensor<*xf32>, %b: tensor<*xf32>",
                "%y, %yh = RNN(%x, %w, %r, %b) {activation_alpha = [0.1, 2.0], activation_beta = [0.5], "
                "activations = [\"LeakyRelu\", \"ScaledTanh\"], direction = \"bidirectional\"} : "
                "tensor<*xf32>, tensor<*xf32>\nreturn %y, %yh",
                ins, 4, keep);
  if (!r.ok) fail_msg("%s", r.err);
  static const double y[] = {1, -0.11875, 3, -0.0125, 0.664506621, 1.92143871, 1.14649456, -1.70709842,
                             2.5890625, 1.25, 2.259375, 3.625, -1.12992957, -1.75228195, -1.48416652, 1.17736778,
                             0.459765625, 1.5265625, 0.59609375, 2.259375, 0.661642235, 1.34193415, -1.10919944,
                             -1.10919944};
  static const double yh[] = {0.459765625, 1.5265625, 0.59609375, 2.259375,
                              0.664506621, 1.92143871, 1.14649456, -1.70709842};
  kt_expect(r.out[0], 4, (int64_t[]){SEQ, 2, BATCH, HID}, y, 1e-6);
  kt_expect(r.out[1], 3, (int64_t[]){2, BATCH, HID}, yh, 1e-6);
  release(&r, keep, 4);
}

/* f64 runs the same equations: the GRU lbr=0 case with every float tensor f64. */
static void test_gru_f64(void **state) {
  (void)state;
  gru_case(IR_ELEM_F64,
           "%x: tensor<*xf64>, %w: tensor<*xf64>, %r: tensor<*xf64>, %b: tensor<*xf64>, %sl: tensor<*xi32>, "
           "%h0: tensor<*xf64>",
           "%y, %yh = GRU(%x, %w, %r, %b, %sl, %h0) : tensor<*xf64>, tensor<*xf64>\nreturn %y, %yh", GRU_Y0, GRU_YH0);
}

static void expect_fail(const char *sig, const char *body, const In *ins, int n, const char *needle) {
  Tensor *keep[8];
  KtRun r = run(sig, body, ins, n, keep);
  kt_expect_error(&r, needle);
  if (!strstr(r.err, "LSTM") && !strstr(r.err, "GRU") && !strstr(r.err, "RNN"))
    fail_msg("error '%s' does not name the op", r.err);
  release(&r, keep, n);
}

static void test_errors(void **state) {
  (void)state;
#define ERR_SIG "%x: tensor<*xf32>, %w: tensor<*xf32>, %r: tensor<*xf32>, %sl: tensor<*xi32>"
  const char *sig = ERR_SIG;
  In ok3[3] = {{F32, 3, {SEQ, BATCH, INP}, 1, NULL}, {F32, 3, {1, HID, INP}, 2, NULL}, {F32, 3, {1, HID, HID}, 3, NULL}};
  /* W with the wrong gate count */
  In badw[3] = {ok3[0], {F32, 3, {1, 3 * HID, INP}, 2, NULL}, ok3[2]};
  expect_fail(sig, "%y = RNN(%x, %w, %r) : tensor<*xf32>\nreturn %y", badw, 3, "W has shape");
  /* hidden_size disagreeing with R */
  expect_fail(sig, "%y = RNN(%x, %w, %r) {hidden_size = 3} : tensor<*xf32>\nreturn %y", ok3, 3, "hidden_size");
  /* bidirectional with one direction's weights */
  expect_fail(sig, "%y = RNN(%x, %w, %r) {direction = \"bidirectional\"} : tensor<*xf32>\nreturn %y", ok3, 3,
              "W has shape");
  expect_fail(sig, "%y = RNN(%x, %w, %r) {direction = \"sideways\"} : tensor<*xf32>\nreturn %y", ok3, 3,
              "unknown direction");
  expect_fail(sig, "%y = RNN(%x, %w, %r) {activations = [\"Cosh\"]} : tensor<*xf32>\nreturn %y", ok3, 3,
              "unknown activation");
  expect_fail(sig, "%y = RNN(%x, %w, %r) {activations = [\"Tanh\", \"Tanh\", \"Tanh\"]} : tensor<*xf32>\nreturn %y",
              ok3, 3, "activations lists 3");
  /* a sequence length beyond the sequence */
  In badl[5] = {ok3[0], ok3[1], ok3[2], {.rank = -1}, {IR_ELEM_I32, 1, {BATCH}, -1, (const double[]){3, 4}}};
  expect_fail(ERR_SIG, "%y = RNN(%x, %w, %r, none, %sl) : tensor<*xf32>\nreturn %y", badl, 5,
              "sequence_lens[1] = 4");
  /* missing R */
  In nor[3] = {ok3[0], ok3[1], {.rank = -1}};
  expect_fail(sig, "%y = LSTM(%x, %w, none) : tensor<*xf32>\nreturn %y", nor, 3, "required");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lstm_bidirectional), cmocka_unit_test(test_lstm_reverse_layout1),
      cmocka_unit_test(test_gru_linear_before_reset), cmocka_unit_test(test_rnn_activations),
      cmocka_unit_test(test_gru_f64), cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
