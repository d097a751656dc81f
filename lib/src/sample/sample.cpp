#include <CLI/CLI.hpp>

#include "gm/sample/sample.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/progress.hpp"
#include "gm/cli/tool.hpp"
#include "gm/data/toy.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/data/noise.hpp"
#include "gm/io/model_file.hpp"
#include "gm/io/output.hpp"
#include "gm/models/consistency.hpp"
#include "gm/models/diffusion.hpp"
#include "gm/models/gan.hpp"
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
  app.add_option("--sampler", sampler,
                 "Diffusion sampler: euler (= ddim), heun, dpmpp-2m, or ddpm (ancestral), on the Karras schedule "
                 "(rho=7) for EDM models and on evenly spaced timesteps for DDPM ones; default heun, ddpm for DDPM "
                 "models, euler on a progressively distilled student's grid");
  app.add_option("--steps", steps,
                 "Sampler steps; default 18 for EDM diffusion, all timesteps for DDPM, the distilled grid for a "
                 "progressive student, 1 for a consistency model. Heun takes 2 steps - 1 network evaluations");
  app.add_flag("--raw-weights", raw_weights, "Sample with the trained weights instead of their moving average");
  app.add_option("--class", klass,
                 "Class-conditional models: draw every row of this class (default: classes drawn as often as they "
                 "were in the training data)")
      ->type_name("C");
  app.add_option("--guidance", guidance,
                 "Classifier-free guidance weight w (Ho & Salimans 2022): (1 + w) D(x, class) - w D(x); 0 is plain "
                 "conditional sampling")
      ->capture_default_str();
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

// How one model family turns noise rows into sample rows.
struct ModelSampler {
  std::string family, sampler;
  int steps = 1;
  models::DataInfo data;
  std::vector<std::int64_t> noise_shape;
  bool guided = false;  // supports classifier-free guidance
  // Noise rows [first_row, first_row + z.size(0)) of the run and their labels (undefined for an
  // unconditional model) -> samples, in the model's units.
  std::function<models::SampleResult(const torch::Tensor& z, const torch::Tensor& labels, std::int64_t first_row)>
      generate;
};

// Fresh noise for step k >= 1 of a stochastic sampler: per-row streams of their own, so shards
// and chunks draw the same noise for the same row.
models::StepNoise step_noise(const Context& context, std::int64_t first_row, std::int64_t rows,
                             const std::vector<std::int64_t>& shape) {
  const std::uint64_t seed = context.seed;
  const c10::Device device = context.device;
  return [seed, device, first_row, rows, shape](int k) {
    return data::normal_rows(seed, first_row, first_row + rows, shape, data::kNoiseStream + static_cast<std::uint32_t>(k))
        .to(device);
  };
}

ModelSampler diffusion_sampler(const SampleOptions& options, const Context& context, const io::ModelFile& file) {
  models::DiffusionModel model = models::DiffusionModel::from_file(file, options.source, !options.raw_weights);
  model.net->to(context.device);
  std::vector<double> sigmas;
  const std::string fallback = !model.grid.empty() ? "euler" : model.edm.is_ddpm() ? "ddpm" : "heun";
  const std::string sampler = options.sampler.empty() ? fallback : options.sampler;
  if (!models::is_edm_sampler(sampler))
    usage_fail("--sampler {}: diffusion models sample with euler, ddim, heun, dpmpp-2m or ddpm", sampler);
  if (!model.grid.empty()) {
    // A progressive student samples on the grid it was distilled for, with Euler (DDIM) steps.
    const int grid_steps = static_cast<int>(model.grid.size()) - 1;
    if (options.steps != 0 && options.steps != grid_steps)
      usage_fail("{}: this student was distilled for {} steps, not {}", options.source, grid_steps, options.steps);
    if (sampler != "euler" && sampler != "ddim")
      usage_fail("{}: a progressive student samples with euler (DDIM) steps", options.source);
    sigmas = model.grid;
  } else {
    // EDM models default to Heun's 18 steps; DDPM models to all their timesteps, as Ho et al. sample.
    const int fallback_steps = model.edm.is_ddpm() ? static_cast<int>(model.edm.timesteps) : 18;
    sigmas = models::sampling_sigmas(options.steps == 0 ? fallback_steps : options.steps, model.edm);
  }
  const std::vector<std::int64_t> shape = model.data.shape;
  const double guidance = options.guidance;
  return {"diffusion", sampler, static_cast<int>(sigmas.size()) - 1, model.data, shape, true,
          [model, sigmas, sampler, shape, context, guidance](const torch::Tensor& z, const torch::Tensor& labels,
                                                             std::int64_t first_row) {
            return models::edm_sample(model.denoiser(labels, guidance), z, sigmas, sampler,
                                      step_noise(context, first_row, z.size(0), shape));
          }};
}

ModelSampler gan_sampler(const SampleOptions& options, const Context& context, const io::ModelFile& file) {
  models::GanNets nets = models::gan_from_file(file, options.source);
  nets->to(context.device);
  return {"gan", "generator", 1, nets->config().data, {nets->config().latent}, false,
          [nets](const torch::Tensor& z, const torch::Tensor& labels, std::int64_t) mutable {
            return models::SampleResult{nets->generate(z, labels), 1};
          }};
}

// The Karras grid size a consistency student was distilled on.
int model_grid_points(const io::ModelFile& file, const std::string& where) {
  try {
    const int grid = file.config.at("distillation").at("grid").get<int>();
    if (grid < 2 || grid > 100000) fail("{}: distillation grid {} is out of range", where, grid);
    return grid;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: config names no distillation grid: {}", where, e.what());
  }
}

ModelSampler consistency_sampler(const SampleOptions& options, const Context& context, const io::ModelFile& file) {
  models::DiffusionModel model =
      models::DiffusionModel::from_file(file, options.source, !options.raw_weights, "consistency");
  model.net->to(context.device);
  const models::EdmConfig edm = model.edm;
  const int steps = options.steps == 0 ? 1 : options.steps;
  const int grid = model_grid_points(file, options.source);
  const std::vector<double> sigmas = models::consistency_sigmas(steps, edm, grid);
  const std::vector<std::int64_t> shape = model.data.shape;
  const double guidance = options.guidance;
  return {"consistency", "multistep", steps, model.data, shape, true,
          [model, sigmas, edm, shape, context, guidance](const torch::Tensor& z, const torch::Tensor& labels,
                                                         std::int64_t first_row) {
            const models::RawNet raw = model.raw(labels, guidance);
            const models::ConsistencyFn f = [raw, edm](const torch::Tensor& x, double sigma) {
              return models::consistency_function(raw, x, torch::full({1}, sigma, x.options()), edm);
            };
            return models::consistency_sample(f, z, sigmas, edm.sigma_min,
                                              step_noise(context, first_row, z.size(0), shape));
          }};
}

void write_model_samples(const SampleOptions& options, const Context& context, const cli::Shard& shard,
                         const io::Input& input, const ModelSampler& model) {
  const std::int64_t begin = shard.begin(options.count), end = shard.end(options.count);
  io::H5Output out(options.output, {options.source});
  const h5::Group root = out.root();
  io::stamp(root, io::Kind::samples, context, {input.record});
  const models::DataInfo& info = model.data;
  const h5::Dataset x = io::create_rows(root, "x", torch::kFloat, info.shape, end - begin);
  if (info.image_range) x.set_attr("range", std::vector<double>{info.image_range->at(0), info.image_range->at(1)});
  const h5::Dataset z = io::create_rows(root, "z", torch::kFloat, model.noise_shape, end - begin);
  std::optional<h5::Dataset> y;
  if (info.classes() > 0) {
    y = io::create_rows(root, "y", torch::kLong, {}, end - begin);
    y->set_attr("class_names", info.class_names);
  }
  Progress progress("sampling " + options.source, end - begin);
  torch::NoGradGuard no_grad;
  int nfe = 0;
  double seconds = 0;
  for (std::int64_t at = begin; at < end; at += options.chunk) {
    const std::int64_t stop = std::min(end, at + options.chunk);
    const torch::Tensor noise = data::normal_rows(context.seed, at, stop, model.noise_shape);
    torch::Tensor labels;
    if (info.classes() > 0)
      labels = options.klass >= 0 ? torch::full({stop - at}, options.klass, torch::kLong)
                                  : data::categorical_rows(context.seed, at, stop, info.class_prior, data::kLabelStream);
    const auto start = std::chrono::steady_clock::now();
    const models::SampleResult result =
        model.generate(noise.to(context.device), labels.defined() ? labels.to(context.device) : labels, at);
    const torch::Tensor rows = info.from_model(result.x).to(torch::kCPU);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nfe = result.nfe;
    x.append(rows);
    z.append(noise);
    if (y) y->append(labels);
    progress.update(stop - begin);
  }
  progress.finish();
  io::set_json_attr(root, "model", {{"path", options.source}, {"sha256", input.record["sha256"]}});
  root.set_attr("family", model.family);
  root.set_attr("sampler", model.sampler);
  root.set_attr("steps", static_cast<std::int64_t>(model.steps));
  root.set_attr("nfe", static_cast<std::int64_t>(nfe));
  root.set_attr("seed", static_cast<std::int64_t>(context.seed));
  root.set_attr("guidance", options.guidance);
  if (info.classes() > 0) root.set_attr("class", options.klass);
  root.set_attr("shard", options.shard);
  root.set_attr("first_row", begin);
  root.set_attr("seconds", seconds);
  root.set_attr("ms_per_sample", end > begin ? 1000.0 * seconds / static_cast<double>(end - begin) : 0.0);
  root.set_attr("batch", options.chunk);
  root.set_attr("device", context.device.str());
  out.commit();
}

}  // namespace

void run(const SampleOptions& options, const Context& context) {
  if (options.count < 0) usage_fail("-n {}: must be zero or more", options.count);
  if (options.chunk < 1) usage_fail("--chunk {}: must be positive", options.chunk);
  const cli::Shard shard = cli::parse_shard(options.shard);
  if (data::is_toy_source(options.source)) return write_toy(options, context, shard);
  const io::Input model = io::open_gm(options.source, {io::Kind::model});
  const io::ModelFile file = io::read_model(model);
  ModelSampler sampler;
  if (file.family == "diffusion") sampler = diffusion_sampler(options, context, file);
  else if (file.family == "gan") sampler = gan_sampler(options, context, file);
  else if (file.family == "consistency") sampler = consistency_sampler(options, context, file);
  else fail("{}: gm {} has no sampler for model family '{}'", options.source, GM_VERSION, file.family);
  const std::int64_t classes = sampler.data.classes();
  if (options.klass >= 0 && classes == 0) usage_fail("--class {}: {} is not class-conditional", options.klass, options.source);
  if (options.klass >= classes && classes > 0)
    usage_fail("--class {}: {} has classes 0 to {}", options.klass, options.source, classes - 1);
  if (options.klass < -1) usage_fail("--class {}: must be a class number", options.klass);
  if (!std::isfinite(options.guidance)) usage_fail("--guidance {}: must be a number", options.guidance);
  if (options.guidance != 0 && (classes == 0 || !sampler.guided))
    usage_fail("--guidance needs a class-conditional diffusion or consistency model; {} is a{} {} model", options.source,
               classes == 0 ? "n unconditional" : "", file.family);
  write_model_samples(options, context, shard, model, sampler);
}

}  // namespace gm::sample
