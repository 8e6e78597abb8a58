//===- KernelCache.h - compiled kernels shared between compiles -*- C++ -*-===//
#ifndef CNNC_LIB_CODEGEN_KERNELCACHE_H
#define CNNC_LIB_CODEGEN_KERNELCACHE_H

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace cnnc {
namespace codegen {

/// A content hash (SHA-1, hex) of `text` and of the running compiler binary
/// (its path, size and time stamp), so a rebuilt cnnc never reuses objects
/// an older one compiled.
std::string contentKey(llvm::StringRef text);

/// Compiled kernels, optimizer updates and Halide runtimes on disk, reused
/// by every compile whose key (the kernel's signature, targets, schedule)
/// matches: $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc;
/// CNNC_CACHE_DIR=off (or --no-cache) disables it.
class KernelCache {
public:
  explicit KernelCache(bool enabled);

  /// The entry of `key`: its content hash with extension `ext`.
  static std::string entryName(llvm::StringRef key, llvm::StringRef ext);
  /// The cached file of `entry`, if there is one.
  llvm::Optional<std::string> lookup(llvm::StringRef entry) const;
  /// Copies `file` into the cache as `entry`: atomically, best effort (a
  /// failed copy, on a full disk, leaves no partial entry).
  void store(llvm::StringRef file, llvm::StringRef entry) const;

private:
  std::string dir;
};

} // namespace codegen
} // namespace cnnc

#endif // CNNC_LIB_CODEGEN_KERNELCACHE_H
