#include "gm/io/compress.hpp"

#include <zlib.h>

#include "gm/base/error.hpp"
#include "gm/io/limits.hpp"

namespace gm::io {

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

namespace {

// Inflates `bytes` with the given window bits; `expected` > 0 fixes the output size.
std::string inflate_all(const std::string& bytes, int window_bits, std::uint64_t expected, const std::string& where) {
  // zlib's state is freed on every way out, errors included.
  struct Stream {
    z_stream z{};
    bool started = false;
    ~Stream() {
      if (started) inflateEnd(&z);
    }
  } guard;
  z_stream& stream = guard.z;
  if (expected > 0) check_allocation(expected, "the decompressed data", where);
  if (inflateInit2(&stream, window_bits) != Z_OK) fail("{}: cannot start zlib", where);
  guard.started = true;
  std::string out;
  if (expected > 0) out.reserve(expected);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  std::size_t fed = 0;
  char buffer[1 << 16];
  int status = Z_OK;
  while (true) {
    if (stream.avail_in == 0 && fed < bytes.size()) {
      const std::size_t take = std::min<std::size_t>(bytes.size() - fed, 1u << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + fed));
      stream.avail_in = static_cast<uInt>(take);
      fed += take;
    }
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (out.size() > max_buffer_bytes() || (expected > 0 && out.size() > expected))
      fail("{}: decompresses to more than {} bytes", where, expected > 0 ? expected : max_buffer_bytes());
    if (status == Z_STREAM_END) {
      // gzip allows several members one after another; gunzip joins them.
      if (window_bits > 15 && (stream.avail_in > 0 || fed < bytes.size())) {
        if (inflateReset(&stream) != Z_OK) break;
        continue;
      }
      break;
    }
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && fed == bytes.size())
      fail("{}: compressed data ends early (truncated file)", where);
    if (status != Z_OK && status != Z_BUF_ERROR)
      fail("{}: cannot decompress: {}", where, stream.msg ? stream.msg : "corrupt data");
  }
  if (expected > 0 && out.size() != expected)
    fail("{}: decompresses to {} bytes, its header says {}", where, out.size(), expected);
  return out;
}

}  // namespace

std::string gunzip(const std::string& bytes, const std::string& where) {
  if (!is_gzip(bytes)) fail("{}: not a gzip file", where);
  return inflate_all(bytes, 16 + MAX_WBITS, 0, where);
}

std::string inflate_raw(const std::string& bytes, std::uint64_t size, const std::string& where) {
  if (size == 0) return {};
  return inflate_all(bytes, -MAX_WBITS, size, where);
}

}  // namespace gm::io
