/*===- plan.c - the library's fine-tuning plan as cnnc-train defaults -----===*
 *
 * A library compiled from a DSL model with a `train { }` block (or with
 * `cnnc --unfreeze-at`) carries its plan (model_abi.h, cnnc_train_plan).
 * Every setting the command line leaves open comes from it: the optimizer
 * and its arguments, the base and per-group learning rates, the epochs, the
 * batch and the unfreezing epochs. The command line wins where both speak.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L /* strdup */

#include "train.h"

#include <stdlib.h>
#include <string.h>

static const char *const optimizer_names[] = {"sgd", "adam", "adamw"};

/* The checks between optimizer options, once the plan is merged. */
static bool check_optimizer(const options *opts) {
  const cnnc_train_config *c = &opts->config;
  bool sgd = c->optimizer == CNNC_OPTIMIZER_SGD;
  if (!sgd && opts->momentum_given) {
    error("--momentum is for --optimizer sgd; adam and adamw take --betas");
    return false;
  }
  if (sgd && (opts->betas_given || opts->eps_given)) {
    error("%s is for --optimizer adam or adamw",
          opts->betas_given ? "--betas" : "--eps");
    return false;
  }
  if (c->nesterov && !(sgd && c->momentum > 0)) {
    error("--nesterov needs --optimizer sgd and a --momentum above 0");
    return false;
  }
  return true;
}

bool apply_plan(session *s, options *opts) {
  const cnnc_train_plan *plan =
      opts->use_plan && s->api->train_plan ? s->api->train_plan() : NULL;
  if (!plan)
    return check_optimizer(opts);
  cnnc_train_config *c = &opts->config;
  if (plan->has_optimizer) {
    const cnnc_train_config *p = &plan->config;
    if (!opts->optimizer_given) {
      /* The plan's optimizer with its arguments, then the command line's
       * individual overrides. */
      cnnc_train_config merged = *p;
      merged.seed = c->seed;
      merged.lr = opts->lr_given ? c->lr : p->lr;
      if (opts->momentum_given)
        merged.momentum = c->momentum;
      if (opts->weight_decay_given)
        merged.weight_decay = c->weight_decay;
      if (opts->betas_given) {
        merged.beta1 = c->beta1;
        merged.beta2 = c->beta2;
      }
      if (opts->eps_given)
        merged.eps = c->eps;
      if (c->nesterov)
        merged.nesterov = 1;
      *c = merged;
    } else if (!opts->lr_given) {
      c->lr = p->lr;
    }
    if (!opts->epochs_given && !opts->steps && plan->epochs > 0)
      opts->epochs = plan->epochs;
    if (!opts->batch_given && plan->batch > 0)
      opts->batch = plan->batch;
  }
  /* Group learning rates and unfreezing epochs go first, so that the
   * command line's (applied later, in order) win. */
  int n_lr = 0, n_unfreeze = 0;
  for (int32_t i = 0; i < plan->num_groups; ++i) {
    n_lr += plan->groups[i].lr >= 0;
    n_unfreeze += plan->groups[i].unfreeze_epoch > 0;
  }
  lr_group *lrs =
      calloc((size_t)(n_lr + opts->num_lr_groups) + 1, sizeof(*lrs));
  unfreeze_at *unf =
      calloc((size_t)(n_unfreeze + opts->num_unfreeze) + 1, sizeof(*unf));
  if (!lrs || !unf) {
    free(lrs);
    free(unf);
    error("out of memory");
    return false;
  }
  int k = 0, u = 0;
  for (int32_t i = 0; i < plan->num_groups; ++i) {
    const cnnc_plan_group *g = &plan->groups[i];
    if (g->lr >= 0)
      lrs[k++] = (lr_group){strdup(g->name), g->lr};
    bool overridden = false;
    for (int j = 0; j < opts->num_unfreeze; ++j)
      overridden |= strcmp(opts->unfreeze[j].group, g->name) == 0;
    if (g->unfreeze_epoch > 0 && !overridden)
      unf[u++] = (unfreeze_at){g->name, g->unfreeze_epoch};
  }
  for (int i = 0; i < opts->num_lr_groups; ++i)
    lrs[k++] = opts->lr_groups[i];
  for (int i = 0; i < opts->num_unfreeze; ++i)
    unf[u++] = opts->unfreeze[i];
  free(opts->lr_groups);
  free(opts->unfreeze);
  opts->lr_groups = lrs;
  opts->num_lr_groups = k;
  opts->unfreeze = unf;
  opts->num_unfreeze = u;
  if (!opts->quiet) {
    printf("plan of %s: ", s->api->model_name);
    if (plan->has_optimizer)
      printf("%s lr %g, ",
             c->optimizer >= 0 && c->optimizer <= 2
                 ? optimizer_names[c->optimizer]
                 : "?",
             (double)c->lr);
    printf("%d group learning rate%s, %d unfreezing step%s (command-line "
           "options override it; --no-plan ignores it)\n",
           n_lr, n_lr == 1 ? "" : "s", n_unfreeze, n_unfreeze == 1 ? "" : "s");
    fflush(stdout);
  }
  return check_optimizer(opts);
}
