//===- Version.h - what --version prints for the C++ tools ------*- C++ -*-===//
#ifndef CNNC_SUPPORT_VERSION_H
#define CNNC_SUPPORT_VERSION_H

#include "llvm/Support/raw_ostream.h"

namespace cnnc {

/// "<tool> (cnnc) 0.5.0, commit abc, model ABI version 3" and the LLVM,
/// MLIR and Halide versions it was built with; for cl::SetVersionPrinter.
void printVersion(llvm::raw_ostream &os, const char *tool);

/// cnnc's version, "0.5.0" (the project's VERSION).
const char *versionString();

} // namespace cnnc

#endif // CNNC_SUPPORT_VERSION_H
