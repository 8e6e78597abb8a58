//===- cnnc-opt.cpp - run cnn dialect passes on .mlir files ---------------===//
#include "cnnc/InitAll.h"
#include "mlir/Support/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  cnnc::registerAllDialects(registry);
  cnnc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "cnnc optimizer driver\n", registry,
                        /*preloadDialectsInContext=*/false));
}
