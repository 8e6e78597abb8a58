//===- mlir_fuzzer.cpp - fuzz parsing and verifying cnn MLIR --------------===//
//
// What `cnnc-opt f.mlir` (and `cnnc f.mlir`) does first: parse the text with
// the cnn dialect registered (cnnc::registerAllDialects) and verify it,
// which runs the ops' verifiers and their shape rules (inferReturnTypes).
// Any text: a diagnostic, never a crash. A module that verifies is printed,
// and the printed text must parse and verify again (the custom assembly
// formats round-trip).
//
//===----------------------------------------------------------------------===//
#include "cnnc/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

static mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context,
                                               llvm::StringRef text) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.mlir"), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile(sourceMgr, &context);
  if (!module || failed(mlir::verify(*module)))
    return nullptr;
  return module;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Large inputs only slow the fuzzer down: MLIR's own parser is not the
  // target, cnn's ops are.
  if (size > 64 * 1024)
    return 0;
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    cnnc::registerAllDialects(*r);
    return r;
  }();
  // A fresh context per input: attributes and types are uniqued in it
  // forever, so one shared context would grow without bound.
  mlir::MLIRContext context(*registry, mlir::MLIRContext::Threading::DISABLED);
  std::string firstError;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (firstError.empty())
      firstError = d.str();
    return mlir::success();
  });

  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(context, text);
  if (!module)
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  os.flush();
  firstError.clear();
  if (!parse(context, printed)) {
    llvm::errs() << "a verified module does not parse back: " << firstError
                 << "\n--- printed:\n"
                 << printed << "\n";
    abort();
  }
  return 0;
}
