//===- Passes.td - cnn dialect passes ----------------------*- tablegen -*-===//
#ifndef CNNC_TRANSFORMS_PASSES_TD
#define CNNC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FreezeParams : Pass<"cnn-freeze-params", "mlir::ModuleOp"> {
  let summary = "Mark parameters frozen by name prefix";
  let description = [{
    Marks every `cnn.param` whose name starts with one of `prefixes` as
    `frozen`, together with the `cnn.group`s all of whose parameters are now
    frozen. `cnnc --freeze PREFIX` runs it. A prefix that matches no parameter
    is an error, so a typo does not silently train a layer meant to be frozen.
  }];
  let constructor = "cnnc::cnn::createFreezeParamsPass()";
  let options = [
    ListOption<"prefixes", "prefixes", "std::string",
               "Parameter-name prefixes to freeze",
               "llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated">
  ];
}

#endif // CNNC_TRANSFORMS_PASSES_TD
