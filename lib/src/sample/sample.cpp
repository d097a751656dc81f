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
#include "gm/models/latents.hpp"
#include "gm/sample/accelerate.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/images.hpp"
#include "gm/version.hpp"

namespace gm::sample {

void SampleOptions::register_on(CLI::App& app) {
  app.add_option("source", source, "toy:ring8, toy:grid25, toy:grid25-lt100 (any toy:NAME-ltF), or a model file")
      ->required();
  app.add_option("-n,--num", count, "Rows to draw in the whole run, all shards together; needed unless --encode or --decode FILE")
      ->default_str("");
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
  app.add_option("--encode", encode,
                 "With a vae or vqvae: map the images of this dataset to latents (a VAE's posterior sample, a VQ-VAE's "
                 "codes), written with a `space` attribute naming the autoencoder and the labels carried over")
      ->type_name("FILE");
  CLI::Option* decode_option =
      app.add_option("--decode", decode,
                     "With a vae or vqvae: map the latents of this file back to images; it must hold latents of that "
                     "autoencoder. Alone, with a latent diffusion or consistency model: decode its samples with the "
                     "autoencoder it was trained on")
          ->expected(0, 1)
          ->type_name("[FILE]");
  app.parse_complete_callback([this, decode_option] { decode_samples = decode_option->count() > 0 && decode.empty(); });
  app.add_option("--cuda-graph", cuda_graph,
                 "Capture the sampler's forward pass as one CUDA graph and replay it per chunk: auto (on a CUDA "
                 "device, for samplers of at most 4 steps), on or off")
      ->capture_default_str();
  app.add_option("--precision", precision,
                 "Autocast the networks' matrix products and convolutions: fp32 (none), bf16, or fp16 (CUDA only); "
                 "the sampler's own arithmetic stays float32")
      ->capture_default_str();
  app.add_option("--autoencoder", autoencoder,
                 "With --decode and a latent model: its autoencoder, when the file is no longer where it was when the "
                 "latents were made (its hash must match)")
      ->type_name("FILE");
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

// Rows the network takes at once when mapping images and latents, whatever the chunk.
constexpr std::int64_t kAutoencoderRows = 256;

// f over the rows of x, kAutoencoderRows at a time, concatenated.
torch::Tensor in_batches(const torch::Tensor& x, const std::function<torch::Tensor(const torch::Tensor&, std::int64_t)>& f) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t at = 0; at < x.size(0); at += kAutoencoderRows)
    parts.push_back(f(x.slice(0, at, std::min(x.size(0), at + kAutoencoderRows)), at));
  return torch::cat(parts);
}

// How one model family turns noise rows into sample rows.
struct ModelSampler {
  std::string family, sampler;
  int steps = 1;
  models::DataInfo data;
  std::vector<std::int64_t> noise_shape;
  bool guided = false;  // supports classifier-free guidance
  int noise_draws = 0;  // fresh noise the sampler draws after z: steps 1 .. noise_draws
  // Noise rows z, their labels (undefined for an unconditional model) and the fresh noise of
  // later steps -> samples, in the model's units.
  std::function<models::SampleResult(const torch::Tensor& z, const torch::Tensor& labels, const models::StepNoise& noise)>
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
  const int steps = static_cast<int>(sigmas.size()) - 1;
  return {"diffusion", sampler, steps, model.data, shape, true, sampler == "ddpm" ? steps - 1 : 0,
          [model, sigmas, sampler, guidance](const torch::Tensor& z, const torch::Tensor& labels,
                                             const models::StepNoise& noise) {
            return models::edm_sample(model.denoiser(labels, guidance), z, sigmas, sampler, noise);
          }};
}

ModelSampler gan_sampler(const SampleOptions& options, const Context& context, const io::ModelFile& file) {
  models::GanNets nets = models::gan_from_file(file, options.source);
  nets->to(context.device);
  return {"gan", "generator", 1, nets->config().data, {nets->config().latent}, false, 0,
          [nets](const torch::Tensor& z, const torch::Tensor& labels, const models::StepNoise&) mutable {
            return models::SampleResult{nets->generate(z, labels), 1};
          }};
}

// A VAE as a generative model: latents from its prior N(0, I), decoded.
ModelSampler vae_sampler(const SampleOptions& options, const Context& context, const io::ModelFile& file) {
  if (file.family == "vqvae")
    fail("{}: a VQ-VAE has no prior to sample from; encode a dataset (--encode) and train a diffusion model on its codes",
         options.source);
  models::AutoencoderModel model = models::AutoencoderModel::from_file(file, options.source);
  model.net->to(context.device);
  return {"vae", "prior", 1, model.data, model.net->config().latent_shape(), false, 0,
          [model](const torch::Tensor& z, const torch::Tensor&, const models::StepNoise&) {
            return models::SampleResult{in_batches(z, [&](const torch::Tensor& rows, std::int64_t) { return model.decode(rows); }), 1};
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
  return {"consistency", "multistep", steps, model.data, shape, true, steps - 1,
          [model, sigmas, edm, guidance](const torch::Tensor& z, const torch::Tensor& labels,
                                         const models::StepNoise& noise) {
            const models::RawNet raw = model.raw(labels, guidance);
            const models::ConsistencyFn f = [raw, edm](const torch::Tensor& x, double sigma) {
              return models::consistency_function(raw, x, torch::full({1}, sigma, x.options()), edm);
            };
            return models::consistency_sample(f, z, sigmas, edm.sigma_min, noise);
          }};
}

// --cuda-graph auto: on a CUDA device, for samplers of at most 4 steps (GANs and distilled
// students), whose cost at small batches is kernel launches more than arithmetic.
bool use_cuda_graph(const SampleOptions& options, const Context& context, const ModelSampler& model) {
  if (options.cuda_graph == "off") return false;
  if (options.cuda_graph == "on") {
    if (!context.device.is_cuda()) usage_fail("--cuda-graph on: needs a CUDA --device, this run is on {}", context.device.str());
    if (!cuda_graphs_built()) fail("--cuda-graph on: gm {} was built against a LibTorch without CUDA", GM_VERSION);
    return true;
  }
  return context.device.is_cuda() && cuda_graphs_built() && model.steps <= 4;
}

void write_model_samples(const SampleOptions& options, const Context& context, const cli::Shard& shard,
                         const io::Input& input, const ModelSampler& model,
                         const std::optional<models::OpenedAutoencoder>& decoder) {
  const std::int64_t begin = shard.begin(options.count), end = shard.end(options.count);
  io::H5Output out(options.output, {options.source});
  const h5::Group root = out.root();
  std::vector<nlohmann::json> inputs{input.record};
  if (decoder) inputs.push_back(decoder->input.record);
  io::stamp(root, io::Kind::samples, context, inputs);
  // A latent model's rows are latents, marked with their space, unless they are decoded.
  const models::DataInfo& info = decoder ? decoder->model.data : model.data;
  if (model.data.latent && !decoder) models::mark_latents(root, *model.data.latent);
  const h5::Dataset x = io::create_rows(root, "x", torch::kFloat, info.shape, end - begin);
  if (info.image_range) x.set_attr("range", std::vector<double>{info.image_range->at(0), info.image_range->at(1)});
  const h5::Dataset z = io::create_rows(root, "z", torch::kFloat, model.noise_shape, end - begin);
  std::optional<h5::Dataset> y;
  const models::DataInfo& classes = model.data;
  if (classes.classes() > 0) {
    y = io::create_rows(root, "y", torch::kLong, {}, end - begin);
    y->set_attr("class_names", classes.class_names);
  }
  Progress progress("sampling " + options.source, end - begin);
  torch::NoGradGuard no_grad;
  const AutocastScope autocast(options.precision, context.device);
  const bool graphs = use_cuda_graph(options, context, model);
  std::unique_ptr<GraphedSampler> graphed;
  int nfe = 0;
  double seconds = 0;
  for (std::int64_t at = begin; at < end; at += options.chunk) {
    const std::int64_t stop = std::min(end, at + options.chunk);
    const torch::Tensor noise = data::normal_rows(context.seed, at, stop, model.noise_shape);
    torch::Tensor labels;
    if (classes.classes() > 0)
      labels = options.klass >= 0 ? torch::full({stop - at}, options.klass, torch::kLong)
                                  : data::categorical_rows(context.seed, at, stop, classes.class_prior, data::kLabelStream);
    const torch::Tensor device_noise = noise.to(context.device);
    const torch::Tensor device_labels = labels.defined() ? labels.to(context.device) : labels;
    models::SampleResult result;
    std::chrono::steady_clock::time_point start;
    if (graphs) {
      // Every step's noise is drawn up front into the graph's inputs; capture is not timed.
      std::vector<torch::Tensor> draws;
      for (int k = 1; k <= model.noise_draws; ++k)
        draws.push_back(step_noise(context, at, stop - at, model.noise_shape)(k));
      if (!graphed) {
        const SampleFn fn = [&model, &nfe](const torch::Tensor& z_rows, const torch::Tensor& row_labels,
                                           const std::vector<torch::Tensor>& step) {
          const models::SampleResult sampled = model.generate(z_rows, row_labels, [&step](int k) { return step.at(k - 1); });
          nfe = sampled.nfe;
          return sampled.x;
        };
        graphed = std::make_unique<GraphedSampler>(fn, std::min(options.chunk, end - begin), device_noise, device_labels, draws);
      }
      start = std::chrono::steady_clock::now();
      result = {graphed->run(device_noise, device_labels, draws), nfe};
    } else {
      start = std::chrono::steady_clock::now();
      result = model.generate(device_noise, device_labels, step_noise(context, at, stop - at, model.noise_shape));
    }
    torch::Tensor decoded = result.x;
    if (decoder)
      decoded = in_batches(result.x, [&](const torch::Tensor& latents, std::int64_t) { return decoder->model.decode(latents); });
    const torch::Tensor rows = info.from_model(decoded).to(torch::kCPU);
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
  if (classes.classes() > 0) root.set_attr("class", options.klass);
  if (decoder) io::set_json_attr(root, "decoded_by", {{"path", decoder->input.path}, {"sha256", decoder->input.record["sha256"]}});
  root.set_attr("shard", options.shard);
  root.set_attr("first_row", begin);
  root.set_attr("seconds", seconds);
  root.set_attr("ms_per_sample", end > begin ? 1000.0 * seconds / static_cast<double>(end - begin) : 0.0);
  root.set_attr("batch", options.chunk);
  root.set_attr("device", context.device.str());
  root.set_attr("cuda_graph", static_cast<std::int64_t>(graphs));
  root.set_attr("precision", options.precision);
  out.commit();
}

// gm-sample AUTOENCODER --encode FILE or --decode FILE: every row of the file mapped into or out
// of the latent space, a chunk at a time, the labels (and a samples file's noise) carried over.
void write_mapped_rows(const SampleOptions& options, const Context& context, const cli::Shard& shard) {
  const bool encoding = !options.encode.empty();
  const std::string& path = encoding ? options.encode : options.decode;
  const io::Input model_input = io::open_gm(options.source, {io::Kind::model});
  const io::ModelFile file = io::read_model(model_input);
  if (!models::is_autoencoder_family(file.family))
    usage_fail("--{} FILE: {} is a {} model; encoding and decoding take a vae or vqvae", encoding ? "encode" : "decode",
               options.source, file.family);
  models::AutoencoderModel model = models::AutoencoderModel::from_file(file, options.source);
  model.net->to(context.device);
  const models::LatentSpace space = models::latent_space_of(model_input, model);
  const io::Input input = io::open_gm(path, {io::Kind::dataset, io::Kind::samples});
  const h5::Group in_root = input.file.root();
  const h5::Dataset in_x = in_root.dataset("x");
  const std::vector<std::int64_t> full = in_x.shape();
  const std::vector<std::int64_t> row(full.begin() + 1, full.end());
  const std::vector<std::int64_t> latent = model.net->config().latent_shape();
  const std::vector<std::int64_t>& expected = encoding ? model.data.shape : latent;
  if (row != expected)
    fail("{}: /x rows have shape {}; {} {} rows of shape {}", path, shape_text(row), options.source,
         encoding ? "encodes" : "decodes", shape_text(expected));
  data::Range range{0, 255};
  if (encoding) {
    const auto found = io::range_attr(in_x);
    if (!found && in_x.scalar_type() != torch::kByte)
      fail("{}: /x holds float images without a range attribute, so their scale is unknown", path);
    range = found.value_or(range);
  } else {
    const std::optional<models::LatentSpace> from = models::read_latent_space(in_root, path);
    if (!from)
      fail("{}: has no `space` attribute, so the autoencoder its rows came from is unknown; --decode takes latents "
           "that gm-sample --encode or a latent model wrote",
           path);
    models::check_latent_space(*from, model_input, path);
  }

  const std::int64_t rows = full.at(0), begin = shard.begin(rows), end = shard.end(rows);
  io::H5Output out(options.output, {options.source, path});
  const h5::Group root = out.root();
  io::stamp(root, input.kind, context, {model_input.record, input.record});
  const h5::Dataset x = io::create_rows(root, "x", torch::kFloat, encoding ? latent : model.data.shape, end - begin);
  if (encoding) {
    models::mark_latents(root, space);
  } else {
    const data::Range images = *model.data.image_range;
    x.set_attr("range", std::vector<double>{images[0], images[1]});
    io::set_json_attr(root, "decoded_by", {{"path", options.source}, {"sha256", model_input.record["sha256"]}});
  }
  // Labels, and a samples file's noise, row for row.
  std::vector<std::pair<h5::Dataset, h5::Dataset>> carried;
  for (const char* name : {"y", "z"}) {
    if (!in_root.has_dataset(name) || (encoding && std::string(name) == "z")) continue;
    h5::Dataset source = in_root.dataset(name);
    const std::vector<std::int64_t> shape = source.shape();
    if (shape.empty() || shape[0] != rows) fail("{}: /{} has {} rows, /x {}", path, name, shape.empty() ? 0 : shape[0], rows);
    h5::Dataset target =
        io::create_rows(root, name, source.scalar_type(), {shape.begin() + 1, shape.end()}, end - begin);
    target.copy_attrs_from(source);
    carried.emplace_back(std::move(target), std::move(source));
  }
  root.set_attr("seed", static_cast<std::int64_t>(context.seed));
  root.set_attr("shard", options.shard);
  root.set_attr("first_row", begin);

  Progress progress(std::string(encoding ? "encoding " : "decoding ") + path, end - begin);
  torch::NoGradGuard no_grad;
  for (std::int64_t at = begin; at < end; at += options.chunk) {
    const std::int64_t count = std::min(end, at + options.chunk) - at;
    const torch::Tensor in = in_x.read_rows(at, count);
    torch::Tensor mapped;
    if (encoding) {
      // A VAE's posterior sample draws row i's noise from (seed, i), whatever the chunks and shards.
      const torch::Tensor noise = data::normal_rows(context.seed, at, at + count, latent);
      mapped = in_batches(data::to_unit(in, range), [&](const torch::Tensor& images, std::int64_t offset) {
        return model.encode(images.to(context.device), noise.slice(0, offset, offset + images.size(0)).to(context.device));
      });
    } else {
      mapped = model.data.from_model(
          in_batches(in.to(torch::kFloat), [&](const torch::Tensor& z, std::int64_t) { return model.decode(z.to(context.device)); }));
    }
    x.append(mapped.to(torch::kCPU));
    for (const auto& [target, source] : carried) target.append(source.read_rows(at, count));
    progress.update(at + count - begin);
  }
  progress.finish();
  out.commit();
}

}  // namespace

void run(const SampleOptions& options, const Context& context) {
  if (options.chunk < 1) usage_fail("--chunk {}: must be positive", options.chunk);
  if (options.cuda_graph != "auto" && options.cuda_graph != "on" && options.cuda_graph != "off")
    usage_fail("--cuda-graph {}: expected auto, on or off", options.cuda_graph);
  check_precision(options.precision, context.device);
  const cli::Shard shard = cli::parse_shard(options.shard);
  if (!options.encode.empty() || !options.decode.empty()) {
    if (!options.encode.empty() && !options.decode.empty()) usage_fail("--encode and --decode: one at a time");
    if (options.count >= 0) usage_fail("-n: --encode and --decode map every row of their file");
    return write_mapped_rows(options, context, shard);
  }
  if (options.count < 0) usage_fail("-n is required: the rows to draw");
  if (data::is_toy_source(options.source)) {
    if (options.decode_samples) usage_fail("--decode: {} is a built-in source, not a latent model", options.source);
    return write_toy(options, context, shard);
  }
  const io::Input model = io::open_gm(options.source, {io::Kind::model});
  const io::ModelFile file = io::read_model(model);
  ModelSampler sampler;
  if (file.family == "diffusion") sampler = diffusion_sampler(options, context, file);
  else if (file.family == "gan") sampler = gan_sampler(options, context, file);
  else if (file.family == "consistency") sampler = consistency_sampler(options, context, file);
  else if (models::is_autoencoder_family(file.family)) sampler = vae_sampler(options, context, file);
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
  std::optional<models::OpenedAutoencoder> decoder;
  if (options.decode_samples) {
    if (!sampler.data.latent)
      usage_fail("--decode: {} models {}, not an autoencoder's latents", options.source,
                 sampler.data.is_image() ? "images" : "vectors");
    decoder = models::open_autoencoder(*sampler.data.latent, options.autoencoder, options.source, context);
  } else if (!options.autoencoder.empty()) {
    usage_fail("--autoencoder goes with --decode");
  }
  write_model_samples(options, context, shard, model, sampler, decoder);
}

}  // namespace gm::sample
