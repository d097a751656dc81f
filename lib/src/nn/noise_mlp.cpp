#include "gm/nn/noise_mlp.hpp"

#include "gm/base/error.hpp"
#include "gm/kernels/cpu.hpp"
#include "gm/nn/layers.hpp"

namespace gm::nn {

nlohmann::json NoiseMlpConfig::to_json() const {
  nlohmann::json j = {{"type", "noise_mlp"}, {"dim", dim},         {"hidden", hidden},
                      {"depth", depth},      {"fourier", fourier}, {"fourier_scale", fourier_scale}};
  if (classes > 0) j["classes"] = classes;
  if (guidance_input) j["guidance_input"] = true;
  return j;
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
  c.classes = j.value("classes", std::int64_t{0});
  c.guidance_input = j.value("guidance_input", false);
  if (c.classes < 0 || c.classes > (1 << 20) || c.dim < 1 || c.hidden < 1 || c.depth < 0 || c.fourier < 1 || c.dim > (1 << 20) || c.hidden > (1 << 16) ||
      c.depth > 64 || c.fourier > (1 << 12))
    fail("network config out of range: {}", j.dump());
  const double hidden = static_cast<double>(c.hidden);
  check_parameter_bound(hidden * (2.0 * static_cast<double>(c.dim) + (c.guidance_input ? 4.0 : 2.0) * static_cast<double>(c.fourier) +
                                  static_cast<double>(c.classes) + (static_cast<double>(c.depth) + 2) * (hidden + 1) + 2),
                        j);
  return c;
}

NoiseMlpImpl::NoiseMlpImpl(const NoiseMlpConfig& config) : config_(config) {
  frequencies_ = register_buffer("frequencies", fourier_frequencies(config.fourier, config.fourier_scale));
  input_ = register_module("input", torch::nn::Linear(config.dim, config.hidden));
  embed_ = register_module("embed", torch::nn::Linear(2 * config.fourier, config.hidden));
  embed_out_ = register_module("embed_out", torch::nn::Linear(config.hidden, config.hidden));
  hidden_ = register_module("hidden", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.depth; ++i) hidden_->push_back(torch::nn::Linear(config.hidden, config.hidden));
  output_ = register_module("output", torch::nn::Linear(config.hidden, config.dim));
  // One extra row: the "no label" token of classifier-free guidance.
  if (config.classes > 0) class_embed_ = register_module("class_embed", torch::nn::Embedding(config.classes + 1, config.hidden));
  if (config.guidance_input) guidance_embed_ = register_module("guidance_embed", zero_linear(2 * config.fourier, config.hidden));
}

torch::Tensor NoiseMlpImpl::forward(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels,
                                    const torch::Tensor& guidance) {
  torch::Tensor embedding = kernels::silu_mlp(fourier_features(noise, frequencies_),
                                              {embed_->weight, embed_->bias, embed_out_->weight, embed_out_->bias});
  if (class_embed_) embedding = embedding + class_embed_(labels_or_null(labels, x.size(0), config_.classes, x.device()));
  if (guidance_embed_) embedding = embedding + guidance_embed_(guidance_features(guidance_or_zero(guidance, x), config_.fourier));
  std::vector<torch::Tensor> trunk{input_->weight, input_->bias};
  for (const auto& layer : *hidden_) {
    const auto* linear = layer->as<torch::nn::Linear>();
    trunk.insert(trunk.end(), {linear->weight, linear->bias});
  }
  trunk.insert(trunk.end(), {output_->weight, output_->bias});
  return kernels::silu_mlp(x, trunk, embedding);
}

}  // namespace gm::nn
