#include "gm/train/autoencoder.hpp"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/shape.hpp"
#include "gm/models/autoencoder.hpp"

namespace gm::train {

void AutoencoderOptions::register_on(CLI::App& app) {
  loop.register_on(app);
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--width", width, "Channels of the first level")->capture_default_str();
  app.add_option("--multipliers", multipliers,
                 "Channels of each level, times --width; each further level halves the resolution, so 1,2,2 maps "
                 "28x28 images to 7x7 latents")
      ->capture_default_str();
  app.add_option("--latent-channels", latent_channels, "Channels L of the latents [L, h, w]")->capture_default_str();
}

void VaeTrainOptions::register_on(CLI::App& app) {
  autoencoder.register_on(app);
  app.add_option("--kl-weight", kl_weight,
                 "Weight beta of the KL term in the training loss; 1 trains on the ELBO itself, smaller values trade "
                 "likelihood for sharper reconstructions")
      ->capture_default_str();
}

void VqVaeTrainOptions::register_on(CLI::App& app) {
  autoencoder.register_on(app);
  app.add_option("--codebook", codebook, "Codes K in the codebook")->capture_default_str();
  app.add_option("--commitment", commitment, "Weight beta of the commitment loss |z - sg(e)|^2")->capture_default_str();
  app.add_option("--codebook-decay", codebook_decay, "Decay gamma of the codebook's moving averages")
      ->capture_default_str();
  app.add_option("--dead-threshold", dead_threshold,
                 "Restart a code on a random encoder output of the batch when its averaged cluster size falls below "
                 "this many vectors per step")
      ->capture_default_str();
}

namespace {

struct AutoencoderRun {
  TrainingData data;
  models::AutoencoderModel model;
};

AutoencoderRun start_autoencoder(const AutoencoderOptions& options, const Context& context, const std::string& family,
                                 std::int64_t codebook) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  if (options.width < 8 || options.latent_channels < 1) usage_fail("--width must be 8 or more, --latent-channels positive");
  TrainingData data = load_training_data(options.loop.data, context, family, true, "no");
  if (!data.info.is_image()) fail("{}: gm-train {} takes images [N, C, H, W] with C 1 or 3", options.loop.data, family);
  nn::AutoencoderConfig config;
  config.channels = data.info.shape[0];
  config.resolution = data.info.shape[1];
  config.width = options.width;
  config.multipliers = integer_list(options.multipliers, "--multipliers");
  config.latent_channels = options.latent_channels;
  config.codebook = codebook;
  try {
    config = nn::AutoencoderConfig::from_json(config.to_json());
  } catch (const Error& e) {
    usage_fail("{}", e.what());
  }
  torch::manual_seed(context.seed);
  models::AutoencoderModel model;
  model.net = nn::Autoencoder(config);
  model.data = data.info;
  model.net->to(context.device);
  model.net->train();
  log::verbose("{} images of shape {} -> latents {}", data.x.size(0), shape_text(data.info.shape),
               shape_text(config.latent_shape()));
  return {std::move(data), std::move(model)};
}

// What both trainers set up alike: the process group, the seeded generator, the flat parameters
// (rank 0's on every rank), Adam, the batches, and the resume state of all of them.
struct AutoencoderTraining {
  const LoopOptions& loop;
  DataParallel parallel;
  at::Generator generator;
  FlatParameters parameters;
  Adam adam;
  ShuffledBatches batches;
  ResumeState state;
  double dimensions;

  AutoencoderTraining(const AutoencoderOptions& options, const Context& context, AutoencoderRun& run)
      : loop(options.loop),
        parallel(context, options.loop),
        generator(at::detail::createCPUGenerator(context.seed)),
        parameters(*run.model.net),
        adam(parameters, {options.learning_rate}),
        batches(run.data.x, options.loop.batch, generator),
        dimensions(static_cast<double>(run.model.dimensions())) {
    parallel.broadcast(parameters);
    track_network(state, "", parameters, adam, nullptr);
    track_data(state, batches, generator);
  }

  // Nats per image as bits per dimension, averaged over the whole batch: a curve, not a loss.
  torch::Tensor bits_per_dim(const torch::Tensor& nats) {
    return parallel.share(nats.detach().mean() / (dimensions * std::log(2.0)), loop.batch);
  }
};

void write_autoencoder(const AutoencoderOptions& options, const Context& context, const AutoencoderRun& run,
                       std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
  io::ModelFile file = trained_model(run.model.family(), run.model.config(), *run.model.net, nullptr, curves, std::move(resume));
  file.config["trained_steps"] = at;
  file.config["batch"] = options.loop.batch;
  file.config["latent_shape"] = run.model.net->config().latent_shape();
  io::write_model(options.loop.output, context, {run.data.input.record}, file);
}

}  // namespace

void train_vae(const VaeTrainOptions& options, const Context& context) {
  if (!(options.kl_weight >= 0 && std::isfinite(options.kl_weight))) usage_fail("--kl-weight {}: must be zero or more", options.kl_weight);
  AutoencoderRun run = start_autoencoder(options.autoencoder, context, "vae", 0);
  models::AutoencoderModel& model = run.model;
  model.kl_weight = options.kl_weight;
  AutoencoderTraining t(options.autoencoder, context, run);

  const auto step = [&]() -> std::map<std::string, double> {
    const torch::Tensor x = t.batches.next();
    const std::vector<std::int64_t> latent = model.net->config().latent_shape();
    std::vector<std::int64_t> noise_shape{x.size(0)};
    noise_shape.insert(noise_shape.end(), latent.begin(), latent.end());
    const torch::Tensor noise = t.parallel.local(torch::randn(noise_shape, t.generator, torch::kFloat).to(x.device()));
    const torch::Tensor mine = t.parallel.local(x);
    const models::Posterior q = model.posterior(mine);
    const torch::Tensor reconstruction = model.reconstruction_nll(mine, q.sample(noise));
    const torch::Tensor kl = q.kl();
    t.adam.zero_grad();
    // Nats per dimension, so that the learning rate does not depend on the image size.
    const torch::Tensor loss =
        t.parallel.share(((reconstruction + options.kl_weight * kl) / t.dimensions).mean(), t.loop.batch);
    loss.backward();
    const std::map<std::string, double> losses = t.parallel.reduce(
        t.parameters,
        {{"loss", loss}, {"bits_per_dim", t.bits_per_dim(reconstruction + kl)}, {"kl_bits_per_dim", t.bits_per_dim(kl)}});
    t.adam.step();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    write_autoencoder(options.autoencoder, context, run, at, curves, std::move(resume));
  };
  run_loop(t.loop, "training vae", step, write, t.state, t.parallel);
}

void train_vqvae(const VqVaeTrainOptions& options, const Context& context) {
  if (options.codebook < 2) usage_fail("--codebook {}: needs at least 2 codes", options.codebook);
  if (!(options.commitment >= 0)) usage_fail("--commitment {}: must be zero or more", options.commitment);
  if (!(options.codebook_decay >= 0 && options.codebook_decay < 1))
    usage_fail("--codebook-decay {}: must be in [0, 1)", options.codebook_decay);
  if (!(options.dead_threshold >= 0)) usage_fail("--dead-threshold {}: must be zero or more", options.dead_threshold);
  AutoencoderRun run = start_autoencoder(options.autoencoder, context, "vqvae", options.codebook);
  models::AutoencoderModel& model = run.model;
  model.commitment = options.commitment;
  AutoencoderTraining t(options.autoencoder, context, run);
  std::vector<torch::Tensor> codebook{model.net->codes(), model.net->cluster_size(), model.net->code_sum()};
  for (torch::Tensor& c : codebook) t.parallel.broadcast(c);
  t.state.track("codebook.codes", &model.net->codes());
  t.state.track("codebook.cluster_size", &model.net->cluster_size());
  t.state.track("codebook.code_sum", &model.net->code_sum());
  const std::int64_t codes = options.codebook;
  const double positions = static_cast<double>(model.net->config().latent_shape()[1] * model.net->config().latent_shape()[2]);

  const auto step = [&]() -> std::map<std::string, double> {
    const torch::Tensor x = t.parallel.local(t.batches.next());
    const torch::Tensor z = model.net->encode(x);
    const models::Quantised q = model.quantise(z.detach());
    // The straight-through estimator: the decoder's gradient flows to the encoder unchanged.
    const torch::Tensor reconstruction = model.reconstruction_nll(x, z + (q.latents - z).detach());
    const torch::Tensor commitment = (z - q.latents).pow(2).flatten(1).sum(1);
    t.adam.zero_grad();
    const torch::Tensor loss =
        t.parallel.share(((reconstruction + options.commitment * commitment) / t.dimensions).mean(), t.loop.batch);
    loss.backward();
    // The moving-average codebook (van den Oord et al. appendix A.1), its statistics summed over the ranks.
    torch::Tensor counts, sums;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor flat = z.detach().permute({0, 2, 3, 1}).reshape({-1, z.size(1)});
      const torch::Tensor assigned = torch::one_hot(q.indices.flatten(), codes).to(flat.scalar_type());
      counts = assigned.sum(0);
      sums = assigned.t().matmul(flat);
      std::vector<torch::Tensor> statistics{counts, sums};
      t.parallel.sum(statistics);
      const double gamma = options.codebook_decay;
      model.net->cluster_size().mul_(gamma).add_(counts, 1 - gamma);
      model.net->code_sum().mul_(gamma).add_(sums, 1 - gamma);
      // Laplace smoothing keeps a code with no members from dividing by zero.
      const torch::Tensor n = model.net->cluster_size();
      const torch::Tensor total = n.sum();
      const torch::Tensor smoothed = (n + 1e-5) / (total + codes * 1e-5) * total;
      model.net->codes().copy_(model.net->code_sum() / smoothed.unsqueeze(1));
      // Dead codes restart on encoder outputs of this batch (rank 0's, sent to every rank).
      const torch::Tensor dead = (n < options.dead_threshold).nonzero().flatten();
      if (dead.numel() > 0) {
        const torch::Tensor pick = torch::randint(0, flat.size(0), {dead.numel()}, t.generator, torch::kLong).to(flat.device());
        const torch::Tensor fresh = flat.index_select(0, pick);
        model.net->codes().index_copy_(0, dead, fresh);
        model.net->code_sum().index_copy_(0, dead, fresh);
        model.net->cluster_size().index_fill_(0, dead, 1.0);
        for (torch::Tensor& c : codebook) t.parallel.broadcast(c);
      }
    }
    // Codebook use in this batch: the perplexity of the code histogram (K when uniform) and the
    // fraction of codes with a member.
    const torch::Tensor p = counts / counts.sum();
    const double perplexity = (-(p * p.clamp_min(1e-12).log()).sum()).exp().item<double>();
    const double usage = (counts > 0).to(torch::kDouble).mean().item<double>();
    std::map<std::string, double> losses = t.parallel.reduce(
        t.parameters,
        {{"loss", loss}, {"bits_per_dim", t.bits_per_dim(reconstruction + positions * std::log(static_cast<double>(codes)))}});
    losses["perplexity"] = perplexity;
    losses["code_usage"] = usage;
    t.adam.step();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    write_autoencoder(options.autoencoder, context, run, at, curves, std::move(resume));
  };
  run_loop(t.loop, "training vqvae", step, write, t.state, t.parallel);
}

cli::Verb vae_verb() {
  return cli::make_verb<VaeTrainOptions>(
      "vae", "Variational autoencoder of images (Kingma & Welling 2014): a Gaussian latent [L, h, w]", train_vae);
}

cli::Verb vqvae_verb() {
  return cli::make_verb<VqVaeTrainOptions>(
      "vqvae", "VQ-VAE of images (van den Oord et al. 2017): a moving-average codebook with dead-code restarts",
      train_vqvae);
}

}  // namespace gm::train
