//===- Passes.td - passes that need Halide ---------------*- tablegen -*-===//
//
// Graph passes that evaluate cnn ops with their Halide definitions, so they
// live with codegen (which links Halide) rather than with the Halide-free
// transforms in cnnc/Transforms/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef CNNC_CODEGEN_PASSES_TD
#define CNNC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldConstants : Pass<"cnn-fold-constants", "mlir::ModuleOp"> {
  let summary = "Evaluate the ops whose operands are all constants";
  let description = [{
    Every op whose operands are all `cnn.constant` (not `cnn.param`:
    parameters train) is evaluated at compile time and replaced by a
    `cnn.constant`. Ops with a folder use it; the others (convolutions, gemm,
    pooling, concat, pad, softmax, ...) are evaluated by their own Halide
    definition, the one codegen compiles, JIT-compiled for the host. Results
    above 16M elements, or above 2^31 multiply-adds of work, stay in the
    graph. `cnn-graph-pipeline` runs it first (not at -O0), so what it
    computes can fold further (BatchNorm into weights, fusion).
  }];
  let constructor = "cnnc::createFoldConstantsPass()";
}

#endif // CNNC_CODEGEN_PASSES_TD
