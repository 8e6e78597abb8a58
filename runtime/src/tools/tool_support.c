/*===- tool_support.c - shared helpers of the runtime's tool code --------===*/
#define _XOPEN_SOURCE 700 /* realpath, lstat */

#include "cnnc/tool_support.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef CNNC_HAVE_ZLIB
#include <zlib.h>
#endif
#include <unistd.h>

int cnnc_fail(char *err, size_t err_len, int status, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_len, fmt, args);
    va_end(args);
  }
  return status;
}

const char *cnnc_status_name(int status) {
  switch (status) {
  case CNNC_OK:
    return "ok";
  case CNNC_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case CNNC_ERROR_SHAPE:
    return "shape mismatch";
  case CNNC_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case CNNC_ERROR_KERNEL:
    return "kernel error";
  case CNNC_ERROR_UNSUPPORTED:
    return "unsupported";
  case CNNC_ERROR_IO:
    return "I/O error";
  case CNNC_ERROR_NUMERIC:
    return "numeric error";
  case CNNC_ERROR_CPU:
    return "CPU lacks the library's features";
  }
  return "unknown status";
}

void cnnc_format_shape(char *buf, size_t len, int32_t rank,
                       const int64_t *dims) {
  size_t n = (size_t)snprintf(buf, len, "(");
  for (int32_t d = 0; d < rank && n < len; ++d) {
    if (dims[d] == -1)
      n += (size_t)snprintf(buf + n, len - n, "N");
    else
      n += (size_t)snprintf(buf + n, len - n, "%lld", (long long)dims[d]);
    if (n < len && (d + 1 < rank || rank == 1))
      n += (size_t)snprintf(buf + n, len - n, d + 1 < rank ? ", " : ",");
  }
  if (n < len)
    snprintf(buf + n, len - n, ")");
}

int cnnc_write_all(int fd, const void *data, size_t size) {
  const char *p = (const char *)data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

void cnnc_parent_dir(const char *path, char *buf, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(buf, len, ".");
  else if (slash == path)
    snprintf(buf, len, "/");
  else
    snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int cnnc_write_file_atomically(const char *path, const void *data, size_t size,
                               char *err, size_t err_len) {
  return cnnc_write_parts_atomically(path, &data, &size, 1, err, err_len);
}

/* Writes the parts one after the other to fd; 0, or -1 with errno. */
static int write_parts(int fd, const void *const *parts, const size_t *sizes,
                       int n) {
  for (int i = 0; i < n; ++i)
    if (cnnc_write_all(fd, parts[i], sizes[i]) != 0)
      return -1;
  return 0;
}

int cnnc_write_parts_atomically(const char *path, const void *const *parts,
                                const size_t *sizes, int num_parts, char *err,
                                size_t err_len) {
  /* A symlink is written through (its target replaced, the link kept); a
   * special file (/dev/null, a FIFO) is written in place, never replaced by
   * a regular file; a regular file keeps its permissions. */
  char resolved[PATH_MAX];
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: is a directory", path);
  if (exists && !S_ISREG(st.st_mode)) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    int rc = write_parts(fd, parts, sizes, num_parts);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
      rc = -1;
      saved = errno;
    }
    return rc == 0 ? CNNC_OK
                   : cnnc_fail(err, err_len, CNNC_ERROR_IO,
                               "%s: cannot write: %s", path, strerror(saved));
  }
  struct stat lst;
  if (exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
    if (!realpath(path, resolved))
      return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: cannot resolve the symbolic link: %s", path,
                       strerror(errno));
    path = resolved;
  }
  size_t n = strlen(path);
  char *tmp = malloc(n + sizeof(".tmp.XXXXXX"));
  if (!tmp)
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory", path);
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int saved = errno;
    free(tmp);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot create: %s", path,
                     strerror(saved));
  }
  /* mkstemp makes the file 0600: an existing file keeps its mode, a new one
   * gets an ordinary output file's. */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, exists ? (st.st_mode & 07777) : (0666 & ~mask));
  if (write_parts(fd, parts, sizes, num_parts) != 0 || fsync(fd) != 0) {
    int saved = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot write: %s", path,
                     strerror(saved));
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int saved = errno;
    unlink(tmp);
    free(tmp);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot write: %s", path,
                     strerror(saved));
  }
  free(tmp);
  char dir[4096];
  cnnc_parent_dir(path, dir, sizeof dir);
  int dfd = open(dir, O_RDONLY);
  if (dfd >= 0) { /* the rename itself on the disk */
    fsync(dfd);
    close(dfd);
  }
  return CNNC_OK;
}

uint32_t cnnc_crc32(const void *data, size_t n) {
  return cnnc_crc32_update(0, data, n);
}

uint32_t cnnc_crc32_update(uint32_t crc, const void *data, size_t n) {
#ifdef CNNC_HAVE_ZLIB
  uLong c = crc;
  const unsigned char *p = data;
  while (n > 0) { /* crc32 takes an unsigned int length */
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
#else
  /* Builds without zlib (cross builds of the tools): the same CRC-32
   * (reflected polynomial 0xEDB88320), bit by bit; checkpoints are small. */
  const unsigned char *p = data;
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int b = 0; b < 8; ++b)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
#endif
}

int cnnc_same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
