/* Packs weights for the direct convolution (qrt_dconv.c) and the
 * depthwise one (qrt_dwconv.c) in the layouts qrt_conv_internal.h
 * describes. Plain C, built into the compiler too:
 * `quench compile` packs at compile time (codegen/c/cgen_ops_int.c). */
#include <string.h>

#include "qrt_conv_internal.h"

int64_t qrt_conv_direct_packed_bytes(const qrt_conv *c) {
  return c->group * qrt_dc_passes(c) * qrt_dc_pass_words(c) * (int64_t)sizeof(int32_t);
}

void qrt_conv_direct_pack(const qrt_conv *c, const int8_t *w, void *out) {
  const int64_t Mg = c->M / c->group, KH = c->KH, KW = c->KW, rows = c->C / c->group * KH;
  const int64_t sums = rows * qrt_dc_phases(c) * qrt_dc_quads(c) * QRT_DC_MC, words = qrt_dc_pass_words(c);
  int32_t *o = out;
  memset(o, 0, (size_t)qrt_conv_direct_packed_bytes(c));
  for (int64_t m = 0; m < c->M; m++) {
    int32_t *p = o + (m / Mg * qrt_dc_passes(c) + m % Mg / QRT_DC_MC) * words;
    int64_t i = m % Mg % QRT_DC_MC;
    for (int64_t r = 0; r < rows; r++)
      for (int64_t kw = 0; kw < KW; kw++) {
        int8_t v = w[(m * rows + r) * KW + kw];
        ((uint8_t *)&p[qrt_dc_word(c, r, kw, i)])[kw / c->SW % 4] = (uint8_t)v;
        p[sums + r % KH * QRT_DC_MC + i] += v;
      }
  }
}

int64_t qrt_dwconv_weights_bytes(const qrt_conv *c) {
  return qrt_dw_packed(c) ? qrt_dw_packed_offset(c) + c->C * c->KH * 3 * (int64_t)sizeof(int32_t)
                          : c->C * c->KH * c->KW;
}

void qrt_dwconv_pack(const qrt_conv *c, const int8_t *w, void *out) {
  const int64_t KH = c->KH, KW = c->KW;
  memset(out, 0, (size_t)qrt_dwconv_weights_bytes(c));
  memcpy(out, w, (size_t)(c->C * KH * KW));
  if (!qrt_dw_packed(c)) return;
  int32_t *p = (int32_t *)(void *)((uint8_t *)out + qrt_dw_packed_offset(c));
  for (int64_t ch = 0; ch < c->C; ch++)
    for (int64_t kh = 0; kh < KH; kh++) {
      uint32_t d[2] = {0, 0};
      int32_t sum = 0;
      for (int64_t kw = 0; kw < KW; kw++) {
        int8_t v = w[(ch * KH + kh) * KW + kw];
        d[kw / 4] |= (uint32_t)(uint8_t)v << (8 * (kw % 4));
        sum += v;
      }
      int32_t *q = p + (ch * KH + kh) * 3;
      q[0] = (int32_t)d[0], q[1] = (int32_t)d[1], q[2] = sum;
    }
}
