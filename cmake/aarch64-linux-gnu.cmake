# Cross-compiling cnnc's runtime and tools (cnnc-run, cnnc-train) for 64-bit
# ARM Linux with Debian's cross toolchain (gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross). The compiler itself (MLIR, Halide, ONNX) stays on
# the build machine; only the code that runs models goes to the board:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DCNNC_RUNTIME_ONLY=ON
# Without the board's zlib and protobuf installed for aarch64, cnnc-train reads
# uncompressed data sets only and has no --export (it says so).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Tests and try_run go through user-mode QEMU (Debian: qemu-user).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
