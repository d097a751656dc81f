// Errors that the tools turn into one line on stderr and an exit code.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace gm {

// A failure of the command (bad file, I/O error, numerical problem): exit 1.
// The message names the file or object it concerns and says what was wrong.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A mistake in how the command was called (bad option value, missing input): exit 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void usage_fail(fmt::format_string<Args...> format, Args&&... args) {
  throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace gm
