#include "gm/io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "gm/base/error.hpp"

namespace gm::io {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // the reference reader's limit

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
constexpr DtypeName kDtypes[] = {{"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf},
                                 {"BF16", torch::kBFloat16}, {"I64", torch::kLong}, {"I32", torch::kInt},
                                 {"U8", torch::kByte},       {"BOOL", torch::kBool}};

torch::ScalarType dtype_of(const std::string& name, const std::string& where, const std::string& tensor) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  fail("{}: tensor '{}' has dtype '{}', not one gm reads (F64 F32 F16 BF16 I64 I32 U8 BOOL)", where, tensor, name);
}

const char* name_of(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  fail("tensors of type {} have no safetensors dtype gm writes", c10::toString(type));
}

std::uint64_t unsigned_of(const nlohmann::json& value, const std::string& where, const std::string& what) {
  if (!value.is_number_unsigned()) fail("{}: {} must be a non-negative integer, is {}", where, what, value.dump());
  return value.get<std::uint64_t>();
}

// The JSON header, refusing duplicate tensor names (nlohmann would keep the last silently).
nlohmann::json parse_header(const std::string& text, const std::string& where) {
  std::set<std::string> names;
  std::string duplicate;
  const nlohmann::json::parser_callback_t check = [&](int depth, nlohmann::json::parse_event_t event,
                                                      nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && !names.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header = nlohmann::json::parse(text, check, /*allow_exceptions=*/false);
  if (header.is_discarded()) fail("{}: the safetensors header is not valid JSON", where);
  if (!header.is_object()) fail("{}: the safetensors header is not a JSON object", where);
  if (!duplicate.empty()) fail("{}: the safetensors header names '{}' twice", where, duplicate);
  return header;
}

}  // namespace

TensorFile parse_safetensors(const std::string& bytes, const std::string& where) {
  static_assert(sizeof(std::uint64_t) == 8);
  if (bytes.size() < 8) fail("{}: too short for a safetensors file ({} bytes)", where, bytes.size());
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_bytes > bytes.size() - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes)", where, header_bytes, bytes.size());
  if (header_bytes > kMaxHeaderBytes) fail("{}: header length {} is over the 100 MiB limit", where, header_bytes);
  const nlohmann::json header = parse_header(bytes.substr(8, header_bytes), where);
  const std::uint64_t data_start = 8 + header_bytes, data_bytes = bytes.size() - data_start;

  TensorFile file;
  struct Range {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("{}: __metadata__ is not a JSON object", where);
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail("{}: __metadata__ '{}' is not a string", where, key);
        file.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      fail("{}: tensor '{}' needs dtype, shape and data_offsets", where, name);
    if (!entry.at("dtype").is_string()) fail("{}: tensor '{}' has a dtype that is not a string", where, name);
    const torch::ScalarType type = dtype_of(entry.at("dtype").get<std::string>(), where, name);
    const auto& shape_json = entry.at("shape");
    const auto& offsets = entry.at("data_offsets");
    if (!shape_json.is_array() || shape_json.size() > 64) fail("{}: tensor '{}' has a malformed shape", where, name);
    if (!offsets.is_array() || offsets.size() != 2) fail("{}: tensor '{}' needs data_offsets [begin, end]", where, name);
    std::vector<std::int64_t> shape;
    std::uint64_t count = 1;
    for (const auto& extent : shape_json) {
      const std::uint64_t n = unsigned_of(extent, where, "tensor '" + name + "' shape");
      // Bounded by the data size before multiplying, so the product cannot overflow.
      if (n > data_bytes + 1 || (n > 0 && count > (data_bytes + 1) / n))
        fail("{}: tensor '{}' shape {} holds more elements than the file has bytes", where, name, shape_json.dump());
      count *= n;
      shape.push_back(static_cast<std::int64_t>(n));
    }
    const std::uint64_t begin = unsigned_of(offsets[0], where, "data_offsets"), end = unsigned_of(offsets[1], where, "data_offsets");
    if (begin > end || end > data_bytes)
      fail("{}: tensor '{}' data_offsets [{}, {}] fall outside the {} data bytes", where, name, begin, end, data_bytes);
    const std::uint64_t expected = count * c10::elementSize(type);
    if (end - begin != expected)
      fail("{}: tensor '{}' has {} bytes, but dtype {} and shape {} need {}", where, name, end - begin,
           entry.at("dtype").get<std::string>(), shape_json.dump(), expected);
    ranges.push_back({begin, end, name});
    torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + begin, expected);
    file.tensors.emplace(name, std::move(tensor));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t at = 0;
  for (const Range& range : ranges) {
    if (range.begin < at) fail("{}: tensor '{}' overlaps the tensor before it", where, range.name);
    if (range.begin > at) fail("{}: {} unused bytes before tensor '{}'", where, range.begin - at, range.name);
    at = range.end;
  }
  if (at != data_bytes) fail("{}: {} bytes after the last tensor", where, data_bytes - at);
  return file;
}

std::string encode_safetensors(const TensorFile& file) {
  nlohmann::json header = nlohmann::json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::uint64_t at = 0;
  std::vector<torch::Tensor> ordered;
  for (const auto& [name, tensor] : file.tensors) {
    if (name == "__metadata__") fail("a tensor cannot be named __metadata__");
    const torch::Tensor contiguous = tensor.to(torch::kCPU).contiguous();
    const std::uint64_t size = static_cast<std::uint64_t>(contiguous.numel()) * contiguous.element_size();
    header[name] = {{"dtype", name_of(contiguous.scalar_type())}, {"shape", contiguous.sizes().vec()},
                    {"data_offsets", {at, at + size}}};
    at += size;
    ordered.push_back(contiguous);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xff);
  bytes += text;
  bytes.reserve(bytes.size() + at);
  for (const auto& tensor : ordered)
    bytes.append(static_cast<const char*>(tensor.data_ptr()), static_cast<size_t>(tensor.numel()) * tensor.element_size());
  return bytes;
}

}  // namespace gm::io
