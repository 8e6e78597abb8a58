//===- ModelPlan.h - what a model library holds (private) -------*- C++ -*-===//
//
// The plan codegen makes from the cnn IR and the library writer emits as
// rt_executor.h's tables: buffers, kernel calls, parameters, the training
// phases and plan. `cnnc --emit=plan` prints it (printModelPlan).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_CODEGEN_MODELPLAN_H
#define CNNC_LIB_CODEGEN_MODELPLAN_H

#include "cnnc/rt_executor.h"

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace cnnc {
namespace codegen {

/// A buffer's kind is the runtime's own enum (cnnc/rt_executor.h), which
/// the generated tables name: nothing here mirrors it.
using BufferKind = ::cnnc_rt_buffer_kind;

struct BufferDesc {
  BufferKind kind;
  llvm::SmallVector<int64_t, 4> dims; ///< row-major, -1 for the batch
  int ref = -1;
  uint64_t offset = 0;
  int32_t dtype = 1; ///< cnnc_dtype
};

struct KernelCall {
  int kernel;            ///< index into ModelPlan::kernelNames (-1: host)
  std::string label;     ///< the layer, for error messages
  std::vector<int> args; ///< buffers, output last
  int host = 0;          ///< cnnc_rt_host_step the executor runs itself
};

struct TensorDesc {
  std::string name;
  llvm::SmallVector<int64_t, 4> dims;
  int buffer;
  int32_t dtype = 1;
};

/// One function of the model (inference `main`, or `train_step`).
struct GraphPlan {
  std::vector<BufferDesc> buffers;
  std::vector<KernelCall> calls;
  std::vector<TensorDesc> inputs, outputs;
};

struct ParamDesc {
  std::string name, group;
  llvm::SmallVector<int64_t, 4> dims;
  bool trainable = true, isBuffer = false;
  int buffer;
  /// Stored only in the layout its convolution reads (cnn.pack_weights):
  /// the graphs set_param (input 0 plain) and get_param (output 0 plain)
  /// run.
  llvm::Optional<GraphPlan> toLayout, fromLayout;
};

/// A training graph: one phase of the plan.
struct PhasePlan {
  std::string function;
  int firstEpoch = 0;
  GraphPlan step;
  /// Output k + 1 is the gradient of params[gradParams[k]].
  std::vector<int> gradParams;
  /// (parameter, output): outputs that replace a parameter after a step.
  std::vector<std::pair<int, int>> updates;
  /// Parameters whose compile-time values this phase folded into constants
  /// (frozen here, live elsewhere): valid only while they keep those values.
  std::vector<int> bakedParams;
  /// The feature cache's graphs, or why there are none.
  llvm::Optional<GraphPlan> features, head;
  std::string noCacheReason;
};

struct PlanGroupDesc {
  std::string name;
  double lr = -1;
  int64_t unfreezeEpoch = 0;
};

/// The fine-tuning plan the library carries (cnnc_train_plan).
struct TrainPlanDesc {
  bool present = false, hasOptimizer = false, nesterov = false;
  std::string loss = "cross_entropy";
  int optimizer = 0;
  double lr = 0, momentum = 0, weightDecay = 0, beta1 = 0.9, beta2 = 0.999,
         eps = 1e-8;
  int64_t epochs = 0, batch = 0;
  std::vector<PlanGroupDesc> groups;
};

struct ModelPlan {
  std::string name;
  GraphPlan inference;
  /// Training graphs, the one training the most parameters last.
  std::vector<PhasePlan> phases;
  TrainPlanDesc trainPlan;
  std::vector<std::string> kernelNames; ///< symbol of each compiled kernel
  /// Weights the inference graph reads in another layout: written from the
  /// embedded plain values when an instance is created (`layouts`), and
  /// copies of weights kept in both layouts, rewritten once the plain
  /// values change (`relayout`).
  GraphPlan layouts, relayout;
  /// Symbols of the optimizer kernels (training libraries).
  std::vector<std::string> optimizerKernels;
  std::vector<char> weights;
  /// Bytes after the embedded weights (from the first multiple of 64 past
  /// them) that only the layout graphs write: weights kept in another
  /// layout than their plain values (Winograd's filters are 4x larger).
  /// They are zero at create and take no space in the library file.
  uint64_t layoutBytes = 0;
  /// Where the layout copies start in an instance's parameter memory, and
  /// that memory's size (the runtime's params_size).
  uint64_t layoutBase() const { return (weights.size() + 63) / 64 * 64; }
  uint64_t paramsBytes() const {
    return layoutBytes ? layoutBase() + layoutBytes : weights.size();
  }
  std::vector<ParamDesc> params;
  /// Byte offset of the dropout generator state [seed, step], or -1.
  int64_t rngOffset = -1;
  /// The ONNX file the model came from, embedded for export ("" if none).
  std::string sourceOnnx;
  std::vector<std::string> objects; ///< compiled kernels and Halide runtime
  /// The kernels' target, and the CPU features it needs (GCC's
  /// __builtin_cpu_supports names, comma-separated), checked at create.
  std::string target, cpuFeatures;
  /// Whether the library carries sourceOnnx (training libraries, or
  /// --embed-source).
  bool embedSource = false;
  /// The GNU triple to link for ("aarch64-linux-gnu"), "" for the host.
  std::string linkTriple;
};

/// rt_executor.h's name of a buffer kind ("CNNC_RT_TEMP"), which the library
/// writer emits and --emit=plan prints in lower case after the prefix.
const char *bufferKindEnumerator(BufferKind kind);

/// A readable listing of the plan, for --emit=plan and its lit tests.
void printModelPlan(const ModelPlan &plan, llvm::raw_ostream &os);

} // namespace codegen
} // namespace cnnc

#endif // CNNC_LIB_CODEGEN_MODELPLAN_H
