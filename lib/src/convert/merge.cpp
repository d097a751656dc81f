#include "gm/convert/convert.hpp"

#include <algorithm>
#include <set>

#include "gm/base/error.hpp"
#include "gm/cli/tool.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/output.hpp"

namespace gm::convert {
namespace {

// Root attributes that differ from shard to shard of one run by design.
const std::set<std::string> kPerShard = {"created_at", "created_by", "provenance", "shard",
                                         "first_row",  "seconds",    "ms_per_sample"};

struct Part {
  io::Input input;
  cli::Shard shard;
  std::int64_t first_row = 0, rows = 0;
};

std::vector<std::string> row_datasets(const h5::Group& root) {
  std::vector<std::string> names;
  for (const auto& name : root.children())
    if (root.has_dataset(name)) names.push_back(name);
  return names;
}

}  // namespace

void merge_shards(const std::vector<std::string>& paths, const std::string& output, const Context& context) {
  if (paths.size() < 2) usage_fail("merge needs at least two shard files");
  std::vector<Part> parts;
  for (const auto& path : paths) {
    Part part{io::open_gm(path, {io::Kind::samples, io::Kind::dataset}), {}, 0, 0};
    const h5::Group root = part.input.file.root();
    if (!root.has_attr("shard") || !root.has_attr("first_row") || !root.has_dataset("x"))
      fail("{}: has no shard, first_row or /x; not a shard of a gm-sample run", path);
    try {
      part.shard = cli::parse_shard(root.string_attr("shard"));
    } catch (const Error& e) {
      fail("{}: {}", path, e.what());
    }
    part.first_row = root.int_attr("first_row");
    part.rows = root.dataset("x").shape().at(0);
    parts.push_back(std::move(part));
  }
  // The same run: every attribute but the per-shard ones equal, the same datasets and row shapes.
  const h5::Group first = parts[0].input.file.root();
  nlohmann::json settings = attributes_json(first);
  for (const auto& name : kPerShard) settings.erase(name);
  const std::vector<std::string> names = row_datasets(first);
  for (const Part& part : parts) {
    const h5::Group root = part.input.file.root();
    nlohmann::json other = attributes_json(root);
    for (const auto& name : kPerShard) other.erase(name);
    for (const auto& [key, value] : settings.items())
      if (!other.contains(key) || other[key] != value)
        fail("{}: {} differs from {}'s; these shards are not of one run", part.input.path, key, paths[0]);
    if (other.size() != settings.size()) fail("{}: has attributes {} lacks; these shards are not of one run", part.input.path, paths[0]);
    if (part.shard.count != parts[0].shard.count)
      fail("{}: is a shard of {}, {} of {}", part.input.path, part.shard.count, paths[0], parts[0].shard.count);
    if (row_datasets(root) != names) fail("{}: holds other datasets than {}", part.input.path, paths[0]);
    for (const auto& name : names) {
      auto a = root.dataset(name).shape(), b = first.dataset(name).shape();
      if (root.dataset(name).scalar_type() != first.dataset(name).scalar_type() || a.size() != b.size() ||
          !std::equal(a.begin() + 1, a.end(), b.begin() + 1) || a[0] != part.rows)
        fail("{}: /{} is shaped or typed unlike {}'s", part.input.path, name, paths[0]);
    }
  }
  // Every shard exactly once, then rows tiling [0, total) with no gap and no overlap.
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.shard.index < b.shard.index; });
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].shard.index == parts[i - 1].shard.index)
      fail("{}: shard {}/{} appears twice (also {})", parts[i].input.path, parts[i].shard.index, parts[i].shard.count,
           parts[i - 1].input.path);
  if (static_cast<std::int64_t>(parts.size()) != parts[0].shard.count) {
    std::vector<std::string> missing;
    std::set<std::int64_t> present;
    for (const Part& part : parts) present.insert(part.shard.index);
    for (std::int64_t k = 0; k < parts[0].shard.count; ++k)
      if (!present.count(k)) missing.push_back(std::to_string(k));
    fail("{}: shards {} of {} are missing", paths[0], fmt::format("{}", fmt::join(missing, ", ")), parts[0].shard.count);
  }
  std::int64_t total = 0;
  for (const Part& part : parts) {
    if (part.first_row != total)
      fail("{}: starts at row {}, but the shards before it end at row {}", part.input.path, part.first_row, total);
    total += part.rows;
  }

  io::H5Output out(output, paths);
  const h5::Group root = out.root();
  root.copy_attrs_from(first);
  std::vector<nlohmann::json> records;
  double seconds = 0;
  for (const Part& part : parts) {
    records.push_back(part.input.record);
    if (part.input.file.root().has_attr("seconds")) seconds += part.input.file.root().doubles_attr("seconds").at(0);
  }
  io::stamp(root, parts[0].input.kind, context, records);
  root.set_attr("shard", "0/1");
  root.set_attr("first_row", static_cast<std::int64_t>(0));
  if (first.has_attr("seconds")) {
    root.set_attr("seconds", seconds);
    root.set_attr("ms_per_sample", total > 0 ? 1000.0 * seconds / static_cast<double>(total) : 0.0);
  }
  for (const auto& name : names) {
    const h5::Dataset source = first.dataset(name);
    const std::vector<std::int64_t> shape = source.shape();
    const h5::Dataset target =
        io::create_rows(root, name, source.scalar_type(), std::vector<std::int64_t>(shape.begin() + 1, shape.end()), total);
    target.copy_attrs_from(source);
    for (const Part& part : parts)
      io::for_each_row_chunk(part.input.file.root().dataset(name), [&](const torch::Tensor& rows) { target.append(rows); });
  }
  out.commit();
}

}  // namespace gm::convert
