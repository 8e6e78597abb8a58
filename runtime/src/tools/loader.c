/*===- loader.c - open a cnnc model library at run time -------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/loader.h"
#include "cnnc/tool_support.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr elf_ehdr;
typedef Elf64_Phdr elf_phdr;
#define ELF_NATIVE_CLASS ELFCLASS64
#else
typedef Elf32_Ehdr elf_ehdr;
typedef Elf32_Phdr elf_phdr;
#define ELF_NATIVE_CLASS ELFCLASS32
#endif

/* More inputs or outputs than this is a corrupt table, not a model. */
#define LOADER_MAX_TENSORS 4096

struct cnnc_loaded_model {
  void *handle;
  const cnnc_model_api *api;
  char *path;
};

/* Names the first missing function of the table, or NULL. */
static const char *missing_function(const cnnc_model_api *api) {
  if (!api->create)
    return "create";
  if (!api->release)
    return "release";
  if (!api->num_inputs)
    return "num_inputs";
  if (!api->num_outputs)
    return "num_outputs";
  if (!api->input_info)
    return "input_info";
  if (!api->output_info)
    return "output_info";
  if (!api->run)
    return "run";
  if (!api->set_num_threads)
    return "set_num_threads";
  if (!api->last_error)
    return "last_error";
  return NULL;
}

/* Checks what the library says about one tensor, so tools can trust it. */
static int check_tensor(const char *path, const char *kind, int32_t index,
                        int (*info_fn)(int32_t, cnnc_tensor_info *), char *err,
                        size_t err_len) {
  cnnc_tensor_info info;
  memset(&info, 0, sizeof(info));
  int status = info_fn(index, &info);
  if (status != CNNC_OK)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %s_info(%d) failed with status %d",
                     path, kind, (int)index, status);
  if (!info.name)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %s %d has no name", path, kind,
                     (int)index);
  if (info.dtype != CNNC_DTYPE_F32 && info.dtype != CNNC_DTYPE_I64)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %s %d ('%s') has unknown dtype %d",
                     path, kind, (int)index, info.name, (int)info.dtype);
  if (info.rank < 0 || info.rank > CNNC_MAX_RANK)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %s %d ('%s') has rank %d", path,
                     kind, (int)index, info.name, (int)info.rank);
  for (int32_t d = 0; d < info.rank; ++d)
    if (info.dims[d] < 0 && !(d == 0 && info.dims[d] == -1))
      return cnnc_fail(
          err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
          "%s: malformed model: %s %d ('%s') has dimension %d = %lld", path,
          kind, (int)index, info.name, (int)d, (long long)info.dims[d]);
  return CNNC_OK;
}

static int check_api(const char *path, const cnnc_model_api *api, char *err,
                     size_t err_len) {
  const char *missing = missing_function(api);
  if (missing)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: the function table has no '%s'",
                     path, missing);
  int32_t inputs = api->num_inputs(), outputs = api->num_outputs();
  if (inputs < 0 || inputs > LOADER_MAX_TENSORS)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %d inputs", path, (int)inputs);
  if (outputs < 1 || outputs > LOADER_MAX_TENSORS)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "%s: malformed model: %d outputs", path, (int)outputs);
  for (int32_t i = 0; i < inputs; ++i) {
    int status = check_tensor(path, "input", i, api->input_info, err, err_len);
    if (status != CNNC_OK)
      return status;
  }
  for (int32_t i = 0; i < outputs; ++i) {
    int status =
        check_tensor(path, "output", i, api->output_info, err, err_len);
    if (status != CNNC_OK)
      return status;
  }
  return CNNC_OK;
}

/* The dynamic loader maps a library's segments without checking them
 * against the file's size: a truncated library (an interrupted copy) dies
 * of SIGBUS inside dlopen. Checks that the file is an ELF shared object
 * of this machine's class and byte order whose program headers, segments
 * and section headers all lie within the file. */
static int check_elf_extent(const char *path, char *err, size_t err_len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot open: %s", path,
                     strerror(errno));
  struct stat st;
  elf_ehdr eh;
  int status = CNNC_OK;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status =
        cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: not a regular file", path);
  } else if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
             memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: not a model library (not an ELF file)", path);
  } else if (eh.e_ident[EI_CLASS] != ELF_NATIVE_CLASS || eh.e_type != ET_DYN ||
             eh.e_phentsize != sizeof(elf_phdr)) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: not a shared library for this machine", path);
  } else {
    uint64_t size = (uint64_t)st.st_size;
    uint64_t ph_end =
        (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(elf_phdr);
    uint64_t sh_end =
        (uint64_t)eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
    uint64_t needed = ph_end > sh_end ? ph_end : sh_end;
    for (int i = 0; status == CNNC_OK && needed <= size && i < eh.e_phnum;
         ++i) {
      elf_phdr ph;
      if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
          (ssize_t)sizeof ph) {
        needed = size + 1;
        break;
      }
      if (ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) {
        uint64_t end = (uint64_t)ph.p_offset + (uint64_t)ph.p_filesz;
        if (end < ph.p_offset) /* wrapped */
          end = UINT64_MAX;
        if (end > needed)
          needed = end;
      }
    }
    if (status == CNNC_OK && needed > size)
      status =
          cnnc_fail(err, err_len, CNNC_ERROR_IO,
                    "%s: truncated model library: %llu bytes, its ELF "
                    "headers need %llu",
                    path, (unsigned long long)size, (unsigned long long)needed);
  }
  close(fd);
  return status;
}

int cnnc_loader_open(const char *path, cnnc_loaded_model **out, char *err,
                     size_t err_len) {
  if (!out)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_loader_open: null output pointer");
  *out = NULL;
  if (!path || !*path)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_loader_open: empty path");

  /* dlopen's own message for a missing file is "cannot open shared object
   * file", which reads as if the file existed; say it plainly. */
  struct stat st;
  if (stat(path, &st) != 0)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot open: %s", path,
                     strerror(errno));
  if (S_ISDIR(st.st_mode))
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: is a directory", path);
  int status = check_elf_extent(path, err, err_len);
  if (status != CNNC_OK)
    return status;

  /* Without a '/', dlopen searches LD_LIBRARY_PATH and the system
   * directories instead of the current directory. */
  bool relative = strchr(path, '/') == NULL;
  size_t len = strlen(path);
  char *open_path = malloc(len + 3);
  if (!open_path)
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory", path);
  snprintf(open_path, len + 3, "%s%s", relative ? "./" : "", path);

  dlerror();
  void *handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
  free(open_path);
  if (!handle) {
    const char *why = dlerror();
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: cannot load as a shared library: %s", path,
                     why ? why : "unknown error");
  }

  typedef const cnnc_model_api *(*entry_fn)(void);
  entry_fn entry;
  /* POSIX sanctions converting dlsym's void* to a function pointer. */
  void *symbol = dlsym(handle, "cnnc_model_entry");
  memcpy(&entry, &symbol, sizeof(entry));
  status = CNNC_OK;
  const cnnc_model_api *api = NULL;
  if (!entry) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                       "%s: not a cnnc model library (no 'cnnc_model_entry' "
                       "symbol)",
                       path);
  } else if (!(api = entry())) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                       "%s: malformed model: cnnc_model_entry() returned NULL",
                       path);
  } else if (api->abi_version != CNNC_ABI_VERSION) {
    status = cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                       "%s: model ABI version %d, but this runtime supports "
                       "version %d (rebuild the model with a matching cnnc)",
                       path, (int)api->abi_version, CNNC_ABI_VERSION);
  } else {
    status = check_api(path, api, err, err_len);
  }

  cnnc_loaded_model *model = NULL;
  if (status == CNNC_OK) {
    model = calloc(1, sizeof(*model));
    char *path_copy = malloc(len + 1);
    if (!model || !path_copy) {
      free(model);
      free(path_copy);
      model = NULL;
      status = cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                         "%s: out of memory", path);
    } else {
      memcpy(path_copy, path, len + 1);
      model->handle = handle;
      model->api = api;
      model->path = path_copy;
    }
  }
  if (status != CNNC_OK) {
    dlclose(handle);
    return status;
  }
  *out = model;
  return CNNC_OK;
}

const cnnc_model_api *cnnc_loader_api(const cnnc_loaded_model *model) {
  return model ? model->api : NULL;
}

const char *cnnc_loader_path(const cnnc_loaded_model *model) {
  return model ? model->path : NULL;
}

void cnnc_loader_close(cnnc_loaded_model *model) {
  if (!model)
    return;
  dlclose(model->handle);
  free(model->path);
  free(model);
}
