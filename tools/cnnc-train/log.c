/*===- log.c - cnnc-train's messages and clock ----------------------------===*
 *
 * Errors and notes go to stderr after whatever stdout holds, so the two
 * streams read in order on a terminal.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "dist.h"
#include "train.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fflush(stdout);
  fputs("cnnc-train: error: ", stderr);
  if (dist_size() > 1)
    fprintf(stderr, "rank %d: ", dist_rank());
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

void note(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fflush(stdout);
  fputs("cnnc-train: note: ", stderr);
  if (dist_size() > 1)
    fprintf(stderr, "rank %d: ", dist_rank());
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
