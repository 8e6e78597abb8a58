/* The kernels' parallel loops run on cnnc's thread pool (runtime/src/model/
 * thread_pool.c). A run on two threads must give the bits of a run on one;
 * two application threads running instances at once must both get them
 * (one owns the pool, the other runs its loops serially); and unloading the
 * library with its workers alive, then loading it again, must work. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lenet5.h" /* types only: the library is loaded with dlopen */

#define BATCH 64
#define ROUNDS 20

typedef int (*create_fn)(cnnc_model **);
typedef void (*release_fn)(cnnc_model *);
typedef int (*run_fn)(cnnc_model *, int64_t, const void *const *,
                      const size_t *, void *const *, const size_t *);
typedef int (*threads_fn)(cnnc_model *, int32_t);

static create_fn create;
static release_fn release;
static run_fn run;
static threads_fn set_threads;
static float image[BATCH * 28 * 28], expected[BATCH * 10];

static int infer(cnnc_model *m, float *logits) {
  const void *in[] = {image};
  size_t in_bytes[] = {sizeof image};
  void *out[] = {logits};
  size_t out_bytes[] = {sizeof expected};
  return run(m, BATCH, in, in_bytes, out, out_bytes);
}

static void *app_thread(void *arg) {
  (void)arg;
  cnnc_model *m = NULL;
  static _Thread_local float logits[BATCH * 10];
  if (create(&m) != CNNC_OK || set_threads(m, 2) != CNNC_OK)
    return (void *)1;
  intptr_t bad = 0;
  for (int r = 0; r < ROUNDS; ++r)
    bad |= infer(m, logits) != CNNC_OK ||
           memcmp(logits, expected, sizeof expected) != 0;
  release(m);
  return (void *)bad;
}

static int load(const char *path, void **handle) {
  *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!*handle) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  create = (create_fn)dlsym(*handle, "lenet5_create");
  release = (release_fn)dlsym(*handle, "lenet5_release");
  run = (run_fn)dlsym(*handle, "lenet5_run");
  set_threads = (threads_fn)dlsym(*handle, "lenet5_set_num_threads");
  return !create || !release || !run || !set_threads;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  for (int i = 0; i < BATCH * 28 * 28; ++i)
    image[i] = (float)((i * 7919) % 255) / 255.0f;
  for (int cycle = 0; cycle < 3; ++cycle) {
    void *handle;
    if (load(argv[1], &handle))
      return 1;
    cnnc_model *m = NULL;
    float logits[BATCH * 10];
    if (create(&m) != CNNC_OK || set_threads(m, 1) != CNNC_OK ||
        infer(m, cycle ? logits : expected) != CNNC_OK)
      return 1;
    if (cycle)
      printf("cycle %d, reloaded, 1 thread: %s\n", cycle,
             memcmp(logits, expected, sizeof logits) ? "DIFFERENT" : "same");
    set_threads(m, 2);
    int same = 1;
    for (int r = 0; r < ROUNDS; ++r)
      same &= infer(m, logits) == CNNC_OK &&
              memcmp(logits, expected, sizeof logits) == 0;
    printf("cycle %d, 2 threads: %s\n", cycle, same ? "same" : "DIFFERENT");
    release(m);
    pthread_t apps[2];
    for (int t = 0; t < 2; ++t)
      pthread_create(&apps[t], NULL, app_thread, NULL);
    for (int t = 0; t < 2; ++t) {
      void *bad;
      pthread_join(apps[t], &bad);
      printf("cycle %d, application thread %d: %s\n", cycle, t,
             bad ? "DIFFERENT" : "same");
    }
    dlclose(handle);
  }
  return 0;
}
