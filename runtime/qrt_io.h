/* Tensor files for the generated drivers: .npy (read and write) and ONNX
 * TensorProto .pb (read: raw_data and the typed fields), the form of the
 * ONNX test_data_set folders. Not on the inference path. */
#ifndef QRT_IO_H
#define QRT_IO_H
#include <stddef.h>
#include <stdint.h>

#include "qrt_ops.h"

#define QRT_IO_MAX_RANK 8

/* A graph input or output as the generated header lists it. */
typedef struct qrt_tensor_info {
  const char *name;
  qrt_elem elem;
  int rank;
  int64_t dims[QRT_IO_MAX_RANK];
} qrt_tensor_info;

int64_t qrt_info_numel(const qrt_tensor_info *t);

/* Reads a .npy or .pb file into dst, which holds a tensor like `want`
 * (element type and element count must match; the shape may differ only by
 * dims of 1). Returns 0, or -1 with a message in err. */
int qrt_load_tensor(const char *path, const qrt_tensor_info *want, void *dst, char *err, size_t errn);
/* Writes data (shaped like t) as a .npy file. Returns 0 or -1 (errno set). */
int qrt_save_npy(const char *path, const qrt_tensor_info *t, const void *data);
/* Monotonic seconds. */
double qrt_now(void);

#endif
