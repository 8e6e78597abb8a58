//===- Version.cpp - what --version prints for the C++ tools --------------===//
#include "cnnc/Support/Version.h"
#include "cnnc/version.h"

#include "llvm/Config/llvm-config.h"

#include <cnnc/model_abi.h>

void cnnc::printVersion(llvm::raw_ostream &os, const char *tool) {
  os << tool << " (cnnc) " << CNNC_VERSION_STRING << ", commit "
     << CNNC_GIT_COMMIT << ", model ABI version " << CNNC_ABI_VERSION << "\n"
     << "  built with LLVM and MLIR " << LLVM_VERSION_STRING << ", Halide "
     << CNNC_HALIDE_VERSION << "\n";
}

const char *cnnc::versionString() { return CNNC_VERSION_STRING; }
