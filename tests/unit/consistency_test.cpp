#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/models/consistency.hpp"

namespace {

using gm::models::EdmConfig;

TEST(Consistency, BoundaryConditionHoldsExactlyAtSigmaMin) {
  const EdmConfig config;
  // Any network: f(x, sigma_min) must be x itself.
  const gm::models::RawNet wild = [](const torch::Tensor& x, const torch::Tensor&) { return x * 7 + 3; };
  const auto x = torch::randn({6, 2}, torch::kDouble);
  const auto at_min = gm::models::consistency_function(wild, x, torch::full({6}, config.sigma_min, torch::kDouble), config);
  EXPECT_TRUE(torch::allclose(at_min, x, 0, 1e-12));
  // Far from sigma_min the network's output dominates: c_skip -> 0, c_out -> sigma_data.
  const auto big = gm::models::consistency_function(wild, x, torch::full({6}, 1e4, torch::kDouble), config);
  const auto c_in = 1 / std::sqrt(1e8 + config.sigma_data * config.sigma_data);
  EXPECT_TRUE(torch::allclose(big, config.sigma_data * (x * c_in * 7 + 3), 1e-3, 1e-3));
}

TEST(Consistency, PseudoHuberIsL2NearZeroAndL1FarAway) {
  const auto a = torch::zeros({1, 2}, torch::kDouble);
  EXPECT_NEAR(gm::models::pseudo_huber(a, torch::tensor({{3.0, 4.0}}, torch::kDouble), 0).item<double>(), 5.0, 1e-12);
  const double c = 0.01;
  // sqrt(d^2 + c^2) - c ~ d^2 / (2c) for d << c.
  const auto tiny = torch::tensor({{1e-4, 0.0}}, torch::kDouble);
  EXPECT_NEAR(gm::models::pseudo_huber(a, tiny, c).item<double>(), 1e-8 / (2 * c), 1e-10);
  EXPECT_NEAR(gm::models::pseudo_huber(a, torch::tensor({{0.0, 10.0}}, torch::kDouble), c).item<double>(),
              std::sqrt(100 + c * c) - c, 1e-12);
}

TEST(Consistency, MultistepSigmasAndSampling) {
  const EdmConfig config;
  EXPECT_EQ(gm::models::consistency_sigmas(1, config, 18), std::vector<double>{80.0});
  // Multistep sampling stays on the student's training grid: 2 steps of an 18-point grid use
  // points 0 and round(8.5) = 9.
  const auto grid = gm::models::karras_sigmas(18, config);
  EXPECT_EQ(gm::models::consistency_sigmas(2, config, 18), (std::vector<double>{80.0, grid[9]}));
  EXPECT_EQ(gm::models::consistency_sigmas(17, config, 18), std::vector<double>(grid.begin(), grid.begin() + 17));
  EXPECT_THROW(gm::models::consistency_sigmas(18, config, 18), gm::UsageError);
  // An ideal consistency function of a point mass maps everything to it, at any step count.
  const auto target = torch::tensor({{1.0, -2.0}}, torch::kDouble);
  const gm::models::ConsistencyFn f = [&](const torch::Tensor& x, double) { return target.expand_as(x); };
  int noise_calls = 0;
  const auto noise = [&](int) {
    ++noise_calls;
    return torch::randn({3, 2}, torch::kDouble);
  };
  const auto result = gm::models::consistency_sample(f, torch::randn({3, 2}, torch::kDouble),
                                                     gm::models::consistency_sigmas(4, config, 18), config.sigma_min, noise);
  EXPECT_EQ(result.nfe, 4);
  EXPECT_EQ(noise_calls, 3);
  EXPECT_TRUE(torch::allclose(result.x, target.expand_as(result.x)));
  EXPECT_THROW(gm::models::consistency_sigmas(0, config, 18), gm::UsageError);
}

}  // namespace
