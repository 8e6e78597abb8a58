//===- Backbone.cpp - `NAME = onnx("model.onnx", input, ...)` -------------===//
//
// Transfer learning starts from a trained network: the ONNX importer reads
// it (cut at a named node), and its `main` is cloned into the DSL's `main`
// with its argument replaced by the DSL value. Parameters keep their ONNX
// names and the importer's groups (conv1, bn1, layer1, ...), which the DSL
// can take into its own groups (`group stem = features.conv1, features.bn1`)
// or address by name in the training plan.
//
//===----------------------------------------------------------------------===//
#include "ModelBuilder.h"

#include "cnnc/Frontend/OnnxImporter.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace cnnc;
using namespace cnnc::dsl;

/// Reads the keyword string `key` of `call` into `out`; false on error.
static bool stringArg(DiagReporter &diag, const KeywordArg &kw,
                      std::string &out) {
  if (kw.value.kind != ArgValue::Kind::String || kw.value.text.empty()) {
    diag.error(kw.value.loc)
        << "expected a node name in quotes for '" << kw.key.text
        << "', e.g. \"/fc/Gemm\", got " << kw.value.describe();
    return false;
  }
  out = kw.value.text;
  return true;
}

/// Recomputes result types after the backbone's input type changed (another
/// image size than the one it was exported with). Types that no longer fit
/// are reported by the op's own shape inference at its ONNX location.
static LogicalResult reinferTypes(Operation *op) {
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  if (!infer)
    return success();
  SmallVector<Type, 1> types;
  if (failed(infer.inferReturnTypes(op->getContext(), op->getLoc(),
                                    op->getOperands(), op->getAttrDictionary(),
                                    op->getRegions(), types)) ||
      types.size() != op->getNumResults())
    return failure();
  for (auto it : llvm::zip(op->getResults(), types))
    std::get<0>(it).setType(std::get<1>(it));
  return success();
}

Value ModelBuilder::importBackbone(const Name &name, const Call &call,
                                   Location loc, int &backboneIndex) {
  // onnx("file.onnx", input..., cut_before="node", cut_after="node",
  //      frozen=true)
  if (call.positional.empty() ||
      call.positional[0].kind != ArgValue::Kind::String) {
    diag.error(call.positional.empty() ? call.closeLoc : call.positional[0].loc)
        << "onnx(...) expects the model file first, in quotes: e.g. "
           "onnx(\"resnet18.onnx\", image, cut_before=\"/fc/Gemm\")";
    return nullptr;
  }
  const ArgValue &fileArg = call.positional[0];
  if (call.positional.size() < 2) {
    diag.error(call.closeLoc)
        << "onnx(...) needs the backbone's input after the file name: "
           "expected the name of an input or earlier layer";
    return nullptr;
  }

  bool ok = true;
  OnnxImportOptions options;
  bool frozen = false;
  for (const KeywordArg &kw : call.keywords) {
    if (kw.key.text == "cut_before") {
      ok &= stringArg(diag, kw, options.cutBefore);
    } else if (kw.key.text == "cut_after") {
      ok &= stringArg(diag, kw, options.cutAfter);
    } else if (kw.key.text == "frozen") {
      if (!kw.value.isBool()) {
        diag.error(kw.value.loc) << "expected true or false for 'frozen', got "
                                 << kw.value.describe();
        ok = false;
      }
      frozen = kw.value.text == "true";
    } else {
      diag.error(kw.key.loc)
          << "unknown argument '" << kw.key.text
          << "' of onnx: expected cut_before, cut_after or frozen";
      ok = false;
    }
  }
  if (!options.cutBefore.empty() && !options.cutAfter.empty()) {
    diag.error(call.callee.loc)
        << "onnx(...) takes cut_before or cut_after, not both";
    ok = false;
  }

  SmallVector<Value, 1> inputs;
  for (const ArgValue &arg : llvm::makeArrayRef(call.positional).drop_front()) {
    Value v;
    if (arg.kind != ArgValue::Kind::Identifier) {
      diag.error(arg.loc) << "expected the name of an input or earlier layer "
                             "as input of onnx, got "
                          << arg.describe();
      ok = false;
    } else if (!lookupValue(arg, v)) {
      ok = false;
    } else {
      inputs.push_back(v);
    }
  }
  if (!ok)
    return nullptr;

  // Paths are relative to the .cnn file, so a model directory can move.
  llvm::SmallString<256> path(fileArg.text);
  if (llvm::sys::path::is_relative(path)) {
    llvm::SmallString<256> dir(
        llvm::sys::path::parent_path(diag.getFileName()));
    llvm::sys::path::append(dir, fileArg.text);
    path = dir;
  }
  if (!llvm::sys::fs::is_regular_file(path)) {
    diag.error(fileArg.loc) << "cannot find the backbone model '"
                            << fileArg.text << "' (looked for '" << path
                            << "'): expected an ONNX file, relative paths "
                               "start at the .cnn file's directory";
    return nullptr;
  }

  OwningOpRef<ModuleOp> imported = importOnnxFile(getContext(), path, options);
  if (!imported) {
    diag.error(loc) << "cannot import backbone '" << name.text << "' from '"
                    << fileArg.text << "' (see the errors above)";
    return nullptr;
  }
  auto main = imported->lookupSymbol<FuncOp>("main");
  if (!main || main.empty()) {
    diag.error(loc) << "the ONNX importer returned no 'main' function for '"
                    << fileArg.text << "'";
    return nullptr;
  }
  if (main.getNumArguments() != inputs.size()) {
    diag.error(loc) << "backbone '" << fileArg.text << "' takes "
                    << main.getNumArguments() << " input(s), got "
                    << inputs.size();
    return nullptr;
  }
  if (main.getNumResults() != 1) {
    diag.error(loc) << "backbone '" << fileArg.text << "' has "
                    << main.getNumResults()
                    << " outputs: expected one; cut it with "
                       "cut_before=\"node\" or cut_after=\"node\"";
    return nullptr;
  }

  // Inputs must agree in rank and element type; other sizes than the
  // exported ones are accepted when every layer's shape rule allows them.
  bool reinfer = false;
  for (unsigned i = 0; i < inputs.size(); ++i) {
    Type expected = main.getArgument(i).getType();
    Type given = inputs[i].getType();
    if (expected == given)
      continue;
    auto e = expected.dyn_cast<RankedTensorType>();
    auto g = given.dyn_cast<RankedTensorType>();
    if (!e || !g || e.getRank() != g.getRank() ||
        e.getElementType() != g.getElementType()) {
      diag.error(call.positional[i + 1].loc)
          << "'" << call.positional[i + 1].text << "' has type " << given
          << " but backbone '" << fileArg.text << "' expects " << expected;
      return nullptr;
    }
    reinfer = true;
  }

  BlockAndValueMapping mapping;
  for (unsigned i = 0; i < inputs.size(); ++i)
    mapping.map(main.getArgument(i), inputs[i]);
  Block &body = main.front();
  std::vector<cnn::ParamOp> params;
  for (Operation &op : body.without_terminator()) {
    Operation *clone = builder.clone(op, mapping);
    if (reinfer && failed(reinferTypes(clone))) {
      auto d = diag.error(loc);
      d << "backbone '" << fileArg.text << "' does not accept the input type "
        << inputs[0].getType();
      if (auto node = clone->getLoc().dyn_cast<NameLoc>())
        d << ": its node '" << node.getName().getValue() << "' fails";
      d << " (see the error above)";
      return nullptr;
    }
    if (auto param = dyn_cast<cnn::ParamOp>(clone))
      params.push_back(param);
  }
  // A second copy of a backbone clashes in every name: one error says it.
  for (cnn::ParamOp param : params) {
    auto taken = paramNames.find(param.getName());
    if (taken == paramNames.end())
      continue;
    auto d = diag.error(loc);
    d << "backbone '" << name.text << "' has a parameter '" << param.getName()
      << "' and the model has one of that name already: expected unique "
         "parameter names (is the same model imported twice?)";
    d.attachNote(taken->second) << "the other '" << param.getName() << "'";
    return nullptr;
  }
  for (cnn::ParamOp param : params)
    registerParamName(param.getName(), loc);
  Value result = mapping.lookupOrNull(body.getTerminator()->getOperand(0));
  if (!result) {
    diag.error(loc) << "backbone '" << fileArg.text
                    << "' returns a value it does not compute";
    return nullptr;
  }

  // The backbone's groups, in the importer's order, with the parameters now
  // in our function.
  auto backbone = std::make_unique<BackboneInfo>();
  backbone->name = name.text;
  backbone->loc = name.loc;
  llvm::StringMap<bool> importerFrozen;
  std::vector<std::string> order;
  for (auto group : imported->getOps<cnn::GroupOp>()) {
    order.push_back(group.getSymName().str());
    importerFrozen[group.getSymName()] = group.getFrozen();
  }
  llvm::StringMap<std::vector<cnn::ParamOp>> byGroup;
  for (cnn::ParamOp param : params) {
    auto group = param.getGroupAttr();
    if (!group) {
      // Not addressable by the plan: frozen with the backbone or never.
      if (frozen)
        param.setFrozenAttr(builder.getUnitAttr());
      continue;
    }
    if (!byGroup.count(group.getValue()) &&
        !importerFrozen.count(group.getValue()))
      order.push_back(group.getValue().str());
    byGroup[group.getValue()].push_back(param);
  }
  backboneIndex = backbones.size();
  for (const std::string &groupName : order) {
    auto it = byGroup.find(groupName);
    if (it == byGroup.end())
      continue; // cut away with the layers that used it
    auto group = std::make_unique<GroupInfo>();
    group->name = groupName;
    group->loc = name.loc;
    group->frozen = frozen || importerFrozen.lookup(groupName);
    group->origin = GroupOrigin::Imported;
    group->backbone = backboneIndex;
    group->params = std::move(it->second);
    backbone->groups[groupName] = group.get();
    backbone->groupNames.push_back(groupName);
    groups.push_back(std::move(group));
  }
  backbones.push_back(std::move(backbone));
  return result;
}
