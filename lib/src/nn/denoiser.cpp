#include "gm/nn/denoiser.hpp"

#include <cmath>

#include "gm/base/error.hpp"
#include "gm/nn/noise_mlp.hpp"
#include "gm/nn/unet.hpp"

namespace gm::nn {

Denoiser make_denoiser(const nlohmann::json& config) {
  const std::string type = config.value("type", std::string());
  if (type == "noise_mlp") return std::make_shared<NoiseMlpImpl>(NoiseMlpConfig::from_json(config));
  if (type == "unet") return std::make_shared<UNetImpl>(UNetConfig::from_json(config));
  fail("network type {} is not one this build has (noise_mlp, unet)", config.value("type", nlohmann::json()).dump());
}

torch::Tensor fourier_frequencies(std::int64_t count, double scale) { return torch::randn({count}) * scale; }

torch::Tensor fourier_features(const torch::Tensor& noise, const torch::Tensor& frequencies) {
  const torch::Tensor phase = (2 * M_PI) * noise.view({-1, 1}) * frequencies.view({1, -1});
  return torch::cat({phase.cos(), phase.sin()}, 1);
}

torch::Tensor guidance_features(const torch::Tensor& guidance, std::int64_t count) {
  const torch::Tensor k = torch::arange(count, guidance.options());
  const torch::Tensor phase = (guidance.view({-1, 1}) * 1000.0) * (k * (-std::log(10000.0) / static_cast<double>(count))).exp().view({1, -1});
  return torch::cat({phase.sin(), phase.cos()}, 1);
}

torch::Tensor labels_or_null(const torch::Tensor& labels, std::int64_t rows, std::int64_t classes,
                             const torch::Device& device) {
  if (!labels.defined()) return torch::full({rows}, classes, torch::TensorOptions(torch::kLong).device(device));
  if (labels.dim() != 1 || labels.size(0) != rows) fail("{} labels for a batch of {} rows", labels.numel(), rows);
  return labels.to(device, torch::kLong);
}

}  // namespace gm::nn
