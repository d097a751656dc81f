#include "gm/io/npy.hpp"

#include <regex>

#include "gm/base/error.hpp"
#include "gm/io/elements.hpp"
#include "gm/io/limits.hpp"
#include "gm/io/zip.hpp"

namespace gm::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct NpyType {
  torch::ScalarType scalar;
  std::size_t size;
  char code;
};

NpyType npy_type(char code, std::size_t size, const std::string& where) {
  using T = torch::ScalarType;
  const std::pair<char, std::size_t> key{code, size};
  static const std::map<std::pair<char, std::size_t>, T> known = {
      {{'b', 1}, T::Bool},  {{'u', 1}, T::Byte},  {{'i', 1}, T::Char},  {{'i', 2}, T::Short},  {{'i', 4}, T::Int},
      {{'i', 8}, T::Long},  {{'f', 2}, T::Half},  {{'f', 4}, T::Float}, {{'f', 8}, T::Double}};
  const auto found = known.find(key);
  if (found == known.end()) fail("{}: numpy dtype '{}{}' is not one gm reads", where, code, size);
  return {found->second, size, code};
}

// The 'descr' of a tensor's dtype, little-endian.
std::string descr_of(torch::ScalarType type) {
  switch (type) {
    case torch::kBool: return "|b1";
    case torch::kByte: return "|u1";
    case torch::kChar: return "|i1";
    case torch::kShort: return "<i2";
    case torch::kInt: return "<i4";
    case torch::kLong: return "<i8";
    case torch::kHalf: return "<f2";
    case torch::kFloat: return "<f4";
    case torch::kDouble: return "<f8";
    default: fail("a {} tensor has no numpy dtype gm writes", c10::toString(type));
  }
}

// One value of the header dict: the text after 'key': up to the next top-level comma or brace.
std::string header_value(const std::string& header, const std::string& key, const std::string& where) {
  const std::string quoted = "'" + key + "'";
  const std::size_t at = header.find(quoted);
  if (at == std::string::npos) fail("{}: npy header has no '{}'", where, key);
  std::size_t start = header.find(':', at + quoted.size());
  if (start == std::string::npos) fail("{}: npy header is malformed near '{}'", where, key);
  ++start;
  int depth = 0;
  std::size_t end = start;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth < 0) break;
  }
  if (depth != 0) fail("{}: npy header is malformed near '{}'", where, key);
  const std::string value = header.substr(start, end - start);
  const std::size_t first = value.find_first_not_of(" \t"), last = value.find_last_not_of(" \t");
  return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
}

}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) fail("{}: not a .npy file (no \\x93NUMPY magic)", where);
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) fail("{}: npy format version {} is not 1, 2 or 3", where, major);
  const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(bytes[i])}; };
  const std::size_t length_size = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_size) fail("{}: npy header is truncated", where);
  std::uint64_t header_size = 0;
  for (std::size_t i = 0; i < length_size; ++i) header_size |= byte(8 + i) << (8 * i);
  const std::uint64_t data_at = 8 + length_size + header_size;
  if (data_at > bytes.size()) fail("{}: npy header of {} bytes runs past the end of the file", where, header_size);
  const std::string header = bytes.substr(8 + length_size, header_size);

  static const std::regex descr_pattern("'([<>|=])([biuf])([0-9]{1,2})'");  // sizes 1-8: two digits at most
  const std::string descr = header_value(header, "descr", where);
  std::smatch m;
  if (!std::regex_match(descr, m, descr_pattern)) fail("{}: npy dtype {} is not one gm reads", where, descr);
  const NpyType type = npy_type(m[2].str()[0], std::stoul(m[3].str()), where);
  const bool swap = m[1].str() == ">" && type.size > 1;
  const std::string order = header_value(header, "fortran_order", where);
  if (order != "True" && order != "False") fail("{}: npy fortran_order is {}", where, order);
  const std::string shape_text = header_value(header, "shape", where);
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    fail("{}: npy shape {} is not a tuple", where, shape_text);
  std::vector<std::int64_t> shape;
  std::uint64_t elements = 1;
  static const std::regex extent_pattern("\\s*([0-9]{1,18})\\s*(,|$)");
  const std::string inner = shape_text.substr(1, shape_text.size() - 2);
  for (auto it = std::sregex_iterator(inner.begin(), inner.end(), extent_pattern); it != std::sregex_iterator(); ++it) {
    shape.push_back(std::stoll((*it)[1].str()));
    if (shape.back() > 0 && elements > max_buffer_bytes() / static_cast<std::uint64_t>(shape.back()))
      fail("{}: npy shape {} is too large", where, shape_text);
    elements *= static_cast<std::uint64_t>(shape.back());
  }
  std::string compact;
  for (char c : inner)
    if (c != ' ') compact += c;
  if (!compact.empty() && shape.empty()) fail("{}: npy shape {} is malformed", where, shape_text);
  check_allocation(elements * type.size, "the npy array", where);
  const std::uint64_t need = elements * type.size;
  if (bytes.size() - data_at != need)
    fail("{}: npy header says {} bytes of data, the file has {}", where, need, bytes.size() - data_at);

  const bool fortran = order == "True";
  std::vector<std::int64_t> stored = shape;
  if (fortran) std::reverse(stored.begin(), stored.end());
  torch::Tensor out = torch::empty(stored, type.scalar);
  copy_elements(out, reinterpret_cast<const unsigned char*>(bytes.data() + data_at), type.size, swap);
  if (type.scalar == torch::kBool && (out.view(torch::kByte) > 1).any().item<bool>())
    fail("{}: npy bool array holds bytes other than 0 and 1", where);
  if (fortran) {
    std::vector<std::int64_t> reverse(stored.size());
    for (std::size_t i = 0; i < reverse.size(); ++i) reverse[i] = static_cast<std::int64_t>(reverse.size() - 1 - i);
    out = out.permute(reverse).contiguous();
  }
  return out;
}

std::string npy_header(torch::ScalarType type, const std::vector<std::int64_t>& shape) {
  std::vector<std::string> extents;
  for (std::int64_t extent : shape) extents.push_back(std::to_string(extent));
  const std::string text = fmt::format("({}{})", fmt::join(extents, ", "), extents.size() == 1 ? "," : "");
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of(type), text);
  // Magic, version, length and header, padded with spaces and a newline to a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header;
}

std::string encode_npy(const torch::Tensor& given) {
  const torch::Tensor tensor = given.to(torch::kCPU).contiguous();
  std::string out = npy_header(tensor.scalar_type(), tensor.sizes().vec());
  out.append(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
  return out;
}

std::map<std::string, torch::Tensor> parse_npz(const std::string& bytes, const std::string& where) {
  std::map<std::string, torch::Tensor> arrays;
  for (const auto& [name, data] : read_zip(bytes, where)) {
    const std::string key = name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0
                                ? name.substr(0, name.size() - 4)
                                : name;
    arrays.emplace(key, parse_npy(data, where + ":" + name));
  }
  return arrays;
}

std::string encode_npz(const std::map<std::string, torch::Tensor>& arrays) {
  ZipWriter zip;
  for (const auto& [name, tensor] : arrays) zip.add(name + ".npy", encode_npy(tensor));
  return zip.finish();
}

}  // namespace gm::io
