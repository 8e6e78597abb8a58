//===- onnx_fuzzer.cpp - fuzz the ONNX importer ---------------------------===//
//
// cnnc::importOnnxFile on any file, as cnnc and cnnc-import-onnx call it:
// protobuf parsing, cnnc's checks of tensors and the graph, libonnx's
// checker and shape inference, and the import of every op into cnn. The
// result is a module that verifies, or diagnostics; never a crash.
//
// Two fuzzers share this entry point: onnx-fuzzer mutates the bytes;
// onnx-proto-fuzzer adds onnx_mutator.cpp, which mutates the parsed
// ModelProto (attributes, dims, dtypes, graph edges) and serializes it.
//
//===----------------------------------------------------------------------===//
#include "fuzz_support.h"

#include "cnnc/Frontend/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = cnnc_fuzz_write_file("model.onnx", data, size);
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  std::string firstError;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (firstError.empty())
      firstError = d.str();
    return mlir::success();
  });
  cnnc::OnnxImportOptions options;
  options.moduleName = "fuzz";
  // As `cnnc-import-onnx --max-model-bytes`: a claimed tensor size above
  // this is refused before anything is allocated for it; the default 2 GiB
  // would only trip libFuzzer's memory limit.
  options.maxModelBytes = 64u << 20;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      cnnc::importOnnxFile(&context, path, options);
  if (!module) {
    if (firstError.empty()) {
      llvm::errs() << "the importer failed without a diagnostic\n";
      abort();
    }
    return 0;
  }
  if (failed(mlir::verify(*module))) {
    llvm::errs() << "the importer returned a module that does not verify: "
                 << firstError << "\n";
    abort();
  }
  return 0;
}
