//===- Passes.h - passes that need Halide -----------------------*- C++ -*-===//
//
// Declared in Passes.td: cnn-fold-constants, which evaluates constant
// subgraphs with the ops' Halide definitions.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_PASSES_H
#define CNNC_CODEGEN_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cnnc {

std::unique_ptr<mlir::Pass> createFoldConstantsPass();

#define GEN_PASS_REGISTRATION
#include "cnnc/Codegen/Passes.h.inc"

} // namespace cnnc

#endif // CNNC_CODEGEN_PASSES_H
