#include "gm/models/autoencoder.hpp"

#include <cmath>

#include "gm/base/error.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

torch::Tensor discretised_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& mean,
                                                  const torch::Tensor& log_scale) {
  const torch::Tensor centred = x - mean;
  const torch::Tensor inverse_scale = (-log_scale).exp();
  const auto cdf = [](const torch::Tensor& v) { return 0.5 * (1 + torch::erf(v * M_SQRT1_2)); };
  const torch::Tensor cdf_plus = cdf(inverse_scale * (centred + 1.0 / 255));
  const torch::Tensor cdf_minus = cdf(inverse_scale * (centred - 1.0 / 255));
  const torch::Tensor log_cdf_plus = cdf_plus.clamp_min(1e-12).log();
  const torch::Tensor log_one_minus_cdf_minus = (1 - cdf_minus).clamp_min(1e-12).log();
  const torch::Tensor log_delta = (cdf_plus - cdf_minus).clamp_min(1e-12).log();
  // The edge levels take the whole tail beyond them (Ho et al.'s thresholds at +-0.999).
  return torch::where(x < -0.999, log_cdf_plus, torch::where(x > 0.999, log_one_minus_cdf_minus, log_delta));
}

namespace {

torch::Tensor sum_per_row(const torch::Tensor& t) { return t.flatten(1).sum(1); }

constexpr double kLogTwoPi = 1.8378770664093453;

}  // namespace

torch::Tensor Posterior::log_density(const torch::Tensor& z) const {
  return sum_per_row(-0.5 * (kLogTwoPi + log_var + (z - mean).pow(2) * (-log_var).exp()));
}

torch::Tensor Posterior::kl() const { return sum_per_row(0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var)); }

std::int64_t AutoencoderModel::dimensions() const {
  std::int64_t d = 1;
  for (std::int64_t s : data.shape) d *= s;
  return d;
}

Posterior AutoencoderModel::posterior(const torch::Tensor& x) const {
  const auto halves = net.ptr()->encode(x).chunk(2, 1);
  // Clamped as in latent diffusion's DiagonalGaussianDistribution, so exp() stays finite.
  return {halves[0], halves[1].clamp(-30, 20)};
}

Quantised AutoencoderModel::quantise(const torch::Tensor& z) const {
  const torch::Tensor& codes = net.ptr()->codes();
  const std::int64_t n = z.size(0), l = z.size(1), h = z.size(2), w = z.size(3);
  const torch::Tensor flat = z.permute({0, 2, 3, 1}).reshape({-1, l});
  // |z - e|^2 = |z|^2 - 2 z.e + |e|^2; |z|^2 is the same for every code.
  const torch::Tensor distances = codes.pow(2).sum(1).unsqueeze(0) - 2 * flat.matmul(codes.t());
  const torch::Tensor indices = distances.argmin(1);
  const torch::Tensor latents = codes.index_select(0, indices).view({n, h, w, l}).permute({0, 3, 1, 2}).contiguous();
  return {latents, indices.view({n, h, w})};
}

torch::Tensor AutoencoderModel::reconstruction_nll(const torch::Tensor& x, const torch::Tensor& z) const {
  const torch::Tensor mean = net.ptr()->decode(z);
  return -sum_per_row(discretised_gaussian_log_likelihood(x, mean, net->log_scale().view({1, -1, 1, 1})));
}

torch::Tensor AutoencoderModel::encode(const torch::Tensor& x, const torch::Tensor& unit_noise) const {
  if (quantised()) return quantise(net.ptr()->encode(x)).latents;
  return posterior(x).sample(unit_noise);
}

torch::Tensor AutoencoderModel::decode(const torch::Tensor& z) const {
  return net.ptr()->decode(quantised() ? quantise(z).latents : z).clamp(-1, 1);
}

nlohmann::json AutoencoderModel::config() const {
  nlohmann::json config = {{"network", net->config().to_json()}};
  if (quantised()) config["commitment"] = commitment;
  else config["kl_weight"] = kl_weight;
  data.write(config);
  return config;
}

bool is_autoencoder_family(const std::string& family) { return family == "vae" || family == "vqvae"; }

AutoencoderModel AutoencoderModel::from_file(const io::ModelFile& file, const std::string& where) {
  if (!is_autoencoder_family(file.family)) fail("{}: is a {} model, not an autoencoder (vae, vqvae)", where, file.family);
  AutoencoderModel model;
  try {
    model.data = DataInfo::read(file.config);
    const nn::AutoencoderConfig config = nn::AutoencoderConfig::from_json(file.config.at("network"));
    if (!model.data.is_image() ||
        model.data.shape != std::vector<std::int64_t>{config.channels, config.resolution, config.resolution})
      fail("the network does not match the images it was trained on");
    if (config.quantised() != (file.family == "vqvae"))
      fail("a {} model needs a network {} a codebook", file.family, config.quantised() ? "without" : "with");
    model.kl_weight = file.config.value("kl_weight", 1.0);
    model.commitment = file.config.value("commitment", 0.25);
    model.net = nn::Autoencoder(config);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: config is malformed: {}", where, e.what());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  nn::load_parameters(*model.net, file.params, where);
  nn::load_buffers(*model.net, file.buffers, where);
  if (!torch::isfinite(model.net->log_scale()).all().item<bool>()) fail("{}: the decoder's log_scale is not finite", where);
  model.net->eval();
  return model;
}

}  // namespace gm::models
