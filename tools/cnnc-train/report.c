/*===- report.c - progress bar, epoch lines, --metrics-json ---------------===*
 *
 * stdout gets the results (one line per epoch, the final line); stderr the
 * progress, so `cnnc-train ... > log` keeps a clean log while the terminal
 * shows the bar.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "train.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* The bar is redrawn at most this often (seconds): drawing per step would
 * slow down small models and flood slow terminals. */
#define BAR_REDRAW_INTERVAL 0.1
/* Without a bar, a progress line at each quarter of an epoch, and this
 * often (seconds) during long epochs. */
#define LINE_INTERVAL 30.0
#define BAR_WIDTH 24

void progress_init(progress *p, const options *opts) {
  memset(p, 0, sizeof(*p));
  p->quiet = opts->quiet;
  p->bar = opts->progress == PROGRESS_BAR ||
           (opts->progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
}

void progress_begin_epoch(progress *p, int64_t epoch, int64_t num_epochs) {
  p->epoch = epoch;
  p->num_epochs = num_epochs;
  p->epoch_start = now_seconds();
  p->last_draw = p->epoch_start;
  p->quarter = 0;
}

/* "1:05" or "2:01:05". */
static void format_duration(char *buf, size_t len, double seconds) {
  if (!isfinite(seconds) || seconds < 0)
    seconds = 0;
  long long s = (long long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, len, "%lld:%02lld", s / 60, s % 60);
}

void progress_update(progress *p, int64_t done, int64_t total, double loss,
                     int64_t samples) {
  if (p->quiet)
    return;
  double now = now_seconds();
  double elapsed = now - p->epoch_start;
  double rate = elapsed > 0 ? (double)samples / elapsed : 0;
  if (!p->bar) {
    int quarter = total > 0 ? (int)(4 * done / total) : 0;
    bool new_quarter = quarter > p->quarter && quarter < 4;
    if (done == total || (!new_quarter && now - p->last_draw < LINE_INTERVAL))
      return;
    p->quarter = quarter;
    p->last_draw = now;
    fprintf(stderr,
            "epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f images/s\n",
            (long long)p->epoch, (long long)p->num_epochs, (long long)done,
            (long long)total, loss, rate);
    return;
  }
  if (now - p->last_draw < BAR_REDRAW_INTERVAL && done != total && done != 1)
    return;
  p->last_draw = now;
  char bar[BAR_WIDTH + 1];
  int filled = (int)((double)BAR_WIDTH * (double)done / (double)total);
  for (int i = 0; i < BAR_WIDTH; ++i)
    bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
  bar[BAR_WIDTH] = '\0';
  char eta[32];
  format_duration(eta, sizeof(eta),
                  elapsed / (double)done * (double)(total - done));
  fprintf(stderr,
          "\repoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f images/s  ETA "
          "%s\033[K",
          (long long)p->epoch, (long long)p->num_epochs, bar, (long long)done,
          (long long)total, loss, rate, eta);
  fflush(stderr);
}

void progress_show(progress *p, const char *what) {
  if (!p->bar || p->quiet)
    return;
  fprintf(stderr, "\repoch %lld/%lld %s\033[K", (long long)p->epoch,
          (long long)p->num_epochs, what);
  fflush(stderr);
}

void progress_clear(progress *p) {
  if (p->bar && !p->quiet) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
}

void print_epoch(const options *opts, const epoch_result *r) {
  if (opts->quiet)
    return;
  printf("epoch %lld/%lld  train loss %.4f", (long long)r->epoch,
         (long long)r->num_epochs, r->train_loss);
  if (r->has_test)
    printf("  test acc %.2f%%", 100.0 * r->test_accuracy);
  printf("  %.0f images/s  %.1f s\n", r->images_per_second, r->seconds);
  fflush(stdout);
}

/* A JSON number that reads back as a float (1.0, not 1), or null: JSON
 * has no NaN or infinity. */
static void json_number(FILE *f, double value) {
  if (!isfinite(value)) {
    fputs("null", f);
    return;
  }
  char text[64];
  snprintf(text, sizeof(text), "%.9g", value);
  fputs(text, f);
  if (!strpbrk(text, ".e"))
    fputs(".0", f);
}

bool write_metrics(FILE *metrics, const char *path, const epoch_result *r) {
  fprintf(metrics,
          "{\"epoch\": %lld, \"epochs\": %lld, \"step\": %lld, "
          "\"train_samples\": %lld, \"train_loss\": ",
          (long long)r->epoch, (long long)r->num_epochs, (long long)r->step,
          (long long)r->train_samples);
  json_number(metrics, r->train_loss);
  fputs(", \"test_accuracy\": ", metrics);
  if (r->has_test)
    json_number(metrics, r->test_accuracy);
  else
    fputs("null", metrics);
  fputs(", \"images_per_second\": ", metrics);
  json_number(metrics, r->images_per_second);
  fputs(", \"seconds\": ", metrics);
  json_number(metrics, r->seconds);
  fputs("}\n", metrics);
  if (fflush(metrics) != 0 || ferror(metrics)) {
    error("%s: cannot write: %s", path, strerror(errno));
    return false;
  }
  return true;
}
