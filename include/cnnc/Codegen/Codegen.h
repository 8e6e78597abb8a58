//===- Codegen.h - cnn IR -> Halide kernels -> model.so ---------*- C++ -*-===//
//
// Lowers `func @main` of a cnn module to Halide pipelines (one per kernel
// group), compiles them ahead of time with one Halide runtime, embeds the
// weights, generates the C wrapper and header, and links `model.so`.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_CODEGEN_H
#define CNNC_CODEGEN_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace cnnc {

enum class ScheduleKind {
  Manual, ///< cnnc's hand-written schedules per op family
  Auto    ///< a Halide autoscheduler (CodegenOptions::autoscheduler)
};

struct CodegenOptions {
  /// "host", "cuda", or a Halide target string such as
  /// "x86-64-linux-avx2-fma-f16c-sse41". "cuda" means host-cuda with
  /// `cudaCapability`.
  std::string target = "host";
  int cudaCapability = 61;
  ScheduleKind schedule = ScheduleKind::Manual;
  /// Adams2019, Mullapudi2016 or Li2018.
  std::string autoscheduler = "Mullapudi2016";
  /// Prefix of every exported symbol; a valid C identifier.
  std::string prefix = "model";
  /// Seed for parameters that the model describes by an initializer.
  uint64_t seed = 0;
  /// Keep the intermediate files (objects, wrapper) next to the output.
  bool keepIntermediates = false;
  /// Reuse compiled kernels from the cache (see ModelCompiler.cpp).
  bool useCache = true;
  /// Print each compile step and its time to stderr.
  bool verbose = false;
  /// The model file compiled: the library may never be written over it.
  std::string inputPath;
  /// Embed the ONNX source in an inference-only library too (training
  /// libraries always do, to export their trained weights).
  bool embedSource = false;
  /// Concatenations along channels whose inputs' producers can write into
  /// one buffer need no kernel (cnnc above -O0).
  bool concatInPlace = true;
};

/// Where the runtime pieces that get linked into every model live.
struct RuntimeLocation {
  std::string includeDir;    ///< holds cnnc/model_abi.h, cnnc/rt_executor.h
  std::string library;       ///< libcnnc_rt.a
  std::string halideInclude; ///< holds HalideRuntime.h
};

/// Finds the runtime next to the running executable or at the build-time
/// location; `CNNC_RUNTIME_DIR` overrides.
RuntimeLocation findRuntime(const char *argv0);

/// Writes `soPath` and `<soPath without .so>.h`. Returns failure after
/// emitting diagnostics on `module`.
mlir::LogicalResult compileModelLibrary(mlir::ModuleOp module,
                                        const CodegenOptions &options,
                                        const RuntimeLocation &runtime,
                                        llvm::StringRef soPath);

/// The vector width the inference convolutions' packed weights are laid out
/// for (cnn-pack-conv-weights' `lanes`): the first target's f32 lanes, or 0
/// where kernels read plain weights (the autoscheduler, GPU targets).
mlir::FailureOr<int64_t> packedLayoutLanes(mlir::ModuleOp module,
                                           const CodegenOptions &options);

/// Prints the plan of the library (--emit=plan): every graph's buffers
/// (kind, shape, weight offset, zero-bordered views), kernel calls with
/// their arguments, the parameters, packed weight layouts and training
/// phases, without compiling a kernel.
mlir::LogicalResult printModelPlan(mlir::ModuleOp module,
                                   const CodegenOptions &options,
                                   llvm::raw_ostream &os);

/// Prints, per kernel, the Halide statement after lowering (--emit=halide).
mlir::LogicalResult printHalideKernels(mlir::ModuleOp module,
                                       const CodegenOptions &options,
                                       llvm::raw_ostream &os);

} // namespace cnnc

#endif // CNNC_CODEGEN_CODEGEN_H
