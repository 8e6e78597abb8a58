/*===- tool_support.c - shared helpers of the runtime's tool code --------===*/
#include "cnnc/tool_support.h"

#include <stdarg.h>
#include <stdio.h>

int cnnc_fail(char *err, size_t err_len, int status, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_len, fmt, args);
    va_end(args);
  }
  return status;
}

const char *cnnc_status_name(int status) {
  switch (status) {
  case CNNC_OK:
    return "ok";
  case CNNC_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case CNNC_ERROR_SHAPE:
    return "shape mismatch";
  case CNNC_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case CNNC_ERROR_KERNEL:
    return "kernel error";
  case CNNC_ERROR_UNSUPPORTED:
    return "unsupported";
  case CNNC_ERROR_IO:
    return "I/O error";
  case CNNC_ERROR_NUMERIC:
    return "numeric error";
  }
  return "unknown status";
}

void cnnc_format_shape(char *buf, size_t len, int32_t rank,
                       const int64_t *dims) {
  size_t n = (size_t)snprintf(buf, len, "(");
  for (int32_t d = 0; d < rank && n < len; ++d) {
    if (dims[d] == -1)
      n += (size_t)snprintf(buf + n, len - n, "N");
    else
      n += (size_t)snprintf(buf + n, len - n, "%lld", (long long)dims[d]);
    if (n < len && (d + 1 < rank || rank == 1))
      n += (size_t)snprintf(buf + n, len - n, d + 1 < rank ? ", " : ",");
  }
  if (n < len)
    snprintf(buf + n, len - n, ")");
}
