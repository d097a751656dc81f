// A small convolutional classifier for images: two stages of two 3x3 convolutions and 2x2
// average pooling, then a hidden layer whose activations are the features gm-eval compares.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::nn {

struct ConvClassifierConfig {
  std::int64_t channels = 1;
  std::int64_t resolution = 28;  // divisible by 4
  std::int64_t width = 32;
  std::int64_t features = 128;
  std::int64_t classes = 10;

  nlohmann::json to_json() const;
  static ConvClassifierConfig from_json(const nlohmann::json& j);
};

class ConvClassifierImpl : public torch::nn::Module {
 public:
  explicit ConvClassifierImpl(const ConvClassifierConfig& config);
  torch::Tensor features(const torch::Tensor& x);  // images in [-1, 1] -> [N, features]
  torch::Tensor logits(const torch::Tensor& features);  // features -> logits [N, classes]
  torch::Tensor forward(const torch::Tensor& x) { return logits(features(x)); }
  const ConvClassifierConfig& config() const { return config_; }

 private:
  ConvClassifierConfig config_;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear hidden_{nullptr}, output_{nullptr};
};
TORCH_MODULE(ConvClassifier);

}  // namespace gm::nn
