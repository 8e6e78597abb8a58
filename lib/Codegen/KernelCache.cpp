//===- KernelCache.cpp - compiled kernels shared between compiles ---------===//
#include "KernelCache.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA1.h"

#include <cstdlib>

using namespace cnnc::codegen;

/// What makes compiled code differ besides the kernel itself: the compiler
/// binary (its size and time stamp, so a rebuilt cnnc never reuses stale
/// objects), the target and the schedule.
static std::string compilerStamp() {
  static std::string stamp = [] {
    std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
    llvm::sys::fs::file_status st;
    std::string s = exe;
    if (!llvm::sys::fs::status(exe, st))
      s += "|" + std::to_string(st.getSize()) + "|" +
           std::to_string(
               st.getLastModificationTime().time_since_epoch().count());
    return s;
  }();
  return stamp;
}

std::string cnnc::codegen::contentKey(llvm::StringRef text) {
  llvm::SHA1 sha;
  sha.update(text);
  sha.update(compilerStamp());
  return llvm::toHex(sha.final(), /*LowerCase=*/true);
}

/// The kernel cache: $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else
/// ~/.cache/cnnc; CNNC_CACHE_DIR=off disables it.
static std::string cacheDirectory() {
  if (const char *dir = getenv("CNNC_CACHE_DIR"))
    return llvm::StringRef(dir) == "off" ? "" : dir;
  llvm::SmallString<256> path;
  if (const char *xdg = getenv("XDG_CACHE_HOME"))
    path = xdg;
  else if (const char *home = getenv("HOME"))
    llvm::sys::path::append(path, home, ".cache");
  else
    return "";
  llvm::sys::path::append(path, "cnnc");
  return path.str().str();
}

KernelCache::KernelCache(bool enabled)
    : dir(enabled ? cacheDirectory() : std::string()) {}

std::string KernelCache::entryName(llvm::StringRef key, llvm::StringRef ext) {
  return contentKey(key) + ext.str();
}

llvm::Optional<std::string> KernelCache::lookup(llvm::StringRef entry) const {
  if (dir.empty())
    return llvm::None;
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, entry);
  if (!llvm::sys::fs::exists(path))
    return llvm::None;
  return path.str().str();
}

void KernelCache::store(llvm::StringRef from, llvm::StringRef name) const {
  if (dir.empty() || llvm::sys::fs::create_directories(dir))
    return;
  llvm::SmallString<256> dst(dir), tmp(dir);
  llvm::sys::path::append(dst, name);
  llvm::sys::path::append(
      tmp, name + ".tmp" + std::to_string(llvm::sys::Process::getProcessId()));
  // Best effort: a failed copy (a full disk) leaves no partial entry.
  if (llvm::sys::fs::copy_file(from, tmp) || llvm::sys::fs::rename(tmp, dst))
    llvm::sys::fs::remove(tmp);
}
