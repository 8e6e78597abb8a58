# The fuzzers in the default test run (docs/reliability.md).
#
# The fuzz targets need Clang (libFuzzer) and an instrumented build of the
# code they call, while the default build uses GCC without sanitizers: the
# fuzzers are built as a second project in <build>/fuzz-build (clang-14,
# -DCNNC_ENABLE_FUZZERS=ON; only the frontends, the dialect and the runtime,
# none of the Halide code: about 3.5 CPU-minutes), and ctest runs
#   fuzz-regressions  every reproducer in test/Fuzz/crashes (must pass)
#   fuzz-short-run    each fuzzer a fixed number of inputs from seed 1 (at most 7 s)
# -DCNNC_ENABLE_FUZZ_TESTS=OFF leaves both out (scripts/fuzz.sh still works).
option(CNNC_ENABLE_FUZZ_TESTS
  "Build the fuzzers with clang-14 in <build>/fuzz-build and run them briefly in ctest"
  ON)
set(CNNC_FUZZ_BUILD_JOBS 2 CACHE STRING "Parallel jobs of the fuzzers' build")
if(NOT CNNC_ENABLE_FUZZ_TESTS OR CNNC_ENABLE_FUZZERS)
  return()
endif()
find_program(CNNC_FUZZ_CC clang-14)
find_program(CNNC_FUZZ_CXX clang++-14)
file(GLOB CNNC_LIBFUZZER
  /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
if(NOT CNNC_FUZZ_CC OR NOT CNNC_FUZZ_CXX OR NOT CNNC_LIBFUZZER)
  message(FATAL_ERROR "The fuzz tests need clang-14 and libFuzzer: install "
    "clang-14 libclang-rt-14-dev (scripts/install-deps.sh), or configure "
    "with -DCNNC_ENABLE_FUZZ_TESTS=OFF")
endif()

include(ExternalProject)
set(CNNC_FUZZ_BUILD ${PROJECT_BINARY_DIR}/fuzz-build)
ExternalProject_Add(cnnc_fuzz_build
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${CNNC_FUZZ_BUILD}
  CMAKE_ARGS
    -DCMAKE_C_COMPILER=${CNNC_FUZZ_CC}
    -DCMAKE_CXX_COMPILER=${CNNC_FUZZ_CXX}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG"
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG"
    -DPython3_EXECUTABLE=${Python3_EXECUTABLE}
    -DCNNC_ENABLE_FUZZERS=ON
    -DCNNC_CROSS_TRIPLES=
  BUILD_COMMAND ${CMAKE_COMMAND} --build ${CNNC_FUZZ_BUILD}
    -j ${CNNC_FUZZ_BUILD_JOBS} --target cnnc-fuzzers cnnc-fuzz-state-seeds
  COMMAND ${CMAKE_COMMAND} --build ${CNNC_FUZZ_BUILD} --target cnnc-fuzz-corpus
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON)
add_test(NAME fuzz-regressions
  COMMAND ${PROJECT_SOURCE_DIR}/test/Fuzz/run-fuzz-tests.sh regressions
          ${CNNC_FUZZ_BUILD}/fuzz)
add_test(NAME fuzz-short-run
  COMMAND ${PROJECT_SOURCE_DIR}/test/Fuzz/run-fuzz-tests.sh short-run
          ${CNNC_FUZZ_BUILD}/fuzz 7)
