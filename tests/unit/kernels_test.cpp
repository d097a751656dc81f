// The fused CPU kernels against LibTorch's own operations, which they replace.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "gm/kernels/cpu.hpp"

namespace {

// Values over SiLU's whole range: its saturated tails, where exp over- or underflows, and near 0.
torch::Tensor silu_inputs(std::int64_t n) {
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({n}) * 6;
  const std::vector<float> edges = {0.0f, -0.0f, 1e-4f, -1e-4f, 20.0f, -20.0f, 87.0f, -87.0f, 88.5f, -88.5f, 100.0f, -100.0f};
  for (size_t i = 0; i < edges.size() && static_cast<std::int64_t>(i) < n; ++i) x[static_cast<std::int64_t>(i)] = edges[i];
  return x;
}

// Within rtol of the value, or atol: a few float32 ulps, and for SiLU itself far below any float32
// in the saturated tail.
void expect_close(const torch::Tensor& got, const torch::Tensor& want, double rtol = 1e-6, double atol = 1e-30) {
  ASSERT_EQ(got.sizes(), want.sizes());
  const torch::Tensor error = (got - want).abs() - rtol * want.abs();
  EXPECT_LE(error.max().item<double>(), atol) << "largest difference " << (got - want).abs().max().item<double>();
}

}  // namespace

TEST(Kernels, RunWhereTheCpuHasAvx2AndFma) {
  const char* choice = std::getenv("GM_FUSED_KERNELS");
  const bool off = choice && std::string(choice) == "0";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  EXPECT_EQ(gm::kernels::fused_cpu(), !off && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
  EXPECT_FALSE(gm::kernels::fused_cpu());
#endif
}

TEST(Kernels, SiluMatchesLibTorchAtEverySize) {
  // Sizes around the 8-float vector, so the padded last vector is covered, and one split over threads.
  for (std::int64_t n : {1, 7, 8, 9, 31, 1000, (1 << 17) + 3}) {
    const torch::Tensor x = silu_inputs(n);
    expect_close(gm::kernels::silu(x), torch::silu(x));
  }
  const torch::Tensor image = silu_inputs(2 * 3 * 5 * 7).view({2, 3, 5, 7});
  expect_close(gm::kernels::silu(image), torch::silu(image));
  // Strided and double inputs take LibTorch's path.
  const torch::Tensor strided = silu_inputs(64).view({8, 8}).t();
  EXPECT_TRUE(torch::equal(gm::kernels::silu(strided), torch::silu(strided)));
  const torch::Tensor wide = silu_inputs(64).to(torch::kDouble);
  EXPECT_TRUE(torch::equal(gm::kernels::silu(wide), torch::silu(wide)));
}

TEST(Kernels, SiluPassesNanAndInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  const torch::Tensor x = torch::tensor({std::nanf(""), inf, -inf, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f});
  const torch::Tensor y = gm::kernels::silu(x);
  EXPECT_TRUE(std::isnan(y[0].item<float>()));
  EXPECT_EQ(y[1].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[2].item<float>()));  // -inf * sigmoid(-inf) = -inf * 0, as LibTorch gives
  EXPECT_TRUE(std::isnan(torch::silu(x)[2].item<float>()));
}

TEST(Kernels, SiluGradientMatchesAutograd) {
  for (std::int64_t n : {5, 8, 1003}) {
    const torch::Tensor base = silu_inputs(n), upstream = torch::randn({n});
    const torch::Tensor x = base.clone().requires_grad_(true), reference = base.clone().requires_grad_(true);
    gm::kernels::silu(x).backward(upstream);
    torch::silu(reference).backward(upstream);
    expect_close(x.grad(), reference.grad(), 2e-6, 1e-7);
  }
}

TEST(Kernels, SiluSecondDerivativeIsLibTorchs) {
  const torch::Tensor base = silu_inputs(40);
  const torch::Tensor x = base.clone().requires_grad_(true), reference = base.clone().requires_grad_(true);
  const torch::Tensor first = torch::autograd::grad({gm::kernels::silu(x).sum()}, {x}, {}, true, true)[0];
  const torch::Tensor want = torch::autograd::grad({torch::silu(reference).sum()}, {reference}, {}, true, true)[0];
  expect_close(first, want, 2e-6, 1e-7);
  expect_close(torch::autograd::grad({first.sum()}, {x})[0], torch::autograd::grad({want.sum()}, {reference})[0], 1e-5, 1e-7);
}

namespace {

struct Chain {
  torch::Tensor x;
  std::vector<torch::Tensor> layers;  // weight, bias, ...
};

Chain make_chain(std::int64_t rows, std::vector<std::int64_t> widths) {
  torch::manual_seed(1);
  Chain c{torch::randn({rows, widths[0]}) * 2, {}};
  for (size_t i = 1; i < widths.size(); ++i) {
    c.layers.push_back(torch::randn({widths[i], widths[i - 1]}) / std::sqrt(static_cast<double>(widths[i - 1])));
    c.layers.push_back(torch::randn({widths[i]}) * 0.1);
  }
  return c;
}

torch::Tensor plain_mlp(const torch::Tensor& x, const std::vector<torch::Tensor>& layers, const torch::Tensor& add) {
  torch::Tensor h = torch::nn::functional::linear(x, layers[0], layers[1]);
  if (add.defined()) h = h + add;
  for (size_t i = 2; i < layers.size(); i += 2) h = torch::nn::functional::linear(torch::silu(h), layers[i], layers[i + 1]);
  return h;
}

std::vector<torch::Tensor> with_grad(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& t : tensors) out.push_back(t.defined() ? t.clone().requires_grad_(true) : t);
  return out;
}

}  // namespace

namespace {

// silu_mlp's gradients against the layers one by one, with `add` added after the first layer.
// `buffered`: the parameters already hold gradient buffers to add to, as a trainer's do.
void check_silu_mlp(const Chain& c, const torch::Tensor& add, bool buffered) {
  {
    torch::NoGradGuard no_grad;
    expect_close(gm::kernels::silu_mlp(c.x, c.layers, add), plain_mlp(c.x, c.layers, add), 1e-5, 1e-6);
  }
  std::vector<torch::Tensor> inputs{c.x, add};
  inputs.insert(inputs.end(), c.layers.begin(), c.layers.end());
  std::vector<torch::Tensor> fused = with_grad(inputs), plain = with_grad(inputs);
  for (size_t i = 2; buffered && i < fused.size(); ++i) {
    fused[i].mutable_grad() = torch::randn_like(fused[i]);
    plain[i].mutable_grad() = fused[i].grad().clone();
  }
  const torch::Tensor upstream = torch::randn({c.x.size(0), c.layers.back().size(0)});
  gm::kernels::silu_mlp(fused[0], {fused.begin() + 2, fused.end()}, fused[1]).backward(upstream);
  plain_mlp(plain[0], {plain.begin() + 2, plain.end()}, plain[1]).backward(upstream);
  for (size_t i = 0; i < fused.size(); ++i) {
    if (!fused[i].defined()) continue;
    ASSERT_TRUE(fused[i].grad().defined()) << i;
    EXPECT_TRUE(torch::allclose(fused[i].grad(), plain[i].grad(), 1e-5, 1e-6)) << "input " << i;
  }
}

}  // namespace

TEST(Kernels, SiluMlpMatchesTheLayersOneByOne) {
  const Chain c = make_chain(37, {5, 16, 16, 3});
  // No added term, one per row, and one that broadcasts over the rows (a shared noise level).
  for (const bool buffered : {false, true}) {
    check_silu_mlp(c, {}, buffered);
    check_silu_mlp(c, torch::randn({37, 16}), buffered);
    check_silu_mlp(c, torch::randn({1, 16}), buffered);
  }
}

TEST(Kernels, SiluMlpSkipsGradientsNobodyNeeds) {
  const Chain c = make_chain(4, {3, 8, 2});
  const torch::Tensor weight = c.layers[2].clone().requires_grad_(true);
  gm::kernels::silu_mlp(c.x, {c.layers[0], c.layers[1], weight, c.layers[3]}).sum().backward();  // only it learns
  const torch::Tensor w = c.layers[2].clone().requires_grad_(true);
  plain_mlp(c.x, {c.layers[0], c.layers[1], w, c.layers[3]}, {}).sum().backward();
  ASSERT_TRUE(weight.grad().defined());
  EXPECT_TRUE(torch::allclose(weight.grad(), w.grad(), 1e-5, 1e-6));
}

TEST(Kernels, SiluMlpRefusesASecondDerivative) {
  if (!gm::kernels::fused_cpu()) GTEST_SKIP() << "LibTorch's layers run here, and they have second derivatives";
  const Chain c = make_chain(4, {3, 8, 2});
  std::vector<torch::Tensor> all = with_grad(std::vector<torch::Tensor>{c.x, c.layers[0], c.layers[1], c.layers[2], c.layers[3]});
  const torch::Tensor y = gm::kernels::silu_mlp(all[0], {all.begin() + 1, all.end()}).sum();
  try {
    torch::autograd::grad({y}, {all[0]}, {}, true, true);
    FAIL() << "create_graph went through";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no second derivative"), std::string::npos) << e.what();
  }
}

TEST(Kernels, AdamStepIsTheTextbookUpdate) {
  const std::int64_t n = 1003;
  torch::manual_seed(2);
  torch::Tensor values = torch::randn({n}), first = torch::zeros({n}), second = torch::zeros({n});
  torch::Tensor v = values.to(torch::kDouble), m = first.to(torch::kDouble), s = second.to(torch::kDouble);
  const double lr = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const std::int64_t version = values._version();
  for (std::int64_t step = 1; step <= 5; ++step) {
    const torch::Tensor grads = torch::randn({n});
    gm::kernels::adam_step(values, grads, first, second, {lr, beta1, beta2, eps, step});
    const torch::Tensor g = grads.to(torch::kDouble);
    m = beta1 * m + (1 - beta1) * g;
    s = beta2 * s + (1 - beta2) * g * g;
    const double c1 = 1 - std::pow(beta1, static_cast<double>(step)), c2 = 1 - std::pow(beta2, static_cast<double>(step));
    v = v - lr / c1 * m / (s.sqrt() / std::sqrt(c2) + eps);
  }
  EXPECT_TRUE(torch::allclose(first.to(torch::kDouble), m, 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(second.to(torch::kDouble), s, 1e-5, 1e-9));
  EXPECT_TRUE(torch::allclose(values.to(torch::kDouble), v, 1e-5, 1e-6));
  EXPECT_GT(values._version(), version);  // autograd sees the in-place write
}

TEST(Kernels, MoveAverageBlends) {
  torch::manual_seed(3);
  const torch::Tensor value = torch::randn({1001});
  torch::Tensor average = torch::randn({1001});
  const torch::Tensor before = average.clone();
  gm::kernels::move_average(average, value, 0.25);
  EXPECT_TRUE(torch::allclose(average, 0.75 * before + 0.25 * value, 1e-6, 1e-7));
  gm::kernels::move_average(average, value, 0.0);
  EXPECT_TRUE(torch::allclose(average, 0.75 * before + 0.25 * value, 1e-6, 1e-7));
  gm::kernels::move_average(average, value, 1.0);
  EXPECT_TRUE(torch::equal(average, value));
}

TEST(Kernels, ThreadsSplitWithoutChangingABit) {
  const torch::Tensor x = silu_inputs(1 << 20);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor one = gm::kernels::silu(x);
  at::set_num_threads(2);
  const torch::Tensor two = gm::kernels::silu(x);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
}
