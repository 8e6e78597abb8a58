//===- ModelPlan.cpp - a readable listing of a library's plan -------------===//
//
// `cnnc --emit=plan`: one line per buffer, kernel call, parameter, layout
// graph and phase, in the order of the tables the library writer emits, so
// the buffer planner's and the weight packing's decisions can be read and
// FileCheck-tested without compiling a kernel.
//
//===----------------------------------------------------------------------===//
#include "ModelPlan.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

#include <cstring>
#include <string>

using namespace cnnc::codegen;

static void printDims(llvm::ArrayRef<int64_t> dims, llvm::raw_ostream &os) {
  os << "[";
  llvm::interleaveComma(dims, os, [&](int64_t d) {
    if (d < 0)
      os << "N";
    else
      os << d;
  });
  os << "]";
}

const char *cnnc::codegen::bufferKindEnumerator(BufferKind kind) {
  switch (kind) {
  case CNNC_RT_INPUT:
    return "CNNC_RT_INPUT";
  case CNNC_RT_OUTPUT:
    return "CNNC_RT_OUTPUT";
  case CNNC_RT_PARAM:
    return "CNNC_RT_PARAM";
  case CNNC_RT_TEMP:
    return "CNNC_RT_TEMP";
  case CNNC_RT_ALIAS:
    return "CNNC_RT_ALIAS";
  case CNNC_RT_VIEW:
    return "CNNC_RT_VIEW";
  case CNNC_RT_EMBEDDED:
    return "CNNC_RT_EMBEDDED";
  }
  // The planner sets kinds from the enum only (no input file chooses one),
  // and the switch names every enumerator.
  llvm_unreachable("a buffer kind rt_executor.h does not have");
}

/// "temp" for CNNC_RT_TEMP.
static std::string kindName(BufferKind kind) {
  return llvm::StringRef(bufferKindEnumerator(kind))
      .drop_front(strlen("CNNC_RT_"))
      .lower();
}

static void printGraph(const ModelPlan &plan, const GraphPlan &g,
                       llvm::StringRef title, llvm::raw_ostream &os) {
  os << "graph " << title << ": " << g.buffers.size() << " buffers, "
     << g.calls.size() << " kernel calls\n";
  for (size_t i = 0; i < g.buffers.size(); ++i) {
    const BufferDesc &b = g.buffers[i];
    os << "  buffer " << i << " " << kindName(b.kind) << " ";
    printDims(b.dims, os);
    os << (b.dtype == CNNC_DTYPE_I64 ? " i64" : " f32");
    switch (b.kind) {
    case CNNC_RT_INPUT:
    case CNNC_RT_OUTPUT:
      os << " #" << b.ref;
      break;
    case CNNC_RT_PARAM:
    case CNNC_RT_EMBEDDED:
      os << " at byte " << b.offset;
      break;
    case CNNC_RT_ALIAS:
      os << " of buffer " << b.ref;
      break;
    case CNNC_RT_VIEW: {
      // A slice of channels has its buffer's image size; an interior not.
      bool slice = b.ref >= 0 && b.ref < (int)g.buffers.size() &&
                   g.buffers[b.ref].dims.size() == 4 && b.dims.size() == 4 &&
                   g.buffers[b.ref].dims[2] == b.dims[2] &&
                   g.buffers[b.ref].dims[3] == b.dims[3];
      os << (slice ? " channels of buffer " : " interior of buffer ") << b.ref
         << " from element " << b.offset;
      break;
    }
    case CNNC_RT_TEMP:
      break;
    }
    os << "\n";
  }
  static const char *const hostSteps[] = {"", "host:replica_batch_stats",
                                          "host:replica_running_stats",
                                          "host:replica_sum"};
  for (const KernelCall &c : g.calls) {
    os << "  call "
       << (c.host ? std::string(hostSteps[c.host]) : plan.kernelNames[c.kernel])
       << " (" << c.label << "): ";
    llvm::interleaveComma(llvm::makeArrayRef(c.args).drop_back(), os);
    os << " -> " << c.args.back() << "\n";
  }
  for (const TensorDesc &t : g.inputs)
    os << "  input '" << t.name << "' = buffer " << t.buffer << "\n";
  for (const TensorDesc &t : g.outputs)
    os << "  output '" << t.name << "' = buffer " << t.buffer << "\n";
}

void cnnc::codegen::printModelPlan(const ModelPlan &plan,
                                   llvm::raw_ostream &os) {
  os << "model " << plan.name << "\n"
     << "target " << plan.target << "\n"
     << "cpu features "
     << (plan.cpuFeatures.empty() ? std::string("(none)") : plan.cpuFeatures)
     << "\n"
     << "kernels " << plan.kernelNames.size() << ", weights "
     << plan.weights.size() << " bytes";
  if (plan.layoutBytes)
    os << " (+ " << plan.layoutBytes << " bytes of weight layouts)";
  os << "\n";
  for (size_t i = 0; i < plan.params.size(); ++i) {
    const ParamDesc &p = plan.params[i];
    os << "param " << i << " '" << p.name << "'";
    if (!p.group.empty())
      os << " group " << p.group;
    os << " ";
    printDims(p.dims, os);
    os << (p.isBuffer ? " running statistic" : "")
       << (p.trainable ? " trainable" : " frozen") << " buffer " << p.buffer
       << (p.toLayout ? ", stored only in its reader's layout" : "") << "\n";
  }
  printGraph(plan, plan.inference, "inference", os);
  if (!plan.layouts.calls.empty())
    printGraph(plan, plan.layouts, "layouts (at create)", os);
  if (!plan.relayout.calls.empty())
    printGraph(plan, plan.relayout, "relayout (after weights change)", os);
  for (const ParamDesc &p : plan.params)
    if (p.toLayout) {
      printGraph(plan, *p.toLayout, "set_param '" + p.name + "'", os);
      printGraph(plan, *p.fromLayout, "get_param '" + p.name + "'", os);
    }
  for (size_t i = 0; i < plan.phases.size(); ++i) {
    const PhasePlan &ph = plan.phases[i];
    os << "phase " << i << " " << ph.function;
    if (ph.firstEpoch)
      os << " from epoch " << ph.firstEpoch;
    os << ": gradients of";
    for (int p : ph.gradParams)
      os << " '" << plan.params[p].name << "'";
    for (auto [param, output] : ph.updates)
      os << ", output " << output << " updates '" << plan.params[param].name
         << "'";
    os << "\n";
    printGraph(plan, ph.step, ph.function, os);
    if (ph.features) {
      printGraph(plan, *ph.features, ph.function + " features", os);
      printGraph(plan, *ph.head, ph.function + " head", os);
    } else if (!ph.noCacheReason.empty()) {
      os << "  no feature cache: " << ph.noCacheReason << "\n";
    }
  }
}
