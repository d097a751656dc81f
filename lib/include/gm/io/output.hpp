// Inputs from files or stdin, and outputs that appear whole or not at all.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gm/io/h5.hpp"

namespace gm::io {

// Reads a whole file, or stdin for "-", into memory.
std::vector<char> read_all(const std::string& path);
// The same, as a string of bytes.
std::string read_bytes(const std::string& path);

// Opens a gm HDF5 input read-only; "-" reads stdin fully and opens it as a file image.
h5::File open_input(const std::string& path);

// Fails when `target` names one of `inputs` (the same file, not just the same spelling).
void refuse_overwriting_inputs(const std::string& target, const std::vector<std::string>& inputs);

// A temporary file beside `target` that replaces it on commit() (fsync, rename, fsync of the
// folder) and is removed otherwise, also when the process is stopped by SIGINT or SIGTERM.
class AtomicPath {
 public:
  explicit AtomicPath(std::string target);
  ~AtomicPath();
  AtomicPath(const AtomicPath&) = delete;
  AtomicPath& operator=(const AtomicPath&) = delete;

  const std::string& temp() const { return temp_; }
  const std::string& target() const { return target_; }
  void commit();

 private:
  std::string target_;
  std::string temp_;
  int slot_ = -1;
  bool committed_ = false;
};

// An HDF5 output file: on disk through AtomicPath, or for "-" a temporary file that is copied
// to stdout on commit(). (HDF5 1.10's in-memory file images of 1.8-format files fail their
// superblock checksum, and a temporary file keeps memory flat for large outputs.)
class H5Output {
 public:
  H5Output(const std::string& target, const std::vector<std::string>& inputs);
  h5::File& file() { return file_; }
  h5::Group root() const { return file_.root(); }
  const std::string& target() const { return target_; }
  void commit();

 private:
  std::string target_;
  AtomicPath path_;
  h5::File file_;
};

// A binary output written piece by piece, so that large outputs never sit in memory: on disk
// through AtomicPath, or for "-" a temporary file copied to stdout on commit().
class StreamOutput {
 public:
  StreamOutput(const std::string& target, const std::vector<std::string>& inputs);
  ~StreamOutput();
  StreamOutput(const StreamOutput&) = delete;
  StreamOutput& operator=(const StreamOutput&) = delete;
  void write(const char* data, std::size_t size);
  const std::string& target() const { return target_; }
  void commit();

 private:
  std::string target_;
  AtomicPath path_;
  int fd_ = -1;
};

// Writes bytes to `target` atomically, or to stdout for "-".
void write_output(const std::string& target, const std::vector<std::string>& inputs, const std::string& bytes);

// Removes every live temporary file and re-raises, on SIGINT and SIGTERM.
void install_signal_cleanup();

// For jobs that checkpoint: from now on the first SIGINT or SIGTERM is only recorded, so that the
// job can write a checkpoint and then call stop_by_signal(); a second one cleans up and exits at
// once, as install_signal_cleanup's handler does.
void defer_stop_signals();
int stop_requested();  // 0, or the signal recorded
// Exits as the recorded signal would have (status 128 + signal in a shell).
[[noreturn]] void stop_by_signal();

}  // namespace gm::io
