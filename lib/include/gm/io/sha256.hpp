// SHA-256 (FIPS 180-4), for the content hashes in provenance records.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gm::io {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  // Lower-case hex digest; the object is spent afterwards.
  std::string hex();

 private:
  void block(const std::uint8_t* data);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

std::string sha256_hex(const void* data, std::size_t size);
// Hashes a file by streaming it; throws gm::Error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace gm::io
