#include "gm/models/edm.hpp"

#include <cmath>

#include "gm/base/error.hpp"

namespace gm::models {

nlohmann::json EdmConfig::to_json() const {
  return {{"sigma_data", sigma_data}, {"p_mean", p_mean},       {"p_std", p_std},
          {"sigma_min", sigma_min},   {"sigma_max", sigma_max}, {"rho", rho}};
}

EdmConfig EdmConfig::from_json(const nlohmann::json& j) {
  EdmConfig c;
  c.sigma_data = j.at("sigma_data").get<double>();
  c.p_mean = j.at("p_mean").get<double>();
  c.p_std = j.at("p_std").get<double>();
  c.sigma_min = j.at("sigma_min").get<double>();
  c.sigma_max = j.at("sigma_max").get<double>();
  c.rho = j.at("rho").get<double>();
  if (!(c.sigma_data > 0) || !(c.sigma_min > 0) || !(c.sigma_max > c.sigma_min) || !(c.rho > 0) || !(c.p_std > 0))
    fail("EDM config out of range: {}", j.dump());
  return c;
}

EdmScalings edm_scalings(const torch::Tensor& sigma, double sigma_data) {
  const torch::Tensor s2 = sigma * sigma + sigma_data * sigma_data;
  return {sigma_data * sigma_data / s2, sigma * sigma_data / s2.sqrt(), 1.0 / s2.sqrt(), sigma.log() / 4.0};
}

torch::Tensor edm_denoise(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                          const EdmConfig& config) {
  const EdmScalings s = edm_scalings(sigma, config.sigma_data);
  const auto column = [&](const torch::Tensor& t) {
    std::vector<std::int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[0] = -1;
    return t.view(shape);
  };
  return column(s.c_skip) * x + column(s.c_out) * net(column(s.c_in) * x, s.c_noise);
}

torch::Tensor edm_loss(const RawNet& net, const torch::Tensor& y, const EdmConfig& config, at::Generator& generator) {
  const auto options = y.options();
  const torch::Tensor sigma =
      (torch::randn({y.size(0)}, generator, options) * config.p_std + config.p_mean).exp();
  const torch::Tensor noise = torch::randn(y.sizes(), generator, options);
  std::vector<std::int64_t> shape(static_cast<size_t>(y.dim()), 1);
  shape[0] = -1;
  const torch::Tensor s = sigma.view(shape);
  const torch::Tensor weight = (s * s + config.sigma_data * config.sigma_data) / (s * config.sigma_data).pow(2);
  const torch::Tensor denoised = edm_denoise(net, y + s * noise, sigma, config);
  return (weight * (denoised - y).pow(2)).mean();
}

std::vector<double> karras_sigmas(int steps, const EdmConfig& config) {
  if (steps < 1) usage_fail("--steps {}: needs at least 1 step", steps);
  std::vector<double> sigmas;
  const double hi = std::pow(config.sigma_max, 1.0 / config.rho), lo = std::pow(config.sigma_min, 1.0 / config.rho);
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? 0.0 : static_cast<double>(i) / (steps - 1);
    sigmas.push_back(std::pow(hi + t * (lo - hi), config.rho));
  }
  sigmas.push_back(0.0);
  return sigmas;
}

bool is_edm_sampler(const std::string& sampler) {
  return sampler == "euler" || sampler == "ddim" || sampler == "heun" || sampler == "dpmpp-2m";
}

SampleResult edm_sample(const Denoiser& denoise, const torch::Tensor& z, const std::vector<double>& sigmas,
                        const std::string& sampler) {
  if (!is_edm_sampler(sampler))
    usage_fail("--sampler {}: EDM models sample with euler, ddim, heun or dpmpp-2m", sampler);
  SampleResult result{z * sigmas.front(), 0};
  torch::Tensor& x = result.x;
  torch::Tensor previous;  // dpmpp-2m: the denoised value of the step before
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1];
    const torch::Tensor denoised = denoise(x, sigma);
    ++result.nfe;
    if (sampler == "dpmpp-2m") {
      // DPM-Solver++(2M) (Lu et al. 2022) in lambda = -log(sigma): a second-order multistep
      // correction from the previous denoised value; first order on the first and last steps.
      torch::Tensor d = denoised;
      if (previous.defined() && next > 0) {
        const double h = std::log(sigma / next), h_last = std::log(sigmas[i - 1] / sigma);
        const double r = h_last / h;
        d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * previous;
      }
      x = next > 0 ? (next / sigma) * x - std::expm1(-std::log(sigma / next)) * d : denoised;
      previous = denoised;
      continue;
    }
    // Euler, which is DDIM in sigma space: x' = D + (sigma' / sigma) (x - D).
    const torch::Tensor slope = (x - denoised) / sigma;
    torch::Tensor proposal = x + (next - sigma) * slope;
    if (sampler == "heun" && next > 0) {
      // Second-order correction with the slope at the end of the step (EDM Algorithm 1, line 7).
      const torch::Tensor slope_next = (proposal - denoise(proposal, next)) / next;
      ++result.nfe;
      proposal = x + (next - sigma) * 0.5 * (slope + slope_next);
    }
    x = proposal;
  }
  return result;
}

}  // namespace gm::models
