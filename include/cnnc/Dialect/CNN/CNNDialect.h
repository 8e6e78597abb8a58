//===- CNNDialect.h - cnn dialect -------------------------------*- C++ -*-===//
#ifndef CNNC_DIALECT_CNN_CNNDIALECT_H
#define CNNC_DIALECT_CNN_CNNDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

#include "cnnc/Dialect/CNN/CNNOpsDialect.h.inc"

// The enums (Activation, PoolKind, Statistic) and their attributes.
#include "cnnc/Dialect/CNN/CNNEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "cnnc/Dialect/CNN/CNNAttrs.h.inc"

#endif // CNNC_DIALECT_CNN_CNNDIALECT_H
