// zlib streams: gzip files (IDX .gz) and the raw deflate of zip entries (.npz).
#pragma once

#include <cstdint>
#include <string>

namespace gm::io {

bool is_gzip(const std::string& bytes);  // starts with the gzip magic 1f 8b

// The decompressed bytes of a gzip file (every member, as gunzip does), at most
// max_buffer_bytes(); a truncated or corrupt stream fails naming `where`.
std::string gunzip(const std::string& bytes, const std::string& where);

// A raw deflate stream (zip method 8) that must inflate to exactly `size` bytes.
std::string inflate_raw(const std::string& bytes, std::uint64_t size, const std::string& where);

}  // namespace gm::io
