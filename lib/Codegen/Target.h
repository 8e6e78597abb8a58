//===- Target.h - the targets a model library is compiled for ---*- C++ -*-===//
#ifndef CNNC_LIB_CODEGEN_TARGET_H
#define CNNC_LIB_CODEGEN_TARGET_H

#include "cnnc/Codegen/Codegen.h"

#include "mlir/IR/BuiltinOps.h"

#include <Halide.h>

#include <string>
#include <vector>

namespace cnnc {
namespace codegen {

/// The Halide targets of `options.target` (`host`, `cuda`, a Halide target
/// string, or several of them separated by commas: one library with every
/// kernel compiled for each, the first one the CPU can run chosen at run
/// time; the last is the baseline the library requires). Errors are
/// reported on `module`.
mlir::FailureOr<std::vector<Halide::Target>>
selectTargets(const CodegenOptions &options, mlir::ModuleOp module);

/// The CPU features an x86 `target`'s code may use, as GCC's
/// __builtin_cpu_supports names (what the executor checks at create, so a
/// library meant for a newer CPU fails with a message instead of SIGILL).
std::string cpuFeaturesOf(const Halide::Target &target);

/// The GNU triple whose C compiler links a library for `target`: "" for
/// the host's own CPU, else a cross compiler's.
mlir::FailureOr<std::string> linkTripleOf(const Halide::Target &target,
                                          mlir::ModuleOp module);

} // namespace codegen
} // namespace cnnc

#endif // CNNC_LIB_CODEGEN_TARGET_H
