#include <CLI/CLI.hpp>

#include "gm/sample/sample.hpp"

#include <algorithm>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/progress.hpp"
#include "gm/cli/tool.hpp"
#include "gm/data/toy.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/output.hpp"
#include "gm/version.hpp"

namespace gm::sample {

void SampleOptions::register_on(CLI::App& app) {
  app.add_option("source", source, "toy:ring8, toy:grid25, toy:grid25-lt100 (any toy:NAME-ltF), or a model file")
      ->required();
  app.add_option("-n,--num", count, "Rows to draw in the whole run, all shards together")->required();
  app.add_option("-o,--output", output, "Output file; - writes to stdout")->type_name("FILE")->required();
  app.add_option("--shard", shard, "Write only slice K of N equal slices of the run (0-based), for job arrays")
      ->type_name("K/N")
      ->capture_default_str();
  app.add_option("--chunk", chunk, "Rows generated and written at a time; bounds memory")->capture_default_str();
}

namespace {

void write_toy(const SampleOptions& options, const Context& context, const cli::Shard& shard) {
  const data::ToySpec spec = data::toy_spec(options.source);
  const std::int64_t begin = shard.begin(options.count), end = shard.end(options.count);
  io::H5Output out(options.output, {});
  const h5::Group root = out.root();
  io::stamp(root, io::Kind::dataset, context,
            {io::source_record(options.source, {{"seed", context.seed}, {"n", options.count}})});
  root.set_attr("source", options.source);
  root.set_attr("seed", static_cast<std::int64_t>(context.seed));
  root.set_attr("rows_in_run", options.count);
  root.set_attr("first_row", begin);
  root.set_attr("shard", options.shard);
  io::set_json_attr(root, "toy", spec.to_json());
  const h5::Dataset x = io::create_rows(root, "x", torch::kFloat, {2}, end - begin);
  x.set_attr("range", std::vector<double>{spec.range[0], spec.range[1]});
  const h5::Dataset y = io::create_rows(root, "y", torch::kLong, {}, end - begin);
  std::vector<std::string> names;
  for (size_t m = 0; m < spec.centers.size(); ++m) names.push_back("mode" + std::to_string(m));
  y.set_attr("class_names", names);

  Progress progress("sampling " + options.source, end - begin);
  for (std::int64_t at = begin; at < end; at += options.chunk) {
    const std::int64_t stop = std::min(end, at + options.chunk);
    const data::ToyRows rows = data::toy_rows(spec, context.seed, at, stop);
    x.append(rows.x);
    y.append(rows.y);
    progress.update(stop - begin);
  }
  progress.finish();
  out.commit();
  log::verbose("wrote rows [{}, {}) of {} to {}", begin, end, options.count, options.output);
}

}  // namespace

void run(const SampleOptions& options, const Context& context) {
  if (options.count < 0) usage_fail("-n {}: must be zero or more", options.count);
  if (options.chunk < 1) usage_fail("--chunk {}: must be positive", options.chunk);
  const cli::Shard shard = cli::parse_shard(options.shard);
  if (data::is_toy_source(options.source)) return write_toy(options, context, shard);
  const io::Input model = io::open_gm(options.source, {io::Kind::model});
  const h5::Group root = model.file.root();
  const std::string family = root.has_attr("family") ? root.string_attr("family") : "(none)";
  fail("{}: gm {} has no sampler for model family '{}'", options.source, GM_VERSION, family);
}

}  // namespace gm::sample
