//===- LoaderTest.cpp - dlopen'ing model libraries -----------------------===//
//
// The fake models are built by CMake from test/Runtime/Inputs/fake_model.c;
// their paths arrive as CNNC_FAKE_* definitions.
//
//===----------------------------------------------------------------------===//
#include "cnnc/loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

struct OpenResult {
  int status;
  std::string error;
  cnnc_loaded_model *model;
};

OpenResult open(const std::string &path) {
  OpenResult result{};
  char err[512] = "";
  result.model = reinterpret_cast<cnnc_loaded_model *>(1); // must be reset
  result.status =
      cnnc_loader_open(path.c_str(), &result.model, err, sizeof(err));
  result.error = err;
  return result;
}

TEST(Loader, OpensAndRunsAModel) {
  OpenResult r = open(CNNC_FAKE_MODEL);
  ASSERT_EQ(r.status, CNNC_OK) << r.error;
  const cnnc_model_api *api = cnnc_loader_api(r.model);
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->abi_version, CNNC_ABI_VERSION);
  EXPECT_STREQ(cnnc_loader_path(r.model), CNNC_FAKE_MODEL);
  ASSERT_EQ(api->num_inputs(), 1);
  ASSERT_EQ(api->num_outputs(), 1);
  cnnc_tensor_info info;
  ASSERT_EQ(api->input_info(0, &info), CNNC_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dims[0], -1);

  cnnc_model *instance = nullptr;
  ASSERT_EQ(api->create(&instance), CNNC_OK);
  float x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {};
  const void *inputs[] = {x};
  void *outputs[] = {y};
  size_t in_bytes[] = {sizeof(x)}, out_bytes[] = {sizeof(y)};
  ASSERT_EQ(api->run(instance, 2, inputs, in_bytes, outputs, out_bytes),
            CNNC_OK);
  EXPECT_EQ(y[5], 11.0f);
  api->release(instance);
  cnnc_loader_close(r.model);
}

TEST(Loader, TwoModelsSideBySide) {
  // RTLD_LOCAL: both export cnnc_model_entry, each handle finds its own.
  OpenResult one = open(CNNC_FAKE_MODEL);
  OpenResult two = open(CNNC_FAKE_TWO_INPUTS);
  ASSERT_EQ(one.status, CNNC_OK) << one.error;
  ASSERT_EQ(two.status, CNNC_OK) << two.error;
  EXPECT_EQ(cnnc_loader_api(one.model)->num_inputs(), 1);
  EXPECT_EQ(cnnc_loader_api(two.model)->num_inputs(), 2);
  cnnc_loader_close(one.model);
  cnnc_loader_close(two.model);
}

struct BadCase {
  const char *name;
  std::string path;
  int status;
  std::string message;
};

class LoaderErrors : public testing::TestWithParam<BadCase> {};

TEST_P(LoaderErrors, FailsWithMessage) {
  const BadCase &c = GetParam();
  OpenResult r = open(c.path);
  EXPECT_EQ(r.status, c.status) << r.error;
  EXPECT_EQ(r.model, nullptr);
  EXPECT_EQ(r.error.rfind(c.path + ": ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find(c.message), std::string::npos) << r.error;
}

std::string notALibrary() {
  std::string path =
      (std::filesystem::temp_directory_path() / "cnnc-loader-test-not-a.so")
          .string();
  if (FILE *f = std::fopen(path.c_str(), "w")) {
    std::fputs("this is not an ELF file\n", f);
    std::fclose(f);
  }
  return path;
}

/* The first 4 KB of a real model library (an interrupted copy): dlopen
 * would die of SIGBUS mapping its segments. */
std::string truncatedLibrary() {
  std::string path =
      (std::filesystem::temp_directory_path() / "cnnc_loader_truncated.so")
          .string();
  std::FILE *in = std::fopen(CNNC_FAKE_MODEL, "rb");
  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (in && out) {
    char buf[4096];
    size_t n = std::fread(buf, 1, sizeof buf, in);
    std::fwrite(buf, 1, n, out);
  }
  if (in)
    std::fclose(in);
  if (out)
    std::fclose(out);
  return path;
}

INSTANTIATE_TEST_SUITE_P(
    All, LoaderErrors,
    testing::Values(
        BadCase{"Missing", "/nonexistent/model.so", CNNC_ERROR_IO,
                "cannot open: No such file or directory"},
        BadCase{"Directory", std::filesystem::temp_directory_path().string(),
                CNNC_ERROR_IO, "is a directory"},
        BadCase{"NotALibrary", notALibrary(), CNNC_ERROR_IO,
                "not a model library (not an ELF file)"},
        BadCase{"Truncated", truncatedLibrary(), CNNC_ERROR_IO,
                "truncated model library"},
        BadCase{"NoEntryPoint", CNNC_FAKE_NO_ENTRY, CNNC_ERROR_UNSUPPORTED,
                "not a cnnc model library (no 'cnnc_model_entry' symbol)"},
        BadCase{"WrongAbi", CNNC_FAKE_ABI2, CNNC_ERROR_UNSUPPORTED,
                "model ABI version 99, but this runtime supports version " +
                    std::to_string(CNNC_ABI_VERSION)},
        BadCase{"NoRunFunction", CNNC_FAKE_NO_RUN, CNNC_ERROR_INVALID_ARGUMENT,
                "malformed model: the function table has no 'run'"}),
    [](const testing::TestParamInfo<BadCase> &info) {
      return std::string(info.param.name);
    });

TEST(Loader, NullArguments) {
  char err[64];
  EXPECT_EQ(cnnc_loader_open(CNNC_FAKE_MODEL, nullptr, err, sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  cnnc_loaded_model *model = nullptr;
  EXPECT_EQ(cnnc_loader_open(nullptr, &model, err, sizeof(err)),
            CNNC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(cnnc_loader_api(nullptr), nullptr);
  cnnc_loader_close(nullptr);
}

} // namespace
