// Fused CPU kernels for the few elementwise passes that dominate a small network's training step
// once its matrix products are done: SiLU and its gradient, Adam, and moving averages. Each works
// on contiguous float32 CPU tensors on x86-64 with AVX2 and FMA, split over LibTorch's threads,
// and falls back to the same arithmetic in LibTorch ops everywhere else (CUDA, other dtypes,
// other CPUs). docs/performance.md has what they bought; docs/decisions.md why they exist.
#pragma once

#include <torch/torch.h>

namespace gm::kernels {

// Whether this CPU runs the fused kernels (AVX2 and FMA), rather than their fallbacks.
bool fused_cpu();

// x * sigmoid(x), differentiable. The forward pass keeps sigmoid(x) so that the gradient needs no
// second exp. Under create_graph the gradient is LibTorch's own, so it can be differentiated again.
torch::Tensor silu(const torch::Tensor& x);

// An MLP with SiLU between its layers, given as (weight, bias) pairs: h = x W1^T + b1 (+ add, which
// broadcasts), then h <- silu(h) Wi^T + bi for each later layer. gm's noise MLP is two of them.
// With gradients it is one autograd node whose backward runs the products and the fused SiLU
// gradient directly: a toy step spent more in autograd's per-layer bookkeeping than in its SiLUs.
// A weight or bias whose .grad() already exists (a trainer's flat buffer) has its gradient added
// there by that backward pass, the weight's inside its GEMM, instead of handed to autograd to add;
// torch::autograd::grad with such a parameter as input therefore sees none of it. The gradient
// cannot be differentiated again (create_graph fails with a message).
torch::Tensor silu_mlp(const torch::Tensor& x, const std::vector<torch::Tensor>& layers, const torch::Tensor& add = {});

// average <- (1 - weight) average + weight value, in place.
void move_average(const torch::Tensor& average, const torch::Tensor& value, double weight);

// One Adam step (Kingma & Ba 2015) as torch.optim.Adam takes it, in place on values, first and
// second, with the bias corrections of the given step count (from 1).
struct AdamStep {
  double lr, beta1, beta2, eps;
  std::int64_t step;
};
void adam_step(const torch::Tensor& values, const torch::Tensor& grads, const torch::Tensor& first,
               const torch::Tensor& second, const AdamStep& step);

}  // namespace gm::kernels
