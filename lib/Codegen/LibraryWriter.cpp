//===- LibraryWriter.cpp - C wrapper, header, weights, link ---------------===//
#include "LibraryWriter.h"

#include "cnnc/Support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace cnnc;
using namespace cnnc::codegen;

static std::string cString(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\%03o", (unsigned char)c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

static std::string dimsInit(llvm::ArrayRef<int64_t> dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  if (dims.empty())
    s += "0";
  return s + "}";
}

static LogicalResult
writeFile(ModuleOp module, llvm::StringRef path,
          llvm::function_ref<void(llvm::raw_ostream &)> fn) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return module.emitError("cannot write ") << path << ": " << ec.message();
  fn(os);
  os.close();
  if (os.has_error()) {
    ec = os.error();
    // An unchecked stream error would abort the process (LLVM ERROR: IO
    // failure on output stream) when `os` is destroyed.
    os.clear_error();
    return module.emitError("cannot write ") << path << ": " << ec.message();
  }
  return success();
}

static std::vector<std::string> apiFunctions(const std::string &p) {
  return {p + "_create",
          p + "_release",
          p + "_num_inputs",
          p + "_num_outputs",
          p + "_input_info",
          p + "_output_info",
          p + "_run",
          p + "_set_num_threads",
          p + "_last_error",
          p + "_api",
          p + "_num_params",
          p + "_param_info",
          p + "_get_param",
          p + "_set_param",
          p + "_train_configure",
          p + "_train_step",
          p + "_set_learning_rate",
          p + "_set_trainable",
          p + "_train_plan",
          p + "_feature_info",
          p + "_compute_features",
          p + "_train_step_features",
          p + "_save_state",
          p + "_load_state"};
}

static const char *dtypeName(int32_t dtype) {
  return dtype == CNNC_DTYPE_I64 ? "CNNC_DTYPE_I64" : "CNNC_DTYPE_F32";
}

/// Emits the tables of one graph, named with `tag`: C designated
/// initializers of rt_executor.h's structs, so a field the runtime adds or
/// reorders cannot be filled by position with another's value.
static void writeGraph(const ModelPlan &plan, const GraphPlan &g,
                       const std::string &tag, llvm::raw_ostream &os) {
  os << "static const cnnc_rt_buffer " << tag << "_buffers[] = {\n";
  for (const BufferDesc &b : g.buffers)
    os << "  {.kind = " << bufferKindEnumerator(b.kind)
       << ", .rank = " << b.dims.size() << ", .dims = " << dimsInit(b.dims)
       << ", .ref = " << b.ref << ", .offset = " << b.offset
       << "ULL, .dtype = " << dtypeName(b.dtype) << "},\n";
  if (g.buffers.empty())
    os << "  {.kind = CNNC_RT_TEMP},\n";
  os << "};\n";
  for (size_t c = 0; c < g.calls.size(); ++c) {
    os << "static const int32_t " << tag << "_call" << c << "_args[] = {";
    for (size_t a = 0; a < g.calls[c].args.size(); ++a)
      os << (a ? ", " : "") << g.calls[c].args[a];
    os << "};\n";
  }
  os << "static const cnnc_rt_kernel " << tag << "_kernels[] = {\n";
  for (size_t c = 0; c < g.calls.size(); ++c) {
    os << "  {.name = " << cString(g.calls[c].label) << ", .fn = ";
    if (g.calls[c].host)
      os << "0";
    else
      os << plan.kernelNames[g.calls[c].kernel] << "_argv";
    os << ", .num_args = " << g.calls[c].args.size() << ", .args = " << tag
       << "_call" << c << "_args, .host = " << g.calls[c].host << "},\n";
  }
  if (g.calls.empty())
    os << "  {.name = 0},\n";
  os << "};\n";
  auto tensors = [&](const char *what, const std::vector<TensorDesc> &ts) {
    os << "static const cnnc_tensor_info " << tag << "_" << what << "[] = {\n";
    for (const TensorDesc &t : ts)
      os << "  {.name = " << cString(t.name)
         << ", .dtype = " << dtypeName(t.dtype) << ", .rank = " << t.dims.size()
         << ", .dims = " << dimsInit(t.dims) << "},\n";
    if (ts.empty())
      os << "  {.name = 0, .dtype = CNNC_DTYPE_F32},\n";
    os << "};\n";
    os << "static const int32_t " << tag << "_" << what << "_buffers[] = {";
    for (size_t i = 0; i < ts.size(); ++i)
      os << (i ? ", " : "") << ts[i].buffer;
    if (ts.empty())
      os << "0";
    os << "};\n";
  };
  tensors("inputs", g.inputs);
  tensors("outputs", g.outputs);
}

static std::string graphInit(const GraphPlan &g, const std::string &tag) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "{.num_buffers = " << g.buffers.size() << ", .buffers = " << tag
     << "_buffers, .num_kernels = " << g.calls.size() << ", .kernels = " << tag
     << "_kernels,\n    .num_inputs = " << g.inputs.size()
     << ", .inputs = " << tag << "_inputs, .input_buffers = " << tag
     << "_inputs_buffers,\n    .num_outputs = " << g.outputs.size()
     << ", .outputs = " << tag << "_outputs, .output_buffers = " << tag
     << "_outputs_buffers}";
  return os.str();
}

/// The C wrapper: the model's tables, then the API functions, which
/// cnnc/rt_model_api.inc defines once for every prefix.
static void writeWrapper(const ModelPlan &plan, const std::string &p,
                         llvm::raw_ostream &os) {
  os << "/* Generated by cnnc: the C wrapper of model '" << plan.name
     << "'. */\n#include \"cnnc/rt_executor.h\"\n\n";
  for (const std::string &k : plan.kernelNames)
    os << "extern int " << k << "_argv(void **args);\n";
  for (const std::string &k : plan.optimizerKernels)
    os << "extern int " << k << "_argv(void **args);\n";
  os << "extern const unsigned char " << p << "_weights[];\n\n";
  writeGraph(plan, plan.inference, "inference", os);
  auto intList = [&](const std::string &name, const std::vector<int> &v) {
    os << "static const int32_t " << name << "[] = {";
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? ", " : "") << v[i];
    if (v.empty())
      os << "0";
    os << "};\n";
  };
  for (size_t i = 0; i < plan.phases.size(); ++i) {
    const PhasePlan &ph = plan.phases[i];
    std::string tag = "phase" + std::to_string(i);
    writeGraph(plan, ph.step, tag, os);
    if (ph.features) {
      writeGraph(plan, *ph.features, tag + "_features", os);
      writeGraph(plan, *ph.head, tag + "_head", os);
      os << "static const cnnc_rt_graph " << tag
         << "_features_graph = " << graphInit(*ph.features, tag + "_features")
         << ";\n"
         << "static const cnnc_rt_graph " << tag
         << "_head_graph = " << graphInit(*ph.head, tag + "_head") << ";\n";
    }
    intList(tag + "_grads", ph.gradParams);
    std::vector<int> up, out;
    for (auto [param, output] : ph.updates) {
      up.push_back(param);
      out.push_back(output);
    }
    intList(tag + "_update_params", up);
    intList(tag + "_update_outputs", out);
    intList(tag + "_baked", ph.bakedParams);
  }
  os << "static const cnnc_rt_phase phases[] = {\n";
  for (size_t i = 0; i < plan.phases.size(); ++i) {
    const PhasePlan &ph = plan.phases[i];
    std::string tag = "phase" + std::to_string(i);
    os << "  {.first_epoch = " << ph.firstEpoch
       << ",\n   .step = " << graphInit(ph.step, tag)
       << ",\n   .num_grads = " << ph.gradParams.size()
       << ", .grad_params = " << tag << "_grads"
       << ", .num_updates = " << ph.updates.size()
       << ", .update_params = " << tag << "_update_params"
       << ", .update_outputs = " << tag << "_update_outputs"
       << ",\n   .num_baked = " << ph.bakedParams.size()
       << ", .baked_params = " << tag << "_baked";
    if (ph.features)
      os << ",\n   .features = &" << tag << "_features_graph, .head = &" << tag
         << "_head_graph";
    if (!ph.noCacheReason.empty())
      os << ",\n   .no_cache_reason = " << cString(ph.noCacheReason);
    os << "},\n";
  }
  if (plan.phases.empty())
    os << "  {.first_epoch = 0}\n";
  os << "};\n";
  const TrainPlanDesc &tp = plan.trainPlan;
  if (tp.present) {
    os << "static const cnnc_plan_group plan_groups[] = {\n";
    for (const PlanGroupDesc &g : tp.groups)
      os << "  {.name = " << cString(g.name) << ", .lr = " << (float)g.lr
         << "f, .unfreeze_epoch = " << g.unfreezeEpoch << "},\n";
    if (tp.groups.empty())
      os << "  {.name = 0},\n";
    os << "};\n"
       << "static const cnnc_train_plan train_plan_table = {\n"
       << "  .loss = " << cString(tp.loss)
       << ", .has_optimizer = " << (tp.hasOptimizer ? 1 : 0)
       << ",\n  .config = {.optimizer = " << tp.optimizer
       << ", .lr = " << (float)tp.lr << "f, .momentum = " << (float)tp.momentum
       << "f, .weight_decay = " << (float)tp.weightDecay
       << "f,\n             .beta1 = " << (float)tp.beta1
       << "f, .beta2 = " << (float)tp.beta2 << "f, .eps = " << (float)tp.eps
       << "f, .nesterov = " << (tp.nesterov ? 1 : 0) << ", .seed = 0}"
       << ",\n  .epochs = " << tp.epochs << ", .batch = " << tp.batch
       << ", .num_groups = " << tp.groups.size()
       << ", .groups = plan_groups};\n";
  }
  writeGraph(plan, plan.layouts, "layouts", os);
  writeGraph(plan, plan.relayout, "relayout", os);
  for (size_t i = 0; i < plan.params.size(); ++i) {
    const ParamDesc &d = plan.params[i];
    if (!d.toLayout)
      continue;
    std::string tag = "param" + std::to_string(i);
    writeGraph(plan, *d.toLayout, tag + "_to_layout", os);
    writeGraph(plan, *d.fromLayout, tag + "_from_layout", os);
    os << "static const cnnc_rt_graph " << tag
       << "_to_layout_graph = " << graphInit(*d.toLayout, tag + "_to_layout")
       << ";\n"
       << "static const cnnc_rt_graph " << tag << "_from_layout_graph = "
       << graphInit(*d.fromLayout, tag + "_from_layout") << ";\n";
  }
  os << "static const cnnc_rt_param params[] = {\n";
  for (size_t i = 0; i < plan.params.size(); ++i) {
    const ParamDesc &d = plan.params[i];
    os << "  {.info = {.name = " << cString(d.name)
       << ", .group = " << cString(d.group) << ", .rank = " << d.dims.size()
       << ", .dims = " << dimsInit(d.dims)
       << ", .trainable = " << (d.trainable ? 1 : 0)
       << ", .is_buffer = " << (d.isBuffer ? 1 : 0)
       << "}, .buffer = " << d.buffer;
    if (d.toLayout)
      os << ",\n   .to_layout = &param" << i
         << "_to_layout_graph, .from_layout = &param" << i
         << "_from_layout_graph";
    os << "},\n";
  }
  if (plan.params.empty())
    os << "  {.info = {.name = 0}},\n";
  os << "};\n";
  // The optimizer kernels in cnnc_rt_optimizer_kernel's order, as
  // Optimizers.cpp lists them.
  os << "static const cnnc_rt_model model = {\n  .name = " << cString(plan.name)
     << ",\n  .inference = " << graphInit(plan.inference, "inference")
     << ",\n  .num_phases = " << plan.phases.size() << ", .phases = phases"
     << ",\n  .weights = " << p
     << "_weights, .weights_size = " << plan.weights.size() << "ULL"
     << ", .params_size = " << plan.paramsBytes() << "ULL"
     << ",\n  .num_params = " << plan.params.size() << ", .params = params"
     << ",\n  .rng_offset = " << plan.rngOffset
     << "LL, .plan = " << (tp.present ? "&train_plan_table" : "0")
     << ",\n  .optimizer_kernels = {";
  static const char *kOptimizerSlots[CNNC_RT_NUM_OPTIMIZER_KERNELS] = {
      "CNNC_RT_OPT_SGD", "CNNC_RT_OPT_SGD_MOMENTUM", "CNNC_RT_OPT_ADAM"};
  for (size_t i = 0;
       i < plan.optimizerKernels.size() && i < CNNC_RT_NUM_OPTIMIZER_KERNELS;
       ++i)
    os << (i ? ", " : "") << "[" << kOptimizerSlots[i]
       << "] = " << plan.optimizerKernels[i] << "_argv";
  os << "},\n  .layouts = " << graphInit(plan.layouts, "layouts")
     << ",\n  .relayout = " << graphInit(plan.relayout, "relayout")
     << ",\n  .target = " << cString(plan.target)
     << ", .cpu_features = " << cString(plan.cpuFeatures) << "};\n\n";
  os << "#define CNNC_MODEL_PREFIX " << p << "\n"
     << "#define CNNC_MODEL_TABLE model\n"
     << "#define CNNC_MODEL_NAME " << cString(plan.name) << "\n"
     << "#define CNNC_MODEL_TRAINING " << (plan.phases.empty() ? 0 : 1) << "\n"
     << "#define CNNC_MODEL_SOURCE_ONNX " << (plan.embedSource ? 1 : 0) << "\n"
     << "#include \"cnnc/rt_model_api.inc\"\n";
}

static void writeHeader(const ModelPlan &plan, const std::string &p,
                        llvm::StringRef abiHeader, llvm::raw_ostream &os) {
  std::string guard = llvm::StringRef(p).upper() + "_CNNC_MODEL_H";
  os << "/* Generated by cnnc: the C API of model '" << plan.name << "'.\n *\n";
  for (const TensorDesc &t : plan.inference.inputs)
    os << " * input  " << t.name << ": f32" << dimsInit(t.dims) << "\n";
  for (const TensorDesc &t : plan.inference.outputs)
    os << " * output " << t.name << ": f32" << dimsInit(t.dims) << "\n";
  os << " * (-1: the batch, chosen per call)\n */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << abiHeader << "\n";
  // The fixed dimensions as constants, for buffers sized at compile time:
  // P_INPUT0_DIM1 is axis 1 of input 0; P_INPUT0_SAMPLE_ELEMENTS the
  // elements of one sample (all axes but the batch).
  std::string P = llvm::StringRef(p).upper();
  auto constants = [&](const std::vector<TensorDesc> &tensors,
                       const char *what) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      const TensorDesc &t = tensors[i];
      std::string base = P + "_" + what + std::to_string(i);
      os << "/* " << what << " " << i << ": " << t.name << " */\n"
         << "#define " << base << "_RANK " << t.dims.size() << "\n";
      int64_t sample = 1;
      for (size_t d = 0; d < t.dims.size(); ++d) {
        if (t.dims[d] < 0)
          continue;
        os << "#define " << base << "_DIM" << d << " " << t.dims[d] << "LL\n";
        sample *= t.dims[d];
      }
      os << "#define " << base << "_SAMPLE_ELEMENTS " << sample << "LL\n";
    }
  };
  os << "#define " << P << "_NUM_INPUTS " << plan.inference.inputs.size()
     << "\n#define " << P << "_NUM_OUTPUTS " << plan.inference.outputs.size()
     << "\n";
  constants(plan.inference.inputs, "INPUT");
  constants(plan.inference.outputs, "OUTPUT");
  os << "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "typedef cnnc_model " << p << "_model;\n"
     << "int " << p << "_create(cnnc_model **out);\n"
     << "void " << p << "_release(cnnc_model *model);\n"
     << "int32_t " << p << "_num_inputs(void);\n"
     << "int32_t " << p << "_num_outputs(void);\n"
     << "int " << p << "_input_info(int32_t index, cnnc_tensor_info *out);\n"
     << "int " << p << "_output_info(int32_t index, cnnc_tensor_info *out);\n"
     << "int " << p
     << "_run(cnnc_model *model, int64_t batch, const void *const *inputs,\n"
     << "    const size_t *input_bytes, void *const *outputs, const size_t "
        "*output_bytes);\n"
     << "int " << p << "_set_num_threads(cnnc_model *model, int32_t threads);\n"
     << "const char *" << p << "_last_error(const cnnc_model *model);\n"
     << "int32_t " << p << "_num_params(void);\n"
     << "int " << p << "_param_info(int32_t index, cnnc_param_info *out);\n"
     << "int " << p
     << "_get_param(cnnc_model *model, int32_t index, float *out, size_t "
        "bytes);\n"
     << "int " << p
     << "_set_param(cnnc_model *model, int32_t index, const float *values, "
        "size_t bytes);\n"
     << "/* Training: CNNC_ERROR_UNSUPPORTED unless compiled with --train. */\n"
     << "int " << p
     << "_train_configure(cnnc_model *model, const cnnc_train_config "
        "*config);\n"
     << "int " << p
     << "_train_step(cnnc_model *model, int64_t batch, const void *const "
        "*inputs,\n"
     << "    const size_t *input_bytes, const void *labels, size_t "
        "label_bytes, float *loss);\n"
     << "int " << p
     << "_set_learning_rate(cnnc_model *model, const char *group, float lr);\n"
     << "int " << p
     << "_set_trainable(cnnc_model *model, const char *group, int32_t "
        "trainable);\n"
     << "const cnnc_train_plan *" << p << "_train_plan(void);\n"
     << "int " << p
     << "_feature_info(cnnc_model *model, cnnc_tensor_info *out);\n"
     << "int " << p << "_compute_features(cnnc_model *model, int64_t batch,\n"
     << "    const void *const *inputs, const size_t *input_bytes, void "
        "*features,\n    size_t feature_bytes);\n"
     << "int " << p
     << "_train_step_features(cnnc_model *model, int64_t batch,\n"
     << "    const void *features, size_t feature_bytes, const void *labels,\n"
     << "    size_t label_bytes, float *loss);\n"
     << "int " << p
     << "_save_state(cnnc_model *model, void *data, size_t *bytes);\n"
     << "int " << p
     << "_load_state(cnnc_model *model, const void *data, size_t bytes);\n"
     << "const cnnc_model_api *" << p << "_api(void);\n"
     << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
}

/// The command line that links the wrapper, the weights, the kernels and the
/// runtime into `out`, in the way `mode` says (-shared, or -r for a static
/// library's single object).
static std::vector<std::string>
linkCommand(const Linker &linker, const RuntimeLocation &runtime,
            const ModelPlan &plan, const std::string &wrapper,
            const std::string &weightsAsm, const std::string &out,
            std::initializer_list<const char *> mode) {
  std::vector<std::string> argv = {linker.cc};
  argv.insert(argv.end(), mode.begin(), mode.end());
  for (const char *flag : {"-fPIC", "-O2", "-fvisibility=hidden", "-o"})
    argv.push_back(flag);
  argv.push_back(out);
  argv.push_back("-I" + runtime.includeDir);
  argv.push_back("-I" + runtime.halideInclude);
  argv.push_back(wrapper);
  argv.push_back(weightsAsm);
  argv.insert(argv.end(), plan.objects.begin(), plan.objects.end());
  argv.push_back(linker.runtimeLibrary);
  return argv;
}

/// The header next to the library (model.so -> model.h).
static LogicalResult writeModelHeader(ModuleOp module, const ModelPlan &plan,
                                      const std::string &p,
                                      llvm::StringRef abiHeader,
                                      llvm::StringRef libPath,
                                      llvm::ArrayRef<std::string> inputs) {
  llvm::SmallString<256> header(libPath);
  llvm::sys::path::replace_extension(header, "h");
  std::string text;
  llvm::raw_string_ostream os(text);
  writeHeader(plan, p, abiHeader, os);
  std::string error = writeOutputFile(header, inputs, os.str());
  if (!error.empty())
    return module.emitError(error);
  return success();
}

/// Runs a toolchain program; on failure reports its output.
static LogicalResult runTool(ModuleOp module, const std::string &program,
                             const std::vector<std::string> &argv,
                             llvm::StringRef log, llvm::StringRef what) {
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  llvm::Optional<llvm::StringRef> redirects[] = {llvm::None, log, log};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(program, args, llvm::None, redirects, 0, 0,
                                     &error);
  if (rc == 0)
    return success();
  auto text = llvm::MemoryBuffer::getFile(log);
  return module.emitError(what) << (error.empty() ? "" : ": " + error) << "\n"
                                << (text ? (*text)->getBuffer() : "");
}

/// `-o model.a`: one relocatable object (the wrapper, the weights, the
/// kernels and the runtime linked with -r) in which only the prefixed API
/// stays global, so several models link into one binary without clashes;
/// apps link it with -lpthread -ldl -lm.
static LogicalResult
writeStaticLibrary(ModuleOp module, const ModelPlan &plan,
                   const RuntimeLocation &runtime, const Linker &linker,
                   const std::string &wrapper, const std::string &weightsAsm,
                   llvm::StringRef dir, const std::string &out,
                   const std::string &p) {
  auto path = [&](llvm::StringRef name) {
    llvm::SmallString<256> s(dir);
    llvm::sys::path::append(s, name);
    return s.str().str();
  };
  // The binutils of the linker's toolchain: cc -> objcopy, x-gcc -> x-objcopy.
  auto tool = [&](llvm::StringRef name) -> std::string {
    std::string prefix;
    llvm::StringRef cc = llvm::sys::path::filename(linker.cc);
    if (cc.endswith("-gcc"))
      prefix = cc.drop_back(3).str();
    auto found = llvm::sys::findProgramByName(prefix + name.str());
    return found ? *found : "";
  };
  std::string objcopy = tool("objcopy"), ar = tool("ar");
  if (objcopy.empty() || ar.empty())
    return module.emitError("a static library needs objcopy and ar "
                            "(Debian: binutils) on PATH");
  std::string combined = path("model_combined.o"), keep = path("keep.txt");
  if (failed(writeFile(module, keep, [&](llvm::raw_ostream &os) {
        for (const std::string &f : apiFunctions(p))
          os << f << "\n";
      })))
    return failure();
  // --force-group-allocation: COMDAT groups (the Halide runtime's inline
  // functions and vtables) become plain sections, so the linker does not
  // pick one model's copy for another model's now-local references.
  std::vector<std::string> argv =
      linkCommand(linker, runtime, plan, wrapper, weightsAsm, combined,
                  {"-r", "-nostdlib", "-Wl,--force-group-allocation"});
  std::string log = path("link.log");
  if (failed(runTool(module, linker.cc, argv, log,
                     "linking the model's objects failed")) ||
      failed(runTool(module, objcopy,
                     {objcopy, "--keep-global-symbols=" + keep, combined}, log,
                     "objcopy failed")))
    return failure();
  llvm::sys::fs::remove(out);
  return runTool(module, ar, {ar, "rcs", out, combined}, log,
                 "writing the static library failed");
}

LogicalResult cnnc::codegen::writeLibrary(ModuleOp module,
                                          const ModelPlan &plan,
                                          const CodegenOptions &options,
                                          const RuntimeLocation &runtime,
                                          llvm::StringRef dir,
                                          llvm::StringRef soPath) {
  const std::string &p = options.prefix;
  auto path = [&](llvm::StringRef name) {
    llvm::SmallString<256> s(dir);
    llvm::sys::path::append(s, name);
    return s.str().str();
  };
  std::string wrapper = path("model.c"), weightsBin = path("weights.bin"),
              weightsAsm = path("weights.S"), exports = path("exports.map");
  if (failed(writeFile(
          module, wrapper,
          [&](llvm::raw_ostream &os) { writeWrapper(plan, p, os); })) ||
      failed(writeFile(module, weightsBin,
                       [&](llvm::raw_ostream &os) {
                         os.write(plan.weights.data(), plan.weights.size());
                       })) ||
      failed(writeFile(module, weightsAsm,
                       [&](llvm::raw_ostream &os) {
                         os << "  .section .rodata." << p << "_weights,\"a\"\n"
                            << "  .balign 64\n  .globl " << p << "_weights\n"
                            << "  .hidden " << p << "_weights\n"
                            << p << "_weights:\n  .incbin \"" << weightsBin
                            << "\"\n  .byte 0\n";
                         if (plan.embedSource)
                           os << "  .balign 16\n  .globl " << p
                              << "_source_onnx\n  .hidden " << p
                              << "_source_onnx\n"
                              << p << "_source_onnx:\n  .incbin \""
                              << plan.sourceOnnx << "\"\n  .globl " << p
                              << "_source_onnx_end\n  .hidden " << p
                              << "_source_onnx_end\n"
                              << p << "_source_onnx_end:\n  .byte 0\n";
                         os << "  .section .note.GNU-stack,\"\",@progbits\n";
                       })) ||
      failed(writeFile(module, exports, [&](llvm::raw_ostream &os) {
        os << "{\n  global:\n";
        for (const std::string &f : apiFunctions(p))
          os << "    " << f << ";\n";
        os << "    cnnc_model_entry;\n  local: *;\n};\n";
      })))
    return failure();

  auto abi =
      llvm::MemoryBuffer::getFile(runtime.includeDir + "/cnnc/model_abi.h");
  if (!abi)
    return module.emitError("cannot read the cnnc runtime header in ")
           << runtime.includeDir;

  llvm::StringRef outDir = llvm::sys::path::parent_path(soPath);
  if (!outDir.empty() && !llvm::sys::fs::is_directory(outDir))
    return module.emitError("cannot write ")
           << soPath << ": directory '" << outDir << "' does not exist";
  FailureOr<Linker> linker = findLinker(module, plan, runtime);
  if (failed(linker))
    return failure();
  // The library and its header by cnnc's output rules (OutputFile.h):
  // never over the model's own file, through symlinks, atomically.
  std::vector<std::string> inputs = {options.inputPath, plan.sourceOnnx};
  OutputTarget soTarget;
  std::string outputError = prepareOutput(soPath, inputs, soTarget);
  if (!outputError.empty())
    return module.emitError(outputError);
  std::string tmpSo = soTarget.writePath;
  if (llvm::StringRef(soPath).endswith(".a")) {
    LogicalResult result =
        writeStaticLibrary(module, plan, runtime, *linker, wrapper, weightsAsm,
                           dir, soTarget.writePath, p);
    if (failed(result)) {
      discardOutput(soTarget);
      return failure();
    }
    outputError = commitOutput(soTarget);
    if (!outputError.empty())
      return module.emitError(outputError);
    return writeModelHeader(module, plan, p, (*abi)->getBuffer(), soPath,
                            inputs);
  }
  std::vector<std::string> argv = linkCommand(*linker, runtime, plan, wrapper,
                                              weightsAsm, tmpSo, {"-shared"});
  // A SONAME equal to the file name, so `cc app.c -L. -lname` (or a full
  // path) records the library by name and the rpath finds it.
  argv.push_back("-Wl,-soname," + llvm::sys::path::filename(soPath).str());
  argv.push_back("-Wl,--version-script=" + exports);
  argv.push_back("-Wl,--gc-sections");
  argv.push_back("-lpthread");
  argv.push_back("-ldl");
  argv.push_back("-lm");
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  if (options.verbose)
    llvm::errs() << "cnnc: linking with " << linker->cc << " and "
                 << linker->runtimeLibrary << "\n";
  std::string error;
  std::string log = path("link.log");
  llvm::Optional<llvm::StringRef> redirects[] = {
      llvm::None, llvm::StringRef(log), llvm::StringRef(log)};
  int rc = llvm::sys::ExecuteAndWait(linker->cc, args, llvm::None, redirects, 0,
                                     0, &error);
  if (rc != 0) {
    auto text = llvm::MemoryBuffer::getFile(log);
    discardOutput(soTarget);
    return module.emitError("linking the model library failed")
           << (error.empty() ? "" : ": " + error) << "\n"
           << (text ? (*text)->getBuffer() : "");
  }
  outputError = commitOutput(soTarget);
  if (!outputError.empty())
    return module.emitError(outputError);
  return writeModelHeader(module, plan, p, (*abi)->getBuffer(), soPath, inputs);
}

FailureOr<Linker> cnnc::codegen::findLinker(ModuleOp module,
                                            const ModelPlan &plan,
                                            const RuntimeLocation &runtime) {
  if (plan.linkTriple.empty()) {
    auto cc = llvm::sys::findProgramByName("cc");
    if (!cc) {
      module.emitError("no C compiler ('cc') on PATH to link the model");
      return failure();
    }
    if (!llvm::sys::fs::exists(runtime.library)) {
      module.emitError("the cnnc runtime is missing (")
          << runtime.library
          << "): use an installed cnnc (cmake --install), or set "
             "CNNC_RUNTIME_DIR to the prefix it was installed in";
      return failure();
    }
    return Linker{*cc, runtime.library};
  }
  const std::string &triple = plan.linkTriple;
  auto cc = llvm::sys::findProgramByName(triple + "-gcc");
  if (!cc) {
    module.emitError("linking a library for ")
        << plan.target << " needs the cross compiler '" << triple
        << "-gcc' on PATH (Debian: gcc-" << triple << " and its libc, e.g. "
        << "libc6-dev-arm64-cross for aarch64)";
    return failure();
  }
  llvm::SmallString<256> lib(llvm::sys::path::parent_path(runtime.library));
  llvm::sys::path::append(lib, "libcnnc_rt-" + triple + ".a");
  if (!llvm::sys::fs::exists(lib)) {
    module.emitError("linking a library for ")
        << plan.target << " needs the cnnc runtime built for " << triple << " ("
        << lib << "), which cnnc's build makes when it finds " << triple
        << "-gcc: install it and rebuild cnnc";
    return failure();
  }
  return Linker{*cc, lib.str().str()};
}

/// The runtime of an install tree rooted at `prefix` (bin/cnnc,
/// lib/cnnc/libcnnc_rt.a, include/cnnc/model_abi.h, include/cnnc/halide),
/// if it is one.
static bool installedRuntime(llvm::StringRef prefix, RuntimeLocation &loc) {
  llvm::SmallString<256> lib(prefix), inc(prefix), abi;
  llvm::sys::path::append(lib, "lib", "cnnc", "libcnnc_rt.a");
  llvm::sys::path::append(inc, "include");
  abi = inc;
  llvm::sys::path::append(abi, "cnnc", "model_abi.h");
  if (!llvm::sys::fs::exists(lib) || !llvm::sys::fs::exists(abi))
    return false;
  loc.library = lib.str().str();
  loc.includeDir = inc.str().str();
  llvm::SmallString<256> halide(inc);
  llvm::sys::path::append(halide, "cnnc", "halide");
  loc.halideInclude = halide.str().str();
  return true;
}

RuntimeLocation cnnc::findRuntime(const char *argv0) {
  RuntimeLocation loc;
  // CNNC_RUNTIME_DIR: an install prefix (or its layout) chosen by the user.
  if (const char *dir = getenv("CNNC_RUNTIME_DIR"))
    if (installedRuntime(dir, loc))
      return loc;
  // Next to the running tool: <prefix>/bin/cnnc finds <prefix>/lib/cnnc, so
  // an install tree works wherever it is moved.
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, &anchor);
  if (!exe.empty()) {
    llvm::SmallString<256> prefix(llvm::sys::path::parent_path(exe));
    llvm::sys::path::remove_filename(prefix); // bin/ -> prefix
    if (installedRuntime(prefix, loc))
      return loc;
  }
  // The build tree this cnnc was built in.
  loc.includeDir = CNNC_RUNTIME_INCLUDE_DIR;
  loc.library = CNNC_RUNTIME_LIBRARY;
  loc.halideInclude = CNNC_HALIDE_INCLUDE_DIR;
  return loc;
}
