// The raw network F(x, c_noise, labels) inside a diffusion model's preconditioning, whatever its
// architecture: the MLP for vectors, the UNet for images. Files name the architecture in the
// config's "type", and make_denoiser builds it from there.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::nn {

class DenoiserImpl : public torch::nn::Module {
 public:
  // x [N, ...], noise [N] or [1] (c_noise; one level for every row), labels [N] int64 in 0 .. classes, where `classes` is the
  // "no label" token of classifier-free guidance; undefined labels mean that token for all rows.
  // guidance [N] or [1]: the guidance scale w, for a network that takes it as an input (a latent
  // consistency student); ignored (and may be undefined) otherwise.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels,
                                const torch::Tensor& guidance = {}) = 0;
  virtual nlohmann::json config_json() const = 0;
  virtual std::int64_t classes() const = 0;  // 0: unconditional
  virtual bool takes_guidance() const = 0;
};
using Denoiser = std::shared_ptr<DenoiserImpl>;

// Builds the network a config names ("noise_mlp" or "unet"), with fresh weights.
Denoiser make_denoiser(const nlohmann::json& config);

// Random Fourier features of the noise level (the embedding of EDM's NCSN++): cos and sin of
// 2 pi noise f, for frequencies f ~ N(0, scale^2) drawn once and kept as a buffer.
torch::Tensor fourier_frequencies(std::int64_t count, double scale);
torch::Tensor fourier_features(const torch::Tensor& noise, const torch::Tensor& frequencies);  // [N] -> [N, 2F]

// The guidance scale's embedding input, as latent consistency models condition on it (Luo et al.
// 2023, after Meng et al. 2023): sinusoids of 1000 w at `count` frequencies from 1 to 1/10000.
torch::Tensor guidance_features(const torch::Tensor& guidance, std::int64_t count);  // [N] -> [N, 2 count]

// The labels a network sees: the given ones, or the "no label" token `classes` when undefined.
torch::Tensor labels_or_null(const torch::Tensor& labels, std::int64_t rows, std::int64_t classes,
                             const torch::Device& device);

}  // namespace gm::nn
