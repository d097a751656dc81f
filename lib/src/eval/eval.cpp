#include <CLI/CLI.hpp>

#include "gm/eval/eval.hpp"

#include <iostream>
#include <optional>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/toy.hpp"
#include "gm/eval/metrics.hpp"
#include "gm/io/gmfile.hpp"

namespace gm::eval {

void EvalOptions::register_on(CLI::App& app) {
  app.add_option("samples", samples, "Samples or dataset file to score; - reads stdin")->required();
  app.add_option("--ref", reference, "Reference: a dataset file, or toy:NAME for a built-in source")
      ->type_name("FILE")
      ->required();
  app.add_option("--ref-n", reference_rows, "Rows drawn from a toy reference (with --seed, from a stream no dataset uses)")->capture_default_str();
  app.add_flag("--json", json, "Print the metrics as one JSON object");
  app.add_option("--k", k, "Neighbours for precision, recall, density and coverage")->capture_default_str();
  app.add_option("--prdc-rows", prdc_rows, "Rows of each set used for precision/recall/density/coverage")
      ->capture_default_str();
}

namespace {

struct Reference {
  torch::Tensor x;
  std::optional<data::ToySpec> toy;
};

Reference load_reference(const EvalOptions& options, const Context& context) {
  Reference ref;
  if (data::is_toy_source(options.reference)) {
    ref.toy = data::toy_spec(options.reference);
    if (options.reference_rows < 2) usage_fail("--ref-n {}: needs at least 2 rows", options.reference_rows);
    ref.x = data::toy_rows(*ref.toy, context.seed, 0, options.reference_rows, data::kReferenceStream).x;
    return ref;
  }
  const io::Input input = io::open_gm(options.reference, {io::Kind::dataset, io::Kind::samples});
  const h5::Group root = input.file.root();
  ref.x = root.dataset("x").read();
  if (root.has_attr("toy")) ref.toy = data::ToySpec::from_json(io::json_attr(root, "toy"), input.file.label());
  return ref;
}

// At most `limit` rows, drawn without replacement by seed when there are more.
torch::Tensor at_most(const torch::Tensor& x, std::int64_t limit, std::uint64_t seed) {
  if (x.size(0) <= limit) return x;
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return x.index_select(0, torch::randperm(x.size(0), generator, torch::kLong).slice(0, 0, limit));
}

}  // namespace

nlohmann::json evaluate(const EvalOptions& options, const Context& context) {
  const io::Input input = io::open_gm(options.samples, {io::Kind::samples, io::Kind::dataset});
  const torch::Tensor x = input.file.root().dataset("x").read();
  const Reference ref = load_reference(options, context);
  if (x.sizes().slice(1) != ref.x.sizes().slice(1))
    fail("{}: rows of shape {} do not match the reference's {}", input.file.label(), shape_text(x.sizes().slice(1)),
         shape_text(ref.x.sizes().slice(1)));
  nlohmann::json metrics = {{"samples", options.samples}, {"reference", options.reference}, {"n", x.size(0)},
                            {"ref_n", ref.x.size(0)}};
  if (ref.toy) metrics.update(mode_metrics(x, *ref.toy).to_json());
  if (x.size(0) >= 2) metrics["fid"] = frechet_distance(x.flatten(1), ref.x.flatten(1));
  if (options.k < 1 || options.prdc_rows < 2) usage_fail("--k and --prdc-rows must be positive");
  if (x.size(0) > options.k && ref.x.size(0) > options.k)
    metrics.update(prdc(at_most(ref.x, options.prdc_rows, context.seed), at_most(x, options.prdc_rows, context.seed + 1),
                        options.k)
                       .to_json());
  return metrics;
}

void run(const EvalOptions& options, const Context& context) {
  const nlohmann::json metrics = evaluate(options, context);
  if (options.json) {
    std::cout << metrics.dump() << std::endl;
    return;
  }
  for (const auto& [key, value] : metrics.items())
    std::cout << fmt::format("{:<12} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  std::cout.flush();
}

}  // namespace gm::eval
