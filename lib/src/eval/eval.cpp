#include "gm/eval/eval.hpp"

#include <torch/script.h>

#include <functional>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/toy.hpp"
#include "gm/eval/metrics.hpp"
#include "gm/io/gmfile.hpp"

namespace gm::eval {

void EvalOptions::register_on(CLI::App& app) {
  app.add_option("samples", samples, "Samples or dataset files to score; - reads stdin")->required();
  app.add_option("--ref", reference, "Reference: a dataset file, or toy:NAME for a built-in source")
      ->type_name("FILE")
      ->required();
  app.add_option("--ref-n", reference_rows, "Rows drawn from a toy reference (with --seed, from a stream no dataset uses)")->capture_default_str();
  app.add_flag("--json", json, "Print the metrics as JSON: an object, or with --compare an array");
  app.add_flag("--compare", compare, "Score several samples files side by side, one row each");
  app.add_option("--plot", plot, "With --compare: also draw the comparison as a PNG (needs gnuplot)")
      ->type_name("FILE");
  app.add_option("--features", features,
                 "TorchScript module (torch.jit.save) that maps a batch of rows, float32 [B, ...] exactly as /x "
                 "stores them, to features [B, F]; FID and precision/recall/density/coverage then compare features "
                 "instead of raw rows")
      ->type_name("NET.pt");
  app.add_option("--k", k, "Neighbours for precision, recall, density and coverage")->capture_default_str();
  app.add_option("--prdc-rows", prdc_rows, "Rows of each set used for precision/recall/density/coverage")
      ->capture_default_str();
}

namespace {

// Scores of rows holding NaN or infinities would be meaningless, so such a file is refused.
torch::Tensor finite_rows(const torch::Tensor& x, const std::string& where) {
  if (x.is_floating_point()) {
    const std::int64_t bad = (~torch::isfinite(x)).sum().item<std::int64_t>();
    if (bad > 0) fail("{}: /x holds {} NaN or infinite values", where, bad);
  }
  return x;
}

struct Reference {
  torch::Tensor x;
  std::optional<data::ToySpec> toy;
  torch::Tensor features;  // x in the --features space, computed once
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
  ref.x = finite_rows(root.dataset("x").read(), input.file.label());
  if (root.has_attr("toy")) ref.toy = data::ToySpec::from_json(io::json_attr(root, "toy"), input.file.label());
  return ref;
}

// At most `limit` rows, drawn without replacement by seed when there are more.
torch::Tensor at_most(const torch::Tensor& x, std::int64_t limit, std::uint64_t seed) {
  if (x.size(0) <= limit) return x;
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return x.index_select(0, torch::randperm(x.size(0), generator, torch::kLong).slice(0, 0, limit));
}

// The rows as the --features network sees them, in batches, or the rows themselves without one.
class FeatureSpace {
 public:
  FeatureSpace(const std::string& path, const Context& context) : path_(path), device_(context.device) {
    if (path.empty()) return;
    try {
      module_ = torch::jit::load(path, device_);
    } catch (const c10::Error& e) {
      fail("{}: cannot load it as a TorchScript module: {}", path, e.what_without_backtrace());
    }
    module_->eval();
  }
  torch::Tensor of(const torch::Tensor& rows) {
    if (!module_) return rows.flatten(1);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    constexpr std::int64_t kBatch = 1000;
    for (std::int64_t at = 0; at < rows.size(0); at += kBatch) {
      const torch::Tensor batch = rows.slice(0, at, std::min(rows.size(0), at + kBatch)).to(device_, torch::kFloat);
      torch::IValue out;
      try {
        out = module_->forward({batch});
      } catch (const std::exception& e) {
        fail("{}: failed on a batch of shape {}: {}", path_, shape_text(batch.sizes()), first_line(e.what()));
      }
      if (!out.isTensor() || out.toTensor().dim() < 1 || out.toTensor().size(0) != batch.size(0))
        fail("{}: must return a tensor [B, F] for a batch of {} rows", path_, batch.size(0));
      parts.push_back(out.toTensor().flatten(1).to(torch::kCPU, torch::kDouble));
    }
    return parts.empty() ? rows.flatten(1) : torch::cat(parts);
  }

 private:
  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }
  std::string path_;
  c10::Device device_;
  std::optional<torch::jit::script::Module> module_;
};

}  // namespace

namespace {

// `reference` is called after the samples file opened, so a missing input is the error reported.
nlohmann::json evaluate_file(const std::string& path, const std::function<const Reference&()>& reference,
                             FeatureSpace& features, const EvalOptions& options, const Context& context) {
  const io::Input input = io::open_gm(path, {io::Kind::samples, io::Kind::dataset});
  const h5::Group root = input.file.root();
  const torch::Tensor x = finite_rows(root.dataset("x").read(), input.file.label());
  const Reference& ref = reference();
  if (x.sizes().slice(1) != ref.x.sizes().slice(1))
    fail("{}: rows of shape {} do not match those of the reference {}: {}", input.file.label(),
         shape_text(x.sizes().slice(1)), options.reference,
         shape_text(ref.x.sizes().slice(1)));
  nlohmann::json metrics = {{"samples", path}, {"reference", options.reference}, {"n", x.size(0)},
                            {"ref_n", ref.x.size(0)}};
  // Speed as the sampler measured it (samples files only).
  for (const char* key : {"nfe", "ms_per_sample"})
    metrics[key] = root.has_attr(key) ? nlohmann::json(root.double_attr(key)) : nlohmann::json(nullptr);
  if (ref.toy) metrics.update(mode_metrics(x, *ref.toy).to_json());
  if (!options.features.empty()) metrics["features"] = options.features;
  const torch::Tensor fx = features.of(x), &fref = ref.features;
  if (x.size(0) >= 2) metrics["fid"] = frechet_distance(fx, fref);
  if (x.size(0) > options.k && ref.x.size(0) > options.k)
    metrics.update(prdc(at_most(fref, options.prdc_rows, context.seed), at_most(fx, options.prdc_rows, context.seed + 1),
                        options.k)
                       .to_json());
  return metrics;
}

std::string cell(const nlohmann::json& row, const char* key, const char* format) {
  if (!row.contains(key) || row[key].is_null()) return "-";
  return fmt::format(fmt::runtime(format), row[key].get<double>());
}

}  // namespace

std::vector<nlohmann::json> evaluate(const EvalOptions& options, const Context& context) {
  if (options.k < 1 || options.prdc_rows < 2) usage_fail("--k and --prdc-rows must be positive");
  if (options.samples.size() > 1 && !options.compare) usage_fail("several samples files need --compare");
  if (!options.plot.empty() && !options.compare) usage_fail("--plot draws a comparison and needs --compare");
  FeatureSpace features(options.features, context);
  std::optional<Reference> ref;
  const auto reference = [&]() -> const Reference& {
    if (!ref) {
      ref = load_reference(options, context);
      ref->features = features.of(ref->x);
    }
    return *ref;
  };
  std::vector<nlohmann::json> rows;
  for (const auto& path : options.samples) rows.push_back(evaluate_file(path, reference, features, options, context));
  return rows;
}

std::string comparison_table(const std::vector<nlohmann::json>& rows) {
  std::string out = fmt::format("{:<24} | {:>6} {:>9} | {:>6} {:>7} {:>6} {:>8} {:>5} | {:>5} {:>9}\n", "samples", "hq",
                                "precision", "modes", "rkl", "recall", "coverage", "tail", "NFE", "ms/sample");
  out += std::string(out.size() - 1, '-') + "\n";
  for (const auto& row : rows) {
    const std::string tail = row.contains("tail_modes")
                                 ? fmt::format("{}/{}", row["tail_modes"].get<int>(), row["tail_total"].get<int>())
                                 : "-";
    out += fmt::format("{:<24} | {:>6} {:>9} | {:>6} {:>7} {:>6} {:>8} {:>5} | {:>5} {:>9}\n",
                       row["samples"].get<std::string>(), cell(row, "hq", "{:.3f}"), cell(row, "precision", "{:.3f}"),
                       cell(row, "modes", "{:.0f}"), cell(row, "rkl", "{:.4f}"), cell(row, "recall", "{:.3f}"),
                       cell(row, "coverage", "{:.3f}"), tail, cell(row, "nfe", "{:.0f}"),
                       cell(row, "ms_per_sample", "{:.4f}"));
  }
  return out;
}

void run(const EvalOptions& options, const Context& context) {
  const std::vector<nlohmann::json> rows = evaluate(options, context);
  if (!options.plot.empty()) plot_comparison(rows, options.plot);
  if (options.json) {
    std::cout << (options.compare ? nlohmann::json(rows) : rows.front()).dump() << std::endl;
  } else if (options.compare) {
    std::cout << comparison_table(rows) << std::flush;
  } else {
    for (const auto& [key, value] : rows.front().items())
      std::cout << fmt::format("{:<14} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
    std::cout.flush();
  }
}

}  // namespace gm::eval
