/*===- plain_gz.h - zlib's gz* reading calls over plain files -------------===*
 *
 * For builds of the tools without zlib (a cross build for a CPU whose zlib
 * is not installed, e.g. aarch64 on an x86 machine): dataset.c reads plain
 * IDX and .npy files through these; a gzip-compressed file is refused with a
 * message saying to decompress it. Only what dataset.c calls is here.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CNNC_RUNTIME_PLAIN_GZ_H
#define CNNC_RUNTIME_PLAIN_GZ_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define Z_OK 0
#define Z_ERRNO (-1)
#define Z_DATA_ERROR (-3)

typedef struct plain_gz {
  int fd;
  int error; /* Z_OK, Z_ERRNO or Z_DATA_ERROR (a gzip file) */
  int checked;
} * gzFile;

static gzFile gzdopen(int fd, const char *mode) {
  (void)mode;
  gzFile f = calloc(1, sizeof *f);
  if (f)
    f->fd = fd;
  return f;
}

static int gzread(gzFile f, void *buf, unsigned len) {
  ssize_t n;
  do
    n = read(f->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    f->error = Z_ERRNO;
    return -1;
  }
  const unsigned char *b = buf;
  if (!f->checked && n >= 2) {
    f->checked = 1;
    if (b[0] == 0x1f && b[1] == 0x8b) {
      f->error = Z_DATA_ERROR;
      return -1;
    }
  }
  return (int)n;
}

static const char *gzerror(gzFile f, int *code) {
  *code = f->error;
  return f->error == Z_DATA_ERROR
             ? "gzip-compressed, and this build of the cnnc tools has no "
               "zlib: decompress it first (gunzip)"
             : "";
}

static int gzdirect(gzFile f) {
  (void)f;
  return 1;
}

static int gzclose(gzFile f) {
  int rc = close(f->fd);
  free(f);
  return rc;
}

#endif /* CNNC_RUNTIME_PLAIN_GZ_H */
