#include "gm/io/gmfile.hpp"

#include <ctime>

#include "gm/base/error.hpp"
#include "gm/base/text.hpp"
#include "gm/io/output.hpp"
#include "gm/io/sha256.hpp"
#include "gm/version.hpp"

namespace gm::io {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::dataset: return "dataset";
    case Kind::samples: return "samples";
    case Kind::model: return "model";
  }
  return "?";
}

Kind parse_kind(const std::string& name, const std::string& where) {
  for (Kind k : {Kind::dataset, Kind::samples, Kind::model})
    if (name == kind_name(k)) return k;
  fail("{}: unknown gm_kind '{}'", where, name);
}

nlohmann::json json_attr(const h5::Object& object, const std::string& name) {
  const std::string text = object.string_attr(name);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    fail("{}: attribute '{}' is not valid JSON", object.where(), name);
  }
}

void set_json_attr(const h5::Object& object, const std::string& name, const nlohmann::json& value) {
  object.set_attr(name, value.dump());
}

bool is_h5_name(const std::string& path) { return path == "-" || ends_with(path, ".h5") || ends_with(path, ".hdf5"); }

std::optional<std::array<double, 2>> range_attr(const h5::Dataset& x) {
  if (!x.has_attr("range")) return std::nullopt;
  const auto given = x.doubles_attr("range");
  if (given.size() != 2 || !(given[1] > given[0])) fail("{}: range attribute is not [lo, hi]", x.where());
  return std::array<double, 2>{given[0], given[1]};
}

Input open_gm(const std::string& path, const std::vector<Kind>& accepted) {
  std::string hash;
  std::optional<h5::File> file;
  if (path == "-") {
    const std::vector<char> bytes = read_all("-");
    hash = sha256_hex(bytes.data(), bytes.size());
    file.emplace(h5::File::open_image(bytes, "stdin"));
  } else {
    file.emplace(h5::File::open(path));
    hash = sha256_file(path);
  }
  const h5::Group root = file->root();
  const std::string label = file->label();
  if (!root.has_attr("gm_format")) fail("{}: not a gm file (no gm_format attribute)", label);
  const std::string format = root.string_attr("gm_format");
  if (format != kFormat) fail("{}: gm_format is '{}', this gm reads '{}'", label, format, kFormat);
  const Kind kind = parse_kind(root.string_attr("gm_kind"), label);
  bool ok = accepted.empty();
  std::string wanted;
  for (Kind k : accepted) {
    ok = ok || k == kind;
    wanted += (wanted.empty() ? "" : " or ") + std::string(kind_name(k));
  }
  if (!ok) fail("{}: is a {} file, expected {}", label, kind_name(kind), wanted);
  nlohmann::json record = {{"path", path}, {"sha256", hash}, {"gm_kind", kind_name(kind)}};
  if (root.has_attr("created_by")) record["created_by"] = root.string_attr("created_by");
  if (root.has_attr("provenance")) record["provenance"] = json_attr(root, "provenance");
  return Input{path, std::move(*file), kind, std::move(record)};
}

nlohmann::json source_record(const std::string& source, nlohmann::json parameters) {
  nlohmann::json record = {{"source", source}};
  record.update(parameters);
  return record;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::map<std::string, std::string> stamp_attributes(Kind kind, const Context& context,
                                                    const std::vector<nlohmann::json>& inputs) {
  return {{"gm_format", kFormat},
          {"gm_kind", kind_name(kind)},
          {"gm_version", GM_VERSION},
          {"created_by", context.command_line},
          {"created_at", utc_now()},
          {"provenance", nlohmann::json{{"inputs", inputs}}.dump()}};
}

void stamp(const h5::Group& root, Kind kind, const Context& context, const std::vector<nlohmann::json>& inputs) {
  for (const auto& [name, value] : stamp_attributes(kind, context, inputs)) root.set_attr(name, value);
}

nlohmann::json file_record(const std::string& path, const std::string& sha256,
                           const std::map<std::string, std::string>& attributes) {
  nlohmann::json record = {{"path", path}, {"sha256", sha256}};
  for (const char* name : {"gm_kind", "created_by"})
    if (attributes.count(name)) record[name] = attributes.at(name);
  if (attributes.count("provenance")) {
    const nlohmann::json provenance = nlohmann::json::parse(attributes.at("provenance"), nullptr, false);
    if (!provenance.is_discarded()) record["provenance"] = provenance;
  }
  return record;
}

h5::Dataset create_rows(const h5::Group& root, const std::string& name, torch::ScalarType type,
                        const std::vector<std::int64_t>& row_shape, std::int64_t expected_rows) {
  std::vector<std::int64_t> shape{0};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  return root.create_dataset(name, type, shape, h5::Layout{true, 0, expected_rows});
}

void for_each_row_chunk(const h5::Dataset& rows, const std::function<void(const torch::Tensor&)>& use,
                        std::int64_t start, std::int64_t count) {
  const std::vector<std::int64_t> shape = rows.shape();
  if (shape.empty()) return use(rows.read().contiguous());
  std::int64_t row_bytes = static_cast<std::int64_t>(torch::elementSize(rows.scalar_type()));
  for (size_t i = 1; i < shape.size(); ++i) row_bytes *= shape[i];
  const std::int64_t step = std::max<std::int64_t>(1, (8 << 20) / std::max<std::int64_t>(1, row_bytes));
  const std::int64_t end = count < 0 ? shape[0] : start + count;
  for (std::int64_t at = start; at < end; at += step) use(rows.read_rows(at, std::min(step, end - at)).contiguous());
}

void copy_rows(const h5::Dataset& source, const h5::Group& root, const std::string& name) {
  const std::vector<std::int64_t> shape = source.shape();
  if (shape.empty()) fail("{}: a scalar, not a dataset of rows", source.where());
  const h5::Dataset target =
      create_rows(root, name, source.scalar_type(), std::vector<std::int64_t>(shape.begin() + 1, shape.end()), shape[0]);
  target.copy_attrs_from(source);
  for_each_row_chunk(source, [&](const torch::Tensor& chunk) { target.append(chunk); });
}

void write_tensors(const h5::Group& group, const std::map<std::string, torch::Tensor>& tensors) {
  // Dotted names stay one HDF5 name each: /params/net.0.weight, as DESIGN §3 lays out.
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name.find('/') != std::string::npos) fail("{}: invalid tensor name '{}'", group.where(), name);
    group.write(name, tensor);
  }
}

std::map<std::string, torch::Tensor> read_tensors(const h5::Group& group) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : group.children()) {
    if (!group.has_dataset(name)) fail("{}/{}: expected a tensor dataset", group.where(), name);
    tensors.emplace(name, group.dataset(name).read());
  }
  return tensors;
}

}  // namespace gm::io
