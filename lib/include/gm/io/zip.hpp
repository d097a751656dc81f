// The zip container of PyTorch's .pt files and NumPy's .npz: stored entries (deflated ones are
// read too), no ZIP64. Reading validates every header against the file's length before
// trusting it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gm::io {

// The CRC-32 of zip and gzip, continued from `crc` (0 to start).
std::uint32_t crc32(const char* data, std::size_t size, std::uint32_t crc = 0);

// Writes a zip archive of stored entries: into memory (finish() returns it), or piece by piece
// to a sink, so that an archive larger than memory can be streamed to a file.
class ZipWriter {
 public:
  using Sink = std::function<void(const char* data, std::size_t size)>;
  ZipWriter();
  explicit ZipWriter(Sink sink);
  // Adds a stored entry whose data starts at a multiple of `align` bytes in the archive (PyTorch
  // aligns tensor data to 64 so that it can be memory-mapped).
  void add(const std::string& name, const std::string& data, std::size_t align = 1);
  // The same for data of `size` bytes and checksum `crc` that `write_data` sends to the sink it
  // is given, in as many pieces as it likes.
  void add(const std::string& name, std::uint64_t size, std::uint32_t crc,
           const std::function<void(const Sink&)>& write_data, std::size_t align = 1);
  // Ends the archive with its central directory; returns it when written into memory.
  std::string finish();

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc, size;
    std::uint32_t offset;
  };
  void put(const std::string& bytes);
  std::string bytes_;
  Sink sink_;
  std::uint64_t written_ = 0;
  std::vector<Entry> entries_;
};

// The entries of a zip archive held in memory, by name. Stored or deflated, unencrypted entries;
// every offset and size is checked, and each entry's CRC-32 is verified.
std::map<std::string, std::string> read_zip(const std::string& bytes, const std::string& where);

}  // namespace gm::io
