/*===- state.c - the executor: the training state: save and load
 *------------===*
 *
 * Part of the executor linked into every model library (see
 * executor_internal.h for how it is split).
 *
 *===----------------------------------------------------------------------===*/
#include "executor_internal.h"
#include "thread_pool.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*===-- Training state ----------------------------------------------------===*
 *
 * "CNNCSTAT", u32 version, then little-endian fields as written below. */

#define STATE_MAGIC "CNNCSTAT"
/* Version 2 ends with a CRC-32 of every byte before it, so a damaged state
 * (a flipped bit in a weight) is refused instead of loaded. */
#define STATE_VERSION 2u

/* zlib's CRC-32 (reflected polynomial 0xEDB88320). Written here because the
 * code inside a model library links nothing but libc. */
static uint32_t state_crc32(const unsigned char *p, size_t n) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    table[i] = c;
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

typedef struct state_io {
  unsigned char *out; /* NULL: only count */
  const unsigned char *in;
  size_t pos, size;
  int bad;
} state_io;

static void put(state_io *io, const void *data, size_t n) {
  if (io->out)
    memcpy(io->out + io->pos, data, n);
  io->pos += n;
}

static int get(state_io *io, void *data, size_t n) {
  if (io->bad || n > io->size - io->pos) {
    io->bad = 1;
    return 0;
  }
  if (data)
    memcpy(data, io->in + io->pos, n);
  io->pos += n;
  return 1;
}

static void put_u32(state_io *io, uint32_t v) { put(io, &v, 4); }
static void put_i64(state_io *io, int64_t v) { put(io, &v, 8); }
static void put_str(state_io *io, const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  put_u32(io, n);
  put(io, s, n);
}

static void write_state(cnnc_model *m, state_io *io) {
  const cnnc_rt_model *model = m->model;
  put(io, STATE_MAGIC, 8);
  put_u32(io, STATE_VERSION);
  put_str(io, model->name);
  put_u32(io, (uint32_t)model->num_params);
  put_u32(io, (uint32_t)m->configured);
  put(io, &m->config, sizeof m->config);
  put_i64(io, m->step);
  int64_t rng[2] = {0, 0};
  if (model->rng_offset >= 0)
    memcpy(rng, m->params + model->rng_offset, sizeof rng);
  put(io, rng, sizeof rng);
  for (int32_t p = 0; p < model->num_params; ++p) {
    const param_state *s = &m->pstate[p];
    size_t bytes = cnnc_rt_param_bytes(model, p);
    put_str(io, model->params[p].info.name);
    put_i64(io, (int64_t)bytes);
    put_u32(io, (uint32_t)s->frozen);
    put(io, &s->lr, sizeof s->lr);
    put_i64(io, s->step);
    put_u32(io, (s->momentum ? 1u : 0u) | (s->second ? 2u : 0u));
    put(io, cnnc_rt_param_values(m, p), bytes);
    if (s->momentum)
      put(io, s->momentum, bytes);
    if (s->second)
      put(io, s->second, bytes);
  }
  uint32_t crc = io->out ? state_crc32(io->out, io->pos) : 0;
  put_u32(io, crc);
}

int cnnc_rt_save_state(cnnc_model *m, void *data, size_t *bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!bytes)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null size pointer");
  /* As load_state: a training state needs a training library (whose
   * parameters are stored in their plain layout). */
  if (!cnnc_rt_has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  state_io io = {0};
  write_state(m, &io);
  if (!data) {
    *bytes = io.pos;
    return CNNC_OK;
  }
  if (*bytes < io.pos)
    return cnnc_rt_fail(
        m, CNNC_ERROR_SHAPE,
        "the training state needs %zu bytes, the caller gave %zu", io.pos,
        *bytes);
  state_io w = {0};
  w.out = data;
  write_state(m, &w);
  *bytes = w.pos;
  return CNNC_OK;
}

/* Reads a state; with apply == 0 only checks it. */
static int read_state(cnnc_model *m, const unsigned char *data, size_t size,
                      int apply) {
  const cnnc_rt_model *model = m->model;
  state_io io = {0};
  io.in = data;
  io.size = size;
  char magic[8];
  uint32_t version = 0, n = 0, configured = 0;
  if (!get(&io, magic, 8) || memcmp(magic, STATE_MAGIC, 8) != 0)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "not a cnnc training state (bad magic)");
  get(&io, &version, 4);
  if (io.bad || version != STATE_VERSION)
    return cnnc_rt_fail(
        m, CNNC_ERROR_INVALID_ARGUMENT,
        "training state version %u, this library reads version %u", version,
        STATE_VERSION);
  /* The checksum covers everything before it; checked once, before any
   * field is trusted. */
  if (size < io.pos + 4)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "truncated training state (no checksum)");
  size -= 4;
  io.size = size;
  if (!apply) {
    uint32_t stored;
    memcpy(&stored, data + size, 4);
    if (state_crc32(data, size) != stored)
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "the training state is damaged (checksum mismatch)");
  }
  char name[256];
  if (!get(&io, &n, 4) || n >= sizeof name || !get(&io, name, n))
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "truncated training state (model name)");
  name[n] = 0;
  if (strcmp(name, model->name) != 0)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "the training state is of model '%s', not '%s'", name,
                        model->name);
  if (!get(&io, &n, 4) || n != (uint32_t)model->num_params)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "the training state has %u parameters, %s has %d", n,
                        model->name, (int)model->num_params);
  cnnc_train_config config;
  int64_t step = 0, rng[2];
  get(&io, &configured, 4);
  get(&io, &config, sizeof config);
  get(&io, &step, 8);
  get(&io, rng, sizeof rng);
  if (io.bad)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "truncated training state");
  if (!configured)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "the training state was saved before train_configure");
  if (apply) {
    int status = cnnc_rt_train_configure(m, &config);
    if (status != CNNC_OK)
      return status;
    m->step = step;
    if (model->rng_offset >= 0)
      memcpy(m->params + model->rng_offset, rng, sizeof rng);
  } else if (step < 0) {
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "bad step count %lld",
                        (long long)step);
  }
  for (int32_t p = 0; p < model->num_params; ++p) {
    param_state *s = &m->pstate[p];
    const char *pname = model->params[p].info.name;
    uint32_t frozen = 0, flags = 0;
    int64_t bytes = 0, pstep = 0;
    float lr = 0;
    if (!get(&io, &n, 4))
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "truncated training state");
    if (io.pos + n > size || strlen(pname) != n ||
        memcmp(io.in + io.pos, pname, n) != 0)
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "parameter %d of the training state is not '%s'",
                          (int)p, pname);
    get(&io, NULL, n);
    get(&io, &bytes, 8);
    get(&io, &frozen, 4);
    get(&io, &lr, 4);
    get(&io, &pstep, 8);
    get(&io, &flags, 4);
    if (io.bad)
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "truncated training state");
    if (bytes != (int64_t)cnnc_rt_param_bytes(model, p))
      return cnnc_rt_fail(
          m, CNNC_ERROR_SHAPE,
          "parameter '%s' has %lld bytes in the training state, %zu "
          "in the model",
          pname, (long long)bytes, cnnc_rt_param_bytes(model, p));
    int trainable = model->params[p].info.trainable;
    uint32_t expected =
        trainable
            ? (config.optimizer != CNNC_OPTIMIZER_SGD || config.momentum > 0
                   ? 1u
                   : 0u) |
                  (config.optimizer != CNNC_OPTIMIZER_SGD ? 2u : 0u)
            : 0u;
    if (!(lr >= 0) || pstep < 0 || frozen > 1u || flags != expected)
      return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                          "bad optimizer state of parameter '%s'", pname);
    int has_first = (flags & 1u) != 0, has_second = (flags & 2u) != 0;
    if (apply) {
      s->frozen = (int32_t)frozen;
      s->lr = lr;
      s->step = pstep;
      get(&io, cnnc_rt_param_values(m, p), (size_t)bytes);
      if (has_first)
        get(&io, s->momentum, (size_t)bytes);
      if (has_second)
        get(&io, s->second, (size_t)bytes);
    } else {
      get(&io, NULL, (size_t)bytes * (size_t)(1 + has_first + has_second));
      if (io.bad)
        return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                            "truncated training state (values of '%s')", pname);
    }
  }
  if (io.pos != size)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT,
                        "%zu unexpected bytes after the training state",
                        size - io.pos);
  if (apply) {
    m->phase = -1;
    m->layouts_stale = 1;
  }
  return CNNC_OK;
}

int cnnc_rt_load_state(cnnc_model *m, const void *data, size_t bytes) {
  if (!m)
    return CNNC_ERROR_INVALID_ARGUMENT;
  m->error[0] = 0;
  if (!data)
    return cnnc_rt_fail(m, CNNC_ERROR_INVALID_ARGUMENT, "null training state");
  if (!cnnc_rt_has_training(m))
    return CNNC_ERROR_UNSUPPORTED;
  int status = read_state(m, data, bytes, /*apply=*/0);
  if (status == CNNC_OK)
    status = read_state(m, data, bytes, /*apply=*/1);
  if (status == CNNC_OK)
    cnnc_rt_drop_pending(m);
  return status;
}
