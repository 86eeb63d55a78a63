/* libFuzzer target for the quantization side files a user hands quench: the
 * quantize config (q_config_parse) and the .qstats statistics file
 * (q_stats_read, through a temporary file since it reads a path). Any bytes
 * must give a parsed result or one located diagnostic, never a crash, UB or
 * a leak. CI runs it for 60 seconds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quant/calib.h"
#include "quant/qconfig.h"
#include "support/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char stats_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Diag d;
  diag_init(&d, NULL);
  QOpCfg base;
  QCalibOptions co = {Q_CALIB_MINMAX, 99.99};
  if (!q_preset_get("w8a8", &co, &base)) abort();
  QConfig c;
  q_config_init(&c, &base);
  q_config_parse(&c, (const char *)data, size, "fuzz.qcfg", &d);
  q_config_free(&c);

  if (!stats_path[0]) snprintf(stats_path, sizeof stats_path, "/tmp/quench-fuzz-%ld.qstats", (long)getpid());
  FILE *f = fopen(stats_path, "wb");
  if (!f) abort();
  if (size) fwrite(data, 1, size, f);
  fclose(f);
  QStats s;
  q_stats_init(&s);
  q_stats_read(&s, stats_path, &d);
  q_stats_free(&s);
  return 0;
}
