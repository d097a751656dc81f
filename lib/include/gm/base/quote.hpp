// Single-quoting text for the languages gm writes scripts in.
#pragma once

#include <string>

namespace gm {

// 'text', with each ' inside replaced by `escaped_quote`: '\'' for POSIX shells (the default),
// \' for fish, '' for gnuplot.
inline std::string single_quote(const std::string& text, const std::string& escaped_quote = "'\\''") {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? escaped_quote : std::string(1, c);
  return out + "'";
}

}  // namespace gm
