/* thread_pool.c - Halide's parallel loops on workers that spin between loops.
 *
 * Halide's own pool lets its workers sleep almost as soon as a parallel loop
 * ends, and waking a sleeping thread costs tens of microseconds (a futex
 * wake, on a virtual machine an interrupt to an idle virtual CPU): longer
 * than a whole kernel of LeNet-5, whose kernels were slower on two threads
 * than on one. Here workers spin for POOL_SPIN_NS after each loop before
 * they sleep, so back-to-back kernels (a forward pass, a training step)
 * never wait for a wake-up; idle, the pool sleeps. Installed with
 * halide_set_custom_do_par_for; CNNC_THREAD_POOL=halide keeps Halide's.
 *
 * One loop runs on the pool at a time: a loop started while another runs
 * (another application thread, another model) or from inside a task runs
 * serially on its caller's thread. Iterations are handed out one at a time
 * by an atomic counter; the kernels' schedules group small iterations into
 * tasks of a few microseconds (lib/Codegen/KernelBuilder.cpp).
 */
#include "thread_pool.h"

#include <HalideRuntime.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX_WORKERS 255
#define POOL_SPIN_NS 300000 /* 0.3 ms */

typedef struct pool_job {
  halide_task_t f;
  void *user_context;
  uint8_t *closure;
  int min, size;
  atomic_int next;  /* next iteration to hand out */
  atomic_int done;  /* iterations finished (or skipped after an error) */
  atomic_int error; /* the first nonzero result of a task */
} pool_job;

static struct {
  pthread_mutex_t lock; /* sleeping workers; spawning */
  pthread_cond_t wake;
  pthread_mutex_t caller; /* the loop that owns the pool */
  pthread_t threads[POOL_MAX_WORKERS];
  int spawned;
  atomic_int limit; /* workers that may join a loop */
  _Atomic(pool_job *) job;
  atomic_uint seq; /* bumped for every loop */
  atomic_int sleepers, busy, stop;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .caller = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int in_task;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void run_iterations(pool_job *j) {
  in_task = 1;
  for (;;) {
    int i = atomic_fetch_add(&j->next, 1);
    if (i >= j->size)
      break;
    if (atomic_load(&j->error) == 0) {
      int r = j->f(j->user_context, j->min + i, j->closure);
      if (r != 0) {
        int none = 0;
        atomic_compare_exchange_strong(&j->error, &none, r);
      }
    }
    atomic_fetch_add(&j->done, 1);
  }
  in_task = 0;
}

static void *worker_main(void *arg) {
  int index = (int)(intptr_t)arg;
  unsigned seen = atomic_load(&pool.seq);
  for (;;) {
    uint64_t start = now_ns();
    unsigned spins = 0, seq;
    while ((seq = atomic_load(&pool.seq)) == seen && !atomic_load(&pool.stop)) {
      if ((++spins & 255) == 0 && now_ns() - start > POOL_SPIN_NS) {
        pthread_mutex_lock(&pool.lock);
        atomic_fetch_add(&pool.sleepers, 1);
        while (atomic_load(&pool.seq) == seen && !atomic_load(&pool.stop))
          pthread_cond_wait(&pool.wake, &pool.lock);
        atomic_fetch_sub(&pool.sleepers, 1);
        pthread_mutex_unlock(&pool.lock);
        start = now_ns();
      }
      relax();
    }
    if (atomic_load(&pool.stop))
      return NULL;
    seen = seq;
    if (index >= atomic_load(&pool.limit))
      continue;
    /* `busy` before reading the job: the loop's owner waits for busy == 0
     * after withdrawing its job, so no worker reads a finished job. */
    atomic_fetch_add(&pool.busy, 1);
    pool_job *j = atomic_load(&pool.job);
    if (j)
      run_iterations(j);
    atomic_fetch_sub(&pool.busy, 1);
  }
}

static int serial_par_for(void *user_context, halide_task_t f, int min,
                          int size, uint8_t *closure) {
  for (int i = 0; i < size; ++i) {
    int r = f(user_context, min + i, closure);
    if (r != 0)
      return r;
  }
  return 0;
}

static int pool_do_par_for(void *user_context, halide_task_t f, int min,
                           int size, uint8_t *closure) {
  if (size <= 1 || atomic_load(&pool.limit) <= 0 || in_task ||
      pthread_mutex_trylock(&pool.caller) != 0)
    return serial_par_for(user_context, f, min, size, closure);
  pool_job j;
  j.f = f;
  j.user_context = user_context;
  j.closure = closure;
  j.min = min;
  j.size = size;
  atomic_init(&j.next, 0);
  atomic_init(&j.done, 0);
  atomic_init(&j.error, 0);
  atomic_store(&pool.job, &j);
  atomic_fetch_add(&pool.seq, 1);
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  run_iterations(&j);
  while (atomic_load(&j.done) < size)
    relax();
  atomic_store(&pool.job, NULL);
  while (atomic_load(&pool.busy) > 0)
    relax();
  pthread_mutex_unlock(&pool.caller);
  return atomic_load(&j.error);
}

void cnnc_pool_configure(int threads) {
  /* Called before every run and optimizer step: the environment and the
   * core count are read once, and an unchanged thread count takes no lock. */
  static atomic_int mode; /* 0: not decided, 1: this pool, 2: Halide's */
  static atomic_int cores;
  if (atomic_load(&mode) == 0) {
    const char *which = getenv("CNNC_THREAD_POOL");
    int use_halide = which && strcmp(which, "halide") == 0;
    int undecided = 0;
    if (atomic_compare_exchange_strong(&mode, &undecided, use_halide ? 2 : 1) &&
        !use_halide)
      halide_set_custom_do_par_for(pool_do_par_for);
  }
  if (atomic_load(&mode) != 1)
    return;
  if (threads <= 0) {
    if (atomic_load(&cores) == 0) {
      long online = sysconf(_SC_NPROCESSORS_ONLN);
      atomic_store(&cores, online > 0 ? (int)online : 1);
    }
    threads = atomic_load(&cores);
  }
  int workers = threads - 1;
  if (workers > POOL_MAX_WORKERS)
    workers = POOL_MAX_WORKERS;
  if (atomic_load(&pool.limit) == workers)
    return;
  pthread_mutex_lock(&pool.lock);
  while (pool.spawned < workers &&
         pthread_create(&pool.threads[pool.spawned], NULL, worker_main,
                        (void *)(intptr_t)pool.spawned) == 0)
    ++pool.spawned;
  atomic_store(&pool.limit, workers < pool.spawned ? workers : pool.spawned);
  pthread_mutex_unlock(&pool.lock);
}

/* When the model library is unloaded (or the process exits): the workers
 * run this library's code, so they stop first. */
__attribute__((destructor)) static void pool_shutdown(void) {
  pthread_mutex_lock(&pool.lock);
  atomic_store(&pool.stop, 1);
  pthread_cond_broadcast(&pool.wake);
  int spawned = pool.spawned;
  pool.spawned = 0;
  pthread_mutex_unlock(&pool.lock);
  for (int i = 0; i < spawned; ++i)
    pthread_join(pool.threads[i], NULL);
}
