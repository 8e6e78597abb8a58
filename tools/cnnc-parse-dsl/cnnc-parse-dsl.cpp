//===- cnnc-parse-dsl.cpp - parse a .cnn file and print its module --------===//
//
// The DSL front end alone, for tests: `cnnc-parse-dsl FILE.cnn` prints the
// module, or the diagnostics (with the source line and a caret) and exits 1.
// Large weights of an imported backbone are elided, as cnnc does.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Frontend/DslParser.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<file.cnn>"), cl::Required);
static cl::opt<unsigned>
    elideLimit("elide-elements-above",
               cl::desc("Print constants with more elements than this elided "
                        "(0: print everything)"),
               cl::init(16));

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // --mlir-print-debuginfo shows the layers' NameLoc locations.
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "cnnc DSL parser test driver\n");

  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFilename,
                                                 /*IsText=*/true);
  if (!file) {
    llvm::errs() << "cnnc-parse-dsl: error: cannot read '" << inputFilename
                 << "': " << file.getError().message() << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());

  mlir::MLIRContext context;
  context.loadDialect<cnnc::cnn::CNNDialect, mlir::StandardOpsDialect>();
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      cnnc::parseDslSource(&context, sourceMgr);
  if (!module)
    return 1;
  mlir::OpPrintingFlags flags;
  if (elideLimit)
    flags.elideLargeElementsAttrs(elideLimit);
  module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}
