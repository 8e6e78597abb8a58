# Sanitizers and fuzzers for cnnc's own code (docs/reliability.md).
#
#   -DCNNC_SANITIZE=address,undefined   -fsanitize=... on every C/C++ file of
#                                       cnnc (compiler, runtime tools, tools,
#                                       tests), with GCC or Clang
#   -DCNNC_ENABLE_FUZZERS=ON            the libFuzzer targets of test/Fuzz
#                                       (Clang only): everything is built
#                                       with coverage (fuzzer-no-link)
#
# Libraries that are not cnnc's (LLVM, MLIR, Halide, libonnx, protobuf) are
# not instrumented: ASan still catches cnnc's bad accesses to their memory,
# and a crash inside them is reported with its stack.
#
# cnnc_rt, the executor linked into every generated model library, stays
# uninstrumented (cnnc_exclude_from_sanitizers): model.so files are loaded by
# processes without a sanitizer runtime (Python's ctypes, the C harnesses of
# the tests, users' programs), where instrumented code cannot resolve the
# sanitizer's symbols. The executor is fuzzed and sanitized by test/Fuzz,
# which compiles its sources into the fuzzer itself.

set(CNNC_SANITIZE "" CACHE STRING
  "Sanitizers for cnnc's code, as -fsanitize takes them (e.g. address,undefined)")
option(CNNC_ENABLE_FUZZERS
  "Build the libFuzzer targets of test/Fuzz (needs Clang)" OFF)

if(CNNC_ENABLE_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR
     NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CNNC_ENABLE_FUZZERS needs Clang (libFuzzer): "
      "configure with -DCMAKE_C_COMPILER=clang-14 "
      "-DCMAKE_CXX_COMPILER=clang++-14 (scripts/fuzz.sh does)")
  endif()
  if(NOT CNNC_SANITIZE)
    set(CNNC_SANITIZE address,undefined CACHE STRING
      "Sanitizers for cnnc's code, as -fsanitize takes them" FORCE)
  endif()
endif()

if(CNNC_SANITIZE)
  message(STATUS "cnnc: building with -fsanitize=${CNNC_SANITIZE}")
  # A report is an error: stop at the first one, with a useful stack.
  add_compile_options(-fsanitize=${CNNC_SANITIZE} -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${CNNC_SANITIZE})
endif()
if(CNNC_ENABLE_FUZZERS)
  # Coverage for libFuzzer on all of cnnc; the fuzz targets link the fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()

# Turns the sanitizers (and fuzzer coverage) off for `target` (see above).
function(cnnc_exclude_from_sanitizers target)
  if((CNNC_SANITIZE OR CNNC_ENABLE_FUZZERS) AND TARGET ${target})
    # Clang's -fno-sanitize=all also drops fuzzer-no-link's coverage.
    target_compile_options(${target} PRIVATE -fno-sanitize=all)
  endif()
endfunction()
