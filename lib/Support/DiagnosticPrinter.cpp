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

/// Source lines longer than this print as an excerpt around the column.
constexpr size_t kMaxLineShown = 160;

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
    : sourceMgr(sourceMgr), sourceMgrHandler(sourceMgr, context, os),
      context(context), os(os) {
  // Registered after the SourceMgr handler, so it sees diagnostics first.
  id = context->getDiagEngine().registerHandler(
      [this](Diagnostic &diag) -> LogicalResult {
        bool isError = diag.getSeverity() == DiagnosticSeverity::Error;
        if (isError)
          ++numErrors;
        if (numErrors > kMaxErrors) {
          if (isError)
            ++numSuppressed;
          return success(); // counted, not printed
        }
        LocationParts parts;
        decompose(diag.getLocation(), parts);
        if (auto file = diag.getLocation().dyn_cast<FileLineColLoc>())
          if (file.getLine() != 0 &&
              printExcerpt(diag, file.getFilename(), file.getLine(),
                           file.getColumn()))
            return success();
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

bool DiagnosticPrinter::printExcerpt(Diagnostic &diag, llvm::StringRef file,
                                     unsigned line, unsigned column) {
  for (unsigned b = 1; b <= sourceMgr.getNumBuffers(); ++b) {
    const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(b);
    if (buffer->getBufferIdentifier() != file)
      continue;
    llvm::SMLoc start = sourceMgr.FindLocForLineAndColumn(b, line, 1);
    if (!start.isValid())
      return false;
    llvm::StringRef rest(start.getPointer(),
                         buffer->getBufferEnd() - start.getPointer());
    llvm::StringRef text =
        rest.take_until([](char c) { return c == '\n' || c == '\r'; });
    if (text.size() <= kMaxLineShown)
      return false; // short enough: the SourceMgr handler prints it
    size_t col = column ? std::min<size_t>(column - 1, text.size()) : 0;
    size_t from = col > kMaxLineShown / 2 ? col - kMaxLineShown / 2 : 0;
    size_t to = std::min(text.size(), from + kMaxLineShown);
    os << file << ":" << line << ":" << column << ": "
       << severityText(diag.getSeverity()) << ": " << diag.str() << "\n";
    std::string prefix = from ? "..." : "";
    os << prefix << text.slice(from, to) << (to < text.size() ? "..." : "")
       << "\n"
       << std::string(prefix.size() + (col - from), ' ') << "^\n";
    for (Diagnostic &note : diag.getNotes())
      os << file << ": " << severityText(note.getSeverity()) << ": "
         << note.str() << "\n";
    os.flush();
    return true;
  }
  return false;
}

DiagnosticPrinter::~DiagnosticPrinter() {
  if (numSuppressed)
    os << "error: " << numSuppressed << " more error"
       << (numSuppressed == 1 ? "" : "s") << " not shown (the first "
       << kMaxErrors << " are)\n";
  context->getDiagEngine().eraseHandler(id);
}
