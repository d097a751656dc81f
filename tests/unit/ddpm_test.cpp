// DDPM models (Ho et al. 2020) with eps and v prediction (Salimans & Ho 2022), expressed in
// EDM's sigma space: checked against the papers' own alpha-bar formulas.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/models/consistency.hpp"
#include "gm/models/edm.hpp"

namespace {

using gm::models::EdmConfig;

// alpha-bar of Ho et al.'s linear schedule, computed here independently of the library.
std::vector<double> alpha_bars() {
  std::vector<double> out;
  double product = 1;
  for (int t = 0; t < 1000; ++t) out.push_back(product *= 1 - (1e-4 + (0.02 - 1e-4) * t / 999.0));
  return out;
}

TEST(Ddpm, ScheduleIsHosLinearBetas) {
  const EdmConfig config = EdmConfig::ddpm("eps", 2.0);
  const auto sigmas = config.ddpm_sigmas();
  ASSERT_EQ(sigmas.size(), 1000u);
  // numpy: abar_T of betas linspace(1e-4, 0.02, 1000) is 4.0358e-05, so sigma_T = 157.407.
  EXPECT_NEAR(sigmas.back() / 2.0, 157.40728, 1e-4);
  EXPECT_NEAR(sigmas.front() / 2.0, 0.0100005, 1e-7);
  EXPECT_EQ(config.sigma_min, sigmas.front());
  EXPECT_EQ(config.sigma_max, sigmas.back());
  const auto abar = alpha_bars();
  for (size_t t = 1; t < sigmas.size(); ++t) ASSERT_GT(sigmas[t], sigmas[t - 1]);
  EXPECT_NEAR(sigmas[500], 2.0 * std::sqrt((1 - abar[500]) / abar[500]), 1e-9);
}

TEST(Ddpm, TargetsAreTheNoiseAndV) {
  const double sd = 1.7;
  const auto abar = alpha_bars();
  const auto y = torch::randn({64, 2}, torch::kDouble) * sd;
  const auto noise = torch::randn({64, 2}, torch::kDouble);
  for (int t : {0, 300, 999}) {
    const EdmConfig eps = EdmConfig::ddpm("eps", sd), v = EdmConfig::ddpm("v", sd);
    const double sigma = eps.ddpm_sigmas()[static_cast<size_t>(t)];
    const auto sigmas = torch::full({64}, sigma, torch::kDouble);
    const auto x = y + sigma * noise;
    EXPECT_TRUE(torch::allclose(gm::models::training_target(y, x, sigmas, eps), noise, 1e-9, 1e-8)) << t;
    // Salimans & Ho: v = sqrt(abar) eps - sqrt(1 - abar) x0, x0 the scaled data y / sd.
    const double a = abar[static_cast<size_t>(t)];
    const auto expected_v = std::sqrt(a) * noise - std::sqrt(1 - a) * (y / sd);
    EXPECT_TRUE(torch::allclose(gm::models::training_target(y, x, sigmas, v), expected_v, 1e-9, 1e-8)) << t;
  }
}

TEST(Ddpm, DenoiserInvertsTheTargetInEveryParametrisation) {
  const auto y = torch::randn({16, 3}, torch::kDouble);
  const auto sigma = torch::rand({16}, torch::kDouble) * 10 + 0.05;
  const auto x = y + sigma.view({-1, 1}) * torch::randn({16, 3}, torch::kDouble);
  for (const char* name : {"edm", "eps", "v"}) {
    const EdmConfig config = std::string(name) == "edm" ? EdmConfig{"edm", 1.3} : EdmConfig::ddpm(name, 1.3);
    const auto target = gm::models::training_target(y, x, sigma, config);
    const gm::models::RawNet perfect = [&](const torch::Tensor&, const torch::Tensor&) { return target; };
    EXPECT_TRUE(torch::allclose(gm::models::edm_denoise(perfect, x, sigma, config), y, 1e-9, 1e-9)) << name;
  }
}

TEST(Ddpm, NoiseConditioningIsTheTimestep) {
  const EdmConfig config = EdmConfig::ddpm("v", 0.8);
  const auto table = config.ddpm_sigmas();
  const auto at = torch::tensor({table[0], table[17], table[999], table[400] * 1.0001, 1e6, 1e-9}, torch::kDouble);
  const auto c_noise = gm::models::edm_scalings(at, config).c_noise;
  EXPECT_NEAR(c_noise[0].item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(c_noise[1].item<double>(), 0.017, 1e-9);
  EXPECT_NEAR(c_noise[2].item<double>(), 0.999, 1e-9);
  EXPECT_GT(c_noise[3].item<double>(), 0.400);
  EXPECT_LT(c_noise[3].item<double>(), 0.401);
  EXPECT_NEAR(c_noise[4].item<double>(), 0.999, 1e-9);  // clamped to the schedule
  EXPECT_NEAR(c_noise[5].item<double>(), 0.0, 1e-9);
}

TEST(Ddpm, SamplingGridSkipsTimestepsEvenly) {
  const EdmConfig config = EdmConfig::ddpm("eps", 1.0);
  const auto table = config.ddpm_sigmas();
  const auto four = gm::models::sampling_sigmas(4, config);
  EXPECT_EQ(four, (std::vector<double>{table[999], table[666], table[333], table[0], 0.0}));
  const auto all = gm::models::sampling_sigmas(1000, config);
  ASSERT_EQ(all.size(), 1001u);
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(all[i], table[999 - i]);
  EXPECT_THROW(gm::models::sampling_sigmas(1001, config), gm::UsageError);
  EXPECT_EQ(gm::models::sampling_sigmas(18, EdmConfig{}), gm::models::karras_sigmas(18, EdmConfig{}));
}

TEST(Ddpm, AncestralStepIsHosPosterior) {
  // One ddpm step from timestep t to t - 1 with x0 predicted as `x0`: Ho et al. eq. 6-7 give the
  // posterior mean sqrt(abar') beta / (1 - abar) x0 + sqrt(alpha) (1 - abar') / (1 - abar) x_t
  // and variance (1 - abar') / (1 - abar) beta, in the unscaled variable x_t = sqrt(abar) x~.
  const EdmConfig config = EdmConfig::ddpm("eps", 1.0);
  const auto abar = alpha_bars();
  const size_t t = 500;
  const double a = abar[t], a_prev = abar[t - 1], beta = 1 - a / a_prev;
  const auto table = config.ddpm_sigmas();
  const auto x0 = torch::tensor({{0.3, -0.7}}, torch::kDouble);
  const auto z = torch::tensor({{1.1, 0.4}}, torch::kDouble);
  const auto e = torch::tensor({{-0.5, 2.0}}, torch::kDouble);
  int draws = 0;
  const gm::models::StepNoise noise = [&](int k) {
    EXPECT_EQ(k, 1);
    ++draws;
    return e;
  };
  const gm::models::Denoiser fixed = [&](const torch::Tensor&, double) { return x0; };
  const auto result = gm::models::edm_sample(fixed, z, {table[t], table[t - 1]}, "ddpm", noise);
  EXPECT_EQ(draws, 1);
  const auto x_t = std::sqrt(a) * table[t] * z;
  const auto mean = std::sqrt(a_prev) * beta / (1 - a) * x0 + std::sqrt(1 - beta) * (1 - a_prev) / (1 - a) * x_t;
  const double variance = (1 - a_prev) / (1 - a) * beta;
  const auto expected = (mean + std::sqrt(variance) * e) / std::sqrt(a_prev);
  EXPECT_TRUE(torch::allclose(result.x, expected, 1e-9, 1e-9));
}

TEST(Ddpm, AncestralSamplingReachesTheGaussianMarginal) {
  // Data N(0, s^2), the ideal denoiser: 1000 ancestral steps give samples of standard deviation s.
  const double s = 1.5;
  const EdmConfig config = EdmConfig::ddpm("eps", s);
  const gm::models::Denoiser ideal = [s](const torch::Tensor& x, double sigma) {
    return x * (s * s / (s * s + sigma * sigma));
  };
  torch::manual_seed(3);
  const gm::models::StepNoise noise = [](int) { return torch::randn({20000, 1}, torch::kDouble); };
  const auto result = gm::models::edm_sample(ideal, torch::randn({20000, 1}, torch::kDouble),
                                             gm::models::sampling_sigmas(1000, config), "ddpm", noise);
  EXPECT_EQ(result.nfe, 1000);
  EXPECT_NEAR(result.x.std().item<double>(), s, 0.03 * s);
  EXPECT_NEAR(result.x.mean().item<double>(), 0.0, 0.03);
}

TEST(Ddpm, ConsistencyStudentStartsFromItsDdpmTeacher) {
  // Far from sigma_min the consistency function of the teacher's own network is its denoiser,
  // whatever the parametrisation; at sigma_min it is the identity.
  const gm::models::RawNet net = [](const torch::Tensor& x, const torch::Tensor& c) {
    return torch::sin(x * 3) + c.view({-1, 1});
  };
  const auto x = torch::randn({8, 2}, torch::kDouble) * 30;
  for (const char* name : {"eps", "v"}) {
    const EdmConfig config = EdmConfig::ddpm(name, 1.0);
    const auto far = torch::full({8}, 60.0, torch::kDouble);
    EXPECT_TRUE(torch::allclose(gm::models::consistency_function(net, x, far, config),
                                gm::models::edm_denoise(net, x, far, config), 1e-3, 1e-3))
        << name;
    const auto low = torch::full({8}, config.sigma_min, torch::kDouble);
    EXPECT_TRUE(torch::equal(gm::models::consistency_function(net, x, low, config), x)) << name;
  }
}

}  // namespace
