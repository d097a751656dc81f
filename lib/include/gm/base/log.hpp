// Logging to stderr; stdout is reserved for data.
#pragma once

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace gm::log {

// -1 quiet (errors only), 0 normal, 1 verbose, 2 debug.
void set_verbosity(int level);
int verbosity();
// The tool's name, used as the prefix of every line.
void set_program(std::string name);
const std::string& program();

void write(int level, const std::string& line);

template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= 0) write(0, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void verbose(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= 1) write(1, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= 2) write(2, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= 0) write(-1, "warning: " + fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace gm::log
