// The zip container of PyTorch's .pt files and NumPy's .npz: stored entries (deflated ones are
// read too), no ZIP64. Reading validates every header against the file's length before
// trusting it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gm::io {

std::uint32_t crc32(const char* data, std::size_t size);

class ZipWriter {
 public:
  // Adds a stored entry whose data starts at a multiple of `align` bytes in the archive (PyTorch
  // aligns tensor data to 64 so that it can be memory-mapped).
  void add(const std::string& name, const std::string& data, std::size_t align = 1);
  // The whole archive: entries, central directory, end record.
  std::string finish();

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc, size;
    std::uint32_t offset;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
};

// The entries of a zip archive held in memory, by name. Stored or deflated, unencrypted entries;
// every offset and size is checked, and each entry's CRC-32 is verified.
std::map<std::string, std::string> read_zip(const std::string& bytes, const std::string& where);

}  // namespace gm::io
