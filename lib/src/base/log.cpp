#include "gm/base/log.hpp"

#include <unistd.h>

namespace gm::log {
namespace {
int g_verbosity = 0;
std::string g_program = "gm";
}  // namespace

void set_verbosity(int level) { g_verbosity = level; }
int verbosity() { return g_verbosity; }
void set_program(std::string name) { g_program = std::move(name); }
const std::string& program() { return g_program; }

void write(int /*level*/, const std::string& line) {
  std::string out = g_program + ": " + line + "\n";
  // One write() per line keeps lines whole when several processes share stderr.
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}

}  // namespace gm::log
