// The gm/1 file schema on top of the HDF5 layer: root attributes, provenance, and the
// dataset, samples and model files that the tools pass to each other.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gm/base/context.hpp"
#include "gm/io/h5.hpp"

namespace gm::io {

inline constexpr const char* kFormat = "gm/1";

enum class Kind { dataset, samples, model };
const char* kind_name(Kind kind);
Kind parse_kind(const std::string& name, const std::string& where);

// An opened gm input with its provenance record (path, sha256, kind, created_by, provenance).
struct Input {
  std::string path;
  h5::File file;
  Kind kind;
  nlohmann::json record;
};

// A path that names gm HDF5: .h5, .hdf5, or "-" for a stream.
bool is_h5_name(const std::string& path);

// The /x `range` attribute [lo, hi], checked, when the dataset has one.
std::optional<std::array<double, 2>> range_attr(const h5::Dataset& x);

// Opens a gm file (or "-" for stdin), checks gm_format and that its kind is one of `accepted`.
Input open_gm(const std::string& path, const std::vector<Kind>& accepted);

// A provenance record for data that came from no file, such as a built-in toy source.
nlohmann::json source_record(const std::string& source, nlohmann::json parameters);

// The root attributes of every gm file: gm_format, gm_kind, gm_version, created_by, created_at
// and provenance. `inputs` are records from open_gm or source_record; together they form the
// provenance chain. stamp() writes them to an HDF5 root.
std::map<std::string, std::string> stamp_attributes(Kind kind, const Context& context,
                                                    const std::vector<nlohmann::json>& inputs);
void stamp(const h5::Group& root, Kind kind, const Context& context, const std::vector<nlohmann::json>& inputs);

// The provenance record of an input that is not HDF5 (a safetensors or .pt file): path, hash,
// and the gm attributes it carried, if any.
nlohmann::json file_record(const std::string& path, const std::string& sha256,
                           const std::map<std::string, std::string>& attributes);

nlohmann::json json_attr(const h5::Object& object, const std::string& name);
void set_json_attr(const h5::Object& object, const std::string& name, const nlohmann::json& value);

// ISO 8601 UTC time, for created_at.
std::string utc_now();

// Datasets of rows, grown in chunks: /x, and optionally /y (labels) and /z (noise).
h5::Dataset create_rows(const h5::Group& root, const std::string& name, torch::ScalarType type,
                        const std::vector<std::int64_t>& row_shape, std::int64_t expected_rows = 0);

// Rows [start, start + count) of a dataset (count -1: to the end), a few megabytes at a time, as
// contiguous tensors, so that copying a dataset of any size keeps memory flat.
void for_each_row_chunk(const h5::Dataset& rows, const std::function<void(const torch::Tensor&)>& use,
                        std::int64_t start = 0, std::int64_t count = -1);
// A copy of a dataset of rows under `root`, made a chunk at a time, with its attributes.
void copy_rows(const h5::Dataset& source, const h5::Group& root, const std::string& name);

// Named tensors (parameters, buffers, EMA weights) under a group, keyed by dotted names.
void write_tensors(const h5::Group& group, const std::map<std::string, torch::Tensor>& tensors);
std::map<std::string, torch::Tensor> read_tensors(const h5::Group& group);

}  // namespace gm::io
