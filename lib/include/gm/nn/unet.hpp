// A UNet denoiser for images in the style of Ho et al. 2020 and Dhariwal & Nichol 2021: residual
// blocks with GroupNorm and SiLU that add the noise (and class) embedding, self-attention at
// the low resolutions the config names, skip connections from every down-path block.
#pragma once

#include <vector>

#include "gm/nn/denoiser.hpp"

namespace gm::nn {

struct UNetConfig {
  std::int64_t channels = 1;                 // image channels in and out
  std::int64_t resolution = 28;              // height and width
  std::int64_t width = 32;                   // channels of the first level
  std::vector<std::int64_t> multipliers{1, 2, 2};  // channels per level, times width
  std::int64_t blocks = 1;                   // residual blocks per level on the way down
  std::vector<std::int64_t> attention{7};    // resolutions with self-attention
  std::int64_t classes = 0;                  // class conditioning (0: none)
  bool guidance_input = false;               // the guidance scale as an input (a latent consistency student)
  std::int64_t fourier = 32;
  double fourier_scale = 16;

  nlohmann::json to_json() const;
  static UNetConfig from_json(const nlohmann::json& j);
};

class UNetImpl : public DenoiserImpl {
 public:
  explicit UNetImpl(const UNetConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels,
                        const torch::Tensor& guidance = {}) override;
  nlohmann::json config_json() const override { return config_.to_json(); }
  std::int64_t classes() const override { return config_.classes; }
  bool takes_guidance() const override { return config_.guidance_input; }
  const UNetConfig& config() const { return config_; }

 private:
  UNetConfig config_;
  torch::Tensor frequencies_;
  torch::nn::Linear embed_{nullptr}, embed_out_{nullptr}, guidance_embed_{nullptr};
  torch::nn::Embedding class_embed_{nullptr};
  torch::nn::Conv2d input_{nullptr}, output_{nullptr};
  torch::nn::GroupNorm output_norm_{nullptr};
  torch::nn::ModuleList down_{nullptr}, middle_{nullptr}, up_{nullptr};
};

}  // namespace gm::nn
