//===- Pipelines.h - the pass pipeline cnnc runs ----------------*- C++ -*-===//
//
// `cnn-graph-pipeline`: every graph pass between import and code generation,
// in the order cnnc runs them. cnnc builds it from its command line and
// cnnc-opt from `--cnn-graph-pipeline="..."`, so the two run the same passes
// (test/Transforms/graph-pipeline.mlir compares them).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_PIPELINES_PIPELINES_H
#define CNNC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace cnnc {

struct GraphPipelineOptions
    : public mlir::PassPipelineOptions<GraphPipelineOptions> {
  Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("0 lowers the graph op by op (cnnc -O0: no constant "
                     "folding, BatchNorm folding or fusion); >= 1 optimizes"),
      llvm::cl::init(2)};
  ListOption<std::string> freeze{
      *this, "freeze",
      llvm::cl::desc("Parameter-name prefixes or groups to freeze (cnnc "
                     "--freeze)"),
      llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated};
  ListOption<std::string> unfreezeAt{
      *this, "unfreeze-at",
      llvm::cl::desc("EPOCH:PREFIX entries: frozen until that epoch of the "
                     "plan (cnnc --unfreeze-at)"),
      llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated};
  Option<bool> training{
      *this, "training",
      llvm::cl::desc("Derive the training steps (cnnc --train): only frozen "
                     "parameters are constants"),
      llvm::cl::init(false)};
  Option<std::string> loss{
      *this, "loss",
      llvm::cl::desc("With training: cross_entropy or mse (default: the "
                     "DSL plan's, else cross_entropy)")};
  Option<int64_t> vectorLanes{
      *this, "vector-lanes",
      llvm::cl::desc("The target's f32 vector width: inference convolutions "
                     "get packed weights for it (cnn-pack-conv-weights; 0, "
                     "the default: plain weights)"),
      llvm::cl::init(0)};
  Option<bool> winograd{
      *this, "winograd",
      llvm::cl::desc("Above -O0: 3x3, stride-1 inference convolutions where "
                     "it pays run as Winograd F(4x4, 3x3) (cnnc "
                     "--no-winograd: false)"),
      llvm::cl::init(true)};
  Option<bool> remarks{
      *this, "remarks",
      llvm::cl::desc("Report, as remarks, the fusions that did not happen"),
      llvm::cl::init(false)};
};

/// Adds the graph passes to `pm` (cnnc --emit=mlir shows their result).
void buildGraphPipeline(mlir::OpPassManager &pm,
                        const GraphPipelineOptions &options);

/// Makes `cnn-graph-pipeline` known to cnnc-opt.
void registerGraphPipeline();

} // namespace cnnc

#endif // CNNC_PIPELINES_PIPELINES_H
