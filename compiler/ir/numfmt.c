/* Shortest round-tripping decimal for floats. The digits are the fewest
 * that read back to the same bits (%.{p}e for growing p, checked with
 * strtof/strtod; 9 digits always suffice for float, 17 for double). The
 * layout follows Python's repr: positional for decimal exponents in
 * [-4, 16), scientific otherwise, so 240 prints as "240.0" rather than
 * "2.4e+02". A '.' or an exponent is always present, so a float never reads
 * as an integer. */
#include "ir/numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* inf, -inf and nan (any sign or payload) have fixed spellings. */
static const char *special(double d) {
  if (isnan(d)) return "nan";
  if (isinf(d)) return d < 0 ? "-inf" : "inf";
  return NULL;
}

/* Rewrites sci ("-d.ddde+XX", as %.*e prints it) in buf. */
static char *layout(char buf[NUMFMT_BUFSZ], const char *sci) {
  const char *p = sci;
  bool neg = *p == '-';
  if (neg) p++;
  char digits[NUMFMT_BUFSZ];
  int nd = 0;
  for (; *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  int exp = atoi(p + 1);
  if (exp < -4 || exp >= 16) {
    /* %e's own text: "1e+20", "-1.5e-07". */
    strcpy(buf, sci);
    return buf;
  }
  char *o = buf;
  if (neg) *o++ = '-';
  if (exp < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = -1; i > exp; i--) *o++ = '0';
    memcpy(o, digits, (size_t)nd);
    o += nd;
  } else if (exp >= nd - 1) {
    memcpy(o, digits, (size_t)nd);
    o += nd;
    for (int i = nd - 1; i < exp; i++) *o++ = '0';
    *o++ = '.';
    *o++ = '0';
  } else {
    memcpy(o, digits, (size_t)exp + 1);
    o += exp + 1;
    *o++ = '.';
    memcpy(o, digits + exp + 1, (size_t)(nd - exp - 1));
    o += nd - exp - 1;
  }
  *o = '\0';
  return buf;
}

char *numfmt_float(char buf[NUMFMT_BUFSZ], float f) {
  const char *s = special(f);
  if (s) return strcpy(buf, s);
  char sci[NUMFMT_BUFSZ];
  for (int p = 0; p < 9; p++) {
    snprintf(sci, sizeof sci, "%.*e", p, (double)f);
    float back = strtof(sci, NULL);
    if (memcmp(&back, &f, sizeof f) == 0) break;
  }
  return layout(buf, sci);
}

char *numfmt_double(char buf[NUMFMT_BUFSZ], double d) {
  const char *s = special(d);
  if (s) return strcpy(buf, s);
  char sci[NUMFMT_BUFSZ];
  for (int p = 0; p < 17; p++) {
    snprintf(sci, sizeof sci, "%.*e", p, d);
    double back = strtod(sci, NULL);
    if (memcmp(&back, &d, sizeof d) == 0) break;
  }
  return layout(buf, sci);
}
