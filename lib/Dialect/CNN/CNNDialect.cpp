//===- CNNDialect.cpp - cnn dialect registration --------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace mlir;
using namespace cnnc::cnn;

#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"

#include "cnnc/Dialect/CNN/CNNOpsDialect.cpp.inc"

#include "cnnc/Dialect/CNN/CNNEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "cnnc/Dialect/CNN/CNNAttrs.cpp.inc"

void CNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "cnnc/Dialect/CNN/CNNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "cnnc/Dialect/CNN/CNNAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Discardable attributes (CNNDiscardableAttrs.h)
//===----------------------------------------------------------------------===//

LogicalResult CNNDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  auto expect = [&](bool ok, StringRef what) -> LogicalResult {
    if (ok)
      return success();
    return op->emitError("attribute '") << name << "' must be " << what;
  };
  bool isFunc = isa<FuncOp>(op);
  if (name == kTrainStepAttr.name)
    return expect(isFunc && value.isa<UnitAttr>(),
                  "a unit attribute of a function");
  if (name == kFirstEpochAttr.name) {
    auto epoch = value.dyn_cast<IntegerAttr>();
    return expect(isFunc && kTrainStepAttr.isSetOn(op) && epoch &&
                      epoch.getInt() >= 1,
                  "an epoch >= 1 of a training step (cnn.train_step)");
  }
  if (name == kFeaturesAttr.name || name == kHeadAttr.name) {
    auto ref = value.dyn_cast<FlatSymbolRefAttr>();
    if (failed(expect(isFunc && ref, "a function's reference to a function")))
      return failure();
    return expect(bool(SymbolTable::lookupNearestSymbolFrom<FuncOp>(op, ref)),
                  "the name of a function of the module, not " +
                      ref.getValue().str());
  }
  if (name == kNoCacheAttr.name)
    return expect(isFunc && value.isa<StringAttr>(),
                  "a string (why) of a function");
  if (name == kSourceOnnxAttr.name)
    return expect(isa<ModuleOp>(op) && value.isa<StringAttr>(),
                  "a string (a path) of the module");
  if (name == kFoldedAttr.name || name == kRngAttr.name)
    return expect(isa<ParamOp>(op) && value.isa<UnitAttr>(),
                  "a unit attribute of a cnn.param");
  if (name == kFrozenBoundaryAttr.name)
    return expect(value.isa<UnitAttr>(), "a unit attribute");
  if (name == kPrepaddedAttr.name) {
    bool padded = isa<Conv2dOp, FusedConv2dOp>(op) && hasConvPadding(op);
    return expect(value.isa<UnitAttr>() && padded,
                  "a unit attribute of a convolution with padding");
  }
  if (name == kZeroBorderAttr.name) {
    auto border = value.dyn_cast<ArrayAttr>();
    bool ok =
        border && border.size() == 4 && llvm::all_of(border, [](Attribute a) {
          auto i = a.dyn_cast<IntegerAttr>();
          return i && i.getInt() >= 0;
        });
    return expect(ok && op->getNumResults() == 1,
                  "4 non-negative integers [top, left, bottom, right] of an "
                  "op with one result");
  }
  if (name == kNameAttr || name == kGradOfAttr || name == kUpdateOfAttr)
    return op->emitError("attribute '")
           << name << "' belongs on a function's arguments or results";
  return op->emitError("unknown cnn dialect attribute '") << name << "'";
}

LogicalResult CNNDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned index,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kNameAttr) {
    if (!attr.getValue().isa<StringAttr>())
      return op->emitError("argument ")
             << index << ": attribute '" << name << "' must be a string";
    return success();
  }
  return op->emitError("argument ")
         << index << ": unknown cnn dialect argument attribute '" << name
         << "'";
}

LogicalResult CNNDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                      unsigned index,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kNameAttr || name == kGradOfAttr || name == kUpdateOfAttr) {
    if (!attr.getValue().isa<StringAttr>())
      return op->emitError("result ")
             << index << ": attribute '" << name << "' must be a string";
    return success();
  }
  return op->emitError("result ")
         << index << ": unknown cnn dialect result attribute '" << name << "'";
}
