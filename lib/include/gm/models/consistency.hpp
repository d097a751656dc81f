// Consistency models (Song et al. 2023): the boundary-condition parametrisation, the pseudo-Huber
// distance of improved consistency training (Song & Dhariwal 2023), and multistep sampling.
#pragma once

#include <functional>
#include <vector>

#include "gm/models/edm.hpp"

namespace gm::models {

// f(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in x, c_noise) with
// c_skip = sd^2 / ((sigma - sigma_min)^2 + sd^2) and c_out = sd (sigma - sigma_min) / sqrt(sd^2 + sigma^2),
// so f(x, sigma_min) = x exactly. c_in and c_noise are EDM's, so a student starts from its teacher.
torch::Tensor consistency_function(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                                   const EdmConfig& config);

// The Karras grid of `points` sigmas rising from sigma_min to sigma_max, the discretisation
// consistency distillation steps between (t_1 < ... < t_N in Song et al.).
std::vector<double> ascending_grid(int points, const EdmConfig& config);

// Mean over rows of sqrt(|a - b|^2 + c^2) - c.
torch::Tensor pseudo_huber(const torch::Tensor& a, const torch::Tensor& b, double c);

// The sigmas at which multistep sampling evaluates f: points k (N - 1) / steps, k = 0 .. steps - 1
// (rounded) of the Karras grid of N = `grid` points, sigma_max first, that the student was
// distilled on. A student trained on a discrete grid is consistent only at its points: off the
// grid its noise embedding sees values it never trained on.
std::vector<double> consistency_sigmas(int steps, const EdmConfig& config, int grid);

// Algorithm 1 of Song et al. 2023: x = f(z sigma_0, sigma_0); then for each later sigma, add
// fresh noise of variance sigma^2 - sigma_min^2 and map back with f. `noise(k)` gives the noise
// for step k >= 1, shaped like z.
using ConsistencyFn = std::function<torch::Tensor(const torch::Tensor& x, double sigma)>;
SampleResult consistency_sample(const ConsistencyFn& f, const torch::Tensor& z, const std::vector<double>& sigmas,
                                double sigma_min, const std::function<torch::Tensor(int)>& noise);

}  // namespace gm::models
