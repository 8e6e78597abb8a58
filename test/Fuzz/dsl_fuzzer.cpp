//===- dsl_fuzzer.cpp - fuzz the cnnc DSL parser --------------------------===//
//
// cnnc::parseDslSource on any text, as cnnc and cnnc-parse-dsl call it:
// a module or diagnostics, never a crash; a module it returns verifies.
// The dictionary (dsl.dict) holds the DSL's keywords, layers and options.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Frontend/DslParser.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024)
    return 0;
  llvm::SourceMgr sourceMgr;
  // The buffer's name is the file name: backbone paths resolve from the
  // current directory.
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.cnn"),
      llvm::SMLoc());
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.loadDialect<cnnc::cnn::CNNDialect, mlir::StandardOpsDialect>();
  // Diagnostics are formatted (as the tools do) and dropped.
  std::string sink;
  llvm::raw_string_ostream os(sink);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      cnnc::parseDslSource(&context, sourceMgr);
  if (module && failed(mlir::verify(*module))) {
    llvm::errs() << "the DSL parser returned a module that does not verify: "
                 << os.str() << "\n";
    abort();
  }
  return 0;
}
