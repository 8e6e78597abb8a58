#!/usr/bin/env bash
# Installs the Debian 12 packages cnnc needs to build and test. Idempotent.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build git
  llvm-14-dev llvm-14-tools libmlir-14-dev mlir-14-tools
  libhalide14-0-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libonnx-testdata
  libgtest-dev libbenchmark-dev
  # the fuzzers (test/Fuzz; libFuzzer, ASan, UBSan), built and run briefly by ctest
  clang-14 libclang-rt-14-dev
  python3 python3-numpy python3-onnx python3-torch python3-torchvision
  dataset-fashion-mnist
  zlib1g-dev
  # man pages from the tools' --help (cmake/Install.cmake)
  help2man
  # multi-process training (cnnc-train under mpirun; docs/distributed.md)
  openmpi-bin libopenmpi-dev
  # 64-bit ARM: cross toolchain for --target=arm-64-linux, QEMU to test it
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
