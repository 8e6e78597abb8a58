/* thread_pool.h - the thread pool that runs the kernels' parallel loops
 * (internal to the runtime linked into every model). */
#ifndef CNNC_RUNTIME_THREAD_POOL_H
#define CNNC_RUNTIME_THREAD_POOL_H

/* Uses `threads` threads (0: one per core) for the parallel loops of the
 * kernels that run next; the first call installs the pool as Halide's
 * do_par_for, unless CNNC_THREAD_POOL=halide asks for Halide's own. */
void cnnc_pool_configure(int threads);

#endif /* CNNC_RUNTIME_THREAD_POOL_H */
