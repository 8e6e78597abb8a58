//===- Pipelines.cpp - the pass pipeline cnnc runs ------------------------===//
#include "cnnc/Pipelines/Pipelines.h"
#include "cnnc/Codegen/Passes.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void cnnc::buildGraphPipeline(OpPassManager &pm,
                              const GraphPipelineOptions &options) {
  // Freezing (and the unfreezing plan) changes what the later passes may
  // fold, so it runs first, and also at -O0: it changes what trains, not
  // only speed.
  // (cl::list converts to a vector only when not const: copy the values.)
  std::vector<std::string> freeze(options.freeze.begin(), options.freeze.end());
  std::vector<std::string> unfreezeAt(options.unfreezeAt.begin(),
                                      options.unfreezeAt.end());
  if (!freeze.empty() || !unfreezeAt.empty())
    pm.addPass(cnn::createFreezeParamsPass(freeze, unfreezeAt));
  if (options.optLevel > 0) {
    // Constant subgraphs first: what they compute can then fold further
    // (BatchNorm into weights, fusion).
    pm.addPass(createFoldConstantsPass());
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
        cnn::createFuseOpsPass(options.remarks, options.training,
                               /*inputAffine=*/options.vectorLanes > 0));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  // Not an optimization: the feature cache needs it at -O0 too.
  if (options.training)
    pm.addPass(cnn::createSplitFrozenPrefixPass());
  // The inference graph's layouts for the target, last: nothing after it
  // changes the convolutions. Packing is not an optimization of the graph
  // (-O0 keeps it); fusing the padding into producers is.
  if (options.vectorLanes > 0)
    pm.addPass(cnn::createPackConvWeightsPass(
        options.vectorLanes, options.optLevel > 0,
        options.optLevel > 0 && options.winograd,
        /*flattenPointwise=*/options.optLevel > 0));
}

void cnnc::registerGraphPipeline() {
  PassPipelineRegistration<GraphPipelineOptions>(
      "cnn-graph-pipeline",
      "The graph passes cnnc runs between import and code generation",
      buildGraphPipeline);
}
