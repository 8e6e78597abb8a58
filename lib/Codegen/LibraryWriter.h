//===- LibraryWriter.h - write and link a model library (private) -*- C++
//-*-===//
#ifndef CNNC_LIB_CODEGEN_LIBRARYWRITER_H
#define CNNC_LIB_CODEGEN_LIBRARYWRITER_H

#include "ModelPlan.h"
#include "cnnc/Codegen/Codegen.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace cnnc {
namespace codegen {

/// The C compiler that links the library and the cnnc runtime it links in.
struct Linker {
  std::string cc, runtimeLibrary;
};

/// The host's `cc` and runtime, or for another CPU `<triple>-gcc` and the
/// runtime built for that triple; an error naming what to install if not.
mlir::FailureOr<Linker> findLinker(mlir::ModuleOp module, const ModelPlan &plan,
                                   const RuntimeLocation &runtime);

/// Writes the C wrapper, the weights, the export list and the header, links
/// `soPath` (atomically: a temporary file renamed into place) and writes the
/// header next to it.
mlir::LogicalResult writeLibrary(mlir::ModuleOp module, const ModelPlan &plan,
                                 const CodegenOptions &options,
                                 const RuntimeLocation &runtime,
                                 llvm::StringRef dir, llvm::StringRef soPath);

} // namespace codegen
} // namespace cnnc

#endif // CNNC_LIB_CODEGEN_LIBRARYWRITER_H
