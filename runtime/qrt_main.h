/* The command line of the generated NAME_main drivers:
 *   NAME_main [--threads T] [--bench N] [--profile] [--out DIR] [--weights FILE] INPUT...
 * INPUTs are .npy or TensorProto .pb files, one per model input in order (a
 * test_data_set folder stands for its input_K.pb files). Outputs go to
 * DIR/output_K.npy (default: the current folder); --bench N times N runs
 * after one warm-up and prints the median and best milliseconds; --profile
 * prints the time per op (built with -DQRT_PROFILE, see qrt_prof.h). */
#ifndef QRT_MAIN_H
#define QRT_MAIN_H
#include "qrt_io.h"
#include "qrt_pool.h"

typedef struct qrt_model_desc {
  const char *name;
  const qrt_tensor_info *inputs;
  int ninputs;
  const qrt_tensor_info *outputs;
  int noutputs;
  size_t arena_bytes, weights_bytes;
  const unsigned char *weights;  /* embedded, or NULL */
  const char *weights_file;      /* default weights file when not embedded */
  int (*run)(const void *weights, void *arena, qrt_pool *pool, const void *const *in, void *const *out);
} qrt_model_desc;

int qrt_main(const qrt_model_desc *m, int argc, char **argv);

#endif
