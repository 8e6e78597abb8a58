/*===- npy.c - read and write NumPy .npy files ----------------------------===*
 *
 * Format reference: numpy/lib/format.py. A file is
 *   "\x93NUMPY" major minor header_len (u16 LE for 1.x, u32 LE for 2.x/3.x)
 *   header: a Python dict literal, e.g.
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *   data: the elements, C order.
 * Everything read from a file is treated as hostile: every length is checked
 * against the file size (when known) before anything is allocated.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "cnnc/npy.h"
#include "cnnc/tool_support.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* numpy itself refuses headers above 10000 bytes by default; a header can
 * only grow with the rank, so 1 MiB is far above anything legitimate and
 * keeps a hostile length from turning into a huge allocation. */
#define NPY_MAX_HEADER_LEN (1u << 20)
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Converted data is read in chunks of this many bytes. */
#define NPY_CHUNK_BYTES (1u << 16)

const char *cnnc_dtype_name(cnnc_dtype dtype) {
  switch (dtype) {
  case CNNC_DTYPE_F32:
    return "float32";
  case CNNC_DTYPE_I64:
    return "int64";
  }
  return "unknown";
}

size_t cnnc_dtype_size(cnnc_dtype dtype) {
  switch (dtype) {
  case CNNC_DTYPE_F32:
    return 4;
  case CNNC_DTYPE_I64:
    return 8;
  }
  return 0;
}

void cnnc_npy_free(cnnc_npy_array *array) {
  if (!array)
    return;
  free(array->data);
  memset(array, 0, sizeof(*array));
}

static bool host_is_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/*===-- Byte sources ------------------------------------------------------===*/

/* A file or a memory buffer, read front to back. `size` is the total size
 * when known (regular files, memory), -1 otherwise (pipes). */
typedef struct source {
  FILE *file;
  const unsigned char *bytes;
  int64_t size;
  int64_t pos;
} source;

static size_t source_read(source *src, void *buf, size_t n) {
  size_t got;
  if (src->file) {
    got = fread(buf, 1, n, src->file);
  } else {
    int64_t left = src->size - src->pos;
    got = (uint64_t)left < n ? (size_t)left : n;
    memcpy(buf, src->bytes + src->pos, got);
  }
  src->pos += (int64_t)got;
  return got;
}

/*===-- Header dictionary parser ------------------------------------------===*/

typedef struct header {
  char descr[32];
  bool fortran_order;
  int32_t rank;
  int64_t dims[CNNC_MAX_RANK];
  bool has_descr, has_fortran_order, has_shape;
} header;

typedef struct parser {
  const char *text;
  size_t len;
  size_t pos;
  const char *name;
  char *err;
  size_t err_len;
} parser;

static int parse_error(parser *p, int status, const char *what) {
  /* Show the header (printable characters only) so the user sees what is
   * wrong without a hex dump. */
  char shown[81];
  size_t n = 0;
  for (size_t i = 0; i < p->len && n + 1 < sizeof(shown); ++i) {
    unsigned char c = (unsigned char)p->text[i];
    if (c == '\n' && i + 1 == p->len)
      break;
    shown[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  shown[n] = '\0';
  return cnnc_fail(p->err, p->err_len, status,
                   "%s: malformed .npy header (%s at column %zu): %s%s",
                   p->name, what, p->pos + 1, shown, p->len > 80 ? "..." : "");
}

static void skip_space(parser *p) {
  while (p->pos < p->len &&
         (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' ||
          p->text[p->pos] == '\n' || p->text[p->pos] == '\r'))
    ++p->pos;
}

static bool peek(parser *p, char c) {
  return p->pos < p->len && p->text[p->pos] == c;
}

static bool consume(parser *p, char c) {
  skip_space(p);
  if (!peek(p, c))
    return false;
  ++p->pos;
  return true;
}

/* A Python string literal without escapes, at most out_len - 1 bytes. */
static int parse_string(parser *p, char *out, size_t out_len) {
  skip_space(p);
  if (!(peek(p, '\'') || peek(p, '"')))
    return parse_error(p, CNNC_ERROR_IO, "expected a quoted string");
  char quote = p->text[p->pos++];
  size_t n = 0;
  while (p->pos < p->len && p->text[p->pos] != quote) {
    char c = p->text[p->pos];
    if (c == '\\' || c == '\n')
      return parse_error(p, CNNC_ERROR_IO, "unsupported string literal");
    if (n + 1 >= out_len)
      return parse_error(p, CNNC_ERROR_IO, "string too long");
    out[n++] = c;
    ++p->pos;
  }
  if (p->pos >= p->len)
    return parse_error(p, CNNC_ERROR_IO, "unterminated string");
  ++p->pos;
  out[n] = '\0';
  return CNNC_OK;
}

static int parse_bool(parser *p, bool *out) {
  skip_space(p);
  const char *rest = p->text + p->pos;
  size_t left = p->len - p->pos;
  if (left >= 4 && memcmp(rest, "True", 4) == 0) {
    p->pos += 4;
    *out = true;
    return CNNC_OK;
  }
  if (left >= 5 && memcmp(rest, "False", 5) == 0) {
    p->pos += 5;
    *out = false;
    return CNNC_OK;
  }
  return parse_error(p, CNNC_ERROR_IO, "expected True or False");
}

/* A non-negative Python int (with the 'L' suffix numpy wrote under
 * Python 2). */
static int parse_dim(parser *p, int64_t *out) {
  skip_space(p);
  if (peek(p, '-'))
    return parse_error(p, CNNC_ERROR_IO, "negative dimension");
  if (!(p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9'))
    return parse_error(p, CNNC_ERROR_IO, "expected a dimension");
  int64_t value = 0;
  while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9') {
    int digit = p->text[p->pos] - '0';
    if (value > (INT64_MAX - digit) / 10)
      return parse_error(p, CNNC_ERROR_IO, "dimension too large");
    value = value * 10 + digit;
    ++p->pos;
  }
  if (peek(p, 'L') || peek(p, 'l'))
    ++p->pos;
  *out = value;
  return CNNC_OK;
}

static int parse_shape(parser *p, header *h) {
  if (!consume(p, '('))
    return parse_error(p, CNNC_ERROR_IO, "expected a shape tuple");
  h->rank = 0;
  if (consume(p, ')'))
    return CNNC_OK;
  for (;;) {
    int64_t dim = 0;
    int status = parse_dim(p, &dim);
    if (status != CNNC_OK)
      return status;
    if (h->rank == CNNC_MAX_RANK)
      return cnnc_fail(p->err, p->err_len, CNNC_ERROR_UNSUPPORTED,
                       "%s: arrays of rank above %d are not supported", p->name,
                       CNNC_MAX_RANK);
    h->dims[h->rank++] = dim;
    if (consume(p, ')'))
      return CNNC_OK;
    if (!consume(p, ','))
      return parse_error(p, CNNC_ERROR_IO, "expected ',' or ')' in the shape");
    if (consume(p, ')'))
      return CNNC_OK;
  }
}

static int parse_header(parser *p, header *h) {
  memset(h, 0, sizeof(*h));
  if (!consume(p, '{'))
    return parse_error(p, CNNC_ERROR_IO, "expected '{'");
  while (!consume(p, '}')) {
    char key[32];
    int status = parse_string(p, key, sizeof(key));
    if (status != CNNC_OK)
      return status;
    if (!consume(p, ':'))
      return parse_error(p, CNNC_ERROR_IO, "expected ':' after a key");
    bool *seen;
    if (strcmp(key, "descr") == 0) {
      seen = &h->has_descr;
      skip_space(p);
      if (peek(p, '['))
        return cnnc_fail(p->err, p->err_len, CNNC_ERROR_UNSUPPORTED,
                         "%s: structured dtypes are not supported", p->name);
      status = parse_string(p, h->descr, sizeof(h->descr));
    } else if (strcmp(key, "fortran_order") == 0) {
      seen = &h->has_fortran_order;
      status = parse_bool(p, &h->fortran_order);
    } else if (strcmp(key, "shape") == 0) {
      seen = &h->has_shape;
      status = parse_shape(p, h);
    } else {
      return parse_error(p, CNNC_ERROR_IO, "unknown key");
    }
    if (status != CNNC_OK)
      return status;
    if (*seen)
      return parse_error(p, CNNC_ERROR_IO, "duplicate key");
    *seen = true;
    if (consume(p, '}'))
      break;
    if (!consume(p, ','))
      return parse_error(p, CNNC_ERROR_IO, "expected ',' or '}'");
  }
  skip_space(p);
  if (p->pos != p->len)
    return parse_error(p, CNNC_ERROR_IO, "text after the dictionary");
  if (!h->has_descr || !h->has_fortran_order || !h->has_shape)
    return cnnc_fail(p->err, p->err_len, CNNC_ERROR_IO,
                     "%s: malformed .npy header: missing key '%s'", p->name,
                     !h->has_descr           ? "descr"
                     : !h->has_fortran_order ? "fortran_order"
                                             : "shape");
  return CNNC_OK;
}

/*===-- Element types -----------------------------------------------------===*/

typedef enum elem_kind {
  KIND_FLOAT,
  KIND_SIGNED,
  KIND_UNSIGNED,
  KIND_BOOL
} elem_kind;

typedef struct file_type {
  elem_kind kind;
  size_t size;      /* bytes per element in the file */
  bool swap;        /* file byte order differs from the host's */
  cnnc_dtype dtype; /* in memory */
  bool converted;
} file_type;

static int parse_descr(const char *descr, const char *name, file_type *out,
                       char *err, size_t err_len) {
  char order = descr[0];
  char *end = NULL;
  long size = 0;
  if (strlen(descr) >= 3 &&
      strlen(descr) < sizeof(((cnnc_npy_array *)0)->file_descr) &&
      strchr("<>=|", order) && descr[2] >= '0' && descr[2] <= '9')
    size = strtol(descr + 2, &end, 10);
  if (!end || *end != '\0' || end == descr + 2)
    goto unsupported;
  char kind = descr[1];
  memset(out, 0, sizeof(*out));
  out->size = (size_t)size;
  switch (kind) {
  case 'f':
    out->kind = KIND_FLOAT;
    out->dtype = CNNC_DTYPE_F32;
    if (size != 2 && size != 4 && size != 8)
      goto unsupported;
    break;
  case 'i':
    out->kind = KIND_SIGNED;
    out->dtype = CNNC_DTYPE_I64;
    if (size != 1 && size != 2 && size != 4 && size != 8)
      goto unsupported;
    break;
  case 'u':
    out->kind = KIND_UNSIGNED;
    out->dtype = CNNC_DTYPE_I64;
    if (size != 1 && size != 2 && size != 4 && size != 8)
      goto unsupported;
    break;
  case 'b':
    out->kind = KIND_BOOL;
    out->dtype = CNNC_DTYPE_I64;
    if (size != 1)
      goto unsupported;
    break;
  default:
    goto unsupported;
  }
  bool little = host_is_little_endian();
  out->swap =
      size > 1 && ((order == '<' && !little) || (order == '>' && little));
  out->converted = (size_t)size != cnnc_dtype_size(out->dtype) ||
                   out->kind == KIND_UNSIGNED || out->kind == KIND_BOOL;
  return CNNC_OK;
unsupported:
  return cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                   "%s: unsupported dtype '%s' (cnnc reads float16/32/64, "
                   "int8/16/32/64, uint8/16/32/64 and bool)",
                   name, descr);
}

static void byte_swap(unsigned char *p, size_t size, size_t count) {
  for (size_t i = 0; i < count; ++i, p += size)
    for (size_t a = 0, b = size - 1; a < b; ++a, --b) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    /* Subnormal half: normalize. */
    exponent = 113;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

/* Converts `count` file elements (already in host byte order) at `in` to
 * the in-memory dtype at `out`. Fails on values the target cannot hold. */
static int convert(const file_type *t, const unsigned char *in, void *out,
                   size_t count, int64_t first_index, const char *name,
                   char *err, size_t err_len) {
  for (size_t i = 0; i < count; ++i, in += t->size) {
    if (t->dtype == CNNC_DTYPE_F32) {
      float value;
      if (t->size == 2) {
        uint16_t h;
        memcpy(&h, in, 2);
        value = half_to_float(h);
      } else if (t->size == 4) {
        memcpy(&value, in, 4);
      } else {
        double d;
        memcpy(&d, in, 8);
        value = (float)d;
        if (isfinite(d) && !isfinite(value))
          return cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                           "%s: element %lld (%g) is outside the float32 range",
                           name, (long long)(first_index + (int64_t)i), d);
      }
      memcpy((float *)out + i, &value, 4);
      continue;
    }
    int64_t value = 0;
    switch (t->kind) {
    case KIND_SIGNED:
      if (t->size == 1) {
        int8_t v;
        memcpy(&v, in, 1);
        value = v;
      } else if (t->size == 2) {
        int16_t v;
        memcpy(&v, in, 2);
        value = v;
      } else if (t->size == 4) {
        int32_t v;
        memcpy(&v, in, 4);
        value = v;
      } else {
        memcpy(&value, in, 8);
      }
      break;
    case KIND_UNSIGNED:
    case KIND_BOOL:
      if (t->size == 1) {
        value = in[0];
      } else if (t->size == 2) {
        uint16_t v;
        memcpy(&v, in, 2);
        value = v;
      } else if (t->size == 4) {
        uint32_t v;
        memcpy(&v, in, 4);
        value = v;
      } else {
        uint64_t v;
        memcpy(&v, in, 8);
        if (v > (uint64_t)INT64_MAX)
          return cnnc_fail(err, err_len, CNNC_ERROR_UNSUPPORTED,
                           "%s: element %lld (%llu) is outside the int64 range",
                           name, (long long)(first_index + (int64_t)i),
                           (unsigned long long)v);
        value = (int64_t)v;
      }
      if (t->kind == KIND_BOOL && value > 1)
        return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                         "%s: element %lld of a bool array is %lld, not 0 or 1",
                         name, (long long)(first_index + (int64_t)i),
                         (long long)value);
      break;
    case KIND_FLOAT:
      break;
    }
    memcpy((int64_t *)out + i, &value, 8);
  }
  return CNNC_OK;
}

/*===-- Reading -----------------------------------------------------------===*/

static uint32_t read_le(const unsigned char *p, int n) {
  uint32_t value = 0;
  for (int i = n - 1; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

/* The shape as Python prints a tuple: (), (3,), (2, 3). */
static void format_shape(char *buf, size_t len, int32_t rank,
                         const int64_t *dims) {
  if (rank == 0) {
    snprintf(buf, len, "()");
    return;
  }
  size_t n = 0;
  for (int32_t i = 0; i <= rank && n < len; ++i) {
    const char *sep = i == 0 ? "(" : rank == 1 ? ",)" : i == rank ? ")" : ", ";
    n += (size_t)snprintf(buf + n, len - n, "%s", sep);
    if (i < rank && n < len)
      n += (size_t)snprintf(buf + n, len - n, "%lld", (long long)dims[i]);
  }
}

static int read_source(source *src, const char *name, cnnc_npy_array *out,
                       char *err, size_t err_len) {
  unsigned char prefix[12];
  size_t got = source_read(src, prefix, 8);
  if (got == 0)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: empty file, not a .npy file", name);
  if (got < NPY_MAGIC_LEN || memcmp(prefix, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: not a .npy file (bad magic; expected \\x93NUMPY)",
                     name);
  if (got < 8)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: truncated .npy file (no format version)", name);
  int major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0)
    return cnnc_fail(
        err, err_len, CNNC_ERROR_UNSUPPORTED,
        "%s: unsupported .npy format version %d.%d (cnnc reads 1.0, "
        "2.0 and 3.0)",
        name, major, minor);
  int len_bytes = major == 1 ? 2 : 4;
  if (source_read(src, prefix + 8, (size_t)len_bytes) != (size_t)len_bytes)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: truncated .npy file (no header length)", name);
  uint32_t header_len = read_le(prefix + 8, len_bytes);
  if (src->size >= 0 && (int64_t)header_len > src->size - src->pos)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: header length %u runs past the end of the file "
                     "(%lld bytes)",
                     name, header_len, (long long)src->size);
  if (header_len > NPY_MAX_HEADER_LEN)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: header length %u is implausibly large", name,
                     header_len);

  char *text = malloc(header_len + 1u);
  if (!text)
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory reading the header", name);
  if (source_read(src, text, header_len) != header_len) {
    free(text);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: truncated .npy header",
                     name);
  }
  text[header_len] = '\0';
  parser p = {text, header_len, 0, name, err, err_len};
  header h;
  int status = parse_header(&p, &h);
  free(text);
  if (status != CNNC_OK)
    return status;

  file_type type;
  status = parse_descr(h.descr, name, &type, err, err_len);
  if (status != CNNC_OK)
    return status;
  if (h.fortran_order)
    return cnnc_fail(
        err, err_len, CNNC_ERROR_UNSUPPORTED,
        "%s: Fortran-order arrays are not supported (save a C-order "
        "array, e.g. np.save(path, np.ascontiguousarray(a)))",
        name);

  char shape[CNNC_MAX_RANK * 22 + 4];
  format_shape(shape, sizeof(shape), h.rank, h.dims);
  int64_t count = 1;
  for (int32_t i = 0; i < h.rank; ++i) {
    if (h.dims[i] != 0 && count > INT64_MAX / h.dims[i]) {
      /* Only an error if no later dimension is 0. */
      bool empty = false;
      for (int32_t j = i; j < h.rank; ++j)
        empty |= h.dims[j] == 0;
      if (!empty)
        return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                         "%s: shape %s has too many elements", name, shape);
      count = 0;
      break;
    }
    count *= h.dims[i];
  }
  size_t mem_size = cnnc_dtype_size(type.dtype);
  if ((uint64_t)count > (uint64_t)INT64_MAX / 8 ||
      (uint64_t)count > SIZE_MAX / 8)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                     "%s: shape %s has too many elements", name, shape);
  int64_t file_bytes = count * (int64_t)type.size;
  if (src->size >= 0) {
    int64_t left = src->size - src->pos;
    if (left < file_bytes)
      return cnnc_fail(
          err, err_len, CNNC_ERROR_IO,
          "%s: truncated data: shape %s of '%s' needs %lld bytes, the "
          "file has %lld after the header",
          name, shape, h.descr, (long long)file_bytes, (long long)left);
    if (left > file_bytes)
      return cnnc_fail(
          err, err_len, CNNC_ERROR_IO,
          "%s: %lld unexpected bytes after the data of shape %s of "
          "'%s'",
          name, (long long)(left - file_bytes), shape, h.descr);
  }

  size_t num_bytes = (size_t)count * mem_size;
  /* malloc(0) may return NULL; callers get a valid pointer either way. */
  void *data = malloc(num_bytes ? num_bytes : 1);
  if (!data)
    return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                     "%s: out of memory (%zu bytes for shape %s)", name,
                     num_bytes, shape);

  if (!type.converted) {
    if (source_read(src, data, num_bytes) != num_bytes) {
      free(data);
      return cnnc_fail(err, err_len, CNNC_ERROR_IO,
                       "%s: truncated data: shape %s of '%s' needs %lld bytes",
                       name, shape, h.descr, (long long)file_bytes);
    }
    if (type.swap)
      byte_swap(data, type.size, (size_t)count);
  } else {
    unsigned char *chunk = malloc(NPY_CHUNK_BYTES);
    if (!chunk) {
      free(data);
      return cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                       "%s: out of memory", name);
    }
    size_t per_chunk = NPY_CHUNK_BYTES / type.size;
    for (int64_t done = 0; done < count;) {
      size_t n = (uint64_t)(count - done) < per_chunk ? (size_t)(count - done)
                                                      : per_chunk;
      if (source_read(src, chunk, n * type.size) != n * type.size) {
        status =
            cnnc_fail(err, err_len, CNNC_ERROR_IO,
                      "%s: truncated data: shape %s of '%s' needs %lld bytes",
                      name, shape, h.descr, (long long)file_bytes);
        break;
      }
      if (type.swap)
        byte_swap(chunk, type.size, n);
      status = convert(&type, chunk, (char *)data + (size_t)done * mem_size, n,
                       done, name, err, err_len);
      if (status != CNNC_OK)
        break;
      done += (int64_t)n;
    }
    free(chunk);
    if (status != CNNC_OK) {
      free(data);
      return status;
    }
  }
  /* A stream of unknown size must end here too. */
  if (src->size < 0) {
    unsigned char extra;
    if (source_read(src, &extra, 1) != 0) {
      free(data);
      return cnnc_fail(
          err, err_len, CNNC_ERROR_IO,
          "%s: unexpected bytes after the data of shape %s of '%s'", name,
          shape, h.descr);
    }
  }

  out->dtype = type.dtype;
  out->rank = h.rank;
  memcpy(out->dims, h.dims, sizeof(out->dims));
  out->num_elements = count;
  out->num_bytes = num_bytes;
  out->data = data;
  /* parse_descr checked that it fits. */
  memcpy(out->file_descr, h.descr, strlen(h.descr) + 1);
  out->converted = type.converted;
  return CNNC_OK;
}

int cnnc_npy_read(const char *path, cnnc_npy_array *out, char *err,
                  size_t err_len) {
  if (!path || !out)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_npy_read: null argument");
  memset(out, 0, sizeof(*out));
  FILE *file = fopen(path, "rb");
  if (!file)
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot open: %s", path,
                     strerror(errno));
  struct stat st;
  if (fstat(fileno(file), &st) != 0) {
    int saved = errno;
    fclose(file);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: cannot stat: %s", path,
                     strerror(saved));
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(file);
    return cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: is a directory", path);
  }
  source src = {file, NULL, S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1, 0};
  int status = read_source(&src, path, out, err, err_len);
  if (status == CNNC_OK && ferror(file)) {
    cnnc_npy_free(out);
    status = cnnc_fail(err, err_len, CNNC_ERROR_IO, "%s: read error", path);
  }
  fclose(file);
  return status;
}

int cnnc_npy_read_memory(const void *bytes, size_t size, const char *name,
                         cnnc_npy_array *out, char *err, size_t err_len) {
  if (!out || (!bytes && size > 0))
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_npy_read_memory: null argument");
  memset(out, 0, sizeof(*out));
  if (size > (uint64_t)INT64_MAX)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_npy_read_memory: buffer too large");
  source src = {NULL, bytes, (int64_t)size, 0};
  return read_source(&src, name ? name : "<memory>", out, err, err_len);
}

/*===-- Writing -----------------------------------------------------------===*/

/* The format-1.0 header of an array (padded with spaces so the data starts
 * 64-byte aligned, as numpy writes it, so both can mmap the result) into
 * head (at least NPY_HEADER_MAX bytes); its length, or 0 with an error. */
#define NPY_HEADER_MAX (10 + 512 + 64)
static size_t npy_header(const char *path, cnnc_dtype dtype, int32_t rank,
                         const int64_t *dims, const void *data,
                         unsigned char *head, size_t *num_bytes, char *err,
                         size_t err_len, int *status) {
  *status = CNNC_ERROR_INVALID_ARGUMENT;
  size_t elem_size = cnnc_dtype_size(dtype);
  if (elem_size == 0) {
    cnnc_fail(err, err_len, *status, "%s: cannot write unknown dtype %d", path,
              (int)dtype);
    return 0;
  }
  if (rank < 0 || rank > CNNC_MAX_RANK || (rank > 0 && !dims)) {
    cnnc_fail(err, err_len, *status, "%s: cannot write an array of rank %d",
              path, (int)rank);
    return 0;
  }
  uint64_t count = 1;
  bool overflow = false, empty = false;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0) {
      cnnc_fail(err, err_len, *status,
                "%s: cannot write negative dimension %lld", path,
                (long long)dims[i]);
      return 0;
    }
    empty |= dims[i] == 0;
    if (dims[i] != 0 && count > (uint64_t)INT64_MAX / (uint64_t)dims[i])
      overflow = true;
    else
      count *= (uint64_t)dims[i];
  }
  if (empty)
    count = 0;
  else if (overflow || count > SIZE_MAX / elem_size) {
    cnnc_fail(err, err_len, *status, "%s: array too large to write", path);
    return 0;
  }
  *num_bytes = (size_t)count * elem_size;
  if (*num_bytes > 0 && !data) {
    cnnc_fail(err, err_len, *status, "%s: null data for a non-empty array",
              path);
    return 0;
  }
  char shape[CNNC_MAX_RANK * 22 + 4];
  format_shape(shape, sizeof(shape), rank, dims);
  char order = host_is_little_endian() ? '<' : '>';
  char dict[512];
  int dict_len =
      snprintf(dict, sizeof(dict),
               "{'descr': '%c%c%zu', 'fortran_order': False, "
               "'shape': %s, }",
               order, dtype == CNNC_DTYPE_F32 ? 'f' : 'i', elem_size, shape);
  memcpy(head, NPY_MAGIC, NPY_MAGIC_LEN);
  head[6] = 1;
  head[7] = 0;
  size_t total = 10 + (size_t)dict_len + 1;
  size_t padded = (total + 63) / 64 * 64;
  size_t header_len = padded - 10;
  head[8] = (unsigned char)(header_len & 0xff);
  head[9] = (unsigned char)(header_len >> 8);
  memcpy(head + 10, dict, (size_t)dict_len);
  memset(head + 10 + dict_len, ' ', padded - total);
  head[padded - 1] = '\n';
  *status = CNNC_OK;
  return padded;
}

int cnnc_npy_write(const char *path, cnnc_dtype dtype, int32_t rank,
                   const int64_t *dims, const void *data, char *err,
                   size_t err_len) {
  if (!path)
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_npy_write: null path");
  unsigned char head[NPY_HEADER_MAX];
  size_t num_bytes = 0;
  int status;
  size_t padded = npy_header(path, dtype, rank, dims, data, head, &num_bytes,
                             err, err_len, &status);
  if (!padded)
    return status;
  /* By the tools' output rules (cnnc_write_file_atomically): atomic for a
   * regular file, in place for /dev/null or a FIFO, through a symlink. */
  const void *parts[2] = {head, data};
  size_t sizes[2] = {padded, num_bytes};
  return cnnc_write_parts_atomically(path, parts, sizes, 2, err, err_len);
}

/* Little-endian fields of the ZIP headers. */
static void put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v) {
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
}

int cnnc_npz_write(const char *path, int32_t count, const char *const *names,
                   const cnnc_dtype *dtypes, const int32_t *ranks,
                   const int64_t *const *dims, const void *const *data,
                   char *err, size_t err_len) {
  if (!path || count < 0 ||
      (count > 0 && (!names || !dtypes || !ranks || !dims || !data)))
    return cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                     "cnnc_npz_write: null argument");
  /* Per array: local header + name, .npy header, data; then the central
   * directory and its end record. Stored (no compression), as np.savez. */
  size_t nparts = (size_t)count * 4 + 2;
  const void **parts = calloc(nparts, sizeof(*parts));
  size_t *sizes = calloc(nparts, sizeof(*sizes));
  unsigned char *heads = calloc((size_t)count + 1, NPY_HEADER_MAX);
  unsigned char *locals = calloc((size_t)count + 1, 30);
  size_t names_len = 0;
  for (int32_t i = 0; i < count; ++i)
    names_len += strlen(names[i]) + 4;
  char *files = calloc(names_len + 1, 1);
  unsigned char *central = calloc((size_t)count * 46 + names_len + 22, 1);
  int status = CNNC_OK;
  if (!parts || !sizes || !heads || !locals || !files || !central)
    status = cnnc_fail(err, err_len, CNNC_ERROR_OUT_OF_MEMORY,
                       "%s: out of memory", path);
  uint64_t offset = 0;
  size_t c = 0, f = 0;
  for (int32_t i = 0; status == CNNC_OK && i < count; ++i) {
    unsigned char *head = heads + (size_t)i * NPY_HEADER_MAX;
    size_t num_bytes = 0;
    size_t padded = npy_header(path, dtypes[i], ranks[i], dims[i], data[i],
                               head, &num_bytes, err, err_len, &status);
    if (!padded)
      break;
    char *file = files + f;
    size_t name_len =
        (size_t)snprintf(file, names_len + 1 - f, "%s.npy", names[i]);
    f += name_len;
    uint64_t size = (uint64_t)padded + num_bytes;
    if (size > UINT32_MAX || offset > UINT32_MAX || name_len > 0xffff) {
      status = cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                         "%s: '%s' is too large for a .npz (no ZIP64)", path,
                         names[i]);
      break;
    }
    /* CRC-32 of the .npy bytes: header then data, in one running CRC. */
    uint32_t crc =
        cnnc_crc32_update(cnnc_crc32(head, padded), data[i], num_bytes);
    unsigned char *local = locals + (size_t)i * 30;
    put32(local, 0x04034b50);
    put16(local + 4, 20);
    put16(local + 8, 0);     /* stored */
    put16(local + 12, 0x21); /* 1980-01-01 */
    put32(local + 14, crc);
    put32(local + 18, (uint32_t)size);
    put32(local + 22, (uint32_t)size);
    put16(local + 26, (uint32_t)name_len);
    unsigned char *entry = central + c;
    put32(entry, 0x02014b50);
    put16(entry + 4, 20);
    put16(entry + 6, 20);
    put16(entry + 14, 0x21);
    put32(entry + 16, crc);
    put32(entry + 20, (uint32_t)size);
    put32(entry + 24, (uint32_t)size);
    put16(entry + 28, (uint32_t)name_len);
    put32(entry + 42, (uint32_t)offset);
    memcpy(entry + 46, file, name_len);
    c += 46 + name_len;
    parts[4 * i] = local;
    sizes[4 * i] = 30;
    parts[4 * i + 1] = file;
    sizes[4 * i + 1] = name_len;
    parts[4 * i + 2] = head;
    sizes[4 * i + 2] = padded;
    parts[4 * i + 3] = data[i];
    sizes[4 * i + 3] = num_bytes;
    offset += 30 + name_len + size;
  }
  if (status == CNNC_OK && offset > UINT32_MAX)
    status = cnnc_fail(err, err_len, CNNC_ERROR_INVALID_ARGUMENT,
                       "%s: too large for a .npz (no ZIP64)", path);
  if (status == CNNC_OK) {
    unsigned char *end = central + c;
    put32(end, 0x06054b50);
    put16(end + 8, (uint32_t)count);
    put16(end + 10, (uint32_t)count);
    put32(end + 12, (uint32_t)c);
    put32(end + 16, (uint32_t)offset);
    parts[4 * (size_t)count] = central;
    sizes[4 * (size_t)count] = c + 22;
    status = cnnc_write_parts_atomically(path, parts, sizes, 4 * count + 1, err,
                                         err_len);
  }
  free(parts);
  free(sizes);
  free(heads);
  free(locals);
  free(files);
  free(central);
  return status;
}
