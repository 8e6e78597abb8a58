//===- CNNDialect.cpp - cnn dialect registration --------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace mlir;
using namespace cnnc::cnn;

#include "mlir/IR/DialectImplementation.h"
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
