/*===- train.c - the training loop and the test evaluation ----------------===*
 *
 * One epoch is one pass over the training samples in an order drawn from a
 * seeded PRNG (or file order with --no-shuffle), in batches of --batch; the
 * last batch holds the remainder. --steps S runs S batches, starting new
 * epochs (and new orders) as needed. The tool owns the order and the
 * normalization; the model owns the optimizer (train_configure once, then
 * train_step per batch).
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "train.h"
#include "cnnc/tool_support.h"
#include "dist.h"

#include "cnnc/onnx_export.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inference runs on at least this many test samples per call: a larger
 * batch amortizes the per-call cost, and memory is no concern at this size. */
#define MIN_EVAL_BATCH 256

/*===-- Shuffling ---------------------------------------------------------===*/

/* splitmix64: tiny, fast, and the same on every platform, so a seed means
 * the same order everywhere. */
typedef struct rng {
  uint64_t state;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [0, n), without modulo bias. */
static uint64_t rng_below(rng *r, uint64_t n) {
  uint64_t threshold = -n % n;
  for (;;) {
    uint64_t x = rng_next(r);
    if (x >= threshold)
      return x % n;
  }
}

/* Fisher-Yates. */
static void shuffle(int64_t *order, int64_t n, rng *r) {
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1);
    int64_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/*===-- Evaluation --------------------------------------------------------===*/

typedef struct eval_buffers {
  int64_t batch;
  int64_t *indices;
  float *images;
  int64_t *labels;
  void **outputs;
  size_t *output_bytes; /* per sample */
  size_t *call_bytes;   /* per call */
} eval_buffers;

static void eval_free(eval_buffers *b, int32_t num_outputs) {
  if (b->outputs)
    for (int32_t i = 0; i < num_outputs; ++i)
      free(b->outputs[i]);
  free(b->outputs);
  free(b->output_bytes);
  free(b->call_bytes);
  free(b->indices);
  free(b->images);
  free(b->labels);
  memset(b, 0, sizeof(*b));
}

static bool eval_alloc(session *s, eval_buffers *b) {
  int64_t count = s->test_images.count;
  b->batch = s->opts->batch > MIN_EVAL_BATCH ? s->opts->batch : MIN_EVAL_BATCH;
  if (b->batch > count)
    b->batch = count;
  size_t n = (size_t)b->batch, no = (size_t)s->num_outputs;
  b->indices = malloc(n * sizeof(int64_t));
  b->images = malloc(n * (size_t)s->input_sample_elements * sizeof(float));
  b->labels = malloc(n * sizeof(int64_t));
  b->outputs = calloc(no, sizeof(void *));
  b->output_bytes = calloc(no, sizeof(size_t));
  b->call_bytes = calloc(no, sizeof(size_t));
  if (!b->indices || !b->images || !b->labels || !b->outputs ||
      !b->output_bytes || !b->call_bytes)
    return false;
  for (size_t i = 0; i < no; ++i) {
    const cnnc_tensor_info *info = &s->outputs[i];
    size_t bytes = cnnc_dtype_size(info->dtype);
    for (int32_t d = 1; d < info->rank; ++d)
      bytes *= (size_t)info->dims[d];
    b->output_bytes[i] = bytes;
    b->outputs[i] = malloc(bytes * n > 0 ? bytes * n : 1);
    if (!b->outputs[i])
      return false;
  }
  return true;
}

/* Fraction of the test samples whose highest score is their label. */
static bool evaluate(session *s, eval_buffers *b, double *accuracy) {
  const options *opts = s->opts;
  int64_t count = s->test_images.count, correct = 0;
  size_t sample = (size_t)s->input_sample_elements;
  /* Each rank evaluates its share of the test set. */
  int64_t rank = dist_rank(), ranks = dist_size();
  int64_t lo = count * rank / ranks, hi = count * (rank + 1) / ranks;
  for (int64_t start = lo; start < hi; start += b->batch) {
    int64_t n = hi - start < b->batch ? hi - start : b->batch;
    for (int64_t i = 0; i < n; ++i)
      b->indices[i] = start + i;
    cnnc_dataset_gather_images(&s->test_images, b->indices, n, opts->mean,
                               opts->std, b->images);
    cnnc_dataset_gather_labels(&s->test_labels, b->indices, n, b->labels);
    for (int32_t i = 0; i < s->num_outputs; ++i)
      b->call_bytes[i] = b->output_bytes[i] * (size_t)n;
    const void *inputs[1] = {b->images};
    size_t input_bytes[1] = {(size_t)n * sample * sizeof(float)};
    int status = s->api->run(s->model, n, inputs, input_bytes, b->outputs,
                             b->call_bytes);
    if (status != CNNC_OK) {
      const char *why = s->api->last_error(s->model);
      error("test evaluation: run failed on samples %lld..%lld (status %d, "
            "%s): %s",
            (long long)start, (long long)(start + n - 1), status,
            cnnc_status_name(status), why && *why ? why : "no message");
      return false;
    }
    const float *scores = b->outputs[0];
    int64_t classes = s->num_classes;
    for (int64_t i = 0; i < n; ++i) {
      const float *row = scores + i * classes;
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (row[c] > row[best])
          best = c;
      correct += best == b->labels[i];
    }
  }
  double total = (double)correct;
  if (!dist_sum_doubles(&total, 1))
    return false;
  *accuracy = total / (double)count;
  return true;
}

/*===-- Training ----------------------------------------------------------===*/

static const char *optimizer_name(int32_t optimizer) {
  switch (optimizer) {
  case CNNC_OPTIMIZER_SGD:
    return "sgd";
  case CNNC_OPTIMIZER_ADAM:
    return "adam";
  case CNNC_OPTIMIZER_ADAMW:
    return "adamw";
  }
  return "unknown";
}

static bool export_onnx(session *s, const char *when) {
  const options *opts = s->opts;
  char msg[1024];
  int32_t written = 0;
  if (cnnc_export_onnx(s->api, s->model, opts->export_path, &written, msg,
                       sizeof(msg)) != CNNC_OK) {
    error("%s", msg);
    return false;
  }
  if (!opts->quiet) {
    printf("exported %d parameter%s %sto %s\n", (int)written,
           written == 1 ? "" : "s", when, opts->export_path);
    fflush(stdout);
  }
  return true;
}

/* Parameter i's info and values (malloc'd, *count floats), or NULL after
 * an error (printed). */
static float *read_param(session *s, int32_t i, cnnc_param_info *info,
                         size_t *count) {
  const cnnc_model_api *api = s->api;
  if (api->param_info(i, info) != CNNC_OK) {
    error("cannot describe parameter %d", (int)i);
    return NULL;
  }
  *count = 1;
  for (int32_t d = 0; d < info->rank; ++d)
    *count *= (size_t)info->dims[d];
  float *values = malloc(*count * sizeof(float) + 1);
  if (!values ||
      api->get_param(s->model, i, values, *count * sizeof(float)) != CNNC_OK) {
    error("cannot read parameter '%s': %s", info->name,
          values ? api->last_error(s->model) : "out of memory");
    free(values);
    return NULL;
  }
  return values;
}

/* --export-npz: every parameter by name, as numpy.savez writes them. */
static bool export_npz(session *s) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  int32_t n = api->num_params();
  cnnc_param_info *info = calloc((size_t)n + 1, sizeof(*info));
  const char **names = calloc((size_t)n + 1, sizeof(*names));
  cnnc_dtype *dtypes = calloc((size_t)n + 1, sizeof(*dtypes));
  int32_t *ranks = calloc((size_t)n + 1, sizeof(*ranks));
  const int64_t **dims = calloc((size_t)n + 1, sizeof(*dims));
  float **values = calloc((size_t)n + 1, sizeof(*values));
  bool ok = info && names && dtypes && ranks && dims && values;
  for (int32_t i = 0; ok && i < n; ++i) {
    ok = api->param_info(i, &info[i]) == CNNC_OK;
    size_t count = 1;
    for (int32_t d = 0; ok && d < info[i].rank; ++d)
      count *= (size_t)info[i].dims[d];
    ok = ok && (values[i] = malloc(count * sizeof(float) + 1)) &&
         api->get_param(s->model, i, values[i], count * sizeof(float)) ==
             CNNC_OK;
    names[i] = info[i].name;
    dtypes[i] = CNNC_DTYPE_F32;
    ranks[i] = info[i].rank;
    dims[i] = info[i].dims;
  }
  char msg[1024] = "out of memory";
  if (ok)
    ok = cnnc_npz_write(opts->export_npz_path, n, names, dtypes, ranks, dims,
                        (const void *const *)values, msg,
                        sizeof(msg)) == CNNC_OK;
  else if (info)
    snprintf(msg, sizeof(msg), "%s: cannot read the parameters: %s",
             opts->export_npz_path, api->last_error(s->model));
  if (!ok)
    error("%s", msg);
  else if (!opts->quiet)
    printf("exported %d parameter%s to %s\n", (int)n, n == 1 ? "" : "s",
           opts->export_npz_path);
  for (int32_t i = 0; values && i < n; ++i)
    free(values[i]);
  free(info);
  free(names);
  free(dtypes);
  free(ranks);
  free(dims);
  free(values);
  return ok;
}

/* Handles a failed step (`why`: the reason, NULL for the model's last
 * error); returns the exit status. */
static int step_failed(session *s, int64_t step, int status, float loss,
                       const char *why) {
  if (!why)
    why = s->api->last_error(s->model);
  dist_exit_agreed = status == CNNC_ERROR_NUMERIC;
  if (dist_exit_agreed && dist_rank() != 0)
    return 1; /* every rank stops at the same step; rank 0 says why */
  if (status == CNNC_OK) {
    /* The model should have said CNNC_ERROR_NUMERIC; its parameters may
     * already hold the NaN, so nothing is exported. */
    error("step %lld: the model returned a %s loss without reporting it",
          (long long)step, isnan(loss) ? "NaN" : "infinite");
    return 1;
  }
  error("step %lld: %s", (long long)step,
        why && *why ? why : cnnc_status_name(status));
  if (status != CNNC_ERROR_NUMERIC)
    return 1;
  note("training stopped at a NaN or infinite loss; the parameters after "
       "step %lld are kept",
       (long long)(step - 1));
  if (s->opts->export_path) {
    char when[64];
    snprintf(when, sizeof(when), "(after step %lld) ", (long long)(step - 1));
    export_onnx(s, when);
  }
  return 1;
}

/*===-- Data-parallel steps -----------------------------------------------===*/

/* What the ranks sum after each step's gradients. */
enum { SUM_LOSS, SUM_NOT_FINITE, SUM_STOP, NUM_SUMS };

typedef struct parallel {
  dist_reducer *reducer;
  cnnc_train_tensor *tensors;
  int32_t capacity;
  int64_t steps;     /* global steps done (for messages) */
  int64_t run_steps; /* steps this run took part in */
  bool empty_shard;  /* this rank has no sample in the step */
  char why[512];     /* why the last step failed ("": the model's error) */
} parallel;

/* The model's reduction for SyncBatchNorm (set_replica_reduce): a rank
 * without a sample in the step adds nothing. */
static int replica_reduce(void *user, double *values, size_t count) {
  const parallel *par = user;
  if (par->empty_shard)
    memset(values, 0, count * sizeof(double));
  return count <= INT32_MAX && dist_sum_doubles(values, (int)count) ? 0 : 1;
}

/* FNV-1a of every parameter's values. */
static bool hash_params(session *s, uint64_t *hash) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int32_t i = 0; i < s->api->num_params(); ++i) {
    cnnc_param_info info;
    size_t count;
    float *values = read_param(s, i, &info, &count);
    if (!values)
      return false;
    const unsigned char *bytes = (const unsigned char *)values;
    for (size_t b = 0; b < count * sizeof(float); ++b)
      h = (h ^ bytes[b]) * 0x100000001b3ull;
    free(values);
  }
  *hash = h;
  return true;
}

/* Every rank applies the same sums, so the weights must stay identical:
 * checked after each epoch. */
static bool replicas_agree(session *s, int64_t epoch) {
  uint64_t h = 0;
  if (!hash_params(s, &h))
    return false;
  bool equal = false;
  if (!dist_all_equal(h, &equal))
    return false;
  if (!equal) {
    dist_exit_agreed = true;
    if (dist_rank() == 0)
      error("after epoch %lld the ranks' weights differ (a rank applied "
            "another update: an all-reduce that gave the ranks different "
            "sums, or a model changed on one rank); stopping without a "
            "checkpoint of this epoch",
            (long long)epoch);
  }
  return equal;
}

/* Uninstalls the model's callbacks into `par` and frees it. */
static void release_parallel(session *s, parallel *par) {
  if (par->reducer) {
    s->api->set_gradient_hook(s->model, NULL, NULL);
    if (s->api->set_replica_reduce)
      s->api->set_replica_reduce(s->model, NULL, NULL);
  }
  dist_reducer_free(par->reducer);
  free(par->tensors);
  memset(par, 0, sizeof *par);
}

/* Several ranks: the reducer, the model's gradient hook and (unless
 * --batchnorm-stats per-rank) its BatchNorm reduction; false after an error
 * (printed). `step`: the global steps already done. */
static bool setup_parallel(session *s, parallel *par, int64_t step) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  if (!api->train_backward || !api->train_gradients || !api->train_apply ||
      !api->set_gradient_hook || !api->set_replica_reduce) {
    error("%s has no train_backward/train_apply (model ABI 4): rebuild it "
          "with this cnnc for multi-process training",
          opts->model_path);
    return false;
  }
  par->capacity = 2 * api->num_params() + 1;
  par->tensors = calloc((size_t)par->capacity, sizeof(*par->tensors));
  par->reducer = dist_reducer_create((size_t)opts->bucket_mb * 1024 * 1024);
  if (!par->tensors || !par->reducer) {
    error("out of memory");
    release_parallel(s, par);
    return false;
  }
  api->set_gradient_hook(s->model, dist_reducer_hook, par->reducer);
  if (!opts->batchnorm_per_rank &&
      api->set_replica_reduce(s->model, replica_reduce, par) != CNNC_OK) {
    error("%s cannot synchronize BatchNorm statistics across ranks: %s",
          opts->model_path, api->last_error(s->model));
    release_parallel(s, par);
    return false;
  }
  par->steps = step;
  /* Test hook (test/Distributed): rank R starts with one weight changed,
   * which the check after each epoch must find. */
  const char *perturb = getenv("CNNC_TRAIN_TEST_PERTURB_RANK");
  if (perturb && atoi(perturb) == dist_rank()) {
    cnnc_param_info info;
    size_t count;
    float *values = read_param(s, 0, &info, &count);
    if (values) {
      values[0] += 1e-3f;
      api->set_param(s->model, 0, values, count * sizeof(float));
    }
    free(values);
  }
  return true;
}

/* One step of the global batch `batch_order` (n samples) on `ranks`
 * processes: this rank's shard forward and backward, the sums, the
 * optimizer. Returns CNNC_OK, CNNC_ERROR_NUMERIC when a rank's loss or
 * the summed gradients are not finite (every rank agrees), or another
 * status after an error of this rank alone (printed). *stop: a rank caught
 * SIGINT or SIGTERM. */
static int parallel_step(session *s, parallel *par, const feature_cache *cache,
                         float *features, float *images, int64_t *labels,
                         const int64_t *batch_order, int64_t n, float *loss,
                         bool *stop) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  int64_t rank = dist_rank(), ranks = dist_size();
  int64_t lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
  /* A rank with no sample (a last batch smaller than the ranks) runs one
   * and weighs it 0, so that every rank joins the same all-reduces. */
  double weight = (double)(hi - lo) / (double)n;
  /* Test hook (test/Distributed): rank R dies at step S, as a machine that
   * fails would. Only this environment variable reaches it. */
  const char *kill_at = getenv("CNNC_TRAIN_TEST_KILL_RANK_AT_STEP");
  if (kill_at) {
    long long r = -1, at = -1;
    if (sscanf(kill_at, "%lld:%lld", &r, &at) == 2 && r == rank &&
        at == par->steps + 1)
      raise(SIGKILL);
  }
  const int64_t *shard = hi > lo ? batch_order + lo : batch_order;
  int64_t m = hi > lo ? hi - lo : 1;
  par->empty_shard = hi == lo;
  cnnc_dataset_gather_labels(&s->train_labels, shard, m, labels);
  dist_reducer_begin(par->reducer, weight);
  float local = NAN;
  int status;
  if (cache->active) {
    feature_cache_gather(cache, shard, m, features);
    status = api->train_backward_features(
        s->model, m, features, (size_t)m * cache->sample_floats * sizeof(float),
        labels, (size_t)m * sizeof(int64_t), &local);
  } else {
    cnnc_dataset_gather_images(&s->train_images, shard, m, opts->mean,
                               opts->std, images);
    const void *inputs[1] = {images};
    size_t input_bytes[1] = {(size_t)m * (size_t)s->input_sample_elements *
                             sizeof(float)};
    status = api->train_backward(s->model, m, inputs, input_bytes, labels,
                                 (size_t)m * sizeof(int64_t), &local);
  }
  par->why[0] = 0;
  if (status != CNNC_OK && status != CNNC_ERROR_NUMERIC)
    return status;
  /* A non-finite loss still lists the step's tensors: this rank finishes
   * the all-reduces the others wait in, and every rank learns of it. */
  int32_t count = 0;
  status = api->train_gradients(s->model, par->tensors, par->capacity, &count);
  if (status == CNNC_OK && count > par->capacity) {
    snprintf(par->why, sizeof par->why, "%d tensors to reduce, room for %d",
             (int)count, (int)par->capacity);
    status = CNNC_ERROR_INVALID_ARGUMENT;
  }
  if (status != CNNC_OK)
    return status;
  bool finite = isfinite(local);
  double sums[NUM_SUMS] = {finite ? weight * (double)local : 0.0,
                           finite ? 0.0 : 1.0, stop_requested() ? 1.0 : 0.0};
  if (!dist_reducer_finish(par->reducer, par->tensors, count, sums, NUM_SUMS)) {
    snprintf(par->why, sizeof par->why, "the all-reduce failed");
    return CNNC_ERROR_IO;
  }
  ++par->steps;
  ++par->run_steps;
  *stop = sums[SUM_STOP] > 0;
  *loss = (float)sums[SUM_LOSS];
  if (sums[SUM_NOT_FINITE] > 0) {
    *loss = NAN;
    snprintf(par->why, sizeof par->why,
             "the loss is not finite on %d of %d ranks",
             (int)sums[SUM_NOT_FINITE], (int)ranks);
    return CNNC_ERROR_NUMERIC;
  }
  /* The same sums on every rank: the same update, or the same refusal. */
  return api->train_apply(s->model);
}

/* SIGINT or SIGTERM during training: the loop stops after the step in
 * progress, saves a checkpoint when --checkpoint is given (resumable at that
 * very step) and exits with 128 + the signal. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

bool stop_requested(void) { return stop_signal != 0; }

void train_catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int train(session *s) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  int64_t count = s->train_images.count;
  int64_t batch = opts->batch < count ? opts->batch : count;
  int64_t steps_per_epoch = (count + batch - 1) / batch;
  int64_t total_steps =
      opts->steps ? opts->steps : opts->epochs * steps_per_epoch;
  int64_t num_epochs = (total_steps + steps_per_epoch - 1) / steps_per_epoch;
  size_t sample = (size_t)s->input_sample_elements;

  int64_t *order = malloc((size_t)count * sizeof(int64_t));
  float *images = malloc((size_t)batch * sample * sizeof(float));
  int64_t *labels = malloc((size_t)batch * sizeof(int64_t));
  eval_buffers eval;
  memset(&eval, 0, sizeof(eval));
  int exit_code = 1;
  if (!order || !images || !labels || (s->has_test && !eval_alloc(s, &eval))) {
    error("out of memory for a batch of %lld samples", (long long)batch);
    goto done;
  }
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;

  if (!opts->quiet) {
    const char *name = api->model_name && *api->model_name ? api->model_name
                                                           : opts->model_path;
    printf("training %s: %lld samples", name, (long long)count);
    if (s->has_test)
      printf(" (test %lld)", (long long)s->test_images.count);
    printf(", %lld classes, batch %lld, %lld step%s per epoch, ",
           (long long)s->num_classes, (long long)batch,
           (long long)steps_per_epoch, steps_per_epoch == 1 ? "" : "s");
    if (opts->steps)
      printf("%lld steps", (long long)total_steps);
    else
      printf("%lld epoch%s", (long long)num_epochs, num_epochs == 1 ? "" : "s");
    printf(", %s lr %g", optimizer_name(opts->config.optimizer),
           (double)opts->config.lr);
    if (dist_size() > 1)
      printf(", %d ranks (%s)", dist_size(), dist_backend());
    printf("\n");
    fflush(stdout);
  }

  rng r = {opts->config.seed};
  progress bar;
  progress_init(&bar, opts);
  int64_t step = 0, first_epoch = 1, resumed_at = -1;
  double final_loss = 0, final_accuracy = 0;

  /* Unfreezing: every group must be one the library can train. */
  for (int i = 0; i < opts->num_unfreeze; ++i) {
    const unfreeze_at *u = &opts->unfreeze[i];
    if (!api->set_trainable ||
        api->set_trainable(s->model, u->group, 1) != CNNC_OK) {
      error("--unfreeze-at %lld:%s: %s", (long long)u->epoch, u->group,
            api->set_trainable ? api->last_error(s->model)
                               : "the model cannot freeze groups at run time");
      goto done;
    }
  }
  if (opts->resume_path) {
    checkpoint_info ci;
    if (!checkpoint_load(s, opts->resume_path, &ci))
      goto done;
    if (ci.batch != batch || ci.samples != count ||
        ci.seed != opts->config.seed || ci.shuffle != (int32_t)opts->shuffle) {
      error("%s: saved with batch %lld, %lld samples, seed %llu%s; this run "
            "has batch %lld, %lld samples, seed %llu%s: resume with the same "
            "data and options",
            opts->resume_path, (long long)ci.batch, (long long)ci.samples,
            (unsigned long long)ci.seed, ci.shuffle ? "" : ", --no-shuffle",
            (long long)batch, (long long)count,
            (unsigned long long)opts->config.seed,
            opts->shuffle ? "" : ", --no-shuffle");
      goto done;
    }
    /* A checkpoint at the run's end has nothing left to train; with
     * --export it is converted (e.g. one trained on a board whose
     * cnnc-train has no ONNX export: docs/targets.md). */
    if (ci.step > total_steps ||
        (ci.step == total_steps && !opts->export_path &&
         !opts->export_npz_path)) {
      error("%s: the checkpoint is at step %lld, this run ends at step "
            "%lld%s",
            opts->resume_path, (long long)ci.step, (long long)total_steps,
            ci.step == total_steps
                ? ": nothing to train (--export or --export-npz writes its "
                  "weights)"
                : "");
      goto done;
    }
    /* The orders of the epochs done, so the next one is the same; a
     * checkpoint of an interrupted epoch continues inside it. */
    for (int64_t e = 1; e <= ci.epoch && opts->shuffle; ++e)
      shuffle(order, count, &r);
    first_epoch = ci.epoch + 1;
    step = resumed_at = ci.step;
    if (!opts->quiet) {
      if (ci.step > ci.epoch * steps_per_epoch)
        printf("resumed from %s in epoch %lld (step %lld)\n", opts->resume_path,
               (long long)first_epoch, (long long)ci.step);
      else
        printf("resumed from %s after epoch %lld (step %lld)\n",
               opts->resume_path, (long long)ci.epoch, (long long)ci.step);
      fflush(stdout);
    }
  }
  int32_t *trainable_now =
      calloc((size_t)opts->num_unfreeze + 1, sizeof(*trainable_now));
  if (!trainable_now) {
    error("out of memory");
    goto done;
  }
  for (int i = 0; i < opts->num_unfreeze; ++i)
    trainable_now[i] = -1;
  parallel par;
  memset(&par, 0, sizeof par);
  if (dist_size() > 1 && !setup_parallel(s, &par, step)) {
    free(trainable_now);
    goto done;
  }
  feature_cache cache;
  memset(&cache, 0, sizeof cache);
  float *features = NULL;
  bool cache_stale = true;

  for (int64_t epoch = first_epoch; epoch <= num_epochs; ++epoch) {
    /* Ranks stop together: at an epoch's start when any rank was asked. */
    double stop_votes = stop_signal ? 1 : 0;
    if (dist_size() > 1 && !dist_sum_doubles(&stop_votes, 1))
      goto done_epochs;
    if (stop_votes > 0 && !stop_signal)
      stop_signal = SIGTERM;
    if (stop_signal) {
      dist_exit_agreed = true;
      exit_code = 128 + stop_signal;
      printf("interrupted by %s after epoch %lld%s\n",
             stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
             (long long)(epoch - 1),
             opts->checkpoint_path ? " (its checkpoint is saved)" : "");
      fflush(stdout);
      goto done_epochs;
    }
    if (opts->shuffle)
      shuffle(order, count, &r);
    /* Gradual unfreezing: the groups of this epoch's phase. */
    for (int i = 0; i < opts->num_unfreeze; ++i) {
      const unfreeze_at *u = &opts->unfreeze[i];
      int32_t want = epoch >= u->epoch;
      if (trainable_now[i] == want)
        continue;
      if (api->set_trainable(s->model, u->group, want) != CNNC_OK) {
        error("--unfreeze-at %lld:%s: %s", (long long)u->epoch, u->group,
              api->last_error(s->model));
        goto done_epochs;
      }
      if (want && trainable_now[i] >= 0 && !opts->quiet)
        printf("epoch %lld: unfreezing %s\n", (long long)epoch, u->group);
      trainable_now[i] = want;
      cache_stale = true;
    }
    if (cache_stale) {
      cache_stale = false;
      int built = feature_cache_build(s, &cache, opts->quiet);
      if (built < 0)
        goto done_epochs;
      free(features);
      features = NULL;
      if (built > 0 && !(features = malloc((size_t)batch * cache.sample_floats *
                                           sizeof(float)))) {
        error("out of memory for a batch of features");
        goto done_epochs;
      }
    }
    int64_t epoch_start = (epoch - 1) * steps_per_epoch;
    int64_t epoch_steps = total_steps - epoch_start < steps_per_epoch
                              ? total_steps - epoch_start
                              : steps_per_epoch;
    progress_begin_epoch(&bar, epoch, num_epochs);
    double start_time = now_seconds(), loss_sum = 0;
    int64_t samples = 0;
    /* Past 0 only in an epoch resumed from an interrupted run. */
    for (int64_t k = step - epoch_start; k < epoch_steps; ++k) {
      int64_t first = k * batch;
      int64_t n = count - first < batch ? count - first : batch;
      cnnc_dataset_gather_labels(&s->train_labels, order + first, n, labels);
      float loss = NAN;
      int status;
      bool stop = false;
      if (par.reducer) {
        status = parallel_step(s, &par, &cache, features, images, labels,
                               order + first, n, &loss, &stop);
        if (stop && !stop_signal)
          stop_signal = SIGTERM;
      } else if (cache.active) {
        feature_cache_gather(&cache, order + first, n, features);
        status = api->train_step_features(
            s->model, n, features,
            (size_t)n * cache.sample_floats * sizeof(float), labels,
            (size_t)n * sizeof(int64_t), &loss);
      } else {
        cnnc_dataset_gather_images(&s->train_images, order + first, n,
                                   opts->mean, opts->std, images);
        const void *inputs[1] = {images};
        size_t input_bytes[1] = {(size_t)n * sample * sizeof(float)};
        status = api->train_step(s->model, n, inputs, input_bytes, labels,
                                 (size_t)n * sizeof(int64_t), &loss);
      }
      ++step;
      if (status != CNNC_OK || !isfinite(loss)) {
        progress_clear(&bar);
        exit_code = step_failed(s, step, status, loss,
                                par.reducer && par.why[0] ? par.why : NULL);
        goto done_epochs;
      }
      loss_sum += (double)loss * (double)n;
      samples += n;
      progress_update(&bar, k + 1, epoch_steps, loss_sum / (double)samples,
                      samples);
      /* At an epoch's last step the epoch ends first (its checkpoint and
       * metrics), and the next one does not start. */
      if (stop_signal && k + 1 < epoch_steps) {
        progress_clear(&bar);
        dist_exit_agreed = true;
        exit_code = 128 + stop_signal;
        const char *name = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
        if (opts->checkpoint_path) {
          checkpoint_info ci = {epoch - 1, step,  opts->config.seed,
                                batch,     count, (int32_t)opts->shuffle};
          if (checkpoint_save(s, opts->checkpoint_path, &ci))
            printf("interrupted by %s at step %lld of %lld: checkpoint saved "
                   "to %s (--resume it)\n",
                   name, (long long)step, (long long)total_steps,
                   opts->checkpoint_path);
          else
            exit_code = 1;
        } else {
          printf("interrupted by %s at step %lld of %lld (no --checkpoint: "
                 "nothing saved)\n",
                 name, (long long)step, (long long)total_steps);
        }
        fflush(stdout);
        goto done_epochs;
      }
    }
    double train_seconds = now_seconds() - start_time;

    epoch_result result;
    memset(&result, 0, sizeof(result));
    result.epoch = epoch;
    result.num_epochs = num_epochs;
    result.step = step;
    result.train_samples = samples;
    result.train_loss = loss_sum / (double)samples;
    result.images_per_second =
        train_seconds > 0 ? (double)samples / train_seconds : 0;
    result.has_test = s->has_test;
    if (s->has_test) {
      char what[64];
      snprintf(what, sizeof(what), "testing on %lld samples...",
               (long long)s->test_images.count);
      progress_show(&bar, what);
      bool ok = evaluate(s, &eval, &result.test_accuracy);
      progress_clear(&bar);
      if (!ok)
        goto done_epochs;
    }
    progress_clear(&bar);
    result.seconds = now_seconds() - start_time;
    print_epoch(opts, &result);
    if (s->metrics && !write_metrics(s->metrics, opts->metrics_path, &result))
      goto done_epochs;
    final_loss = result.train_loss;
    final_accuracy = result.test_accuracy;
    if (par.reducer && !replicas_agree(s, epoch))
      goto done_epochs;
    if (opts->checkpoint_path) {
      checkpoint_info ci = {epoch, step,  opts->config.seed,
                            batch, count, (int32_t)opts->shuffle};
      if (!checkpoint_save(s, opts->checkpoint_path, &ci))
        goto done_epochs;
    }
  }
  feature_cache_free(&cache);
  free(features);
  free(trainable_now);
  if (par.reducer && !opts->quiet)
    printf("all-reduce: %.3f ms per step not hidden by the backward pass "
           "(rank 0)\n",
           par.run_steps > 0 ? 1e3 * dist_reducer_wait_seconds(par.reducer) /
                                   (double)par.run_steps
                             : 0.0);
  release_parallel(s, &par);

  if (step == resumed_at)
    printf("nothing left to train: the checkpoint is at step %lld, the end "
           "of this run\n",
           (long long)step);
  else if (s->has_test)
    printf("final test accuracy: %.2f%%\n", 100.0 * final_accuracy);
  else
    printf("final train loss: %.4f\n", final_loss);
  fflush(stdout);
  if (opts->export_npz_path && !export_npz(s))
    goto done;
  if (opts->export_path && !export_onnx(s, ""))
    goto done;
  exit_code = 0;
  goto done;
done_epochs:
  feature_cache_free(&cache);
  free(features);
  free(trainable_now);
  release_parallel(s, &par);
done:
  eval_free(&eval, s->num_outputs);
  free(order);
  free(images);
  free(labels);
  return exit_code;
}
