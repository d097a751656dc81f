#include "gm/eval/eval.hpp"

#include <torch/script.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/labels.hpp"
#include "gm/data/toy.hpp"
#include "gm/eval/metrics.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/io/output.hpp"
#include "gm/io/sha256.hpp"
#include "gm/models/classifier.hpp"
#include "gm/base/log.hpp"
#include "gm/base/runtime.hpp"
#include <tuple>

namespace gm::eval {

void EvalOptions::register_on(CLI::App& app) {
  app.add_option("samples", samples, "Samples or dataset files to score; - reads stdin");
  app.add_option("--ref", reference, "Reference: a dataset file, or toy:NAME for a built-in source; needed to score samples")
      ->type_name("FILE");
  app.add_option("--ref-n", reference_rows, "Rows drawn from a toy reference (with --seed, from a stream no dataset uses)")->capture_default_str();
  app.add_flag("--json", json, "Print the metrics as JSON: an object, or with --compare an array");
  app.add_flag("--compare", compare, "Score several samples files side by side, one row each");
  app.add_option("--plot", plot, "With --compare: also draw the comparison as a PNG (needs gnuplot)")
      ->type_name("FILE");
  app.add_option("--features", features,
                 "Feature extractor for FID, KID and precision/recall/density/coverage: a gm classifier (MODEL.h5, "
                 "which also gives the class metrics), a TorchScript module (NET.pt, torch.jit.save) mapping rows "
                 "float32 [B, ...] as /x stores them to features [B, F], or raw. Default: the shipped Fashion-MNIST "
                 "classifier for 28x28 grayscale images, raw rows otherwise")
      ->type_name("MODEL.h5|NET.pt|raw");
  app.add_option("--save-features", save_features,
                 "Also write the samples' features (and the classifier's classes) to this dataset file")
      ->type_name("FILE");
  app.add_option("--ref-cache", ref_cache,
                 "Keep the reference's features in this file: read them from it when it holds this reference and "
                 "extractor, otherwise compute them and write it")
      ->type_name("FILE");
  app.add_option("--kid-subsets", kid_subsets, "KID: random subsets averaged")->capture_default_str();
  app.add_option("--kid-size", kid_size, "KID: rows of each set per subset (fewer when a set is smaller)")
      ->capture_default_str();
  app.add_option("--k", k, "Neighbours for precision, recall, density and coverage")->capture_default_str();
  app.add_option("--prdc-rows", prdc_rows, "Rows of each set used for precision/recall/density/coverage")
      ->capture_default_str();
  app.add_option("--nll", likelihood.model,
                 "Instead of scoring samples: a likelihood bound of this model on --data, in bits per dimension. A "
                 "vae gives its negative ELBO, a vqvae its bound under a uniform prior over codes, a DDPM diffusion "
                 "model Ho et al.'s variational bound over all its timesteps")
      ->type_name("MODEL");
  app.add_option("--data", likelihood.data, "With --nll: the dataset of 8-bit images to score")->type_name("FILE");
  app.add_option("--iw", likelihood.importance,
                 "With --nll on a vae: also the importance-weighted bound (Burda et al. 2016) with K posterior samples")
      ->type_name("K");
  app.add_option("--nll-rows", likelihood.rows, "With --nll: score only the first N rows (0: all)")->capture_default_str();
  app.add_option("--nll-batch", likelihood.batch, "With --nll: rows per network evaluation")->capture_default_str();
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
  torch::Tensor y;  // labels, when the reference has them
  std::vector<std::string> class_names;
  std::optional<data::ToySpec> toy;
  torch::Tensor features;  // x in the --features space, computed once
  torch::Tensor classes;   // the classifier's classes of x, or y when present
  nlohmann::json record;   // what the reference is: its file's hash, or the toy source and draw
};

Reference load_reference(const EvalOptions& options, const Context& context) {
  Reference ref;
  if (data::is_toy_source(options.reference)) {
    ref.toy = data::toy_spec(options.reference);
    if (options.reference_rows < 2) usage_fail("--ref-n {}: needs at least 2 rows", options.reference_rows);
    ref.x = data::toy_rows(*ref.toy, context.seed, 0, options.reference_rows, data::kReferenceStream).x;
    ref.record = io::source_record(options.reference, {{"seed", context.seed}, {"n", options.reference_rows}});
    return ref;
  }
  const io::Input input = io::open_gm(options.reference, {io::Kind::dataset, io::Kind::samples});
  const h5::Group root = input.file.root();
  ref.record = input.record;
  ref.x = finite_rows(root.dataset("x").read(), input.file.label());
  if (root.has_dataset("y")) {
    const h5::Dataset y = root.dataset("y");
    ref.y = data::checked_labels(y.read(), ref.x.size(0), y.where());
    if (y.has_attr("class_names")) ref.class_names = y.strings_attr("class_names");
  }
  if (root.has_attr("toy")) ref.toy = data::ToySpec::from_json(io::json_attr(root, "toy"), input.file.label());
  return ref;
}

// The indices of at most `limit` of `rows` rows, drawn without replacement by seed when there are more.
torch::Tensor at_most(std::int64_t rows, std::int64_t limit, std::uint64_t seed) {
  if (rows <= limit) return torch::arange(rows, torch::kLong);
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return torch::randperm(rows, generator, torch::kLong).slice(0, 0, limit);
}

// The rows as the --features extractor sees them: a gm classifier (which also judges classes),
// a TorchScript network, or the raw rows. "" picks the shipped Fashion-MNIST classifier for
// 28x28 grayscale images and raw rows otherwise.
class FeatureSpace {
 public:
  FeatureSpace(const std::string& path, const Context& context) : path_(path), device_(context.device) {}

  // Settles the extractor for rows shaped like `sample` (on first use).
  void resolve(const torch::Tensor& sample) {
    if (resolved_) return;
    resolved_ = true;
    std::string path = path_;
    if (path.empty() && sample.dim() == 4 && sample.size(1) == 1 && sample.size(2) == 28 && sample.size(3) == 28) {
      path = find_shared(kShippedClassifier);
      if (path.empty()) log::info("the shipped classifier {} is missing; comparing raw pixels", kShippedClassifier);
    }
    if (path.empty() || path == "raw") return;
    name_ = path;
    identity_ = {{"path", path}, {"sha256", path == "-" ? "" : io::sha256_file(path)}};
    if (io::is_h5_name(path)) {
      const io::Input input = io::open_gm(path, {io::Kind::model});
      classifier_ = models::classifier_from_file(io::read_model(input), path);
      classifier_->net->to(device_);
      return;
    }
    try {
      module_ = torch::jit::load(path, device_);
    } catch (const c10::Error& e) {
      fail("{}: cannot load it as a TorchScript module: {}", path, e.what_without_backtrace());
    }
    module_->eval();
  }
  const std::string& name() const { return name_; }  // empty: raw rows
  const nlohmann::json& identity() const { return identity_; }  // "raw", or the extractor's path and hash
  bool judges_classes() const { return classifier_.has_value(); }
  const models::Classifier& classifier() const { return *classifier_; }

  // Features [N, F] in float64, and with a classifier its predicted classes.
  std::pair<torch::Tensor, torch::Tensor> of(const torch::Tensor& rows) {
    resolve(rows);
    if (classifier_) {
      if (rows.sizes().slice(1) != c10::IntArrayRef(classifier_->data.shape))
        fail("{}: classifies rows of shape {}, not {}", name_, shape_text(classifier_->data.shape), shape_text(rows.sizes().slice(1)));
      auto [features, logits] = classifier_->features_and_logits(rows);
      return {features.to(torch::kDouble), logits.argmax(1)};
    }
    if (!module_) return {rows.flatten(1).to(torch::kDouble), {}};
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    constexpr std::int64_t kBatch = 1000;
    for (std::int64_t at = 0; at < rows.size(0); at += kBatch) {
      const torch::Tensor batch = rows.slice(0, at, std::min(rows.size(0), at + kBatch)).to(device_, torch::kFloat);
      torch::IValue out;
      try {
        out = module_->forward({batch});
      } catch (const std::exception& e) {
        fail("{}: failed on a batch of shape {}: {}", name_, shape_text(batch.sizes()), first_line(e.what()));
      }
      if (!out.isTensor() || out.toTensor().dim() < 1 || out.toTensor().size(0) != batch.size(0))
        fail("{}: must return a tensor [B, F] for a batch of {} rows", name_, batch.size(0));
      parts.push_back(out.toTensor().flatten(1).to(torch::kCPU, torch::kDouble));
    }
    return {parts.empty() ? rows.flatten(1).to(torch::kDouble) : torch::cat(parts), {}};
  }

 private:
  static constexpr const char* kShippedClassifier = "models/fmnist-classifier.h5";
  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }
  std::string path_, name_;
  nlohmann::json identity_ = "raw";
  c10::Device device_;
  bool resolved_ = false;
  std::optional<torch::jit::script::Module> module_;
  std::optional<models::Classifier> classifier_;
};

}  // namespace

namespace {

// --ref-cache: the reference's features (and classes) in a gm dataset file, valid for one
// reference and one feature extractor; /x holds the features in float64, /y the classes.
bool read_reference_cache(const std::string& path, Reference& ref, const nlohmann::json& features) {
  if (!std::filesystem::exists(path)) return false;
  const io::Input input = io::open_gm(path, {io::Kind::dataset});
  const h5::Group root = input.file.root();
  if (!root.has_attr("reference") || !root.has_attr("features") || io::json_attr(root, "reference") != ref.record ||
      io::json_attr(root, "features") != features) {
    log::info("{}: caches another reference or feature extractor; recomputing it", path);
    return false;
  }
  ref.features = root.dataset("x").read();
  if (ref.features.dim() != 2 || ref.features.size(0) != ref.x.size(0) || ref.features.scalar_type() != torch::kDouble)
    fail("{}: /x is not the reference's features [{}, F] in float64", path, ref.x.size(0));
  if (root.has_dataset("y")) ref.classes = data::checked_labels(root.dataset("y").read(), ref.x.size(0), path + ":/y");
  log::verbose("reference features from {}", path);
  return true;
}

void write_reference_cache(const std::string& path, const Reference& ref, const nlohmann::json& features,
                           const Context& context) {
  io::H5Output out(path, {});
  const h5::Group root = out.root();
  io::stamp(root, io::Kind::dataset, context, {ref.record});
  io::set_json_attr(root, "reference", ref.record);
  io::set_json_attr(root, "features", features);
  root.write("x", ref.features);
  if (ref.classes.defined()) root.write("y", ref.classes);
  out.commit();
}

// --save-features: one samples file's features (and classes) as a gm dataset file.
void save_features(const std::string& path, const std::string& samples, const torch::Tensor& features,
                   const torch::Tensor& classes, const nlohmann::json& extractor, const Context& context) {
  io::H5Output out(path, {samples});
  const h5::Group root = out.root();
  io::stamp(root, io::Kind::dataset, context, {{{"path", samples}}});
  io::set_json_attr(root, "features", extractor);
  root.write("x", features);
  if (classes.defined()) root.write("y", classes);
  out.commit();
}

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
  const auto [fx, classes] = features.of(x);
  if (!options.save_features.empty())
    save_features(options.save_features, path, fx, classes, features.identity(), context);
  const torch::Tensor& fref = ref.features;
  metrics["features"] = features.name().empty() ? "raw" : features.name();
  if (x.size(0) >= 2) {
    metrics["fid"] = frechet_distance(fx, fref);
    const Kid k = kid(fref, fx, options.kid_subsets, options.kid_size, context.seed + 2);
    metrics["kid"] = k.mean;
    metrics["kid_std"] = k.std;
  }
  if (x.size(0) > options.k && ref.x.size(0) > options.k) {
    const torch::Tensor real_rows = at_most(fref.size(0), options.prdc_rows, context.seed);
    const Prdc p = prdc(fref.index_select(0, real_rows),
                        fx.index_select(0, at_most(fx.size(0), options.prdc_rows, context.seed + 1)), options.k);
    metrics.update(p.to_json());
    if (features.judges_classes()) {
      const models::Classifier& judge = features.classifier();
      metrics.update(class_metrics(classes, ref.classes.index_select(0, real_rows), p.real_recalled, judge.data.classes())
                         .to_json(judge.data.class_names));
    }
  }
  return metrics;
}

std::string cell(const nlohmann::json& row, const char* key, const char* format) {
  if (!row.contains(key) || row[key].is_null()) return "-";
  return fmt::format(fmt::runtime(format), row[key].get<double>());
}

}  // namespace

std::vector<nlohmann::json> evaluate(const EvalOptions& options, const Context& context) {
  if (options.k < 1 || options.prdc_rows < 2) usage_fail("--k and --prdc-rows must be positive");
  if (options.kid_subsets < 1 || options.kid_size < 2) usage_fail("--kid-subsets must be positive and --kid-size at least 2");
  if (options.samples.size() > 1 && !options.compare) usage_fail("several samples files need --compare");
  if (!options.plot.empty() && !options.compare) usage_fail("--plot draws a comparison and needs --compare");
  if (!options.save_features.empty() && options.samples.size() > 1)
    usage_fail("--save-features stores the features of one samples file");
  FeatureSpace features(options.features, context);
  std::optional<Reference> ref;
  const auto reference = [&]() -> const Reference& {
    if (!ref) {
      ref = load_reference(options, context);
      features.resolve(ref->x);
      if (options.ref_cache.empty() || !read_reference_cache(options.ref_cache, *ref, features.identity())) {
        std::tie(ref->features, ref->classes) = features.of(ref->x);
        if (!options.ref_cache.empty()) write_reference_cache(options.ref_cache, *ref, features.identity(), context);
      }
      // The reference's own labels, when they name the classifier's classes, are the truth the
      // classifier stands in for.
      if (ref->y.defined() && features.judges_classes() && ref->class_names == features.classifier().data.class_names)
        ref->classes = ref->y;
    }
    return *ref;
  };
  std::vector<nlohmann::json> rows;
  for (const auto& path : options.samples) rows.push_back(evaluate_file(path, reference, features, options, context));
  return rows;
}

void print_metrics(const nlohmann::json& metrics, bool json) {
  if (json) {
    std::cout << metrics.dump() << std::endl;
    return;
  }
  for (const auto& [key, value] : metrics.items())
    std::cout << fmt::format("{:<14} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  std::cout.flush();
}

std::string comparison_table(const std::vector<nlohmann::json>& rows) {
  // Fidelity | coverage | speed. Toy rows have the mode metrics; image rows FID/KID and, through a
  // classifier, the class metrics.
  struct Column {
    const char* header;
    const char* key;
    const char* format;
  };
  const bool toy = !rows.empty() && rows.front().contains("modes");
  const std::vector<std::vector<Column>> groups =
      toy ? std::vector<std::vector<Column>>{{{"hq", "hq", "{:.3f}"}, {"precision", "precision", "{:.3f}"}},
                                             {{"modes", "modes", "{:.0f}"}, {"rkl", "rkl", "{:.4f}"},
                                              {"recall", "recall", "{:.3f}"}, {"coverage", "coverage", "{:.3f}"},
                                              {"tail", "tail", ""}},
                                             {{"NFE", "nfe", "{:.0f}"}, {"ms/sample", "ms_per_sample", "{:.4f}"}}}
          : std::vector<std::vector<Column>>{{{"fid", "fid", "{:.2f}"}, {"kid", "kid", "{:.4f}"},
                                              {"precision", "precision", "{:.3f}"}},
                                             {{"recall", "recall", "{:.3f}"}, {"coverage", "coverage", "{:.3f}"},
                                              {"classes", "classes_covered", "{:.0f}"}, {"class_kl", "class_kl", "{:.4f}"},
                                              {"tail_recall", "tail_class_recall", "{:.3f}"}},
                                             {{"NFE", "nfe", "{:.0f}"}, {"ms/sample", "ms_per_sample", "{:.4f}"}}};
  const auto line = [&](const std::function<std::string(const Column&)>& text, const std::string& first) {
    std::string out = fmt::format("{:<24}", first);
    for (const auto& group : groups) {
      out += " |";
      for (const Column& column : group)
        out += fmt::format(" {:>{}}", text(column), std::max<size_t>(6, std::string(column.header).size()));
    }
    return out + "\n";
  };
  std::string out = line([](const Column& c) { return std::string(c.header); }, "samples");
  out += std::string(out.size() - 1, '-') + "\n";
  for (const auto& row : rows)
    out += line(
        [&](const Column& c) {
          if (std::string(c.key) == "tail")
            return row.contains("tail_modes")
                       ? fmt::format("{}/{}", row["tail_modes"].get<int>(), row["tail_total"].get<int>())
                       : std::string("-");
          return cell(row, c.key, c.format);
        },
        row["samples"].get<std::string>());
  return out;
}

void run(const EvalOptions& options, const Context& context) {
  if (!options.likelihood.model.empty()) {
    if (!options.samples.empty() || options.compare)
      usage_fail("--nll scores a model on --data; it takes no samples files");
    return print_metrics(likelihood(options.likelihood, context), options.json);
  }
  if (!options.likelihood.data.empty() || options.likelihood.importance > 0) usage_fail("--data and --iw go with --nll MODEL");
  if (options.samples.empty()) usage_fail("expected samples files to score (or --nll MODEL --data FILE)");
  if (options.reference.empty()) usage_fail("--ref is required to score samples");
  const std::vector<nlohmann::json> rows = evaluate(options, context);
  if (!options.plot.empty()) plot_comparison(rows, options.plot);
  if (options.compare && !options.json) {
    std::cout << comparison_table(rows) << std::flush;
  } else {
    print_metrics(options.compare ? nlohmann::json(rows) : rows.front(), options.json);
  }
}

}  // namespace gm::eval
