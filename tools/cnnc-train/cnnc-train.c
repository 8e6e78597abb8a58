/*===- cnnc-train.c - train a compiled cnnc model on IDX or .npy data -----===*
 *
 *   cnnc-train model.so --train-images X --train-labels Y [--epochs 3] ...
 *
 * Drives the training entry points of a model library built with
 * `cnnc --train` (model_abi.h): configures the optimizer once, feeds
 * shuffled batches to train_step, evaluates on test data after every epoch
 * and can write the trained weights back into the model's ONNX source.
 * Every failure is `cnnc-train: error: ...` on stderr and exit status 1.
 *
 *===----------------------------------------------------------------------===*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity */
#endif

#include "cnnc/tool_support.h"
#include "cnnc/version.h"
#include "dist.h"
#include "train.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_EPOCHS 1
#define DEFAULT_BATCH 32
#define DEFAULT_LR 0.01f
#define MAX_BATCH (1 << 20)

static const char usage[] =
    "usage: cnnc-train MODEL.so --train-images F --train-labels F\n"
    "                  [--test-images F --test-labels F]\n"
    "                  [--epochs E | --steps S] [--batch B]\n"
    "                  [--optimizer sgd|adam|adamw] [--lr X] [--momentum M]\n"
    "                  [--nesterov] [--weight-decay W] [--betas B1,B2] "
    "[--eps E]\n"
    "                  [--lr-group GROUP=LR]... [--unfreeze-at "
    "EPOCH:GROUP]...\n"
    "                  [--no-plan] [--checkpoint F] [--resume F]\n"
    "                  [--feature-cache auto|off|file] [--cache-memory MB]\n"
    "                  [--normalize MEAN,STD]\n"
    "                  [--no-shuffle] [--seed S] [--threads N]\n"
    "                  [--export OUT.onnx] [--metrics-json F]\n"
    "                  [--progress auto|bar|lines] [--quiet]\n"
    "       cnnc-train --inspect-data F [--inspect-data G]...\n"
    "\n"
    "Trains a model library built by `cnnc --train` for classification:\n"
    "the model's input takes one image per sample, its first output holds\n"
    "the class scores (N, C), labels are class indices in [0, C).\n"
    "\n"
    "data:\n"
    "  --train-images F, --train-labels F   training samples and labels\n"
    "  --test-images F, --test-labels F     evaluated after every epoch\n"
    "  Files are IDX (the MNIST format, plain or gzip-compressed) or .npy\n"
    "  (images float32 or uint8 (N, ...), labels integers (N,)). uint8\n"
    "  images are scaled to [0, 1]. Each image must have as many values as\n"
    "  one sample of the model's input: 28x28 images feed (N, 1, 28, 28).\n"
    "  --normalize MEAN,STD  feed (x - MEAN) / STD (after the scaling)\n"
    "  --inspect-data F      describe F (count, shape, classes) and exit;\n"
    "                        needs no model\n"
    "\n"
    "schedule:\n"
    "  --epochs E            passes over the training data (default 1)\n"
    "  --steps S             exactly S batches instead, over as many epochs\n"
    "                        as that takes (the last one partial)\n"
    "  --batch B             samples per step (default 32); the last batch\n"
    "                        of an epoch holds the remainder\n"
    "  --no-shuffle          batches in file order (default: reshuffled\n"
    "                        every epoch)\n"
    "  --seed S              seed of the shuffle and of the model's dropout\n"
    "                        masks (default 0); the same seed, data and\n"
    "                        options train the same way\n"
    "\n"
    "optimizer (as PyTorch's SGD, Adam and AdamW):\n"
    "  --optimizer NAME      sgd (default), adam or adamw\n"
    "  --lr X                learning rate (default 0.01)\n"
    "  --momentum M          sgd momentum (default 0)\n"
    "  --nesterov            Nesterov momentum (sgd, needs --momentum)\n"
    "  --weight-decay W      L2 penalty; decoupled for adamw (default 0)\n"
    "  --betas B1,B2         adam/adamw moment decay (default 0.9,0.999)\n"
    "  --eps E               adam/adamw epsilon (default 1e-8)\n"
    "  --lr-group GROUP=LR   learning rate LR for the parameters of the\n"
    "                        model's parameter group GROUP (compiled models\n"
    "                        also take a parameter name prefix, e.g.\n"
    "                        layer4=1e-4); repeatable, applied in order\n"
    "\n"
    "transfer learning:\n"
    "  --unfreeze-at E:GROUP  keep GROUP (a group or name prefix) frozen\n"
    "                        until epoch E (1-based); repeatable. Groups\n"
    "                        frozen at compile time (cnnc --freeze) cannot\n"
    "                        be unfrozen\n"
    "  --no-plan             ignore the fine-tuning plan compiled into the\n"
    "                        library (a DSL `train { }` block or cnnc\n"
    "                        --unfreeze-at); by default its optimizer,\n"
    "                        learning rates, epochs, batch and unfreezing\n"
    "                        apply wherever the command line gives none\n"
    "  --feature-cache MODE  auto (default): when only layers after a\n"
    "                        frozen prefix train, compute the prefix's\n"
    "                        output once per sample and train on it; file:\n"
    "                        the same, always in a temporary file; off\n"
    "  --cache-memory MB     a cache larger than this goes to a temporary\n"
    "                        file (default 4096)\n"
    "  --checkpoint F        save the training state (parameters,\n"
    "                        optimizer, epoch) to F after every epoch,\n"
    "                        atomically (F is replaced, never truncated),\n"
    "                        and at the step reached on SIGINT or SIGTERM\n"
    "                        (exit status 130 or 143)\n"
    "  --resume F            continue from checkpoint F: the same data and\n"
    "                        options give the same result as a run that was\n"
    "                        never interrupted\n"
    "\n"
    "several processes (docs/distributed.md):\n"
    "  mpirun -np N cnnc-train MODEL.so ...  trains on N ranks with the\n"
    "                        same options and result as one process: each\n"
    "                        step's batch is split between the ranks, the\n"
    "                        gradients are summed (MPI all-reduce, while\n"
    "                        the backward pass runs), every rank applies\n"
    "                        the same step; rank 0 alone prints and writes\n"
    "                        files\n"
    "  --batchnorm-stats S   BatchNorm in training on several ranks: global\n"
    "                        (default): the statistics of the whole batch,\n"
    "                        all-reduced (SyncBatchNorm; the same result as\n"
    "                        one process); per-rank: each rank's shard's\n"
    "                        (DDP without SyncBatchNorm), running statistics\n"
    "                        averaged over the ranks\n"
    "  --bucket-mb MB        gradient per all-reduce (default 25)\n"
    "\n"
    "output:\n"
    "  --export OUT.onnx     write the model as ONNX with the trained\n"
    "                        parameters: its ONNX source, or for a DSL\n"
    "                        model the ONNX form cnnc --train embeds\n"
    "  --export-npz OUT.npz  write every parameter (running statistics\n"
    "                        included) as numpy.savez does: any model\n"
    "  --metrics-json F      one JSON object per epoch and line: epoch,\n"
    "                        epochs, step, train_samples, train_loss,\n"
    "                        test_accuracy (a fraction, null without test\n"
    "                        data), images_per_second, seconds\n"
    "  --progress MODE       bar: redraw a progress bar on stderr; lines:\n"
    "                        plain lines; auto (default): bar on a terminal\n"
    "  --quiet               print only errors and the final result\n"
    "  --threads N           run the model with N threads (default: the\n"
    "                        CPUs this process may use, shared by the\n"
    "                        ranks on the machine)\n"
    "  -h, --help            show this text\n"
    "      --version         cnnc's version, commit and model ABI version\n"
    "\n"
    "Prints one line per epoch,\n"
    "  epoch 1/3  train loss 0.5123  test acc 85.40%  12345 images/s  4.9 s\n"
    "then `final test accuracy: 88.31%` (or `final train loss: ...` without\n"
    "test data). A NaN or infinite loss stops training with an error; the\n"
    "parameters of the last good step are kept (and exported with\n"
    "--export).\n"
    "\n"
    "\n"
    "examples:\n"
    "  cnnc examples/lenet5.cnn --train -o lenet5.so\n"
    "  cnnc-train lenet5.so --train-images train-images-idx3-ubyte.gz \\\n"
    "      --train-labels train-labels-idx1-ubyte.gz --epochs 3 \\\n"
    "      --normalize 0.2860,0.3530 --checkpoint ck.bin --export lenet5.onnx\n"
    "  cnnc-train lenet5.so ... --resume ck.bin --epochs 5\n"
    "\n"
    "environment:\n"
    "  TMPDIR                where --feature-cache file puts its file\n"
    "  CNNC_PROFILE=1        print per-kernel times when the model is\n"
    "                        released\n"
    "  CNNC_THREAD_POOL=halide  Halide's thread pool instead of cnnc's\n"
    "\n"
    "Exit status: 0 on success, 1 on any error.\n";

/*===-- Command line ------------------------------------------------------===*/

static bool parse_int64(const char *option, const char *text, long long min,
                        long long max, int64_t *out) {
  char *end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    error("%s expects an integer in [%lld, %lld], got '%s'", option, min, max,
          text);
    return false;
  }
  *out = (int64_t)value;
  return true;
}

static bool parse_u64(const char *option, const char *text, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
    error("%s expects a non-negative integer, got '%s'", option, text);
    return false;
  }
  *out = (uint64_t)value;
  return true;
}

/* A finite float in [min, max] (max_open: excluding max). */
static bool parse_float(const char *option, const char *text, double min,
                        double max, bool max_open, float *out) {
  char *end;
  errno = 0;
  float value = strtof(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !isfinite(value) ||
      value < min || value > max || (max_open && value == max)) {
    error("%s expects a number in [%g, %g%c, got '%s'", option, min, max,
          max_open ? ')' : ']', text);
    return false;
  }
  *out = value;
  return true;
}

/* "A,B" into two floats checked by parse_float. */
static bool parse_pair(const char *option, const char *text, double min,
                       double max, bool max_open, float *a, float *b) {
  const char *comma = strchr(text, ',');
  if (!comma) {
    error("%s expects two numbers A,B, got '%s'", option, text);
    return false;
  }
  char first[64];
  size_t len = (size_t)(comma - text);
  if (len >= sizeof(first)) {
    error("%s expects two numbers A,B, got '%s'", option, text);
    return false;
  }
  memcpy(first, text, len);
  first[len] = '\0';
  return parse_float(option, first, min, max, max_open, a) &&
         parse_float(option, comma + 1, min, max, max_open, b);
}

/* Matches `arg` against --long / --long=VALUE; returns the value (the next
 * argument if not attached), or NULL if `arg` is another option. */
static const char *option_value(int argc, char **argv, int *i,
                                const char *long_name, bool *matched,
                                bool *missing) {
  const char *arg = argv[*i];
  size_t long_len = strlen(long_name);
  *matched = false;
  *missing = false;
  if (strncmp(arg, long_name, long_len) == 0 && arg[long_len] == '=') {
    *matched = true;
    return arg + long_len + 1;
  }
  if (strcmp(arg, long_name) != 0)
    return NULL;
  *matched = true;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

enum option_id {
  TRAIN_IMAGES,
  TRAIN_LABELS,
  TEST_IMAGES,
  TEST_LABELS,
  EPOCHS,
  STEPS,
  BATCH,
  OPTIMIZER,
  LR,
  MOMENTUM,
  WEIGHT_DECAY,
  BETAS,
  EPS,
  LR_GROUP,
  NORMALIZE,
  SEED,
  THREADS,
  EXPORT,
  EXPORT_NPZ,
  METRICS_JSON,
  PROGRESS,
  INSPECT_DATA,
  UNFREEZE_AT,
  CHECKPOINT,
  RESUME,
  FEATURE_CACHE,
  CACHE_MEMORY,
  BUCKET_MB,
  BATCHNORM_STATS
};

static const struct {
  const char *name;
  enum option_id id;
} valued_options[] = {
    {"--train-images", TRAIN_IMAGES},
    {"--train-labels", TRAIN_LABELS},
    {"--test-images", TEST_IMAGES},
    {"--test-labels", TEST_LABELS},
    {"--epochs", EPOCHS},
    {"--steps", STEPS},
    {"--batch", BATCH},
    {"--optimizer", OPTIMIZER},
    {"--lr", LR},
    {"--momentum", MOMENTUM},
    {"--weight-decay", WEIGHT_DECAY},
    {"--betas", BETAS},
    {"--eps", EPS},
    {"--lr-group", LR_GROUP},
    {"--normalize", NORMALIZE},
    {"--seed", SEED},
    {"--threads", THREADS},
    {"--export", EXPORT},
    {"--export-npz", EXPORT_NPZ},
    {"--metrics-json", METRICS_JSON},
    {"--progress", PROGRESS},
    {"--inspect-data", INSPECT_DATA},
    {"--unfreeze-at", UNFREEZE_AT},
    {"--checkpoint", CHECKPOINT},
    {"--resume", RESUME},
    {"--feature-cache", FEATURE_CACHE},
    {"--cache-memory", CACHE_MEMORY},
    {"--bucket-mb", BUCKET_MB},
    {"--batchnorm-stats", BATCHNORM_STATS},
};

static bool parse_unfreeze(const char *text, unfreeze_at *out) {
  const char *colon = strchr(text, ':');
  char epoch[32];
  size_t len = colon ? (size_t)(colon - text) : 0;
  if (!colon || len == 0 || len >= sizeof(epoch) || !colon[1]) {
    error("--unfreeze-at expects EPOCH:GROUP, got '%s'", text);
    return false;
  }
  memcpy(epoch, text, len);
  epoch[len] = '\0';
  out->group = colon + 1;
  return parse_int64("--unfreeze-at", epoch, 1, 1000000, &out->epoch);
}

static bool parse_lr_group(const char *text, lr_group *out) {
  const char *eq = strrchr(text, '=');
  if (!eq || eq == text) {
    error("--lr-group expects GROUP=LR, got '%s'", text);
    return false;
  }
  size_t len = (size_t)(eq - text);
  char *group = malloc(len + 1);
  if (!group) {
    error("out of memory");
    return false;
  }
  memcpy(group, text, len);
  group[len] = '\0';
  out->group = group;
  return parse_float("--lr-group", eq + 1, 0, INFINITY, false, &out->lr);
}

static bool set_option(options *opts, enum option_id id, const char *value,
                       bool *epochs_given) {
  cnnc_train_config *c = &opts->config;
  switch (id) {
  case TRAIN_IMAGES:
    opts->train_images = value;
    return true;
  case TRAIN_LABELS:
    opts->train_labels = value;
    return true;
  case TEST_IMAGES:
    opts->test_images = value;
    return true;
  case TEST_LABELS:
    opts->test_labels = value;
    return true;
  case UNFREEZE_AT:
    return parse_unfreeze(value, &opts->unfreeze[opts->num_unfreeze++]);
  case CHECKPOINT:
    opts->checkpoint_path = value;
    return true;
  case RESUME:
    opts->resume_path = value;
    return true;
  case FEATURE_CACHE:
    if (strcmp(value, "auto") == 0)
      opts->cache = CACHE_AUTO;
    else if (strcmp(value, "off") == 0)
      opts->cache = CACHE_OFF;
    else if (strcmp(value, "file") == 0)
      opts->cache = CACHE_FILE;
    else {
      error("--feature-cache expects auto, off or file, got '%s'", value);
      return false;
    }
    return true;
  case CACHE_MEMORY:
    return parse_int64("--cache-memory", value, 0, 1LL << 40,
                       &opts->cache_memory_mb);
  case BUCKET_MB:
    return parse_int64("--bucket-mb", value, 1, 1024, &opts->bucket_mb);
  case BATCHNORM_STATS:
    if (strcmp(value, "global") == 0)
      opts->batchnorm_per_rank = false;
    else if (strcmp(value, "per-rank") == 0)
      opts->batchnorm_per_rank = true;
    else {
      error("--batchnorm-stats expects global or per-rank, got '%s'", value);
      return false;
    }
    return true;
  case EPOCHS:
    *epochs_given = true;
    opts->epochs_given = true;
    return parse_int64("--epochs", value, 1, 1000000, &opts->epochs);
  case STEPS:
    return parse_int64("--steps", value, 1, 1000000000000LL, &opts->steps);
  case BATCH:
    opts->batch_given = true;
    return parse_int64("--batch", value, 1, MAX_BATCH, &opts->batch);
  case OPTIMIZER:
    opts->optimizer_given = true;
    if (strcmp(value, "sgd") == 0)
      c->optimizer = CNNC_OPTIMIZER_SGD;
    else if (strcmp(value, "adam") == 0)
      c->optimizer = CNNC_OPTIMIZER_ADAM;
    else if (strcmp(value, "adamw") == 0)
      c->optimizer = CNNC_OPTIMIZER_ADAMW;
    else {
      error("--optimizer expects sgd, adam or adamw, got '%s'", value);
      return false;
    }
    return true;
  case LR:
    opts->lr_given = true;
    return parse_float("--lr", value, 0, INFINITY, false, &c->lr);
  case MOMENTUM:
    opts->momentum_given = true;
    return parse_float("--momentum", value, 0, 1, false, &c->momentum);
  case WEIGHT_DECAY:
    opts->weight_decay_given = true;
    return parse_float("--weight-decay", value, 0, INFINITY, false,
                       &c->weight_decay);
  case BETAS:
    opts->betas_given = true;
    return parse_pair("--betas", value, 0, 1, true, &c->beta1, &c->beta2);
  case EPS:
    opts->eps_given = true;
    return parse_float("--eps", value, 0, INFINITY, false, &c->eps);
  case LR_GROUP:
    return parse_lr_group(value, &opts->lr_groups[opts->num_lr_groups++]);
  case NORMALIZE:
    if (!parse_pair("--normalize", value, -INFINITY, INFINITY, false,
                    &opts->mean, &opts->std))
      return false;
    if (!(opts->std > 0)) {
      error("--normalize expects MEAN,STD with STD > 0, got '%s'", value);
      return false;
    }
    return true;
  case SEED:
    return parse_u64("--seed", value, &c->seed);
  case THREADS: {
    int64_t threads;
    if (!parse_int64("--threads", value, 1, 1024, &threads))
      return false;
    opts->threads = (int)threads;
    return true;
  }
  case EXPORT_NPZ:
    opts->export_npz_path = value;
    return true;
  case EXPORT:
    opts->export_path = value;
    return true;
  case METRICS_JSON:
    opts->metrics_path = value;
    return true;
  case PROGRESS:
    if (strcmp(value, "auto") == 0)
      opts->progress = PROGRESS_AUTO;
    else if (strcmp(value, "bar") == 0)
      opts->progress = PROGRESS_BAR;
    else if (strcmp(value, "lines") == 0)
      opts->progress = PROGRESS_LINES;
    else {
      error("--progress expects auto, bar or lines, got '%s'", value);
      return false;
    }
    return true;
  case INSPECT_DATA:
    opts->inspect[opts->num_inspect++] = value;
    return true;
  }
  return false;
}

/* The checks between options, once all are known. */
/* An output that is one of the inputs would destroy it (--export lib.so,
 * --checkpoint train-images.idx): refused before anything runs. Resuming
 * from the checkpoint that is written again is fine. */
static bool check_outputs(const options *opts) {
  const char *inputs[] = {opts->model_path,   opts->train_images,
                          opts->train_labels, opts->test_images,
                          opts->test_labels,  opts->resume_path};
  const char *input_flags[] = {"the model library", "--train-images",
                               "--train-labels",    "--test-images",
                               "--test-labels",     "--resume"};
  const char *outputs[] = {opts->export_path, opts->checkpoint_path,
                           opts->metrics_path, opts->export_npz_path};
  const char *output_flags[] = {"--export", "--checkpoint", "--metrics-json",
                                "--export-npz"};
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 6; ++i) {
      if (o == 1 && i == 5)
        continue; /* --checkpoint F --resume F */
      if (outputs[o] && cnnc_same_file(outputs[o], inputs[i])) {
        error("%s %s is %s (%s): writing it would destroy it", output_flags[o],
              outputs[o], input_flags[i], inputs[i]);
        return false;
      }
    }
  for (int o = 0; o < 4; ++o)
    for (int p = o + 1; p < 4; ++p)
      if (outputs[o] && outputs[p] &&
          (cnnc_same_file(outputs[o], outputs[p]) ||
           strcmp(outputs[o], outputs[p]) == 0)) {
        error("%s and %s are the same file (%s)", output_flags[o],
              output_flags[p], outputs[o]);
        return false;
      }
  return true;
}

static bool check_options(options *opts, bool epochs_given) {
  if (opts->num_inspect > 0)
    return true;
  if (!opts->model_path) {
    error("no model library given (see cnnc-train --help)");
    return false;
  }
  if (!check_outputs(opts))
    return false;
  if (!opts->train_images || !opts->train_labels) {
    error("%s is required (see cnnc-train --help)",
          opts->train_images ? "--train-labels" : "--train-images");
    return false;
  }
  if (!opts->test_images != !opts->test_labels) {
    error("%s needs %s too",
          opts->test_images ? "--test-images" : "--test-labels",
          opts->test_images ? "--test-labels" : "--test-images");
    return false;
  }
  if (epochs_given && opts->steps) {
    error("--epochs and --steps exclude each other: give one");
    return false;
  }
  /* The optimizer options are checked once the model's plan is merged
   * (plan.c). */
  return true;
}

/* Returns 0 to run, 1 on a usage error, 2 after --help. */
static int parse_args(int argc, char **argv, options *opts) {
  opts->epochs = DEFAULT_EPOCHS;
  opts->batch = DEFAULT_BATCH;
  opts->std = 1.0f;
  opts->shuffle = true;
  opts->config.optimizer = CNNC_OPTIMIZER_SGD;
  opts->config.lr = DEFAULT_LR;
  opts->config.beta1 = 0.9f;
  opts->config.beta2 = 0.999f;
  opts->config.eps = 1e-8f;
  opts->lr_groups = calloc((size_t)argc, sizeof(*opts->lr_groups));
  opts->inspect = calloc((size_t)argc, sizeof(*opts->inspect));
  opts->unfreeze = calloc((size_t)argc, sizeof(*opts->unfreeze));
  opts->use_plan = true;
  opts->cache_memory_mb = 4096;
  opts->bucket_mb = 25;
  if (!opts->lr_groups || !opts->inspect || !opts->unfreeze) {
    error("out of memory");
    return 1;
  }
  bool only_positional = false, epochs_given = false;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (opts->model_path) {
        error("more than one model library given ('%s' and '%s')",
              opts->model_path, arg);
        return 1;
      }
      opts->model_path = arg;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      only_positional = true;
      continue;
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      fputs(usage, stdout);
      return 2;
    }
    if (strcmp(arg, "--version") == 0) {
      printf("%s (cnnc) %s, commit %s, model ABI version %d\n", "cnnc-train",
             CNNC_VERSION_STRING, CNNC_GIT_COMMIT, CNNC_ABI_VERSION);
      printf("multi-process training: %s\n", dist_backend());
      return 2;
    }
    if (strcmp(arg, "--nesterov") == 0) {
      opts->config.nesterov = 1;
      continue;
    }
    if (strcmp(arg, "--no-shuffle") == 0) {
      opts->shuffle = false;
      continue;
    }
    if (strcmp(arg, "--no-plan") == 0) {
      opts->use_plan = false;
      continue;
    }
    if (strcmp(arg, "--quiet") == 0) {
      opts->quiet = true;
      continue;
    }
    bool handled = false;
    for (size_t k = 0;
         k < sizeof(valued_options) / sizeof(valued_options[0]) && !handled;
         ++k) {
      bool matched, missing;
      const char *value = option_value(argc, argv, &i, valued_options[k].name,
                                       &matched, &missing);
      if (!matched)
        continue;
      handled = true;
      if (missing) {
        error("%s needs a value", arg);
        return 1;
      }
      if (!set_option(opts, valued_options[k].id, value, &epochs_given))
        return 1;
    }
    if (!handled) {
      error("unknown option '%s' (see cnnc-train --help)", arg);
      return 1;
    }
  }
  return check_options(opts, epochs_given) ? 0 : 1;
}

static void free_options(options *opts) {
  for (int i = 0; i < opts->num_lr_groups; ++i)
    free((char *)opts->lr_groups[i].group);
  free(opts->lr_groups);
  free(opts->inspect);
  free(opts->unfreeze);
}

/* Several ranks: rank 0 alone prints progress and writes the files; each
 * rank runs with its share of this machine's CPUs unless --threads says. */
static void share_between_ranks(options *opts) {
  if (dist_rank() != 0) {
    opts->quiet = true;
    opts->export_path = opts->export_npz_path = NULL;
    opts->metrics_path = opts->checkpoint_path = NULL;
    if (!freopen("/dev/null", "w", stdout))
      fclose(stdout);
  }
  if (opts->threads == 0) {
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0
                    ? CPU_COUNT(&set)
                    : sysconf(_SC_NPROCESSORS_ONLN);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    long share = online / dist_local_size();
    if (share < cpus)
      cpus = share;
    opts->threads = cpus > 1 ? (int)cpus : 1;
  }
}

int main(int argc, char **argv) {
  /* Past a file-size limit a write then fails (EFBIG) and is reported,
   * instead of SIGXFSZ killing the process mid-file. */
  signal(SIGXFSZ, SIG_IGN);
  train_catch_stop_signals();
  if (!dist_init(&argc, &argv))
    return 1;
  options opts;
  memset(&opts, 0, sizeof(opts));
  int parsed = parse_args(argc, argv, &opts);
  int exit_code = parsed == 2 ? 0 : 1;
  bool agreed = true; /* every rank ends the same way */
  if (parsed == 0 && opts.num_inspect > 0) {
    exit_code = inspect_data(opts.inspect, opts.num_inspect);
  } else if (parsed == 0) {
    if (dist_size() > 1)
      share_between_ranks(&opts);
    session s;
    bool opened = session_open(&s, &opts);
    /* Opening runs no collective, so every rank gets here: the ranks learn
     * whether all of them opened and, if not, end normally together (each
     * failed rank has said why). An abort instead could end a rank before
     * it printed its message. */
    if (dist_size() > 1) {
      double failed = opened ? 0.0 : 1.0;
      if (!dist_sum_doubles(&failed, 1)) {
        agreed = false;
        opened = false;
      } else if (failed > 0.0 && opened) {
        note("stopping: %.0f of %d ranks could not start", failed, dist_size());
        opened = false;
      }
    }
    if (opened) {
      exit_code = train(&s);
      agreed = exit_code == 0 || dist_exit_agreed;
    }
    session_close(&s);
  }
  free_options(&opts);
  /* An error of one rank alone ends the job: the others may be waiting
   * for it in an all-reduce. */
  if (!agreed && dist_size() > 1)
    dist_abort(exit_code);
  dist_finalize();
  return exit_code;
}
