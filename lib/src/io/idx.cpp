#include "gm/io/idx.hpp"

#include "gm/base/error.hpp"
#include "gm/io/compress.hpp"
#include "gm/io/elements.hpp"
#include "gm/io/limits.hpp"

namespace gm::io {

namespace {

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct IdxType {
  torch::ScalarType scalar;
  std::size_t size;
};

IdxType idx_type(unsigned char code, const std::string& where) {
  switch (code) {
    case 0x08: return {torch::kByte, 1};
    case 0x09: return {torch::kChar, 1};
    case 0x0B: return {torch::kShort, 2};
    case 0x0C: return {torch::kInt, 4};
    case 0x0D: return {torch::kFloat, 4};
    case 0x0E: return {torch::kDouble, 8};
    default: fail("{}: IDX type code 0x{:02x} is none of 0x08, 0x09, 0x0B-0x0E", where, code);
  }
}

}  // namespace

torch::Tensor parse_idx(const std::string& given, const std::string& where) {
  const std::string bytes = is_gzip(given) ? gunzip(given, where) : given;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0) fail("{}: not an IDX file (no 00 00 magic)", where);
  const IdxType type = idx_type(p[2], where);
  const int rank = p[3];
  if (rank < 1) fail("{}: IDX rank is 0", where);
  if (bytes.size() < 4 + 4 * static_cast<std::size_t>(rank)) fail("{}: IDX header is truncated", where);
  std::vector<std::int64_t> shape;
  std::uint64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    shape.push_back(big_endian32(p + 4 + 4 * i));
    // Each extent is below 2^32, so the running product stays exact until it passes the cap.
    elements *= static_cast<std::uint64_t>(shape.back());
    check_allocation(elements * type.size, "the IDX array", where);
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
  const std::uint64_t need = elements * type.size;
  if (bytes.size() - header != need)
    fail("{}: IDX header says {} bytes of data, the file has {}", where, need, bytes.size() - header);
  torch::Tensor out = torch::empty(shape, type.scalar);
  copy_elements(out, p + header, type.size, /*swap=*/true);  // IDX is big-endian
  return out;
}

}  // namespace gm::io
