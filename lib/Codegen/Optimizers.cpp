//===- Optimizers.cpp - optimizer updates as Halide kernels ---------------===//
//
// PyTorch's update formulas for SGD (momentum, Nesterov, weight decay),
// Adam and AdamW, one pointwise pipeline each over a parameter's values.
// The executor runs them in place: output k is the storage of input k (the
// weights, the moments). Halide stores a Tuple's elements one after the
// other and may load an input again for the next element, so the values are
// first computed into a stage of one vector (`values`, from the inputs
// only) and then stored: every element's inputs are read before any of its
// outputs is written, and no iteration reads another element.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "cnnc/rt_executor.h"

using namespace Halide;
using namespace cnnc::codegen;

namespace {
/// The pipeline's input order; outputs follow (see rt_executor.h).
struct OptimizerPipeline {
  Pipeline pipeline;
  std::vector<Argument> args;
};
} // namespace

/// out(i) = values(i), with `values` computed per vector before the
/// stores (see above); chunks of the parameter run in parallel.
static Func inPlace(Func values, const Target &target) {
  Var i = values.args()[0], io("io"), ii("ii"), iv("iv"), vi("vi");
  Func out(values.name() + "_out");
  out(i) = values(i);
  int vec = vectorMachine(target).lanes;
  // Chunks of about 1024 vectors for the threads, the parameter split
  // evenly (a multiple of the vector width each): with chunks of a
  // constant size the last one ran all its iterations, masked stores past
  // the end included (a parameter of 150 values: 1024 vector iterations).
  Expr n = out.output_buffers()[0].dim(0).extent();
  int maxChunk = vec * 1024;
  Expr chunks = (n + maxChunk - 1) / maxChunk;
  Expr chunk = ((n + chunks - 1) / chunks + vec - 1) / vec * vec;
  out.split(i, io, ii, max(chunk, vec), TailStrategy::GuardWithIf)
      .split(ii, iv, vi, vec, TailStrategy::GuardWithIf)
      .parallel(io)
      .vectorize(vi);
  // One vector's storage, a constant: on the stack, not a heap allocation
  // per vector (the guarded last vector computes fewer elements).
  values.compute_at(out, iv).bound_storage(i, vec).vectorize(
      i, vec, TailStrategy::GuardWithIf);
  return out;
}

/// SGD without momentum: w -= lr * (g + wd * w).
static OptimizerPipeline sgdPlain(const Target &target) {
  ImageParam w(Float(32), 1, "w"), g(Float(32), 1, "g");
  Param<float> lr("lr"), wd("wd");
  Var i("i");
  Func values("sgd");
  values(i) = w(i) - lr * (g(i) + wd * w(i));
  std::vector<Argument> args(CNNC_RT_SGD_NUM_INPUTS);
  args[CNNC_RT_SGD_W] = w;
  args[CNNC_RT_SGD_G] = g;
  args[CNNC_RT_SGD_LR] = lr;
  args[CNNC_RT_SGD_WD] = wd;
  return {Pipeline(inPlace(values, target)), args};
}

/// SGD with momentum (and Nesterov): the first step copies the gradient
/// into the buffer, as PyTorch does.
static OptimizerPipeline sgdMomentum(const Target &target) {
  ImageParam w(Float(32), 1, "w"), g(Float(32), 1, "g"), m(Float(32), 1, "m");
  Param<float> lr("lr"), wd("wd"), momentum("momentum");
  Param<int> nesterov("nesterov"), first("first");
  Var i("i");
  Expr gg = g(i) + wd * w(i);
  Expr mNew = select(first != 0, gg, momentum * m(i) + gg);
  Expr d = select(nesterov != 0, gg + momentum * mNew, mNew);
  Func values("sgd_momentum");
  values(i) = Tuple(w(i) - lr * d, mNew);
  std::vector<Argument> args(CNNC_RT_SGDM_NUM_INPUTS);
  args[CNNC_RT_SGDM_W] = w;
  args[CNNC_RT_SGDM_G] = g;
  args[CNNC_RT_SGDM_M] = m;
  args[CNNC_RT_SGDM_LR] = lr;
  args[CNNC_RT_SGDM_WD] = wd;
  args[CNNC_RT_SGDM_MOMENTUM] = momentum;
  args[CNNC_RT_SGDM_NESTEROV] = nesterov;
  args[CNNC_RT_SGDM_FIRST] = first;
  return {Pipeline(inPlace(values, target)), args};
}

/// Adam (L2 weight decay) and AdamW (decoupled), with bias corrections
/// given as step_size = lr / (1 - beta1^t) and sqrt(1 - beta2^t).
static OptimizerPipeline adam(const Target &target) {
  ImageParam w(Float(32), 1, "w"), g(Float(32), 1, "g"), m(Float(32), 1, "m"),
      v(Float(32), 1, "v");
  Param<float> lr("lr"), wd("wd"), beta1("beta1"), beta2("beta2"), eps("eps"),
      stepSize("step_size"), sqrtBc2("sqrt_bc2");
  Param<int> decoupled("decoupled");
  Var i("i");
  Expr wi = select(decoupled != 0, w(i) * (1.0f - lr * wd), w(i));
  Expr gi = select(decoupled != 0, g(i), g(i) + wd * w(i));
  Expr mNew = beta1 * m(i) + (1.0f - beta1) * gi;
  Expr vNew = beta2 * v(i) + (1.0f - beta2) * gi * gi;
  Expr denom = sqrt(vNew) / sqrtBc2 + eps;
  Func values("adam");
  values(i) = Tuple(wi - stepSize * mNew / denom, mNew, vNew);
  std::vector<Argument> args(CNNC_RT_ADAM_NUM_INPUTS);
  args[CNNC_RT_ADAM_W] = w;
  args[CNNC_RT_ADAM_G] = g;
  args[CNNC_RT_ADAM_M] = m;
  args[CNNC_RT_ADAM_V] = v;
  args[CNNC_RT_ADAM_LR] = lr;
  args[CNNC_RT_ADAM_WD] = wd;
  args[CNNC_RT_ADAM_BETA1] = beta1;
  args[CNNC_RT_ADAM_BETA2] = beta2;
  args[CNNC_RT_ADAM_EPS] = eps;
  args[CNNC_RT_ADAM_STEP_SIZE] = stepSize;
  args[CNNC_RT_ADAM_SQRT_BC2] = sqrtBc2;
  args[CNNC_RT_ADAM_DECOUPLED] = decoupled;
  return {Pipeline(inPlace(values, target)), args};
}

std::vector<OptimizerKernel>
cnnc::codegen::optimizerKernels(const Halide::Target &modelTarget) {
  // Parameters live in host memory: the updates run on the CPU even when
  // the layers run on a GPU.
  Target target =
      modelTarget.without_feature(Target::CUDA).with_feature(Target::NoRuntime);
  std::vector<OptimizerKernel> kernels;
  auto add = [&](const char *name, OptimizerPipeline p) {
    kernels.push_back({name, p.pipeline, p.args, target});
  };
  // In cnnc_rt_optimizer_kernel's order: the library writer lists them so.
  add("cnnc_optimizer_sgd", sgdPlain(target));
  add("cnnc_optimizer_sgd_momentum", sgdMomentum(target));
  add("cnnc_optimizer_adam", adam(target));
  static_assert(CNNC_RT_OPT_SGD == 0 && CNNC_RT_OPT_SGD_MOMENTUM == 1 &&
                    CNNC_RT_OPT_ADAM == 2 && CNNC_RT_NUM_OPTIMIZER_KERNELS == 3,
                "the kernels above are listed in cnnc_rt_optimizer_kernel's "
                "order");
  return kernels;
}
