//===- cnnc-opt.cpp - run cnn dialect passes on .mlir files ---------------===//
#include "cnnc/InitAll.h"
#include "cnnc/Support/Version.h"
#include "mlir/Support/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  cnnc::registerAllDialects(registry);
  cnnc::registerAllPasses();
  llvm::cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { cnnc::printVersion(os, "cnnc-opt"); });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "cnnc optimizer driver\n", registry,
                        /*preloadDialectsInContext=*/false));
}
