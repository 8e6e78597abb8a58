//===- ModelCompiler.cpp - plan buffers and kernels, build model.so -------===//
//
// The plan: every value of `func @main` gets a buffer (input, output, weight,
// intermediate, or an alias for shape-only ops such as flatten); every other
// op becomes a call of a Halide pipeline compiled ahead of time. Identical
// kernels (same op, attributes and shapes) are compiled once.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "KernelCache.h"
#include "LibraryWriter.h"
#include "Target.h"
#include "cnnc/Codegen/Codegen.h"
#include "cnnc/Support/OutputFile.h"
#include "cnnc/Transforms/Passes.h"

#include "cnnc/Dialect/CNN/CNNOps.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA1.h"
#include "llvm/Support/Signals.h"

#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <random>
#include <unistd.h>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::codegen;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

static LogicalResult appendWeights(Operation *op, ElementsAttr value,
                                   std::vector<char> &blob, uint64_t &offset) {
  blob.resize((blob.size() + 63) / 64 * 64);
  offset = blob.size();
  auto type = op->getResult(0).getType().cast<ShapedType>();
  int64_t n = type.getNumElements();
  if (type.getElementType().isInteger(64)) {
    // Generator state and other integer tensors (only with a value).
    auto dense = value.dyn_cast_or_null<DenseElementsAttr>();
    if (!dense)
      return op->emitError("integer weights need a dense value");
    blob.resize(offset + n * sizeof(int64_t));
    int64_t *dst = reinterpret_cast<int64_t *>(blob.data() + offset);
    int64_t i = 0;
    for (int64_t v : dense.getValues<int64_t>())
      dst[i++] = v;
    return success();
  }
  if (!type.getElementType().isF32())
    return op->emitError("only f32 weights can be compiled, got ")
           << type.getElementType();
  blob.resize(offset + n * sizeof(float));
  float *dst = reinterpret_cast<float *>(blob.data() + offset);
  // cnn-init-params has given every parameter its value.
  auto dense = value.dyn_cast_or_null<DenseElementsAttr>();
  if (!dense)
    return op->emitError("weights must be dense elements to be compiled");
  int64_t i = 0;
  for (float f : dense.getValues<float>())
    dst[i++] = f;
  return success();
}

//===----------------------------------------------------------------------===//
// The plan
//===----------------------------------------------------------------------===//

namespace {
class ModelCompiler {
public:
  ModelCompiler(ModuleOp module, const CodegenOptions &options,
                std::vector<Halide::Target> targets)
      : module(module), options(options), target(targets.front()),
        baseline(targets.back()), targets(std::move(targets)) {}

  LogicalResult plan();
  LogicalResult planGraph(FuncOp fn, GraphPlan &g, bool training,
                          bool registerParams = true);
  void planTrainingPlan();
  LogicalResult compileKernels(StringRef dir);
  LogicalResult printKernels(llvm::raw_ostream &os);
  ModelPlan &getPlan() { return modelPlan; }

private:
  int newBuffer(BufferKind kind, Value value, int ref = -1);
  LogicalResult planKernel(Operation *op);
  int kernelFor(Operation *op);
  bool planStoredLayout(cnn::PackWeightsOp pack);
  /// Where layout copies live until placeLayoutArena moves them behind the
  /// embedded weights (ModelPlan::layoutBytes).
  static constexpr uint64_t kLayoutArena = uint64_t(1) << 62;
  void placeLayoutArena();
  int resultBuffer(Operation *op);
  void planConcatsInPlace(FuncOp fn);
  int sliceOfSlab(Value value, Value slab, int64_t channel);
  /// While planning the inference graph for a hand-scheduled CPU target:
  /// producers may write zero-bordered buffers (cnn.zero_border).
  bool packWeights = false;
  bool planningInference = false;
  /// Names of the parameters `main` reads more than once.
  llvm::StringSet<> sharedParams;
  /// The unpack_weights ops get_param's kernels are compiled from.
  OwningOpRef<ModuleOp> scratch;
  bool hasTraining = false; ///< the module has training graphs (--train)
  /// The zero border (top, left, bottom, right) of each View buffer.
  llvm::DenseMap<int, std::array<int64_t, 4>> borderOfView;
  /// Concatenations without a kernel (planConcatsInPlace): where each of
  /// their inputs is written (the slab, named by the concatenation that
  /// started it, and the first channel), which slab each such
  /// concatenation reads, each slab's channels and its Temp buffer.
  llvm::DenseMap<Value, std::pair<Value, int64_t>> slabHome;
  llvm::DenseMap<Value, Value> concatSlab;
  llvm::DenseMap<Value, int64_t> slabChannels;
  llvm::DenseMap<Value, int> slabBuffers;
  /// Each View of part of a slab: the slab's Temp buffer, or an Alias of
  /// it with the shape the View's reshaped readers see.
  llvm::DenseMap<int, int> slabOfView;
  void reshapeSlice(Value result, int source);
  int slabWithImageShape(int base, llvm::ArrayRef<int64_t> dims);
  FailureOr<Halide::Pipeline> buildPipeline(Operation *op,
                                            std::vector<Halide::Argument> &args,
                                            const Halide::Target &scheduleFor);

  ModuleOp module;
  const CodegenOptions &options;
  /// The best target (plans the layout), the baseline (runtime, optimizer
  /// kernels, required CPU features), and all of them (the kernels).
  Halide::Target target, baseline;
  std::vector<Halide::Target> targets;
  ModelPlan modelPlan;
  llvm::DenseMap<Value, int> bufferOf;
  GraphPlan *graph = nullptr;
  llvm::StringMap<uint64_t> weightOffsets;
  llvm::StringMap<int> paramIndex;
  llvm::StringMap<int> kernelBySignature;
  std::vector<Operation *> kernelOps; ///< one representative per kernel
};
} // namespace

static llvm::SmallVector<int64_t, 4> dimsOf(Value v) {
  llvm::SmallVector<int64_t, 4> dims;
  for (int64_t d : v.getType().cast<ShapedType>().getShape())
    dims.push_back(d == ShapedType::kDynamicSize ? -1 : d);
  return dims;
}

/// The layer names of an op ("c1+a1+s2" for a fused op), for messages and
/// profiles.
static std::string layerLabel(Operation *op) {
  std::string label;
  std::function<void(Location)> visit = [&](Location loc) {
    if (auto name = loc.dyn_cast<NameLoc>()) {
      label += (label.empty() ? "" : "+") + name.getName().str();
    } else if (auto fused = loc.dyn_cast<FusedLoc>()) {
      for (Location inner : fused.getLocations())
        visit(inner);
    }
  };
  visit(op->getLoc());
  return label.empty() ? op->getName().getStringRef().str() : label;
}

static int32_t dtypeOf(Type type) {
  auto elem = type.cast<ShapedType>().getElementType();
  return elem.isInteger(64) ? 2 : 1; // CNNC_DTYPE_I64 : CNNC_DTYPE_F32
}

int ModelCompiler::newBuffer(BufferKind kind, Value value, int ref) {
  BufferDesc b;
  b.kind = kind;
  b.dims = dimsOf(value);
  b.ref = ref;
  b.dtype = dtypeOf(value.getType());
  graph->buffers.push_back(b);
  int id = (int)graph->buffers.size() - 1;
  bufferOf[value] = id;
  return id;
}

LogicalResult ModelCompiler::plan() {
  auto main = module.lookupSymbol<FuncOp>("main");
  if (!main)
    return module.emitError("the model has no 'main' function");
  modelPlan.name = module.getName() ? module.getName()->str() : "model";
  for (const Halide::Target &t : targets)
    modelPlan.target += (modelPlan.target.empty() ? "" : ",") + t.to_string();
  modelPlan.cpuFeatures = cpuFeaturesOf(baseline);
  FailureOr<std::string> triple = linkTripleOf(baseline, module);
  if (failed(triple))
    return failure();
  modelPlan.linkTriple = *triple;
  if (auto source = cnn::kSourceOnnxAttr.get(module))
    modelPlan.sourceOnnx = source.str();
  packWeights =
      options.schedule == ScheduleKind::Manual && !target.has_gpu_feature();
  hasTraining = llvm::any_of(module.getOps<FuncOp>(), [](FuncOp fn) {
    return cnn::kTrainStepAttr.isSetOn(fn);
  });
  llvm::StringSet<> seen;
  main.walk([&](cnn::ParamOp param) {
    if (!seen.insert(param.getName()).second)
      sharedParams.insert(param.getName());
  });
  planningInference = true;
  LogicalResult planned =
      planGraph(main, modelPlan.inference, /*training=*/false);
  packWeights = planningInference = false;
  borderOfView.clear(); // buffer ids of the inference graph only
  if (failed(planned))
    return failure();
  // Training graphs: one per phase of the plan, the full one last.
  SmallVector<FuncOp> trainFns;
  for (FuncOp fn : module.getOps<FuncOp>())
    if (cnn::kTrainStepAttr.isSetOn(fn))
      trainFns.push_back(fn);
  auto firstEpoch = [](FuncOp fn) -> int64_t {
    auto e = cnn::kFirstEpochAttr.get(fn);
    return e ? e.getInt() : std::numeric_limits<int64_t>::max();
  };
  std::stable_sort(trainFns.begin(), trainFns.end(), [&](FuncOp a, FuncOp b) {
    return firstEpoch(a) < firstEpoch(b);
  });
  for (FuncOp train : trainFns) {
    PhasePlan &ph = modelPlan.phases.emplace_back();
    ph.function = train.getName().str();
    if (auto e = cnn::kFirstEpochAttr.get(train))
      ph.firstEpoch = (int)e.getInt();
    if (failed(planGraph(train, ph.step, /*training=*/true)))
      return failure();
    for (unsigned i = 1; i < train.getNumResults(); ++i) {
      if (auto of =
              train.getResultAttrOfType<StringAttr>(i, cnn::kGradOfAttr)) {
        auto it = paramIndex.find(of.getValue());
        if (it == paramIndex.end() || !ph.updates.empty())
          return train.emitError("result ")
                 << i << " is not the gradient of a known parameter";
        ph.gradParams.push_back(it->second);
        continue;
      }
      auto of = train.getResultAttrOfType<StringAttr>(i, cnn::kUpdateOfAttr);
      auto it = paramIndex.find(of ? of.getValue() : "");
      if (it == paramIndex.end())
        return train.emitError("result ")
               << i << " is neither a gradient nor an update of a parameter";
      ph.updates.push_back({it->second, (int)i});
    }
    llvm::StringSet<> live;
    train.walk([&](cnn::ParamOp param) {
      if (!cnn::kFoldedAttr.isSetOn(param))
        live.insert(param.getName());
    });
    for (size_t p = 0; p < modelPlan.params.size(); ++p)
      if (!live.contains(modelPlan.params[p].name))
        ph.bakedParams.push_back((int)p);
    auto features = cnn::kFeaturesAttr.get(train);
    auto head = cnn::kHeadAttr.get(train);
    if (features && head) {
      auto featuresFn = module.lookupSymbol<FuncOp>(features.getValue());
      auto headFn = module.lookupSymbol<FuncOp>(head.getValue());
      if (!featuresFn || !headFn)
        return train.emitError("feature cache functions not found");
      ph.features.emplace();
      ph.head.emplace();
      if (failed(planGraph(featuresFn, *ph.features, /*training=*/false,
                           /*registerParams=*/false)) ||
          failed(planGraph(headFn, *ph.head, /*training=*/true)))
        return failure();
    } else if (auto why = cnn::kNoCacheAttr.get(train)) {
      ph.noCacheReason = why.str();
    }
  }
  placeLayoutArena();
  planTrainingPlan();
  // The ONNX source is only needed to export trained weights back into it:
  // training libraries embed it, inference ones only when asked (ResNet-18:
  // 47 MB saved).
  modelPlan.embedSource = !modelPlan.sourceOnnx.empty() &&
                          (!modelPlan.phases.empty() || options.embedSource);
  return success();
}

/// Buffers in the layout arena (kLayoutArena | offset) move behind the
/// embedded weights, now that their size is known.
void ModelCompiler::placeLayoutArena() {
  uint64_t base = modelPlan.layoutBase();
  auto place = [&](GraphPlan &g) {
    for (BufferDesc &b : g.buffers)
      if (b.offset & kLayoutArena)
        b.offset = base + (b.offset & ~kLayoutArena);
  };
  place(modelPlan.inference);
  place(modelPlan.layouts);
  place(modelPlan.relayout);
  for (PhasePlan &ph : modelPlan.phases) {
    place(ph.step);
    if (ph.features)
      place(*ph.features);
    if (ph.head)
      place(*ph.head);
  }
  for (ParamDesc &p : modelPlan.params) {
    if (p.toLayout)
      place(*p.toLayout);
    if (p.fromLayout)
      place(*p.fromLayout);
  }
}

/// The plan's groups (learning rates, unfreezing epochs) and settings.
void ModelCompiler::planTrainingPlan() {
  TrainPlanDesc &tp = modelPlan.trainPlan;
  auto group = [&](StringRef name) -> PlanGroupDesc & {
    for (PlanGroupDesc &g : tp.groups)
      if (g.name == name)
        return g;
    tp.groups.push_back(PlanGroupDesc{name.str()});
    return tp.groups.back();
  };
  for (auto g : module.getOps<cnn::GroupOp>())
    if (g.getLr()) {
      group(g.getSymName()).lr = g.getLr()->convertToDouble();
      tp.present = true;
    }
  for (auto &[name, epoch] : cnn::unfreezeSchedule(module)) {
    group(name).unfreezeEpoch = epoch;
    tp.present = true;
  }
  for (auto plan : module.getOps<cnn::TrainPlanOp>()) {
    tp.present = tp.hasOptimizer = true;
    tp.loss = plan.getLoss().str();
    StringRef opt = plan.getOptimizer();
    tp.optimizer = opt == "adam" ? 1 : opt == "adamw" ? 2 : 0;
    tp.lr = plan.getLr().convertToDouble();
    if (auto v = plan.getMomentum())
      tp.momentum = v->convertToDouble();
    tp.nesterov = plan.getNesterov();
    if (auto v = plan.getWeightDecay())
      tp.weightDecay = v->convertToDouble();
    if (auto v = plan.getBeta1())
      tp.beta1 = v->convertToDouble();
    if (auto v = plan.getBeta2())
      tp.beta2 = v->convertToDouble();
    if (auto v = plan.getEps())
      tp.eps = v->convertToDouble();
    if (auto v = plan.getEpochs())
      tp.epochs = *v;
    if (auto v = plan.getBatch())
      tp.batch = *v;
  }
  if (modelPlan.phases.empty())
    tp.present = false;
}

LogicalResult ModelCompiler::planGraph(FuncOp fn, GraphPlan &g, bool training,
                                       bool registerParams) {
  graph = &g;
  bufferOf.clear();
  planConcatsInPlace(fn);
  for (BlockArgument arg : fn.getArguments()) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    bool labels = training && arg.getArgNumber() + 1 == fn.getNumArguments();
    if (!type || !(type.getElementType().isF32() ||
                   (labels && type.getElementType().isInteger(64))))
      return fn.emitError("input ")
             << arg.getArgNumber() << " must be an f32 tensor, got "
             << arg.getType();
    for (int64_t i = 1; i < type.getRank(); ++i)
      if (type.isDynamicDim(i))
        return fn.emitError("input ")
               << arg.getArgNumber()
               << ": only the batch (first) dimension may be dynamic";
    if (type.getRank() > 8) {
      fn.emitError("inputs of rank > 8 are not supported");
      return failure();
    }
    TensorDesc t;
    auto name =
        fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), cnn::kNameAttr);
    t.name = name ? name.str() : "input" + std::to_string(arg.getArgNumber());
    t.dims = dimsOf(arg);
    t.dtype = dtypeOf(arg.getType());
    t.buffer = newBuffer(CNNC_RT_INPUT, arg, (int)g.inputs.size());
    g.inputs.push_back(t);
  }

  LogicalResult result = success();
  fn.walk([&](Operation *op) {
    if (failed(result) || isa<FuncOp>(op))
      return;
    if (isa<cnn::ParamOp, cnn::ConstantOp>(op)) {
      // Every graph sees the same weights: one copy in the blob per name.
      auto param = dyn_cast<cnn::ParamOp>(op);
      std::string key;
      if (param && !cnn::kFoldedAttr.isSetOn(param))
        key = "param:" + param.getName().str();
      bool rng = param && cnn::kRngAttr.isSetOn(param);
      int id = newBuffer(CNNC_RT_PARAM, op->getResult(0));
      auto known = key.empty() ? weightOffsets.end() : weightOffsets.find(key);
      if (known != weightOffsets.end()) {
        g.buffers[id].offset = known->second;
        return;
      }
      ElementsAttr value =
          param ? param.getValueAttr() : cast<cnn::ConstantOp>(op).getValue();
      result =
          appendWeights(op, value, modelPlan.weights, g.buffers[id].offset);
      if (key.empty())
        return;
      weightOffsets[key] = g.buffers[id].offset;
      if (rng)
        modelPlan.rngOffset = (int64_t)g.buffers[id].offset;
      if (!training && registerParams && !rng) {
        ParamDesc desc;
        desc.name = param.getName().str();
        desc.group = param.getGroupAttr()
                         ? param.getGroupAttr().getValue().str()
                         : std::string();
        desc.dims = dimsOf(param);
        desc.trainable = !param.getFrozen() && !param.getBuffer();
        desc.isBuffer = param.getBuffer();
        desc.buffer = id;
        paramIndex[desc.name] = (int)modelPlan.params.size();
        modelPlan.params.push_back(desc);
      }
      return;
    }
    if (isa<ReturnOp>(op))
      return;
    if (auto pack = dyn_cast<cnn::PackWeightsOp>(op))
      if (planStoredLayout(pack))
        return;
    // Shape-only ops: the row-major data does not move.
    if (isa<cnn::FlattenOp, cnn::ReshapeOp>(op) ||
        (!training && isa<cnn::DropoutOp>(op))) {
      int source = bufferOf.lookup(op->getOperand(0));
      if (slabOfView.count(source))
        reshapeSlice(op->getResult(0), source);
      else
        newBuffer(CNNC_RT_ALIAS, op->getResult(0), source);
      return;
    }
    if (auto concat = dyn_cast<cnn::ConcatOp>(op)) {
      auto slab = concatSlab.find(concat.getResult());
      if (slab != concatSlab.end()) {
        sliceOfSlab(concat.getResult(), slab->second,
                    slabHome.lookup(concat.getOperand(0)).second);
        return;
      }
    }
    result = planKernel(op);
  });
  if (failed(result))
    return failure();

  auto ret = cast<ReturnOp>(fn.getBody().front().getTerminator());
  for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
    Value value = ret.getOperand(i);
    TensorDesc t;
    auto name = fn.getResultAttrOfType<StringAttr>(i, cnn::kNameAttr);
    t.name = name ? name.str() : "output" + std::to_string(i);
    t.dims = dimsOf(value);
    t.dtype = dtypeOf(value.getType());
    if (!value.getType().cast<ShapedType>().getElementType().isF32())
      return fn.emitError("output ") << i << " must be an f32 tensor";
    int b = bufferOf.lookup(value);
    // A kernel result that is an output is written in place (inference: the
    // caller's buffer; training outputs stay in the instance).
    if (!training && g.buffers[b].kind == CNNC_RT_TEMP) {
      g.buffers[b].kind = CNNC_RT_OUTPUT;
      g.buffers[b].ref = (int)i;
    }
    t.buffer = b;
    g.outputs.push_back(t);
  }
  return success();
}

/// The layout kernels take weights of any shape (Halide reads the extents
/// from the buffers): one per vector width serves every convolution.
static bool anyShapeKernel(Operation *op) {
  return isa<cnn::PackWeightsOp, cnn::UnpackWeightsOp>(op);
}

/// Identical ops on identical shapes share one compiled kernel.
static std::string kernelSignature(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getName() << op->getAttrDictionary();
  if (anyShapeKernel(op)) {
    auto packed =
        (isa<cnn::PackWeightsOp>(op) ? op->getResult(0) : op->getOperand(0))
            .getType()
            .cast<ShapedType>();
    // Rank 5: vectors of `lanes`; rank 3: Winograd, (T+2)^2 x M/L x C*L.
    if (packed.getRank() == 5)
      os << " lanes " << packed.getDimSize(4);
    else
      os << " winograd " << packed.getDimSize(0);
    return os.str();
  }
  for (Type t : op->getOperandTypes())
    os << t;
  for (Type t : op->getResultTypes())
    os << t;
  return os.str();
}

/// The kernel computing `op`, compiled once per signature.
int ModelCompiler::kernelFor(Operation *op) {
  std::string sig = kernelSignature(op);
  auto it = kernelBySignature.find(sig);
  if (it != kernelBySignature.end())
    return it->second;
  int kernel = (int)kernelOps.size();
  kernelOps.push_back(op);
  modelPlan.kernelNames.push_back("cnnc_" + op->getName().stripDialect().str() +
                                  "_" + contentKey(sig).substr(0, 16));
  kernelBySignature[sig] = kernel;
  return kernel;
}

/// Appends a one-kernel step `from` -> `to` to a layout graph.
static void addLayoutCall(GraphPlan &g, int kernel, const std::string &label,
                          BufferDesc from, BufferDesc to) {
  int first = (int)g.buffers.size();
  g.buffers.push_back(std::move(from));
  g.buffers.push_back(std::move(to));
  g.calls.push_back(KernelCall{kernel, label, {first, first + 1}});
}

/// A weight (parameter or constant) that the inference graph reads packed
/// (cnn.pack_weights) is stored packed rather than packed on every run:
///  - only packed, at the weight's own offset, when nothing else reads it
///    (a constant, or a parameter of a library without training) and the
///    layout is as large as the plain weight: written from the embedded
///    plain values when an instance is created, and by set_param/get_param
///    through the pack and unpack kernels;
///  - otherwise a second copy (in the layout arena behind the embedded
///    weights), rewritten from the plain values after they change (the
///    relayout graph). A Winograd filter is 4x the plain weight, which
///    stays, so get_param returns the values set exactly.
/// Returns false when `pack` is an ordinary kernel of the graph.
bool ModelCompiler::planStoredLayout(cnn::PackWeightsOp pack) {
  Value weight = pack.getInput();
  Operation *def = weight.getDefiningOp();
  auto src = bufferOf.find(weight);
  if (!planningInference || !def || !isa<cnn::ParamOp, cnn::ConstantOp>(def) ||
      src == bufferOf.end() ||
      graph->buffers[src->second].kind != CNNC_RT_PARAM)
    return false;
  auto param = dyn_cast<cnn::ParamOp>(def);
  bool constant = !param || cnn::kFoldedAttr.isSetOn(param);
  auto exposed =
      param && !constant ? paramIndex.find(param.getName()) : paramIndex.end();
  // A layout as large as the plain weight (packed vectors) may take its
  // place; a larger one (Winograd's, (T+2)^2 / 9 times) is a copy.
  int64_t packedBytes =
      pack.getType().cast<ShapedType>().getNumElements() * sizeof(float);
  bool samePlace =
      packedBytes == weight.getType().cast<ShapedType>().getNumElements() *
                         (int64_t)sizeof(float);
  bool only = samePlace && weight.hasOneUse() &&
              (constant || (exposed != paramIndex.end() && !hasTraining &&
                            !sharedParams.contains(param.getName())));
  int packKernel = kernelFor(pack);
  std::string label = layerLabel(pack);
  BufferDesc plain = graph->buffers[src->second];
  BufferDesc packed;
  packed.kind = CNNC_RT_PARAM;
  packed.dims = dimsOf(pack.getResult());
  if (only) {
    packed.offset = plain.offset;
    BufferDesc embedded = plain;
    embedded.kind = CNNC_RT_EMBEDDED;
    addLayoutCall(modelPlan.layouts, packKernel, label, embedded, packed);
    if (exposed != paramIndex.end()) {
      // get_param's kernel: the inverse layout, on a packed argument.
      if (!scratch)
        scratch = ModuleOp::create(module.getLoc());
      OpBuilder b(module.getContext());
      b.setInsertionPointToEnd(scratch->getBody());
      auto fn =
          b.create<FuncOp>(pack.getLoc(), "unpack",
                           b.getFunctionType({pack.getResult().getType()}, {}));
      b.setInsertionPointToStart(fn.addEntryBlock());
      auto unpack =
          b.create<cnn::UnpackWeightsOp>(pack.getLoc(), fn.getArgument(0));
      BufferDesc in = plain, out = plain;
      in.kind = CNNC_RT_INPUT;
      in.ref = 0;
      out.kind = CNNC_RT_OUTPUT;
      out.ref = 0;
      ParamDesc &desc = modelPlan.params[exposed->second];
      desc.toLayout.emplace();
      desc.fromLayout.emplace();
      addLayoutCall(*desc.toLayout, packKernel, label, in, packed);
      addLayoutCall(*desc.fromLayout, kernelFor(unpack), label, packed, out);
    }
  } else {
    // The copy's initial bytes do not matter: relayout runs at create.
    packed.offset = kLayoutArena | modelPlan.layoutBytes;
    modelPlan.layoutBytes += (packedBytes + 63) / 64 * 64;
    addLayoutCall(modelPlan.relayout, packKernel, label, plain, packed);
  }
  graph->buffers.push_back(packed);
  bufferOf[pack.getResult()] = (int)graph->buffers.size() - 1;
  return true;
}

LogicalResult ModelCompiler::planKernel(Operation *op) {
  if (op->getNumResults() != 1)
    return op->emitOpError("with several results cannot be compiled yet");
  if (auto replica = dyn_cast<cnn::ReplicaReduceOp>(op)) {
    // The executor combines the replicas' values itself (it calls the
    // application's all-reduce): a host step, no kernel.
    static_assert(CNNC_RT_HOST_REPLICA_RUNNING_STATS ==
                          CNNC_RT_HOST_REPLICA_BATCH_STATS +
                              (int)cnn::ReplicaReduction::RunningStats &&
                      CNNC_RT_HOST_REPLICA_SUM ==
                          CNNC_RT_HOST_REPLICA_BATCH_STATS +
                              (int)cnn::ReplicaReduction::Sum,
                  "cnnc_rt_host_step follows cnn::ReplicaReduction");
    KernelCall call;
    call.kernel = -1;
    call.host = CNNC_RT_HOST_REPLICA_BATCH_STATS + (int)replica.getKind();
    call.label = layerLabel(op);
    call.args = {bufferOf.lookup(replica.getValue()),
                 bufferOf.lookup(replica.getInput())};
    call.args.push_back(resultBuffer(op));
    graph->calls.push_back(call);
    return success();
  }
  if (!packWeights) {
    // The autoscheduler's and GPU kernels read unbordered buffers.
    op->removeAttr(cnn::kPrepaddedAttr.name);
    op->removeAttr(cnn::kZeroBorderAttr.name);
  }
  // A packed convolution whose input lies in a buffer with its zero border
  // (cnn.prepadded) reads that buffer whole: no padding pass.
  int input = -1;
  if (cnn::kPrepaddedAttr.isSetOn(op)) {
    auto view = borderOfView.find(bufferOf.lookup(op->getOperand(0)));
    if (view == borderOfView.end() || view->second != cnn::convPads(op))
      return op->emitOpError("is cnn.prepadded but its input is not written "
                             "with its padding as a zero border "
                             "(cnn.zero_border)");
    input = graph->buffers[view->first].ref;
  }
  KernelCall call;
  call.kernel = kernelFor(op);
  call.label = layerLabel(op);
  for (Value operand : op->getOperands()) {
    auto b = bufferOf.find(operand);
    if (b == bufferOf.end())
      return op->emitOpError("uses a value the compiler has not planned");
    call.args.push_back(b->second);
  }
  if (input >= 0)
    call.args[0] = input;
  call.args.push_back(resultBuffer(op));
  graph->calls.push_back(call);
  return success();
}

/// The result's buffer: a Temp, or, when cnn-pack-conv-weights gave the op
/// a zero border (the padding of a packed convolution that reads it), a
/// Temp with that border and the View of its interior that the kernel
/// writes and every reader reads.
int ModelCompiler::resultBuffer(Operation *op) {
  Value result = op->getResult(0);
  auto home = slabHome.find(result);
  if (home != slabHome.end())
    return sliceOfSlab(result, home->second.first, home->second.second);
  int id = newBuffer(CNNC_RT_TEMP, result);
  ArrayAttr borderAttr = cnn::kZeroBorderAttr.get(op);
  if (!packWeights || !borderAttr)
    return id;
  std::optional<std::array<int64_t, 4>> border = std::array<int64_t, 4>{};
  for (unsigned i = 0; i < 4; ++i)
    (*border)[i] = borderAttr[i].cast<IntegerAttr>().getInt();
  BufferDesc &padded = graph->buffers[id];
  padded.dims[2] += (*border)[0] + (*border)[2];
  padded.dims[3] += (*border)[1] + (*border)[3];
  BufferDesc view;
  view.kind = CNNC_RT_VIEW;
  view.dims = dimsOf(result);
  view.ref = id;
  view.offset = (uint64_t)((*border)[0] * padded.dims[3] + (*border)[1]);
  view.dtype = padded.dtype;
  graph->buffers.push_back(view);
  int viewId = (int)graph->buffers.size() - 1;
  bufferOf[result] = viewId;
  borderOfView[viewId] = *border;
  return viewId;
}

/// Whether `to`, a reshape of the NCHW tensor `from`, has its batch and
/// channels and the same number of pixels per image.
static bool keepsChannels(Value from, Value to) {
  auto a = from.getType().cast<ShapedType>();
  auto b = to.getType().cast<ShapedType>();
  return a.getRank() == 4 && b.getRank() == 4 &&
         a.getDimSize(0) == b.getDimSize(0) &&
         a.getDimSize(1) == b.getDimSize(1) &&
         llvm::all_of(b.getShape().drop_front(),
                      [](int64_t d) { return d >= 0; }) &&
         a.getDimSize(2) * a.getDimSize(3) == b.getDimSize(2) * b.getDimSize(3);
}

/// Concatenations along the channels of NCHW tensors that need no kernel
/// (the inference graph of a hand-scheduled CPU library): the producers of
/// their inputs write straight into channel slices of one Temp buffer, a
/// slab, and the concatenation reads a slice of it. A DenseNet block
/// concatenates every layer's output with all earlier ones,
/// concat(x0), concat(x0, x1), concat(x0, x1, x2)...: each concatenation
/// whose first inputs lie one after another in a slab and end where the
/// slab ends appends the others to it, so the whole block is one slab and
/// each concatenation a prefix of it. A concatenation that does not fit
/// (inputs out of order, from another slab, or values no kernel writes
/// here: graph inputs, weights, reshapes, outputs, zero-bordered buffers)
/// stays a kernel.
void ModelCompiler::planConcatsInPlace(FuncOp fn) {
  slabHome.clear();
  concatSlab.clear();
  slabChannels.clear();
  slabBuffers.clear();
  slabOfView.clear();
  if (!planningInference || !packWeights || !options.concatInPlace)
    return;
  // Readers that need the value's own row-major buffer: the caller's
  // outputs, and aliases (cnn.reshape and the like read through the same
  // memory with another shape) other than those that keep the batch and
  // the channels (a 1x1 convolution's [N, C, 1, H*W]), which read a slice
  // of the slab seen with their shape.
  std::function<bool(Value)> denseOnly = [&](Value v) {
    return llvm::any_of(v.getUsers(), [&](Operation *user) {
      if (isa<ReturnOp>(user))
        return true;
      if (!isa<cnn::FlattenOp, cnn::ReshapeOp, cnn::DropoutOp>(user))
        return false;
      return !keepsChannels(v, user->getResult(0)) ||
             denseOnly(user->getResult(0));
    });
  };
  auto nchw = [](Value v) {
    auto type = v.getType().dyn_cast<RankedTensorType>();
    return type && type.getRank() == 4 && type.getElementType().isF32() &&
           llvm::all_of(type.getShape().drop_front(),
                        [](int64_t d) { return d >= 0; });
  };
  auto channels = [](Value v) {
    return v.getType().cast<ShapedType>().getDimSize(1);
  };
  // A value one kernel writes as its only result, into any buffer.
  auto writable = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getNumResults() != 1 || !nchw(v) || denseOnly(v) ||
        cnn::kZeroBorderAttr.get(def) || concatSlab.count(v))
      return false;
    return !isa<cnn::ParamOp, cnn::ConstantOp, cnn::FlattenOp, cnn::ReshapeOp,
                cnn::DropoutOp, cnn::PackWeightsOp, cnn::ReplicaReduceOp>(def);
  };
  // The value a kernel writes for input `v`: `v`, or the [N, C, 1, H*W]
  // result of a 1x1 convolution that `v` reshapes back to [N, C, H, W].
  auto writerOf = [&](Value v) -> Value {
    if (writable(v))
      return v;
    auto reshape = v.getDefiningOp<cnn::ReshapeOp>();
    if (reshape && nchw(v) && !denseOnly(v) && !concatSlab.count(v) &&
        keepsChannels(reshape.getInput(), v) && writable(reshape.getInput()))
      return reshape.getInput();
    return {};
  };
  fn.walk([&](cnn::ConcatOp concat) {
    Value result = concat.getResult();
    if (!nchw(result) || denseOnly(result) ||
        cnn::kZeroBorderAttr.get(concat) ||
        ((int64_t)concat.getAxis() % 4 + 4) % 4 != 1)
      return;
    SmallVector<Value> inputs(concat.getOperands());
    // The inputs already placed: one after another in one slab.
    Value slab;
    int64_t end = 0;
    size_t placed = 0;
    for (; placed < inputs.size(); ++placed) {
      auto home = slabHome.find(inputs[placed]);
      if (home == slabHome.end())
        break;
      if (placed == 0) {
        slab = home->second.first;
        end = home->second.second;
      }
      if (home->second.first != slab || home->second.second != end)
        return;
      end += channels(inputs[placed]);
    }
    // The others go behind them, at the end of the slab.
    if (placed < inputs.size()) {
      if (placed > 0 && slabChannels.lookup(slab) != end)
        return;
      SmallVector<Value> writers;
      for (size_t i = placed; i < inputs.size(); ++i) {
        Value writer = writerOf(inputs[i]);
        if (slabHome.count(inputs[i]) || !writer || slabHome.count(writer) ||
            llvm::is_contained(
                llvm::makeArrayRef(inputs).slice(placed, i - placed),
                inputs[i]))
          return;
        writers.push_back(writer);
      }
      if (placed == 0)
        slab = result;
      for (size_t i = placed; i < inputs.size(); ++i) {
        slabHome[inputs[i]] = slabHome[writers[i - placed]] = {slab, end};
        end += channels(inputs[i]);
      }
      slabChannels[slab] = end;
    }
    concatSlab[result] = slab;
  });
}

/// The buffer of `value`, channels [channel, channel + C) of `slab`: the
/// slab's Temp buffer itself where it is all of it, else a View.
int ModelCompiler::sliceOfSlab(Value value, Value slab, int64_t channel) {
  auto known = slabBuffers.find(slab);
  int base;
  if (known != slabBuffers.end()) {
    base = known->second;
  } else {
    BufferDesc b;
    b.kind = CNNC_RT_TEMP;
    b.dims = dimsOf(slab);
    b.dims[1] = slabChannels.lookup(slab);
    b.dtype = dtypeOf(slab.getType());
    graph->buffers.push_back(b);
    base = slabBuffers[slab] = (int)graph->buffers.size() - 1;
  }
  llvm::SmallVector<int64_t, 4> dims = dimsOf(value);
  if (channel == 0 && dims == graph->buffers[base].dims) {
    bufferOf[value] = base;
    return base;
  }
  // A 1x1 convolution's [N, C, 1, H*W]: the slab seen as rows.
  if (dims[2] != graph->buffers[base].dims[2])
    base = slabWithImageShape(base, dims);
  BufferDesc view;
  view.kind = CNNC_RT_VIEW;
  view.dims = dims;
  view.ref = base;
  view.offset = (uint64_t)(channel * dims[2] * dims[3]);
  view.dtype = graph->buffers[base].dtype;
  graph->buffers.push_back(view);
  int id = (int)graph->buffers.size() - 1;
  bufferOf[value] = id;
  slabOfView[id] = base;
  return id;
}

/// An Alias of slab buffer `base` (or of an Alias of it) whose images have
/// the shape of `dims`' (dims[2] x dims[3]).
int ModelCompiler::slabWithImageShape(int base, llvm::ArrayRef<int64_t> dims) {
  BufferDesc alias = graph->buffers[base];
  alias.kind = CNNC_RT_ALIAS;
  alias.ref = base;
  alias.dims[2] = dims[2];
  alias.dims[3] = dims[3];
  graph->buffers.push_back(alias);
  return (int)graph->buffers.size() - 1;
}

/// A reshape that keeps the batch and the channels of a slice of a slab
/// (planConcatsInPlace allows no other): the same slice of the slab seen
/// with the reshape's image shape.
void ModelCompiler::reshapeSlice(Value result, int source) {
  BufferDesc view = graph->buffers[source];
  int base = slabOfView.lookup(source);
  llvm::SmallVector<int64_t, 4> dims = dimsOf(result);
  if (dims != view.dims) {
    base = slabWithImageShape(base, dims);
    view.ref = base;
    view.dims = dims;
  }
  graph->buffers.push_back(view);
  int id = (int)graph->buffers.size() - 1;
  bufferOf[result] = id;
  slabOfView[id] = base;
}

FailureOr<Halide::Pipeline>
ModelCompiler::buildPipeline(Operation *op, std::vector<Halide::Argument> &args,
                             const Halide::Target &scheduleFor) {
  LoweringContext ctx{scheduleFor, options.schedule == ScheduleKind::Manual};
  std::vector<TensorFunc> operands;
  std::vector<Halide::ImageParam> params;
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    Value operand = op->getOperand(i);
    llvm::SmallVector<int64_t, 4> dims = dimsOf(operand);
    if (anyShapeKernel(op))
      for (size_t d = 0; d < 4; ++d)
        dims[d] = -1; // all but a packed weight's lanes
    // The kernel sees the operand's own shape; only the buffer it reads
    // (the ImageParam) carries a prepadded input's zero border, so that
    // sizes derived from the shape (a fused pooling's convolution rows)
    // are the convolution's, not the border's.
    llvm::SmallVector<int64_t, 4> bufferDims = dims;
    if (i == 0 && cnn::kPrepaddedAttr.isSetOn(op)) {
      std::array<int64_t, 4> pads = cnn::convPads(op);
      bufferDims[2] += pads[0] + pads[2];
      bufferDims[3] += pads[1] + pads[3];
    }
    Halide::Type type =
        dtypeOf(operand.getType()) == 2 ? Halide::Int(64) : Halide::Float(32);
    Halide::ImageParam p(type, (int)dims.size(), "arg" + std::to_string(i));
    for (int d = 0; d < (int)bufferDims.size(); ++d) {
      int64_t extent = bufferDims[bufferDims.size() - 1 - d];
      p.dim(d).set_min(0);
      if (extent >= 0)
        p.dim(d).set_extent((int)extent).set_estimate(0, (int)extent);
      else
        p.dim(d).set_estimate(0, 1);
    }
    params.push_back(p);
    args.push_back(p);
    TensorFunc t{Halide::Func(p), dims, {}};
    for (int d = 0; d < (int)dims.size(); ++d)
      t.extents.push_back(dims[d] >= 0
                              ? Halide::Expr((int)dims[d])
                              : p.dim((int)dims.size() - 1 - d).extent());
    operands.push_back(t);
  }
  FailureOr<KernelParts> parts = lowerOp(op, operands, ctx);
  if (failed(parts))
    return failure();
  Halide::Func out = parts->output;
  llvm::SmallVector<int64_t, 4> shape = parts->shape;
  Halide::OutputImageParam ob = out.output_buffer();
  for (int d = 0; d < (int)shape.size(); ++d) {
    int64_t extent = shape[shape.size() - 1 - d];
    ob.dim(d).set_min(0);
    if (extent >= 0)
      ob.dim(d).set_extent((int)extent);
  }
  {
    std::vector<std::pair<Halide::Expr, Halide::Expr>> est;
    for (int d = 0; d < (int)shape.size(); ++d) {
      int64_t extent = shape[shape.size() - 1 - d];
      est.push_back({0, extent >= 0 ? (int)extent : 1});
    }
    Halide::Region region;
    for (auto &e : est)
      region.push_back(Halide::Range(e.first, e.second));
    out.set_estimates(region);
  }
  scheduleKernel(*parts, ctx);
  Halide::Pipeline pipeline(out);
  if (options.schedule == ScheduleKind::Auto) {
    static bool loaded = false;
    std::string lib = "/usr/lib/x86_64-linux-gnu/halide14/libautoschedule_" +
                      llvm::StringRef(options.autoscheduler).lower() + ".so";
    if (!loaded) {
      // Adams2019's default beam search takes ~25 s per conv layer here;
      // a beam of 1 takes milliseconds (HL_BEAM_SIZE overrides).
      setenv("HL_BEAM_SIZE", "1", /*overwrite=*/0);
      Halide::load_plugin(lib);
      loaded = true;
    }
    pipeline.auto_schedule(options.autoscheduler, scheduleFor,
                           Halide::MachineParams(2, 4 << 20, 40));
  }
  return pipeline;
}

LogicalResult ModelCompiler::compileKernels(StringRef dir) {
  std::vector<Halide::Target> kernelTargets;
  std::string targetKey;
  for (const Halide::Target &t : targets) {
    kernelTargets.push_back(t.with_feature(Halide::Target::NoRuntime));
    targetKey += kernelTargets.back().to_string() + ",";
  }
  bool multi = kernelTargets.size() > 1;
  // Several targets: one static library per kernel holding a variant per
  // target and Halide's dispatcher under the kernel's own name.
  const char *ext = multi ? ".a" : ".o";
  KernelCache cache(options.useCache);
  std::string configuration =
      "|" + targetKey + "|" +
      (options.schedule == ScheduleKind::Auto ? options.autoscheduler
                                              : std::string("manual")) +
      vectorMachineOverride();
  for (size_t k = 0; k < kernelOps.size(); ++k) {
    Operation *op = kernelOps[k];
    auto start = std::chrono::steady_clock::now();
    // The symbol is derived from the kernel's signature; the configuration
    // only selects the cache entry.
    std::string entry =
        KernelCache::entryName(modelPlan.kernelNames[k] + configuration, ext);
    if (llvm::Optional<std::string> cached = cache.lookup(entry)) {
      modelPlan.objects.push_back(*cached);
      if (options.verbose)
        llvm::errs() << "cnnc: " << modelPlan.kernelNames[k]
                     << " from the cache\n";
      continue;
    }
    try {
      llvm::SmallString<256> obj(dir);
      llvm::sys::path::append(obj, modelPlan.kernelNames[k] + ext);
      if (!multi) {
        std::vector<Halide::Argument> args;
        FailureOr<Halide::Pipeline> pipeline =
            buildPipeline(op, args, kernelTargets.front());
        if (failed(pipeline))
          return failure();
        pipeline->compile_to_object(obj.str().str(), args,
                                    modelPlan.kernelNames[k],
                                    kernelTargets.front());
      } else {
        // Each variant is scheduled for its own target (vector width,
        // registers); a diagnostic inside the factory becomes an error.
        bool lowered = true;
        Halide::compile_multitarget(
            modelPlan.kernelNames[k],
            {{Halide::OutputFileType::static_library, obj.str().str()}},
            kernelTargets, {},
            [&](const std::string &name, const Halide::Target &t) {
              std::vector<Halide::Argument> args;
              FailureOr<Halide::Pipeline> pipeline = buildPipeline(op, args, t);
              if (failed(pipeline)) {
                lowered = false;
                throw Halide::CompileError("the layer could not be lowered");
              }
              return pipeline->compile_to_module(args, name, t);
            });
        if (!lowered)
          return failure();
      }
      modelPlan.objects.push_back(obj.str().str());
      cache.store(obj, entry);
    } catch (const Halide::Error &e) {
      return op->emitError("Halide could not compile this layer: ") << e.what();
    }
    if (options.verbose)
      llvm::errs() << "cnnc: compiled " << modelPlan.kernelNames[k] << " in "
                   << std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count()
                   << " s\n";
  }
  if (!modelPlan.phases.empty()) {
    // Memory-bound updates: compiled once, for the baseline.
    for (OptimizerKernel &k : optimizerKernels(baseline)) {
      modelPlan.optimizerKernels.push_back(k.name);
      std::string entry = KernelCache::entryName(
          "optimizer|" + k.name + "|" + k.target.to_string(), ".o");
      if (llvm::Optional<std::string> cached = cache.lookup(entry)) {
        modelPlan.objects.push_back(*cached);
        continue;
      }
      try {
        llvm::SmallString<256> obj(dir);
        llvm::sys::path::append(obj, k.name + ".o");
        k.pipeline.compile_to_object(obj.str().str(), k.args, k.name, k.target);
        modelPlan.objects.push_back(obj.str().str());
        cache.store(obj, entry);
      } catch (const Halide::Error &e) {
        return module.emitError("Halide could not compile the optimizer ")
               << k.name << ": " << e.what();
      }
    }
  }
  std::string runtimeEntry =
      KernelCache::entryName("halide-runtime|" + baseline.to_string(), ".o");
  if (llvm::Optional<std::string> cached = cache.lookup(runtimeEntry)) {
    modelPlan.objects.push_back(*cached);
    return success();
  }
  try {
    llvm::SmallString<256> rt(dir);
    llvm::sys::path::append(rt, "halide_runtime.o");
    Halide::compile_standalone_runtime(rt.str().str(), baseline);
    modelPlan.objects.push_back(rt.str().str());
    cache.store(rt, runtimeEntry);
  } catch (const Halide::Error &e) {
    return module.emitError("Halide could not build its runtime: ") << e.what();
  }
  return success();
}

LogicalResult ModelCompiler::printKernels(llvm::raw_ostream &os) {
  llvm::SmallString<128> tmp;
  if (llvm::sys::fs::createTemporaryFile("cnnc-kernel", "stmt", tmp))
    return module.emitError("cannot create a temporary file");
  for (size_t k = 0; k < kernelOps.size(); ++k) {
    try {
      std::vector<Halide::Argument> args;
      FailureOr<Halide::Pipeline> pipeline =
          buildPipeline(kernelOps[k], args, target);
      if (failed(pipeline))
        return failure();
      pipeline->compile_to_lowered_stmt(
          tmp.str().str(), args, Halide::Text,
          target.with_feature(Halide::Target::NoRuntime));
    } catch (const Halide::Error &e) {
      return kernelOps[k]->emitError("Halide could not compile this layer: ")
             << e.what();
    }
    auto buffer = llvm::MemoryBuffer::getFile(tmp);
    os << "// kernel " << modelPlan.kernelNames[k] << " ("
       << layerLabel(kernelOps[k]) << ")\n";
    if (buffer)
      os << (*buffer)->getBuffer() << "\n";
  }
  llvm::sys::fs::remove(tmp);
  return success();
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// Parameters described by `init` (the DSL's) get their values first, so
/// every weight codegen stores is in the IR (cnn-init-params).
static LogicalResult initParams(ModuleOp module, uint64_t seed) {
  PassManager pm(module.getContext());
  pm.addPass(cnn::createInitParamsPass(seed));
  return pm.run(module);
}

/// The build directory to remove if SIGINT or SIGTERM ends the compile.
static char interruptedBuildDir[PATH_MAX];

/// Runs in the signal handler: removes the build directory's files (one
/// level: cnnc writes no subdirectories) and the directory, then ends the
/// process by the signal's default action. Only async-signal-safe calls: a
/// signal can arrive while the compiler holds malloc's lock (opendir would
/// then deadlock, and the interrupted cnnc would hang), so the directory is
/// read with getdents64 into a static buffer.
static void removeBuildDir() {
  static char entries[8192];
  // Unlinking while reading may hide entries from the same pass: read again
  // until a pass removes nothing.
  for (int pass = 0; pass < 16; ++pass) {
    int fd = open(interruptedBuildDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      break;
    bool removed = false;
    ssize_t n;
    while ((n = getdents64(fd, entries, sizeof entries)) > 0) {
      for (ssize_t offset = 0; offset < n;) {
        auto *e = reinterpret_cast<struct dirent64 *>(entries + offset);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
          removed |= unlinkat(fd, e->d_name, 0) == 0;
        offset += e->d_reclen;
      }
    }
    close(fd);
    if (!removed)
      break;
  }
  rmdir(interruptedBuildDir);
}

static void removeBuildDirOnInterrupt() {
  removeBuildDir();
  signal(SIGINT, SIG_DFL);
  raise(SIGINT);
}

/// LLVM reports a failed write of its own streams (Halide's objects on a
/// full disk: "IO failure on output stream") as a fatal error, which would
/// abort: reported as cnnc's error instead, the build directory removed.
/// A fatal-error handler may not return to LLVM, so this ends the process
/// with status 1; it is installed only while cnnc's own driver compiles a
/// library (compileModelLibrary) and removed before it returns.
static void fatalWhileBuilding(void *, const char *reason, bool) {
  std::string message = std::string("cnnc: error: writing the compiled ") +
                        "kernels in " + interruptedBuildDir +
                        " failed: " + reason + "\n";
  ssize_t ignored = write(2, message.data(), message.size());
  (void)ignored;
  removeBuildDir();
  _exit(1);
}

static void removeOnInterrupt(llvm::StringRef dir) {
  snprintf(interruptedBuildDir, sizeof interruptedBuildDir, "%s",
           dir.str().c_str());
  llvm::sys::SetInterruptFunction(removeBuildDirOnInterrupt);
  llvm::install_fatal_error_handler(fatalWhileBuilding);
}

LogicalResult cnnc::compileModelLibrary(ModuleOp module,
                                        const CodegenOptions &options,
                                        const RuntimeLocation &runtime,
                                        StringRef soPath) {
  if (failed(initParams(module, options.seed)))
    return failure();
  FailureOr<std::vector<Halide::Target>> targets =
      selectTargets(options, module);
  if (failed(targets))
    return failure();
  ModelCompiler compiler(module, options, *targets);
  if (failed(compiler.plan()))
    return failure();
  // A missing cross toolchain or a forbidden output (the model itself) is
  // reported before minutes of kernel builds.
  if (failed(findLinker(module, compiler.getPlan(), runtime)))
    return failure();
  {
    OutputTarget probe;
    std::string error = prepareOutput(
        soPath, {options.inputPath, compiler.getPlan().sourceOnnx}, probe);
    if (!error.empty())
      return module.emitError(error);
    discardOutput(probe);
  }
  llvm::SmallString<256> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("cnnc-build", dir))
    return module.emitError("cannot create a build directory: ")
           << ec.message();
  if (!options.keepIntermediates)
    removeOnInterrupt(dir);
  LogicalResult result = compiler.compileKernels(dir);
  if (succeeded(result))
    result =
        writeLibrary(module, compiler.getPlan(), options, runtime, dir, soPath);
  if (!options.keepIntermediates) {
    llvm::sys::SetInterruptFunction(nullptr);
    llvm::remove_fatal_error_handler();
    llvm::sys::fs::remove_directories(dir);
  } else {
    llvm::errs() << "cnnc: intermediate files kept in " << dir << "\n";
  }
  return result;
}

/// Plans the model (parameters' values first) and hands the planned
/// compiler to `use`: what --emit=halide and --emit=plan print.
static LogicalResult
withPlan(ModuleOp module, const CodegenOptions &options,
         llvm::function_ref<LogicalResult(ModelCompiler &)> use) {
  if (failed(initParams(module, options.seed)))
    return failure();
  FailureOr<std::vector<Halide::Target>> targets =
      selectTargets(options, module);
  if (failed(targets))
    return failure();
  ModelCompiler compiler(module, options, *targets);
  if (failed(compiler.plan()))
    return failure();
  return use(compiler);
}

LogicalResult cnnc::printHalideKernels(ModuleOp module,
                                       const CodegenOptions &options,
                                       llvm::raw_ostream &os) {
  return withPlan(module, options, [&](ModelCompiler &compiler) {
    return compiler.printKernels(os);
  });
}

LogicalResult cnnc::printModelPlan(ModuleOp module,
                                   const CodegenOptions &options,
                                   llvm::raw_ostream &os) {
  return withPlan(module, options, [&](ModelCompiler &compiler) {
    codegen::printModelPlan(compiler.getPlan(), os);
    return success();
  });
}

FailureOr<int64_t> cnnc::packedLayoutLanes(ModuleOp module,
                                           const CodegenOptions &options) {
  FailureOr<std::vector<Halide::Target>> targets =
      selectTargets(options, module);
  if (failed(targets))
    return failure();
  const Halide::Target &target = targets->front();
  if (options.schedule != ScheduleKind::Manual || target.has_gpu_feature())
    return int64_t(0);
  return int64_t(vectorMachine(target).lanes);
}
