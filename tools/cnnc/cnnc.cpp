//===- cnnc.cpp - the cnnc compiler driver --------------------------------===//
//
//   cnnc MODEL.onnx|MODEL.cnn|MODEL.mlir [-o OUT] [--emit=LEVEL] [--summary]
//
// Toy-style ladder: --emit=LEVEL lowers the model until LEVEL, then prints.
//   import  the cnn IR right after the frontend
//   onnx    the model as imported, written as ONNX (the default with -o X.onnx)
//   mlir    the cnn IR after the graph passes
//   plan    the library's buffers, kernel calls, parameters and phases
//   halide  the Halide statement of every kernel after lowering
//   so      a shared library plus its C header (the default with -o X.so)
//
//===----------------------------------------------------------------------===//

#include "cnnc/Analysis/ModelSummary.h"
#include "cnnc/Codegen/Codegen.h"
#include "cnnc/Dialect/CNN/CNNOps.h"
#include "cnnc/Frontend/DslParser.h"
#include "cnnc/Frontend/OnnxImporter.h"
#include "cnnc/InitAll.h"
#include "cnnc/Support/DiagnosticPrinter.h"
#include "cnnc/Support/OutputFile.h"
#include "cnnc/Support/Version.h"
#include "cnnc/Target/OnnxExport.h"

#include "cnnc/Pipelines/Pipelines.h"
#include <csignal>

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class EmitLevel { Import, Onnx, Mlir, Plan, Halide, So };
enum class InputKind { Onnx, Dsl, Mlir };

cl::OptionCategory cnncCategory("cnnc options");

cl::opt<std::string>
    inputFilename(cl::Positional, cl::desc("<model.onnx|model.cnn|model.mlir>"),
                  cl::cat(cnncCategory));
cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: stdout)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::cat(cnncCategory));
cl::opt<EmitLevel> emitLevel(
    "emit", cl::desc("Lower until this level, then print"),
    cl::values(clEnumValN(EmitLevel::Import, "import",
                          "the cnn IR right after import"),
               clEnumValN(EmitLevel::Onnx, "onnx",
                          "the model as imported, written as an ONNX file "
                          "(default when -o ends in .onnx)"),
               clEnumValN(EmitLevel::Mlir, "mlir",
                          "the cnn IR after the graph passes"),
               clEnumValN(EmitLevel::Plan, "plan",
                          "the library's plan: buffers, kernel calls, "
                          "parameters, packed weights, training phases"),
               clEnumValN(EmitLevel::Halide, "halide",
                          "the lowered Halide statement of every kernel"),
               clEnumValN(EmitLevel::So, "so",
                          "a shared library and its C header (default "
                          "when -o ends in .so)")),
    cl::cat(cnncCategory));
cl::opt<std::string>
    target("target",
           cl::desc("host (default), cuda, or a Halide target string such as "
                    "x86-64-linux-avx2-fma-f16c-sse41"),
           cl::init("host"), cl::cat(cnncCategory));
cl::opt<int> cudaCapability("cuda-capability",
                            cl::desc("CUDA compute capability for "
                                     "--target=cuda (e.g. 61, 75, 80)"),
                            cl::init(61), cl::cat(cnncCategory));
cl::opt<std::string>
    scheduleKind("schedule",
                 cl::desc("manual (hand-written, default) or auto (a Halide "
                          "autoscheduler)"),
                 cl::init("manual"), cl::cat(cnncCategory));
cl::opt<std::string>
    autoscheduler("autoscheduler",
                  cl::desc("Adams2019, Mullapudi2016 (default) or Li2018"),
                  cl::init("Mullapudi2016"), cl::cat(cnncCategory));
cl::opt<unsigned long long>
    seed("seed", cl::desc("Seed of the initial weights of DSL models"),
         cl::init(0), cl::cat(cnncCategory));
cl::opt<bool> embedSource(
    "embed-source",
    cl::desc("Embed the ONNX source in an inference-only library too (for "
             "exporting weights set with set_param); --train always does"),
    cl::cat(cnncCategory));
cl::opt<bool> keepIntermediates("keep-intermediates",
                                cl::desc("Keep the generated C, objects and "
                                         "weights"),
                                cl::cat(cnncCategory));
cl::opt<bool> remarks("remarks",
                      cl::desc("Explain, as remarks, the fusions that did not "
                               "happen"),
                      cl::cat(cnncCategory));
cl::opt<bool> noConcatInPlace(
    "no-concat-in-place",
    cl::desc("Compute every concatenation with a kernel that copies its "
             "inputs (by default, above -O0, the layers that produce a "
             "channel concatenation's inputs write them into one buffer)"),
    cl::cat(cnncCategory));
cl::opt<bool> noWinograd(
    "no-winograd",
    cl::desc("Run every convolution directly: no Winograd F(4x4, 3x3) for "
             "the 3x3, stride-1 inference convolutions on images of 13x13 "
             "and up (Winograd rounds more: 2-30x a direct sum's error in "
             "float32, and its filters take 4x those weights' memory)"),
    cl::cat(cnncCategory));
cl::opt<bool> noCache("no-cache",
                      cl::desc("Compile every kernel anew (no kernel cache)"),
                      cl::cat(cnncCategory));
cl::opt<bool> verbose("v", cl::desc("Print the compile steps and times"),
                      cl::cat(cnncCategory));
cl::opt<bool> summary("summary",
                      cl::desc("Print one row per layer and parameter totals"),
                      cl::cat(cnncCategory));
cl::opt<unsigned> optLevel("O", cl::Prefix,
                           cl::desc("Graph optimization level (-O0 disables)"),
                           cl::init(2), cl::cat(cnncCategory));
cl::list<std::string> freezePrefixes(
    "freeze", cl::desc("Freeze parameters whose name starts with PREFIX"),
    cl::value_desc("PREFIX"), cl::ZeroOrMore, cl::cat(cnncCategory));
cl::list<std::string> unfreezeAt(
    "unfreeze-at",
    cl::desc("With --train: parameters with this name prefix (or group) are "
             "frozen until epoch EPOCH of the plan (1-based); the library "
             "holds a training graph per phase"),
    cl::value_desc("EPOCH:PREFIX"), cl::ZeroOrMore, cl::cat(cnncCategory));
cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("ONNX: replace the shape of graph input NAME; '?' (or N) as "
             "the first dimension makes the batch dynamic, e.g. "
             "image=?x3x224x224"),
    cl::value_desc("NAME=DIMS"), cl::ZeroOrMore, cl::cat(cnncCategory));
cl::opt<std::string> listOps(
    "list-ops",
    cl::desc("Print the ONNX operators cnnc imports and what of each is not "
             "supported, then exit (=markdown: as a table)"),
    cl::value_desc("text|markdown"), cl::ValueOptional, cl::cat(cnncCategory));
cl::opt<bool> dynamicBatch(
    "dynamic-batch",
    cl::desc("ONNX: make the first dimension of every graph input a dynamic "
             "batch (files exported with a fixed batch)"),
    cl::cat(cnncCategory));
cl::opt<bool> train("train",
                    cl::desc("Also compile a training step (forward, loss, "
                             "backward) into the library"),
                    cl::cat(cnncCategory));
cl::opt<std::string> lossKind(
    "loss",
    cl::desc("Training loss: cross_entropy (default; or the DSL plan's) or "
             "mse"),
    cl::cat(cnncCategory));
cl::opt<std::string> modelName("name",
                               cl::desc("Model name (default: file stem)"),
                               cl::cat(cnncCategory));
cl::opt<bool> printWeights("print-weights",
                           cl::desc("Print weight data instead of eliding it"),
                           cl::cat(cnncCategory));
cl::opt<bool> printDebugInfo("print-locations",
                             cl::desc("Print op locations (layer names)"),
                             cl::cat(cnncCategory));
cl::opt<bool> printIRAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after import and after "
                                       "every pass"),
                              cl::cat(cnncCategory));
cl::opt<bool> printIRBeforeAll("print-ir-before-all",
                               cl::desc("Print the IR before every pass"),
                               cl::cat(cnncCategory));
cl::extrahelp examples(R"(
EXAMPLES:
  cnnc model.onnx -o model.so              model.so + model.h (C ABI)
  cnnc examples/lenet5.cnn --train -o lenet5.so
                                           + a training step (cnnc-train)
  cnnc model.onnx --train --freeze conv1 --unfreeze-at 6:layer4 -o m.so
  cnnc model.onnx --target=x86-64-linux-avx2-fma-f16c-sse41,x86-64-linux-sse41 -o m.so
                                           portable: best level at run time
  cnnc model.onnx --target=arm-64-linux -o model.so
  cnnc model.onnx -o model.a               a static library
  cnnc examples/lenet5.cnn -o lenet5.onnx  a DSL model as ONNX
  cnnc model.onnx --dynamic-batch -o m.so  a fixed-batch export, any batch
  cnnc examples/lenet5.cnn --summary       layers and parameter counts
  cnnc model.onnx --emit=mlir -O0          the cnn IR, without graph passes

ENVIRONMENT:
  CNNC_CACHE_DIR     where compiled kernels are cached (off: no cache);
                     default $XDG_CACHE_HOME/cnnc or ~/.cache/cnnc
  CNNC_RUNTIME_DIR   an install prefix whose runtime models are linked with
                     (default: the one next to this cnnc)
  CNNC_VECTOR_MACHINE=LANES,REGS  testing aid: size schedules for another
                     vector machine (part of the kernel cache key)

Exit status: 0 on success, 1 on any error.
)");

cl::opt<std::string> inputFormat(
    "x", cl::desc("Input format: onnx, cnn or mlir (default: by extension)"),
    cl::value_desc("format"), cl::cat(cnncCategory));
} // namespace

static OpPrintingFlags printingFlags() {
  OpPrintingFlags flags;
  if (!printWeights)
    flags.elideLargeElementsAttrs(16);
  if (printDebugInfo)
    flags.enableDebugInfo();
  return flags;
}

static FailureOr<InputKind> inputKind(StringRef path) {
  std::string format = inputFormat;
  if (format.empty())
    format = llvm::sys::path::extension(path).drop_front().lower();
  if (format == "onnx")
    return InputKind::Onnx;
  if (format == "cnn")
    return InputKind::Dsl;
  if (format == "mlir")
    return InputKind::Mlir;
  llvm::errs() << "cnnc: error: cannot tell the format of '" << path
               << "': expected a .onnx, .cnn or .mlir file (or -x FORMAT)\n";
  return failure();
}

/// --input-shape NAME=DIMS: DIMS separated by 'x', '?' or 'N' for the
/// dynamic batch (first dimension only).
static LogicalResult parseInputShapes(
    std::vector<std::pair<std::string, std::vector<int64_t>>> &shapes) {
  for (const std::string &spec : inputShapes) {
    auto [name, dimsText] = llvm::StringRef(spec).split('=');
    auto fail = [&](const llvm::Twine &why) {
      llvm::errs() << "cnnc: error: --input-shape '" << spec << "': " << why
                   << " (expected NAME=DIMS, e.g. image=?x3x224x224)\n";
      return failure();
    };
    if (name.empty() || dimsText.empty())
      return fail("no name or no dimensions");
    llvm::SmallVector<llvm::StringRef> parts;
    dimsText.split(parts, 'x');
    std::vector<int64_t> dims;
    for (size_t i = 0; i < parts.size(); ++i) {
      llvm::StringRef part = parts[i].trim();
      int64_t d;
      if (part == "?" || part == "N") {
        if (i != 0)
          return fail("only the first dimension (the batch) may be dynamic");
        dims.push_back(-1);
      } else if (part.getAsInteger(10, d) || d < 1 || d > (int64_t(1) << 31)) {
        return fail("'" + part + "' is not a dimension (1 to 2^31, or ?)");
      } else {
        dims.push_back(d);
      }
    }
    shapes.emplace_back(name.str(), std::move(dims));
  }
  return success();
}

static OwningOpRef<ModuleOp>
importModel(MLIRContext &context, llvm::SourceMgr &sourceMgr, InputKind kind) {
  if (kind != InputKind::Onnx && (!inputShapes.empty() || dynamicBatch)) {
    llvm::errs() << "cnnc: error: --input-shape and --dynamic-batch apply to "
                    "ONNX files; a .cnn or .mlir model states its own input "
                    "shapes\n";
    return nullptr;
  }
  switch (kind) {
  case InputKind::Onnx: {
    cnnc::OnnxImportOptions options;
    options.moduleName = modelName;
    options.dynamicBatch = dynamicBatch;
    if (failed(parseInputShapes(options.inputShapes)))
      return nullptr;
    return cnnc::importOnnxFile(&context, inputFilename, options);
  }
  case InputKind::Dsl:
    return cnnc::parseDslSource(&context, sourceMgr);
  case InputKind::Mlir:
    return parseSourceFile(sourceMgr, &context);
  }
  return nullptr;
}

/// The C prefix of the library's symbols: --name, else the file's stem.
static std::string symbolPrefix(ModuleOp module) {
  std::string name = modelName;
  if (name.empty())
    name = llvm::sys::path::stem(inputFilename).str();
  if (name.empty() || name == "-")
    name = module.getName() ? module.getName()->str() : "model";
  std::string prefix;
  for (char c : name)
    prefix += (isalnum((unsigned char)c) || c == '_') ? c : '_';
  if (isdigit((unsigned char)prefix[0]))
    prefix = "m_" + prefix;
  return prefix;
}

/// Writes a text output (-o, "-" by default) by cnnc's output rules
/// (cnnc/Support/OutputFile.h): never over the input, atomically, with a
/// message and exit status 1 when the write fails.
static int writeOutput(llvm::StringRef text) {
  std::string error =
      cnnc::writeOutputFile(outputFilename, {inputFilename}, text);
  if (error.empty())
    return 0;
  llvm::errs() << "cnnc: error: " << error << "\n";
  return 1;
}

/// The model as imported, as ONNX bytes (cnnc/Target/OnnxExport.h).
static LogicalResult exportImported(ModuleOp module, std::string &bytes) {
  cnnc::OnnxExportOptions options;
  options.seed = seed;
  options.producerVersion = cnnc::versionString();
  return cnnc::exportOnnx(module, options, bytes);
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // A write past a file-size limit then fails with EFBIG, reported as an
  // error, instead of killing cnnc with SIGXFSZ.
  signal(SIGXFSZ, SIG_IGN);
  cl::HideUnrelatedOptions(cnncCategory);
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { cnnc::printVersion(os, "cnnc"); });
  cl::ParseCommandLineOptions(argc, argv, "cnnc: CNN compiler\n");
  if (listOps.getNumOccurrences()) {
    if (listOps != "" && listOps != "text" && listOps != "markdown") {
      llvm::errs() << "cnnc: error: --list-ops takes text or markdown, not '"
                   << listOps << "'\n";
      return 1;
    }
    cnnc::printSupportedOnnxOps(llvm::outs(), listOps == "markdown");
    return 0;
  }
  if (inputFilename.empty()) {
    llvm::errs() << "cnnc: error: no input model (see cnnc --help)\n";
    return 1;
  }
  if (emitLevel.getNumOccurrences() == 0) {
    // The output's extension says what to write; an unknown one is an
    // error rather than MLIR text in a file named m.bin or m.a.
    StringRef ext = llvm::sys::path::extension(outputFilename);
    if (ext == ".so" || ext == ".a") {
      emitLevel = EmitLevel::So;
    } else if (ext == ".onnx") {
      emitLevel = EmitLevel::Onnx;
    } else if (outputFilename == "-" || ext == ".mlir" || summary) {
      emitLevel = EmitLevel::Mlir;
    } else {
      llvm::errs() << "cnnc: error: -o " << outputFilename
                   << ": unknown kind of output '" << ext
                   << "': name a model library .so (or a static .a), IR "
                      ".mlir or a model .onnx (or choose what to write with "
                      "--emit=...)\n";
      return 1;
    }
  }
  if (emitLevel == EmitLevel::So &&
      (outputFilename == "-" || !(StringRef(outputFilename).endswith(".so") ||
                                  StringRef(outputFilename).endswith(".a")))) {
    llvm::errs() << "cnnc: error: --emit=so needs -o FILE.so (or FILE.a)\n";
    return 1;
  }
  if (scheduleKind != "manual" && scheduleKind != "auto") {
    llvm::errs() << "cnnc: error: --schedule must be manual or auto, got '"
                 << scheduleKind << "'\n";
    return 1;
  }
  if (autoscheduler != "Adams2019" && autoscheduler != "Mullapudi2016" &&
      autoscheduler != "Li2018") {
    llvm::errs() << "cnnc: error: --autoscheduler must be Adams2019, "
                    "Mullapudi2016 or Li2018, got '"
                 << autoscheduler << "'\n";
    return 1;
  }

  FailureOr<InputKind> kind = inputKind(inputFilename);
  if (failed(kind))
    return 1;

  DialectRegistry registry;
  cnnc::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // An error at codegen is reported on the module; its location says where,
  // printing the whole module (weights included) after it says nothing.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  if (*kind != InputKind::Onnx) {
    std::string error;
    auto buffer = openInputFile(inputFilename, &error);
    if (!buffer) {
      llvm::errs() << "cnnc: error: " << error << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  }
  cnnc::DiagnosticPrinter diagnostics(sourceMgr, &context, llvm::errs());

  OwningOpRef<ModuleOp> module = importModel(context, sourceMgr, *kind);
  if (!module || failed(verify(*module)))
    return 1;
  if (!modelName.empty())
    module->setName(modelName);
  // Whole-model errors (codegen, linking) name the file, not a line of it.
  (*module)->setLoc(FileLineColLoc::get(&context, inputFilename, 0, 0));
  if (*kind == InputKind::Onnx) {
    // Libraries embed their ONNX source so trained weights can be exported
    // back into the same graph.
    llvm::SmallString<256> source(inputFilename);
    llvm::sys::fs::make_absolute(source);
    cnnc::cnn::kSourceOnnxAttr.set(*module,
                                   StringAttr::get(&context, source.str()));
  }

  if (emitLevel == EmitLevel::Onnx) {
    if (outputFilename == "-" && llvm::sys::Process::StandardOutIsDisplayed()) {
      llvm::errs() << "cnnc: error: --emit=onnx writes a binary file: name it "
                      "with -o FILE.onnx\n";
      return 1;
    }
    std::string bytes;
    if (failed(exportImported(*module, bytes)))
      return 1;
    return writeOutput(bytes);
  }
  // A DSL model's training library embeds the model written as ONNX, as a
  // library compiled from ONNX embeds its source: cnnc-train --export then
  // writes the trained weights into it. The file lives while cnnc runs.
  llvm::SmallString<128> dslAsOnnx;
  llvm::FileRemover dslAsOnnxRemover;
  if (*kind == InputKind::Dsl && emitLevel == EmitLevel::So &&
      (train || embedSource) && !summary) {
    std::string bytes;
    if (failed(exportImported(*module, bytes)))
      return 1;
    int fd = -1;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "cnnc-dsl", "onnx", fd, dslAsOnnx)) {
      llvm::errs() << "cnnc: error: cannot create a temporary file for the "
                      "model's ONNX form: "
                   << ec.message() << "\n";
      return 1;
    }
    llvm::sys::RemoveFileOnSignal(dslAsOnnx);
    dslAsOnnxRemover.setFile(dslAsOnnx);
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    if (os.has_error()) {
      llvm::errs() << "cnnc: error: cannot write " << dslAsOnnx << ": "
                   << os.error().message() << "\n";
      os.clear_error();
      return 1;
    }
    cnnc::cnn::kSourceOnnxAttr.set(*module,
                                   StringAttr::get(&context, dslAsOnnx.str()));
  }

  if (printIRAfterAll) {
    llvm::errs() << "// -----// IR Dump After Import //----- //\n";
    module->print(llvm::errs(), printingFlags());
    llvm::errs() << "\n";
  }

  cnnc::CodegenOptions codegen;
  codegen.target = target;
  codegen.cudaCapability = cudaCapability;
  codegen.schedule = scheduleKind == "auto" ? cnnc::ScheduleKind::Auto
                                            : cnnc::ScheduleKind::Manual;
  codegen.autoscheduler = autoscheduler;
  codegen.prefix = symbolPrefix(*module);
  codegen.seed = seed;
  codegen.keepIntermediates = keepIntermediates;
  codegen.verbose = verbose;
  codegen.inputPath = inputFilename;
  codegen.embedSource = embedSource;
  codegen.useCache = !noCache;
  codegen.concatInPlace = optLevel > 0 && !noConcatInPlace;

  if (emitLevel >= EmitLevel::Mlir) {
    PassManager pm(&context);
    cnnc::GraphPipelineOptions options;
    if (!unfreezeAt.empty() && !train) {
      llvm::errs() << "cnnc: error: --unfreeze-at needs --train\n";
      return 1;
    }
    // The summary shows the model's parameters as imported (and frozen),
    // before BatchNorm folding changes them.
    options.optLevel = summary ? 0u : optLevel.getValue();
    for (const std::string &prefix : freezePrefixes)
      options.freeze.push_back(prefix);
    for (const std::string &entry : unfreezeAt)
      options.unfreezeAt.push_back(entry);
    options.training = train.getValue();
    options.loss = lossKind.getValue();
    options.remarks = remarks.getValue();
    options.winograd = !noWinograd.getValue();
    // The packed weight layout is the target's (--target, --schedule).
    if (!summary) {
      FailureOr<int64_t> lanes = cnnc::packedLayoutLanes(*module, codegen);
      if (failed(lanes))
        return 1;
      options.vectorLanes = *lanes;
    }
    cnnc::buildGraphPipeline(pm, options);
    if (printIRAfterAll || printIRBeforeAll) {
      context.disableMultithreading();
      pm.enableIRPrinting(
          [](Pass *, Operation *) { return printIRBeforeAll.getValue(); },
          [](Pass *, Operation *) { return printIRAfterAll.getValue(); },
          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
          /*printAfterOnlyOnFailure=*/false, llvm::errs(), printingFlags());
    }
    if (failed(pm.run(*module)))
      return 1;
  } else if (!freezePrefixes.empty()) {
    llvm::errs()
        << "cnnc: warning: --freeze has no effect with --emit=import\n";
  }

  if (emitLevel >= EmitLevel::Plan && !summary) {
    if (emitLevel == EmitLevel::Plan) {
      std::string text;
      llvm::raw_string_ostream os(text);
      if (failed(cnnc::printModelPlan(*module, codegen, os)))
        return 1;
      return writeOutput(os.str());
    }
    if (emitLevel == EmitLevel::Halide) {
      std::string text;
      llvm::raw_string_ostream os(text);
      if (failed(cnnc::printHalideKernels(*module, codegen, os)))
        return 1;
      return writeOutput(os.str());
    }
    cnnc::RuntimeLocation runtime = cnnc::findRuntime(argv[0]);
    if (failed(cnnc::compileModelLibrary(*module, codegen, runtime,
                                         outputFilename)))
      return 1;
    return 0;
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  if (summary) {
    FailureOr<cnnc::ModelSummary> s = cnnc::summarizeModel(*module);
    if (failed(s))
      return 1;
    cnnc::printModelSummary(*s, os);
  } else {
    module->print(os, printingFlags());
    os << "\n";
  }
  return writeOutput(os.str());
}
