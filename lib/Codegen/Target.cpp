//===- Target.cpp - the targets a model library is compiled for -----------===//
#include "Target.h"

using namespace mlir;
using namespace cnnc;

static FailureOr<Halide::Target> halideTarget(const CodegenOptions &options,
                                              llvm::StringRef name,
                                              ModuleOp module) {
  try {
    Halide::Target target;
    if (name == "host") {
      target = Halide::get_host_target();
    } else if (name == "cuda") {
      static const std::pair<int, Halide::Target::Feature> kCapabilities[] = {
          {30, Halide::Target::CUDACapability30},
          {32, Halide::Target::CUDACapability32},
          {35, Halide::Target::CUDACapability35},
          {50, Halide::Target::CUDACapability50},
          {61, Halide::Target::CUDACapability61},
          {70, Halide::Target::CUDACapability70},
          {75, Halide::Target::CUDACapability75},
          {80, Halide::Target::CUDACapability80},
          {86, Halide::Target::CUDACapability86}};
      // The highest capability Halide 14 knows that the GPU has.
      Halide::Target::Feature capability = Halide::Target::FeatureEnd;
      for (auto [cc, feature] : kCapabilities)
        if (cc <= options.cudaCapability)
          capability = feature;
      if (capability == Halide::Target::FeatureEnd) {
        module.emitError("CUDA compute capability ")
            << options.cudaCapability << " is below the oldest Halide "
            << "supports (30)";
        return failure();
      }
      target = Halide::get_host_target()
                   .with_feature(Halide::Target::CUDA)
                   .with_feature(capability);
    } else if (Halide::Target::validate_target_string(name.str())) {
      target = Halide::Target(name.str());
    } else {
      module.emitError("unknown target '")
          << name
          << "': use host, cuda, or a Halide target string such as "
             "x86-64-linux-avx2-fma-f16c-sse41";
      return failure();
    }
    return target;
  } catch (const Halide::Error &e) {
    module.emitError("bad target '") << name << "': " << e.what();
    return failure();
  }
}

/// `--target=A,B,...`: one library with every kernel compiled for each
/// target, the first one the CPU can run chosen at run time (Halide's
/// multi-target dispatch); the last is the baseline the library requires.
/// The targets share a CPU family and OS; the first one's vector width sets
/// the packed weight layout all variants read.
FailureOr<std::vector<Halide::Target>>
cnnc::codegen::selectTargets(const CodegenOptions &options, ModuleOp module) {
  llvm::SmallVector<llvm::StringRef, 4> names;
  llvm::StringRef(options.target).split(names, ',', -1, /*KeepEmpty=*/true);
  std::vector<Halide::Target> targets;
  for (llvm::StringRef name : names) {
    FailureOr<Halide::Target> t = halideTarget(options, name.trim(), module);
    if (failed(t))
      return failure();
    targets.push_back(*t);
  }
  if (targets.size() > 1) {
    const Halide::Target &base = targets.back();
    for (const Halide::Target &t : targets) {
      if (t.has_gpu_feature()) {
        module.emitError("a GPU target cannot be one of several targets ('")
            << options.target << "')";
        return failure();
      }
      if (t.arch != base.arch || t.bits != base.bits || t.os != base.os) {
        module.emitError("the targets of '")
            << options.target
            << "' must share the CPU family and OS of the last one, "
            << base.to_string();
        return failure();
      }
    }
  }
  return targets;
}

/// The CPU features an x86 `target`'s code may use, as GCC's
/// __builtin_cpu_supports names (what the executor checks at create, so a
/// library meant for a newer CPU fails with a message instead of SIGILL).
std::string cnnc::codegen::cpuFeaturesOf(const Halide::Target &target) {
  if (target.arch != Halide::Target::X86)
    return "";
  using T = Halide::Target;
  std::vector<const char *> names;
  auto need = [&](std::initializer_list<const char *> list) {
    for (const char *n : list)
      if (llvm::find_if(names, [&](const char *m) {
            return llvm::StringRef(m) == n;
          }) == names.end())
        names.push_back(n);
  };
  if (target.has_feature(T::SSE41))
    need({"sse4.1"});
  if (target.has_feature(T::AVX))
    need({"sse4.1", "avx"});
  if (target.has_feature(T::AVX2))
    need({"avx", "avx2"});
  if (target.has_feature(T::FMA))
    need({"fma"});
  if (target.has_feature(T::F16C))
    need({"f16c"});
  if (target.has_feature(T::AVX512))
    need({"avx512f", "avx512cd"});
  if (target.has_feature(T::AVX512_KNL))
    need({"avx512f", "avx512cd", "avx512er", "avx512pf"});
  if (target.has_feature(T::AVX512_Skylake))
    need({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"});
  if (target.has_feature(T::AVX512_Cannonlake))
    need({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
          "avx512ifma", "avx512vbmi"});
  if (target.has_feature(T::AVX512_SapphireRapids))
    need({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
          "avx512ifma", "avx512vbmi", "avx512vnni", "avx512bf16"});
  std::string list;
  for (const char *n : names)
    list += (list.empty() ? "" : ",") + std::string(n);
  return list;
}

/// The GNU triple whose C compiler links a library for `target`: "" for
/// the host's own CPU, else a cross compiler's.
FailureOr<std::string> cnnc::codegen::linkTripleOf(const Halide::Target &target,
                                                   ModuleOp module) {
  using T = Halide::Target;
  Halide::Target host = Halide::get_host_target();
  if (target.os != T::Linux) {
    module.emitError("cnnc links libraries for Linux only, not for ")
        << target.to_string();
    return failure();
  }
  if (target.arch == host.arch && target.bits == host.bits)
    return std::string();
  if (target.arch == T::ARM && target.bits == 64)
    return std::string("aarch64-linux-gnu");
  if (target.arch == T::ARM && target.bits == 32)
    return std::string("arm-linux-gnueabihf");
  if (target.arch == T::X86 && target.bits == 64)
    return std::string("x86_64-linux-gnu");
  module.emitError("cnnc cannot link libraries for ")
      << target.to_string() << " (no known C toolchain for that CPU)";
  return failure();
}
