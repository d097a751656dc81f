// Likelihood models against the papers' formulas: the discretised Gaussian decoder (Ho et al.
// 2020, eq. 13), the VAE posterior's KL, the VQ-VAE's nearest-code lookup, Ho et al.'s
// variational bound, and an LCM student that starts as its teacher.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "gm/eval/likelihood.hpp"
#include "gm/models/autoencoder.hpp"
#include "gm/nn/noise_mlp.hpp"
#include "gm/nn/state.hpp"

namespace {

double normal_cdf(double v) { return 0.5 * std::erfc(-v / std::sqrt(2.0)); }

TEST(DiscretisedGaussian, IsADistributionOverThe256Levels) {
  const torch::Tensor levels = torch::arange(256, torch::kDouble) / 127.5 - 1;
  for (double mean : {-0.9, 0.0, 0.37, 1.2})
    for (double scale : {0.02, 0.3, 2.0}) {
      const torch::Tensor log_p = gm::models::discretised_gaussian_log_likelihood(
          levels, torch::full({1}, mean, torch::kDouble), torch::full({1}, std::log(scale), torch::kDouble));
      EXPECT_NEAR(log_p.exp().sum().item<double>(), 1.0, 1e-6) << mean << " " << scale;
      // An inner level's mass is the normal's over its bin of width 2/255.
      const double x = levels[100].item<double>();
      const double expected = normal_cdf((x + 1 / 255.0 - mean) / scale) - normal_cdf((x - 1 / 255.0 - mean) / scale);
      if (expected > 1e-10) {
        EXPECT_NEAR(log_p[100].item<double>(), std::log(expected), 1e-6);
      }
      // The first level takes the whole lower tail.
      EXPECT_NEAR(log_p[0].exp().item<double>(), normal_cdf((-1 + 1 / 255.0 - mean) / scale), 1e-9);
    }
}

TEST(VaePosterior, KlIsTheClosedFormOfItsMonteCarloEstimate) {
  torch::manual_seed(0);
  const gm::models::Posterior q{torch::randn({1, 2, 3, 3}, torch::kDouble) * 0.7,
                                torch::randn({1, 2, 3, 3}, torch::kDouble) * 0.5};
  const torch::Tensor z = q.sample(torch::randn({200000, 2, 3, 3}, torch::kDouble));
  const torch::Tensor log_prior = (-0.5 * (z.pow(2) + std::log(2 * M_PI))).flatten(1).sum(1);
  const double monte_carlo = (q.log_density(z) - log_prior).mean().item<double>();
  EXPECT_NEAR(q.kl().item<double>(), monte_carlo, 0.02 * std::abs(monte_carlo) + 0.01);
}

TEST(VqVae, QuantiseTakesTheNearestCode) {
  torch::manual_seed(1);
  gm::nn::AutoencoderConfig config;
  config.resolution = 8;
  config.width = 8;
  config.multipliers = {1, 2};
  config.latent_channels = 3;
  config.codebook = 17;
  gm::models::AutoencoderModel model;
  model.net = gm::nn::Autoencoder(config);
  model.net->codes().copy_(torch::randn({17, 3}));
  const torch::Tensor z = torch::randn({5, 3, 4, 4});
  const gm::models::Quantised q = model.quantise(z);
  const torch::Tensor flat = z.permute({0, 2, 3, 1}).reshape({-1, 3});
  const torch::Tensor nearest = torch::cdist(flat, model.net->codes()).argmin(1);
  EXPECT_TRUE(q.indices.flatten().equal(nearest));
  EXPECT_TRUE(q.latents.permute({0, 2, 3, 1}).reshape({-1, 3}).equal(model.net->codes().index_select(0, nearest)));
}

// Ho et al.'s bound, recomputed from their posterior mean formula in double precision.
TEST(DdpmBound, MatchesHosTermsForADenoiserThatPredictsZero) {
  const gm::models::EdmConfig edm = gm::models::EdmConfig::ddpm("eps", 0.8);
  const torch::Tensor x0 = torch::tensor({0.5, -1.0, 1.0}, torch::kDouble).view({1, 3});
  const auto zero = [](const torch::Tensor& x, double) { return torch::zeros_like(x); };
  const auto no_noise = [&](std::int64_t) { return torch::zeros_like(x0); };
  const gm::eval::VlbTerms terms = gm::eval::ddpm_vlb(zero, x0, edm, no_noise);
  // Ho et al. in the scaled data u0 = x0 / sigma_data: L_{t-1} = |mu~(x_t, u0) - mu~(x_t, 0)|^2 / (2 beta~_t).
  double expected = 0, abar = 1, abar_previous = 1;
  const double u2 = (0.25 + 1 + 1) / (0.8 * 0.8);
  for (int t = 0; t < 1000; ++t) {
    const double beta = 1e-4 + (0.02 - 1e-4) * t / 999.0;
    abar_previous = abar;
    abar *= 1 - beta;
    if (t == 0) continue;
    const double coefficient = std::sqrt(abar_previous) * beta / (1 - abar);
    const double variance = beta * (1 - abar_previous) / (1 - abar);
    expected += coefficient * coefficient * u2 / (2 * variance);
  }
  EXPECT_NEAR(terms.diffusion.item<double>(), expected, 1e-9 * expected);
  EXPECT_NEAR(terms.prior.item<double>(), 0.5 * (abar * u2 + 3 * ((1 - abar) - 1 - std::log(1 - abar))), 1e-12);
}

TEST(DdpmBound, IsTheDecoderAloneForThePerfectDenoiserOfOnePoint) {
  const gm::models::EdmConfig edm = gm::models::EdmConfig::ddpm("v", 1.0);
  const torch::Tensor x0 = torch::tensor({0.2, -0.6}, torch::kDouble).view({1, 2});
  const auto perfect = [&](const torch::Tensor&, double) { return x0; };
  torch::manual_seed(2);
  const gm::eval::VlbTerms terms =
      gm::eval::ddpm_vlb(perfect, x0, edm, [&](std::int64_t) { return torch::randn_like(x0); });
  EXPECT_EQ(terms.diffusion.item<double>(), 0.0);
  // L_0: each pixel's bin mass under N(x0, beta~_2), beta~_2 = beta_2 (1 - abar_1) / (1 - abar_2).
  const double beta1 = 1e-4, beta2 = 1e-4 + (0.02 - 1e-4) / 999.0;
  const double abar1 = 1 - beta1, abar2 = abar1 * (1 - beta2);
  const double scale = std::sqrt(beta2 * (1 - abar1) / (1 - abar2));
  const double mass = normal_cdf(1 / 255.0 / scale) - normal_cdf(-1 / 255.0 / scale);
  EXPECT_NEAR(terms.decoder.item<double>(), -2 * std::log(mass), 1e-9);
}

TEST(LcmStudent, StartsAsItsTeacherForEveryGuidanceScale) {
  torch::manual_seed(3);
  gm::nn::NoiseMlpConfig config;
  config.dim = 3;
  config.hidden = 16;
  config.classes = 4;
  gm::nn::NoiseMlpImpl teacher(config);
  config.guidance_input = true;
  gm::nn::NoiseMlpImpl student(config);
  gm::nn::copy_matching(student, teacher);
  const torch::Tensor x = torch::randn({6, 3}), noise = torch::randn({6}), labels = torch::tensor({0, 1, 2, 3, 4, 1});
  for (double w : {0.0, 1.5, 7.0}) {
    const torch::Tensor out = student.forward(x, noise, labels, torch::full({6}, w));
    EXPECT_TRUE(torch::allclose(out, teacher.forward(x, noise, labels), 0, 0)) << w;
  }
  EXPECT_EQ(student.parameters().size(), teacher.parameters().size() + 2);
}

}  // namespace
