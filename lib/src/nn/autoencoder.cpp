#include "gm/nn/autoencoder.hpp"

#include <algorithm>

#include "gm/base/error.hpp"
#include "gm/kernels/cpu.hpp"
#include "gm/nn/layers.hpp"

namespace gm::nn {

std::vector<std::int64_t> AutoencoderConfig::latent_shape() const {
  const std::int64_t side = resolution >> (multipliers.size() - 1);
  return {latent_channels, side, side};
}

nlohmann::json AutoencoderConfig::to_json() const {
  nlohmann::json j = {{"type", "conv_autoencoder"}, {"channels", channels},   {"resolution", resolution},
                      {"width", width},             {"multipliers", multipliers}, {"latent_channels", latent_channels}};
  if (codebook > 0) j["codebook"] = codebook;
  return j;
}

AutoencoderConfig AutoencoderConfig::from_json(const nlohmann::json& j) {
  if (j.value("type", std::string()) != "conv_autoencoder")
    fail("network type {} is not one this build has (conv_autoencoder)", j.value("type", nlohmann::json()).dump());
  AutoencoderConfig c;
  c.channels = j.at("channels").get<std::int64_t>();
  c.resolution = j.at("resolution").get<std::int64_t>();
  c.width = j.at("width").get<std::int64_t>();
  c.multipliers = j.at("multipliers").get<std::vector<std::int64_t>>();
  c.latent_channels = j.at("latent_channels").get<std::int64_t>();
  c.codebook = j.value("codebook", std::int64_t{0});
  bool ok = c.channels >= 1 && c.channels <= 64 && c.width >= 8 && c.width <= 4096 && !c.multipliers.empty() &&
            c.multipliers.size() <= 8 && c.latent_channels >= 1 && c.latent_channels <= 4096 && c.codebook >= 0 &&
            c.codebook <= (1 << 20) && c.resolution >= 1 && c.resolution <= (1 << 14);
  for (std::int64_t m : c.multipliers) ok = ok && m >= 1 && m <= 64;
  if (!ok) fail("autoencoder config out of range: {}", j.dump());
  if (c.resolution % (std::int64_t{1} << (c.multipliers.size() - 1)) != 0)
    fail("autoencoder resolution {} does not halve {} times", c.resolution, c.multipliers.size() - 1);
  // Per level at most two 3x3 convolutions in each of the encoder's and decoder's blocks, plus the codebook.
  const double widest = static_cast<double>(c.width) * static_cast<double>(*std::max_element(c.multipliers.begin(), c.multipliers.end()));
  check_parameter_bound(static_cast<double>(c.multipliers.size() + 1) * 4 * 19 * widest * widest +
                            static_cast<double>(c.codebook + 1) * 2 * static_cast<double>(c.latent_channels) +
                            20 * widest * static_cast<double>(c.channels + 2 * c.latent_channels),
                        j);
  return c;
}

namespace {

torch::nn::Conv2d coder_conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

// GroupNorm, SiLU, conv, twice, around a skip (a 1x1 conv when the widths differ).
class CoderBlockImpl : public torch::nn::Module {
 public:
  CoderBlockImpl(std::int64_t in, std::int64_t out) {
    norm1_ = register_module("norm1", group_norm(in));
    conv1_ = register_module("conv1", coder_conv(in, out, 3));
    norm2_ = register_module("norm2", group_norm(out));
    conv2_ = register_module("conv2", coder_conv(out, out, 3));
    if (in != out) skip_ = register_module("skip", coder_conv(in, out, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor h = conv2_(kernels::silu(norm2_(conv1_(kernels::silu(norm1_(x))))));
    return (skip_ ? skip_(x) : x) + h;
  }

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
};
TORCH_MODULE(CoderBlock);

// Nearest-neighbour doubling then a 3x3 conv.
class UpsampleImpl : public torch::nn::Module {
 public:
  explicit UpsampleImpl(std::int64_t channels) { conv_ = register_module("conv", coder_conv(channels, channels, 3)); }
  torch::Tensor forward(const torch::Tensor& x) {
    return conv_(torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2}));
  }

 private:
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Upsample);

}  // namespace

AutoencoderImpl::AutoencoderImpl(const AutoencoderConfig& config) : config_(config) {
  const auto levels = static_cast<std::int64_t>(config.multipliers.size());
  const std::int64_t latent_out = config.quantised() ? config.latent_channels : 2 * config.latent_channels;

  encoder_ = torch::nn::Sequential();
  encoder_->push_back("input", coder_conv(config.channels, config.width, 3));
  std::int64_t channels = config.width;
  for (std::int64_t level = 0; level < levels; ++level) {
    const std::int64_t out = config.width * config.multipliers[level];
    encoder_->push_back("block" + std::to_string(level), CoderBlock(channels, out));
    channels = out;
    if (level + 1 < levels) encoder_->push_back("down" + std::to_string(level), coder_conv(channels, channels, 3, 2));
  }
  encoder_->push_back("middle", CoderBlock(channels, channels));
  encoder_->push_back("output_norm", group_norm(channels));
  encoder_->push_back("output_act", torch::nn::SiLU());
  encoder_->push_back("output", coder_conv(channels, latent_out, 3));
  encoder_ = register_module("encoder", encoder_);

  decoder_ = torch::nn::Sequential();
  decoder_->push_back("input", coder_conv(config.latent_channels, channels, 3));
  decoder_->push_back("middle", CoderBlock(channels, channels));
  for (std::int64_t level = levels - 1; level >= 0; --level) {
    const std::int64_t out = config.width * config.multipliers[level];
    decoder_->push_back("block" + std::to_string(level), CoderBlock(channels, out));
    channels = out;
    if (level > 0) decoder_->push_back("up" + std::to_string(level), Upsample(channels));
  }
  decoder_->push_back("output_norm", group_norm(channels));
  decoder_->push_back("output_act", torch::nn::SiLU());
  decoder_->push_back("output", coder_conv(channels, config.channels, 3));
  decoder_ = register_module("decoder", decoder_);

  // The pixel noise starts wide (sd 0.5 of the [-1, 1] range) and is learnt with the rest.
  log_scale_ = register_parameter("log_scale", torch::full({config.channels}, std::log(0.5)));
  if (config.quantised()) {
    // Codes start as small random vectors; the moving averages and dead-code restarts move them
    // to where the encoder's outputs are.
    codes_ = register_buffer("codes", torch::randn({config.codebook, config.latent_channels}) * 0.1);
    cluster_size_ = register_buffer("cluster_size", torch::ones({config.codebook}));
    code_sum_ = register_buffer("code_sum", codes_.clone());
  }
}

torch::Tensor AutoencoderImpl::encode(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != config_.channels || x.size(2) != config_.resolution || x.size(3) != config_.resolution)
    fail("the autoencoder takes images [N, {}, {}, {}], got {}", config_.channels, config_.resolution,
         config_.resolution, c10::str(x.sizes()));
  return encoder_->forward(x);
}

torch::Tensor AutoencoderImpl::decode(const torch::Tensor& z) {
  const std::vector<std::int64_t> shape = config_.latent_shape();
  if (z.dim() != 4 || z.size(1) != shape[0] || z.size(2) != shape[1] || z.size(3) != shape[2])
    fail("the decoder takes latents [N, {}, {}, {}], got {}", shape[0], shape[1], shape[2], c10::str(z.sizes()));
  return decoder_->forward(z);
}

}  // namespace gm::nn
