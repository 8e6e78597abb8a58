//===- Pipelines.cpp - the pass pipelines cnnc runs -----------------------===//
#include "cnnc/Transforms/Pipelines.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/Transforms/Passes.h"

using namespace mlir;

void cnnc::buildGraphPassPipeline(PassManager &pm,
                                  const GraphPipelineOptions &options) {
  // Freezing changes what the later passes may fold, so it runs first and
  // also at -O0 (it changes the semantics of training, not only speed).
  if (!options.freezePrefixes.empty())
    pm.addPass(cnn::createFreezeParamsPass(options.freezePrefixes));
  if (options.optLevel > 0) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(cnn::createFoldBatchNormPass(options.training));
  }
  if (options.training) {
    pm.addPass(cnn::createDeriveTrainingPass(options.loss));
    // Phases of gradual unfreezing freeze more in their training steps.
    if (options.optLevel > 0)
      pm.addPass(cnn::createFoldBatchNormPass(options.training));
  }
  if (options.optLevel > 0) {
    pm.addNestedPass<FuncOp>(
        cnn::createFuseOpsPass(options.remarks, options.training));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  // Not an optimization: the feature cache needs it at -O0 too.
  if (options.training)
    pm.addPass(cnn::createSplitFrozenPrefixPass());
}
