//===- OutputFile.cpp - how cnnc's tools write the files they produce
//------===//
#include "cnnc/Support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"

#include <sys/stat.h>

using namespace cnnc;
namespace fs = llvm::sys::fs;

std::string cnnc::prepareOutput(llvm::StringRef path,
                                llvm::ArrayRef<std::string> inputs,
                                OutputTarget &target) {
  target = OutputTarget();
  target.path = path.str();
  if (path == "-") {
    target.writePath = "-";
    target.special = true;
    return "";
  }
  // A symlink is written through: its target is the file replaced.
  fs::file_status linkStatus;
  if (!fs::status(path, linkStatus, /*follow=*/false) &&
      linkStatus.type() == fs::file_type::symlink_file) {
    llvm::SmallString<256> resolved;
    if (std::error_code ec = fs::real_path(path, resolved))
      return path.str() + ": cannot resolve the symbolic link: " + ec.message();
    target.path = resolved.str().str();
  }
  fs::file_status st;
  if (!fs::status(target.path, st)) {
    target.exists = true;
    for (const std::string &input : inputs) {
      fs::file_status in;
      if (!input.empty() && input != "-" && !fs::status(input, in) &&
          fs::equivalent(in, st))
        return path.str() + ": is the input file " + input +
               "; writing it would destroy the input (choose another -o)";
    }
    if (st.type() == fs::file_type::directory_file)
      return path.str() + ": is a directory";
    if (st.type() != fs::file_type::regular_file) {
      target.special = true;
      target.writePath = target.path;
      return "";
    }
    target.permissions = st.permissions() & 07777;
  } else {
    mode_t mask = umask(0);
    umask(mask);
    target.permissions = 0666 & ~mask;
  }
  llvm::StringRef dir = llvm::sys::path::parent_path(target.path);
  if (!dir.empty() && !fs::is_directory(dir))
    return "cannot write " + path.str() + ": directory '" + dir.str() +
           "' does not exist";
  llvm::SmallString<256> tmp;
  int fd;
  if (std::error_code ec =
          fs::createUniqueFile(target.path + ".tmp-%%%%%%", fd, tmp))
    return path.str() +
           ": cannot create a temporary file next to it: " + ec.message();
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  target.writePath = tmp.str().str();
  llvm::sys::RemoveFileOnSignal(target.writePath);
  return "";
}

std::string cnnc::commitOutput(const OutputTarget &target) {
  if (target.special)
    return "";
  std::string error;
  if (std::error_code ec = fs::setPermissions(
          target.writePath, static_cast<fs::perms>(target.permissions)))
    error = target.path + ": cannot set its permissions: " + ec.message();
  else if (std::error_code ec = fs::rename(target.writePath, target.path))
    error = target.path + ": cannot write: " + ec.message();
  if (!error.empty())
    fs::remove(target.writePath);
  llvm::sys::DontRemoveFileOnSignal(target.writePath);
  return error;
}

void cnnc::discardOutput(const OutputTarget &target) {
  if (target.special)
    return;
  fs::remove(target.writePath);
  llvm::sys::DontRemoveFileOnSignal(target.writePath);
}

std::string cnnc::writeOutputFile(llvm::StringRef path,
                                  llvm::ArrayRef<std::string> inputs,
                                  llvm::StringRef contents) {
  OutputTarget target;
  std::string error = prepareOutput(path, inputs, target);
  if (!error.empty())
    return error;
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(target.writePath, ec,
                            target.special ? fs::OF_Append : fs::OF_None);
    if (!ec) {
      os << contents;
      os.close();
      if (os.has_error()) {
        ec = os.error();
        // An unchecked stream error aborts the process in its destructor.
        os.clear_error();
      }
    }
  }
  if (ec) {
    discardOutput(target);
    return path.str() + ": cannot write: " + ec.message();
  }
  return commitOutput(target);
}
