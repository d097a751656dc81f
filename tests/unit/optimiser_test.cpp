#include <cmath>

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "gm/nn/mlp.hpp"
#include "gm/nn/state.hpp"
#include "gm/train/optimiser.hpp"

namespace {

gm::nn::Mlp small_mlp() {
  torch::manual_seed(11);
  return gm::nn::Mlp(gm::nn::MlpConfig{3, 2, 16, 2, "leaky_relu"});
}

torch::Tensor loss_of(gm::nn::Mlp& net, int step) {
  torch::manual_seed(100 + step);
  const auto x = torch::randn({32, 3});
  return (net->forward(x) - x.slice(1, 0, 2).sin()).pow(2).mean();
}

TEST(Optimiser, FlatAdamTakesTorchAdamsSteps) {
  gm::nn::Mlp flat_net = small_mlp(), reference_net = small_mlp();
  gm::train::FlatParameters parameters(*flat_net);
  gm::train::Adam adam(parameters, {3e-3, 0.5, 0.99, 1e-8});
  torch::optim::Adam reference(reference_net->parameters(), torch::optim::AdamOptions(3e-3).betas({0.5, 0.99}));
  for (int step = 0; step < 30; ++step) {
    adam.zero_grad();
    loss_of(flat_net, step).backward();
    adam.step();
    reference.zero_grad();
    loss_of(reference_net, step).backward();
    reference.step();
  }
  const auto flat = gm::nn::parameters_of(*flat_net), expected = gm::nn::parameters_of(*reference_net);
  double moved = 0;
  for (const auto& [name, value] : expected) {
    EXPECT_TRUE(torch::allclose(flat.at(name), value, 1e-5, 1e-6)) << name;
    moved += (value - small_mlp()->named_parameters()[name]).abs().sum().item<double>();
  }
  EXPECT_GT(moved, 0.1);  // the comparison is of trained weights, not of the start
}

TEST(Optimiser, GradientsAccumulateIntoTheFlatBuffer) {
  gm::nn::Mlp net = small_mlp();
  gm::train::FlatParameters parameters(*net);
  loss_of(net, 0).backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : net->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    grads.push_back(p.grad().flatten());
  }
  EXPECT_TRUE(torch::equal(torch::cat(grads), parameters.grads()));
  EXPECT_GT(parameters.grads().abs().sum().item<double>(), 0);
  parameters.zero_grad();
  for (const auto& p : net->parameters()) EXPECT_EQ(p.grad().abs().sum().item<double>(), 0);
  // Writing the module's parameters writes the buffer, and the other way round.
  gm::nn::NamedTensors zeros;
  for (const auto& [name, value] : gm::nn::parameters_of(*net)) zeros.emplace(name, torch::zeros_like(value));
  gm::nn::load_parameters(*net, zeros, "zeros");
  EXPECT_EQ(parameters.values().abs().sum().item<double>(), 0);
}

TEST(Optimiser, WeightAverageIsExponential) {
  gm::nn::Mlp net = small_mlp();
  gm::train::FlatParameters parameters(*net);
  const auto start = parameters.values().clone();
  gm::train::WeightAverage ema(parameters, {0.9, 0.0});
  torch::NoGradGuard no_grad;
  parameters.values().add_(1.0);
  ema.update();
  ema.update();
  // w2 = 0.81 w0 + 0.19 (w0 + 1) = w0 + 0.19
  const auto names = parameters.unflatten(start + 0.19);
  for (const auto& [name, value] : ema.weights()) EXPECT_TRUE(torch::allclose(value, names.at(name), 1e-6, 1e-6)) << name;
}

// EDM's ramp-up: the half-life (ln 0.5 / ln decay steps) is capped at rampup x updates, so the
// first update copies the weights and the decay grows to the configured one.
TEST(Optimiser, WeightAverageRampsUpLikeEdm) {
  gm::nn::Mlp net = small_mlp();
  gm::train::FlatParameters parameters(*net);
  gm::train::WeightAverage ema(parameters, {0.999, 0.05});
  torch::NoGradGuard no_grad;
  EXPECT_EQ(ema.current_decay(), 0.0);
  parameters.values().add_(1.0);
  ema.update();
  const auto copied = parameters.unflatten(parameters.values());
  for (const auto& [name, value] : ema.weights()) EXPECT_TRUE(torch::equal(value, copied.at(name))) << name;
  for (int i = 1; i < 1200; ++i) ema.update();
  EXPECT_NEAR(ema.current_decay(), std::pow(0.5, 1.0 / 60.0), 1e-12);  // half-life 0.05 x 1200 = 60 steps
  for (int i = 1200; i < 20000; ++i) ema.update();
  EXPECT_NEAR(ema.current_decay(), 0.999, 1e-12);  // 0.05 x 20000 = 1000 > 693 steps
}

}  // namespace
