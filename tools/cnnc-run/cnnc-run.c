/*===- cnnc-run.c - run a compiled cnnc model on .npy files ---------------===*
 *
 *   cnnc-run model.so -i x.npy -o y.npy [--threads 4] [--bench 20]
 *
 * Loads the model through the generic loader, checks every input file
 * against the model's description before anything runs, and writes the
 * outputs as .npy. Every failure is one line `cnnc-run: error: ...` on
 * stderr and exit status 1.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/checkpoint.h"
#include "cnnc/loader.h"
#include "cnnc/npy.h"
#include "cnnc/tool_support.h"
#include "cnnc/version.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_WARMUP 3

static const char usage[] =
    "usage: cnnc-run MODEL.so -i IN.npy [-i IN2.npy ...]\n"
    "                -o OUT.npy [-o OUT2.npy ...]\n"
    "                [--threads N] [--bench K] [--warmup W]\n"
    "\n"
    "Runs a model library built by cnnc on .npy inputs and writes its\n"
    "outputs as .npy files. Prints nothing on success unless --bench.\n"
    "With --bench, the -o files may be left out (the outputs are dropped).\n"
    "\n"
    "options:\n"
    "  -i, --input FILE   one per model input, in the model's input order\n"
    "  -o, --output FILE  one per model output, in the model's output order\n"
    "  --threads N        run with N threads, 0 for all cores (default: the\n"
    "                     model's default)\n"
    "  --bench K          after the warm-up, time K runs and print\n"
    "                     latency ms: min X  median Y  max Z  (K runs, batch "
    "B, T threads)\n"
    "  --warmup W         untimed runs before the timed ones (default 3)\n"
    "  -h, --help         show this text\n"
    "      --version      cnnc's version, commit and model ABI version\n"
    "      --info         print the library's inputs, outputs, parameters\n"
    "                     and training plan, and run nothing\n"
    "  --state CKPT       run with the weights of a cnnc-train checkpoint\n"
    "                     (of a library built with --train)\n"
    "\n"
    "Each input must have the model's dtype and shape. The batch dimension\n"
    "(N in messages) takes the file's first dimension, the same in every\n"
    "input. The only conversions are exact or rounding ones: float16 and\n"
    "float64 files are read as float32 (float64 rounded to nearest), and\n"
    "bool, int8/16/32 and uint8/16/32/64 files as int64. Any other dtype\n"
    "mismatch is an error.\n"
    "\n"
    "examples:\n"
    "  cnnc model.onnx -o model.so\n"
    "  cnnc-run model.so -i x.npy -o y.npy\n"
    "  cnnc-run model.so -i x.npy --bench 100 --threads 1\n"
    "  cnnc-run --info model.so\n"
    "\n"
    "environment:\n"
    "  CNNC_PROFILE=1        print per-kernel times when the model is\n"
    "                        released\n"
    "  CNNC_THREAD_POOL=halide  Halide's thread pool instead of cnnc's\n"
    "\n"
    "Exit status: 0 on success, 1 on any error.\n";

static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("cnnc-run: error: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

/*===-- Command line ------------------------------------------------------===*/

typedef struct options {
  const char *model_path;
  const char **inputs;
  int num_inputs;
  const char **outputs;
  int num_outputs;
  int threads; /* with threads_given: 0 is all cores (docs/abi.md) */
  bool threads_given;
  int bench;              /* 0: no timing */
  bool info;              /* --info: describe the library, run nothing */
  const char *state_path; /* --state: a cnnc-train checkpoint's weights */
  int warmup;
} options;

static bool parse_int(const char *option, const char *text, long min, long max,
                      int *out) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    error("%s expects an integer in [%ld, %ld], got '%s'", option, min, max,
          text);
    return false;
  }
  *out = (int)value;
  return true;
}

/* Matches `arg` against -s / --long / --long=VALUE; returns the value (the
 * next argument if not attached) or NULL if `arg` is another option. */
static const char *option_value(int argc, char **argv, int *i,
                                const char *short_name, const char *long_name,
                                bool *matched, bool *missing) {
  const char *arg = argv[*i];
  size_t long_len = strlen(long_name);
  *matched = false;
  *missing = false;
  if (strncmp(arg, long_name, long_len) == 0 && arg[long_len] == '=') {
    *matched = true;
    return arg + long_len + 1;
  }
  if (strcmp(arg, long_name) != 0 &&
      !(short_name && strcmp(arg, short_name) == 0))
    return NULL;
  *matched = true;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

/* Returns 0 to run, 1 on a usage error, 2 after --help. */
static int parse_args(int argc, char **argv, options *opts) {
  opts->inputs = calloc((size_t)argc, sizeof(char *));
  opts->outputs = calloc((size_t)argc, sizeof(char *));
  opts->warmup = DEFAULT_WARMUP;
  if (!opts->inputs || !opts->outputs) {
    error("out of memory");
    return 1;
  }
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (opts->model_path) {
        error("more than one model library given ('%s' and '%s'); inputs "
              "need -i",
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
    if (strcmp(arg, "--info") == 0) {
      opts->info = true;
      continue;
    }
    if (strcmp(arg, "--version") == 0) {
      printf("%s (cnnc) %s, commit %s, model ABI version %d\n", "cnnc-run",
             CNNC_VERSION_STRING, CNNC_GIT_COMMIT, CNNC_ABI_VERSION);
      return 2;
    }
    enum { INPUT, OUTPUT, THREADS, BENCH, WARMUP, STATE };
    static const struct {
      const char *short_name, *long_name;
      int id;
    } known[] = {{"-i", "--input", INPUT},     {"-o", "--output", OUTPUT},
                 {NULL, "--threads", THREADS}, {NULL, "--bench", BENCH},
                 {NULL, "--warmup", WARMUP},   {NULL, "--state", STATE}};
    bool handled = false;
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !handled; ++k) {
      bool matched, missing;
      const char *value = option_value(argc, argv, &i, known[k].short_name,
                                       known[k].long_name, &matched, &missing);
      if (!matched)
        continue;
      handled = true;
      if (missing) {
        error("%s needs a value", arg);
        return 1;
      }
      bool ok = true;
      switch (known[k].id) {
      case INPUT:
        opts->inputs[opts->num_inputs++] = value;
        break;
      case OUTPUT:
        opts->outputs[opts->num_outputs++] = value;
        break;
      case THREADS:
        ok = parse_int("--threads", value, 0, 1024, &opts->threads);
        opts->threads_given = true;
        break;
      case BENCH:
        ok = parse_int("--bench", value, 1, 1000000, &opts->bench);
        break;
      case WARMUP:
        ok = parse_int("--warmup", value, 0, 1000000, &opts->warmup);
        break;
      case STATE:
        opts->state_path = value;
        break;
      }
      if (!ok)
        return 1;
    }
    if (!handled) {
      error("unknown option '%s' (see cnnc-run --help)", arg);
      return 1;
    }
  }
  if (!opts->model_path) {
    error("no model library given (see cnnc-run --help)");
    return 1;
  }
  /* An output over an input would destroy it (-o model.so, -o x.npy). */
  for (int o = 0; o < opts->num_outputs; ++o) {
    if (cnnc_same_file(opts->outputs[o], opts->model_path)) {
      error("-o %s is the model library: writing it would destroy it",
            opts->outputs[o]);
      return 1;
    }
    for (int i = 0; i < opts->num_inputs; ++i)
      if (cnnc_same_file(opts->outputs[o], opts->inputs[i])) {
        error("-o %s is the input file %s: writing it would destroy it",
              opts->outputs[o], opts->inputs[i]);
        return 1;
      }
  }
  return 0;
}

/*===-- Shapes ------------------------------------------------------------===*/

/* Bytes of a tensor of `info` at `batch`, or 0 with an error on overflow. */
static bool tensor_bytes(const cnnc_tensor_info *info, int64_t batch,
                         size_t *out) {
  uint64_t bytes = cnnc_dtype_size(info->dtype);
  for (int32_t d = 0; d < info->rank; ++d) {
    uint64_t extent = (uint64_t)(info->dims[d] == -1 ? batch : info->dims[d]);
    if (extent != 0 && bytes > SIZE_MAX / extent)
      return false;
    bytes *= extent;
  }
  *out = (size_t)bytes;
  return true;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*===-- Running -----------------------------------------------------------===*/

typedef struct session {
  cnnc_loaded_model *loaded;
  const cnnc_model_api *api;
  cnnc_model *instance;
  int32_t num_inputs, num_outputs;
  cnnc_tensor_info *input_info, *output_info;
  cnnc_npy_array *input_arrays;
  const void **input_data;
  size_t *input_bytes;
  void **output_data;
  size_t *output_bytes;
  double *times;
} session;

static void session_free(session *s) {
  if (s->instance)
    s->api->release(s->instance);
  if (s->input_arrays)
    for (int32_t i = 0; i < s->num_inputs; ++i)
      cnnc_npy_free(&s->input_arrays[i]);
  if (s->output_data)
    for (int32_t i = 0; i < s->num_outputs; ++i)
      free(s->output_data[i]);
  free(s->input_info);
  free(s->output_info);
  free(s->input_arrays);
  free(s->input_data);
  free(s->input_bytes);
  free(s->output_data);
  free(s->output_bytes);
  free(s->times);
  cnnc_loader_close(s->loaded);
}

/* Reads the inputs and checks them against the model; sets *batch. */
static bool load_inputs(session *s, const options *opts, int64_t *batch) {
  const char *model = opts->model_path;
  int batch_input = -1;
  *batch = -1;
  for (int32_t i = 0; i < s->num_inputs; ++i) {
    const char *path = opts->inputs[i];
    const cnnc_tensor_info *info = &s->input_info[i];
    cnnc_npy_array *array = &s->input_arrays[i];
    char msg[512];
    if (cnnc_npy_read(path, array, msg, sizeof(msg)) != CNNC_OK) {
      error("input %d '%s': %s", (int)i, info->name, msg);
      return false;
    }
    if (array->dtype != info->dtype) {
      error("input %d '%s' (%s): dtype '%s' (%s%s), but model %s expects %s",
            (int)i, info->name, path, array->file_descr,
            array->converted ? "read as " : "", cnnc_dtype_name(array->dtype),
            model, cnnc_dtype_name(info->dtype));
      return false;
    }
    char want[256], got[256];
    cnnc_format_shape(want, sizeof(want), info->rank, info->dims);
    cnnc_format_shape(got, sizeof(got), array->rank, array->dims);
    bool match = array->rank == info->rank;
    for (int32_t d = 0; match && d < info->rank; ++d)
      match = info->dims[d] == -1 || info->dims[d] == array->dims[d];
    if (!match) {
      error("input %d '%s' (%s): shape %s does not match the model's %s "
            "(N is the batch)",
            (int)i, info->name, path, got, want);
      return false;
    }
    if (info->rank > 0 && info->dims[0] == -1) {
      int64_t file_batch = array->dims[0];
      if (file_batch < 1) {
        error("input %d '%s' (%s): shape %s has batch 0; the batch must be at "
              "least 1",
              (int)i, info->name, path, got);
        return false;
      }
      if (*batch == -1) {
        *batch = file_batch;
        batch_input = i;
      } else if (*batch != file_batch) {
        error("input %d '%s' (%s) has batch %lld, but input %d '%s' (%s) has "
              "batch %lld; all inputs must have the same batch",
              (int)i, info->name, path, (long long)file_batch, batch_input,
              s->input_info[batch_input].name, opts->inputs[batch_input],
              (long long)*batch);
        return false;
      }
    }
    s->input_data[i] = array->data;
    s->input_bytes[i] = array->num_bytes;
  }
  /* A model without a batch dimension still runs one sample per call. */
  if (*batch == -1)
    *batch = 1;
  return true;
}

static bool run_once(session *s, const options *opts, int64_t batch) {
  int status = s->api->run(s->instance, batch, s->input_data, s->input_bytes,
                           s->output_data, s->output_bytes);
  if (status != CNNC_OK) {
    const char *why = s->api->last_error(s->instance);
    error("%s: run failed (status %d, %s): %s", opts->model_path, status,
          cnnc_status_name(status), why && *why ? why : "no message");
    return false;
  }
  return true;
}

/* --info: what a library holds, without running it. */
static int print_info(const char *path) {
  cnnc_loaded_model *loaded = NULL;
  char msg[1024];
  if (cnnc_loader_open(path, &loaded, msg, sizeof(msg)) != CNNC_OK) {
    error("%s", msg);
    return 1;
  }
  const cnnc_model_api *api = cnnc_loader_api(loaded);
  printf("model %s (%s, model ABI version %d)\n", api->model_name,
         api->train_step ? "inference and training" : "inference only",
         (int)api->abi_version);
  for (int io = 0; io < 2; ++io) {
    int32_t n = io ? api->num_outputs() : api->num_inputs();
    for (int32_t i = 0; i < n; ++i) {
      cnnc_tensor_info t;
      if ((io ? api->output_info : api->input_info)(i, &t) != CNNC_OK)
        continue;
      char shape[256];
      cnnc_format_shape(shape, sizeof shape, t.rank, t.dims);
      printf("%s %d '%s': %s %s\n", io ? "output" : "input", (int)i, t.name,
             cnnc_dtype_name(t.dtype), shape);
    }
  }
  int64_t total = 0, trainable = 0;
  int32_t np = api->num_params();
  for (int32_t i = 0; i < np; ++i) {
    cnnc_param_info p;
    if (api->param_info(i, &p) != CNNC_OK)
      continue;
    int64_t count = 1;
    for (int32_t d = 0; d < p.rank; ++d)
      count *= p.dims[d];
    char shape[256];
    cnnc_format_shape(shape, sizeof shape, p.rank, p.dims);
    bool grouped = p.group && *p.group;
    printf("parameter '%s'%s%s%s: %s%s%s\n", p.name, grouped ? " (group " : "",
           grouped ? p.group : "", grouped ? ")" : "", shape,
           p.is_buffer ? ", running statistic" : "",
           p.trainable || p.is_buffer ? "" : ", frozen");
    if (!p.is_buffer) {
      total += count;
      if (p.trainable)
        trainable += count;
    }
  }
  printf("%lld parameters, %lld trainable\n", (long long)total,
         (long long)trainable);
  const cnnc_train_plan *plan = api->train_plan ? api->train_plan() : NULL;
  if (plan) {
    printf("training plan: loss %s", plan->loss);
    if (plan->has_optimizer)
      printf(", optimizer %s, lr %g",
             plan->config.optimizer == CNNC_OPTIMIZER_SGD    ? "sgd"
             : plan->config.optimizer == CNNC_OPTIMIZER_ADAM ? "adam"
                                                             : "adamw",
             (double)plan->config.lr);
    if (plan->epochs)
      printf(", %d epochs", (int)plan->epochs);
    if (plan->batch)
      printf(", batch %d", (int)plan->batch);
    printf("\n");
    for (int32_t g = 0; g < plan->num_groups; ++g) {
      const cnnc_plan_group *grp = &plan->groups[g];
      printf("  group %s", grp->name);
      if (grp->lr >= 0)
        printf(": lr %g", (double)grp->lr);
      if (grp->unfreeze_epoch > 0)
        printf("%s unfrozen at epoch %d", grp->lr >= 0 ? "," : ":",
               (int)grp->unfreeze_epoch);
      printf("\n");
    }
  }
  cnnc_loader_close(loaded);
  return 0;
}

static int run(const options *opts) {
  if (opts->info)
    return print_info(opts->model_path);
  session s;
  memset(&s, 0, sizeof(s));
  const char *model = opts->model_path;
  char msg[1024];
  int exit_code = 1;
  if (cnnc_loader_open(model, &s.loaded, msg, sizeof(msg)) != CNNC_OK) {
    error("%s", msg);
    return 1;
  }
  s.api = cnnc_loader_api(s.loaded);
  s.num_inputs = s.api->num_inputs();
  s.num_outputs = s.api->num_outputs();
  size_t ni = (size_t)s.num_inputs + 1, no = (size_t)s.num_outputs + 1;
  s.input_info = calloc(ni, sizeof(*s.input_info));
  s.output_info = calloc(no, sizeof(*s.output_info));
  s.input_arrays = calloc(ni, sizeof(*s.input_arrays));
  s.input_data = calloc(ni, sizeof(*s.input_data));
  s.input_bytes = calloc(ni, sizeof(*s.input_bytes));
  s.output_data = calloc(no, sizeof(*s.output_data));
  s.output_bytes = calloc(no, sizeof(*s.output_bytes));
  if (!s.input_info || !s.output_info || !s.input_arrays || !s.input_data ||
      !s.input_bytes || !s.output_data || !s.output_bytes) {
    error("out of memory");
    goto done;
  }
  for (int32_t i = 0; i < s.num_inputs; ++i)
    s.api->input_info(i, &s.input_info[i]);
  for (int32_t i = 0; i < s.num_outputs; ++i)
    s.api->output_info(i, &s.output_info[i]);

  if (opts->num_inputs != s.num_inputs) {
    char names[512] = "";
    size_t n = 0;
    for (int32_t i = 0; i < s.num_inputs && n < sizeof(names); ++i)
      n += (size_t)snprintf(names + n, sizeof(names) - n, "%s'%s'",
                            i ? ", " : "", s.input_info[i].name);
    error("%s has %d input%s (%s), but %d -i file%s given", model,
          (int)s.num_inputs, s.num_inputs == 1 ? "" : "s", names,
          opts->num_inputs, opts->num_inputs == 1 ? " was" : "s were");
    goto done;
  }
  /* With --bench the outputs may be left unwritten (no -o at all). */
  bool write_outputs = !(opts->bench > 0 && opts->num_outputs == 0);
  if (write_outputs && opts->num_outputs != s.num_outputs) {
    char names[512] = "";
    size_t n = 0;
    for (int32_t i = 0; i < s.num_outputs && n < sizeof(names); ++i)
      n += (size_t)snprintf(names + n, sizeof(names) - n, "%s'%s'",
                            i ? ", " : "", s.output_info[i].name);
    error("%s has %d output%s (%s), but %d -o file%s given", model,
          (int)s.num_outputs, s.num_outputs == 1 ? "" : "s", names,
          opts->num_outputs, opts->num_outputs == 1 ? " was" : "s were");
    goto done;
  }

  int64_t batch;
  if (!load_inputs(&s, opts, &batch))
    goto done;
  for (int32_t i = 0; i < s.num_outputs; ++i) {
    if (!tensor_bytes(&s.output_info[i], batch, &s.output_bytes[i])) {
      error("output %d '%s' is too large at batch %lld", (int)i,
            s.output_info[i].name, (long long)batch);
      goto done;
    }
    s.output_data[i] = malloc(s.output_bytes[i] ? s.output_bytes[i] : 1);
    if (!s.output_data[i]) {
      error("out of memory for output %d '%s' (%zu bytes)", (int)i,
            s.output_info[i].name, s.output_bytes[i]);
      goto done;
    }
  }

  int status = s.api->create(&s.instance);
  if (status != CNNC_OK || !s.instance) {
    s.instance = NULL;
    error("%s: cannot create a model instance (status %d, %s): %s", model,
          status, cnnc_status_name(status), s.api->last_error(NULL));
    goto done;
  }
  if (opts->state_path) {
    /* The weights of a cnnc-train checkpoint (a library built with --train:
     * only those read training states). */
    cnnc_checkpoint c;
    if (cnnc_checkpoint_read(opts->state_path, &c, msg, sizeof(msg)) !=
        CNNC_OK) {
      error("%s", msg);
      goto done;
    }
    status = s.api->load_state
                 ? s.api->load_state(s.instance, c.state, c.state_bytes)
                 : CNNC_ERROR_UNSUPPORTED;
    cnnc_checkpoint_free(&c);
    if (status != CNNC_OK) {
      const char *why = s.api->last_error(s.instance);
      error("--state %s: %s (status %d, %s)", opts->state_path,
            why && *why ? why : "the library cannot load training states",
            status, cnnc_status_name(status));
      goto done;
    }
  }
  if (opts->threads_given) {
    status = s.api->set_num_threads(s.instance, opts->threads);
    if (status != CNNC_OK) {
      const char *why = s.api->last_error(s.instance);
      error("%s: cannot use %d threads (status %d, %s): %s", model,
            opts->threads, status, cnnc_status_name(status),
            why && *why ? why : "no message");
      goto done;
    }
  }

  if (opts->bench > 0) {
    s.times = calloc((size_t)opts->bench, sizeof(double));
    if (!s.times) {
      error("out of memory");
      goto done;
    }
    for (int r = 0; r < opts->warmup; ++r)
      if (!run_once(&s, opts, batch))
        goto done;
    for (int r = 0; r < opts->bench; ++r) {
      double start = now_ms();
      if (!run_once(&s, opts, batch))
        goto done;
      s.times[r] = now_ms() - start;
    }
    qsort(s.times, (size_t)opts->bench, sizeof(double), compare_doubles);
    int k = opts->bench;
    double median =
        k % 2 ? s.times[k / 2] : (s.times[k / 2 - 1] + s.times[k / 2]) / 2;
    char threads[32];
    if (opts->threads > 0)
      snprintf(threads, sizeof(threads), "%d threads", opts->threads);
    else
      snprintf(threads, sizeof(threads), "%s threads",
               opts->threads_given ? "all" : "default");
    printf("latency ms: min %.3f  median %.3f  max %.3f  (%d run%s, batch "
           "%lld, %s)\n",
           s.times[0], median, s.times[k - 1], k, k == 1 ? "" : "s",
           (long long)batch, threads);
    fflush(stdout);
  } else if (!run_once(&s, opts, batch)) {
    goto done;
  }

  for (int32_t i = 0; write_outputs && i < s.num_outputs; ++i) {
    const cnnc_tensor_info *info = &s.output_info[i];
    int64_t dims[CNNC_MAX_RANK];
    for (int32_t d = 0; d < info->rank; ++d)
      dims[d] = info->dims[d] == -1 ? batch : info->dims[d];
    if (cnnc_npy_write(opts->outputs[i], info->dtype, info->rank, dims,
                       s.output_data[i], msg, sizeof(msg)) != CNNC_OK) {
      error("output %d '%s': %s", (int)i, info->name, msg);
      goto done;
    }
  }
  exit_code = 0;
done:
  session_free(&s);
  return exit_code;
}

int main(int argc, char **argv) {
  /* Past a file-size limit a write then fails (EFBIG) and is reported,
   * instead of SIGXFSZ killing the process mid-file. */
  signal(SIGXFSZ, SIG_IGN);
  options opts;
  memset(&opts, 0, sizeof(opts));
  int parsed = parse_args(argc, argv, &opts);
  int exit_code = parsed == 0 ? run(&opts) : parsed == 2 ? 0 : 1;
  free(opts.inputs);
  free(opts.outputs);
  return exit_code;
}
