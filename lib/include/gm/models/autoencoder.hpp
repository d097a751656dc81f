// The autoencoder families: "vae" (Kingma & Welling 2014) and "vqvae" (van den Oord et al.
// 2017, with the moving-average codebook of its appendix). Both decode to a discretised
// Gaussian over the 256 levels of 8-bit pixels, so their bound is on the discrete data itself.
#pragma once

#include <string>
#include <utility>

#include "gm/io/model_file.hpp"
#include "gm/models/data_info.hpp"
#include "gm/nn/autoencoder.hpp"

namespace gm::models {

// log P(x) per element, in nats, of pixels x on the 256 levels of [-1, 1] under a Gaussian of
// `mean` and log standard deviation `log_scale`, integrated over each level's bin of width 2/255,
// the outermost bins reaching to infinity (Ho et al. 2020, eq. 13). Broadcasts.
torch::Tensor discretised_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& mean,
                                                  const torch::Tensor& log_scale);

// Latents of a VAE's posterior q(z | x) = N(mean, exp(log_var)).
struct Posterior {
  torch::Tensor mean, log_var;
  torch::Tensor sample(const torch::Tensor& unit_noise) const { return mean + (0.5 * log_var).exp() * unit_noise; }
  // log q(z | x) per row, summed over the latent's elements.
  torch::Tensor log_density(const torch::Tensor& z) const;
  // KL(q(z | x) || N(0, I)) per row, in nats.
  torch::Tensor kl() const;
};

// A VQ-VAE's nearest codes: the code vectors [N, L, h, w] and their indices [N, h, w].
struct Quantised {
  torch::Tensor latents, indices;
};

struct AutoencoderModel {
  nn::Autoencoder net{nullptr};
  DataInfo data;           // the images it was trained on
  double kl_weight = 1;    // VAE: beta, the KL term's weight in training (1: the ELBO)
  double commitment = 0.25;  // VQ-VAE: the commitment loss's weight

  bool quantised() const { return net->config().quantised(); }
  std::string family() const { return quantised() ? "vqvae" : "vae"; }
  // Elements of one image, the D of bits per dimension.
  std::int64_t dimensions() const;

  Posterior posterior(const torch::Tensor& x) const;  // VAE
  Quantised quantise(const torch::Tensor& z) const;   // VQ-VAE: nearest codes of encoder outputs
  // -log p(x | z) per row, in nats, of images x in [-1, 1] given latents z.
  torch::Tensor reconstruction_nll(const torch::Tensor& x, const torch::Tensor& z) const;

  // What gm-sample --encode writes for images in [-1, 1]: a VAE's posterior sample with this
  // unit noise (the sampled latents latent diffusion trains on, as in Rombach et al. 2022), or a
  // VQ-VAE's code vectors.
  torch::Tensor encode(const torch::Tensor& x, const torch::Tensor& unit_noise) const;
  // Latents -> images in [-1, 1]: the decoder's mean, clipped to the pixel range. A VQ-VAE
  // snaps the latents to their nearest codes first, so latents from a diffusion model decode as
  // codes do.
  torch::Tensor decode(const torch::Tensor& z) const;

  nlohmann::json config() const;
  static AutoencoderModel from_file(const io::ModelFile& file, const std::string& where);
};

bool is_autoencoder_family(const std::string& family);

}  // namespace gm::models
