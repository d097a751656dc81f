// EDM (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative
// Models"): preconditioning, training loss, the sigma schedule and the samplers. DDPM models
// (Ho et al. 2020) with epsilon- or v-prediction (Salimans & Ho 2022) live in the same framework,
// as EDM's Table 1 puts them: a preconditioning, a distribution of training sigmas and a grid.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::models {

struct EdmConfig {
  // "edm"; or DDPM's "eps" (the network predicts the noise) or "v" (it predicts
  // sqrt(abar) noise - sqrt(1 - abar) x0).
  std::string parametrisation = "edm";
  double sigma_data = 0.5;  // standard deviation of the data; gm computes it from the dataset
  double p_mean = -1.2;     // EDM training sigmas: ln(sigma) ~ N(p_mean, p_std^2)
  double p_std = 1.2;
  double sigma_min = 0.002;  // sampling range; a DDPM model's is that of its timesteps
  double sigma_max = 80.0;
  double rho = 7.0;  // Karras schedule exponent
  // DDPM: `timesteps` discrete steps, betas linear from beta_start to beta_end (Ho et al.), on
  // data scaled to unit standard deviation by sigma_data (as Ho et al. scale images to [-1, 1]).
  std::int64_t timesteps = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;

  bool is_ddpm() const { return parametrisation != "edm"; }
  // A DDPM model's config: the schedule's sigma range becomes the sampling range.
  static EdmConfig ddpm(const std::string& parametrisation, double sigma_data);
  // abar_t = prod_{s <= t} (1 - beta_s) for t = 0 .. timesteps - 1 (Ho et al.'s t = 1 .. T).
  std::vector<double> ddpm_alpha_bars() const;
  // sigma_t = sigma_data sqrt((1 - abar_t) / abar_t) for t = 0 .. timesteps - 1, rising.
  std::vector<double> ddpm_sigmas() const;

  nlohmann::json to_json() const;
  static EdmConfig from_json(const nlohmann::json& j, const std::string& parametrisation);
};

bool is_parametrisation(const std::string& name);

// The preconditioning D(x, sigma) = c_skip x + c_out F(c_in x, c_noise) at noise level sigma:
// EDM Table 1 for "edm"; for DDPM, c_skip = 1, c_out = -sigma ("eps") or the v form, and
// c_noise = t(sigma) / timesteps with t interpolated in log sigma between the discrete steps.
struct EdmScalings {
  torch::Tensor c_skip, c_out, c_in, c_noise;
};
EdmScalings edm_scalings(const torch::Tensor& sigma, const EdmConfig& config);

// t [N] shaped to broadcast over rows like `like` [N, ...]: [N, 1] for vectors, [N, 1, 1, 1] for images.
torch::Tensor per_row(const torch::Tensor& t, const torch::Tensor& like);

// F_theta(c_in x, c_noise): the raw network.
using RawNet = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& c_noise)>;

// D(x, sigma) = c_skip x + c_out F(c_in x, c_noise), sigma [N], or [1] for one level that broadcasts.
torch::Tensor edm_denoise(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                          const EdmConfig& config);

// What the raw network should output at x = y + sigma n: (y - c_skip x) / c_out (EDM eq. 8's
// effective target; the noise n for "eps", sqrt(abar) n - sqrt(1 - abar) y for "v").
torch::Tensor training_target(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& sigma,
                              const EdmConfig& config);

// Training noise levels [n]: EDM's log-normal, or a DDPM timestep drawn uniformly.
torch::Tensor training_sigmas(std::int64_t n, const EdmConfig& config, at::Generator& generator,
                              const torch::TensorOptions& options);

// The loss on a batch of clean rows: |F(c_in x, c_noise) - target|^2 averaged over rows and
// dimensions, which is EDM's lambda(sigma) |D - y|^2, DDPM's |eps - eps_theta|^2 or |v - v_theta|^2.
// The noise levels and noise are drawn for every row of `y`; the loss covers rows [begin, end)
// of them (end -1: to the last), so that a data-parallel rank draws what one process would.
torch::Tensor edm_loss(const RawNet& net, const torch::Tensor& y, const EdmConfig& config, at::Generator& generator,
                       std::pair<std::int64_t, std::int64_t> rows = {0, -1});

// Karras et al. eq. 5: `steps` sigmas from sigma_max down to sigma_min, then a final 0.
std::vector<double> karras_sigmas(int steps, const EdmConfig& config);
// The default sampling grid: Karras's for EDM models; for DDPM models `steps` timesteps evenly
// spaced from the last to the first (DDIM's uniform skipping), then a final 0.
std::vector<double> sampling_sigmas(int steps, const EdmConfig& config);

// A denoiser D(x, sigma) for a batch, sigma given as a scalar for all rows.
using Denoiser = std::function<torch::Tensor(const torch::Tensor& x, double sigma)>;
// Fresh standard normal noise shaped like the batch, for step k >= 1 of a stochastic sampler.
using StepNoise = std::function<torch::Tensor(int k)>;

struct SampleResult {
  torch::Tensor x;
  int nfe = 0;  // network evaluations per sample
};
// Samplers from x = z * sigma_0 along `sigmas`: the probability-flow ODE's "euler" (= "ddim" in
// sigma space, steps NFE), "heun" (EDM Algorithm 1 with S_churn = 0, 2 steps - 1 NFE) and
// "dpmpp-2m" (DPM-Solver++(2M), Lu et al. 2022, steps NFE); and "ddpm", ancestral sampling from
// the posterior q(x_s | x_t, x0) (Ho et al.; DDIM with eta = 1 on a subset of steps), which
// draws noise(k) at step k.
bool is_edm_sampler(const std::string& sampler);
SampleResult edm_sample(const Denoiser& denoise, const torch::Tensor& z, const std::vector<double>& sigmas,
                        const std::string& sampler, const StepNoise& noise = {});

}  // namespace gm::models
