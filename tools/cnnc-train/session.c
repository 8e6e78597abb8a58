/*===- session.c - load a model and its data, check them together ---------===*
 *
 * Everything that can be wrong with the command is found here, before the
 * first step: a model without training entry points, data that does not fit
 * the model's input, labels outside its classes, an --export the model
 * cannot do, an unwritable --metrics-json.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/tool_support.h"
#include "train.h"

#include "cnnc/onnx_export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks the model's table and shapes; fills input, outputs, num_classes. */
static bool check_model(session *s) {
  const char *path = s->opts->model_path;
  const cnnc_model_api *api = s->api;
  if (!api->train_configure || !api->train_step || !api->num_params ||
      !api->param_info || !api->get_param) {
    error("%s: this model was compiled without training support; build it "
          "with `cnnc --train`",
          path);
    return false;
  }
  char shape[256];
  int32_t num_inputs = api->num_inputs();
  if (num_inputs != 1) {
    error("%s: the model has %d inputs; cnnc-train feeds models with one "
          "image input",
          path, (int)num_inputs);
    return false;
  }
  api->input_info(0, &s->input);
  cnnc_format_shape(shape, sizeof(shape), s->input.rank, s->input.dims);
  if (s->input.dtype != CNNC_DTYPE_F32 || s->input.rank < 1 ||
      s->input.dims[0] != -1) {
    error("%s: input '%s' %s of %s is not a batch of float32 images; "
          "cnnc-train needs a float32 input of shape (N, ...)",
          path, s->input.name, shape, cnnc_dtype_name(s->input.dtype));
    return false;
  }
  s->input_sample_elements = 1;
  for (int32_t d = 1; d < s->input.rank; ++d)
    s->input_sample_elements *= s->input.dims[d];

  s->num_outputs = api->num_outputs();
  if (s->num_outputs < 1) {
    error("%s: the model has no outputs", path);
    return false;
  }
  s->outputs = calloc((size_t)s->num_outputs + 1, sizeof(*s->outputs));
  if (!s->outputs) {
    error("out of memory");
    return false;
  }
  for (int32_t i = 0; i < s->num_outputs; ++i) {
    api->output_info(i, &s->outputs[i]);
    if (s->outputs[i].rank < 1 || s->outputs[i].dims[0] != -1) {
      cnnc_format_shape(shape, sizeof(shape), s->outputs[i].rank,
                        s->outputs[i].dims);
      error("%s: output '%s' %s has no batch dimension; cnnc-train needs "
            "outputs of shape (N, ...)",
            path, s->outputs[i].name, shape);
      return false;
    }
  }
  const cnnc_tensor_info *scores = &s->outputs[0];
  int64_t per_sample = 1;
  for (int32_t d = 1; d < scores->rank; ++d)
    per_sample *= scores->dims[d];
  s->num_classes = scores->rank >= 2 ? scores->dims[scores->rank - 1] : 0;
  if (scores->dtype != CNNC_DTYPE_F32 || s->num_classes < 2 ||
      per_sample != s->num_classes) {
    cnnc_format_shape(shape, sizeof(shape), scores->rank, scores->dims);
    error("%s: output '%s' %s is not a float32 tensor of class scores of "
          "shape (N, C) with C >= 2; cnnc-train trains classifiers",
          path, scores->name, shape);
    return false;
  }
  return true;
}

static bool read_data(const char *path, cnnc_dataset *out) {
  char msg[1024];
  if (cnnc_dataset_read(path, out, msg, sizeof(msg)) != CNNC_OK) {
    error("%s", msg);
    return false;
  }
  return true;
}

/* Reads an images/labels pair and checks it against the model. */
static bool load_pair(session *s, const char *images_path,
                      const char *labels_path, cnnc_dataset *images,
                      cnnc_dataset *labels) {
  char msg[1024];
  if (!read_data(images_path, images) || !read_data(labels_path, labels))
    return false;
  if (cnnc_dataset_check_images(images, images_path, msg, sizeof(msg)) !=
          CNNC_OK ||
      cnnc_dataset_check_labels(labels, labels_path, s->num_classes, msg,
                                sizeof(msg)) != CNNC_OK) {
    error("%s", msg);
    return false;
  }
  if (images->sample_elements != s->input_sample_elements) {
    char got[256], want[256];
    cnnc_dataset_format_shape(images, got, sizeof(got));
    cnnc_format_shape(want, sizeof(want), s->input.rank, s->input.dims);
    error("%s: images of shape %s have %lld value%s each, but one sample "
          "of the model's input '%s' %s has %lld",
          images_path, got, (long long)images->sample_elements,
          images->sample_elements == 1 ? "" : "s", s->input.name, want,
          (long long)s->input_sample_elements);
    return false;
  }
  if (labels->count != images->count) {
    error("%s: %lld labels, but %s holds %lld images", labels_path,
          (long long)labels->count, images_path, (long long)images->count);
    return false;
  }
  return true;
}

/* Lets the model say whether a --lr-group names one of its groups. */
static bool apply_lr_groups(session *s) {
  for (int i = 0; i < s->opts->num_lr_groups; ++i) {
    const lr_group *g = &s->opts->lr_groups[i];
    if (!s->api->set_learning_rate) {
      error("%s: the model cannot set per-group learning rates "
            "(--lr-group %s=%g)",
            s->opts->model_path, g->group, (double)g->lr);
      return false;
    }
    int status = s->api->set_learning_rate(s->model, g->group, g->lr);
    if (status != CNNC_OK) {
      const char *why = s->api->last_error(s->model);
      error("--lr-group %s=%g: %s", g->group, (double)g->lr,
            why && *why ? why : cnnc_status_name(status));
      return false;
    }
  }
  return true;
}

static bool configure_model(session *s) {
  const options *opts = s->opts;
  const cnnc_model_api *api = s->api;
  int status = api->create(&s->model);
  if (status != CNNC_OK || !s->model) {
    s->model = NULL;
    error("%s: cannot create the model (status %d, %s): %s", opts->model_path,
          status, cnnc_status_name(status), api->last_error(NULL));
    return false;
  }
  if (opts->threads > 0) {
    status = api->set_num_threads(s->model, opts->threads);
    if (status != CNNC_OK) {
      const char *why = api->last_error(s->model);
      error("--threads %d: %s", opts->threads,
            why && *why ? why : cnnc_status_name(status));
      return false;
    }
  }
  status = api->train_configure(s->model, &opts->config);
  if (status != CNNC_OK) {
    const char *why = api->last_error(s->model);
    error("%s: the model refuses the optimizer settings: %s", opts->model_path,
          why && *why ? why : cnnc_status_name(status));
    return false;
  }
  return apply_lr_groups(s);
}

/* The export is written next to `path` and renamed: its directory must
 * take new files. */
static bool check_output_dir(const char *path) {
  char dir[4096];
  cnnc_parent_dir(path, dir, sizeof(dir));
  if (access(dir, W_OK | X_OK) != 0) {
    error("%s: cannot write there: %s: %s", path, dir, strerror(errno));
    return false;
  }
  return true;
}

bool session_open(session *s, options *opts) {
  memset(s, 0, sizeof(*s));
  s->opts = opts;
  char msg[1024];
  if (cnnc_loader_open(opts->model_path, &s->loaded, msg, sizeof(msg)) !=
      CNNC_OK) {
    error("%s", msg);
    return false;
  }
  s->api = cnnc_loader_api(s->loaded);
  if (!check_model(s) || !apply_plan(s, opts))
    return false;

  /* An impossible export is refused now, not after hours of training. */
  if (opts->export_path) {
    if (cnnc_onnx_export_check(s->api, msg, sizeof(msg)) != CNNC_OK) {
      error("%s: %s", opts->model_path, msg);
      return false;
    }
    if (!check_output_dir(opts->export_path))
      return false;
  }

  if ((opts->checkpoint_path || opts->resume_path) &&
      (!s->api->save_state || !s->api->load_state)) {
    error("%s: the model cannot save or load its training state (%s needs "
          "a library built by this cnnc with --train)",
          opts->model_path, opts->resume_path ? "--resume" : "--checkpoint");
    return false;
  }
  /* A checkpoint that cannot be written is refused now, not after the
   * first epoch. */
  if (opts->checkpoint_path && !check_output_dir(opts->checkpoint_path))
    return false;

  if (!load_pair(s, opts->train_images, opts->train_labels, &s->train_images,
                 &s->train_labels))
    return false;
  s->has_test = opts->test_images != NULL;
  if (s->has_test && !load_pair(s, opts->test_images, opts->test_labels,
                                &s->test_images, &s->test_labels))
    return false;

  if (opts->metrics_path) {
    /* A resumed run appends its epochs to the interrupted run's lines. */
    s->metrics = fopen(opts->metrics_path, opts->resume_path ? "a" : "w");
    if (!s->metrics) {
      error("%s: cannot write: %s", opts->metrics_path, strerror(errno));
      return false;
    }
  }
  return configure_model(s);
}

void session_close(session *s) {
  if (s->model)
    s->api->release(s->model);
  cnnc_dataset_free(&s->train_images);
  cnnc_dataset_free(&s->train_labels);
  cnnc_dataset_free(&s->test_images);
  cnnc_dataset_free(&s->test_labels);
  if (s->metrics)
    fclose(s->metrics);
  free(s->outputs);
  cnnc_loader_close(s->loaded);
  memset(s, 0, sizeof(*s));
}
