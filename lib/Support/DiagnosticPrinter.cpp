//===- DiagnosticPrinter.cpp - how cnnc tools print diagnostics -----------===//
#include "cnnc/Support/DiagnosticPrinter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace cnnc;

namespace {
/// What a location says once file:0:0 positions are set aside.
struct LocationParts {
  std::string file;
  std::string name;
  bool hasLine = false;
};
} // namespace

static void decompose(Location loc, LocationParts &parts) {
  if (auto name = loc.dyn_cast<NameLoc>()) {
    if (parts.name.empty())
      parts.name = name.getName().str();
    decompose(name.getChildLoc(), parts);
  } else if (auto file = loc.dyn_cast<FileLineColLoc>()) {
    parts.file = file.getFilename().str();
    parts.hasLine = file.getLine() != 0;
  } else if (auto fused = loc.dyn_cast<FusedLoc>()) {
    for (Location inner : fused.getLocations())
      decompose(inner, parts);
  } else if (auto callSite = loc.dyn_cast<CallSiteLoc>()) {
    decompose(callSite.getCallee(), parts);
  }
}

static const char *severityText(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

DiagnosticPrinter::DiagnosticPrinter(llvm::SourceMgr &sourceMgr,
                                     MLIRContext *context,
                                     llvm::raw_ostream &os)
    : sourceMgrHandler(sourceMgr, context, os), context(context), os(os) {
  // Registered after the SourceMgr handler, so it sees diagnostics first.
  id = context->getDiagEngine().registerHandler(
      [this](Diagnostic &diag) -> LogicalResult {
        if (diag.getSeverity() == DiagnosticSeverity::Error)
          ++numErrors;
        LocationParts parts;
        decompose(diag.getLocation(), parts);
        if (parts.hasLine || parts.file.empty())
          return failure(); // The SourceMgr handler prints it with the line.
        auto print = [&](Diagnostic &d) {
          LocationParts p;
          decompose(d.getLocation(), p);
          this->os << (p.file.empty() ? parts.file : p.file) << ": "
                   << severityText(d.getSeverity()) << ": ";
          if (!p.name.empty())
            this->os << "node \"" << p.name << "\": ";
          this->os << d.str() << "\n";
        };
        print(diag);
        for (Diagnostic &note : diag.getNotes())
          print(note);
        this->os.flush();
        return success();
      });
}

DiagnosticPrinter::~DiagnosticPrinter() {
  context->getDiagEngine().eraseHandler(id);
}
