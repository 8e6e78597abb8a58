//===- CNNDialect.cpp - cnn dialect registration --------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/CNNOps.h"

using namespace mlir;
using namespace cnnc::cnn;

#include "cnnc/Dialect/CNN/CNNOpsDialect.cpp.inc"

void CNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "cnnc/Dialect/CNN/CNNOps.cpp.inc"
      >();
}
