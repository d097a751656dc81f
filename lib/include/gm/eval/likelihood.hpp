// gm-eval --nll: likelihood bounds in bits per dimension on 8-bit images, the way the papers
// report them: a VAE's negative ELBO and importance-weighted bound (Burda et al. 2016), a
// VQ-VAE's bound under a uniform prior over codes (van den Oord et al. 2017), and a DDPM's
// variational bound L_T + sum L_{t-1} + L_0 (Ho et al. 2020, eq. 5).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "gm/base/context.hpp"
#include "gm/models/edm.hpp"

namespace gm::eval {

// The terms of a DDPM's bound for images x0 [N, ...] in [-1, 1], in nats per row: L_T (prior),
// sum_{t >= 2} L_{t-1} (diffusion) and L_0 (decoder), with the reverse steps' variance the
// posterior's beta-tilde. `noise(t)` gives the unit noise of step t (0-based, Ho et al.'s t + 1),
// shaped like x0; `done(t)` is told as each step finishes.
struct VlbTerms {
  torch::Tensor prior, diffusion, decoder;
};
VlbTerms ddpm_vlb(const models::Denoiser& denoise, const torch::Tensor& x0, const models::EdmConfig& edm,
                  const std::function<torch::Tensor(std::int64_t)>& noise,
                  const std::function<void(std::int64_t)>& done = {});

struct LikelihoodOptions {
  std::string model;               // a vae, vqvae or DDPM diffusion model file
  std::string data;                // a dataset of 8-bit images
  std::int64_t importance = 0;     // --iw K: also the importance-weighted bound with K samples (VAE)
  std::int64_t rows = 0;           // rows of the data to score; 0: all
  std::int64_t batch = 64;         // rows per network call
};

// The bound and its terms, per dimension in bits, averaged over the rows.
nlohmann::json likelihood(const LikelihoodOptions& options, const Context& context);

}  // namespace gm::eval
