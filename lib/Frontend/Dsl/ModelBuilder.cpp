//===- ModelBuilder.cpp - DSL statements -> cnn dialect -------------------===//
//
// Names, groups, the training plan and the final module. The layer types
// live in Layers.cpp and the ONNX backbone in Backbone.cpp.
//
//===----------------------------------------------------------------------===//
#include "ModelBuilder.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include <cstdio>

using namespace mlir;
using namespace cnnc;
using namespace cnnc::dsl;

//===----------------------------------------------------------------------===//
// DiagReporter and the syntax helpers
//===----------------------------------------------------------------------===//

DiagReporter::DiagReporter(MLIRContext *context, llvm::SourceMgr &sourceMgr)
    : context(context), sourceMgr(sourceMgr),
      bufferId(sourceMgr.getMainFileID()),
      fileName(sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())
                   ->getBufferIdentifier()) {}

Location DiagReporter::getLoc(llvm::SMLoc loc) const {
  auto lineCol = sourceMgr.getLineAndColumn(loc, bufferId);
  return FileLineColLoc::get(context, fileName, lineCol.first, lineCol.second);
}

InFlightDiagnostic DiagReporter::error(llvm::SMLoc loc) {
  return error(getLoc(loc));
}

InFlightDiagnostic DiagReporter::error(Location loc) {
  // Past the limit an error is counted, not reported: a file of a million
  // bad arguments must not print a million messages (an abandoned
  // diagnostic still takes `<<` and notes, and reports nothing).
  bool over = tooManyErrors();
  ++numErrors;
  InFlightDiagnostic d = emitError(loc);
  if (over)
    d.abandon();
  return d;
}

InFlightDiagnostic DiagReporter::warning(llvm::SMLoc loc) {
  return emitWarning(getLoc(loc));
}

std::string ArgValue::describe() const {
  switch (kind) {
  case Kind::Integer:
    return "integer " + std::to_string(intValue);
  case Kind::Float:
    return "number " + formatNumber(floatValue);
  case Kind::Identifier:
    return "name '" + text + "'";
  case Kind::String:
    return "string \"" + text + "\"";
  case Kind::List:
    return "list of " + std::to_string(elements.size()) + " elements";
  }
  return "value";
}

std::string dsl::formatNumber(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", x);
  return buffer;
}

std::string dsl::closestMatch(llvm::StringRef word,
                              llvm::ArrayRef<llvm::StringRef> candidates) {
  std::string best;
  unsigned bestDistance = ~0u;
  for (llvm::StringRef c : candidates) {
    unsigned d = word.edit_distance(c, /*AllowReplacements=*/true);
    // Suggest only near misses: one typo in a short word (two, such as a
    // swap of letters, from four letters on), a third of a long one.
    size_t allowed =
        std::max<size_t>(word.size() >= 4 ? 2 : 1, word.size() / 3);
    if (d < bestDistance && d <= allowed) {
      bestDistance = d;
      best = c.str();
    }
  }
  return best;
}

std::string dsl::joinNames(llvm::ArrayRef<std::string> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i)
      out += ", ";
    out += names[i];
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

ModelBuilder::ModelBuilder(DiagReporter &diag, llvm::StringRef defaultModelName)
    : diag(diag), builder(diag.getContext()), modelName(defaultModelName) {
  MLIRContext *ctx = diag.getContext();
  Location fileLoc = FileLineColLoc::get(ctx, diag.getFileName(), 1, 1);
  module = ModuleOp::create(fileLoc);
  // The signature is known only at the end: inputs add block arguments as
  // they are declared, finish() sets the function type.
  mainFunc = FuncOp::create(fileLoc, "main", FunctionType::get(ctx, {}, {}));
  module->push_back(mainFunc);
  builder.setInsertionPointToEnd(mainFunc.addEntryBlock());
}

ModelBuilder::~ModelBuilder() = default;

void ModelBuilder::setModelName(const Name &name) {
  if (modelNamed) {
    diag.error(name.loc) << "the model is already named '" << modelName
                         << "': expected one 'model' statement";
    return;
  }
  modelNamed = true;
  modelName = name.text;
}

bool ModelBuilder::defineName(const Name &name, Value value, int backbone) {
  auto it = values.find(name.text);
  if (it != values.end()) {
    auto d = diag.error(name.loc);
    d << "redefinition of '" << name.text
      << "': expected a new name for this layer";
    d.attachNote(diag.getLoc(it->second.loc))
        << "previous definition of '" << name.text << "' is here";
    return false;
  }
  values[name.text] = ValueEntry{value, name.loc, backbone};
  return true;
}

bool ModelBuilder::isDefined(llvm::StringRef name) const {
  return values.count(name);
}

bool ModelBuilder::lookupValue(const ArgValue &ref, Value &out) {
  auto it = values.find(ref.text);
  if (it == values.end()) {
    std::vector<llvm::StringRef> known;
    for (auto &entry : values)
      known.push_back(entry.getKey());
    std::string hint = closestMatch(ref.text, known);
    auto d = diag.error(ref.loc);
    d << "use of undefined value '" << ref.text
      << "': expected the name of an input or of an earlier layer";
    if (!hint.empty())
      d << " (did you mean '" << hint << "'?)";
    return false;
  }
  out = it->second.value;
  return static_cast<bool>(out);
}

bool ModelBuilder::checkTensorSize(Location loc, Type type,
                                   llvm::StringRef what) {
  auto shaped = type.dyn_cast<ShapedType>();
  if (!shaped || !shaped.hasRank())
    return true;
  int64_t elements = 1;
  for (int64_t d : shaped.getShape()) {
    if (d == ShapedType::kDynamicSize)
      continue;
    if (d < 0 || (d > 0 && elements > kMaxTensorElements / d)) {
      diag.error(loc) << what << " would be too large (" << type
                      << "): expected at most " << kMaxTensorElements
                      << " elements";
      return false;
    }
    elements *= d;
  }
  return true;
}

void ModelBuilder::addInput(const Name &name, llvm::ArrayRef<int64_t> shape) {
  Type type = RankedTensorType::get(shape, builder.getF32Type());
  if (!checkTensorSize(diag.getLoc(name.loc), type,
                       "input '" + name.text + "'")) {
    poisonName(name);
    inputNames.push_back(name.text);
    return;
  }
  Block &body = mainFunc.front();
  Value arg = body.addArgument(type, diag.getLoc(name.loc));
  if (defineName(name, arg))
    inputNames.push_back(name.text);
  else
    inputNames.push_back(name.text + ".dup"); // keeps indices aligned
}

void ModelBuilder::addOutput(const Name &outputName, const Name &valueName) {
  ArgValue ref;
  ref.kind = ArgValue::Kind::Identifier;
  ref.text = valueName.text;
  ref.loc = valueName.loc;
  if (outputLocs.count(outputName.text)) {
    diag.error(outputName.loc)
        << "duplicate output '" << outputName.text
        << "': expected a new output name (write 'output NEW = "
        << valueName.text << "')";
    return;
  }
  outputLocs[outputName.text] = outputName.loc;
  Value value;
  if (!lookupValue(ref, value))
    return;
  outputs.emplace_back(outputName.text, value);
}

void ModelBuilder::addLayer(const Name &name, const Call &call) {
  if (isDefined(name.text)) {
    defineName(name, nullptr); // reports the redefinition
    return;
  }
  // The layer's name becomes the NameLoc the model summary shows.
  Location loc =
      NameLoc::get(builder.getStringAttr(name.text), diag.getLoc(name.loc));
  int backbone = -1;
  Value result = buildLayer(*this, name, call, loc, backbone);
  defineName(name, result, backbone);
}

void ModelBuilder::poisonName(const Name &name) {
  if (!isDefined(name.text))
    values[name.text] = ValueEntry{nullptr, name.loc, -1};
}

GroupInfo *ModelBuilder::findDeclaredGroup(llvm::StringRef name) {
  for (auto &g : groups)
    if (g->origin != GroupOrigin::Imported && g->name == name)
      return g.get();
  return nullptr;
}

GroupInfo *ModelBuilder::declareGroup(const Name &name, bool frozen,
                                      GroupOrigin origin) {
  if (GroupInfo *previous = findDeclaredGroup(name.text)) {
    auto d = diag.error(name.loc);
    d << "redefinition of group '" << name.text
      << "': expected a new group name (a group is declared once)";
    d.attachNote(diag.getLoc(previous->loc))
        << "group '" << name.text << "' is declared here";
    return nullptr;
  }
  auto group = std::make_unique<GroupInfo>();
  group->name = name.text;
  group->loc = name.loc;
  group->frozen = frozen;
  group->origin = origin;
  groups.push_back(std::move(group));
  return groups.back().get();
}

void ModelBuilder::beginGroupBlock(const Name &name, bool frozen) {
  currentGroup = declareGroup(name, frozen, GroupOrigin::Block);
}

void ModelBuilder::endGroupBlock() { currentGroup = nullptr; }

void ModelBuilder::adoptGroups(const Name &name, bool frozen,
                               llvm::ArrayRef<std::pair<Name, Name>> members) {
  GroupInfo *group = declareGroup(name, frozen, GroupOrigin::Adopted);
  if (!group)
    return;
  auto symbol = FlatSymbolRefAttr::get(builder.getContext(), name.text);
  for (const auto &member : members) {
    const Name &backboneName = member.first, &groupName = member.second;
    auto it = values.find(backboneName.text);
    if (it == values.end()) {
      diag.error(backboneName.loc)
          << "unknown backbone '" << backboneName.text
          << "': expected the name of an earlier onnx(...) layer";
      continue;
    }
    if (!it->second.value)
      continue; // the import failed and was reported
    if (it->second.backbone < 0) {
      diag.error(backboneName.loc)
          << "'" << backboneName.text
          << "' is not a backbone: expected the name of an onnx(...) layer, "
             "whose parameter groups can be taken into a group";
      continue;
    }
    BackboneInfo &backbone = *backbones[it->second.backbone];
    auto found = backbone.groups.find(groupName.text);
    if (found == backbone.groups.end()) {
      diag.error(groupName.loc)
          << "backbone '" << backbone.name << "' has no group '"
          << groupName.text << "': expected one of "
          << joinNames(backbone.groupNames);
      continue;
    }
    GroupInfo *imported = found->second;
    if (imported->absorbedInto) {
      diag.error(groupName.loc)
          << "group '" << backbone.name << "." << groupName.text
          << "' is already part of group '" << imported->absorbedInto->name
          << "': expected each backbone group in one group";
      continue;
    }
    imported->absorbedInto = group;
    // A group that takes in groups of a frozen backbone stays frozen.
    group->frozen |= imported->frozen;
    for (cnn::ParamOp param : imported->params) {
      param.setGroupAttr(symbol);
      group->params.push_back(param);
    }
    imported->params.clear();
  }
}

/// Parameter names are the keys of checkpoints and of `--freeze`, so two
/// parameters must not share one (a layer `conv1` next to a backbone that
/// has a `conv1.weight`, say).
bool ModelBuilder::registerParamName(llvm::StringRef name, Location loc) {
  auto inserted = paramNames.try_emplace(name, loc);
  if (inserted.second)
    return true;
  auto d = diag.error(loc);
  d << "parameter name '" << name
    << "' is taken: expected unique parameter names (rename the layer)";
  d.attachNote(inserted.first->second) << "'" << name << "' is defined here";
  return false;
}

Value ModelBuilder::createParam(llvm::StringRef layer, llvm::StringRef suffix,
                                llvm::ArrayRef<int64_t> shape,
                                llvm::StringRef init, bool buffer,
                                Location layerLoc) {
  std::string name = (layer + "." + suffix).str();
  Location fileLoc = layerLoc;
  if (auto nameLoc = layerLoc.dyn_cast<NameLoc>())
    fileLoc = nameLoc.getChildLoc();
  // Sizes are checked one by one; their product must stay far from int64
  // overflow as later stages multiply it further.
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d <= 0 || elements > kMaxParamElements / d) {
      diag.error(fileLoc) << "parameter '" << name
                          << "' would have too many elements: expected at "
                             "most "
                          << kMaxParamElements;
      return nullptr;
    }
    elements *= d;
  }
  if (!registerParamName(name, fileLoc))
    return nullptr;
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  FlatSymbolRefAttr group;
  if (currentGroup)
    group = FlatSymbolRefAttr::get(builder.getContext(), currentGroup->name);
  auto param = builder.create<cnn::ParamOp>(
      NameLoc::get(builder.getStringAttr(name), fileLoc), type,
      builder.getStringAttr(name), /*value=*/ElementsAttr(),
      builder.getStringAttr(init), group,
      /*frozen=*/UnitAttr(), buffer ? builder.getUnitAttr() : UnitAttr());
  if (currentGroup)
    currentGroup->params.push_back(param);
  return param;
}

//===----------------------------------------------------------------------===//
// finish(): groups, plan, signature, verification
//===----------------------------------------------------------------------===//

void ModelBuilder::reportUnknownGroup(
    const Name &name, const llvm::StringMap<GroupInfo *> &finalGroups) {
  std::vector<std::string> names;
  std::vector<llvm::StringRef> refs;
  for (auto &g : groups)
    if (finalGroups.count(g->name) && finalGroups.lookup(g->name) == g.get()) {
      names.push_back(g->name);
      refs.push_back(g->name);
    }
  auto d = diag.error(name.loc);
  d << "unknown group '" << name.text << "' in the training plan: expected ";
  if (names.empty()) {
    d << "a group declared with 'group', but the model has none";
    return;
  }
  d << "one of " << joinNames(names);
  std::string hint = closestMatch(name.text, refs);
  if (!hint.empty())
    d << " (did you mean '" << hint << "'?)";
}

/// Applies the plan's per-group settings. Unknown groups and unfreezing a
/// group that is not frozen are errors at the plan's line.
void ModelBuilder::applyPlanToGroups(
    const llvm::StringMap<GroupInfo *> &finalGroups) {
  llvm::StringMap<llvm::SMLoc> lrSeen, unfreezeSeen;
  auto applyLr = [&](const TrainPlan::GroupLr &entry) {
    GroupInfo *group = finalGroups.lookup(entry.group.text);
    if (!group) {
      reportUnknownGroup(entry.group, finalGroups);
      return;
    }
    if (!lrSeen.try_emplace(entry.group.text, entry.group.loc).second) {
      diag.error(entry.group.loc)
          << "learning rate of group '" << entry.group.text
          << "' is already set: expected one 'lr " << entry.group.text
          << " = ...' line";
      return;
    }
    group->lr = entry.lr;
  };
  auto applyUnfreeze = [&](const TrainPlan::Unfreeze &entry) {
    GroupInfo *group = finalGroups.lookup(entry.group.text);
    if (!group) {
      reportUnknownGroup(entry.group, finalGroups);
      return;
    }
    if (!unfreezeSeen.try_emplace(entry.group.text, entry.group.loc).second) {
      diag.error(entry.group.loc)
          << "group '" << entry.group.text
          << "' is already unfrozen at another epoch: expected one unfreeze "
             "epoch per group";
      return;
    }
    if (!group->frozen) {
      auto d = diag.error(entry.group.loc);
      d << "cannot unfreeze group '" << entry.group.text
        << "': it is not frozen (expected a group declared 'frozen'";
      if (group->origin == GroupOrigin::Imported)
        d << " or a backbone imported with frozen=true";
      d << ")";
      d.attachNote(diag.getLoc(group->loc))
          << "group '" << group->name << "' is declared here";
      return;
    }
    if (plan.epochs && entry.epoch > *plan.epochs)
      diag.warning(entry.epochLoc)
          << "group '" << entry.group.text << "' is unfrozen at epoch "
          << entry.epoch << " but the plan trains " << *plan.epochs
          << " epochs: it stays frozen";
    group->unfreezeEpoch = entry.epoch;
  };
  // In the order of the plan's lines, so errors come in source order.
  size_t l = 0, u = 0;
  while (l < plan.groupLrs.size() || u < plan.unfreezes.size()) {
    bool lrFirst = u == plan.unfreezes.size() ||
                   (l < plan.groupLrs.size() &&
                    plan.groupLrs[l].group.loc.getPointer() <
                        plan.unfreezes[u].group.loc.getPointer());
    if (lrFirst)
      applyLr(plan.groupLrs[l++]);
    else
      applyUnfreeze(plan.unfreezes[u++]);
  }
}

OwningOpRef<ModuleOp> ModelBuilder::finish(llvm::SMLoc endLoc) {
  MLIRContext *ctx = builder.getContext();
  // A missing input or output after other errors is usually their echo.
  if (diag.getNumErrors() == 0) {
    if (inputNames.empty())
      diag.error(endLoc) << "the model has no input: expected a line "
                            "'input NAME: [N, C, H, W]'";
    if (outputLocs.empty())
      diag.error(endLoc)
          << "the model has no output: expected a line 'output NAME'";
  }

  // The groups of the module: the declared ones, and those a backbone
  // brought along that no declared group took in (they keep their names).
  llvm::StringMap<GroupInfo *> finalGroups;
  std::vector<GroupInfo *> ordered;
  for (auto &entry : groups) {
    GroupInfo *g = entry.get();
    // A group that takes in backbone groups sits where its first member
    // was, so the stem comes before layer1 as in the network.
    if (g->absorbedInto)
      g = g->absorbedInto;
    if (finalGroups.lookup(g->name) == g)
      continue;
    if (g->origin == GroupOrigin::Imported) {
      BackboneInfo &backbone = *backbones[g->backbone];
      if (GroupInfo *declared = findDeclaredGroup(g->name)) {
        auto d = diag.error(backbone.loc);
        d << "backbone '" << backbone.name << "' has a group '" << g->name
          << "' and a group of that name is declared too: expected 'group "
          << g->name << " = " << backbone.name << "." << g->name
          << "' to take it in, or another name";
        d.attachNote(diag.getLoc(declared->loc))
            << "group '" << g->name << "' is declared here";
        continue;
      }
      if (finalGroups.count(g->name)) {
        diag.error(backbone.loc)
            << "two backbones have a group '" << g->name
            << "': expected 'group NEWNAME = " << backbone.name << "."
            << g->name << "' to rename one";
        continue;
      }
    }
    finalGroups[g->name] = g;
    ordered.push_back(g);
  }

  // The parser has checked the plan's own settings.
  if (plan.present)
    applyPlanToGroups(finalGroups);
  if (diag.getNumErrors())
    return nullptr;

  builder.setInsertionPoint(mainFunc);
  for (GroupInfo *g : ordered) {
    if (g->params.empty() && g->origin == GroupOrigin::Block)
      diag.warning(g->loc) << "group '" << g->name
                           << "' has no parameters (only layers with "
                              "weights, such as conv2d, belong to a group)";
    // A group frozen for the whole plan has constant parameters; a group
    // unfrozen later has parameters that train from that epoch on.
    if (g->frozen && !g->unfreezeEpoch)
      for (cnn::ParamOp param : g->params)
        param.setFrozenAttr(builder.getUnitAttr());
    builder.create<cnn::GroupOp>(
        diag.getLoc(g->loc), builder.getStringAttr(g->name),
        g->frozen ? builder.getUnitAttr() : UnitAttr(),
        g->lr ? builder.getF64FloatAttr(*g->lr) : FloatAttr(),
        g->unfreezeEpoch ? builder.getI64IntegerAttr(*g->unfreezeEpoch)
                         : IntegerAttr());
  }
  if (plan.present) {
    auto f64 = [&](const llvm::Optional<double> &v) {
      return v ? builder.getF64FloatAttr(*v) : FloatAttr();
    };
    auto i64 = [&](const llvm::Optional<int64_t> &v) {
      return v ? builder.getI64IntegerAttr(*v) : IntegerAttr();
    };
    builder.create<cnn::TrainPlanOp>(
        diag.getLoc(plan.loc), builder.getStringAttr(plan.loss),
        builder.getStringAttr(plan.optimizer), f64(plan.lr), f64(plan.momentum),
        plan.nesterov ? builder.getUnitAttr() : UnitAttr(),
        f64(plan.weightDecay), f64(plan.beta1), f64(plan.beta2), f64(plan.eps),
        i64(plan.epochs), i64(plan.batch));
  }

  // The signature and the cnn.name attributes that name inputs and outputs.
  Block &body = mainFunc.front();
  builder.setInsertionPointToEnd(&body);
  SmallVector<Value> results;
  for (auto &output : outputs)
    results.push_back(output.second);
  builder.create<ReturnOp>(diag.getLoc(endLoc), results);
  mainFunc.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                     ValueRange(results).getTypes()));
  for (unsigned i = 0; i < inputNames.size(); ++i)
    mainFunc.setArgAttr(i, cnn::kNameAttr,
                        builder.getStringAttr(inputNames[i]));
  for (unsigned i = 0; i < outputs.size(); ++i)
    mainFunc.setResultAttr(i, cnn::kNameAttr,
                           builder.getStringAttr(outputs[i].first));
  (*module)->setAttr(SymbolTable::getSymbolAttrName(),
                     builder.getStringAttr(modelName));

  if (failed(verify(*module))) {
    diag.countError();
    return nullptr;
  }
  return std::move(module);
}
