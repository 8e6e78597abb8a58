/*===- train.h - the pieces of cnnc-train ---------------------------------===*
 *
 *   cnnc-train.c  command line, usage, main
 *   log.c         error and note messages, the clock
 *   inspect.c     --inspect-data: describe data files without a model
 *   session.c     load the model and data, check them against each other
 *   plan.c        the library's training plan under the command line's
 *   train.c       the training loop and the test evaluation
 *   features.c    the feature cache of a frozen prefix (memory or file)
 *   checkpoint.c  checkpoints: write, read, resume
 *   report.c      progress bar, epoch lines, --metrics-json
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_TRAIN_TRAIN_H
#define CNNC_TRAIN_TRAIN_H

#include "cnnc/dataset.h"
#include "cnnc/loader.h"
#include "cnnc/model_abi.h"
#include "cnnc/npy.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now_seconds(void);

/*===-- Options -----------------------------------------------------------===*/

typedef enum progress_mode {
  PROGRESS_AUTO, /* a bar when stderr is a terminal, else lines */
  PROGRESS_BAR,
  PROGRESS_LINES
} progress_mode;

typedef struct lr_group {
  const char *group;
  float lr;
} lr_group;

typedef struct unfreeze_at {
  const char *group;
  int64_t epoch;
} unfreeze_at;

typedef enum cache_mode { CACHE_AUTO, CACHE_OFF, CACHE_FILE } cache_mode;

typedef struct options {
  const char *model_path;
  const char *train_images, *train_labels;
  const char *test_images, *test_labels;
  int64_t epochs; /* used when steps == 0 */
  int64_t steps;  /* 0: run `epochs` epochs */
  int64_t batch;
  cnnc_train_config config;
  float mean, std; /* --normalize; 0 and 1 when not given */
  bool shuffle;
  const char *export_path;
  const char *export_npz_path; /* --export-npz */
  const char *metrics_path;
  lr_group *lr_groups;
  int num_lr_groups;
  int threads; /* 0: the model's default */
  bool quiet;
  progress_mode progress;
  const char **inspect;
  int num_inspect;
  unfreeze_at *unfreeze;
  int num_unfreeze;
  bool use_plan;               /* the library's plan (default: yes) */
  const char *checkpoint_path; /* --checkpoint */
  const char *resume_path;     /* --resume */
  cache_mode cache;
  int64_t cache_memory_mb; /* above it the feature cache goes to a file */
  int64_t bucket_mb;       /* gradient all-reduce bucket (several ranks) */
  bool batchnorm_per_rank; /* --batchnorm-stats per-rank (default global) */
  /* Which options were given, for the checks between them and the plan. */
  bool momentum_given, betas_given, eps_given, optimizer_given, lr_given,
      weight_decay_given, batch_given, epochs_given;
} options;

/*===-- Session -----------------------------------------------------------===*/

typedef struct session {
  const options *opts;
  cnnc_loaded_model *loaded;
  const cnnc_model_api *api;
  cnnc_model *model;
  cnnc_tensor_info input; /* the image input */
  int32_t num_outputs;
  cnnc_tensor_info *outputs;     /* output 0 holds the class scores */
  int64_t input_sample_elements; /* per sample */
  int64_t num_classes;
  cnnc_dataset train_images, train_labels;
  cnnc_dataset test_images, test_labels;
  bool has_test;
  FILE *metrics;
} session;

/* Loads and checks everything, then creates and configures the model.
 * Prints the error and returns false on failure. */
bool session_open(session *s, options *opts);
void session_close(session *s);

/* Applies the library's fine-tuning plan to the options the command line
 * left open (optimizer, learning rates, epochs, batch, unfreezing). */
bool apply_plan(session *s, options *opts);

/* Checkpoints (checkpoint.c): the model's training state plus the loop's
 * position, versioned, checksummed, written atomically. */
typedef struct checkpoint_info {
  int64_t epoch; /* epochs completed */
  int64_t step;  /* steps completed */
  uint64_t seed;
  int64_t batch;
  int64_t samples; /* training samples */
  int32_t shuffle;
} checkpoint_info;

bool checkpoint_save(session *s, const char *path, const checkpoint_info *ci);
bool checkpoint_load(session *s, const char *path, checkpoint_info *ci);

/* The feature cache (features.c). */
typedef struct feature_cache {
  bool active;
  cnnc_tensor_info info;
  float *data;
  size_t bytes, sample_floats;
  bool mapped;
} feature_cache;

/* Computes the frozen prefix's features of every training sample when the
 * model's current phase allows it: 1 built, 0 not possible (or off), -1
 * error (printed). */
int feature_cache_build(session *s, feature_cache *c, bool quiet);
void feature_cache_gather(const feature_cache *c, const int64_t *indices,
                          int64_t n, float *out);
void feature_cache_free(feature_cache *c);

/* Trains as the options say; returns the exit status. */
/* SIGINT and SIGTERM from now on stop training after the step in progress
 * (saving a checkpoint with --checkpoint); called first thing in main. */
void train_catch_stop_signals(void);
/* Did SIGINT or SIGTERM arrive? */
bool stop_requested(void);
int train(session *s);

/* --inspect-data; returns the exit status. */
int inspect_data(const char *const *paths, int count);

/*===-- Report ------------------------------------------------------------===*/

typedef struct progress {
  bool bar;   /* redraw a bar with \r on stderr */
  bool quiet; /* no progress at all */
  double last_draw;
  double epoch_start;
  int64_t epoch, num_epochs;
  int quarter; /* lines mode: the last quarter of the epoch reported */
} progress;

void progress_init(progress *p, const options *opts);
void progress_begin_epoch(progress *p, int64_t epoch, int64_t num_epochs);
/* After step `done` of `total` in this epoch; loss: mean so far. */
void progress_update(progress *p, int64_t done, int64_t total, double loss,
                     int64_t samples);
/* Replaces the bar with `what` (e.g. the test evaluation) until cleared. */
void progress_show(progress *p, const char *what);
/* Clears the bar before a line is printed. */
void progress_clear(progress *p);

typedef struct epoch_result {
  int64_t epoch, num_epochs;
  int64_t step; /* global steps done */
  int64_t train_samples;
  double train_loss;
  bool has_test;
  double test_accuracy; /* fraction, in [0, 1] */
  double images_per_second;
  double seconds;
} epoch_result;

void print_epoch(const options *opts, const epoch_result *r);
/* Appends the JSON line of `r`; false (after an error) if it cannot. */
bool write_metrics(FILE *metrics, const char *path, const epoch_result *r);

#endif /* CNNC_TRAIN_TRAIN_H */
