// A plain multilayer perceptron: the toy GAN's generator and discriminator.
#pragma once

#include <string>

#include "gm/nn/labelled.hpp"

namespace gm::nn {

struct MlpConfig {
  std::int64_t in = 2;
  std::int64_t out = 2;
  std::int64_t hidden = 256;
  std::int64_t depth = 3;              // hidden layers
  std::string activation = "relu";     // relu or leaky_relu (slope 0.2)

  nlohmann::json to_json() const;
  static MlpConfig from_json(const nlohmann::json& j);
};

class MlpImpl : public LabelledNetImpl {
 public:
  explicit MlpImpl(const MlpConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels = {}) override;  // labels unused
  nlohmann::json config_json() const override { return config_.to_json(); }
  const MlpConfig& config() const { return config_; }

 private:
  MlpConfig config_;
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace gm::nn
