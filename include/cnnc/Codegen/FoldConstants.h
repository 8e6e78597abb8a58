//===- FoldConstants.h - evaluate constant subgraphs ------------*- C++ -*-===//
//
// cnn-fold-constants: every op whose operands are all `cnn.constant` (not
// `cnn.param`: parameters train) is evaluated at compile time and replaced by
// a `cnn.constant`. Ops with a folder use it; the others (convolutions,
// gemm, pooling, concat, pad, softmax, ...) are evaluated by their own Halide
// definition, the one codegen compiles, JIT-compiled for the host. The pass
// lives with codegen because it needs Halide; the graph pipeline runs it
// first (not at -O0).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_FOLDCONSTANTS_H
#define CNNC_CODEGEN_FOLDCONSTANTS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cnnc {

std::unique_ptr<mlir::Pass> createFoldConstantsPass();

/// Makes `cnn-fold-constants` known to cnnc-opt.
void registerFoldConstantsPass();

} // namespace cnnc

#endif // CNNC_CODEGEN_FOLDCONSTANTS_H
