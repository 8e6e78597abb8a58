//===- cnnc-import-onnx.cpp - print the cnn IR of an ONNX model -----------===//
//
// The ONNX frontend alone, for tests: `cnnc-import-onnx model.onnx` prints
// the imported module, or the diagnostics and exits with 1.
//
//===----------------------------------------------------------------------===//

#include "cnnc/Frontend/OnnxImporter.h"
#include "cnnc/Support/DiagnosticPrinter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string>
    inputFilename(cl::Positional, cl::desc("<model.onnx>"), cl::Required);
static cl::opt<std::string>
    cutBefore("cut-before",
              cl::desc("Return the data input of this node instead of the "
                       "graph outputs"),
              cl::value_desc("node"));
static cl::opt<std::string>
    cutAfter("cut-after", cl::desc("Return the first output of this node"),
             cl::value_desc("node"));
static cl::opt<std::string> moduleName("module-name",
                                       cl::desc("Name of the module"),
                                       cl::value_desc("name"));
static cl::opt<uint64_t>
    maxModelBytes("max-model-bytes",
                  cl::desc("Largest file and tensor data accepted"),
                  cl::init(cnnc::OnnxImportOptions().maxModelBytes));

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // --mlir-print-debuginfo shows the node locations.
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "ONNX -> cnn dialect importer\n");

  // The importer loads the dialects it creates ops of.
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  cnnc::DiagnosticPrinter diagnostics(sourceMgr, &context, llvm::errs());

  cnnc::OnnxImportOptions options;
  options.cutBefore = cutBefore;
  options.cutAfter = cutAfter;
  options.moduleName = moduleName;
  options.maxModelBytes = maxModelBytes;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      cnnc::importOnnxFile(&context, inputFilename, options);
  if (!module)
    return 1;
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
