#include "gm/io/limits.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "gm/base/error.hpp"

namespace gm::io {

std::uint64_t max_buffer_bytes() {
  static const std::uint64_t limit = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    std::uint64_t bytes = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                                                : std::uint64_t{1} << 34;
    if (const char* given = std::getenv("GM_MAX_BUFFER_MB"); given && *given) {
      char* end = nullptr;
      const unsigned long long mb = std::strtoull(given, &end, 10);
      if (*end == '\0' && mb > 0) bytes = std::min<std::uint64_t>(bytes, mb << 20);
    }
    return bytes;
  }();
  return limit;
}

void check_allocation(std::uint64_t bytes, const char* what, const std::string& where) {
  if (bytes > max_buffer_bytes())
    fail("{}: {} would take {} bytes, over gm's limit of {} for one buffer", where, what, bytes, max_buffer_bytes());
}

}  // namespace gm::io
