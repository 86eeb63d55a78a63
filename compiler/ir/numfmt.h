/* Shortest round-tripping decimal text for floats: what the printer writes
 * so that parsing gives back the same bits. */
#ifndef QUENCH_IR_NUMFMT_H
#define QUENCH_IR_NUMFMT_H

#define NUMFMT_BUFSZ 40

/* Shortest decimal that strtof() reads back to f; always has '.' or an
 * exponent, or is inf, -inf, nan. Returns buf. */
char *numfmt_float(char buf[NUMFMT_BUFSZ], float f);
/* Same for doubles (strtod). */
char *numfmt_double(char buf[NUMFMT_BUFSZ], double d);

#endif
