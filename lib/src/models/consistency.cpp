#include "gm/models/consistency.hpp"

#include <algorithm>
#include <cmath>

#include "gm/base/error.hpp"

namespace gm::models {

torch::Tensor consistency_function(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                                   const EdmConfig& config) {
  const double sd = config.sigma_data;
  const torch::Tensor shifted = sigma - config.sigma_min;
  const torch::Tensor c_skip = sd * sd / (shifted * shifted + sd * sd);
  const torch::Tensor c_out = sd * shifted / (sigma * sigma + sd * sd).sqrt();
  const EdmScalings s = edm_scalings(sigma, config);
  const auto row = [&x](const torch::Tensor& t) { return per_row(t, x); };
  torch::Tensor output = net(row(s.c_in) * x, s.c_noise);
  // A DDPM teacher's network predicts eps or v; re-expressed as the EDM-preconditioned output
  // F = (D - c_skip x) / c_out, the student starts from its teacher whatever the parametrisation.
  if (config.is_ddpm()) {
    const EdmScalings e = edm_scalings(sigma, EdmConfig{"edm", sd});
    output = (row(s.c_skip - e.c_skip) * x + row(s.c_out) * output) / row(e.c_out);
  }
  return row(c_skip) * x + row(c_out) * output;
}

std::vector<double> ascending_grid(int points, const EdmConfig& config) {
  std::vector<double> grid = karras_sigmas(points, config);
  grid.pop_back();  // the final 0
  std::reverse(grid.begin(), grid.end());
  return grid;
}

torch::Tensor pseudo_huber(const torch::Tensor& a, const torch::Tensor& b, double c) {
  return ((a - b).pow(2).flatten(1).sum(1) + c * c).sqrt().sub(c).mean();
}

std::vector<double> consistency_sigmas(int steps, const EdmConfig& config, int grid) {
  if (steps < 1 || steps >= grid)
    usage_fail("--steps {}: a consistency model distilled on {} sigmas samples with 1 to {} steps", steps, grid,
               grid - 1);
  const std::vector<double> points = karras_sigmas(grid, config);
  std::vector<double> sigmas;
  for (int k = 0; k < steps; ++k)
    sigmas.push_back(points[static_cast<size_t>(std::lround(static_cast<double>(k) * (grid - 1) / steps))]);
  return sigmas;
}

SampleResult consistency_sample(const ConsistencyFn& f, const torch::Tensor& z, const std::vector<double>& sigmas,
                                double sigma_min, const std::function<torch::Tensor(int)>& noise) {
  SampleResult result{f(z * sigmas.front(), sigmas.front()), 1};
  for (size_t k = 1; k < sigmas.size(); ++k) {
    const double sigma = sigmas[k];
    const torch::Tensor noisy = result.x + std::sqrt(sigma * sigma - sigma_min * sigma_min) * noise(static_cast<int>(k));
    result.x = f(noisy, sigma);
    ++result.nfe;
  }
  return result;
}

}  // namespace gm::models
