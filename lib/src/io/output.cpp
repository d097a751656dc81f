#include "gm/io/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>

#include <dirent.h>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "gm/base/error.hpp"

namespace gm::io {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Temporary files alive right now, kept in plain arrays so a signal handler can unlink them.
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
std::array<std::array<char, kPathMax>, kSlots> g_temp_paths{};
std::array<volatile sig_atomic_t, kSlots> g_temp_live{};

int register_temp(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (!g_temp_live[i]) {
      std::memcpy(g_temp_paths[i].data(), path.c_str(), path.size() + 1);
      g_temp_live[i] = 1;
      return i;
    }
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_temp_live[slot] = 0;
}

volatile sig_atomic_t g_deferring = 0, g_stop_signal = 0;

extern "C" void cleanup_and_reraise(int signal_number) {
  if (g_deferring && !g_stop_signal) {
    g_stop_signal = signal_number;
    return;
  }
  for (int i = 0; i < kSlots; ++i)
    if (g_temp_live[i]) ::unlink(g_temp_paths[i].data());
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// Removes temporary files named PREFIX<pid>-<six random characters> in `folder` whose process no
// longer runs.
void remove_orphans(const std::string& folder, const std::string& prefix) {
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '-') continue;  // an older gm's name, or not ours: leave it
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink((folder + "/" + name).c_str());
  }
  ::closedir(dir);
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void write_fully(int fd, const char* data, size_t size, const std::string& label) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", label, errno_text());
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void write_stdout(const char* data, size_t size) {
  if (isatty(STDOUT_FILENO)) fail("-: refusing to write a binary file to a terminal; redirect stdout or name a file");
  write_fully(STDOUT_FILENO, data, size, "stdout");
}

}  // namespace

std::string read_bytes(const std::string& path) {
  const std::vector<char> bytes = read_all(path);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<char> read_all(const std::string& path) {
  const bool from_stdin = path == "-";
  const int fd = from_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: {}", path, errno == ENOENT ? "no such file" : errno_text());
  std::vector<char> bytes;
  std::array<char, 1 << 16> buffer;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      if (!from_stdin) ::close(fd);
      fail("{}: read failed: {}", from_stdin ? "stdin" : path, why);
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer.data(), buffer.data() + n);
  }
  if (!from_stdin) ::close(fd);
  return bytes;
}

h5::File open_input(const std::string& path) {
  if (path == "-") return h5::File::open_image(read_all("-"), "stdin");
  return h5::File::open(path);
}

void refuse_overwriting_inputs(const std::string& target, const std::vector<std::string>& inputs) {
  if (target == "-") return;
  struct stat out {};
  if (::stat(target.c_str(), &out) != 0) return;
  for (const auto& input : inputs) {
    struct stat in {};
    if (input != "-" && ::stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
      usage_fail("{}: the output names an input file; choose another output path", target);
  }
}

AtomicPath::AtomicPath(std::string target) : target_(std::move(target)) {
  if (target_.empty()) usage_fail("an output path is empty");
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail("{}: is a folder, not a file", target_);
  const std::string folder = folder_of(target_);
  const std::string base = target_.substr(target_.rfind('/') == std::string::npos ? 0 : target_.rfind('/') + 1);
  // The writer's pid is in the name, so that a later writer of the same target can remove what a
  // killed one (kill -9, a lost node) left; mkstemp replaces the six trailing X's.
  const std::string prefix = "." + base + ".gm-tmp-";
  remove_orphans(folder, prefix);
  std::string pattern = folder + "/" + prefix + std::to_string(::getpid()) + "-" + std::string(6, 'X');
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) fail("{}: cannot write in {}: {}", target_, folder, errno_text());
  ::close(fd);
  temp_ = pattern;
  slot_ = register_temp(temp_);
}

AtomicPath::~AtomicPath() {
  if (!committed_) ::unlink(temp_.c_str());
  unregister_temp(slot_);
}

void AtomicPath::commit() {
  const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = errno_text();
    if (fd >= 0) ::close(fd);
    fail("{}: cannot sync the written data: {}", target_, why);
  }
  ::close(fd);
  // mkstemp creates 0600; give the output the permissions a normal file would get.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(temp_.c_str(), 0666 & ~mask);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("{}: cannot rename into place: {}", target_, errno_text());
  committed_ = true;
  const int dir = ::open(folder_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

namespace {
std::string stdout_spool() {
  const char* folder = std::getenv("TMPDIR");
  return std::string(folder && *folder ? folder : "/tmp") + "/gm-stdout";  // HDF5 files and streamed bytes alike
}

std::string checked_target(const std::string& target, const std::vector<std::string>& inputs) {
  refuse_overwriting_inputs(target, inputs);
  return target;
}

// Copies a spooled output to stdout.
void copy_to_stdout(const std::string& spool) {
  const int fd = ::open(spool.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("stdout: cannot reopen the spooled output: {}", errno_text());
  std::array<char, 1 << 16> buffer;
  try {
    for (;;) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("stdout: cannot read the spooled output: {}", errno_text());
      if (n == 0) break;
      write_stdout(buffer.data(), static_cast<size_t>(n));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}
}  // namespace

H5Output::H5Output(const std::string& target, const std::vector<std::string>& inputs)
    : target_(checked_target(target, inputs)),
      path_(target == "-" ? stdout_spool() : target),
      file_(h5::File::create(path_.temp(), target == "-" ? "stdout" : target)) {}

void H5Output::commit() {
  file_.close();
  if (target_ != "-") return path_.commit();
  copy_to_stdout(path_.temp());
}

StreamOutput::StreamOutput(const std::string& target, const std::vector<std::string>& inputs)
    : target_(checked_target(target, inputs)), path_(target == "-" ? stdout_spool() : target) {
  fd_ = ::open(path_.temp().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd_ < 0) fail("{}: cannot write: {}", target, errno_text());
}

StreamOutput::~StreamOutput() {
  if (fd_ >= 0) ::close(fd_);
}

void StreamOutput::write(const char* data, std::size_t size) { write_fully(fd_, data, size, target_); }

void StreamOutput::commit() {
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("{}: write failed: {}", target_, errno_text());
  if (target_ != "-") return path_.commit();
  copy_to_stdout(path_.temp());
}

void write_output(const std::string& target, const std::vector<std::string>& inputs, const std::string& bytes) {
  StreamOutput output(target, inputs);
  output.write(bytes.data(), bytes.size());
  output.commit();
}

void defer_stop_signals() {
  g_deferring = 1;
  // The handler stays installed after the first signal, so that a second one ends the job.
  struct sigaction action {};
  action.sa_handler = cleanup_and_reraise;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM}) {
    struct sigaction current {};
    if (sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler != SIG_IGN)
      sigaction(signal_number, &action, nullptr);
  }
}

int stop_requested() { return g_stop_signal; }

void stop_by_signal() {
  const int signal_number = g_stop_signal ? g_stop_signal : SIGTERM;
  g_deferring = 0;
  cleanup_and_reraise(signal_number);
  std::_Exit(128 + signal_number);  // not reached: the default action ends the process
}

void install_signal_cleanup() {
  struct sigaction action {};
  action.sa_handler = cleanup_and_reraise;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  // A SIGINT ignored by the parent (a background job of a script) stays ignored, as shells expect.
  struct sigaction current {};
  if (sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace gm::io
