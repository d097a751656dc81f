// The largest buffer a reader allocates on a file's say-so, so that a hostile header cannot
// ask for terabytes before any data is read.
#pragma once

#include <cstdint>
#include <string>

namespace gm::io {

// 16 GiB: more than any dataset gm trains on in memory, far less than a corrupt size asks for.
inline constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{1} << 34;

// Fails naming `where` unless `bytes` fits the cap.
void check_allocation(std::uint64_t bytes, const char* what, const std::string& where);

}  // namespace gm::io
