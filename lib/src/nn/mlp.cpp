#include "gm/nn/mlp.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/layers.hpp"

namespace gm::nn {

nlohmann::json MlpConfig::to_json() const {
  return {{"type", "mlp"}, {"in", in}, {"out", out}, {"hidden", hidden}, {"depth", depth}, {"activation", activation}};
}

MlpConfig MlpConfig::from_json(const nlohmann::json& j) {
  if (j.value("type", std::string()) != "mlp")
    fail("network type {} is not one this build has (mlp)", j.value("type", nlohmann::json()).dump());
  MlpConfig c;
  c.in = j.at("in").get<std::int64_t>();
  c.out = j.at("out").get<std::int64_t>();
  c.hidden = j.at("hidden").get<std::int64_t>();
  c.depth = j.at("depth").get<std::int64_t>();
  c.activation = j.at("activation").get<std::string>();
  if (c.in < 1 || c.out < 1 || c.hidden < 1 || c.depth < 1 || c.in > (1 << 20) || c.hidden > (1 << 16) || c.depth > 64 ||
      (c.activation != "relu" && c.activation != "leaky_relu"))
    fail("MLP config out of range: {}", j.dump());
  const double hidden = static_cast<double>(c.hidden);
  check_parameter_bound(hidden * (static_cast<double>(c.in + c.out) + static_cast<double>(c.depth) * (hidden + 1) + 1), j);
  return c;
}

MlpImpl::MlpImpl(const MlpConfig& config) : config_(config) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  std::int64_t width = config.in;
  for (std::int64_t i = 0; i < config.depth; ++i) {
    layers_->push_back(torch::nn::Linear(width, config.hidden));
    width = config.hidden;
  }
  layers_->push_back(torch::nn::Linear(width, config.out));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& input, const torch::Tensor&) {
  torch::Tensor x = input;
  const size_t last = layers_->size() - 1;
  for (size_t i = 0; i < layers_->size(); ++i) {
    x = layers_[i]->as<torch::nn::Linear>()->forward(x);
    if (i < last) x = config_.activation == "relu" ? torch::relu(x) : torch::leaky_relu(x, 0.2);
  }
  return x;
}

}  // namespace gm::nn
