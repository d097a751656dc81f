#include <gtest/gtest.h>

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/data/noise.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/diffusion.hpp"
#include "gm/models/edm.hpp"
#include "gm/nn/state.hpp"
#include "gm/nn/noise_mlp.hpp"
#include "test_util.hpp"

namespace {

using gm::models::EdmConfig;

TEST(Edm, PreconditioningMatchesTable1) {
  const double sd = 0.5;
  const auto sigma = torch::tensor({0.5, 2.0}, torch::kDouble);
  EdmConfig config;
  config.sigma_data = sd;
  const auto s = gm::models::edm_scalings(sigma, config);
  // At sigma = sigma_data the skip and the network share the signal equally.
  EXPECT_NEAR(s.c_skip[0].item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(s.c_out[0].item<double>(), sd / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(s.c_in[0].item<double>(), 1 / (sd * std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(s.c_noise[1].item<double>(), std::log(2.0) / 4, 1e-12);
  EXPECT_NEAR(s.c_skip[1].item<double>(), 0.25 / 4.25, 1e-12);
  EXPECT_NEAR(s.c_out[1].item<double>(), 2.0 * 0.5 / std::sqrt(4.25), 1e-12);
}

TEST(Edm, LossOfTheIdealDenoiserIsOnePerDimension) {
  // With sigma_data = s, the ideal denoiser of N(0, s^2) data is c_skip x, so F = 0, and EDM's
  // weighting lambda(sigma) makes its expected loss exactly 1 at every sigma.
  const double s = 1.7;
  EdmConfig config;
  config.sigma_data = s;
  const gm::models::RawNet zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  at::Generator generator = at::detail::createCPUGenerator(5);
  const auto y = torch::randn({200000, 2}, generator, torch::kDouble) * s;
  EXPECT_NEAR(gm::models::edm_loss(zero, y, config, generator).item<double>(), 1.0, 0.02);
}

TEST(Edm, KarrasScheduleEndpointsAndShape) {
  const EdmConfig config;
  const auto sigmas = gm::models::karras_sigmas(18, config);
  ASSERT_EQ(sigmas.size(), 19u);
  EXPECT_DOUBLE_EQ(sigmas.front(), 80.0);
  EXPECT_NEAR(sigmas[17], 0.002, 1e-15);
  EXPECT_EQ(sigmas.back(), 0.0);
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) EXPECT_GT(sigmas[i], sigmas[i + 1]);
  // Eq. 5 with rho = 7 at i = 9 of 17.
  const double expected = std::pow(std::pow(80.0, 1 / 7.0) + 9.0 / 17 * (std::pow(0.002, 1 / 7.0) - std::pow(80.0, 1 / 7.0)), 7.0);
  EXPECT_NEAR(sigmas[9], expected, 1e-12);
  EXPECT_THROW(gm::models::karras_sigmas(0, config), gm::UsageError);
}

TEST(Edm, SamplersConvergeToTheExactFlowAtTheirOrder) {
  // For data N(0, s^2) the ideal denoiser is x s^2 / (s^2 + sigma^2), and the probability-flow
  // ODE maps x(sigma_max) = z sigma_max to z sigma_max s / sqrt(s^2 + sigma_max^2). Doubling the
  // steps divides Euler's error by 2 (first order) and Heun's by 4 (second order).
  const double s = 1.5;
  const gm::models::Denoiser ideal = [s](const torch::Tensor& x, double sigma) {
    return x * (s * s / (s * s + sigma * sigma));
  };
  const auto z = torch::ones({3, 2}, torch::kDouble);
  const double exact = 80.0 * s / std::sqrt(s * s + 80.0 * 80.0);
  const auto error = [&](int steps, const char* sampler) {
    const auto result = gm::models::edm_sample(ideal, z, gm::models::karras_sigmas(steps, EdmConfig{}), sampler);
    EXPECT_EQ(result.nfe, std::string(sampler) == "heun" ? 2 * steps - 1 : steps);
    return (result.x - exact).abs().max().item<double>();
  };
  const double heun_ratio = error(18, "heun") / error(36, "heun");
  const double dpm_ratio = error(18, "dpmpp-2m") / error(36, "dpmpp-2m");
  EXPECT_GT(dpm_ratio, 3.0);  // second order too, at one evaluation per step
  EXPECT_LT(error(18, "dpmpp-2m") * 2, error(18, "euler"));
  EXPECT_TRUE(torch::equal(gm::models::edm_sample(ideal, z, gm::models::karras_sigmas(5, EdmConfig{}), "ddim").x,
                           gm::models::edm_sample(ideal, z, gm::models::karras_sigmas(5, EdmConfig{}), "euler").x));
  const double euler_ratio = error(18, "euler") / error(36, "euler");
  EXPECT_GT(heun_ratio, 3.5);
  EXPECT_LT(heun_ratio, 5.0);
  EXPECT_GT(euler_ratio, 1.7);
  EXPECT_LT(euler_ratio, 2.3);
  EXPECT_LT(error(18, "heun") * 3, error(18, "euler"));
  EXPECT_THROW(gm::models::edm_sample(ideal, z, gm::models::karras_sigmas(4, EdmConfig{}), "unipc"), gm::UsageError);
}

TEST(Edm, PointMassIsReachedExactly) {
  const auto target = torch::tensor({{3.0, -1.0}}, torch::kDouble);
  const gm::models::Denoiser point = [&](const torch::Tensor& x, double) { return target.expand_as(x); };
  const auto z = torch::randn({5, 2}, torch::kDouble);
  const gm::models::StepNoise noise = [](int) { return torch::randn({5, 2}, torch::kDouble); };
  for (const char* sampler : {"euler", "heun", "dpmpp-2m", "ddpm"}) {
    const auto result = gm::models::edm_sample(point, z, gm::models::karras_sigmas(4, EdmConfig{}), sampler, noise);
    EXPECT_TRUE(torch::allclose(result.x, target.expand_as(result.x), 1e-9, 1e-9)) << sampler;
  }
}

TEST(Noise, RowsDependOnlyOnSeedAndRow) {
  const auto all = gm::data::normal_rows(3, 0, 100, {5});
  EXPECT_TRUE(torch::equal(gm::data::normal_rows(3, 40, 60, {5}), all.slice(0, 40, 60)));
  EXPECT_FALSE(torch::equal(gm::data::normal_rows(4, 0, 100, {5}), all));
  const auto many = gm::data::normal_rows(1, 0, 20000, {7});
  EXPECT_NEAR(many.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(many.std().item<double>(), 1.0, 0.01);
}

TEST(DiffusionModel, SurvivesTheModelFile) {
  gm::test::TempDir dir;
  torch::manual_seed(0);
  gm::models::DiffusionModel model;
  model.net = std::make_shared<gm::nn::NoiseMlpImpl>(gm::nn::NoiseMlpConfig{});
  model.data.shape = {2};
  model.edm.sigma_data = 2.5;
  gm::io::ModelFile file;
  file.family = "diffusion";
  file.config = model.config();
  file.params = gm::nn::parameters_of(*model.net);
  file.buffers = gm::nn::buffers_of(*model.net);
  const std::string path = dir.file("m.h5");
  gm::io::write_model(path, gm::Context{}, {}, file);
  const auto input = gm::io::open_gm(path, {gm::io::Kind::model});
  const auto back = gm::models::DiffusionModel::from_file(gm::io::read_model(input), path, true);
  EXPECT_EQ(back.edm.sigma_data, 2.5);
  const auto x = torch::randn({4, 2});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model.denoiser()(x, 1.0), back.denoiser()(x, 1.0)));
  file.family = "gan";
  EXPECT_THROW(gm::models::DiffusionModel::from_file(file, path, true), gm::Error);
  file.family = "diffusion";
  file.params.erase(file.params.begin());
  EXPECT_THROW(gm::models::DiffusionModel::from_file(file, path, true), gm::Error);
}

}  // namespace
