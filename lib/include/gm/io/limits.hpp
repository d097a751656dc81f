// The largest buffer a reader allocates on a file's say-so, so that a hostile header cannot
// ask for terabytes before any data is read.
#pragma once

#include <cstdint>
#include <string>

namespace gm::io {

// This machine's physical memory, or GM_MAX_BUFFER_MB megabytes when that is set and smaller
// (a batch job's memory limit, or a fuzzer's).
std::uint64_t max_buffer_bytes();

// Fails naming `where` unless `bytes` fits max_buffer_bytes().
void check_allocation(std::uint64_t bytes, const char* what, const std::string& where);

}  // namespace gm::io
