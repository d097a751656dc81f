#include "gm/nn/noise_mlp.hpp"

#include <cmath>

#include "gm/base/error.hpp"

namespace gm::nn {

nlohmann::json NoiseMlpConfig::to_json() const {
  return {{"type", "noise_mlp"}, {"dim", dim},         {"hidden", hidden},
          {"depth", depth},      {"fourier", fourier}, {"fourier_scale", fourier_scale}};
}

NoiseMlpConfig NoiseMlpConfig::from_json(const nlohmann::json& j) {
  if (j.value("type", std::string()) != "noise_mlp")
    fail("network type {} is not one this build has (noise_mlp)", j.value("type", nlohmann::json()).dump());
  NoiseMlpConfig c;
  c.dim = j.at("dim").get<std::int64_t>();
  c.hidden = j.at("hidden").get<std::int64_t>();
  c.depth = j.at("depth").get<std::int64_t>();
  c.fourier = j.at("fourier").get<std::int64_t>();
  c.fourier_scale = j.at("fourier_scale").get<double>();
  if (c.dim < 1 || c.hidden < 1 || c.depth < 0 || c.fourier < 1 || c.dim > (1 << 20) || c.hidden > (1 << 16) ||
      c.depth > 64 || c.fourier > (1 << 12))
    fail("network config out of range: {}", j.dump());
  return c;
}

NoiseMlpImpl::NoiseMlpImpl(const NoiseMlpConfig& config) : config_(config) {
  frequencies_ = register_buffer("frequencies", torch::randn({config.fourier}) * config.fourier_scale);
  input_ = register_module("input", torch::nn::Linear(config.dim, config.hidden));
  embed_ = register_module("embed", torch::nn::Linear(2 * config.fourier, config.hidden));
  embed_out_ = register_module("embed_out", torch::nn::Linear(config.hidden, config.hidden));
  hidden_ = register_module("hidden", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.depth; ++i) hidden_->push_back(torch::nn::Linear(config.hidden, config.hidden));
  output_ = register_module("output", torch::nn::Linear(config.hidden, config.dim));
}

torch::Tensor NoiseMlpImpl::forward(const torch::Tensor& x, const torch::Tensor& noise) {
  const torch::Tensor phase = (2 * M_PI) * noise.view({-1, 1}) * frequencies_.view({1, -1});
  const torch::Tensor features = torch::cat({phase.cos(), phase.sin()}, 1);
  const torch::Tensor embedding = embed_out_(torch::silu(embed_(features)));
  torch::Tensor h = input_(x) + embedding;
  for (const auto& layer : *hidden_) h = layer->as<torch::nn::Linear>()->forward(torch::silu(h));
  return output_(torch::silu(h));
}

}  // namespace gm::nn
