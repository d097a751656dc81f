// gm's fused CPU kernels (lib/src/kernels) against the LibTorch code they replace, timed in this run
// on one thread at the toy trainers' sizes: batch 256, width 128, 75,010 parameters.
//
//     build/bench/gm-bench-kernels
#include <cstdio>

#include <torch/torch.h>

#include "gm/base/runtime.hpp"
#include "gm/kernels/cpu.hpp"
#include "timing.hpp"

namespace {

// Microseconds per call: the best of 7 rounds of `calls` calls, after a warm-up round.
double micros(int calls, const std::function<void()>& f) {
  const auto round = [&] {
    for (int i = 0; i < calls; ++i) f();
  };
  round();
  return gm::bench::best_seconds(7, round) / calls * 1e6;
}

void row(const char* what, double fused, double reference) {
  std::printf("| %s | %.1f | %.1f | %.2f |\n", what, fused, reference, reference / fused);
}

// The toy noise MLP's trunk: 2 -> 128, three hidden layers, 128 -> 2, with an embedding added.
struct Trunk {
  std::vector<torch::Tensor> layers;
  Trunk() {
    const std::vector<std::int64_t> widths{2, 128, 128, 128, 128, 2};
    for (size_t i = 1; i < widths.size(); ++i) {
      layers.push_back((torch::randn({widths[i], widths[i - 1]}) * 0.1).requires_grad_(true));
      layers.push_back(torch::zeros({widths[i]}).requires_grad_(true));
    }
    for (torch::Tensor& t : layers) t.mutable_grad() = torch::zeros_like(t);  // a trainer's buffers
  }
};

}  // namespace

int main() {
  gm::configure_threads(1);  // LibTorch and OpenBLAS both
  torch::manual_seed(0);
  std::printf("fused kernels: %s; one thread\n\n", gm::kernels::fused_cpu() ? "on" : "OFF (no AVX2/FMA, or GM_FUSED_KERNELS=0)");
  std::printf("| operation | gm us | LibTorch us | speed-up |\n|---|---|---|---|\n");

  const torch::Tensor x = torch::randn({256, 128}), upstream = torch::randn({256, 128});
  {
    torch::NoGradGuard no_grad;
    row("SiLU, 256x128", micros(500, [&] { gm::kernels::silu(x); }), micros(500, [&] { torch::silu(x); }));
  }
  const torch::Tensor leaf = x.clone().requires_grad_(true);
  row("SiLU forward and backward", micros(500, [&] { gm::kernels::silu(leaf).backward(upstream); }),
      micros(500, [&] { torch::silu(leaf).backward(upstream); }));

  Trunk trunk;
  const torch::Tensor input = torch::randn({256, 2}), embedding = torch::randn({256, 128}).requires_grad_(true);
  const auto plain = [&] {
    torch::Tensor h = torch::nn::functional::linear(input, trunk.layers[0], trunk.layers[1]) + embedding;
    for (size_t i = 2; i < trunk.layers.size(); i += 2)
      h = torch::nn::functional::linear(torch::silu(h), trunk.layers[i], trunk.layers[i + 1]);
    return h;
  };
  row("noise MLP trunk, forward and backward", micros(100, [&] { gm::kernels::silu_mlp(input, trunk.layers, embedding).sum().backward(); }),
      micros(100, [&] { plain().sum().backward(); }));

  // Adam over the toy diffusion MLP's 75,010 parameters: gm's one flat buffer against
  // torch::optim::Adam over the network's 14 tensors.
  const std::vector<std::int64_t> sizes{256, 128, 8192, 128, 16384, 128, 16384, 128, 16384, 128, 16384, 128, 256, 2};
  std::vector<torch::Tensor> tensors;
  std::int64_t total = 0;
  for (std::int64_t n : sizes) {
    tensors.push_back(torch::randn({n}).requires_grad_(true));
    tensors.back().mutable_grad() = torch::randn({n});
    total += n;
  }
  torch::optim::Adam reference(tensors, torch::optim::AdamOptions(1e-3));
  const torch::Tensor values = torch::randn({total}), grads = torch::randn({total}), first = torch::zeros({total}),
                      second = torch::zeros({total});
  std::int64_t step = 0;
  row("Adam, 75,010 parameters", micros(500, [&] { gm::kernels::adam_step(values, grads, first, second, {1e-3, 0.9, 0.999, 1e-8, ++step}); }),
      micros(500, [&] { reference.step(); }));

  torch::Tensor average = values.clone();
  row("moving average, 75,010", micros(500, [&] { gm::kernels::move_average(average, values, 1e-3); }),
      micros(500, [&] { average.lerp_(values, 1e-3); }));
  return 0;
}
