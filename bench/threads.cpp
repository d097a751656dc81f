// How LibTorch's OpenMP pool and OpenBLAS's pthread pool should share the cores: an MLP
// training loop (the toy diffusion workload) under each split, as steps/s and as a ratio to
// gm's setting (gm::configure_threads), all measured in this run.
#include <chrono>
#include <cstdio>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "gm/base/runtime.hpp"

namespace {

double steps_per_second(int batch, double seconds) {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Linear(3, 256), torch::nn::SiLU(), torch::nn::Linear(256, 256),
                            torch::nn::SiLU(), torch::nn::Linear(256, 256), torch::nn::SiLU(),
                            torch::nn::Linear(256, 2));
  torch::optim::Adam adam(net->parameters(), 1e-3);
  const auto x = torch::randn({batch, 3});
  const auto y = torch::randn({batch, 2});
  auto step = [&] {
    adam.zero_grad();
    torch::mse_loss(net->forward(x), y).backward();
    adam.step();
  };
  for (int i = 0; i < 20; ++i) step();
  const auto start = std::chrono::steady_clock::now();
  int steps = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    step();
    ++steps;
  }
  return steps / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int cores = gm::available_cores();
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  std::printf("BLAS: %s\ncores: %d, batch 256, %.0f s per setting\n\n", gm::blas_info().library.c_str(), cores,
              seconds);
  gm::configure_threads(0);
  const double reference = steps_per_second(256, seconds);
  std::printf("%-44s %10s %8s\n", "setting", "steps/s", "ratio");
  std::printf("%-44s %10.1f %8.2f\n", "gm: torch all cores, OpenBLAS 1 (reference)", reference, 1.0);
  const struct {
    const char* name;
    int torch, blas;
  } settings[] = {{"torch all cores, OpenBLAS all cores", cores, cores},
                  {"torch 1, OpenBLAS all cores", 1, cores},
                  {"torch 1, OpenBLAS 1", 1, 1}};
  for (const auto& s : settings) {
    at::set_num_threads(s.torch);
    gm::set_blas_threads(s.blas);
    const double rate = steps_per_second(256, seconds);
    std::printf("%-44s %10.1f %8.2f\n", s.name, rate, rate / reference);
  }
}
