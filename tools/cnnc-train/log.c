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

/* One write per message, so the lines of several ranks that mpirun merges
 * do not interleave. */
static void say(const char *kind, const char *fmt, va_list args) {
  char line[2048];
  int n = snprintf(line, sizeof line, "cnnc-train: %s: ", kind);
  if (dist_size() > 1)
    n += snprintf(line + n, sizeof line - (size_t)n, "rank %d: ", dist_rank());
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, args);
  fflush(stdout);
  fprintf(stderr, "%s\n", line);
}

void error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  say("error", fmt, args);
  va_end(args);
}

void note(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  say("note", fmt, args);
  va_end(args);
}

double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
