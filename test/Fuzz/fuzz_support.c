/*===- fuzz_support.c - helpers shared by cnnc's fuzz targets ------------===*/
#define _POSIX_C_SOURCE 200809L

#include "fuzz_support.h"

#include "cnnc/tool_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void remove_dir(void) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
      }
    closedir(d);
  }
  rmdir(dir);
}

const char *cnnc_fuzz_write_file(const char *name, const void *data,
                                 size_t size) {
  static char path[512];
  if (!dir[0]) {
    struct stat st;
    const char *base =
        stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0
            ? "/dev/shm"
            : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(dir, sizeof dir, "%s/cnnc-fuzz-XXXXXX", base);
    if (!mkdtemp(dir)) {
      perror("cnnc fuzz: mkdtemp");
      abort();
    }
    atexit(remove_dir);
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || cnnc_write_all(fd, data, size) != 0 || close(fd) != 0) {
    perror("cnnc fuzz: writing the input file");
    abort();
  }
  return path;
}
