//===- ModelSummary.cpp - per-layer parameter counts ----------------------===//
#include "cnnc/Analysis/ModelSummary.h"
#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace cnnc;

std::string cnnc::withThousandsSeparators(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count && count % 3 == 0)
      out.push_back(',');
    out.push_back(*it);
    ++count;
  }
  if (value < 0)
    out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

static std::string kerasShape(Type type) {
  auto shaped = type.dyn_cast<ShapedType>();
  if (!shaped || !shaped.hasRank())
    return "?";
  std::string s = "(";
  for (int64_t i = 0; i < shaped.getRank(); ++i) {
    if (i)
      s += ", ";
    int64_t d = shaped.getDimSize(i);
    s += d == ShapedType::kDynamicSize ? "None" : std::to_string(d);
  }
  if (shaped.getRank() == 1)
    s += ",";
  return s + ")";
}

static std::string layerName(Operation *op, unsigned index) {
  Location loc = op->getLoc();
  if (auto fused = loc.dyn_cast<FusedLoc>())
    for (Location inner : fused.getLocations())
      if (inner.isa<NameLoc>()) {
        loc = inner;
        break;
      }
  if (auto name = loc.dyn_cast<NameLoc>())
    return name.getName().str();
  return op->getName().stripDialect().str() + "_" + std::to_string(index);
}

FailureOr<ModelSummary> cnnc::summarizeModel(ModuleOp module) {
  auto main = module.lookupSymbol<FuncOp>("main");
  if (!main) {
    module.emitError("the model has no 'main' function to summarize");
    return failure();
  }
  ModelSummary summary;
  summary.modelName = module.getName() ? module.getName()->str() : "model";
  llvm::DenseSet<Operation *> counted;
  unsigned index = 0;
  main.walk([&](Operation *op) {
    if (isa<cnn::ParamOp>(op)) {
      // Parameters without users still belong to the model.
      auto param = cast<cnn::ParamOp>(op);
      if (param->use_empty() && !param.getBuffer()) {
        summary.totalParams += param.getNumElements();
        if (!param.getFrozen())
          summary.trainableParams += param.getNumElements();
      }
      return;
    }
    if (isa<cnn::ConstantOp, ReturnOp, FuncOp>(op) ||
        op->getDialect() != main->getContext()->getLoadedDialect("cnn"))
      return;
    LayerSummary layer;
    layer.name = layerName(op, index++);
    layer.op = op->getName().stripDialect().str();
    layer.outputShape =
        op->getNumResults() ? kerasShape(op->getResult(0).getType()) : "";
    for (Value operand : op->getOperands()) {
      auto param = operand.getDefiningOp<cnn::ParamOp>();
      if (!param || param.getBuffer() || !counted.insert(param).second)
        continue;
      layer.params += param.getNumElements();
      if (!param.getFrozen())
        layer.trainableParams += param.getNumElements();
    }
    summary.totalParams += layer.params;
    summary.trainableParams += layer.trainableParams;
    summary.layers.push_back(std::move(layer));
  });
  // Gradual unfreezing: a parameter of a group (or name prefix) unfrozen at
  // epoch E trains from E on; one phase per distinct epoch.
  auto schedule = cnn::unfreezeSchedule(module);
  if (!schedule.empty()) {
    std::vector<int64_t> starts = {1};
    for (auto &entry : schedule)
      starts.push_back(entry.second);
    llvm::sort(starts);
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    for (size_t i = 0; i < starts.size(); ++i) {
      PhaseSummary phase;
      phase.firstEpoch = starts[i];
      phase.lastEpoch = i + 1 < starts.size() ? starts[i + 1] - 1 : 0;
      main.walk([&](cnn::ParamOp param) {
        if (param.getBuffer() || param.getFrozen())
          return;
        for (auto &entry : schedule)
          if (entry.second > phase.firstEpoch &&
              param.isInGroupOrPrefix(entry.first))
            return;
        phase.trainableParams += param.getNumElements();
      });
      summary.phases.push_back(phase);
    }
  }
  return summary;
}

void cnnc::printModelSummary(const ModelSummary &summary,
                             llvm::raw_ostream &os) {
  size_t nameWidth = 28, shapeWidth = 24;
  for (const LayerSummary &l : summary.layers) {
    nameWidth = std::max(nameWidth, l.name.size() + l.op.size() + 5);
    shapeWidth = std::max(shapeWidth, l.outputShape.size() + 2);
  }
  std::string thin(nameWidth + shapeWidth + 26, '_');
  std::string thick(thin.size(), '=');
  os << "Model: \"" << summary.modelName << "\"\n" << thin << "\n";
  os << llvm::left_justify(" Layer (type)", nameWidth)
     << llvm::left_justify("Output Shape", shapeWidth)
     << llvm::left_justify("Param #", 14) << "Trainable\n"
     << thick << "\n";
  for (const LayerSummary &l : summary.layers) {
    std::string trainable = l.params == 0                   ? ""
                            : l.trainableParams == l.params ? "trainable"
                            : l.trainableParams == 0        ? "frozen"
                                                            : "partly frozen";
    os << llvm::left_justify(" " + l.name + " (" + l.op + ")", nameWidth)
       << llvm::left_justify(l.outputShape, shapeWidth)
       << llvm::left_justify(withThousandsSeparators(l.params), 14) << trainable
       << "\n";
  }
  os << thick << "\n";
  os << "Total params: " << withThousandsSeparators(summary.totalParams)
     << "\n";
  os << "Trainable params: " << withThousandsSeparators(summary.trainableParams)
     << (summary.phases.empty() ? "" : " (in some phase of the plan)") << "\n";
  for (const PhaseSummary &phase : summary.phases) {
    std::string epochs = phase.lastEpoch == 0
                             ? "from epoch " + std::to_string(phase.firstEpoch)
                         : phase.lastEpoch == phase.firstEpoch
                             ? "epoch " + std::to_string(phase.firstEpoch)
                             : "epochs " + std::to_string(phase.firstEpoch) +
                                   "-" + std::to_string(phase.lastEpoch);
    os << "  trainable " << epochs << ": "
       << withThousandsSeparators(phase.trainableParams) << "\n";
  }
  os << "Non-trainable params: "
     << withThousandsSeparators(summary.nonTrainableParams()) << "\n";
  os << thin << "\n";
}
