// EDM (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative
// Models"): preconditioning, training loss, the sigma schedule and the Euler and Heun samplers.
#pragma once

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace gm::models {

struct EdmConfig {
  double sigma_data = 0.5;  // standard deviation of the data; gm computes it from the dataset
  double p_mean = -1.2;     // training sigmas: ln(sigma) ~ N(p_mean, p_std^2)
  double p_std = 1.2;
  double sigma_min = 0.002;  // sampling range
  double sigma_max = 80.0;
  double rho = 7.0;  // Karras schedule exponent

  nlohmann::json to_json() const;
  static EdmConfig from_json(const nlohmann::json& j);
};

// The preconditioning coefficients of EDM Table 1 at noise level sigma.
struct EdmScalings {
  torch::Tensor c_skip, c_out, c_in, c_noise;
};
EdmScalings edm_scalings(const torch::Tensor& sigma, double sigma_data);

// F_theta(c_in x, c_noise): the raw network.
using RawNet = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& c_noise)>;

// D(x, sigma) = c_skip x + c_out F(c_in x, c_noise), sigma [N].
torch::Tensor edm_denoise(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                          const EdmConfig& config);

// The EDM loss on a batch of clean rows: lambda(sigma) |D(y + sigma n, sigma) - y|^2 with
// lambda = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2, averaged over rows and dimensions.
torch::Tensor edm_loss(const RawNet& net, const torch::Tensor& y, const EdmConfig& config, at::Generator& generator);

// Karras et al. eq. 5: `steps` sigmas from sigma_max down to sigma_min, then a final 0.
std::vector<double> karras_sigmas(int steps, const EdmConfig& config);

// A denoiser D(x, sigma) for a batch, sigma given as a scalar for all rows.
using Denoiser = std::function<torch::Tensor(const torch::Tensor& x, double sigma)>;

struct SampleResult {
  torch::Tensor x;
  int nfe = 0;  // network evaluations per sample
};
// Deterministic probability-flow ODE samplers from x = z * sigma_0: "euler" (= "ddim" in sigma
// space, steps NFE) and "heun" (EDM Algorithm 1 with S_churn = 0, 2 steps - 1 NFE), and
// "dpmpp-2m" (DPM-Solver++(2M), Lu et al. 2022, steps NFE).
bool is_edm_sampler(const std::string& sampler);
SampleResult edm_sample(const Denoiser& denoise, const torch::Tensor& z, const std::vector<double>& sigmas,
                        const std::string& sampler);

}  // namespace gm::models
