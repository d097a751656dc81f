// An MLP denoiser for vector data, conditioned on the noise level through random Fourier
// features (the embedding of EDM's NCSN++ configuration).
#pragma once

#include "gm/nn/denoiser.hpp"

namespace gm::nn {

struct NoiseMlpConfig {
  std::int64_t dim = 2;       // data dimensions, in and out
  std::int64_t hidden = 256;  // width of every hidden layer
  std::int64_t depth = 3;     // hidden layers after the input layer
  std::int64_t fourier = 32;  // Fourier frequencies of the noise embedding (2x features)
  double fourier_scale = 16;  // standard deviation of those frequencies
  std::int64_t classes = 0;   // class conditioning through a learned embedding (0: none)
  bool guidance_input = false;  // the guidance scale as an input (a latent consistency student)

  nlohmann::json to_json() const;
  static NoiseMlpConfig from_json(const nlohmann::json& j);
};

class NoiseMlpImpl : public DenoiserImpl {
 public:
  explicit NoiseMlpImpl(const NoiseMlpConfig& config);
  // x [N, dim], noise [N] (the preconditioned noise level c_noise) -> [N, dim].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels = {},
                        const torch::Tensor& guidance = {}) override;
  nlohmann::json config_json() const override { return config_.to_json(); }
  std::int64_t classes() const override { return config_.classes; }
  bool takes_guidance() const override { return config_.guidance_input; }
  const NoiseMlpConfig& config() const { return config_; }

 private:
  NoiseMlpConfig config_;
  torch::Tensor frequencies_;  // buffer [fourier], drawn once at construction
  torch::nn::Linear input_{nullptr}, embed_{nullptr}, embed_out_{nullptr}, output_{nullptr}, guidance_embed_{nullptr};
  torch::nn::ModuleList hidden_{nullptr};
  torch::nn::Embedding class_embed_{nullptr};
};
TORCH_MODULE(NoiseMlp);

}  // namespace gm::nn
