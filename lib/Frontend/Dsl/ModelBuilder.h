//===- ModelBuilder.h - DSL statements -> cnn dialect -----------*- C++ -*-===//
//
// The semantic half of the DSL front end. The parser calls one method per
// statement; the builder resolves names, checks arguments, creates ops in
// `func @main` as it goes (so shape errors surface at the line of the layer
// that causes them) and, in finish(), creates the module-level `cnn.group`
// and `cnn.train_plan` ops once every group and the whole plan are known.
//
// A layer that fails leaves its name defined but "poisoned": later layers
// that use it fail silently instead of adding "undefined value" noise.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_FRONTEND_DSL_MODELBUILDER_H
#define CNNC_LIB_FRONTEND_DSL_MODELBUILDER_H

#include "Syntax.h"

#include "cnnc/Dialect/CNN/CNNOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace cnnc {
namespace dsl {

/// The `train { ... }` block as the parser read it. The parser checks the
/// values it can check alone; group names are resolved in finish().
struct TrainPlan {
  bool present = false;
  llvm::SMLoc loc;
  std::string loss;
  std::string optimizer;
  llvm::Optional<double> lr;
  llvm::Optional<double> momentum, weightDecay, beta1, beta2, eps;
  bool nesterov = false;
  llvm::Optional<int64_t> epochs, batch;

  struct GroupLr {
    Name group;
    double lr;
  };
  struct Unfreeze {
    Name group;
    int64_t epoch;
    llvm::SMLoc epochLoc;
  };
  std::vector<GroupLr> groupLrs;
  std::vector<Unfreeze> unfreezes;
};

/// Where a parameter group comes from.
enum class GroupOrigin {
  Block,    ///< `group NAME { layers }`
  Adopted,  ///< `group NAME = backbone.g1, backbone.g2`
  Imported, ///< a group of an ONNX backbone that keeps its name
};

struct GroupInfo {
  std::string name;
  llvm::SMLoc loc;
  bool frozen = false;
  GroupOrigin origin = GroupOrigin::Block;
  int backbone = -1; ///< For imported groups.
  /// For an imported group taken into a declared group.
  GroupInfo *absorbedInto = nullptr;
  std::vector<cnn::ParamOp> params;
  llvm::Optional<double> lr;
  llvm::Optional<int64_t> unfreezeEpoch;
};

struct BackboneInfo {
  std::string name;
  llvm::SMLoc loc;
  /// The backbone's groups by their ONNX name, in the importer's order.
  llvm::StringMap<GroupInfo *> groups;
  std::vector<std::string> groupNames;
};

/// Largest parameter the DSL creates (2^31 elements, 8 GiB of f32): far
/// beyond any CNN layer, and keeps size arithmetic clear of overflow.
constexpr int64_t kMaxParamElements = int64_t(1) << 31;

/// Largest tensor (static dimensions only) the DSL lets a layer produce:
/// 2^40 elements, so products of sizes stay far from int64 overflow.
constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

/// The candidate closest to `word` by edit distance, or "" if none is close.
std::string closestMatch(llvm::StringRef word,
                         llvm::ArrayRef<llvm::StringRef> candidates);
/// "a, b, c".
std::string joinNames(llvm::ArrayRef<std::string> names);

class ModelBuilder {
public:
  ModelBuilder(DiagReporter &diag, llvm::StringRef defaultModelName);
  ~ModelBuilder();

  void setModelName(const Name &name);
  void addInput(const Name &name, llvm::ArrayRef<int64_t> shape);
  /// `output NAME = VALUE`; for `output VALUE` both are the same.
  void addOutput(const Name &outputName, const Name &value);
  /// `NAME = op(...)`.
  void addLayer(const Name &name, const Call &call);
  /// Defines `name` as a failed layer (after a syntax error in its line).
  void poisonName(const Name &name);

  /// `group NAME [frozen] {`: layers up to endGroupBlock() belong to it.
  void beginGroupBlock(const Name &name, bool frozen);
  void endGroupBlock();
  /// `group NAME [frozen] = backbone.group, ...`.
  void adoptGroups(const Name &name, bool frozen,
                   llvm::ArrayRef<std::pair<Name, Name>> members);

  TrainPlan &getTrainPlan() { return plan; }

  /// Creates the module-level ops, checks the plan against the groups and
  /// verifies the module. Returns null when any error was reported.
  mlir::OwningOpRef<mlir::ModuleOp> finish(llvm::SMLoc endLoc);

  //===--------------------------------------------------------------------===//
  // Used by the layer builders (Layers.cpp, Backbone.cpp).
  //===--------------------------------------------------------------------===//

  DiagReporter &getDiag() { return diag; }
  mlir::OpBuilder &getBuilder() { return builder; }
  mlir::MLIRContext *getContext() { return diag.getContext(); }

  /// A parameter `<layer>.<suffix>` of the current group, with a
  /// PyTorch-style initializer.
  mlir::Value createParam(llvm::StringRef layer, llvm::StringRef suffix,
                          llvm::ArrayRef<int64_t> shape, llvm::StringRef init,
                          bool buffer, mlir::Location loc);

  /// Creates `OpTy` with its inferred result type. Returns null when shape
  /// inference fails; it has then reported the error at `loc`. (The ODS
  /// builders without result types abort the process instead.)
  template <typename OpTy>
  mlir::Value createInferred(mlir::Location loc, mlir::ValueRange operands,
                             llvm::ArrayRef<mlir::NamedAttribute> attrs) {
    llvm::SmallVector<mlir::Type, 1> types;
    auto dict = mlir::DictionaryAttr::get(getContext(), attrs);
    if (mlir::failed(OpTy::inferReturnTypes(getContext(), loc, operands, dict,
                                            /*regions=*/{}, types))) {
      diag.countError();
      return nullptr;
    }
    if (!checkTensorSize(loc, types[0], "the output of this layer"))
      return nullptr;
    return builder.create<OpTy>(loc, types, operands, attrs)->getResult(0);
  }

  /// Reports a tensor type with more than kMaxTensorElements elements (or
  /// sizes that overflowed): later size arithmetic must not overflow.
  bool checkTensorSize(mlir::Location loc, mlir::Type type,
                       llvm::StringRef what);

  /// Imports `NAME = onnx("file.onnx", input, cut_before=...)` (Backbone.cpp)
  /// and sets `backboneIndex` for the layer's name.
  mlir::Value importBackbone(const Name &name, const Call &call,
                             mlir::Location loc, int &backboneIndex);

  /// Reserves a parameter name; reports (at `loc`) one that is taken.
  bool registerParamName(llvm::StringRef name, mlir::Location loc);

  /// Looks a value up for use as a layer input. Returns false when it is
  /// undefined (after reporting it) or poisoned (silently).
  bool lookupValue(const ArgValue &ref, mlir::Value &out);

private:
  struct ValueEntry {
    mlir::Value value; ///< Null when the layer failed (poisoned).
    llvm::SMLoc loc;
    int backbone = -1; ///< Index into backbones for `onnx(...)` layers.
  };

  bool defineName(const Name &name, mlir::Value value, int backbone = -1);
  bool isDefined(llvm::StringRef name) const;
  GroupInfo *findDeclaredGroup(llvm::StringRef name);
  GroupInfo *declareGroup(const Name &name, bool frozen, GroupOrigin origin);
  void applyPlanToGroups(const llvm::StringMap<GroupInfo *> &finalGroups);
  void reportUnknownGroup(const Name &name,
                          const llvm::StringMap<GroupInfo *> &finalGroups);

  DiagReporter &diag;
  mlir::OpBuilder builder;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::FuncOp mainFunc;
  std::string modelName;
  bool modelNamed = false;

  llvm::StringMap<ValueEntry> values;
  std::vector<std::pair<std::string, mlir::Value>> outputs;
  llvm::StringMap<llvm::SMLoc> outputLocs;
  std::vector<std::string> inputNames;

  llvm::StringMap<mlir::Location> paramNames;
  std::vector<std::unique_ptr<GroupInfo>> groups;
  std::vector<std::unique_ptr<BackboneInfo>> backbones;
  GroupInfo *currentGroup = nullptr;
  TrainPlan plan;
};

/// Builds the ops of layer `name = call` (Layers.cpp). Returns null after
/// reporting an error; `backboneIndex` is set for onnx(...) layers.
mlir::Value buildLayer(ModelBuilder &builder, const Name &name,
                       const Call &call, mlir::Location loc,
                       int &backboneIndex);

} // namespace dsl
} // namespace cnnc

#endif // CNNC_LIB_FRONTEND_DSL_MODELBUILDER_H
