//===- CNNDialect.h - cnn dialect -------------------------------*- C++ -*-===//
#ifndef CNNC_DIALECT_CNN_CNNDIALECT_H
#define CNNC_DIALECT_CNN_CNNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "cnnc/Dialect/CNN/CNNOpsDialect.h.inc"

#endif // CNNC_DIALECT_CNN_CNNDIALECT_H
