#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/gan.hpp"
#include "gm/nn/mlp.hpp"
#include "gm/nn/state.hpp"
#include "test_util.hpp"

namespace {

gm::models::GanConfig small_gan(std::int64_t pack = 1) {
  gm::models::GanConfig c;
  c.latent = 3;
  c.pack = pack;
  c.data.shape = {2};
  c.generator = gm::nn::MlpConfig{3, 2, 16, 2, "relu"}.to_json();
  c.discriminator = gm::nn::MlpConfig{2 * pack, 1, 16, 2, "leaky_relu"}.to_json();
  return c;
}

TEST(GanLosses, MatchTheirDefinitions) {
  const auto zero = torch::zeros({4});
  EXPECT_NEAR(gm::models::discriminator_loss(zero, zero, "ns").item<double>(), 2 * std::log(2.0), 1e-6);
  EXPECT_NEAR(gm::models::generator_loss(zero, "ns").item<double>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(gm::models::discriminator_loss(zero, zero, "hinge").item<double>(), 2.0, 1e-6);
  // Hinge: confident, correct logits beyond the margin cost nothing.
  EXPECT_NEAR(gm::models::discriminator_loss(torch::full({4}, 1.5), torch::full({4}, -2.0), "hinge").item<double>(), 0.0,
              1e-6);
  EXPECT_NEAR(gm::models::generator_loss(torch::tensor({1.0, 3.0}), "hinge").item<double>(), -2.0, 1e-6);
  // Non-saturating: -log sigmoid(f).
  EXPECT_NEAR(gm::models::generator_loss(torch::tensor({-3.0}), "ns").item<double>(), std::log1p(std::exp(3.0)), 1e-5);
}

TEST(GanLosses, R1IsHalfGammaTimesTheSquaredInputGradient) {
  torch::manual_seed(0);
  gm::models::GanNets nets(small_gan());
  nets->to(torch::kDouble);
  const auto x = torch::tensor({{0.3, -0.7}}, torch::kDouble);
  const double h = 1e-6;
  double norm2 = 0;
  for (int i = 0; i < 2; ++i) {
    auto step = torch::zeros({1, 2}, torch::kDouble);
    step[0][i] = h;
    const double slope = (nets->judge(x + step).item<double>() - nets->judge(x - step).item<double>()) / (2 * h);
    norm2 += slope * slope;
  }
  EXPECT_NEAR(gm::models::r1_penalty(*nets, x, 10.0).item<double>(), 5.0 * norm2, 1e-6 * (1 + norm2));
}

TEST(GanNets, PackingJudgesGroupsOfSamples) {
  torch::manual_seed(1);
  gm::models::GanNets nets(small_gan(3));
  EXPECT_EQ(nets->judge(torch::randn({6, 2})).sizes(), torch::IntArrayRef({2}));
  EXPECT_THROW(nets->judge(torch::randn({5, 2})), gm::Error);
  const auto names = gm::nn::parameters_of(*nets);
  EXPECT_TRUE(names.count("generator.layers.0.weight"));
  EXPECT_TRUE(names.count("discriminator.layers.2.bias"));
  EXPECT_EQ(names.at("discriminator.layers.0.weight").size(1), 6);
}

TEST(GanNets, SurviveTheModelFile) {
  gm::test::TempDir dir;
  torch::manual_seed(2);
  gm::models::GanNets nets(small_gan(2));
  gm::io::ModelFile file;
  file.family = "gan";
  file.config = nets->config().to_json();
  file.params = gm::nn::parameters_of(*nets);
  const std::string path = dir.file("gan.h5");
  gm::io::write_model(path, gm::Context{}, {}, file);
  auto back = gm::models::gan_from_file(gm::io::read_model(gm::io::open_gm(path, {})), path);
  const auto z = torch::randn({4, 3});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(nets->generate(z), back->generate(z)));
  file.config["pack"] = 3;  // inconsistent with the discriminator's input
  EXPECT_THROW(gm::models::gan_from_file(file, path), gm::Error);
}

}  // namespace
