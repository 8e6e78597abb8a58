/*===- alloc.c - the kernels' heap allocations, cached ---------------------===*
 *
 * Halide kernels allocate their large temporaries (a padded input, a
 * Winograd convolution's transformed tiles: megabytes) with halide_malloc
 * and free them on every run. glibc hands such blocks back to the system
 * (munmap, or trimming the top of the heap), and the next run faults every
 * page in again: at 56x56 with 64 channels that doubled the time of a
 * Winograd convolution (AMD EPYC, one thread). Blocks of at least
 * kCachedMin bytes are kept for reuse instead: up to kSlots of them per
 * library, each serving a later request of at most its size and at least
 * half of it. cnnc_rt_kernel_cache_flush frees them (an instance's release
 * calls it).
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "executor_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

enum {
  kAlign = 64,              /* AVX-512 vectors; Halide asks for 32 */
  kHeader = 64,             /* the block's capacity, before the data */
  kCachedMin = 64 << 10,    /* smaller blocks: plain malloc and free */
  kSlots = 16,
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  unsigned char *raw;
  size_t capacity;
} cache[kSlots];

static unsigned char *block_alloc(size_t capacity) {
  void *raw = NULL;
  /* Halide may read 8 bytes past either end: the header and a tail. */
  if (posix_memalign(&raw, kAlign, kHeader + capacity + kAlign) != 0)
    return NULL;
  *(size_t *)raw = capacity;
  return raw;
}

static void *kernel_malloc(void *user_context, size_t bytes) {
  (void)user_context;
  unsigned char *raw = NULL;
  if (bytes >= kCachedMin) {
    pthread_mutex_lock(&cache_lock);
    int best = -1;
    for (int i = 0; i < kSlots; ++i)
      if (cache[i].raw && cache[i].capacity >= bytes &&
          cache[i].capacity / 2 <= bytes &&
          (best < 0 || cache[i].capacity < cache[best].capacity))
        best = i;
    if (best >= 0) {
      raw = cache[best].raw;
      cache[best].raw = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
  }
  if (!raw)
    raw = block_alloc(bytes < kCachedMin ? bytes : (bytes + 4095) / 4096 * 4096);
  return raw ? raw + kHeader : NULL;
}

static void kernel_free(void *user_context, void *ptr) {
  (void)user_context;
  if (!ptr)
    return;
  unsigned char *raw = (unsigned char *)ptr - kHeader;
  size_t capacity = *(size_t *)raw;
  if (capacity >= kCachedMin) {
    pthread_mutex_lock(&cache_lock);
    /* An empty slot, else the smallest cached block if smaller. */
    int slot = -1, smallest = 0;
    for (int i = 0; i < kSlots && slot < 0; ++i) {
      if (!cache[i].raw)
        slot = i;
      else if (cache[i].capacity < cache[smallest].capacity)
        smallest = i;
    }
    if (slot < 0 && cache[smallest].capacity < capacity)
      slot = smallest;
    unsigned char *evicted = NULL;
    if (slot >= 0) {
      evicted = cache[slot].raw;
      cache[slot].raw = raw;
      cache[slot].capacity = capacity;
      raw = evicted;
    }
    pthread_mutex_unlock(&cache_lock);
  }
  free(raw);
}

void cnnc_rt_install_kernel_allocator(void) {
  halide_set_custom_malloc(kernel_malloc);
  halide_set_custom_free(kernel_free);
}

void cnnc_rt_kernel_cache_flush(void) {
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < kSlots; ++i) {
    free(cache[i].raw);
    cache[i].raw = NULL;
  }
  pthread_mutex_unlock(&cache_lock);
}
