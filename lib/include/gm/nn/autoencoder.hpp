// The convolutional encoder and decoder of gm's autoencoders: a VAE with a Gaussian latent
// (Kingma & Welling 2014) and a VQ-VAE with a codebook (van den Oord et al. 2017). Both map
// images [N, C, H, W] in [-1, 1] to latents [N, L, H / 2^k, W / 2^k] and back, with GroupNorm
// residual blocks as in the first stage of latent diffusion (Rombach et al. 2022).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::nn {

struct AutoencoderConfig {
  std::int64_t channels = 1;                     // image channels in and out
  std::int64_t resolution = 28;                  // height and width
  std::int64_t width = 32;                       // channels of the first level
  std::vector<std::int64_t> multipliers{1, 2, 2};  // channels per level, times width; each further level halves
  std::int64_t latent_channels = 4;              // L
  std::int64_t codebook = 0;                     // VQ-VAE: codes K; 0 for a Gaussian VAE

  bool quantised() const { return codebook > 0; }
  // [L, h, w]: the shape of one latent row.
  std::vector<std::int64_t> latent_shape() const;
  nlohmann::json to_json() const;
  static AutoencoderConfig from_json(const nlohmann::json& j);
};

class AutoencoderImpl : public torch::nn::Module {
 public:
  explicit AutoencoderImpl(const AutoencoderConfig& config);
  // Images -> for a VAE the posterior's mean and log variance [N, 2L, h, w] stacked on dim 1;
  // for a VQ-VAE the unquantised latents [N, L, h, w].
  torch::Tensor encode(const torch::Tensor& x);
  // Latents [N, L, h, w] -> the mean of the decoder's Gaussian over pixels, [N, C, H, W].
  torch::Tensor decode(const torch::Tensor& z);
  // The decoder's log standard deviation per image channel, [C], learnt.
  const torch::Tensor& log_scale() const { return log_scale_; }
  // VQ-VAE: the codebook [K, L] (a buffer updated by moving averages, not by gradients), its
  // averaged cluster sizes [K] and sums [K, L].
  torch::Tensor& codes() { return codes_; }
  torch::Tensor& cluster_size() { return cluster_size_; }
  torch::Tensor& code_sum() { return code_sum_; }
  const AutoencoderConfig& config() const { return config_; }

 private:
  AutoencoderConfig config_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
  torch::Tensor log_scale_, codes_, cluster_size_, code_sum_;
};
TORCH_MODULE(Autoencoder);

}  // namespace gm::nn
