//===- OutputFile.h - how cnnc's tools write the files they produce -*- C++
//-*-===//
//
// One rule for every output file of the compiler's tools (--emit=mlir|halide
// -o F, the summary, the model library and its header):
//  - "-" is standard output;
//  - an output that is the same file as an input (same device and inode) is
//    refused: `cnnc m.onnx --emit=mlir -o m.onnx` must not destroy the model;
//  - a symlink is written through (its target is replaced, the link stays);
//  - a special file (a character device such as /dev/null, a FIFO) is written
//    directly, never replaced by a regular file;
//  - a regular file is replaced atomically: the data goes to a temporary file
//    next to it (removed on failure, on SIGINT and SIGTERM), which is renamed
//    over it only once complete, keeping the old file's permissions; a failed
//    write (disk full, a file-size limit) leaves the old file intact.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_SUPPORT_OUTPUTFILE_H
#define CNNC_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace cnnc {

/// Where the bytes for `path` go: the file itself (a special file) or a
/// temporary file renamed over it by commitOutput.
struct OutputTarget {
  std::string path;      ///< the file finally written (a symlink resolved)
  std::string writePath; ///< where the bytes go now
  bool special = false;  ///< written in place (device, FIFO)
  bool exists = false;
  unsigned permissions = 0666;
};

/// Checks `path` against the rules above and the `inputs`; on success
/// `target` says where to write. Returns an error message, or "".
std::string prepareOutput(llvm::StringRef path,
                          llvm::ArrayRef<std::string> inputs,
                          OutputTarget &target);

/// Moves a completed temporary file into place (nothing for special files).
std::string commitOutput(const OutputTarget &target);

/// Removes a temporary file after a failure.
void discardOutput(const OutputTarget &target);

/// Writes `contents` to `path` by the rules above. Returns an error message
/// naming the file, or "".
std::string writeOutputFile(llvm::StringRef path,
                            llvm::ArrayRef<std::string> inputs,
                            llvm::StringRef contents);

} // namespace cnnc

#endif // CNNC_SUPPORT_OUTPUTFILE_H
