//===- NpyTest.cpp - .npy reading, writing and hostile input -------------===//
//
// The reader must turn every malformed file into a status and a message
// (never a crash or a huge allocation); the writer must produce files numpy
// reads and never leave a partial file behind.
//
//===----------------------------------------------------------------------===//
#include "cnnc/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A .npy file image: magic, version, header length, header text, data.
std::string npyFile(const std::string &header, const std::string &data = "",
                    int major = 1) {
  std::string file("\x93NUMPY", 6);
  file += static_cast<char>(major);
  file += '\0';
  size_t len = header.size();
  int lenBytes = major == 1 ? 2 : 4;
  for (int i = 0; i < lenBytes; ++i)
    file += static_cast<char>((len >> (8 * i)) & 0xff);
  return file + header + data;
}

std::string dict(const std::string &descr, const std::string &shape,
                 const std::string &fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }\n";
}

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

struct ReadResult {
  int status;
  std::string error;
  cnnc_npy_array array;
};

ReadResult readMemory(const std::string &file) {
  ReadResult result{};
  char err[512] = "";
  result.status = cnnc_npy_read_memory(file.data(), file.size(), "t.npy",
                                       &result.array, err, sizeof(err));
  result.error = err;
  return result;
}

std::string readFileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class TempDir {
public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "cnnc-npy-test-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    path = mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(path))
      names.push_back(entry.path().filename().string());
    return names;
  }
  std::string path;
};

//===--- Reading valid files ----------------------------------------------===//

TEST(NpyRead, Float32Matrix) {
  std::vector<float> values = {1, 2, 3, -4, 5.5f, 6};
  ReadResult r = readMemory(npyFile(dict("<f4", "(2, 3)"), bytesOf(values)));
  ASSERT_EQ(r.status, CNNC_OK) << r.error;
  EXPECT_EQ(r.array.dtype, CNNC_DTYPE_F32);
  EXPECT_EQ(r.array.rank, 2);
  EXPECT_EQ(r.array.dims[0], 2);
  EXPECT_EQ(r.array.dims[1], 3);
  EXPECT_EQ(r.array.num_elements, 6);
  EXPECT_EQ(r.array.num_bytes, 24u);
  EXPECT_STREQ(r.array.file_descr, "<f4");
  EXPECT_FALSE(r.array.converted);
  EXPECT_EQ(std::memcmp(r.array.data, values.data(), 24), 0);
  cnnc_npy_free(&r.array);
  EXPECT_EQ(r.array.data, nullptr);
}

TEST(NpyRead, FormatVersions2And3) {
  std::vector<int64_t> values = {7, -8};
  for (int major : {2, 3}) {
    ReadResult r =
        readMemory(npyFile(dict("<i8", "(2,)"), bytesOf(values), major));
    ASSERT_EQ(r.status, CNNC_OK) << r.error;
    EXPECT_EQ(r.array.dtype, CNNC_DTYPE_I64);
    EXPECT_EQ(r.array.rank, 1);
    EXPECT_EQ(static_cast<int64_t *>(r.array.data)[1], -8);
    cnnc_npy_free(&r.array);
  }
}

TEST(NpyRead, ScalarAndEmpty) {
  ReadResult scalar =
      readMemory(npyFile(dict("<f4", "()"), bytesOf(std::vector<float>{3})));
  ASSERT_EQ(scalar.status, CNNC_OK) << scalar.error;
  EXPECT_EQ(scalar.array.rank, 0);
  EXPECT_EQ(scalar.array.num_elements, 1);
  cnnc_npy_free(&scalar.array);

  ReadResult empty = readMemory(npyFile(dict("<f4", "(0, 3)")));
  ASSERT_EQ(empty.status, CNNC_OK) << empty.error;
  EXPECT_EQ(empty.array.num_elements, 0);
  EXPECT_NE(empty.array.data, nullptr);
  cnnc_npy_free(&empty.array);

  // A zero dimension makes a huge product harmless.
  ReadResult zero = readMemory(
      npyFile(dict("<f4", "(9223372036854775807, 9223372036854775807, 0)")));
  ASSERT_EQ(zero.status, CNNC_OK) << zero.error;
  EXPECT_EQ(zero.array.num_elements, 0);
  cnnc_npy_free(&zero.array);
}

TEST(NpyRead, LenientHeaderSpelling) {
  // Double quotes, no trailing comma, Python 2 long suffix, keys in any
  // order: all things numpy has written or accepts.
  std::string header =
      "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f4\"}  \n";
  ReadResult r = readMemory(npyFile(header, bytesOf(std::vector<float>{1, 2})));
  ASSERT_EQ(r.status, CNNC_OK) << r.error;
  EXPECT_EQ(r.array.dims[0], 2);
  cnnc_npy_free(&r.array);
}

TEST(NpyRead, Conversions) {
  struct Case {
    const char *descr;
    std::string data;
    cnnc_dtype dtype;
    std::vector<double> expected;
  };
  std::vector<Case> cases = {
      {"<f8",
       bytesOf(std::vector<double>{0.1, -2.5e30}),
       CNNC_DTYPE_F32,
       {static_cast<float>(0.1), static_cast<float>(-2.5e30)}},
      // 1.0, -2.0, the smallest subnormal 2^-24, +inf.
      {"<f2",
       bytesOf(std::vector<uint16_t>{0x3c00, 0xc000, 0x0001, 0x7c00}),
       CNNC_DTYPE_F32,
       {1.0, -2.0, std::ldexp(1.0, -24), HUGE_VAL}},
      {">f4",
       std::string("\x3f\x80\x00\x00\xc0\x00\x00\x00", 8),
       CNNC_DTYPE_F32,
       {1.0, -2.0}},
      {"<i4",
       bytesOf(std::vector<int32_t>{-7, 2147483647}),
       CNNC_DTYPE_I64,
       {-7, 2147483647}},
      {"|i1", std::string("\xff\x05", 2), CNNC_DTYPE_I64, {-1, 5}},
      {"|u1", std::string("\xff\x05", 2), CNNC_DTYPE_I64, {255, 5}},
      {"<u2", bytesOf(std::vector<uint16_t>{65535}), CNNC_DTYPE_I64, {65535}},
      {"|b1", std::string("\x01\x00", 2), CNNC_DTYPE_I64, {1, 0}},
      {">i8",
       std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8),
       CNNC_DTYPE_I64,
       {-2}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.descr);
    std::string shape = "(" + std::to_string(c.expected.size()) + ",)";
    ReadResult r = readMemory(npyFile(dict(c.descr, shape), c.data));
    ASSERT_EQ(r.status, CNNC_OK) << r.error;
    ASSERT_EQ(r.array.dtype, c.dtype);
    EXPECT_STREQ(r.array.file_descr, c.descr);
    for (size_t i = 0; i < c.expected.size(); ++i) {
      if (c.dtype == CNNC_DTYPE_F32)
        EXPECT_EQ(static_cast<float *>(r.array.data)[i],
                  static_cast<float>(c.expected[i]));
      else
        EXPECT_EQ(static_cast<int64_t *>(r.array.data)[i],
                  static_cast<int64_t>(c.expected[i]));
    }
    cnnc_npy_free(&r.array);
  }
}

TEST(NpyRead, LargeConvertedArraySpansChunks) {
  std::vector<double> values(100000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i) * 0.5;
  ReadResult r = readMemory(npyFile(dict("<f8", "(100000,)"), bytesOf(values)));
  ASSERT_EQ(r.status, CNNC_OK) << r.error;
  const float *data = static_cast<float *>(r.array.data);
  EXPECT_EQ(data[0], 0.0f);
  EXPECT_EQ(data[99999], 49999.5f);
  cnnc_npy_free(&r.array);
}

//===--- Hostile files ----------------------------------------------------===//

struct HostileCase {
  const char *name;
  std::string file;
  int status;
  const char *message; // a substring of the error
};

std::vector<HostileCase> hostileCases() {
  std::string f4x2 = bytesOf(std::vector<float>{1, 2});
  std::string bigLen("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
  std::string rank9 = "(1, 1, 1, 1, 1, 1, 1, 1, 1)";
  return {
      {"Empty", "", CNNC_ERROR_IO, "empty file"},
      {"BadMagic", "PK\x03\x04 not numpy at all", CNNC_ERROR_IO, "bad magic"},
      {"ShortMagic", std::string("\x93NUM", 4), CNNC_ERROR_IO, "bad magic"},
      {"NoVersion", std::string("\x93NUMPY", 6), CNNC_ERROR_IO,
       "no format version"},
      {"Version4", npyFile(dict("<f4", "(2,)"), f4x2, 4),
       CNNC_ERROR_UNSUPPORTED, "format version 4.0"},
      {"NoHeaderLength", std::string("\x93NUMPY\x01\x00\x10", 9), CNNC_ERROR_IO,
       "no header length"},
      {"HeaderPastEnd", std::string("\x93NUMPY\x01\x00\x50\x00{'de", 14),
       CNNC_ERROR_IO, "header length 80 runs past the end of the file"},
      {"HugeHeaderLength", bigLen, CNNC_ERROR_IO, "runs past the end"},
      {"NotADict", npyFile("[1, 2, 3]"), CNNC_ERROR_IO, "expected '{'"},
      {"MissingColon", npyFile("{'descr' '<f4'}"), CNNC_ERROR_IO,
       "expected ':' after a key"},
      {"MissingComma", npyFile("{'descr': '<f4' 'fortran_order': False}"),
       CNNC_ERROR_IO, "expected ',' or '}'"},
      {"UnterminatedString", npyFile("{'descr: '<f4'}"), CNNC_ERROR_IO,
       "expected ':' after a key"},
      {"UnterminatedAtEnd", npyFile("{'descr"), CNNC_ERROR_IO,
       "unterminated string"},
      {"Escape", npyFile("{'de\\x73cr': '<f4'}"), CNNC_ERROR_IO,
       "unsupported string literal"},
      {"LongString", npyFile("{'" + std::string(100, 'a') + "': 1}"),
       CNNC_ERROR_IO, "string too long"},
      {"UnknownKey",
       npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
               "'extra': 1}"),
       CNNC_ERROR_IO, "unknown key"},
      {"DuplicateKey", npyFile("{'descr': '<f4', 'descr': '<f4'}"),
       CNNC_ERROR_IO, "duplicate key"},
      {"MissingShape", npyFile("{'descr': '<f4', 'fortran_order': False}"),
       CNNC_ERROR_IO, "missing key 'shape'"},
      {"BadBool",
       npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"),
       CNNC_ERROR_IO, "expected True or False"},
      {"TextAfterDict", npyFile(dict("<f4", "(2,)") + "x", f4x2), CNNC_ERROR_IO,
       "text after the dictionary"},
      {"NegativeDim", npyFile(dict("<f4", "(-2,)"), f4x2), CNNC_ERROR_IO,
       "negative dimension"},
      {"DimOverflow", npyFile(dict("<f4", "(99999999999999999999,)")),
       CNNC_ERROR_IO, "dimension too large"},
      {"ProductOverflow", npyFile(dict("<f4", "(4294967296, 4294967296)")),
       CNNC_ERROR_IO, "too many elements"},
      {"BytesOverflow", npyFile(dict("<f8", "(2305843009213693952,)")),
       CNNC_ERROR_IO, "too many elements"},
      {"ShapeNotTuple", npyFile(dict("<f4", "[2]")), CNNC_ERROR_IO,
       "expected a shape tuple"},
      {"ShapeGarbage", npyFile(dict("<f4", "(2, x)")), CNNC_ERROR_IO,
       "expected a dimension"},
      {"RankTooHigh", npyFile(dict("<f4", rank9)), CNNC_ERROR_UNSUPPORTED,
       "rank above 8"},
      {"Fortran", npyFile(dict("<f4", "(2,)", "True"), f4x2),
       CNNC_ERROR_UNSUPPORTED, "Fortran-order"},
      {"Structured",
       npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
               "'shape': (2,)}"),
       CNNC_ERROR_UNSUPPORTED, "structured dtypes"},
      {"ObjectDtype", npyFile(dict("|O", "(2,)")), CNNC_ERROR_UNSUPPORTED,
       "unsupported dtype '|O'"},
      {"StringDtype", npyFile(dict("<U8", "(2,)")), CNNC_ERROR_UNSUPPORTED,
       "unsupported dtype '<U8'"},
      {"OddSize", npyFile(dict("<f3", "(2,)")), CNNC_ERROR_UNSUPPORTED,
       "unsupported dtype '<f3'"},
      {"SignedSize", npyFile(dict("<f+4", "(2,)")), CNNC_ERROR_UNSUPPORTED,
       "unsupported dtype"},
      {"TruncatedData", npyFile(dict("<f4", "(3,)"), f4x2), CNNC_ERROR_IO,
       "truncated data: shape (3,) of '<f4' needs 12 bytes, the file has 8"},
      {"DataLargerThanFile", npyFile(dict("<f4", "(1000000000, 1000)"), f4x2),
       CNNC_ERROR_IO, "needs 4000000000000 bytes"},
      {"TrailingBytes", npyFile(dict("<f4", "(1,)"), f4x2), CNNC_ERROR_IO,
       "4 unexpected bytes after the data"},
      {"BoolNotZeroOrOne", npyFile(dict("|b1", "(2,)"), std::string("\1\2", 2)),
       CNNC_ERROR_IO, "element 1 of a bool array is 2"},
      {"Uint64TooLarge",
       npyFile(dict("<u8", "(1,)"), bytesOf(std::vector<uint64_t>{~0ull})),
       CNNC_ERROR_UNSUPPORTED, "outside the int64 range"},
      {"Float64TooLarge",
       npyFile(dict("<f8", "(1,)"), bytesOf(std::vector<double>{1e300})),
       CNNC_ERROR_UNSUPPORTED, "element 0 (1e+300) is outside the float32"},
  };
}

class NpyHostile : public testing::TestWithParam<HostileCase> {};

TEST_P(NpyHostile, FailsWithMessage) {
  const HostileCase &c = GetParam();
  ReadResult r = readMemory(c.file);
  EXPECT_EQ(r.status, c.status) << r.error;
  EXPECT_EQ(r.array.data, nullptr);
  EXPECT_NE(r.error.find(c.message), std::string::npos)
      << "message: " << r.error;
  EXPECT_EQ(r.error.rfind("t.npy: ", 0), 0u) << "message: " << r.error;
}

INSTANTIATE_TEST_SUITE_P(All, NpyHostile, testing::ValuesIn(hostileCases()),
                         [](const testing::TestParamInfo<HostileCase> &info) {
                           return std::string(info.param.name);
                         });

// Random corruptions of a valid file: any outcome but a crash (or a
// sanitizer report) is fine.
TEST(NpyRead, RandomCorruptionNeverCrashes) {
  std::string valid = npyFile(dict("<f8", "(2, 3)"),
                              bytesOf(std::vector<double>{1, 2, 3, 4, 5, 6}));
  std::mt19937 rng(1234);
  int ok = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string file = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % file.size();
      switch (rng() % 3) {
      case 0:
        file[at] = static_cast<char>(rng());
        break;
      case 1:
        file.resize(at);
        break;
      default:
        file.insert(at, 1, "(),:'0123456789 \x93{}"[rng() % 20]);
        break;
      }
      if (file.empty())
        break;
    }
    ReadResult r = readMemory(file);
    if (r.status == CNNC_OK) {
      ++ok;
      EXPECT_NE(r.array.data, nullptr);
    } else {
      EXPECT_FALSE(r.error.empty());
    }
    cnnc_npy_free(&r.array);
  }
  EXPECT_GT(ok, 0); // some corruptions only touch the data
}

TEST(NpyRead, ErrorBufferMayBeNullOrTiny) {
  cnnc_npy_array array{};
  EXPECT_EQ(cnnc_npy_read_memory("bad", 3, "t.npy", &array, nullptr, 0),
            CNNC_ERROR_IO);
  char tiny[4];
  EXPECT_EQ(cnnc_npy_read_memory("bad", 3, "t.npy", &array, tiny, sizeof(tiny)),
            CNNC_ERROR_IO);
  EXPECT_STREQ(tiny, "t.n");
  EXPECT_EQ(cnnc_npy_read_memory(nullptr, 3, "t.npy", &array, tiny, 4),
            CNNC_ERROR_INVALID_ARGUMENT);
}

TEST(NpyRead, FileErrors) {
  TempDir dir;
  cnnc_npy_array array{};
  char err[256];
  EXPECT_EQ(
      cnnc_npy_read(dir.file("missing.npy").c_str(), &array, err, sizeof(err)),
      CNNC_ERROR_IO);
  EXPECT_NE(std::string(err).find("missing.npy: cannot open:"),
            std::string::npos)
      << err;
  EXPECT_EQ(cnnc_npy_read(dir.path.c_str(), &array, err, sizeof(err)),
            CNNC_ERROR_IO);
  EXPECT_NE(std::string(err).find("is a directory"), std::string::npos) << err;
}

//===--- Writing ----------------------------------------------------------===//

TEST(NpyWrite, RoundTrip) {
  TempDir dir;
  std::string path = dir.file("a.npy");
  std::vector<float> f32 = {1.5f, -2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  char err[256] = "";
  ASSERT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_F32, 2, dims, f32.data(),
                           err, sizeof(err)),
            CNNC_OK)
      << err;
  // Exactly what numpy writes: version 1.0, the data 64-byte aligned.
  std::string bytes = readFileBytes(path);
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.find_first_not_of(' ', 10 + dict.size()), 127u);
  EXPECT_EQ(bytes[127], '\n');

  cnnc_npy_array array{};
  ASSERT_EQ(cnnc_npy_read(path.c_str(), &array, err, sizeof(err)), CNNC_OK)
      << err;
  EXPECT_EQ(array.dtype, CNNC_DTYPE_F32);
  EXPECT_EQ(array.rank, 2);
  EXPECT_EQ(array.dims[1], 3);
  EXPECT_EQ(std::memcmp(array.data, f32.data(), 24), 0);
  cnnc_npy_free(&array);

  // int64, rank 1 (a one-tuple keeps its comma), overwriting the old file.
  std::vector<int64_t> i64 = {-1, 1LL << 40};
  int64_t dim = 2;
  ASSERT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_I64, 1, &dim, i64.data(),
                           err, sizeof(err)),
            CNNC_OK)
      << err;
  EXPECT_NE(readFileBytes(path).find("'shape': (2,), }"), std::string::npos);
  ASSERT_EQ(cnnc_npy_read(path.c_str(), &array, err, sizeof(err)), CNNC_OK);
  EXPECT_EQ(array.dtype, CNNC_DTYPE_I64);
  EXPECT_EQ(static_cast<int64_t *>(array.data)[1], 1LL << 40);
  cnnc_npy_free(&array);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.npy"});
}

TEST(NpyWrite, ScalarEmptyAndRank8) {
  TempDir dir;
  char err[256] = "";
  cnnc_npy_array array{};
  float one = 1;
  ASSERT_EQ(cnnc_npy_write(dir.file("s.npy").c_str(), CNNC_DTYPE_F32, 0,
                           nullptr, &one, err, sizeof(err)),
            CNNC_OK)
      << err;
  ASSERT_EQ(cnnc_npy_read(dir.file("s.npy").c_str(), &array, err, sizeof(err)),
            CNNC_OK)
      << err;
  EXPECT_EQ(array.rank, 0);
  cnnc_npy_free(&array);

  int64_t empty[2] = {0, 3};
  ASSERT_EQ(cnnc_npy_write(dir.file("e.npy").c_str(), CNNC_DTYPE_F32, 2, empty,
                           nullptr, err, sizeof(err)),
            CNNC_OK)
      << err;
  ASSERT_EQ(cnnc_npy_read(dir.file("e.npy").c_str(), &array, err, sizeof(err)),
            CNNC_OK)
      << err;
  EXPECT_EQ(array.num_elements, 0);
  cnnc_npy_free(&array);

  int64_t dims8[8] = {1, 2, 1, 2, 1, 2, 1, 2};
  std::vector<int64_t> data(16, 7);
  ASSERT_EQ(cnnc_npy_write(dir.file("r8.npy").c_str(), CNNC_DTYPE_I64, 8, dims8,
                           data.data(), err, sizeof(err)),
            CNNC_OK)
      << err;
  ASSERT_EQ(cnnc_npy_read(dir.file("r8.npy").c_str(), &array, err, sizeof(err)),
            CNNC_OK)
      << err;
  EXPECT_EQ(array.rank, 8);
  EXPECT_EQ(array.num_elements, 16);
  cnnc_npy_free(&array);
}

TEST(NpyWrite, InvalidArguments) {
  TempDir dir;
  std::string path = dir.file("x.npy");
  char err[256];
  float data[4] = {};
  int64_t negative[1] = {-1};
  EXPECT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_F32, 1, negative, data, err,
                           sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err).find("negative dimension -1"), std::string::npos);
  int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_F32, 9, dims, data, err,
                           sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(cnnc_npy_write(path.c_str(), static_cast<cnnc_dtype>(9), 1, dims,
                           data, err, sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_F32, 1, dims, nullptr, err,
                           sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  int64_t huge[2] = {INT64_MAX, 4};
  EXPECT_EQ(cnnc_npy_write(path.c_str(), CNNC_DTYPE_F32, 2, huge, data, err,
                           sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(NpyWrite, FailureKeepsTheOldFileAndLeavesNoTemporary) {
  TempDir dir;
  char err[256] = "";
  float data[2] = {1, 2};
  int64_t dim = 2;
  // The target is a directory: refused before anything is written.
  fs::create_directory(dir.file("out.npy"));
  EXPECT_EQ(cnnc_npy_write(dir.file("out.npy").c_str(), CNNC_DTYPE_F32, 1, &dim,
                           data, err, sizeof(err)),
            CNNC_ERROR_IO);
  EXPECT_NE(std::string(err).find("is a directory"), std::string::npos) << err;
  EXPECT_TRUE(fs::is_directory(dir.file("out.npy")));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.npy"});

  EXPECT_EQ(cnnc_npy_write(dir.file("no/such/dir.npy").c_str(), CNNC_DTYPE_F32,
                           1, &dim, data, err, sizeof(err)),
            CNNC_ERROR_IO);
  EXPECT_NE(std::string(err).find("cannot create"), std::string::npos) << err;
}

TEST(NpyDtype, NamesAndSizes) {
  EXPECT_STREQ(cnnc_dtype_name(CNNC_DTYPE_F32), "float32");
  EXPECT_STREQ(cnnc_dtype_name(CNNC_DTYPE_I64), "int64");
  EXPECT_STREQ(cnnc_dtype_name(static_cast<cnnc_dtype>(0)), "unknown");
  EXPECT_EQ(cnnc_dtype_size(CNNC_DTYPE_F32), 4u);
  EXPECT_EQ(cnnc_dtype_size(CNNC_DTYPE_I64), 8u);
  EXPECT_EQ(cnnc_dtype_size(static_cast<cnnc_dtype>(0)), 0u);
}

} // namespace
