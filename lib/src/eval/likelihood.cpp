#include "gm/eval/likelihood.hpp"

#include <cmath>

#include "gm/base/error.hpp"
#include "gm/base/progress.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/images.hpp"
#include "gm/data/labels.hpp"
#include "gm/data/noise.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/autoencoder.hpp"
#include "gm/models/diffusion.hpp"

namespace gm::eval {

namespace {

const double kLn2 = std::log(2.0);

// The dataset's images as levels in [-1, 1], checked to be 8-bit: uint8, or floats on 256
// evenly spaced levels of their range.
struct EightBitImages {
  io::Input input;
  h5::Dataset x;
  data::Range range;
  std::int64_t rows;
  std::optional<h5::Dataset> y;

  torch::Tensor read(std::int64_t at, std::int64_t count) const {
    const torch::Tensor raw = x.read_rows(at, count);
    const torch::Tensor unit = data::to_unit(raw, range);
    if (raw.scalar_type() != torch::kByte) {
      const torch::Tensor levels = (unit + 1) * 127.5;
      if ((levels - levels.round()).abs().max().item<double>() > 1e-3)
        fail("{}: /x holds values between the 256 levels of its range [{}, {}]; bits per dimension are defined here "
             "for 8-bit images",
             input.path, range[0], range[1]);
    }
    return ((unit + 1) * 127.5).round().clamp(0, 255) / 127.5 - 1;
  }
};

EightBitImages open_images(const LikelihoodOptions& options, const std::vector<std::int64_t>& shape) {
  io::Input input = io::open_gm(options.data, {io::Kind::dataset, io::Kind::samples});
  const h5::Group root = input.file.root();
  h5::Dataset x = root.dataset("x");
  const std::vector<std::int64_t> full = x.shape();
  const std::vector<std::int64_t> row(full.begin() + 1, full.end());
  if (row != shape)
    fail("{}: /x rows have shape {}, the model {} takes {}", options.data, shape_text(row), options.model, shape_text(shape));
  const std::optional<data::Range> range = io::range_attr(x);
  if (!range && x.read_rows(0, 0).scalar_type() != torch::kByte)
    fail("{}: /x holds float images without a range attribute, so their 8-bit levels are unknown", options.data);
  std::int64_t rows = full.at(0);
  if (options.rows > 0) rows = std::min(rows, options.rows);
  if (rows < 1) fail("{}: holds no rows to score", options.data);
  std::optional<h5::Dataset> y;
  if (root.has_dataset("y")) y = root.dataset("y");
  return {std::move(input), std::move(x), range.value_or(data::Range{0, 255}), rows, std::move(y)};
}

nlohmann::json describe(const LikelihoodOptions& options, const io::Input& model, const EightBitImages& images,
                        std::int64_t dimensions) {
  return {{"model", {{"path", options.model}, {"sha256", model.record["sha256"]}}},
          {"data", {{"path", options.data}, {"sha256", images.input.record["sha256"]}}},
          {"rows", images.rows},
          {"dimensions", dimensions},
          {"dequantisation",
           "none: the likelihood is a discretised Gaussian over the 256 levels of each 8-bit pixel (Ho et al. 2020, "
           "eq. 13), so the bound is on the discrete data itself and equals the bound under uniform dequantisation"}};
}

nlohmann::json autoencoder_likelihood(const LikelihoodOptions& options, const Context& context, const io::Input& input,
                                      const io::ModelFile& file) {
  models::AutoencoderModel model = models::AutoencoderModel::from_file(file, options.model);
  model.net->to(context.device);
  const EightBitImages images = open_images(options, model.data.shape);
  if (model.quantised() && options.importance > 0)
    usage_fail("--iw: a VQ-VAE's posterior is a single code per position; the importance-weighted bound is for a vae");
  const std::int64_t dimensions = model.dimensions();
  const std::vector<std::int64_t> latent = model.net->config().latent_shape();
  const std::int64_t samples = std::max<std::int64_t>(1, options.importance);
  std::vector<std::int64_t> noise_shape{samples};
  noise_shape.insert(noise_shape.end(), latent.begin(), latent.end());
  const std::int64_t codes = model.net->config().codebook;
  const double positions = static_cast<double>(latent[1] * latent[2]);

  double reconstruction = 0, kl = 0, iw = 0;
  torch::Tensor code_counts = codes > 0 ? torch::zeros({codes}, torch::kDouble) : torch::Tensor();
  torch::NoGradGuard no_grad;
  Progress progress("likelihood of " + options.data, images.rows);
  for (std::int64_t at = 0; at < images.rows; at += options.batch) {
    const std::int64_t count = std::min(options.batch, images.rows - at);
    const torch::Tensor x = images.read(at, count).to(context.device);
    if (model.quantised()) {
      const models::Quantised q = model.quantise(model.net->encode(x));
      reconstruction += model.reconstruction_nll(x, q.latents).sum().item<double>();
      code_counts += torch::bincount(q.indices.flatten().cpu(), {}, codes).to(torch::kDouble);
    } else {
      // One posterior sample per row for the ELBO (with the KL in closed form), K for the
      // importance-weighted bound; row i's noise depends on (seed, i) only.
      const models::Posterior q = model.posterior(x);
      const torch::Tensor noise = data::normal_rows(context.seed, at, at + count, noise_shape).to(context.device);
      std::vector<torch::Tensor> log_weights;
      for (std::int64_t k = 0; k < samples; ++k) {
        const torch::Tensor z = q.sample(noise.select(1, k));
        const torch::Tensor nll = model.reconstruction_nll(x, z);
        if (k == 0) reconstruction += nll.sum().item<double>();
        const torch::Tensor log_prior = (-0.5 * (z.pow(2) + 1.8378770664093453)).flatten(1).sum(1);
        log_weights.push_back(-nll + log_prior - q.log_density(z));
      }
      kl += q.kl().sum().item<double>();
      if (options.importance > 0)
        iw -= (torch::logsumexp(torch::stack(log_weights, 1), 1) - std::log(static_cast<double>(samples))).sum().item<double>();
    }
    progress.update(at + count);
  }
  progress.finish();
  const double scale = 1.0 / (static_cast<double>(images.rows) * static_cast<double>(dimensions) * kLn2);
  nlohmann::json out = describe(options, input, images, dimensions);
  out["family"] = file.family;
  out["reconstruction_bits_per_dim"] = reconstruction * scale;
  if (model.quantised()) {
    // A uniform prior over the K codes at every latent position: KL = positions x log K.
    const double prior = positions * std::log(static_cast<double>(codes)) / (static_cast<double>(dimensions) * kLn2);
    out["kl_bits_per_dim"] = prior;
    out["elbo_bits_per_dim"] = reconstruction * scale + prior;
    out["prior"] = "uniform over the codebook (van den Oord et al. 2017)";
    const torch::Tensor p = code_counts / code_counts.sum();
    out["code_usage"] = (code_counts > 0).to(torch::kDouble).mean().item<double>();
    out["perplexity"] = (-(p * p.clamp_min(1e-300).log()).sum()).exp().item<double>();
    out["codebook"] = codes;
  } else {
    out["kl_bits_per_dim"] = kl * scale;
    out["elbo_bits_per_dim"] = (reconstruction + kl) * scale;
    if (options.importance > 0) {
      out["iw_bits_per_dim"] = iw * scale;
      out["iw_samples"] = options.importance;
    }
  }
  return out;
}

// Ho et al.'s bound for a DDPM in gm's units: the data x0 in [-1, 1] is scaled to u0 = x0 /
// sigma_data, u_t = sqrt(abar_t) u0 + sqrt(1 - abar_t) eps, and the reverse steps have the
// posterior's variance beta-tilde (the variance gm's ddpm sampler uses).
nlohmann::json ddpm_likelihood(const LikelihoodOptions& options, const Context& context, const io::Input& input,
                               const io::ModelFile& file) {
  models::DiffusionModel model = models::DiffusionModel::from_file(file, options.model, true);
  if (!model.edm.is_ddpm())
    fail("{}: the variational bound in bits per dimension is defined here for DDPM models (gm-train diffusion "
         "--parametrisation eps or v); this is an EDM model",
         options.model);
  if (!model.data.is_image()) fail("{}: bits per dimension need a model of 8-bit images", options.model);
  model.net->to(context.device);
  const EightBitImages images = open_images(options, model.data.shape);
  const bool conditional = model.data.classes() > 0 && images.y.has_value();
  std::int64_t dimensions = 1;
  for (std::int64_t s : model.data.shape) dimensions *= s;
  const auto timesteps = model.edm.timesteps;
  double prior = 0, steps = 0, decoder = 0;
  torch::NoGradGuard no_grad;
  Progress progress("variational bound on " + options.data, images.rows * timesteps, "evaluations");
  for (std::int64_t at = 0; at < images.rows; at += options.batch) {
    const std::int64_t count = std::min(options.batch, images.rows - at);
    const torch::Tensor x0 = images.read(at, count).to(context.device);
    torch::Tensor labels;
    if (conditional)
      labels = data::checked_labels(images.y->read_rows(at, count), count, images.y->where()).to(context.device);
    // Fresh noise per (row, step), from a stream of its own for each step.
    const auto noise = [&](std::int64_t t) {
      return data::normal_rows(context.seed, at, at + count, model.data.shape, data::kNoiseStream + 1 + static_cast<std::uint32_t>(t))
          .to(context.device);
    };
    const auto done = [&](std::int64_t t) { progress.update(at * timesteps + (t + 1) * count); };
    const VlbTerms terms = ddpm_vlb(model.denoiser(labels), x0, model.edm, noise, done);
    prior += terms.prior.sum().item<double>();
    steps += terms.diffusion.sum().item<double>();
    decoder += terms.decoder.sum().item<double>();
  }
  progress.finish();
  const double scale = 1.0 / (static_cast<double>(images.rows) * static_cast<double>(dimensions) * kLn2);
  nlohmann::json out = describe(options, input, images, dimensions);
  out["family"] = "diffusion";
  out["parametrisation"] = model.edm.parametrisation;
  out["timesteps"] = timesteps;
  out["conditional"] = conditional;
  out["prior_bits_per_dim"] = prior * scale;
  out["diffusion_bits_per_dim"] = steps * scale;
  out["decoder_bits_per_dim"] = decoder * scale;
  out["vlb_bits_per_dim"] = (prior + steps + decoder) * scale;
  return out;
}

}  // namespace

VlbTerms ddpm_vlb(const models::Denoiser& denoise, const torch::Tensor& x0, const models::EdmConfig& edm,
                  const std::function<torch::Tensor(std::int64_t)>& noise, const std::function<void(std::int64_t)>& done) {
  const std::vector<double> alpha_bar = edm.ddpm_alpha_bars(), sigmas = edm.ddpm_sigmas();
  const double sd = edm.sigma_data;
  std::vector<double> beta(alpha_bar.size()), posterior_variance(alpha_bar.size());
  for (size_t t = 0; t < alpha_bar.size(); ++t) {
    const double previous = t == 0 ? 1.0 : alpha_bar[t - 1];
    beta[t] = 1 - alpha_bar[t] / previous;
    posterior_variance[t] = beta[t] * (1 - previous) / (1 - alpha_bar[t]);
  }
  // L_0's decoder variance is beta-tilde of the second step, as Ho et al.'s code clips the first (zero) one.
  const double decoder_log_scale = std::log(sd) + 0.5 * std::log(posterior_variance.at(1));
  const auto per_row = [](const torch::Tensor& t) { return t.flatten(1).sum(1); };
  // L_T = KL(q(u_T | u0) || N(0, I)) with u0 = x0 / sigma_data.
  const double last = alpha_bar.back();
  VlbTerms terms;
  terms.prior = per_row(0.5 * (last * (x0 / sd).pow(2) + (1 - last) - 1 - std::log(1 - last)));
  terms.diffusion = torch::zeros({x0.size(0)}, x0.options());
  for (size_t t = 0; t < alpha_bar.size(); ++t) {
    const double sigma = sigmas[t];
    const torch::Tensor predicted = denoise(x0 + sigma * noise(static_cast<std::int64_t>(t)), sigma);
    if (t == 0) {
      terms.decoder = -per_row(models::discretised_gaussian_log_likelihood(
          x0, predicted, torch::full({1}, decoder_log_scale, x0.options())));
    } else {
      // KL of two Gaussians of the same variance: the squared distance of their means, which
      // differ only through the predicted u0 (coefficient sqrt(abar_{t-1}) beta_t / (1 - abar_t)).
      const double coefficient = std::sqrt(alpha_bar[t - 1]) * beta[t] / (1 - alpha_bar[t]);
      terms.diffusion += coefficient * coefficient / (2 * posterior_variance[t] * sd * sd) * per_row((x0 - predicted).pow(2));
    }
    if (done) done(static_cast<std::int64_t>(t));
  }
  return terms;
}

nlohmann::json likelihood(const LikelihoodOptions& options, const Context& context) {
  if (options.data.empty()) usage_fail("--nll needs --data, the images to score");
  if (options.importance < 0 || options.importance > 100000) usage_fail("--iw {}: expected 1 to 100000 samples", options.importance);
  if (options.rows < 0) usage_fail("--nll-rows {}: must be zero (all) or more", options.rows);
  if (options.batch < 1) usage_fail("--batch {}: must be positive", options.batch);
  const io::Input input = io::open_gm(options.model, {io::Kind::model});
  const io::ModelFile file = io::read_model(input);
  if (models::is_autoencoder_family(file.family)) return autoencoder_likelihood(options, context, input, file);
  if (file.family == "diffusion") return ddpm_likelihood(options, context, input, file);
  fail("{}: --nll scores vae, vqvae and DDPM diffusion models; this is a {} model, which has no likelihood bound",
       options.model, file.family);
}

}  // namespace gm::eval
