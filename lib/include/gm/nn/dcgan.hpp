// DCGAN-style networks (Radford et al. 2016) for images: a generator of stride-2 transposed
// convolutions from a projected latent, ending in tanh, and a discriminator of stride-2
// convolutions with leaky ReLU. GroupNorm stands in for BatchNorm, so that a network's output
// never depends on the rest of its batch (and checkpoints need no running statistics).
// Class conditioning: a label embedding joins the latent in the generator, and the
// discriminator adds a projection term (Miyato & Koyama 2018).
#pragma once

#include <vector>

#include "gm/nn/labelled.hpp"

namespace gm::nn {

struct DcganConfig {
  std::int64_t channels = 1;     // image channels (times the pack, for a PacGAN discriminator)
  std::int64_t resolution = 28;  // height and width
  std::int64_t width = 64;       // channels at full resolution; doubling at each halving
  std::int64_t latent = 64;      // generator input
  std::int64_t classes = 0;

  // Halvings from full resolution to the base grid (28 -> 14 -> 7: 2; 32 -> 4: 3).
  std::int64_t levels() const;
  nlohmann::json to_json(const std::string& type) const;
  static DcganConfig from_json(const nlohmann::json& j);
};

class DcganGeneratorImpl : public LabelledNetImpl {
 public:
  explicit DcganGeneratorImpl(const DcganConfig& config);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels) override;  // [N, latent] -> [N, C, H, W]
  nlohmann::json config_json() const override { return config_.to_json("dcgan_generator"); }

 private:
  DcganConfig config_;
  torch::nn::Embedding class_embed_{nullptr};
  torch::nn::Linear project_{nullptr};
  torch::nn::ModuleList ups_{nullptr}, norms_{nullptr};
  torch::nn::GroupNorm base_norm_{nullptr};
  torch::nn::Conv2d output_{nullptr};
};

class DcganDiscriminatorImpl : public LabelledNetImpl {
 public:
  explicit DcganDiscriminatorImpl(const DcganConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels) override;  // -> logits [N]
  nlohmann::json config_json() const override { return config_.to_json("dcgan_discriminator"); }

 private:
  DcganConfig config_;
  torch::nn::ModuleList downs_{nullptr};
  torch::nn::Linear features_{nullptr}, output_{nullptr};
  torch::nn::Embedding class_embed_{nullptr};
};

}  // namespace gm::nn
