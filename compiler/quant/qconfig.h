/* Quantization configuration: what the quantize pass does to each op and
 * value. A preset (docs/quantization.md's table) gives the defaults; a
 * config file (docs/quant-config.md) overrides them per op type, per node
 * name and per tensor name, each setting remembering the file line that
 * made it so later errors (a group size that does not divide a layer) can
 * point there. Tested by test/unit/test_qconfig.c. */
#ifndef QUENCH_QUANT_QCONFIG_H
#define QUENCH_QUANT_QCONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/calib.h"
#include "quant/qformat.h"
#include "quant/wclip.h"
#include "support/diag.h"

typedef enum { Q_GRAN_TENSOR, Q_GRAN_CHANNEL, Q_GRAN_GROUP } QGranularity;
typedef enum { Q_ACT_STATIC, Q_ACT_DYNAMIC } QActMode;
/* How weight codes are chosen: round to nearest; GPTQ (compiler/quant/
 * gptq.h) from the input's Gram statistics, falling back to nearest (and
 * counted) where there are none; auto: GPTQ where the statistics allow it,
 * silently nearest elsewhere. */
typedef enum { Q_ROUND_RTN, Q_ROUND_GPTQ, Q_ROUND_AUTO } QRounding;

/* How one weight is quantized. fmt NULL: stays float. axis -1: the op's
 * default (output channel for channel granularity, input dim for groups). */
typedef struct QWeightCfg {
  const QFormat *fmt;
  QGranularity gran;
  int64_t group;  /* Q_GRAN_GROUP: elements per group */
  int32_t axis;
  bool symmetric;
  QRounding rounding;
  QWClip clip;    /* integer formats: amax scales or MSE-optimal clipping (quant/wclip.h) */
  bool bias_correction; /* fold E[x] . (W^ - W) into the bias (docs/passes/quantize.md) */
  int group_line; /* config line that set the group size; 0: the preset */
  int axis_line;  /* config line that set axis; 0: default */
} QWeightCfg;

/* How one activation is quantized. fmt NULL: stays float. */
typedef struct QActCfg {
  const QFormat *fmt;
  bool symmetric;
  QActMode mode;
  QCalibOptions calib;
} QActCfg;

/* The resolved settings for one (op, value) pair. */
typedef struct QOpCfg {
  bool keep_float; /* the op stays float: no weight, input or output pair */
  QWeightCfg w;
  QActCfg a;
} QOpCfg;

/* Fields a config line may set (bit mask). */
enum {
  Q_SET_FLOAT = 1 << 0,
  Q_SET_W_FMT = 1 << 1,
  Q_SET_W_GRAN = 1 << 2,
  Q_SET_W_AXIS = 1 << 3,
  Q_SET_W_SYM = 1 << 4,
  Q_SET_A_FMT = 1 << 5,
  Q_SET_A_SYM = 1 << 6,
  Q_SET_A_MODE = 1 << 7,
  Q_SET_CALIB = 1 << 8,
  Q_SET_PERCENTILE = 1 << 9,
  Q_SET_W_ROUND = 1 << 10,
  Q_SET_W_CLIP = 1 << 11,
  Q_SET_BIAS_CORR = 1 << 12,
};

typedef enum { Q_SEL_ALL, Q_SEL_OP, Q_SEL_NODE, Q_SEL_TENSOR } QSelKind;

/* One config line: a selector and the fields it sets. */
typedef struct QRule {
  QSelKind sel;
  char *name; /* op type, node name or tensor name (malloc'ed); NULL for '*' */
  unsigned set;
  QOpCfg v;
  int line, name_col;
} QRule;

typedef struct QConfig {
  QOpCfg base; /* the preset */
  QRule *rules;
  int n, cap;
  char *path; /* the config file, for messages (malloc'ed); NULL: none */
} QConfig;

/* "w8a8, w8a8-sym, w4a16, w4a8, w4a4, fp8, mxfp4, nvfp4". */
const char *q_preset_names(void);
/* The preset's settings; false when `name` is not a preset. calib is the
 * calibration to use for static activations. */
bool q_preset_get(const char *name, const QCalibOptions *calib, QOpCfg *out);

/* The weight clipping and bias correction a preset uses: measured over
 * the dev models (docs/passes/quantize.md). */
QWClip q_preset_wclip(const char *name);
bool q_preset_bias_correction(const char *name);

/* "rtn", "gptq", "auto" <-> QRounding; false for another name. */
bool q_rounding_from_name(const char *name, QRounding *out);
const char *q_rounding_name(QRounding r);

/* The activation calibrator a preset uses when none is given: mse for the
 * integer-activation presets (measured best over the dev models,
 * docs/passes/quantize.md), minmax otherwise (fp8 scales amax / 448).
 * Q_CALIB_MINMAX for an unknown name. */
QCalibMethod q_preset_calibrator(const char *name);

void q_config_init(QConfig *c, const QOpCfg *base);
void q_config_free(QConfig *c);
/* Parses config text (docs/quant-config.md) named `path` and appends its
 * rules. Errors are reported as PATH:LINE:COL and make it return false
 * (rules parsed so far stay). */
bool q_config_parse(QConfig *c, const char *text, size_t len, const char *path, Diag *d);
bool q_config_parse_file(QConfig *c, const char *path, Diag *d);

/* Appends `tensor NAME float` (after any parsed rules, so it wins over
 * them): the value stays float. The rule has line 0 (no file). */
void q_config_add_float_tensor(QConfig *c, const char *tensor);

/* The settings for value `tensor` (NULL: none) of a node `node` (NULL:
 * unnamed) of op type `op_type`: the preset, then the matching rules by
 * precedence '*' < op < node < tensor, later lines winning within a level. */
void q_config_resolve(const QConfig *c, const char *op_type, const char *node, const char *tensor, QOpCfg *out);

#endif
