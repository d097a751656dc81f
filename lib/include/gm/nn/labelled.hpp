// Networks that map a batch and its class labels to outputs: a GAN's generator and
// discriminator, whatever the architecture (the toy MLP ignores labels; DCGAN uses them).
#pragma once

#include <memory>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::nn {

class LabelledNetImpl : public torch::nn::Module {
 public:
  // labels [N] int64, or undefined for an unconditional network.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels) = 0;
  virtual nlohmann::json config_json() const = 0;
};
using LabelledNet = std::shared_ptr<LabelledNetImpl>;

// Builds the network a config names by its "type": mlp, dcgan_generator, dcgan_discriminator.
LabelledNet make_labelled_net(const nlohmann::json& config);

}  // namespace gm::nn
