//===- InitAll.h - register every cnnc dialect and pass ---------*- C++ -*-===//
//
// The one registration hub that cnnc, cnnc-opt and the tests call.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_INITALL_H
#define CNNC_INITALL_H

#include "cnnc/Codegen/Passes.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Pipelines/Pipelines.h"
#include "cnnc/Transforms/Passes.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Dialect.h"
#include "mlir/Transforms/Passes.h"

namespace cnnc {

inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<cnn::CNNDialect, mlir::StandardOpsDialect>();
}

inline void registerAllPasses() {
  cnn::registerCNNPasses();
  registerCNNCodegenPasses();
  registerGraphPipeline();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}

} // namespace cnnc

#endif // CNNC_INITALL_H
