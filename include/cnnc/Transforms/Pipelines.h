//===- Pipelines.h - the pass pipelines cnnc runs ---------------*- C++ -*-===//
#ifndef CNNC_TRANSFORMS_PIPELINES_H
#define CNNC_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace cnnc {

struct GraphPipelineOptions {
  /// 0 lowers the graph op by op (no graph optimizations); >= 1 enables them.
  unsigned optLevel = 2;
  /// Parameter-name prefixes frozen from the command line (--freeze).
  std::vector<std::string> freezePrefixes;
  /// Compiling for training: only frozen parameters are constants.
  bool training = false;
  /// With training: the loss of the derived train_step.
  std::string loss = "cross_entropy";
  /// Report, as remarks, the fusions that did not happen and why.
  bool remarks = false;
};

/// The graph passes between import and code generation (--emit=mlir).
void buildGraphPassPipeline(mlir::PassManager &pm,
                            const GraphPipelineOptions &options);

} // namespace cnnc

#endif // CNNC_TRANSFORMS_PIPELINES_H
