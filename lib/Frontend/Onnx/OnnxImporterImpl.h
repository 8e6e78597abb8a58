//===- OnnxImporterImpl.h - internals of the ONNX importer ------*- C++ -*-===//
//
// The importer works in three stages, one file each:
//  - OnnxModel.cpp reads and validates the protobuf (sizes, tensor data,
//    external data, topological order, onnx::checker, shape inference), so
//    that later stages can trust every tensor and name they see;
//  - ShapeEval.cpp evaluates at import time what PyTorch exports as shape
//    arithmetic (Shape, Gather, Concat, Slice...), keeping a dynamic batch
//    dimension symbolic;
//  - OnnxOps.cpp turns the remaining nodes into `cnn` ops;
// OnnxImporter.cpp drives them and builds the module.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_FRONTEND_ONNX_ONNXIMPORTERIMPL_H
#define CNNC_LIB_FRONTEND_ONNX_ONNXIMPORTERIMPL_H

#include "cnnc/Frontend/OnnxImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace cnnc {
namespace onnximport {

/// Opsets whose semantics the importer implements. Opset 6 is accepted
/// because most of PyTorch's older exports (and ONNX's pytorch-converted test
/// models) use it; its one difference that matters here, the legacy
/// `broadcast`/`axis` attributes of Add/Sub/Mul/Div, is handled.
constexpr int64_t kMinOpset = 6;
constexpr int64_t kMaxOpset = 17;
/// Older opsets are accepted for the graphs whose every operator has the
/// definition it has at kMinOpset (GlobalAveragePool, Softplus, ... have
/// not changed since opset 1): the importer then reads them as at opset 6.
constexpr int64_t kMinLegacyOpset = 1;

/// No tensor of the imported graph may have more elements than this (2^34
/// floats are 64 GiB); it keeps all shape arithmetic, here and in the cnn
/// dialect's shape rules, far from int64 overflow.
constexpr int64_t kMaxTensorElements = int64_t(1) << 34;
/// Bound on sizes, pads, strides and dilations given by attributes or shape
/// inputs, for the same reason.
constexpr int64_t kMaxShapeValue = int64_t(1) << 31;

/// Tensors computed at import time (ConstantOfShape, broadcasts) may not grow
/// beyond this many elements: they are shape data, not weights, and a hostile
/// shape must not make the importer allocate gigabytes.
constexpr int64_t kMaxComputedElements = int64_t(1) << 22;

/// Lets `return fail(emitError(loc) << ...)` report an error from a function
/// returning FailureOr: MLIR 14 converts a diagnostic only to LogicalResult.
inline mlir::LogicalResult fail(const mlir::InFlightDiagnostic &diag) {
  return diag;
}

//===----------------------------------------------------------------------===//
// Loading (OnnxModel.cpp)
//===----------------------------------------------------------------------===//

/// A model that passed validation: every tensor's data matches its dims and
/// lies in the proto (external data inlined), and the graph's nodes are
/// sorted topologically.
struct LoadedModel {
  onnx::ModelProto proto;
  /// Index in the file of each (sorted) node, for the names of unnamed nodes.
  std::vector<int> originalIndex;
  /// Opset of the default (ai.onnx) domain.
  int64_t opset = 0;
};

/// Reads `path`, validates it as described above, and runs onnx::checker.
/// Emits diagnostics at `fileLoc` and fails on any problem.
mlir::LogicalResult loadModel(mlir::Location fileLoc, llvm::StringRef path,
                              const OnnxImportOptions &options,
                              LoadedModel &model);

/// Runs libonnx's shape inference over the nodes the importer imported
/// (`nodes`, indices into the graph), as a cross-check of cnnc's own shapes.
/// Its per-op functions trust attributes and ranks (strides of 0 divide by
/// zero, a rank-1 ConvTranspose weight is read out of bounds), so it runs
/// only after the importer has checked those nodes by cnnc's rules, and
/// never on nodes cnnc skipped (dead ones, those past a cut), which nothing
/// has checked. Leaves `model` holding only those nodes: call it last.
mlir::LogicalResult inferShapes(mlir::Location fileLoc, LoadedModel &model,
                                llvm::ArrayRef<int> nodes);

/// A node's name for diagnostics and locations: its own, or
/// "<OpType>_<index in the file>" when it has none.
std::string nodeDisplayName(const onnx::NodeProto &node, int index);
/// Number of elements of a validated tensor.
int64_t numElements(const onnx::TensorProto &tensor);
/// Human-readable name of an ONNX element type ("FLOAT", "INT64"...).
std::string dataTypeName(int32_t type);
bool isFloatType(int32_t type);
bool isIntegerType(int32_t type);
/// Decodes a validated float tensor (FLOAT or DOUBLE) into f32.
mlir::LogicalResult decodeFloats(const onnx::TensorProto &tensor,
                                 std::vector<float> &out);
/// Decodes a validated integer or boolean tensor into int64.
mlir::LogicalResult decodeInts(const onnx::TensorProto &tensor,
                               std::vector<int64_t> &out);

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

/// One integer of a shape computation. PyTorch computes `x.size(0)` with
/// Shape + Gather; on a dynamic batch its value is only known at run time, so
/// it is kept as "dimension `dim` of runtime value `source`".
struct SymInt {
  enum class Kind { Known, Dim, Unknown };
  Kind kind = Kind::Known;
  int64_t value = 0;
  mlir::Value source;
  unsigned dim = 0;

  static SymInt known(int64_t v) { return {Kind::Known, v, {}, 0}; }
  static SymInt dimOf(mlir::Value v, unsigned d) {
    return {Kind::Dim, 0, v, d};
  }
  static SymInt unknown() { return {Kind::Unknown, 0, {}, 0}; }
  bool isKnown() const { return kind == Kind::Known; }
};

/// A tensor whose contents are known at import time: an initializer, a
/// Constant, or the result of shape arithmetic.
struct StaticTensor {
  bool isFloat = false;
  llvm::SmallVector<int64_t, 4> shape;
  /// Elements of an integer tensor.
  std::vector<SymInt> ints;
  /// Elements of a float tensor, unless `initializer` holds them.
  std::vector<float> floats;
  /// A float initializer whose data is decoded only when it is used: most
  /// initializers are weights that go straight into a `cnn.param`.
  const onnx::TensorProto *initializer = nullptr;
  /// Non-empty when this tensor is a weight: its `cnn.param` name.
  std::string paramName;

  int64_t numElements() const;
  bool allKnown() const;
};

using StaticTensorRef = std::shared_ptr<const StaticTensor>;

/// What an ONNX tensor name stands for during import.
struct OnnxValue {
  /// An f32 tensor computed at run time (or a materialized param/constant).
  mlir::Value runtime;
  /// Set instead of `runtime` when the value is known at import time.
  StaticTensorRef constant;

  bool isStatic() const { return !runtime; }
};

//===----------------------------------------------------------------------===//
// The graph walk (OnnxImporter.cpp), ops (OnnxOps.cpp), shapes (ShapeEval.cpp)
//===----------------------------------------------------------------------===//

/// The node being converted, with the location every op it creates gets.
struct NodeRef {
  const onnx::NodeProto &proto;
  mlir::Location loc;
  llvm::StringRef opType() const { return proto.op_type(); }
  int numInputs() const { return proto.input_size(); }
  /// True when optional input `i` is given (present and non-empty).
  bool hasInput(int i) const {
    return i < proto.input_size() && !proto.input(i).empty();
  }
  bool hasOutput(int i) const {
    return i < proto.output_size() && !proto.output(i).empty();
  }
};

/// Whether `opType` (default domain) is imported at all.
bool isSupportedOpType(llvm::StringRef opType);
/// Ops that only ShapeEval.cpp implements: their inputs must be static.
bool isStaticOnlyOpType(llvm::StringRef opType);
/// The ops converted only when every input is known at import time.
llvm::ArrayRef<const char *> staticOnlyOpTypes();

class Importer {
public:
  Importer(mlir::MLIRContext *context, const LoadedModel &model,
           llvm::StringRef path, const OnnxImportOptions &options);

  mlir::OwningOpRef<mlir::ModuleOp> run();

  //--- Services for the converters ------------------------------------------
  mlir::MLIRContext *context;
  mlir::OpBuilder builder;
  int64_t opset;

  enum class ValueKind { Runtime, Static, Weight };
  /// What tensor `name` is, without converting it (no diagnostics).
  ValueKind kindOf(llvm::StringRef name);
  /// The value of tensor `name`; initializers are converted on first use.
  mlir::FailureOr<OnnxValue> lookup(mlir::Location loc, llvm::StringRef name);
  /// The elements of a static float tensor (decoding an initializer).
  mlir::FailureOr<std::vector<float>> floatsOf(mlir::Location loc,
                                               const StaticTensor &tensor);
  /// Input `i` of the node; fails (with a diagnostic) when it is absent.
  mlir::FailureOr<OnnxValue> getInput(const NodeRef &node, int i);
  /// Input `i` as an f32 runtime value: a static float tensor becomes a
  /// `cnn.param` (weights) or a `cnn.constant`. `isBuffer` marks running
  /// statistics.
  mlir::FailureOr<mlir::Value> getRuntimeInput(const NodeRef &node, int i,
                                               bool isBuffer = false);
  /// Input `i`, which must be known at import time.
  mlir::FailureOr<StaticTensorRef> getStaticInput(const NodeRef &node, int i,
                                                  llvm::StringRef what);
  /// Input `i` as a list of known integers (a 0-D or 1-D static tensor).
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  getKnownInts(const NodeRef &node, int i, llvm::StringRef what);
  /// Integers that an op took as attribute `name` before opset
  /// `inputSince` and as its optional input `i` (known at import time)
  /// since (Squeeze's axes, Split's sizes, ...); None when absent.
  mlir::FailureOr<llvm::Optional<llvm::SmallVector<int64_t>>>
  getIntsAttrOrInput(const NodeRef &node, llvm::StringRef name, int i,
                     int64_t inputSince);
  /// Input `i` as one float (a static scalar or one-element tensor).
  mlir::FailureOr<float> getScalarFloat(const NodeRef &node, int i,
                                        llvm::StringRef what);
  void setOutput(const NodeRef &node, int i, OnnxValue value);
  void setOutput(const NodeRef &node, int i, mlir::Value value) {
    setOutput(node, i, OnnxValue{value, nullptr});
  }
  void setOutput(const NodeRef &node, int i, StaticTensor tensor) {
    setOutput(node, i,
              OnnxValue{{}, std::make_shared<StaticTensor>(std::move(tensor))});
  }
  /// Fails when an optional output that the importer does not model (a
  /// pooling index, a dropout mask) is used by the imported graph.
  mlir::LogicalResult checkOutputUnused(const NodeRef &node, int i,
                                        llvm::StringRef what);

  /// Creates `OpTy` after inferring its result type. The ODS builders would
  /// call report_fatal_error on a shape error; this reports it at the node.
  template <typename OpTy>
  mlir::FailureOr<mlir::Value>
  create(mlir::Location loc, mlir::ValueRange operands,
         llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    return createInferred(loc, OpTy::getOperationName(), operands, attrs,
                          &OpTy::inferReturnTypes);
  }

  /// Reshapes a runtime value to `shape` (kDynamicSize where dynamic) with a
  /// `cnn.reshape` whose target keeps dynamic dimensions symbolic.
  mlir::FailureOr<mlir::Value> reshapeTo(mlir::Location loc, mlir::Value input,
                                         llvm::ArrayRef<int64_t> shape);
  /// The shape `rhs` of an Add/Sub/Mul/Div must take so that NumPy
  /// broadcasting against a rank-`lhsRank` lhs matches the node's semantics:
  /// before opset 7, `broadcast = 1` with `axis` aligns rhs at that axis.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  broadcastRhsShape(const NodeRef &node, int64_t lhsRank,
                    llvm::ArrayRef<int64_t> rhs);
  /// ONNX Slice's bounds (attributes before opset 10, inputs known at
  /// import time after) resolved for an input of `shape` with ONNX's
  /// clamping: per axis the first index, the step and the output extent. A
  /// dynamic axis can only be taken whole.
  mlir::LogicalResult resolveSlice(const NodeRef &node,
                                   llvm::ArrayRef<int64_t> shape,
                                   llvm::SmallVectorImpl<int64_t> &begin,
                                   llvm::SmallVectorImpl<int64_t> &step,
                                   llvm::SmallVectorImpl<int64_t> &outShape);
  /// Transpose's `perm` (default: the axes reversed), checked.
  mlir::FailureOr<llvm::SmallVector<int64_t>> resolvePerm(const NodeRef &node,
                                                          int64_t rank);
  /// Resolves a shape computed at import time into a `cnn.reshape` target
  /// (ONNX rules: 0 copies the input's dimension, -1 is inferred).
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  resolveReshapeTarget(const NodeRef &node, mlir::Value input,
                       const std::vector<SymInt> &target);

  //--- Attributes -----------------------------------------------------------
  const onnx::AttributeProto *findAttr(const NodeRef &node,
                                       llvm::StringRef name);
  mlir::FailureOr<int64_t> getIntAttr(const NodeRef &node, llvm::StringRef name,
                                      int64_t defaultValue);
  mlir::FailureOr<float> getFloatAttr(const NodeRef &node, llvm::StringRef name,
                                      float defaultValue);
  mlir::FailureOr<std::string> getStringAttr(const NodeRef &node,
                                             llvm::StringRef name,
                                             llvm::StringRef defaultValue);
  /// Returns None when the attribute is absent.
  mlir::FailureOr<llvm::Optional<llvm::SmallVector<int64_t>>>
  getIntsAttr(const NodeRef &node, llvm::StringRef name);

  /// Converts a TensorProto (initializer or attribute) into a static tensor.
  mlir::FailureOr<StaticTensor> tensorFromProto(mlir::Location loc,
                                                const onnx::TensorProto &proto);

  //--- Converters -----------------------------------------------------------
  /// OnnxOps.cpp: converts a node into `cnn` ops.
  mlir::LogicalResult convertRuntimeNode(const NodeRef &node);
  /// ShapeEval.cpp: evaluates a node whose inputs are all static.
  mlir::LogicalResult evaluateStaticNode(const NodeRef &node);
  /// ShapeEval.cpp: whether `node` should be evaluated at import time.
  bool shouldEvaluateStatically(const NodeRef &node);

private:
  using InferFn = mlir::LogicalResult (*)(mlir::MLIRContext *,
                                          llvm::Optional<mlir::Location>,
                                          mlir::ValueRange,
                                          mlir::DictionaryAttr,
                                          mlir::RegionRange,
                                          llvm::SmallVectorImpl<mlir::Type> &);
  mlir::FailureOr<mlir::Value>
  createInferred(mlir::Location loc, llvm::StringRef opName,
                 mlir::ValueRange operands,
                 llvm::ArrayRef<mlir::NamedAttribute> attrs, InferFn infer);

  /// A static float tensor as a runtime value: a `cnn.param` when it is a
  /// weight, else a `cnn.constant`. `consumerName` picks the param's group.
  mlir::FailureOr<mlir::Value> materialize(mlir::Location loc,
                                           llvm::StringRef consumerName,
                                           const StaticTensor &tensor,
                                           bool isBuffer);
  std::string groupFor(llvm::StringRef paramName, llvm::StringRef consumerName);
  mlir::LogicalResult defineGraphInputs(llvm::SmallVectorImpl<mlir::Type> &,
                                        bool onlyUsed);
  mlir::LogicalResult
  selectNodes(llvm::SmallVectorImpl<std::string> &resultNames,
              std::vector<int> &nodes, const onnx::NodeProto *&cutBeforeNode);
  mlir::LogicalResult reportUnsupported(llvm::ArrayRef<int> nodes);
  NodeRef nodeRef(int index);

public:
  /// The graph's nodes run() imported (after it succeeded).
  const std::vector<int> &importedNodes() const { return imported; }

private:
  std::vector<int> imported;

  const LoadedModel &model;
  const onnx::GraphProto &graph;
  std::string path;
  const OnnxImportOptions &options;
  mlir::Location fileLoc;

  llvm::StringMap<OnnxValue> values;
  /// Names of the tensors that the imported nodes or results read.
  llvm::StringSet<> usedNames;
  llvm::StringMap<mlir::Value> params;
  /// Parameter groups in order of first use.
  llvm::SetVector<std::string, std::vector<std::string>, std::set<std::string>>
      groups;
  /// Graph inputs that become function arguments, in order.
  std::vector<const onnx::ValueInfoProto *> argInputs;
  llvm::StringMap<const onnx::TensorProto *> initializers;
};

} // namespace onnximport
} // namespace cnnc

#endif // CNNC_LIB_FRONTEND_ONNX_ONNXIMPORTERIMPL_H
