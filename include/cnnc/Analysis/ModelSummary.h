//===- ModelSummary.h - per-layer parameter counts --------------*- C++ -*-===//
//
// The table `cnnc --summary` prints: one row per layer with its output shape
// and parameter count, then Keras's "Total params" lines.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_ANALYSIS_MODELSUMMARY_H
#define CNNC_ANALYSIS_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc {

struct LayerSummary {
  std::string name;        ///< The op's NameLoc name, else "<op>_<index>".
  std::string op;          ///< Op mnemonic without the dialect, e.g. conv2d.
  std::string outputShape; ///< Keras style: (None, 6, 28, 28).
  int64_t params = 0;      ///< Parameters first used by this layer.
  int64_t trainableParams = 0;
};

/// The parameters trained in one phase of a gradual-unfreezing plan: from
/// `firstEpoch` until the next phase (lastEpoch 0: to the end).
struct PhaseSummary {
  int64_t firstEpoch = 1, lastEpoch = 0;
  int64_t trainableParams = 0;
};

struct ModelSummary {
  std::string modelName;
  std::vector<LayerSummary> layers;
  int64_t totalParams = 0;
  /// Trainable in some phase (the union of the phases).
  int64_t trainableParams = 0;
  /// One entry per phase when the model has an unfreezing plan.
  std::vector<PhaseSummary> phases;
  int64_t nonTrainableParams() const { return totalParams - trainableParams; }
};

/// Summarizes `func @main` of `module`. Running statistics (`buffer` params)
/// are not parameters, as in PyTorch; a parameter used by several layers is
/// counted once, at its first user. Returns failure (with a diagnostic) when
/// the module has no `main`.
mlir::FailureOr<ModelSummary> summarizeModel(mlir::ModuleOp module);

void printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os);

/// 61706 -> "61,706".
std::string withThousandsSeparators(int64_t value);

} // namespace cnnc

#endif // CNNC_ANALYSIS_MODELSUMMARY_H
